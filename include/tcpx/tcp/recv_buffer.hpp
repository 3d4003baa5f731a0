// tcpx/tcp/recv_buffer.hpp — received data: in order and waiting for the
// application, plus out-of-order data waiting for the hole before it.
//
// RFCs a reader should have open:
//   RFC 9293 §3.3.1  the receive sequence space: RCV.NXT, RCV.WND
//   RFC 9293 §3.10.7.4, first: "Segments with higher beginning sequence numbers
//       SHOULD be held for later processing" (SHLD-31) — the reassembly queue
//   RFC 9293 §3.10.7.4, seventh: segment text — data at RCV.NXT is delivered in order
//   RFC 1122 §4.2.2.20  out-of-order segments SHOULD be queued — a SHOULD, so a
//       bounded queue may drop one; the peer retransmits it
//   RFC 2018 §3-4       SACK reports the held ranges (out_of_order_ranges())
//
// Positions are byte offsets from the first unread byte. [0, readable()) is in
// order; beyond it lie disjoint, non-adjacent out-of-order ranges, sorted by begin,
// each starting after readable() (a range that touches readable() has been
// delivered). RCV.NXT is at position readable(). The ranges are as many as the data
// makes: a few inline, the rest in chunks of the same pool (detail/range_table.hpp),
// up to max_ranges<C>.
//
// Memory: a chain of chunks covering every position from the first unread byte up
// to the furthest byte held (extent()) — holes inside that span have chunks too.
// Allocating only where data lies would save memory while holes are open, but not
// in the worst case: a peer that wants to pin a window's worth of chunks can send
// the whole window except its first byte either way. extent() is bounded by the
// `capacity` given to write(), and nothing is held once everything is read.
// What out-of-order data pins — the chunks past the one holding RCV.NXT, holes
// included, and the range table's spill chunks — is charged to the pool's
// out-of-order share (chunk_pool.hpp) and refused beyond it (refusal::share), so
// holes no peer fills cannot starve in-order data; drop_out_of_order() gives it all
// back when the stack prunes under pressure (RFC 2018 §8 allows the receiver to
// discard what it SACKed; the sender keeps it until cumulatively acknowledged).
//
// Overlap policy: the first copy of a byte wins. Bytes already held are not
// written again (TCP promises a retransmission carries the same bytes; keeping the
// first copy also means readable data can never change under a reader).
//
// Staging (stage(), then write() with `placed`): the receive checksum is verified on
// the copy into this buffer, not in a pass of its own (RFC 1071 §2).
//
// Cost: write at increasing offsets, read, peek_runs and consume from the head are
// O(1) amortised per chunk crossed (chain cursors, see detail::chunk_chain); finding
// a segment's place among the held ranges is a binary search, and extending the
// highest range (the usual out-of-order arrival) or filling the lowest hole is O(1);
// a segment landing between two islands moves the ranges above it.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>

#include <tcpx/tcp/chunk_pool.hpp>
#include <tcpx/tcp/detail/chunk_chain.hpp>
#include <tcpx/tcp/detail/range_table.hpp>
#include <tcpx/wire/checksum.hpp>

namespace tcpx::tcp {

class recv_buffer {
public:
    /// Out-of-order bytes [begin, end), as positions from the first unread byte.
    using range = detail::byte_range;

    /// Out-of-order ranges held at once with chunks of C bytes. One SACK option reports
    /// at most four (RFC 2018 §3; three beside timestamps), but the receiver must hold
    /// more: on a lossy path with a large window, new holes open while earlier ones
    /// wait a round trip for their retransmission, and a segment refused for want of a
    /// range is one the sender hears nothing of and sends again. So the count is not
    /// the bound; the pool is (detail/range_table.hpp): 8,200 with the stack's chunks.
    template <std::size_t C>
    static constexpr std::size_t max_ranges = detail::range_table::max_size<C>;

