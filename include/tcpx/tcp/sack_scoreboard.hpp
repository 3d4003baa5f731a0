// tcpx/tcp/sack_scoreboard.hpp — what a SACK sender knows about the data it has in
// flight: the ranges the peer reported holding (RFC 2018), the ranges retransmitted in
// the current recovery, and from those the RFC 6675 routines IsLost, SetPipe and
// NextSeg. Independent of the connection; the connection drives it (see
// impl/connection_recovery.ipp).
//
// Have open: RFC 6675 §2 (definitions), §4 (the routines), §5 (the algorithm),
// §5.1 (retransmission timeouts), §8 (reneging); RFC 2883 §4 (D-SACK); RFC 8985 §6.2
// for why a lost retransmission can be told without a timer.
//
// Sequence numbers are the sender's: SND.UNA (RFC 6675's HighACK) and SND.MAX, the
// highest sent (HighData). RFC 6675 counts octets inclusively ("HighData is the
// highest sequence number transmitted"); here every range is half open, [begin, end).
//
// Memory. The peer repeats a block only in the few ACKs after the segment that made it
// (RFC 2018 §4: the most recent first, three or four per ACK), so every island it
// reported must be remembered until acknowledged: one forgotten is data believed
// unSACKed, and RACK, seeing later data delivered, retransmits it needlessly. A
// bottleneck queue that overflows in slow start drops every other segment of a round
// trip — hundreds of islands. So the SACKed ranges are held as the receiver holds its
// out-of-order ranges (detail/range_table.hpp): a few inline, the rest in chunks of the
// connection data pool, up to max_sacked. Beyond that, or when the pool refuses a
// chunk, the highest island is forgotten (counted: update_result::forgotten) — the
// safe side: data believed unSACKed may be retransmitted once more, never data believed
// delivered lost. Finding an octet's range is a binary search.
//
// At most max_retransmits records of data retransmitted and not yet delivered; the
// retransmissions of one burst (one SND.MAX), hole after hole with only SACKed data
// between, are one record. When more are outstanding than can be remembered, NextSeg
// offers no further retransmission until some are acknowledged.
//
// Differences from RFC 6675's single HighRxt, and why: the RFC remembers only the
// highest octet retransmitted, so a retransmission that is lost again stays counted in
// pipe and is never sent again until the retransmission timer fires. Remembering each
// retransmitted range with the SND.MAX it was sent before lets a SACK of data sent
// after it show it lost (RFC 8985 §6.2's reasoning, as Linux's tcp_mark_lost_retrans
// did before RACK): the range then counts as lost, not in flight, and NextSeg offers
// it again. With every retransmission in order and none lost, the ranges form the
// prefix [HighACK, HighRxt] and every routine gives the RFC's answer.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include <tcpx/tcp/chunk_pool.hpp>
#include <tcpx/tcp/detail/range_table.hpp>
#include <tcpx/time.hpp>
#include <tcpx/wire/seq32.hpp>
#include <tcpx/wire/tcp_options.hpp>

namespace tcpx::tcp {

class sack_scoreboard {
public:
    /// RFC 6675 §2 DupThresh: "the number of duplicate acknowledgments required to
    /// trigger a retransmission", 3 as in RFC 5681.
    static constexpr std::uint32_t dup_thresh = 3;
    /// SACKed ranges held at most (8,200 with the stack's 16 KiB chunks).
    static constexpr std::size_t max_sacked = detail::range_table::max_size<chunk_pool::chunk_size>;
    static constexpr std::size_t max_retransmits = 12;

    struct range {
        seq32 begin;
        seq32 end;
        std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(end - begin); }
        friend bool operator==(const range&, const range&) = default;
    };

    /// The SACKed ranges, lowest first: a view (indexable, iterable by value) valid
    /// until the scoreboard next changes.
    class range_view {
    public:
        range_view() noexcept = default;
        range_view(const detail::range_table& t, seq32 origin) noexcept : t_{&t}, origin_{origin} {}
        std::size_t size() const noexcept { return t_->size(); }
        bool empty() const noexcept { return t_->empty(); }
        range operator[](std::size_t i) const noexcept
        {
            const detail::byte_range r = (*t_)[i];
            return {origin_ + r.begin, origin_ + r.end};
        }
        range front() const noexcept { return (*this)[0]; }
        range back() const noexcept { return (*this)[size() - 1]; }
        using iterator = detail::index_iterator<range_view>;
        iterator begin() const noexcept { return {*this, 0}; }
        iterator end() const noexcept { return {*this, size()}; }

