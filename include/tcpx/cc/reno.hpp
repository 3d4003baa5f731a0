// tcpx/cc/reno.hpp — Reno congestion control, RFC 5681: the policy every tcpx stack
// gets unless it names another. Have open: RFC 5681 §2–§4, RFC 3465 (appropriate
// byte counting), RFC 6928 (ten-segment initial window).
//
// Integer arithmetic throughout: every quantity is a byte count.
#pragma once

#include <algorithm>
#include <cstdint>

#include <tcpx/cc/events.hpp>

namespace tcpx::cc {

class reno {
public:
    explicit reno(init i) noexcept : smss_{std::max<std::uint32_t>(i.smss, 1)}
    {
        cwnd_ = i.initial_window != 0 ? i.initial_window : rfc5681_initial_window(smss_);
    }

    /// RFC 5681 §3.1 eq. 1: IW by SMSS.
    static constexpr std::uint32_t rfc5681_initial_window(std::uint32_t smss) noexcept
    {
        if (smss > 2190) return 2 * smss;
        if (smss > 1095) return 3 * smss;
        return 4 * smss;
    }

    std::uint32_t cwnd() const noexcept { return cwnd_; }
    std::uint32_t ssthresh() const noexcept { return ssthresh_; }
    bool in_recovery() const noexcept { return in_recovery_; }

    action on_ack(const ack_event& e) noexcept
    {
        if (in_recovery_) {
            // RFC 5681 §3.2 step 6: the ACK of new data ends recovery; deflate the window.
            in_recovery_ = false;
            cwnd_ = ssthresh_;
            return action::none;
        }
        if (cwnd_ < ssthresh_) {
            // RFC 5681 §3.1 slow start, with RFC 3465 §2.2 byte counting limited to L = 2*SMSS.
            cwnd_ = saturating_add(cwnd_, std::min(e.bytes_acked, 2 * smss_));
        } else {
            // RFC 5681 §3.1 eq. 3 congestion avoidance: about one SMSS per RTT, counted
            // in acknowledged bytes (RFC 3465 §2.1) so delayed ACKs do not slow growth.
            acked_in_ca_ += e.bytes_acked;
            if (acked_in_ca_ >= cwnd_) {
                acked_in_ca_ -= cwnd_;
                cwnd_ = saturating_add(cwnd_, smss_);
            }
        }
        return action::none;
    }

    action on_duplicate_ack(const duplicate_ack_event& e) noexcept
    {
        if (in_recovery_) {
            // RFC 5681 §3.2 step 4: each further duplicate inflates the window by SMSS.
            cwnd_ = saturating_add(cwnd_, smss_);
            return action::none;
        }
        if (e.count != 3) return action::none;
        // RFC 5681 §3.2 step 2 eq. 4 and step 3: halve, retransmit, inflate by the
        // three segments that left the network.
        ssthresh_ = std::max(e.flight_size / 2, 2 * smss_);
        cwnd_ = ssthresh_ + 3 * smss_;
        in_recovery_ = true;
        acked_in_ca_ = 0;
        return action::retransmit;
    }

    void on_timeout(std::uint32_t flight_size, instant) noexcept
    {
        // RFC 5681 §3.1 eq. 4 and the loss window of one segment.
        ssthresh_ = std::max(flight_size / 2, 2 * smss_);
        cwnd_ = smss_;
        in_recovery_ = false;
        acked_in_ca_ = 0;
    }

    void on_idle(instant) noexcept
    {
        // RFC 5681 §4.1: after an idle period longer than an RTO, restart from
        // RW = min(IW, cwnd).
        cwnd_ = std::min(cwnd_, rfc5681_initial_window(smss_));
    }

private:
    static std::uint32_t saturating_add(std::uint32_t a, std::uint32_t b) noexcept
    {
        return a > UINT32_MAX - b ? UINT32_MAX : a + b;
    }

    std::uint32_t smss_;
    std::uint32_t cwnd_ = 0;
    // RFC 5681 §3.1: "the initial value of ssthresh SHOULD be set arbitrarily high".
    std::uint32_t ssthresh_ = UINT32_MAX;
    std::uint32_t acked_in_ca_ = 0;
    bool in_recovery_ = false;
};

}  // namespace tcpx::cc