    /// The held ranges, lowest first: a view (indexable, iterable by value) valid until
    /// the buffer next changes.
    class range_view {
    public:
        range_view() noexcept = default;
        explicit range_view(const detail::range_table& t) noexcept : t_{&t} {}
        std::size_t size() const noexcept { return t_->size(); }
        bool empty() const noexcept { return t_->empty(); }
        range operator[](std::size_t i) const noexcept { return (*t_)[i]; }
        range back() const noexcept { return t_->back(); }
        /// The range holding `position`, or size() if none does.
        std::size_t find(std::size_t position) const noexcept
        {
            const std::size_t i = t_->first_beginning_after(position);
            return i > 0 && (*t_)[i - 1].end > position ? i - 1 : size();
        }
        /// The first range that ends after `position` (size() if none).
        std::size_t first_ending_after(std::size_t position) const noexcept
        {
            return t_->first_ending_at_or_after(position + 1);
        }

        using iterator = detail::index_iterator<range_view>;
        iterator begin() const noexcept { return {*this, 0}; }
        iterator end() const noexcept { return {*this, size()}; }

    private:
        const detail::range_table* t_ = nullptr;
    };

    /// Positions are 32-bit: a window is at most 2^30 bytes (RFC 7323 §2.3).
    static constexpr std::size_t max_capacity = std::numeric_limits<std::uint32_t>::max();

    /// Why write() stored nothing.
    enum class refusal : std::uint8_t {
        none,
        ranges,  ///< out of order, and a range beyond max_ranges would be needed
        share,   ///< out of order, and the pool's out-of-order share is taken
        pool,    ///< the pool refused a chunk
    };

    struct write_result {
        std::size_t delivered;  ///< bytes newly in order: RCV.NXT advances by this much
        bool stored;            ///< false: dropped whole (see why); nothing changed.
                                ///< true also when the cut at `capacity` left
                                ///< nothing to keep.
        refusal why = refusal::none;
    };

    recv_buffer() noexcept = default;
    recv_buffer(recv_buffer&& other) noexcept
        : chain_{std::move(other.chain_)},
          head_offset_{std::exchange(other.head_offset_, 0)},
          readable_{std::exchange(other.readable_, 0)},
          charged_{std::exchange(other.charged_, 0)},
          ranges_{std::move(other.ranges_)}
    {
    }
    /// Precondition: *this is empty.
    recv_buffer& operator=(recv_buffer&& other) noexcept
    {
        chain_ = std::move(other.chain_);
        head_offset_ = std::exchange(other.head_offset_, 0);
        readable_ = std::exchange(other.readable_, 0);
        charged_ = std::exchange(other.charged_, 0);
        ranges_ = std::move(other.ranges_);
        return *this;
    }

    /// In-order bytes waiting for the application.
    std::size_t readable() const noexcept { return readable_; }

    /// Out-of-order bytes held beyond the hole at readable() (a walk over the ranges).
    std::size_t held_out_of_order() const noexcept
    {
        std::size_t n = 0;
        for (const range r : out_of_order_ranges())
            n += r.end - r.begin;
        return n;
    }
    /// Anything held beyond the hole at readable().
    bool has_out_of_order() const noexcept { return !ranges_.empty(); }

    /// The held out-of-order ranges, sorted by begin.
    range_view out_of_order_ranges() const noexcept { return range_view{ranges_}; }

    /// One past the furthest byte held (readable() when nothing is out of order).
    std::size_t extent() const noexcept
    {
        return ranges_.empty() ? readable_ : ranges_.back().end;
    }

    /// Nothing held at all (and so no chunk).
    bool empty() const noexcept { return extent() == 0; }

    /// Chunks charged to the pool's out-of-order share (see the file comment).
    std::size_t out_of_order_chunks() const noexcept { return charged_; }