    private:
        const detail::range_table* t_ = nullptr;
        seq32 origin_{};
    };

    /// What one ACK's SACK option did to the scoreboard.
    struct update_result {
        std::uint32_t newly_sacked = 0;  ///< bytes SACKed for the first time (RFC 6937 DeliveredData)
        bool dsack = false;              ///< the first block was a D-SACK (RFC 2883 §4)
        range dsack_range{};             ///< what it reported as received twice
        bool sacked_new = false;         ///< some block covered unSACKed data: RFC 6675 §2 DupAck
        seq32 highest_new;               ///< with sacked_new: one past the highest octet newly SACKed
        std::uint32_t forgotten = 0;     ///< islands not kept: max_sacked reached, or the pool had no chunk
    };

    /// RFC 6675 §4 Update(): records the blocks of an ACK whose cumulative point is
    /// `una` (SEG.ACK, already taken as SND.UNA) and whose sender had sent up to `max`.
    /// Blocks outside (una, max] are ignored: stale, or not ours (RFC 2018 §3 does not
    /// allow them; a hostile one changes nothing).
    /// Chunks for ranges beyond the inline few come from `pool`.
    update_result update(seq32 una, seq32 max, std::span<const wire::sack_block> blocks, chunk_pool& pool) noexcept
    {
        update_result r;
        if (blocks.empty() && quiet()) return r;
        drop_below(una, pool);
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            const wire::sack_block& b = blocks[i];
            if (!seq_lt(b.left, b.right)) continue;
            // RFC 2883 §4: the first block is a D-SACK when it lies below the
            // cumulative ACK, or inside the second block.
            if (i == 0 && (seq_le(b.right, una) ||
                           (blocks.size() > 1 && seq_ge(b.left, blocks[1].left) && seq_le(b.right, blocks[1].right)))) {
                r.dsack = true;
                r.dsack_range = {b.left, b.right};
                if (seq_le(b.right, una)) continue;
            }
            const seq32 left = seq_max(b.left, una);
            const seq32 right = seq_min(b.right, max);
            if (!seq_lt(left, right) || seq_gt(b.right, max)) continue;  // beyond what was sent: not ours
            const std::uint32_t added = insert({left, right}, pool, r.forgotten);
            if (added != 0) {
                r.newly_sacked += added;
                r.highest_new = r.sacked_new ? seq_max(r.highest_new, right) : right;
                r.sacked_new = true;
            }
        }
        // A retransmission SACKed was delivered: forget it.
        forget_delivered_retransmits();
        return r;
    }

    /// The cumulative ACK moved to `una`: everything below it is delivered.
    void drop_below(seq32 una, chunk_pool& pool) noexcept
    {
        if (sacked_.empty()) {
            origin_ = una;
        } else if (seq_gt(una, origin_)) {
            // Positions count from origin_ (SND.UNA as last seen): ranges wholly below
            // the new one go, one reaching past it is cut, the rest move down.
            const std::uint32_t moved = position(una);
            const std::size_t gone = sacked_.first_ending_at_or_after(std::size_t{moved} + 1);
            for (std::size_t i = 0; i < gone; ++i) sacked_bytes_ -= size_of(sacked_[i]);
            sacked_.erase_front(pool, gone);
            if (!sacked_.empty() && sacked_[0].begin < moved) {
                sacked_bytes_ -= moved - sacked_[0].begin;
                sacked_.replace(0, 1, {moved, sacked_[0].end});
            }
            sacked_.consume(moved);
            origin_ = una;
        }
        std::size_t keep = 0;
        for (std::size_t i = 0; i < rxt_count_; ++i) {
            retransmit t = rxt_[i];
            if (seq_le(t.span.end, una)) continue;
            t.span.begin = seq_max(t.span.begin, una);
            rxt_[keep++] = t;
        }
        rxt_count_ = static_cast<std::uint8_t>(keep);
        if (lost_upto_ && seq_le(*lost_upto_, una)) lost_upto_.reset();
    }

    /// RFC 6675 §8 / RFC 2018 §8: forget every SACK (reneging, or a new connection);
    /// the chunks go back to `pool`.
    void clear(chunk_pool& pool) noexcept
    {
        sacked_.clear(pool);
        sacked_bytes_ = 0;
        rxt_count_ = 0;
        lost_upto_.reset();
    }

    /// Forgets the retransmissions (all now deemed lost: a retransmission timeout).
    void forget_retransmits() noexcept { rxt_count_ = 0; }
    /// Some retransmission of this recovery is neither delivered nor shown lost.
    bool retransmissions_outstanding() const noexcept { return rxt_count_ != 0; }
    /// Octet s is in a retransmission still outstanding (sent, not delivered, not shown lost).
    bool retransmitting(seq32 s) const noexcept
    {
        for (const retransmit& t : retransmits())
            if (seq_ge(s, t.span.begin) && seq_lt(s, t.span.end)) return true;
        return false;
    }

    /// Every unSACKed octet below `upto` counts as lost: after a retransmission timeout
    /// below SND.MAX then (RFC 6675 §5.1, as Linux's tcp_enter_loss), or what RACK found
    /// (RFC 8985 §6.2). Only ever raises the mark.
    void mark_lost_upto(seq32 upto) noexcept
    {
        if (!lost_upto_ || seq_gt(upto, *lost_upto_)) lost_upto_ = upto;
    }

    range_view sacked() const noexcept { return {sacked_, origin_}; }
    bool empty() const noexcept { return sacked_.empty(); }
    /// Nothing SACKed, nothing declared lost, nothing being retransmitted: the flight is
    /// simply in flight, and every question below has its trivial answer (pipe is
    /// FlightSize, NextSeg finds nothing). The common case, checked first on the fast path.
    bool quiet() const noexcept { return sacked_.empty() && rxt_count_ == 0 && !lost_upto_; }
    std::uint32_t sacked_bytes() const noexcept { return sacked_bytes_; }
    /// One past the highest octet SACKed; `una` when nothing is.
    seq32 highest_sacked(seq32 una) const noexcept { return sacked_.empty() ? una : sacked().back().end; }
    bool is_sacked(seq32 s) const noexcept { return holding(s) != sacked_.size(); }

    /// With RACK (RFC 8985) deciding losses by time, as in Linux, IsLost's DupThresh
    /// count is not used: what is lost is what RACK or a timeout marked (mark_lost_upto).
    /// RFC 8985 §6.2's window of 0 before any reordering is seen gives the same verdict
    /// once DupThresh segments are SACKed; after it, reordering within the window costs
    /// no retransmission.
    void use_dupthresh_rule(bool on) noexcept { dupthresh_rule_ = on; }

    /// RFC 6675 §4 IsLost(SeqNum), for an unSACKed octet: "DupThresh discontiguous
    /// SACKed sequences have arrived above 'SeqNum' or more than (DupThresh - 1) * SMSS
    /// bytes with sequence numbers greater than 'SeqNum' have been SACKed" — or a
    /// retransmission timeout declared it lost (§5.1). True exactly below lost_frontier().
    bool is_lost(seq32 s, std::uint32_t smss) const noexcept { return seq_lt(s, lost_frontier(s, smss)); }

    /// The unSACKed octets for which IsLost holds are a prefix of the flight: the count
    /// of SACKed octets and ranges above an octet only falls as it rises. Returns the
    /// end of that prefix (`una` or lower when none is lost). `una` is any octet at or
    /// below SND.UNA's range, used only when nothing is lost.
    seq32 lost_frontier(seq32 una, std::uint32_t smss) const noexcept
    {
        seq32 frontier = una;
        std::uint32_t bytes_above = 0;
        const range_view ranges = sacked();
        for (std::size_t i = dupthresh_rule_ ? ranges.size() : 0; i-- > 0;) {
            const range r = ranges[i];
            bytes_above += r.size();
            const std::size_t ranges_above = ranges.size() - i;
            if (ranges_above >= dup_thresh || bytes_above > (dup_thresh - 1) * smss) {
                frontier = r.begin;
                break;
            }
        }
        if (lost_upto_ && seq_gt(*lost_upto_, frontier)) frontier = *lost_upto_;
        return frontier;
    }

    /// RFC 6675 §4 SetPipe() over [una, max): every unSACKed octet not lost counts once
    /// ("(a) If IsLost (S1) returns false"), and every unSACKed octet retransmitted and
    /// not shown lost counts once more ("(b) If S1 <= HighRxt").
    std::uint32_t pipe(seq32 una, seq32 max, std::uint32_t smss) const noexcept
    {
        return quiet() ? static_cast<std::uint32_t>(max - una) : pipe_walk(una, max, smss);
    }
    /// pipe() with something SACKed, lost or retransmitted: the walk over the ranges.
    std::uint32_t pipe_walk(seq32 una, seq32 max, std::uint32_t smss) const noexcept
    {
        const seq32 lost = seq_max(lost_frontier(una, smss), una);
        const seq32 from = seq_min(lost, max);
        std::uint32_t n = unsacked_between(from, max);
        for (const retransmit& t : retransmits()) n += unsacked_between(t.span.begin, t.span.end);
        return n;
    }

    /// A segment NextSeg() chose: where it starts and how long it may be.
    struct next_segment {
        seq32 seq;
        std::uint32_t length = 0;
        enum class rule : std::uint8_t { lost, new_data, unsacked, rescue } why = rule::lost;
    };

    /// RFC 6675 §4 NextSeg() rules (1) and (3): the first unSACKed octet not being
    /// retransmitted ("S2 > HighRxt") below the highest SACKed octet (or below the
    /// point a timeout declared lost), lost (rule 1) or, with `allow_unlost`, not
    /// (rule 3). Rule (2), new data, is the caller's, between the two; rule (4) is
    /// rescue(). Up to `smss` octets, never into SACKed or retransmitted data.
    std::optional<next_segment> next_retransmission(seq32 una, seq32 max, std::uint32_t smss,
                                                    bool allow_unlost) const noexcept
    {
        if (rxt_count_ == max_retransmits) return std::nullopt;  // see the header
        seq32 limit = highest_sacked(una);                        // (1.b)
        if (lost_upto_ && seq_gt(*lost_upto_, limit)) limit = *lost_upto_;
        limit = seq_min(limit, max);
        const seq32 lost = lost_frontier(una, smss);
        seq32 s = una;
        while (seq_lt(s, limit)) {
            if (const std::optional<range> r = covering(s)) {  // SACKed or being retransmitted: skip it
                s = r->end;
                continue;
            }
            const bool is_lost = seq_lt(s, lost);
            if (!is_lost && !allow_unlost) return std::nullopt;  // later octets are not lost either
            seq32 end = seq_min(limit, s + smss);
            end = seq_min(end, next_covered_after(s, end));
            return next_segment{s, static_cast<std::uint32_t>(end - s),
                                is_lost ? next_segment::rule::lost : next_segment::rule::unsacked};
        }
        return std::nullopt;
    }

    /// RFC 6675 §4 NextSeg() rule (4), the rescue retransmission: once per recovery
    /// ("HighACK > RescueRxt or RescueRxt is undefined", the caller keeps RescueRxt),
    /// the highest unSACKed segment outstanding, up to `smss` octets.
    std::optional<next_segment> rescue(seq32 una, seq32 max, std::uint32_t smss) const noexcept
    {
        seq32 end = max;
        // The highest unSACKed octet: below the last SACKed range if that reaches SND.MAX
        // (ranges are never adjacent, so only the last can).
        if (!sacked_.empty() && sacked().back().end == end) end = sacked().back().begin;
        if (!seq_lt(una, end)) return std::nullopt;
        seq32 begin = static_cast<std::uint32_t>(end - una) > smss ? end - smss : una;
        // Not into a SACKed range below: the highest beginning before `end`.
        if (const std::size_t i = sacked_.first_beginning_after(position(end - 1)); i > 0) {
            const range r = sacked()[i - 1];
            if (seq_gt(r.end, begin)) begin = r.end;
        }
        return next_segment{begin, static_cast<std::uint32_t>(end - begin), next_segment::rule::rescue};
    }

    /// RFC 6675 §5 (C.2): the connection retransmitted [begin, end) while SND.MAX was
    /// `max`; merged with a record it extends when SND.MAX has not moved between and
    /// only SACKed data lies between the two (a record's SACKed octets count for
    /// nothing: it stands for the unSACKed ones it spans).
    void record_retransmit(seq32 begin, seq32 end, seq32 max, instant now = {}) noexcept
    {
        if (rxt_count_ != 0) {
            retransmit& last = rxt_[rxt_count_ - 1];
            if (last.sent_before == max && seq_le(last.span.end, begin) && unsacked_between(last.span.end, begin) == 0) {
                last.span.end = end;
                last.sent = now;  // the later time: declared lost no sooner (see rack.hpp)
                return;
            }
        }
        if (rxt_count_ == max_retransmits) return;
        rxt_[rxt_count_++] = retransmit{{begin, end}, max, now};
    }

    /// RFC 8985 §6.2's reasoning without per-segment clocks: a retransmission is lost
    /// when the peer SACKs more than (DupThresh - 1) * SMSS of data first sent after it
    /// — that data left later and arrived, so the retransmission would have too. Lost
    /// retransmissions are forgotten (they count as lost, not in pipe, and NextSeg offers
    /// them again). Returns how many octets were found lost.
    /// `lost_by_time(instant sent)`: RFC 8985 §6.2's verdict on a retransmission sent
    /// then, which also counts (RACK finds it lost once a later-sent segment arrived
    /// and the reordering window passed, however little was SACKed).
    template <class ByTime>
    std::uint32_t detect_lost_retransmits(seq32 una, std::uint32_t smss, ByTime&& lost_by_time) noexcept
    {
        const seq32 top = highest_sacked(una);
        std::uint32_t found = 0;
        std::size_t keep = 0;
        for (std::size_t i = 0; i < rxt_count_; ++i) {
            const retransmit& t = rxt_[i];
            if (seq_gt(top, t.sent_before) &&
                (sacked_between(t.sent_before, top) > (dup_thresh - 1) * smss || lost_by_time(t.sent))) {
                found += unsacked_between(t.span.begin, t.span.end);
                continue;
            }
            rxt_[keep++] = t;
        }
        rxt_count_ = static_cast<std::uint8_t>(keep);
        return found;
    }
    std::uint32_t detect_lost_retransmits(seq32 una, std::uint32_t smss) noexcept
    {
        return detect_lost_retransmits(una, smss, [](instant) { return false; });
    }

    /// Bytes retransmitted in this recovery and not yet delivered or shown lost.
    std::uint32_t retransmitted_in_flight() const noexcept
    {
        std::uint32_t n = 0;
        for (const retransmit& t : retransmits()) n += unsacked_between(t.span.begin, t.span.end);
        return n;
    }

    /// SACKed octets in [from, to).
    std::uint32_t sacked_between(seq32 from, seq32 to) const noexcept
    {
        if (!seq_lt(from, to) || sacked_.empty()) return 0;
        const std::uint32_t f = position(from), t = position(to);
        std::uint32_t n = 0;
        for (std::size_t i = sacked_.first_ending_at_or_after(std::size_t{f} + 1); i < sacked_.size(); ++i) {
            const detail::byte_range r = sacked_[i];
            if (r.begin >= t) break;
            n += std::min(r.end, t) - std::max(r.begin, f);
        }
        return n;
    }
    std::uint32_t unsacked_between(seq32 from, seq32 to) const noexcept
    {
        if (!seq_lt(from, to)) return 0;
        return static_cast<std::uint32_t>(to - from) - sacked_between(from, to);
    }

