// tcpx/cc/events.hpp — what the sender tells a congestion-control policy, and what
// the policy may answer. Have open: RFC 5681 §2 (definitions) and §3, RFC 6582,
// RFC 6928 (the ten-segment initial window).
//
// The policy owns its numbers (cwnd, ssthresh, recovery state) and never writes
// sender fields; the sender never reaches into the policy. The one thing a policy
// asks of the sender is "retransmit the first unacknowledged segment now"
// (fast retransmit, RFC 5681 §3.2 step 3; NewReno partial ACKs, RFC 6582 §3.2 step 3).
//
// Sequence numbers below are the sender's: SND.UNA is the oldest unacknowledged
// octet, SND.MAX the highest value SND.NXT has had (what has been sent at all).
#pragma once

#include <algorithm>
#include <cstdint>

#include <tcpx/time.hpp>
#include <tcpx/wire/seq32.hpp>

namespace tcpx::cc {

/// RFC 5681 §3.1 eq. 1: the initial window by SMSS — 2, 3 or 4 segments.
constexpr std::uint32_t rfc5681_initial_window(std::uint32_t smss) noexcept
{
    if (smss > 2190) return 2 * smss;
    if (smss > 1095) return 3 * smss;
    return 4 * smss;
}

/// RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)) — ten segments of up to 1460 bytes.
constexpr std::uint32_t rfc6928_initial_window(std::uint32_t smss) noexcept
{
    return std::min(10 * smss, std::max(2 * smss, std::uint32_t{14600}));
}

/// Fixed when the connection is established.
struct init {
    std::uint32_t smss = 536;            ///< sender maximum segment size, bytes
    std::uint32_t initial_window = 0;    ///< bytes; 0: RFC 5681 §3.1's rule from smss
    seq32 iss{};                         ///< our initial send sequence number (RFC 6582 §3.2 step 1)
    bool hystart = true;                 ///< RFC 9406 HyStart++ in slow start (config::hystart)
};

/// The initial window an init asks for (RFC 5681 §3.1, or what the sender chose:
/// RFC 6928's, or one segment after a lost SYN).
constexpr std::uint32_t initial_window(const init& i) noexcept
{
    return i.initial_window != 0 ? i.initial_window : rfc5681_initial_window(std::max<std::uint32_t>(i.smss, 1));
}

/// An ACK that acknowledged new data (SND.UNA advanced).
struct ack_event {
    seq32 ack;                       ///< SEG.ACK: the new SND.UNA
    std::uint32_t bytes_acked = 0;   ///< how far SND.UNA advanced (the old SND.UNA is ack - bytes_acked)
    std::uint32_t flight_size = 0;   ///< RFC 5681 §2 FlightSize before this ACK: SND.MAX - old SND.UNA
    duration rtt{0};                 ///< an RTT sample this ACK gave, or 0
    instant now{};

    /// SND.MAX, the highest sequence number sent so far (exclusive), from the two
    /// counts above: old SND.UNA + FlightSize.
    constexpr seq32 highest_sent() const noexcept { return ack - bytes_acked + flight_size; }
    /// FlightSize after this ACK: "the amount of data presently outstanding" (RFC 6582 §3.2 step 3).
    constexpr std::uint32_t flight_after() const noexcept
    {
        return flight_size > bytes_acked ? flight_size - bytes_acked : 0;
    }
};

/// A duplicate ACK by RFC 5681 §2's definition (the sender checked all five conditions).
struct duplicate_ack_event {
    seq32 ack;                       ///< SEG.ACK == SND.UNA
    std::uint32_t count = 0;         ///< consecutive duplicates so far, this one included
    /// FlightSize now, including anything limited transmit (RFC 3042) sent on the first
    /// two duplicates: a policy leaves that out of eq. 4 itself (RFC 5681 §3.2 step 2).
    std::uint32_t flight_size = 0;
    seq32 highest_sent;              ///< SND.MAX (exclusive): RFC 6582's "recover" is highest_sent - 1
    instant now{};
};

/// A loss the sender found itself, from SACK information or by time (RFC 6675 §5
/// step 4, RFC 8985 §6), on a connection whose loss recovery it runs: it retransmits
/// what the scoreboard says and paces the reduction by PRR (RFC 6937). The policy only
/// answers how far ssthresh falls, as for the third duplicate ACK, and sets
/// cwnd = ssthresh (RFC 6675 §5 step 4.2). The next on_ack it sees is the one that
/// ends recovery (SND.UNA reaching highest_sent): ACKs inside recovery are not shown.
struct loss_event {
    seq32 una;                       ///< SND.UNA
    std::uint32_t flight_size = 0;   ///< RFC 5681 FlightSize: SND.MAX - SND.UNA
    seq32 highest_sent;              ///< SND.MAX (exclusive): recovery ends when it is acknowledged
    instant now{};
};

/// What the sender should do after telling the policy of an event.
enum class action : std::uint8_t {
    none,
    retransmit,  ///< send the segment at SND.UNA again, now, regardless of cwnd
};

}  // namespace tcpx::cc
