// tcpx/device/impairment.hpp — what the impaired<D> decorator does to packets
// (device/impaired.hpp), as plain data.
//
// RFCs to have open: none define these; they model the network a TCP must survive:
// loss and duplication (RFC 9293 §3.10.7.4 handles both), reordering (RFC 5681 §3.2
// duplicate ACKs), corruption (the checksums of RFC 791 §3.1 and RFC 9293 §3.1),
// and a rate-limited drop-tail bottleneck (RFC 5681 congestion control, RFC 7567 §2).
//
// Each direction is impaired independently, in this order (as Linux netem does):
//   1. loss         dropped with probability `loss`
//   2. duplicate    with probability `duplicate`, a second copy follows the first;
//                   each copy then takes the steps below on its own
//   3. bottleneck   if rate_bps != 0: serialised at that rate behind the packets
//                   before it; dropped if `queue_packets` are already waiting
//   4. corrupt      with probability `corrupt`, one uniformly chosen bit flips
//   5. delay        + `delay` + a uniform jitter in [-jitter, +jitter] (never below
//                   zero in total), but never before the packet before it: jitter
//                   alone does not reorder
//   6. reorder      with probability `reorder`, held `reorder_delay` longer than
//                   its turn, so packets behind it overtake it
#pragma once

#include <cstddef>
#include <cstdint>

#include <tcpx/time.hpp>

namespace tcpx::devices {

/// One direction's impairments. All zero (the default): packets pass untouched.
struct impairment {
    double loss = 0;                        ///< probability a packet is dropped
    double duplicate = 0;                   ///< probability a packet is sent twice
    double reorder = 0;                     ///< probability a packet is held back
    duration reorder_delay = std::chrono::milliseconds{1};  ///< extra wait of a reordered packet
    duration delay = duration{0};           ///< one-way delay added to every packet
    duration jitter = duration{0};          ///< delay varies uniformly by up to this much
    double corrupt = 0;                     ///< probability one bit of a packet flips
    std::uint64_t rate_bps = 0;             ///< bottleneck rate in bit/s; 0: unlimited
    std::size_t queue_packets = 1000;       ///< drop-tail limit of the bottleneck queue

    /// True when packets pass unchanged and at once (nothing to hold or draw).
    constexpr bool transparent() const noexcept
    {
        return loss <= 0 && duplicate <= 0 && reorder <= 0 && corrupt <= 0 &&
               delay <= duration::zero() && jitter <= duration::zero() && rate_bps == 0;
    }
};

struct impairment_config {
    // (The {} let `impairment_config{.receive = {...}}` omit the other direction
    // without g++'s -Wmissing-field-initializers.)
    impairment transmit{};   ///< packets the stack sends (towards the inner device)
    impairment receive{};    ///< packets the inner device delivers (towards the stack)
    std::uint64_t seed = 1;  ///< same seed and same calls: the same packets, bit for bit
    /// Bound on the bytes of packets held back (delayed, queued, reordered), both
    /// directions together, counted as ring footprints (the packet plus 24 to 31 bytes). A packet
    /// that would exceed it is dropped and counted as dropped_store_full.
    std::size_t max_held_bytes = std::size_t{16} << 20;
};

/// One direction's counters. Every packet that enters is, in the end, exactly one
/// of: lost, dropped_queue, dropped_store_full, dropped_inner, delivered, or still
/// held; a duplicate is one more packet entering.
struct impairment_counters {
    std::uint64_t lost = 0;                ///< dropped by `loss`
    std::uint64_t duplicated = 0;          ///< extra copies made by `duplicate`
    std::uint64_t reordered = 0;           ///< packets held back by `reorder`
    std::uint64_t corrupted = 0;           ///< packets with one bit flipped
    std::uint64_t dropped_queue = 0;       ///< drop-tail at the bottleneck queue
    std::uint64_t dropped_store_full = 0;  ///< no room under max_held_bytes
    std::uint64_t dropped_inner = 0;       ///< transmit: the inner device had no buffer
    std::uint64_t delivered = 0;           ///< handed on (to the inner device, or to f)
};

}  // namespace tcpx::devices
