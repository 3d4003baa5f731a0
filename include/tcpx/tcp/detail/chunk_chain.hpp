// tcpx/tcp/detail/chunk_chain.hpp — a singly linked run of pool chunks with
// remembered positions: the shared skeleton of send_buffer and recv_buffer.
//
// Not API. Both buffers lay bytes out the same way: chain chunk k holds the bytes
// at chain-relative positions [k * chunk_size, (k + 1) * chunk_size), so finding a
// byte is arithmetic plus a walk to chunk k — which the cursors keep short.
//
// RFCs: none; see send_buffer.hpp and recv_buffer.hpp for the rules served.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <tcpx/tcp/chunk_pool.hpp>

namespace tcpx::tcp::detail {

/// A singly linked run of chunks from one pool, numbered 0 (head) .. count()-1
/// (tail). Owns its chunks but not the pool: every call that touches chunks takes
/// the pool, and a chain is only ever used with one pool.
///
/// Locating chunk k walks links, so the chain remembers two positions (cursors).
/// seek(k) starts from the best of head, tail and a cursor at or before k, and moves
/// the cursor nearest to k. Two because a sender interleaves two sequential streams —
/// retransmissions from SND.UNA and new data near SND.NXT (RFC 6675 recovery) — and
/// a receiver interleaves hole fills near RCV.NXT with arrivals at the window's edge;
/// one cursor would restart from the head on every switch.
class chunk_chain {
public:
    struct position {
        chunk_index chunk = no_chunk;  ///< no_chunk: this cursor is unset
        std::uint32_t k = 0;           ///< its place in the chain
    };

    chunk_chain() noexcept = default;
    chunk_chain(const chunk_chain&) = delete;
    chunk_chain& operator=(const chunk_chain&) = delete;
    chunk_chain(chunk_chain&& other) noexcept
        : head_{std::exchange(other.head_, no_chunk)},
          tail_{std::exchange(other.tail_, no_chunk)},
          count_{std::exchange(other.count_, 0)},
          cursor_{std::exchange(other.cursor_[0], {}), std::exchange(other.cursor_[1], {})}
    {
    }
    /// Precondition: *this is empty (its chunks would be lost otherwise).
    chunk_chain& operator=(chunk_chain&& other) noexcept
    {
        assert(empty());
        if (this != &other) {
            head_ = std::exchange(other.head_, no_chunk);
            tail_ = std::exchange(other.tail_, no_chunk);
            count_ = std::exchange(other.count_, 0);
            cursor_[0] = std::exchange(other.cursor_[0], {});
            cursor_[1] = std::exchange(other.cursor_[1], {});
        }
        return *this;
    }
    /// Destroying a non-empty chain strands its chunks in the pool (counted in
    /// bytes_in_use()) until the pool itself goes: clear() first, unless the pool is
    /// being destroyed too, as when a whole stack shuts down.
    ~chunk_chain() = default;

    bool empty() const noexcept { return count_ == 0; }
    std::uint32_t count() const noexcept { return count_; }
    chunk_index head() const noexcept { return head_; }
    chunk_index tail() const noexcept { return tail_; }

    /// Appends a fresh chunk; false (and no change) when the pool refuses.
    template <std::size_t C>
    bool push_back(basic_chunk_pool<C>& pool) noexcept
    {
        const chunk_index c = pool.allocate();
        if (c == no_chunk)
            return false;
        if (count_ == 0)
            head_ = c;
        else
            pool.next(tail_) = c;
        tail_ = c;
        ++count_;
        return true;
    }

    /// Releases the first n chunks (n <= count()).
    template <std::size_t C>
    void pop_front(basic_chunk_pool<C>& pool, std::uint32_t n) noexcept
    {
        assert(n <= count_);
        if (n == count_) {
            clear(pool);
            return;
        }
        for (std::uint32_t i = 0; i < n; ++i) {
            const chunk_index c = head_;
            head_ = pool.next(c);
            pool.release(c);
        }
        count_ -= n;
        for (position& p : cursor_) {
            if (p.chunk == no_chunk)
                continue;
            if (p.k < n)
                p = {};
            else
                p.k -= n;
        }
    }

    /// Releases every chunk after `last` (which was the tail when count() was `n`),
    /// undoing push_back()s; last == no_chunk with n == 0 releases everything.
    template <std::size_t C>
    void truncate(basic_chunk_pool<C>& pool, chunk_index last, std::uint32_t n) noexcept
    {
        if (n == 0) {
            clear(pool);
            return;
        }
        chunk_index c = pool.next(last);
        while (c != no_chunk) {
            const chunk_index after = pool.next(c);
            pool.release(c);
            c = after;
        }
        pool.next(last) = no_chunk;
        tail_ = last;
        count_ = n;
        for (position& p : cursor_)
            if (p.chunk != no_chunk && p.k >= n)
                p = {};
    }

    template <std::size_t C>
    void clear(basic_chunk_pool<C>& pool) noexcept
    {
        while (head_ != no_chunk) {
            const chunk_index after = pool.next(head_);
            pool.release(head_);
            head_ = after;
        }
        tail_ = no_chunk;
        count_ = 0;
        cursor_[0] = cursor_[1] = {};
    }

    /// The cursor now at chunk k (k < count()). The caller may walk it forward with
    /// pool.next() while the chain is unchanged; the next seek() starts from there.
    template <std::size_t C>
    position& seek(basic_chunk_pool<C>& pool, std::uint32_t k) noexcept
    {
        assert(k < count_);
        position from{head_, 0};
        if (k == count_ - 1)
            from = {tail_, k};
        for (const position& p : cursor_)
            if (p.chunk != no_chunk && p.k <= k && p.k > from.k)
                from = p;
        while (from.k < k) {
            from.chunk = pool.next(from.chunk);
            ++from.k;
        }
        position& slot = cursor_[nearer(k)];
        slot = from;
        return slot;
    }

private:
    // The cursor to move to k: an unset one, else the one closer to k.
    std::size_t nearer(std::uint32_t k) const noexcept
    {
        if (cursor_[0].chunk == no_chunk)
            return 0;
        if (cursor_[1].chunk == no_chunk)
            return 1;
        const auto distance = [k](std::uint32_t at) { return at > k ? at - k : k - at; };
        return distance(cursor_[1].k) < distance(cursor_[0].k) ? 1 : 0;
    }

    chunk_index head_ = no_chunk;
    chunk_index tail_ = no_chunk;
    std::uint32_t count_ = 0;
    position cursor_[2];
};

}  // namespace tcpx::tcp::detail