    /// Stores a segment's text that starts `offset` bytes after RCV.NXT (0: exactly
    /// at RCV.NXT). The caller has trimmed what lies before RCV.NXT and beyond the
    /// window; as a backstop, nothing at or beyond position `capacity` (counted from
    /// the first unread byte, like readable() and extent()) is stored — the text is
    /// cut there, silently. When the text reaches RCV.NXT, it and every range it
    /// now touches become readable, and `delivered` counts all of those bytes.
    ///
    /// `placed`: the first `placed` bytes of `data` were copied to their positions by
    /// stage() and are only committed here, not copied again (offset 0 only).
    template <std::size_t C>
    write_result write(basic_chunk_pool<C>& pool, std::size_t offset,
                       std::span<const std::uint8_t> data, std::size_t capacity,
                       std::size_t placed = 0) noexcept
    {
        capacity = std::min(capacity, max_capacity);
        const std::size_t rcv_nxt = readable_;
        if (data.empty() || capacity <= rcv_nxt || offset >= capacity - rcv_nxt)
            return {0, true};
        const std::size_t begin = rcv_nxt + offset;
        const std::size_t end = begin + std::min(data.size(), capacity - begin);

        // Plan the ranges after this write; nothing changes until it is known to fit.
        // In order with nothing held (the common case) there is nothing to plan.
        std::size_t new_readable = end;
        std::size_t lo = 0, hi = 0;  // held ranges [lo, hi) merge with the new text
        bool drew = false;
        if (begin == rcv_nxt) {
            // RFC 9293 §3.10.7.4, seventh: text at RCV.NXT is delivered, and with it
            // every held range it now reaches (SHLD-31: they were held for this).
            for (; hi < ranges_.size() && ranges_[hi].begin <= new_readable; ++hi)
                new_readable = std::max<std::size_t>(new_readable, ranges_[hi].end);
        } else {
            // RFC 9293 §3.10.7.4, first (SHLD-31): beyond RCV.NXT, held for later.
            new_readable = rcv_nxt;
            lo = ranges_.first_ending_at_or_after(begin);
            hi = ranges_.first_beginning_after(end);
            // RFC 1122 §4.2.2.20: queueing is a SHOULD; past the bound (or with the
            // pool dry) we drop and the peer retransmits. Text that touches a held
            // range needs no new one, so only an island of its own can be refused.
            if (lo == hi && !ranges_.reserve_one(pool, drew))
                return {0, false, ranges_.size() >= max_ranges<C> ? refusal::ranges : refusal::pool};
        }
        // Chunks up to the furthest byte held afterwards.
        if (!cover(pool, std::max(extent(), end))) {
            if (drew) ranges_.return_spare(pool);
            return {0, false, refusal::pool};
        }
        // Out of order, what the text pins is charged to the share: past it, refused.
        if (begin != rcv_nxt) {
            const std::size_t want = pinned<C>(std::max(extent(), end));
            if (want > charged_) {
                if (!pool.charge_out_of_order(want - charged_)) {
                    if (drew) ranges_.return_spare(pool);
                    release_unheld_chunks(pool);
                    return {0, false, refusal::share};
                }
                charged_ = static_cast<std::uint32_t>(want);
            }
        }

        // Copy the parts of [begin, end) not already held (first copy wins), after the
        // ones stage() placed (which it did only with nothing held: no range to skip).
        std::size_t at = begin;
        if (offset == 0 && placed != 0 && ranges_.empty())
            at += std::min(placed, end - begin);
        for (std::size_t j = lo; j < hi && at < end; ++j) {
            const range held = ranges_[j];
            if (held.end <= at)
                continue;
            if (held.begin >= end)
                break;
            if (held.begin > at)
                copy_in(pool, at, data.subspan(at - begin, held.begin - at));
            at = held.end;
        }
        if (at < end)
            copy_in(pool, at, data.subspan(at - begin, end - at));

        readable_ = static_cast<std::uint32_t>(new_readable);
        if (begin == rcv_nxt) {
            if (hi != 0) ranges_.erase_front(pool, hi);
            settle(pool);  // what was out of order and is now in order is in order's
        } else {
            range merged{static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)};
            if (lo != hi) {
                merged.begin = std::min(merged.begin, ranges_[lo].begin);
                merged.end = std::max(merged.end, ranges_[hi - 1].end);
            }
            ranges_.replace(lo, hi, merged);
        }
        return {new_readable - rcv_nxt, true};
    }

