// tcpx/tcp/send_buffer.hpp — the bytes from SND.UNA onward: given by the
// application, not yet acknowledged by the peer.
//
// RFCs a reader should have open:
//   RFC 9293 §3.3.1  the send sequence space: SND.UNA .. SND.NXT .. SND.UNA + SND.WND
//   RFC 9293 §3.10.7.4, fifth: ACK field — acknowledged bytes leave the queue
//   RFC 6298 §5 / RFC 6675 §5  retransmission reads again from SND.UNA and from holes
//
// Offset 0 is SND.UNA. The connection keeps the sequence numbers; this class keeps
// the bytes, in chunks drawn from a chunk_pool when append() needs them and given
// back when consume() (an ACK) empties them. An empty buffer holds no chunk, so an
// idle connection pins no data memory.
//
// Layout: a chain of chunks where every chunk is full except for the bytes before
// `head_offset_` in the first one and the unwritten end of the last. So byte
// `offset` lives in chain chunk (head_offset_ + offset) / chunk_size — locating it
// is arithmetic plus a walk from a remembered cursor (see detail::chunk_chain).
//
// Cost: append, consume and a for_each_run at an offset at or after one of the two
// cursors are O(1) amortised per chunk crossed. 40 bytes of state.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include <tcpx/tcp/chunk_pool.hpp>
#include <tcpx/tcp/detail/chunk_chain.hpp>

namespace tcpx::tcp {

class send_buffer {
public:
    send_buffer() noexcept = default;
    send_buffer(send_buffer&& other) noexcept
        : chain_{std::move(other.chain_)},
          head_offset_{std::exchange(other.head_offset_, 0)},
          size_{std::exchange(other.size_, 0)}
    {
    }
    /// Precondition: *this is empty.
    send_buffer& operator=(send_buffer&& other) noexcept
    {
        chain_ = std::move(other.chain_);
        head_offset_ = std::exchange(other.head_offset_, 0);
        size_ = std::exchange(other.size_, 0);
        return *this;
    }

    /// Bytes held: SND.UNA up to the end of what the application gave.
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    /// Copies the front of `data` in, up to `limit - size()` bytes (the send buffer
    /// limit from config) and as far as the pool gives chunks. Returns bytes taken;
    /// fewer than asked means the limit or the pool is reached (the application sees
    /// would_block and retries after an ACK frees space).
    template <std::size_t C>
    std::size_t append(basic_chunk_pool<C>& pool, std::span<const std::uint8_t> data,
                       std::size_t limit) noexcept
    {
        const std::size_t want = std::min(data.size(), limit > size_ ? limit - size_ : 0);
        std::size_t taken = 0;
        while (taken < want) {
            const std::size_t end = head_offset_ + size_;  // one past the last byte, chain-relative
            const std::size_t room = std::size_t{chain_.count()} * C - end;
            if (room == 0) {
                if (!chain_.push_back(pool))
                    break;
                continue;
            }
            const std::size_t n = std::min(room, want - taken);
            std::memcpy(pool.data(chain_.tail()) + end % C, data.data() + taken, n);
            taken += n;
            size_ += n;
        }
        return taken;
    }

    /// Calls f(std::span<const std::uint8_t>) for each contiguous run of the bytes
    /// [offset, offset + len), in order — how a segment's payload reaches a packet
    /// (copy and checksum in one pass). len == 0 calls nothing.
    /// Precondition: offset + len <= size(); f does not change this buffer.
    template <std::size_t C, class F>
    void for_each_run(basic_chunk_pool<C>& pool, std::size_t offset, std::size_t len, F&& f)
    {
        assert(offset <= size_ && len <= size_ - offset);
        if (len == 0)
            return;
        const std::size_t at = head_offset_ + offset;
        // The cursor is left on the chunk holding the run's last byte, so the next
        // segment (offset + len) starts there or one hop later.
        detail::chunk_chain::position& cursor =
            chain_.seek(pool, static_cast<std::uint32_t>(at / C));
        std::size_t in_chunk = at % C;
        for (;;) {
            const std::size_t n = std::min(len, C - in_chunk);
            f(std::span<const std::uint8_t>{pool.data(cursor.chunk) + in_chunk, n});
            len -= n;
            if (len == 0)
                return;
            cursor.chunk = pool.next(cursor.chunk);
            ++cursor.k;
            in_chunk = 0;
        }
    }

    /// RFC 9293 §3.10.7.4, fifth (ACK field): SND.UNA advanced by n, so the first n
    /// bytes are acknowledged and leave; chunks they emptied go back to the pool, and
    /// at size() == 0 the last chunk goes too. Precondition: n <= size().
    template <std::size_t C>
    void consume(basic_chunk_pool<C>& pool, std::size_t n) noexcept
    {
        assert(n <= size_);
        if (n == size_) {
            clear(pool);
            return;
        }
        const std::size_t at = head_offset_ + n;
        chain_.pop_front(pool, static_cast<std::uint32_t>(at / C));
        head_offset_ = static_cast<std::uint32_t>(at % C);
        size_ -= n;
    }

    /// Releases every chunk (abort, reset, close with data discarded).
    template <std::size_t C>
    void clear(basic_chunk_pool<C>& pool) noexcept
    {
        chain_.clear(pool);
        head_offset_ = 0;
        size_ = 0;
    }

private:
    detail::chunk_chain chain_;
    std::uint32_t head_offset_ = 0;  // bytes of the head chunk already acknowledged
    std::size_t size_ = 0;
};

}  // namespace tcpx::tcp
