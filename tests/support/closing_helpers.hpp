// Helpers for the closing-state, knob and stack-API scenario tests
// (tests/tcp/state_fin_wait.cpp, state_close_wait.cpp, state_closing.cpp,
// state_time_wait.cpp, knobs.cpp, stack_api.cpp), on top of scenario.hpp.
//
// Have open: RFC 9293 §3.5 (closing sequences), §3.10.4 (CLOSE), §3.10.7.4.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <doctest/doctest.h>

#include "scenario.hpp"

namespace tcpx::test {

/// RECEIVE that also reports its error code (scenario::receive drops it).
inline std::string receive_ec(scenario& t, socket s, std::error_code& ec, std::size_t max = 1 << 16)
{
    std::vector<std::uint8_t> buf(max);
    const std::size_t n = t.st.receive(s, buf, ec);
    return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

/// SEND that also reports its error code.
inline std::size_t send_ec(scenario& t, socket s, std::string_view text, std::error_code& ec)
{
    return t.st.send(s, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, ec);
}

/// `n` bytes of text, for payloads whose content does not matter.
inline std::string filler(std::size_t n, char c = 'x') { return std::string(n, c); }

/// The active handshake with options in the peer's SYN,ACK (scenario::establish_active
/// sends none, so the peer's MSS defaults to 536, RFC 9293 §3.7.1).
inline socket establish_active_with(scenario& t, std::optional<std::uint16_t> mss,
                                    std::optional<std::uint8_t> window_scale = {})
{
    const socket s = t.open_active();
    auto synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
    synack.options.mss = mss;
    synack.options.window_scale = window_scale;
    t.inject(synack);
    t.peer_nxt = t.peer_iss + 1;
    const captured ack = t.expect_one();
    REQUIRE(ack.flags() == ACK);
    REQUIRE(ack.ack() == t.peer_nxt);
    REQUIRE(t.st.state(s) == tcp::state::established);
    return s;
}

/// The stack opened passively (its listener `l` stays open), closed first, and holds
/// TIME-WAIT: the set-up of RFC 6191 / RFC 1122 §4.2.2.13 reopening.
inline socket establish_passive_then_time_wait(scenario& t, listener& l)
{
    l = t.open_passive();
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(t.st.state(s) == tcp::state::established);
    REQUIRE_FALSE(t.st.shutdown(s));
    const captured fin = t.expect_one();
    REQUIRE(fin.flags() == (FIN | ACK));
    REQUIRE(fin.seq() == t.stack_nxt);
    t.stack_nxt = t.stack_nxt + 1;
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));  // acknowledges ours, carries its own
    t.peer_nxt = t.peer_nxt + 1;
    const captured ack = t.expect_one();
    REQUIRE(ack.flags() == ACK);
    REQUIRE(ack.ack() == t.peer_nxt);
    REQUIRE(t.st.state(s) == tcp::state::time_wait);
    return s;
}
inline socket establish_passive_then_time_wait(scenario& t)
{
    listener l;
    return establish_passive_then_time_wait(t, l);
}

/// The deadline timer `k` of the connection behind `s` (tcpx::never if unarmed or stale).
inline instant deadline_of(const scenario& t, socket s, tcp::timer k)
{
    const auto* c = t.st.connection(s);
    return c == nullptr ? never : c->deadline(k);
}

}  // namespace tcpx::test
