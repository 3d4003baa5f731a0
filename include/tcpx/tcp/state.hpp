// tcpx/tcp/state.hpp — the eleven connection states of RFC 9293 §3.3.2.
#pragma once

#include <cstdint>
#include <string_view>

namespace tcpx::tcp {

enum class state : std::uint8_t {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};

/// The RFC's name for the state ("SYN-SENT"), for logs and tests.
constexpr std::string_view to_string(state s) noexcept
{
    switch (s) {
    case state::closed: return "CLOSED";
    case state::listen: return "LISTEN";
    case state::syn_sent: return "SYN-SENT";
    case state::syn_received: return "SYN-RECEIVED";
    case state::established: return "ESTABLISHED";
    case state::fin_wait_1: return "FIN-WAIT-1";
    case state::fin_wait_2: return "FIN-WAIT-2";
    case state::close_wait: return "CLOSE-WAIT";
    case state::closing: return "CLOSING";
    case state::last_ack: return "LAST-ACK";
    case state::time_wait: return "TIME-WAIT";
    }
    return "?";
}

/// RFC 9293 §3.3.2: the states after the handshake in which sequence numbers of
/// both sides are known ("synchronized").
constexpr bool is_synchronized(state s) noexcept
{
    switch (s) {
    case state::closed:
    case state::listen:
    case state::syn_sent:
    case state::syn_received: return false;
    case state::established:
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::close_wait:
    case state::closing:
    case state::last_ack:
    case state::time_wait: return true;
    }
    return false;
}

}  // namespace tcpx::tcp
