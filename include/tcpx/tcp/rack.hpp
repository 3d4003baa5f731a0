// tcpx/tcp/rack.hpp — RACK (RFC 8985 §6): losses told by time. A segment is lost when
// one sent after it has been delivered and a reordering window has passed since it
// should have been — with no count of duplicate ACKs, so a tail, a window too small for
// three duplicates and a lost retransmission are all found without the timer.
//
// Have open: RFC 8985 §6.1 (the per-segment send time), §6.2 (the algorithm: RACK.xmit_ts,
// RACK.end_seq, RACK.rtt, RACK.reo_wnd, the detection and the timer), §6.2 step 4 (the
// reordering window and its adaptation from D-SACK, RFC 8985 §6.2 / Linux's
// reo_wnd_steps).
//
// Send times. RFC 8985 keeps one per segment; this keeps a bounded log of (end of the
// data sent, when), one entry per instant anything new was sent — data is first sent in
// sequence order, so the times rise with the sequence numbers and "when was octet s
// first sent" is the first entry ending beyond s. When the log is full, neighbouring
// entries merge keeping the later time: a segment then looks younger than it is and is
// declared lost later, never sooner. Retransmissions carry their own time in the
// scoreboard (sack_scoreboard::record_retransmit).
//
// Two classes along the RFC's own seam. `rack` is one flight's: the send log and the
// most recently delivered segment (RACK.xmit_ts, RACK.end_seq, RACK.rtt), meaningless
// once everything is acknowledged, so it lives in the connection's recovery_state and
// starts afresh with each flight. `rack_reordering` is the connection's for life: what
// it learned about the path's reordering (RACK.reordering_seen, RACK.reo_wnd_mult) and
// the window that follows from it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <tcpx/time.hpp>
#include <tcpx/wire/seq32.hpp>

namespace tcpx::tcp {

class rack {
public:
    static constexpr std::size_t log_size = 32;

    /// A new flight: nothing logged, nothing delivered.
    void clear() noexcept
    {
        head_ = count_ = 0;
        advanced_ = false;
        xmit_ts_ = instant{};
        rtt_ = duration{0};
        end_seq_ = seq32{};
        delivered_length_ = 0;
    }

    // ---- the send log (§6.1) ----

    /// New data up to `end` (exclusive) left at `now`.
    void on_new_data_sent(seq32 end, instant now) noexcept
    {
        if (count_ != 0) {
            entry& last = at(count_ - 1);
            if (last.sent == now || !seq_gt(end, last.end)) {
                last.end = seq_max(last.end, end);
                return;
            }
        }
        if (count_ == log_size) coarsen();
        at(count_++) = entry{end, now};
    }

    /// Everything below `una` is delivered: entries wholly below it go.
    void on_cumulative_ack(seq32 una) noexcept
    {
        while (count_ != 0 && seq_le(at(0).end, una)) {
            head_ = (head_ + 1) % log_size;
            --count_;
        }
    }

    /// When octet `s` was first sent (never: not in the log, e.g. already acknowledged).
    instant sent_at(seq32 s) const noexcept
    {
        for (std::size_t i = 0; i < count_; ++i)
            if (seq_lt(s, at(i).end)) return at(i).sent;
        return never;
    }

    // ---- RFC 8985 §6.2 ----

    /// Steps 1-2: data ending at `end`, first sent at `sent` (sent_at()), was delivered
    /// (cumulatively or by SACK). Keeps the most recently sent: RACK.xmit_ts,
    /// RACK.end_seq, and RACK.rtt from it. The send time is the first transmission's
    /// even when the data was sent again: that can only make RACK.xmit_ts older (step 2
    /// skips ambiguous retransmissions for the same reason: never declare loss early).
    /// `segment`: the delivered segment's length, so that in a burst logged as one entry
    /// the segments before it count as sent before it (0: the whole entry was delivered).
    void on_delivered(instant sent, seq32 end, instant now, std::uint32_t segment = 0) noexcept
    {
        if (sent == never) return;
        const duration rtt = now - sent;
        if (!advanced_ || sent > xmit_ts_ || (sent == xmit_ts_ && seq_gt(end, end_seq_))) {
            xmit_ts_ = sent;
            end_seq_ = end;
            delivered_length_ = segment;
            rtt_ = rtt;
            advanced_ = true;
        }
    }

