// tcpx/cc/cubic.hpp — CUBIC, RFC 9438: after a congestion event the window follows a
// cubic function of the time since the congestion avoidance stage began — concave
// up to the window where the last loss happened (W_max), convex beyond it — and never
// grows slower than Reno would (the Reno-friendly region). Have open: RFC 9438 §4
// (§4.1 constants, §4.2 window increase function, §4.3 Reno-friendly region, §4.4–§4.5
// concave and convex regions, §4.6 multiplicative decrease, §4.7 fast convergence,
// §4.8 timeout, §4.10 slow start), RFC 5681 §3, RFC 6582 §3.2.
//
// Arithmetic: floating point (double) for the congestion-avoidance window, integers for
// everything else. Figure 1 needs a cube root and real-valued time, and tcpx runs in user
// space, where the FPU is free to use (Linux's fixed-point CUBIC exists because kernel
// code may not touch it). The cube root is taken once per congestion avoidance stage (K);
// each ACK costs a handful of multiplications, nothing next to moving a packet. The
// window is kept as a double in bytes and handed out truncated to whole bytes, so the
// sender sees integers, and a run repeats bit for bit on the same build (the manual
// clock gives the same times, IEEE 754 the same results).
//
// Units: the RFC counts windows in segments and C in segments per second cubed; here
// windows are bytes, so C becomes C·SMSS bytes per second cubed and W_est grows by
// α·SMSS·(bytes acknowledged)/cwnd bytes per ACK (RFC 9438 §4.3 Figure 4, times SMSS).
//
// Loss recovery is the sender's (RFC 9438 §4.6: "...similar to [RFC5681] (and
// [RFC6675])"): CUBIC composes cc::newreno_recovery (RFC 6582), giving it ssthresh =
// β_cubic·FlightSize instead of FlightSize/2. When recovery ends, a new congestion
// avoidance stage (an "epoch") begins at the next ACK that is not in slow start.
//
// Not done: HyStart++ (RFC 9438 §4.10 allows plain RFC 5681 slow start), undoing
// spurious congestion events (§4.9: needs timestamps or D-SACK), and ECN (§4.6's other
// reduction). Application-limited periods (§5.8) are handled only as idle periods: the
// restart after idle (RFC 5681 §4.1) ends the epoch, so idle time is never counted in t.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

#include <tcpx/cc/detail/hystart.hpp>
#include <tcpx/cc/detail/window.hpp>
#include <tcpx/cc/events.hpp>
#include <tcpx/cc/newreno.hpp>
#include <tcpx/concepts.hpp>

namespace tcpx::cc {

/// RFC 9438 CUBIC with RFC 6582 loss recovery. Models tcpx::congestion_control.
class cubic {
public:
    /// RFC 9438 §4.6: "β_cubic SHOULD be set to 0.7".
    static constexpr double beta = 0.7;
    /// RFC 9438 §4.2 / §5.1: "C SHOULD be set to 0.4" (segments per second cubed).
    static constexpr double c = 0.4;
    /// RFC 9438 §4.3: α_cubic = 3·(1 - β_cubic)/(1 + β_cubic), about 0.53: the additive
    /// increase that gives the same average window as Reno's AIMD(1, 0.5).
    static constexpr double alpha = 3 * (1 - beta) / (1 + beta);

    explicit cubic(init i) noexcept
        : smss_{std::max<std::uint32_t>(i.smss, 1)}, iw_{cc::initial_window(i)}, cwnd_{iw_}, recovery_{i.iss},
          hystart_{i.hystart}
    {
    }

    /// RFC 9406: where HyStart++ is (slow start, CSS, or off after a loss).
    detail::hystart_pp::phase hystart_phase() const noexcept { return hystart_.current(); }

    std::uint32_t cwnd() const noexcept { return cwnd_; }
    std::uint32_t ssthresh() const noexcept { return ssthresh_; }
    bool in_recovery() const noexcept { return recovery_.active(); }
    seq32 recover() const noexcept { return recovery_.recover(); }
    std::uint32_t smss() const noexcept { return smss_; }

    // ---- the RFC 9438 §4.1.2 variables, in bytes and seconds (for tests and traces) ----
    /// W_max: the window just before the last reduction (less, after fast convergence).
    double w_max() const noexcept { return w_max_; }
    /// cwnd_prior: cwnd when ssthresh was last set.
    double cwnd_prior() const noexcept { return cwnd_prior_; }
    /// K: seconds from the start of the epoch until W_cubic reaches W_max (§4.2 Figure 2).
    double k() const noexcept { return k_; }
    /// W_est: the window Reno would have now (§4.3).
    double w_est() const noexcept { return w_est_; }
    /// cwnd_epoch: cwnd when the current congestion avoidance stage began.
    double cwnd_epoch() const noexcept { return cwnd_epoch_; }
    /// Whether a congestion avoidance stage is under way, and since when (t_epoch).
    bool in_epoch() const noexcept { return in_epoch_; }
    instant epoch_start() const noexcept { return epoch_start_; }
    /// The smoothed RTT this policy keeps from the ACKs' samples (RFC 6298 §2 gains).
    duration srtt() const noexcept { return srtt_; }

