// Helpers for the data-transfer scenario tests (tests/tcp/state_established.cpp,
// flow_control.cpp, retransmission.cpp), on top of tests/support/scenario.hpp.
//
// The fixture's establish_active() answers the SYN at once and without options, so
// the send MSS is RFC 9293 §3.7.1's default of 536 and the handshake gives an RTT
// sample of zero. These tests want a realistic MSS (1460, so RFC 5681 §3.1 gives an
// initial window of 3 segments) and sometimes a chosen handshake RTT (RFC 6298 §2.2:
// the SYN-ACK's RTT is the first sample), so they open with establish() below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

#include <doctest/doctest.h>

#include "scenario.hpp"

namespace tcpx::test {

struct open_options {
    std::uint16_t mss = 1460;      ///< the MSS option in the peer's SYN-ACK
    std::uint16_t window = 65535;  ///< the peer's window, in the SYN-ACK and every later segment
    duration rtt{0};               ///< how long after the SYN the SYN-ACK arrives
};

/// Active open to ESTABLISHED with the peer's SYN-ACK carrying `o.mss`, sent `o.rtt`
/// after the SYN. Afterwards t.stack_nxt is the stack's first data byte and
/// t.peer_nxt the peer's.
inline socket establish(scenario& t, open_options o = {})
{
    const socket s = t.open_active();
    t.advance(o.rtt);
    t.peer_window = o.window;
    wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
    synack.options.mss = o.mss;
    t.inject(synack);
    t.peer_nxt = t.peer_iss + 1;
    const captured ack = t.expect_one();
    REQUIRE(ack.flags() == ACK);
    REQUIRE(ack.seq() == t.stack_nxt);
    REQUIRE(ack.ack() == t.peer_nxt);
    REQUIRE(t.st.state(s) == tcp::state::established);
    return s;
}

/// `n` bytes of a recognisable pattern, starting `from` bytes into it.
inline std::string pattern(std::size_t n, std::size_t from = 0)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (from + i) % 26);
    return s;
}

/// A data segment from the peer: ACK|PSH at `seq`, acknowledging `ack`.
inline void inject_data(scenario& t, seq32 seq, seq32 ack, std::string_view text)
{
    t.inject(t.segment(ACK | PSH, seq, ack), text);
}

/// receive() with its error code.
inline std::string receive_ec(scenario& t, socket s, std::error_code& ec, std::size_t max = 1 << 20)
{
    std::vector<std::uint8_t> buf(max);
    const auto n = t.st.receive(s, buf, ec);
    return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

/// The connection behind a socket (for stats(), snd(), rcv(), rtt(), deadline()).
inline const scenario::stack_type::connection_type& conn(scenario& t, socket s)
{
    const auto* c = t.st.connection(s);
    REQUIRE(c != nullptr);
    return *c;
}

/// Checks one captured segment field by field, naming it on failure.
inline void check_segment(const captured& c, tcp_flags flags, seq32 seq, seq32 ack, std::uint16_t window,
                          std::string_view text = {})
{
    INFO("segment: " << describe(c));
    CHECK(c.flags() == flags);
    CHECK(c.seq() == seq);
    CHECK(c.ack() == ack);
    CHECK(c.window() == window);
    CHECK(c.text() == text);
}

}  // namespace tcpx::test
