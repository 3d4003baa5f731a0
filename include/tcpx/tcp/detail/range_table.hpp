// tcpx/tcp/detail/range_table.hpp — the sorted out-of-order ranges of a receive
// buffer: a few held inline, the rest in chunks drawn from the connection data pool.
//
// Not API; recv_buffer.hpp says what the ranges mean (RFC 9293 §3.10.7.4 SHLD-31,
// RFC 2018 §4). This file only stores them.
//
// Why chunks of the pool: a receiver on a lossy path with a large window holds as many
// islands as the sender opened holes in one round trip, and a segment refused for want
// of a slot is one the sender hears nothing of and sends again (Linux keeps every
// out-of-order segment its buffer allows). So the ranges are not capped by a small
// count: beyond the inline slots they live in up to spill_chunks chunks of the same
// pool that holds the bytes (a 16 KiB chunk holds 2,048 ranges), charged to it like
// data and given back when the last range is delivered. The bound that is left —
// 8 + 4 x 2,048 ranges with the stack's chunks, enough for islands of one MSS every
// other MSS across a 23 MiB window — only stops a peer that cuts its window into
// one-byte islands from making each arrival an O(n) walk.
//
// Positions. A range is [begin, end) in positions from the first unread byte, as
// recv_buffer counts. Stored values are offset by base_, the bytes consumed so far
// (mod 2^32), so consuming n bytes is one addition instead of a pass over every range.
//
// Slots. The ranges occupy slots [first_, first_ + size()) of one virtual array: slot v
// is inline_[v] below inline_slots, else slot (v - inline_slots) % per_chunk of spill
// chunk (v - inline_slots) / per_chunk. Delivering the lowest ranges only advances
// first_; the table slides back to slot 0 when it runs out of slots at the top, or
// empties.
#pragma once

#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <utility>

#include <tcpx/tcp/chunk_pool.hpp>

namespace tcpx::tcp::detail {

/// Bytes [begin, end) of a receive buffer. Trivial: a plan of ranges costs nothing
/// until written.
struct byte_range {
    std::uint32_t begin;
    std::uint32_t end;
    friend constexpr bool operator==(byte_range, byte_range) noexcept = default;
};

/// An input iterator over a view of a range_table that answers view[i] by value: the
/// views (recv_buffer's positions, the SACK scoreboard's sequence numbers) say what a
/// range means, this only counts. It holds a copy of the (small) view, so it stays
/// valid as long as the table is unchanged, not only as long as the view lives.
template <class View>
class index_iterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = decltype(std::declval<const View&>()[0]);
    using difference_type = std::ptrdiff_t;
    using reference = value_type;
    using pointer = void;
    index_iterator() noexcept = default;
    index_iterator(const View& v, std::size_t i) noexcept : v_{v}, i_{i} {}
    value_type operator*() const noexcept { return v_[i_]; }
    index_iterator& operator++() noexcept
    {
        ++i_;
        return *this;
    }
    index_iterator operator++(int) noexcept
    {
        index_iterator was = *this;
        ++i_;
        return was;
    }
    friend bool operator==(const index_iterator& a, const index_iterator& b) noexcept { return a.i_ == b.i_; }

private:
    View v_{};
    std::size_t i_ = 0;
};

class range_table {
public:
    static constexpr std::size_t inline_slots = 8;
    static constexpr std::size_t spill_chunks = 4;

    /// Ranges held at most with chunks of C bytes.
    template <std::size_t C>
    static constexpr std::size_t max_size = inline_slots + spill_chunks * (C / sizeof(byte_range));

    range_table() noexcept = default;
    range_table(const range_table&) = delete;
    range_table& operator=(const range_table&) = delete;
    range_table(range_table&& other) noexcept { take(other); }
    /// Precondition: *this holds no spill chunk.
    range_table& operator=(range_table&& other) noexcept
    {
        assert(spilled_ == 0);
        if (this != &other) take(other);
        return *this;
    }

    std::size_t size() const noexcept { return count_; }
    /// Chunks of the pool the table holds (beyond its inline slots).
    std::size_t spill_count() const noexcept { return spilled_; }
    bool empty() const noexcept { return count_ == 0; }

    /// Range i (0: the lowest), in positions.
    byte_range operator[](std::size_t i) const noexcept
    {
        assert(i < count_);
        const byte_range s = load(first_ + static_cast<std::uint32_t>(i));
        return {s.begin - base_, s.end - base_};
    }
    byte_range back() const noexcept { return (*this)[count_ - 1]; }

    /// The first range whose end is at or after `position` (size() if none): the
    /// first that a write starting there overlaps or touches.
    std::size_t first_ending_at_or_after(std::size_t position) const noexcept
    {
        return partition([&](byte_range r) { return r.end < position; });
    }
    /// The first range that begins after `position` (size() if none).
    std::size_t first_beginning_after(std::size_t position) const noexcept
    {
        return partition([&](byte_range r) { return r.begin <= position; });
    }

