// tcpx/cc/detail/hystart.hpp — HyStart++ (RFC 9406): slow start that watches the RTT and,
// when it rises by more than a threshold within a round (the queue is filling), slows
// its growth to a quarter (Conservative Slow Start) instead of running on until the
// queue overflows and a burst of losses ends it. Shared by cc::reno, cc::newreno and
// cc::cubic. Not API.
//
// Have open: RFC 9406 §4.1 (constants), §4.2 (the algorithm), §4.3 (which slow starts).
// Rounds are told from the ACKs themselves: a round ends when SND.UNA passes the
// highest sequence sent when it began ("windowEnd"). RTT samples are the sender's, one
// per ACK when timestamps are on (RFC 7323 §4), else one per round trip.
#pragma once

#include <algorithm>
#include <cstdint>

#include <tcpx/cc/detail/window.hpp>
#include <tcpx/cc/events.hpp>
#include <tcpx/time.hpp>

namespace tcpx::cc::detail {

class hystart_pp {
public:
    // RFC 9406 §4.1, the RECOMMENDED values.
    static constexpr duration min_rtt_thresh = std::chrono::milliseconds{4};
    static constexpr duration max_rtt_thresh = std::chrono::milliseconds{16};
    static constexpr unsigned min_rtt_divisor = 8;
    static constexpr unsigned n_rtt_sample = 8;
    static constexpr unsigned css_growth_divisor = 4;
    static constexpr unsigned css_rounds = 5;

    enum class phase : std::uint8_t { slow_start, css, off };

    explicit constexpr hystart_pp(bool on = true) noexcept : on_{on}, phase_{on ? phase::slow_start : phase::off} {}

    phase current() const noexcept { return phase_; }

    /// An ACK of new data in slow start. Returns the divisor of slow start's increase
    /// (1, or CSS_GROWTH_DIVISOR in CSS), or 0 when CSS has lasted CSS_ROUNDS rounds:
    /// "enter congestion avoidance by setting the ssthresh to the current cwnd".
    unsigned on_ack(const ack_event& e) noexcept
    {
        if (phase_ == phase::off) return 1;
        // §4.2: a round ends once windowEnd is acknowledged; as in Linux, the ACK past it
        // begins the next, so the ACK that covers windowEnd still samples the old round.
        if (!round_started_ || seq_gt(e.ack, window_end_)) {
            // "lastRoundMinRTT = currentRoundMinRTT; currentRoundMinRTT = infinity; ..."

            if (phase_ == phase::css && ++css_round_count_ >= css_rounds) {
                phase_ = phase::off;
                return 0;
            }
            last_round_min_ = current_round_min_;
            current_round_min_ = duration::max();
            samples_ = 0;
            window_end_ = e.highest_sent();
            round_started_ = true;
        }
        if (e.rtt > duration::zero()) {
            current_round_min_ = std::min(current_round_min_, e.rtt);
            ++samples_;
        }
        const bool enough = samples_ >= n_rtt_sample && current_round_min_ != duration::max() &&
                            last_round_min_ != duration::max();
        if (phase_ == phase::slow_start && enough) {
            // "RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH))"
            const duration thresh =
                std::max(min_rtt_thresh, std::min<duration>(last_round_min_ / min_rtt_divisor, max_rtt_thresh));
            if (current_round_min_ >= last_round_min_ + thresh) {
                css_baseline_min_ = current_round_min_;  // "exit slow start and enter CSS"
                phase_ = phase::css;
                css_round_count_ = 0;
                ++css_entries_;
            }
        } else if (phase_ == phase::css && samples_ >= n_rtt_sample && current_round_min_ < css_baseline_min_) {
            // "the previous slow start exit was spurious": back to slow start.
            css_baseline_min_ = duration::max();
            phase_ = phase::slow_start;
        }
        return phase_ == phase::css ? css_growth_divisor : 1;
    }

    /// A loss (or ECN) in slow start or CSS: the reduction sets ssthresh, HyStart++ ends.
    constexpr void on_loss() noexcept { phase_ = phase::off; }
    /// A new slow start (after a timeout, or a restart after idle): §4.3 allows HyStart++
    /// there too; it starts afresh.
    constexpr void restart() noexcept
    {
        const unsigned entries = css_entries_;
        *this = hystart_pp{on_};
        css_entries_ = entries;
    }
    /// Times slow start went over to CSS.
    unsigned css_entries() const noexcept { return css_entries_; }

private:
    bool on_;
    phase phase_;
    bool round_started_ = false;
    seq32 window_end_{};
    duration last_round_min_ = duration::max();
    duration current_round_min_ = duration::max();
    duration css_baseline_min_ = duration::max();
    unsigned samples_ = 0;
    unsigned css_round_count_ = 0;
    unsigned css_entries_ = 0;
};

/// Slow start with HyStart++ (RFC 9406 §4.2): RFC 5681 / RFC 3465's increase, a
/// CSS_GROWTH_DIVISOR-th of it in CSS; when CSS ends, ssthresh = cwnd.
inline std::uint32_t hystart_slow_start(hystart_pp& h, reno_growth& g, const ack_event& e, std::uint32_t cwnd,
                                           std::uint32_t& ssthresh, std::uint32_t smss) noexcept
{
    const unsigned divisor = h.on_ack(e);
    if (divisor == 0) {
        ssthresh = cwnd;
        return cwnd;
    }
    const std::uint32_t grown = g.slow_start(cwnd, e.bytes_acked, smss);
    return cwnd + (grown - cwnd) / divisor;
}

}  // namespace tcpx::cc::detail
