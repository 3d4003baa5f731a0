// tcpx/cc/detail/window.hpp — the pieces of RFC 5681 that cc::reno, cc::newreno and
// cc::cubic share: cwnd growth outside loss recovery (slow start with appropriate byte
// counting, congestion avoidance by byte counting), the FlightSize eq. 4 may use at
// the third duplicate ACK, and the held ssthresh of repeated timeouts. Not API.
//
// Have open: RFC 5681 §3.1–§3.2, RFC 3465 §2 (appropriate byte counting), RFC 3042 §2.
#pragma once

#include <algorithm>
#include <cstdint>

#include <tcpx/cc/events.hpp>

namespace tcpx::cc::detail {

constexpr std::uint32_t saturating_add(std::uint32_t a, std::uint32_t b) noexcept
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/// RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS).
constexpr std::uint32_t halved_flight(std::uint32_t flight_size, std::uint32_t smss) noexcept
{
    return std::max(flight_size / 2, 2 * smss);
}

/// Growth of cwnd on an ACK of new data outside loss recovery (RFC 5681 §3.1).
class reno_growth {
public:
    /// RFC 5681 §3.1: slow start while cwnd < ssthresh, congestion avoidance from there
    /// ("when cwnd and ssthresh are equal, the sender may use either"). Returns the new cwnd.
    constexpr std::uint32_t on_ack(std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t bytes_acked,
                                   std::uint32_t smss) noexcept
    {
        return cwnd < ssthresh ? slow_start(cwnd, bytes_acked, smss) : congestion_avoidance(cwnd, bytes_acked, smss);
    }

    /// RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2: cwnd += min(N, L), L = 2*SMSS — but
    /// L = 1*SMSS in the slow start that follows a retransmission timeout (RFC 3465
    /// §2.3): the ACK of a retransmission may cover segments that left long ago.
    constexpr std::uint32_t slow_start(std::uint32_t cwnd, std::uint32_t bytes_acked, std::uint32_t smss) noexcept
    {
        const std::uint32_t limit = after_timeout_ ? smss : 2 * smss;
        return saturating_add(cwnd, std::min(bytes_acked, limit));
    }

    /// RFC 5681 §3.1 eq. 3, done the RECOMMENDED way (RFC 3465 §2.1): count acknowledged
    /// bytes; each time they reach cwnd, add SMSS — at most one SMSS per RTT, however
    /// the receiver spaces its ACKs.
    constexpr std::uint32_t congestion_avoidance(std::uint32_t cwnd, std::uint32_t bytes_acked,
                                                 std::uint32_t smss) noexcept
    {
        slow_start_ended();
        bytes_acked_ = saturating_add(bytes_acked_, bytes_acked);
        if (bytes_acked_ >= cwnd) {
            bytes_acked_ -= cwnd;
            cwnd = saturating_add(cwnd, smss);
        }
        return cwnd;
    }

    /// cwnd reached ssthresh: the slow start a timeout began is over, and with it
    /// RFC 3465 §2.3's L = 1*SMSS. A policy with its own congestion avoidance calls this.
    constexpr void slow_start_ended() noexcept { after_timeout_ = false; }
    /// cwnd was cut (loss, or restart after idle): the byte count starts again.
    constexpr void restart() noexcept { bytes_acked_ = 0; }
    /// RFC 3465 §2.1: "bytes_acked" is reset on a retransmission timeout; and L = 1*SMSS
    /// until slow start ends.
    constexpr void on_timeout() noexcept
    {
        bytes_acked_ = 0;
        after_timeout_ = true;
    }

private:
    std::uint32_t bytes_acked_ = 0;  ///< RFC 3465 §2.1 "bytes_acked", in congestion avoidance
    bool after_timeout_ = false;
};

/// RFC 5681 §3.2 step 2: "When [RFC3042] is in use, additional data sent in limited
/// transmit MUST NOT be included in this calculation" (of ssthresh at the third
/// duplicate ACK). Limited transmit sends only after the first and second duplicate,
/// so the FlightSize the first one reported leaves it out. Any other data sent since
/// would have counted, so this errs low, as eq. 4 allows ("no more than").
class flight_before_limited_transmit {
public:
    /// Call for every duplicate ACK; returns the FlightSize for eq. 4.
    constexpr std::uint32_t observe(const duplicate_ack_event& e) noexcept
    {
        if (e.count <= 1) first_ = e.flight_size;
        return std::min(first_, e.flight_size);
    }

private:
    std::uint32_t first_ = UINT32_MAX;
};

/// RFC 5681 §3.1: "when a TCP sender detects segment loss using the retransmission
/// timer and the given segment has already been retransmitted by way of the
/// retransmission timer at least once, the value of ssthresh is held constant."
/// Holds whether the timer has fired since the last ACK of new data.
class timeout_series {
public:
    /// A timeout: true if it is the first for the oldest segment (ssthresh may be cut).
    constexpr bool first_timeout() noexcept
    {
        const bool first = !backing_off_;
        backing_off_ = true;
        return first;
    }
    /// New data was acknowledged: the next timeout concerns another segment.
    constexpr void on_ack() noexcept { backing_off_ = false; }

private:
    bool backing_off_ = false;
};

}  // namespace tcpx::cc::detail