private:
    struct retransmit {
        range span;
        seq32 sent_before;  ///< SND.MAX when it was sent: data from here on left after it
        instant sent{};     ///< when (RFC 8985 §6.1's xmit_ts of a retransmission)
    };
    std::span<const retransmit> retransmits() const noexcept { return {rxt_.data(), rxt_count_}; }

    // Octet s as a position in sacked_: its distance from origin_ (SND.UNA as last
    // seen); 0 for an octet below it, which no range holds.
    std::uint32_t position(seq32 s) const noexcept { return seq_gt(s, origin_) ? static_cast<std::uint32_t>(s - origin_) : 0; }
    static std::uint32_t size_of(detail::byte_range r) noexcept { return r.end - r.begin; }

    // The index of the SACKed range holding octet s, or sacked_.size().
    std::size_t holding(seq32 s) const noexcept
    {
        if (sacked_.empty() || seq_lt(s, origin_)) return sacked_.size();
        const std::uint32_t p = position(s);
        const std::size_t i = sacked_.first_beginning_after(p);
        return i > 0 && sacked_[i - 1].end > p ? i - 1 : sacked_.size();
    }

    // Adds `add` (at or above origin_) to the sorted, disjoint, non-adjacent ranges;
    // returns the octets it added. An island that finds no slot is forgotten, or a
    // higher one is to make room (see the header); either way `forgotten` counts it.
    std::uint32_t insert(range add, chunk_pool& pool, std::uint32_t& forgotten) noexcept
    {
        const std::uint32_t b = position(add.begin), e = position(add.end);
        const std::size_t lo = sacked_.first_ending_at_or_after(b);  // ranges [lo, hi) touch or overlap
        const std::size_t hi = sacked_.first_beginning_after(e);
        std::uint32_t already = 0;
        detail::byte_range merged{b, e};
        for (std::size_t i = lo; i < hi; ++i) {
            const detail::byte_range r = sacked_[i];
            if (r.end > b && r.begin < e) already += std::min(r.end, e) - std::max(r.begin, b);
            merged.begin = std::min(merged.begin, r.begin);
            merged.end = std::max(merged.end, r.end);
        }
        const std::uint32_t added = (e - b) - already;
        if (added == 0) return 0;
        if (lo == hi) {  // a new island
            bool drew = false;
            if (!sacked_.reserve_one(pool, drew)) {
                ++forgotten;
                if (lo == sacked_.size()) return 0;  // the highest: forget it
                sacked_bytes_ -= size_of(sacked_.back());
                sacked_.pop_back(pool);  // else forget the highest held
                if (sacked_.empty() && !sacked_.reserve_one(pool, drew)) return 0;
            }
        }
        sacked_.replace(lo, hi, merged);
        sacked_bytes_ += added;
        return added;
    }

    void forget_delivered_retransmits() noexcept
    {
        std::size_t keep = 0;
        for (std::size_t i = 0; i < rxt_count_; ++i)
            if (unsacked_between(rxt_[i].span.begin, rxt_[i].span.end) != 0) rxt_[keep++] = rxt_[i];
        rxt_count_ = static_cast<std::uint8_t>(keep);
    }

    // The SACKed or retransmitted range holding octet s, if any.
    std::optional<range> covering(seq32 s) const noexcept
    {
        if (const std::size_t i = holding(s); i != sacked_.size()) return sacked()[i];
        for (const retransmit& t : retransmits())
            if (seq_ge(s, t.span.begin) && seq_lt(s, t.span.end)) return t.span;
        return std::nullopt;
    }
    // The first SACKed or retransmitted octet in (s, end), or `end`.
    seq32 next_covered_after(seq32 s, seq32 end) const noexcept
    {
        if (const std::size_t i = sacked_.first_beginning_after(position(s)); i < sacked_.size()) {
            const range r = sacked()[i];
            if (seq_gt(r.begin, s) && seq_lt(r.begin, end)) end = r.begin;
        }
        for (const retransmit& t : retransmits())
            if (seq_gt(t.span.begin, s) && seq_lt(t.span.begin, end)) end = t.span.begin;
        return end;
    }

    detail::range_table sacked_;  // positions from origin_
    seq32 origin_{};
    std::uint32_t sacked_bytes_ = 0;
    std::array<retransmit, max_retransmits> rxt_{};
    std::uint8_t rxt_count_ = 0;
    bool dupthresh_rule_ = true;
    std::optional<seq32> lost_upto_;
};

}  // namespace tcpx::tcp