    /// RFC 9438 §4.2 Figure 1: W_cubic(t) = C·(t - K)³ + W_max, t seconds into the epoch.
    double w_cubic(double t) const noexcept
    {
        const double d = t - k_;
        return c * static_cast<double>(smss_) * d * d * d + w_max_;
    }

    action on_ack(const ack_event& e) noexcept
    {
        timeouts_.on_ack();
        take_rtt_sample(e.rtt);
        if (recovery_.active()) {
            const auto o = recovery_.on_ack(e, cwnd_, ssthresh_, smss_);
            cwnd_ = o.cwnd;
            if (!recovery_.active()) growth_.restart();
            return o.act;
        }
        recovery_.note_ack(e.ack);
        if (cwnd_ < ssthresh_) {
            // RFC 9438 §4.10: below ssthresh, slow start (RFC 5681 §3.1, with ABC), with
            // HyStart++ (RFC 9406; RFC 9438 §4.10 names it as the slow start to use).
            cwnd_ = detail::hystart_slow_start(hystart_, growth_, e, cwnd_, ssthresh_, smss_);
            return action::none;
        }
        growth_.slow_start_ended();
        congestion_avoidance(e);
        return action::none;
    }

    action on_duplicate_ack(const duplicate_ack_event& e) noexcept
    {
        recovery_.note_ack(e.ack);
        const std::uint32_t flight = flight_.observe(e);
        if (recovery_.active()) {
            cwnd_ = newreno_recovery::inflate(cwnd_, smss_);
            return action::none;
        }
        if (e.count != 3 || !recovery_.may_enter(e.ack)) return action::none;  // RFC 6582 §3.2 step 2
        reduce(flight);
        // The reduction takes effect "immediately upon entering loss recovery", as RFC 5681's:
        // ssthresh + 3·SMSS, inflated and deflated by the recovery (RFC 6582).
        cwnd_ = recovery_.enter(e.highest_sent, ssthresh_, smss_);
        return action::retransmit;
    }

    /// The sender found a loss by SACK or time and runs the recovery (events.hpp): the
    /// same reduction, with cwnd = ssthresh (RFC 9438 §4.6; RFC 6675 §5 step 4.2).
    void on_loss(const loss_event& e) noexcept
    {
        recovery_.note_ack(e.una);
        reduce(e.flight_size);
        recovery_.enter(e.highest_sent, ssthresh_, smss_, true);
        cwnd_ = ssthresh_;
    }

    void on_timeout(std::uint32_t flight_size, instant) noexcept
    {
        if (timeouts_.first_timeout()) {
            // RFC 9438 §4.8: "CUBIC follows Reno to reduce cwnd [RFC5681], but sets
            // ssthresh using β_cubic (same as in Section 4.6)". In recovery cwnd is
            // inflated; cwnd_prior stays what it was when recovery began.
            if (!recovery_.active()) cwnd_prior_ = static_cast<double>(cwnd_);
            ssthresh_ = reduced(flight_size);
        }
        cwnd_ = smss_;  // RFC 5681 §3.1: the loss window, one segment
        recovery_.on_timeout(flight_size);
        // §4.8: the first congestion avoidance stage after a timeout starts with K = 0
        // and W_max = W_est = cwnd at its beginning.
        after_timeout_ = true;
        end_epoch();
        growth_.on_timeout();
        hystart_.restart();
    }

    void on_idle(instant) noexcept
    {
        // RFC 5681 §4.1: RW = min(IW, cwnd). The epoch ends too: RFC 9438 §5.8, the time
        // in Figure 1 "MUST NOT include periods during which cwnd has not been updated due
        // to application-limited behavior".
        cwnd_ = std::min(cwnd_, iw_);
        end_epoch();
        growth_.restart();
        hystart_.restart();
    }

private:
    /// RFC 9438 §4.6 Figure 5: max(flight_size·β_cubic, 2·SMSS), in integers as 7/10
    /// (0.7 has no exact binary form: 146000 · 0.7 is 102199.99999999999 in double).
    std::uint32_t reduced(std::uint32_t flight_size) const noexcept
    {
        static_assert(beta == 0.7);
        const auto s = static_cast<std::uint32_t>(std::uint64_t{flight_size} * 7 / 10);
        return std::max(s, 2 * smss_);
    }