    /// Copies `data` to the positions just past RCV.NXT, adding it to `sum` on the way,
    /// without making it readable: a receiver that still has to verify a segment's
    /// checksum does it on this copy instead of in a pass of its own (RFC 1071 §2,
    /// "combine with data copying"). Then either write() at offset 0 with `placed`
    /// commits the bytes, or release_unheld_chunks() forgets them (a bad checksum, or
    /// text the connection did not take). Only when nothing is held out of order (those
    /// positions are then all free: a placed byte never overwrites a held one) and the
    /// whole of `data` fits below `capacity`; false, with nothing copied or changed,
    /// otherwise or when the pool refuses a chunk.
    template <std::size_t C>
    bool stage(basic_chunk_pool<C>& pool, std::span<const std::uint8_t> data, std::size_t capacity,
               wire::checksum_accumulator& sum) noexcept
    {
        capacity = std::min(capacity, max_capacity);
        if (!ranges_.empty() || data.empty() || capacity <= readable_ || data.size() > capacity - readable_)
            return false;
        // At the pool's limit, decline without asking it: the segment may yet fail its
        // checksum, and a damaged one must not show up in the pool's refusal count.
        const std::size_t need = (head_offset_ + readable_ + data.size() + C - 1) / C;
        if (need > chain_.count() && need - chain_.count() > pool.chunks_available())
            return false;
        if (!cover(pool, readable_ + data.size()))
            return false;
        copy_in(pool, readable_, data, &sum);
        return true;
    }

    /// Releases chunks beyond the furthest byte held: what stage() allocated for bytes
    /// that were not committed. Nothing held keeps no chunk at all.
    template <std::size_t C>
    void release_unheld_chunks(basic_chunk_pool<C>& pool) noexcept
    {
        if (empty()) {
            clear(pool);
            return;
        }
        const auto need = static_cast<std::uint32_t>((head_offset_ + extent() + C - 1) / C);
        if (chain_.count() > need)
            chain_.truncate(pool, chain_.seek(pool, need - 1).chunk, need);
    }

    /// Copies up to out.size() in-order bytes out and consumes them. Returns the
    /// count (0 when nothing is readable).
    template <std::size_t C>
    std::size_t read(basic_chunk_pool<C>& pool, std::span<std::uint8_t> out) noexcept
    {
        const std::size_t n = std::min(out.size(), std::size_t{readable_});
        std::size_t done = 0;
        for_each_readable_run(pool, n, [&](std::span<const std::uint8_t> run) {
            std::memcpy(out.data() + done, run.data(), run.size());
            done += run.size();
            return true;
        });
        consume(pool, n);
        return n;
    }

    /// Calls f(std::span<const std::uint8_t>) for each contiguous run of readable
    /// bytes, in order, without copying (zero-copy reads; follow with consume()).
    /// If f returns bool, false stops after that run. Returns the bytes passed to f.
    /// f must not change this buffer.
    template <std::size_t C, class F>
    std::size_t peek_runs(basic_chunk_pool<C>& pool, F&& f)
    {
        using result = std::invoke_result_t<F&, std::span<const std::uint8_t>>;
        return for_each_readable_run(pool, readable_, [&](std::span<const std::uint8_t> run) {
            if constexpr (std::is_same_v<result, bool>) {
                return f(run);
            } else {
                f(run);
                return true;
            }
        });
    }

    /// The application took the first n readable bytes: chunks they emptied go
    /// back to the pool, and when nothing at all is held, every chunk does.
    /// Precondition: n <= readable().
    template <std::size_t C>
    void consume(basic_chunk_pool<C>& pool, std::size_t n) noexcept
    {
        assert(n <= readable_);
        if (n == 0)
            return;
        if (n == extent()) {
            clear(pool);
            return;
        }
        const std::size_t at = head_offset_ + n;
        chain_.pop_front(pool, static_cast<std::uint32_t>(at / C));
        head_offset_ = static_cast<std::uint32_t>(at % C);
        readable_ -= static_cast<std::uint32_t>(n);
        ranges_.consume(n);
    }

    /// Releases everything, in order and out of order (abort, reset).
    template <std::size_t C>
    void clear(basic_chunk_pool<C>& pool) noexcept
    {
        chain_.clear(pool);
        head_offset_ = 0;
        readable_ = 0;
        ranges_.clear(pool);
        pool.refund_out_of_order(std::exchange(charged_, 0));
    }