    /// Makes sure one more range has a slot; false when the table is at max_size or
    /// the pool refuses a chunk (nothing changed). `drew` is set when a chunk was
    /// taken for it, so that the caller can give it back with return_spare() if the
    /// write fails later.
    template <std::size_t C>
    bool reserve_one(basic_chunk_pool<C>& pool, bool& drew) noexcept
    {
        drew = false;
        if (count_ >= max_size<C>) return false;
        if (first_ + count_ >= slots()) slide_down();
        if (first_ + count_ < slots()) return true;
        const chunk_index c = pool.allocate();
        if (c == no_chunk) return false;
        per_chunk_shift_ = static_cast<std::uint8_t>(std::countr_zero(C / sizeof(byte_range)));
        spill_index_[spilled_] = c;
        spill_[spilled_] = pool.data(c);
        ++spilled_;
        drew = true;
        return true;
    }
    /// Gives back the chunk the last reserve_one() drew, unused.
    template <std::size_t C>
    void return_spare(basic_chunk_pool<C>& pool) noexcept
    {
        assert(spilled_ > 0);
        --spilled_;
        pool.release(spill_index_[spilled_]);
    }

    /// Ranges [lo, hi) become the one range r (in positions); with lo == hi, r is
    /// inserted before range lo, in the slot reserve_one() made sure of.
    void replace(std::size_t lo, std::size_t hi, byte_range r) noexcept
    {
        assert(lo <= hi && hi <= count_);
        const auto l = static_cast<std::uint32_t>(lo), h = static_cast<std::uint32_t>(hi);
        if (l == h) {
            assert(first_ + count_ < slots());
            for (std::uint32_t j = count_; j > l; --j) store(first_ + j, load(first_ + j - 1));
            ++count_;
        } else if (h - l > 1) {
            const std::uint32_t gone = h - l - 1;
            for (std::uint32_t j = l + 1; j + gone < count_; ++j) store(first_ + j, load(first_ + j + gone));
            count_ -= gone;
        }
        store(first_ + l, {r.begin + base_, r.end + base_});
    }

    /// The highest range is gone (forgotten to make room for a lower one).
    template <std::size_t C>
    void pop_back(basic_chunk_pool<C>& pool) noexcept
    {
        assert(count_ > 0);
        if (--count_ == 0) clear(pool);
    }

    /// The lowest k ranges are gone (delivered in order).
    template <std::size_t C>
    void erase_front(basic_chunk_pool<C>& pool, std::size_t k) noexcept
    {
        assert(k <= count_);
        first_ += static_cast<std::uint32_t>(k);
        count_ -= static_cast<std::uint32_t>(k);
        if (count_ == 0) clear(pool);
    }

    /// The first n bytes were consumed: every position moves down by n.
    void consume(std::size_t n) noexcept { base_ += static_cast<std::uint32_t>(n); }

    /// No range, no spill chunk.
    template <std::size_t C>
    void clear(basic_chunk_pool<C>& pool) noexcept
    {
        while (spilled_ > 0) pool.release(spill_index_[--spilled_]);
        first_ = count_ = base_ = 0;
    }

private:
    std::uint32_t slots() const noexcept
    {
        return static_cast<std::uint32_t>(inline_slots) + (std::uint32_t{spilled_} << per_chunk_shift_);
    }

    byte_range load(std::uint32_t v) const noexcept
    {
        if (v < inline_slots) return inline_[v];
        byte_range r;
        std::memcpy(&r, where(v), sizeof r);  // chunk bytes: copied, never aliased
        return r;
    }
    void store(std::uint32_t v, byte_range r) noexcept
    {
        if (v < inline_slots) {
            inline_[v] = r;
            return;
        }
        std::memcpy(where(v), &r, sizeof r);
    }
    std::uint8_t* where(std::uint32_t v) const noexcept
    {
        const std::uint32_t s = v - static_cast<std::uint32_t>(inline_slots);
        const std::uint32_t in_chunk = s & ((1u << per_chunk_shift_) - 1);
        return spill_[s >> per_chunk_shift_] + std::size_t{in_chunk} * sizeof(byte_range);
    }

    // The first `count_` ranges move to slots [0, count_).
    void slide_down() noexcept
    {
        for (std::uint32_t j = 0; j < count_; ++j) store(j, load(first_ + j));
        first_ = 0;
    }

    // The first i for which below(range i) is false; below holds for a prefix.
    template <class Below>
    std::size_t partition(Below below) const noexcept
    {
        std::size_t lo = 0, hi = count_;
        while (lo < hi) {
            const std::size_t mid = lo + (hi - lo) / 2;
            if (below((*this)[mid])) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    void take(range_table& other) noexcept
    {
        base_ = other.base_;
        first_ = other.first_;
        count_ = other.count_;
        spilled_ = other.spilled_;
        per_chunk_shift_ = other.per_chunk_shift_;
        inline_ = other.inline_;
        spill_index_ = other.spill_index_;
        spill_ = other.spill_;
        other.base_ = other.first_ = other.count_ = 0;
        other.spilled_ = 0;
    }

    std::uint32_t base_ = 0;   // bytes consumed, mod 2^32: stored value = position + base_
    std::uint32_t first_ = 0;  // slot of range 0
    std::uint32_t count_ = 0;
    std::uint8_t spilled_ = 0;  // spill chunks held
    std::uint8_t per_chunk_shift_ = 0;
    std::array<byte_range, inline_slots> inline_{};
    std::array<chunk_index, spill_chunks> spill_index_{};
    std::array<std::uint8_t*, spill_chunks> spill_{};
};

}  // namespace tcpx::tcp::detail
