// tcpx/cc/events.hpp — what the sender tells a congestion-control policy, and what
// the policy may answer. Have open: RFC 5681 §2 (definitions) and §3, RFC 6582.
//
// The policy owns its numbers (cwnd, ssthresh, recovery state) and never writes
// sender fields; the sender never reaches into the policy. The one thing a policy
// asks of the sender is "retransmit the first unacknowledged segment now"
// (fast retransmit, RFC 5681 §3.2 step 2; NewReno partial ACKs, RFC 6582 §3.2).
#pragma once

#include <cstdint>

#include <tcpx/time.hpp>
#include <tcpx/wire/seq32.hpp>

namespace tcpx::cc {

/// Fixed when the connection is established.
struct init {
    std::uint32_t smss = 536;            ///< sender maximum segment size, bytes
    std::uint32_t initial_window = 0;    ///< bytes; 0: RFC 5681 §3.1's rule from smss
};

/// An ACK that acknowledged new data (SND.UNA advanced).
struct ack_event {
    seq32 ack;                       ///< SEG.ACK
    std::uint32_t bytes_acked = 0;   ///< how far SND.UNA advanced
    std::uint32_t flight_size = 0;   ///< RFC 5681 §2 FlightSize before this ACK
    duration rtt{0};                 ///< an RTT sample this ACK gave, or 0
    instant now{};
};

/// A duplicate ACK by RFC 5681 §2's definition (the sender checked all five conditions).
struct duplicate_ack_event {
    seq32 ack;
    std::uint32_t count = 0;         ///< consecutive duplicates so far, this one included
    std::uint32_t flight_size = 0;
    seq32 highest_sent;              ///< SND.NXT's highest value: RFC 6582's "recover"
    instant now{};
};

/// What the sender should do after telling the policy of an event.
enum class action : std::uint8_t {
    none,
    retransmit,  ///< send the segment at SND.UNA again, now, regardless of cwnd
};

}  // namespace tcpx::cc