    // A congestion event found by duplicates or by the sender: W_max, cwnd_prior, ssthresh.
    void reduce(std::uint32_t flight) noexcept
    {
        // RFC 9438 §4.7 fast convergence: a loss below the last W_max means a new flow is
        // taking its share, so give up some more: W_max = cwnd·(1 + β_cubic)/2.
        const double w = static_cast<double>(cwnd_);
        w_max_ = w < w_max_ ? w * (1 + beta) / 2 : w;
        // RFC 9438 §4.6 Figure 5: ssthresh = flight_size·β_cubic, at least 2 SMSS;
        // cwnd_prior = cwnd. FlightSize leaves out limited transmit (RFC 5681 §3.2 step 2).
        cwnd_prior_ = w;
        ssthresh_ = reduced(flight);
        end_epoch();
        after_timeout_ = false;
        growth_.restart();
        hystart_.on_loss();
    }

    void end_epoch() noexcept { in_epoch_ = false; }

    void take_rtt_sample(duration r) noexcept
    {
        if (r <= duration::zero()) return;
        // RFC 6298 §2.2–§2.3's smoothing (α = 1/8): RFC 9438 §4.2 asks for "the smoothed
        // round-trip time", which the policy cannot read from the sender.
        srtt_ = srtt_ == duration::zero() ? r : srtt_ + (r - srtt_) / 8;
    }

    void begin_epoch(instant now) noexcept
    {
        in_epoch_ = true;
        epoch_start_ = now;
        cwnd_epoch_ = static_cast<double>(cwnd_);
        window_ = cwnd_epoch_;
        if (after_timeout_ || w_max_ <= cwnd_epoch_) {
            // §4.8 after a timeout: K = 0, W_max = cwnd_epoch. The same when cwnd has
            // grown past W_max (slow start after a reduction, or no reduction yet):
            // Figure 2 would take the cube root of a negative distance; the curve starts
            // on its plateau and grows convexly from there.
            w_max_ = cwnd_epoch_;
            k_ = 0;
        } else {
            // §4.2 Figure 2: K = cubic_root((W_max - cwnd_epoch)/C).
            k_ = std::cbrt((w_max_ - cwnd_epoch_) / (c * static_cast<double>(smss_)));
        }
        // §4.3: "W_est is set equal to cwnd_epoch at the start of the congestion
        // avoidance stage"; §4.8 the same after a timeout.
        w_est_ = cwnd_epoch_;
        after_timeout_ = false;
    }

    void congestion_avoidance(const ack_event& e) noexcept
    {
        if (!in_epoch_) begin_epoch(e.now);
        const double t = std::chrono::duration<double>(e.now - epoch_start_).count();
        const double acked = static_cast<double>(e.bytes_acked);
        const double s = static_cast<double>(smss_);
        // §4.3 Figure 4: W_est += α_cubic·segments_acked/cwnd (in bytes: ·SMSS); "Once
        // W_est has grown to reach the cwnd at the time of most recently setting ssthresh
        // ... the sender SHOULD set α_cubic to 1".
        const double a = w_est_ >= cwnd_prior_ ? 1.0 : alpha;
        w_est_ += a * s * acked / window_;
        if (w_cubic(t) < w_est_) {
            // §4.3: in the Reno-friendly region "cwnd SHOULD be set to W_est". tcpx never
            // lowers cwnd on an ACK: were cwnd above W_est (it led W_cubic(t) by the
            // target's one RTT), it stays.
            window_ = std::max(window_, w_est_);
        } else {
            // §4.2: the target is W_cubic one RTT ahead, bounded to [cwnd, 1.5·cwnd] so the
            // increase rate never decreases and stays below slow start's.
            const double rtt = std::chrono::duration<double>(srtt_).count();
            const double target = std::clamp(w_cubic(t + rtt), window_, 1.5 * window_);
            // §4.4 (concave, cwnd < W_max) and §4.5 (convex): "cwnd MUST be incremented
            // by (target - cwnd)/cwnd for each received new ACK" — per segment acknowledged,
            // so an ACK for N bytes moves it (target - cwnd)·N/cwnd bytes.
            window_ += (target - window_) * acked / window_;
        }
        window_ = std::min(window_, static_cast<double>(UINT32_MAX));
        cwnd_ = static_cast<std::uint32_t>(window_);
    }

    std::uint32_t smss_;
    std::uint32_t iw_;
    std::uint32_t cwnd_;
    std::uint32_t ssthresh_ = UINT32_MAX;  // RFC 5681 §3.1: "arbitrarily high"
    newreno_recovery recovery_;
    detail::reno_growth growth_;  // slow start only
    detail::flight_before_limited_transmit flight_;
    detail::timeout_series timeouts_;
    detail::hystart_pp hystart_;

    // RFC 9438 §4.1.2, bytes.
    double window_ = 0;      ///< cwnd in congestion avoidance, unrounded
    double w_max_ = 0;
    double cwnd_prior_ = 0;
    double cwnd_epoch_ = 0;
    double k_ = 0;           ///< seconds
    double w_est_ = 0;
    instant epoch_start_{};  ///< t_epoch
    duration srtt_{0};
    bool in_epoch_ = false;
    bool after_timeout_ = false;
};

static_assert(congestion_control<cubic>);

}  // namespace tcpx::cc
