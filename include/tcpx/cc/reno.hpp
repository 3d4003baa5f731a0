// tcpx/cc/reno.hpp — Reno congestion control, RFC 5681: the policy every tcpx stack
// gets unless it names another. Have open: RFC 5681 §2–§4, RFC 3465 (appropriate
// byte counting), RFC 3042 (limited transmit), RFC 6928 (ten-segment initial window).
//
// What each RFC 5681 rule is, and where it lives:
//   §3.1 IW (eq. 1), or RFC 6928's     cc::initial_window(init): the sender passes the
//                                      bytes it chose (config::initial_window_segments)
//   §3.1 slow start, RFC 3465 L=2*SMSS detail::reno_growth::slow_start
//   §3.1 congestion avoidance (eq. 3)  detail::reno_growth::congestion_avoidance
//   §2   duplicate ACK, five conditions the connection (process_duplicate_ack)
//   §3.2 step 1, limited transmit      the connection: on the 1st and 2nd duplicate it may
//                                      send one new segment each beyond cwnd; cwnd itself
//                                      "MUST NOT" change (RFC 3042 §2), so cwnd() stays the
//                                      RFC's cwnd and traces show no phantom growth
//   §3.2 steps 2–3 fast retransmit     on_duplicate_ack, count 3: eq. 4, retransmit, inflate
//   §3.2 step 4 inflation              on_duplicate_ack in recovery
//   §3.2 step 6 deflation              on_ack in recovery: the first ACK of new data ends it
//   §3.1 eq. 4 and LW after an RTO     on_timeout (ssthresh held on repeated timeouts)
//   §4.1 restart after idle            on_idle: RW = min(IW, cwnd)
//   RFC 6675 §5 step 4.2 (SACK)        on_loss: eq. 4, cwnd = ssthresh; the sender
//                                      recovers, paced by PRR (tcp/prr.hpp)
//
// Reno ends recovery at the first ACK of new data, so a second loss in the same
// window needs three more duplicates (a second halving) or the retransmission timer.
// cc::newreno (RFC 6582) repairs it on the partial ACK instead.
//
// Integer arithmetic throughout: every quantity is a byte count.
#pragma once

#include <algorithm>
#include <cstdint>

#include <tcpx/cc/detail/hystart.hpp>
#include <tcpx/cc/detail/window.hpp>
#include <tcpx/cc/events.hpp>
#include <tcpx/concepts.hpp>

namespace tcpx::cc {

/// RFC 5681 Reno. Models tcpx::congestion_control.
class reno {
public:
    explicit reno(init i) noexcept
        : smss_{std::max<std::uint32_t>(i.smss, 1)}, iw_{cc::initial_window(i)}, cwnd_{iw_}, hystart_{i.hystart}
    {
    }

    /// RFC 5681 §3.1 eq. 1 (kept here for callers that name it through the policy).
    static constexpr std::uint32_t rfc5681_initial_window(std::uint32_t smss) noexcept
    {
        return cc::rfc5681_initial_window(smss);
    }

    std::uint32_t cwnd() const noexcept { return cwnd_; }
    std::uint32_t ssthresh() const noexcept { return ssthresh_; }
    bool in_recovery() const noexcept { return in_recovery_; }
    std::uint32_t smss() const noexcept { return smss_; }
    std::uint32_t initial_window() const noexcept { return iw_; }

    action on_ack(const ack_event& e) noexcept
    {
        timeouts_.on_ack();
        if (in_recovery_) {
            // RFC 5681 §3.2 step 6: "When the next ACK arrives that acknowledges previously
            // unacknowledged data, a TCP MUST set cwnd to ssthresh" — deflate, recovery ends.
            in_recovery_ = false;
            cwnd_ = ssthresh_;
            growth_.restart();
            return action::none;
        }
        // RFC 9406: slow start with HyStart++; RFC 5681 §3.1 congestion avoidance.
        cwnd_ = cwnd_ < ssthresh_ ? detail::hystart_slow_start(hystart_, growth_, e, cwnd_, ssthresh_, smss_)
                                  : growth_.on_ack(cwnd_, ssthresh_, e.bytes_acked, smss_);
        return action::none;
    }

    action on_duplicate_ack(const duplicate_ack_event& e) noexcept
    {
        const std::uint32_t flight = flight_.observe(e);
        if (in_recovery_) {
            // RFC 5681 §3.2 step 4: each further duplicate inflates cwnd by SMSS, for the
            // segment that left the network.
            cwnd_ = detail::saturating_add(cwnd_, smss_);
            return action::none;
        }
        // RFC 5681 §3.2 step 1: the first two duplicates leave cwnd alone (limited
        // transmit is the sender's, RFC 3042 §2). Only the third starts recovery.
        if (e.count != 3) return action::none;
        // Step 2: ssthresh per eq. 4, without what limited transmit sent.
        ssthresh_ = detail::halved_flight(flight, smss_);
        // Step 3: retransmit the segment at SND.UNA; cwnd = ssthresh + 3*SMSS for the
        // three segments the receiver holds.
        cwnd_ = detail::saturating_add(ssthresh_, 3 * smss_);
        in_recovery_ = true;
        growth_.restart();
        hystart_.on_loss();
        return action::retransmit;
    }

    /// The sender found a loss by SACK or time and runs the recovery (events.hpp):
    /// eq. 4 for ssthresh, cwnd = ssthresh (RFC 6675 §5 step 4.2); the next ACK shown
    /// ends recovery as §3.2 step 6 does.
    void on_loss(const loss_event& e) noexcept
    {
        ssthresh_ = detail::halved_flight(e.flight_size, smss_);
        cwnd_ = ssthresh_;
        in_recovery_ = true;
        growth_.restart();
        hystart_.on_loss();
    }

    void on_timeout(std::uint32_t flight_size, instant) noexcept
    {
        // RFC 5681 §3.1 eq. 4 on the first timeout of a segment; "held constant" on the
        // timeouts of its retransmissions.
        if (timeouts_.first_timeout()) ssthresh_ = detail::halved_flight(flight_size, smss_);
        // "Furthermore, upon a timeout cwnd MUST be set to no more than the loss window,
        // LW, which equals 1 full-sized segment (regardless of the value of IW)."
        cwnd_ = smss_;
        in_recovery_ = false;
        growth_.on_timeout();
        hystart_.restart();
    }

    void on_idle(instant) noexcept
    {
        // RFC 5681 §4.1: a TCP that has not sent for more than an RTO "SHOULD set cwnd to
        // no more than RW before beginning transmission", RW = min(IW, cwnd).
        cwnd_ = std::min(cwnd_, iw_);
        growth_.restart();
        hystart_.restart();
    }

    /// RFC 9406: where HyStart++ is (slow start, CSS, or off after a loss).
    detail::hystart_pp::phase hystart_phase() const noexcept { return hystart_.current(); }

private:
    std::uint32_t smss_;
    std::uint32_t iw_;
    std::uint32_t cwnd_;
    // RFC 5681 §3.1: "the initial value of ssthresh SHOULD be set arbitrarily high".
    std::uint32_t ssthresh_ = UINT32_MAX;
    detail::reno_growth growth_;
    detail::flight_before_limited_transmit flight_;
    detail::timeout_series timeouts_;
    detail::hystart_pp hystart_;
    bool in_recovery_ = false;
};

static_assert(congestion_control<reno>);

}  // namespace tcpx::cc