    /// Forgets every out-of-order byte (the stack prunes under pressure, see the file
    /// comment): the chunks beyond the one holding RCV.NXT go back to the pool and the
    /// charge to its share with them. Returns the bytes forgotten.
    template <std::size_t C>
    std::size_t drop_out_of_order(basic_chunk_pool<C>& pool) noexcept
    {
        if (ranges_.empty())
            return 0;
        const std::size_t bytes = held_out_of_order();
        ranges_.clear(pool);
        release_unheld_chunks(pool);
        settle(pool);
        return bytes;
    }

private:
    // Calls run(span) -> bool over the first n readable bytes from the head chunk.
    template <std::size_t C, class Run>
    std::size_t for_each_readable_run(basic_chunk_pool<C>& pool, std::size_t n, Run&& run)
    {
        std::size_t done = 0;
        chunk_index chunk = chain_.head();
        std::size_t in_chunk = head_offset_;
        while (done < n) {
            const std::size_t len = std::min(n - done, C - in_chunk);
            done += len;
            if (!run(std::span<const std::uint8_t>{pool.data(chunk) + in_chunk, len}))
                break;
            chunk = pool.next(chunk);
            in_chunk = 0;
        }
        return done;
    }

    // Chunks a buffer whose furthest byte is `end` pins for out-of-order data: the
    // chain past the chunk holding RCV.NXT, and the range table's spill chunks.
    template <std::size_t C>
    std::size_t pinned(std::size_t end) const noexcept
    {
        const auto chunks_below = [&](std::size_t at) { return (head_offset_ + at + C - 1) / C; };
        const std::size_t chain = end > readable_ ? chunks_below(end) - chunks_below(readable_) : 0;
        return chain + ranges_.spill_count();
    }

    // After a change that can only shrink what is pinned (in-order text, pruning):
    // the charge follows it down.
    template <std::size_t C>
    void settle(basic_chunk_pool<C>& pool) noexcept
    {
        const std::size_t want = pinned<C>(extent());
        assert(want <= charged_);
        pool.refund_out_of_order(charged_ - want);
        charged_ = static_cast<std::uint32_t>(want);
    }

    // Chunks for every position below `end`; false, and the chain as it was, when the
    // pool refuses one.
    template <std::size_t C>
    bool cover(basic_chunk_pool<C>& pool, std::size_t end) noexcept
    {
        const std::size_t need = (head_offset_ + end + C - 1) / C;
        const chunk_index old_tail = chain_.tail();
        const std::uint32_t old_count = chain_.count();
        while (chain_.count() < need) {
            if (!chain_.push_back(pool)) {
                chain_.truncate(pool, old_tail, old_count);
                return false;
            }
        }
        return true;
    }

    // Writes bytes at position `at`; the chain already covers them. With `sum`, the
    // bytes are added to it as they are copied.
    template <std::size_t C>
    void copy_in(basic_chunk_pool<C>& pool, std::size_t at, std::span<const std::uint8_t> bytes,
                 wire::checksum_accumulator* sum = nullptr)
    {
        const std::size_t v = head_offset_ + at;
        detail::chunk_chain::position& cursor =
            chain_.seek(pool, static_cast<std::uint32_t>(v / C));
        std::size_t in_chunk = v % C;
        std::size_t done = 0;
        for (;;) {
            const std::size_t len = std::min(bytes.size() - done, C - in_chunk);
            std::uint8_t* to = pool.data(cursor.chunk) + in_chunk;
            if (sum != nullptr)
                wire::copy_and_add(*sum, {to, len}, bytes.subspan(done, len));
            else
                std::memcpy(to, bytes.data() + done, len);
            done += len;
            if (done == bytes.size())
                return;
            cursor.chunk = pool.next(cursor.chunk);
            ++cursor.k;
            in_chunk = 0;
        }
    }

    detail::chunk_chain chain_;
    std::uint32_t head_offset_ = 0;  // bytes of the head chunk already read
    std::uint32_t readable_ = 0;
    std::uint32_t charged_ = 0;      // chunks charged to the pool's out-of-order share
    detail::range_table ranges_;
};

}  // namespace tcpx::tcp
