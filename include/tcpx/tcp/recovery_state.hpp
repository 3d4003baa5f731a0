// tcpx/tcp/recovery_state.hpp — what a SACK sender keeps about one flight (data sent and
// not all acknowledged yet): the scoreboard of the peer's blocks (RFC 6675), RACK's send
// log and latest delivery (RFC 8985 §6.1-§6.2), PRR's counts (RFC 6937), and the
// congestion policy as it stood before a recovery's reduction (RFC 3708 §3, RFC 9438
// §4.9's "_prior" values) — about a kilobyte that an idle connection does not need.
//
// The connection draws one from the stack's detail::block_pool when a flight begins
// and gives it back when the flight is all acknowledged, unless the last recovery can
// still be undone (a D-SACK for its retransmissions may arrive after the flight: the
// policy from before it is kept, the scoreboard and the log start afresh). With none
// free (config::max_recovery_states) a flight is recovered as without SACK, by the
// policy's RFC 5681 / RFC 6582 rules.
#pragma once

#include <tcpx/cc/events.hpp>
#include <tcpx/tcp/prr.hpp>
#include <tcpx/tcp/rack.hpp>
#include <tcpx/tcp/sack_scoreboard.hpp>

namespace tcpx::tcp {

template <class CC>
struct recovery_state {
    sack_scoreboard board;
    tcp::rack rack;
    tcp::prr prr;
    /// The policy before the current recovery's reduction, restored if D-SACK shows
    /// every retransmission of that recovery needless.
    CC cc_before_loss{cc::init{}};
    /// RFC 3522 §2 RetransmitTS: our TSval on the recovery's first retransmission.
    std::uint32_t first_retransmit_tsval = 0;
    /// The first ACK past the recovery's head was seen, and echoed an original's TSval.
    bool head_echo_seen = false;
    bool head_echo_original = false;
};

}  // namespace tcpx::tcp