    /// Step 5, for first transmissions: the end of the lost prefix — every octet below
    /// it was sent before RACK.xmit_ts and at least RACK.rtt + reo_wnd ago — and, if a
    /// segment sent before RACK.xmit_ts is not yet that old, when it will be (the
    /// reordering timer). `from`: SND.UNA.
    struct verdict {
        seq32 lost_below;      ///< `from` when nothing is lost
        instant timer = never; ///< when to look again
    };
    verdict detect(seq32 from, instant now, duration reo_wnd) const noexcept
    {
        verdict v{from};
        if (!advanced_) return v;
        const duration wait = rtt_ + reo_wnd;
        seq32 begin = from;
        for (std::size_t i = 0; i < count_; begin = seq_max(begin, at(i).end), ++i) {
            const entry& e = at(i);
            if (!seq_gt(e.end, from)) continue;
            // "sent before" the most recently delivered segment (time, then sequence). An
            // entry holds a burst sent at one instant: at RACK.xmit_ts, only its segments
            // before the delivered one were sent before it (RACK_sent_after's tie-break).
            seq32 limit = end_seq_;
            if (e.sent == xmit_ts_) limit = delivered_length_ != 0 ? end_seq_ - delivered_length_ : begin;
            if (!(e.sent < xmit_ts_ || (e.sent == xmit_ts_ && seq_lt(begin, limit)))) break;
            if (e.sent + wait <= now) {
                v.lost_below = seq_max(v.lost_below, seq_min(e.end, limit));
                continue;
            }
            v.timer = e.sent + wait;  // §6.2 step 5: "RACK.reo_wnd timer"
            break;
        }
        return v;
    }
    /// Step 5 for a retransmission sent at `sent`: lost when it left before RACK.xmit_ts
    /// and RACK.rtt + reo_wnd have passed.
    bool retransmission_lost(instant sent, instant now, duration reo_wnd) const noexcept
    {
        return advanced_ && sent < xmit_ts_ && sent + rtt_ + reo_wnd <= now;
    }

    bool has_delivery() const noexcept { return advanced_; }
    instant xmit_ts() const noexcept { return xmit_ts_; }
    seq32 end_seq() const noexcept { return end_seq_; }
    duration rtt() const noexcept { return rtt_; }
    std::size_t log_entries() const noexcept { return count_; }

private:
    struct entry {
        seq32 end;     ///< one past the last octet sent at `sent`
        instant sent{};
    };
    entry& at(std::size_t i) noexcept { return log_[(head_ + i) % log_size]; }
    const entry& at(std::size_t i) const noexcept { return log_[(head_ + i) % log_size]; }

    // Halves the log: each pair becomes its later entry (see the header).
    void coarsen() noexcept
    {
        std::array<entry, log_size> merged{};
        std::size_t n = 0;
        for (std::size_t i = 1; i < count_; i += 2) merged[n++] = at(i);
        if (count_ % 2 != 0) merged[n++] = at(count_ - 1);
        log_ = merged;
        head_ = 0;
        count_ = static_cast<std::uint8_t>(n);
    }

    std::array<entry, log_size> log_{};
    instant xmit_ts_{};
    duration rtt_{0};
    seq32 end_seq_;
    std::uint32_t delivered_length_ = 0;  ///< of the segment ending at RACK.end_seq (0: its whole entry)
    std::uint8_t head_ = 0;
    std::uint8_t count_ = 0;
    bool advanced_ = false;
};

/// RFC 8985 §6.2 steps 3-4: what the connection has learned about reordering on its
/// path, and the reordering window that follows. Kept for the connection's life.
class rack_reordering {
public:
    /// Step 3: D-SACK means reordering (or a spurious retransmission): the window grows.
    /// RFC 8985 §6.2 step 4: "RACK.reo_wnd_mult += 1 ... reset after 16 loss recoveries".
    void on_dsack() noexcept
    {
        reordering_seen_ = true;
        if (!dsack_this_round_) reo_wnd_mult_ = static_cast<std::uint8_t>(std::min(reo_wnd_mult_ + 1, 255));
        dsack_this_round_ = true;
    }
    /// "RACK.dsack_round": one step per round trip; the caller says when one passed.
    void on_round() noexcept { dsack_this_round_ = false; }
    /// A loss recovery ended; after 16 the window multiplier starts again (§6.2 step 4).
    void on_recovery_end() noexcept
    {
        if (++recoveries_since_grow_ >= 16) {
            reo_wnd_mult_ = 1;
            recoveries_since_grow_ = 0;
        }
    }
    /// Reordering observed without D-SACK: data delivered below RACK.end_seq that was
    /// not retransmitted arrived late (§6.2 step 3, "RACK.reordering_seen").
    void note_reordering() noexcept { reordering_seen_ = true; }

    /// Step 4, RACK.reo_wnd: 0 while no reordering was seen and the sender is in
    /// recovery or already has DupThresh segments SACKed (then RACK is as quick as
    /// RFC 6675); else min(RACK.reo_wnd_mult * RACK.min_RTT / 4, SRTT).
    duration reo_wnd(bool in_recovery, bool dupthresh_sacked, duration min_rtt, duration srtt) const noexcept
    {
        if (!reordering_seen_ && (in_recovery || dupthresh_sacked)) return duration{0};
        return std::min<duration>(min_rtt / 4 * reo_wnd_mult_, srtt);
    }

    bool reordering_seen() const noexcept { return reordering_seen_; }
    unsigned reo_wnd_mult() const noexcept { return reo_wnd_mult_; }

private:
    std::uint8_t reo_wnd_mult_ = 1;
    std::uint8_t recoveries_since_grow_ = 0;
    bool reordering_seen_ = false;
    bool dsack_this_round_ = false;
};

}  // namespace tcpx::tcp
