// Scenario tests: LISTEN (RFC 9293 §3.10.7.2), the listener's user calls (§3.10.1
// passive OPEN, accept, close) and its limits (DESIGN.md "Everything bounded").
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/handshake_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

listener listen_on(scenario& t, std::size_t backlog = 8)
{
    std::error_code ec;
    const listener l = t.st.listen(t.local_port, backlog, ec);
    REQUIRE_FALSE(ec);
    return l;
}

/// A SYN from peer port `port` with ISN `seq`; returns the stack's SYN-ACK.
captured syn_from(scenario& t, std::uint16_t port, seq32 seq)
{
    t.inject(from_port(t.segment(SYN, seq), port));
    const captured synack = t.expect_one();
    REQUIRE(synack.flags() == (SYN | ACK));
    REQUIRE(synack.tcp.destination_port == port);
    REQUIRE(synack.ack() == seq + 1);
    return synack;
}

/// The ACK from peer port `port` that completes the handshake `synack` started.
void complete_from(scenario& t, std::uint16_t port, const captured& synack)
{
    t.inject(from_port(t.segment(ACK, synack.ack(), synack.seq() + 1), port));
}

scenario scaling_scenario()
{
    config c = scenario_config();
    c.window_scaling = true;
    c.receive_buffer = 1 << 20;  // needs a shift of 5 to fit 16 bits (RFC 7323 §2.3)
    return scenario{c};
}

}  // namespace

TEST_CASE("listen_rst_is_ignored")
{
    // RFC 9293 §3.10.7.2 first: "An incoming RST should be ignored. Return."
    scenario t;
    listen_on(t);
    t.inject(t.segment(RST, t.peer_iss));
    t.inject(t.segment(RST | ACK, t.peer_iss, seq32{5}));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().resets_sent == 0);
    // Ignored, and counted: every segment the stack does not act on has a reason.
    CHECK(t.st.counters().dropped(drop_reason::listen_rst) == 2);
    CHECK(t.st.counters().dropped_total() == 2);
}

TEST_CASE("listen_ack_gets_rst_with_seq_from_the_ack")
{
    // RFC 9293 §3.10.7.2 second: "Any acknowledgment is bad if it arrives on a
    // connection still in the LISTEN state": <SEQ=SEG.ACK><CTL=RST>.
    scenario t;
    listen_on(t);
    t.inject(t.segment(ACK, t.peer_iss, seq32{5555}));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == seq32{5555});
    CHECK(rst.ack() == seq32{0});
    CHECK(rst.window() == 0);
    CHECK(rst.tcp.source_port == t.local_port);
    CHECK(rst.tcp.destination_port == t.peer_port);
    CHECK(t.st.counters().resets_sent == 1);
    CHECK(t.st.counters().no_listener_resets == 0);  // there is a listener
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("listen_syn_ack_gets_rst_because_the_ack_check_comes_first")
{
    // RFC 9293 §3.10.7.2: the ACK check (second) runs before the SYN check (third).
    scenario t;
    listen_on(t);
    t.inject(t.segment(SYN | ACK, t.peer_iss, seq32{31337}));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == seq32{31337});
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("listen_syn_gets_syn_ack_with_mss_and_window")
{
    // RFC 9293 §3.10.7.2 third: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ, send
    // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; §3.7.1: our MSS (MTU 1500 - 40 = 1460).
    scenario t;
    listen_on(t);
    t.inject(t.segment(SYN, t.peer_iss));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == t.peer_iss + 1);
    CHECK(synack.window() == 65535);  // 64 KiB buffer, no scaling: the field's maximum
    REQUIRE(synack.tcp.options.mss.has_value());
    CHECK(*synack.tcp.options.mss == 1460);
    CHECK_FALSE(synack.tcp.options.window_scale.has_value());  // config.window_scaling off
    CHECK(synack.payload.empty());
    CHECK(synack.tcp.source_port == t.local_port);
    CHECK(synack.tcp.destination_port == t.peer_port);
    CHECK(synack.ip.destination == t.peer_address);
    CHECK(t.st.connection_count() == 1);
    CHECK(t.st.counters().resets_sent == 0);
}

TEST_CASE("listen_syn_ack_announces_the_configured_mss")
{
    // RFC 9293 §3.7.1 / RFC 6691: the announced MSS is config.mss when it is below
    // what the device carries.
    config c = scenario_config();
    c.mss = 1200;
    scenario t{c};
    listen_on(t);
    t.inject(t.segment(SYN, t.peer_iss));
    const captured synack = t.expect_one();
    REQUIRE(synack.tcp.options.mss.has_value());
    CHECK(*synack.tcp.options.mss == 1200);
}

TEST_CASE("listen_syn_isn_differs_per_connection")
{
    // RFC 9293 §3.4.1 / RFC 6528: each connection draws its own ISN.
    scenario t;
    listen_on(t);
    const captured a = syn_from(t, 40000, seq32{1000});
    const captured b = syn_from(t, 40001, seq32{1000});
    CHECK(a.seq() != b.seq());
    CHECK(t.st.connection_count() == 2);
}

TEST_CASE("listen_syn_with_data_does_not_acknowledge_the_data")
{
    // RFC 9293 §3.10.7.2 third: text in a SYN may be queued or not; tcpx does not take
    // it, so the SYN-ACK acknowledges the SYN only and the peer sends the data again.
    scenario t;
    const listener l = listen_on(t);
    t.inject(t.segment(SYN, t.peer_iss), "early");
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == t.peer_iss + 1);
    CHECK(synack.payload.empty());
    t.inject(t.segment(ACK, t.peer_iss + 1, synack.seq() + 1));
    t.expect_nothing();
    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.receive(s).empty());
    // The peer's retransmission is the first data the connection sees.
    t.inject(t.segment(ACK | PSH, t.peer_iss + 1, synack.seq() + 1), "early");
    CHECK(t.receive(s) == "early");
}

TEST_CASE("listen_fin_is_dropped")
{
    // RFC 9293 §3.10.7.2 fourth: "Any other control or text-bearing segment (not
    // containing SYN) must have an ACK and thus would have been discarded by the ACK
    // processing ... drop the segment and return."
    scenario t;
    listen_on(t);
    t.inject(t.segment(FIN, t.peer_iss));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(t.st.counters().dropped(drop_reason::listen_not_syn) == 1);
}

TEST_CASE("listen_syn_with_fin_is_discarded_and_counted")
{
    // RFC 9293 would take SYN,FIN as a SYN and the FIN after it; no TCP sends one,
    // scanners do. Linux discards it (tcp_rcv_state_process), and so does tcpx:
    // no SYN-ACK, no half-open connection.
    scenario t;
    listen_on(t);
    t.inject(t.segment(SYN | FIN, t.peer_iss));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().dropped(drop_reason::listen_syn_fin) == 1);
}

TEST_CASE("listen_segment_without_control_bits_is_dropped")
{
    // RFC 9293 §3.10.7.2 fourth: text without SYN, RST or ACK is dropped.
    scenario t;
    listen_on(t);
    t.inject(t.segment(PSH, t.peer_iss), "stray");
    t.inject(t.segment(tcp_flags::none, t.peer_iss));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(t.st.counters().dropped(drop_reason::listen_not_syn) == 2);
}

TEST_CASE("listen_syn_with_window_scale_gets_window_scale_when_enabled")
{
    // RFC 7323 §2.2: a SYN,ACK carries the option only when the SYN did; the shift is
    // ours (1 MiB buffer: 5), the window in the SYN,ACK itself unscaled.
    scenario t = scaling_scenario();
    listen_on(t);
    wire::tcp_header syn = t.segment(SYN, t.peer_iss);
    syn.options.mss = 1460;
    syn.options.window_scale = 7;
    t.inject(syn);
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    REQUIRE(synack.tcp.options.window_scale.has_value());
    CHECK(*synack.tcp.options.window_scale == 5);
    CHECK(synack.window() == 65535);
}

TEST_CASE("listen_syn_without_window_scale_gets_none")
{
    // RFC 7323 §2.2: "A TCP MUST NOT send a Window Scale option in a <SYN,ACK> segment
    // unless it received one in the initial <SYN>".
    scenario t = scaling_scenario();
    listen_on(t);
    t.inject(t.segment(SYN, t.peer_iss));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK_FALSE(synack.tcp.options.window_scale.has_value());
    CHECK(synack.window() == 65535);
}

TEST_CASE("listen_syn_when_accept_queue_is_full_is_dropped_for_retry_without_cookies")
{
    // Bounded accept queue (DESIGN.md): with `backlog` finished connections waiting and
    // SYN cookies off, a new SYN is dropped and counted, as Linux drops it: the peer's
    // SYN retransmission gets in once accept() made room, where a reset would have
    // ended its connect(). (With cookies: syn_cookies.cpp.)
    config c = scenario_config();
    c.syn_cookies = syn_cookie_mode::never;
    scenario t{c};
    const listener l = listen_on(t, 1);
    const captured a = syn_from(t, 40000, seq32{1000});
    complete_from(t, 40000, a);
    t.expect_nothing();
    REQUIRE(t.st.counters().connections_accepted == 1);

    t.inject(from_port(t.segment(SYN, seq32{7000}), 40001));
    t.expect_nothing();
    CHECK(t.st.counters().accept_queue_overflows == 1);
    CHECK(t.st.counters().dropped(drop_reason::listen_queue_full) == 1);
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(t.st.connection_count() == 1);
    // accept() makes room; the peer's retransmitted SYN is answered.
    std::error_code ec;
    (void)t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    t.inject(from_port(t.segment(SYN, seq32{7000}), 40001));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == seq32{7001});
}

TEST_CASE("listen_handshake_completing_into_full_accept_queue_is_dropped_until_accept_makes_room")
{
    // The same bound checked when a handshake completes: three SYNs were answered while
    // the queue had room, two ACKs fill it, and the third ACK is dropped, as Linux drops
    // it (tcp_abort_on_overflow = 0), not reset: the connection stays in SYN-RECEIVED,
    // its SYN,ACK timer sends again, and the peer's answer gets in once accept() made room.
    scenario t;
    const listener l = listen_on(t, 2);
    const captured a = syn_from(t, 40000, seq32{1000});
    const captured b = syn_from(t, 40001, seq32{7000});
    complete_from(t, 40000, a);
    const captured c = syn_from(t, 40002, seq32{9000});
    complete_from(t, 40001, b);
    t.expect_nothing();
    complete_from(t, 40002, c);
    t.expect_nothing();
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(t.st.counters().syn_cookies_sent == 0);
    CHECK(t.st.counters().accept_queue_overflows == 1);
    CHECK(t.st.counters().dropped(drop_reason::listen_queue_full) == 1);
    CHECK(t.st.counters().connections_accepted == 2);
    CHECK(t.st.connection_count() == 3);

    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.st.connection(s)->id().remote_port == 40000);
    // The SYN,ACK's first retransmission, 1 s on; the peer answers it, and gets in.
    t.advance(std::chrono::seconds(1));
    const captured again = t.expect_one();
    CHECK(again.flags() == (SYN | ACK));
    CHECK(again.tcp.destination_port == 40002);
    complete_from(t, 40002, again);
    t.expect_nothing();
    CHECK(t.st.counters().connections_accepted == 3);
    const socket s2 = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.st.connection(s2)->id().remote_port == 40001);
    const socket s3 = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.st.connection(s3)->id().remote_port == 40002);
    CHECK(t.st.state(s3) == tcp::state::established);
}

TEST_CASE("listen_full_accept_queue_still_answers_an_unacceptable_ack_with_a_reset")
{
    // Only an ACK that would complete the handshake waits for room; one that acknowledges
    // nothing we sent meets §3.10.7.4 fifth as ever: <SEQ=SEG.ACK><CTL=RST>.
    config c = scenario_config();
    c.syn_cookies = syn_cookie_mode::never;
    scenario t{c};
    (void)listen_on(t, 2);
    const captured a = syn_from(t, 40000, seq32{1000});
    const captured b = syn_from(t, 40001, seq32{7000});
    complete_from(t, 40000, a);
    const captured held = syn_from(t, 40002, seq32{9000});
    complete_from(t, 40001, b);  // the queue is full; 40002 is in SYN-RECEIVED
    t.expect_nothing();
    t.inject(from_port(t.segment(ACK, held.ack(), held.seq() + 5000), 40002));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == held.seq() + 5000);
    CHECK(t.st.counters().accept_queue_overflows == 0);
    CHECK(t.st.counters().syn_cookies_failed == 0);
}

TEST_CASE("listen_accept_makes_room_for_the_next_syn")
{
    // The bound is on connections waiting for accept(): taking one frees its place.
    scenario t;
    const listener l = listen_on(t, 1);
    const captured a = syn_from(t, 40000, seq32{1000});
    complete_from(t, 40000, a);
    std::error_code ec;
    (void)t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    (void)syn_from(t, 40001, seq32{7000});
    CHECK(t.st.counters().accept_queue_overflows == 0);
}

TEST_CASE("listen_syn_beyond_half_open_limit_is_dropped_and_counted_without_cookies")
{
    // config.max_half_open bounds SYN-RECEIVED stack-wide (RFC 4987 §3.2 defence): with
    // SYN cookies off, a SYN beyond it is dropped silently, so the peer retries later.
    config c = scenario_config();
    c.max_half_open = 1;
    c.syn_cookies = syn_cookie_mode::never;
    scenario t{c};
    listen_on(t);
    const captured a = syn_from(t, 40000, seq32{1000});
    t.inject(from_port(t.segment(SYN, seq32{7000}), 40001));
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::half_open_limit) == 1);
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(t.st.connection_count() == 1);
    // Once the first handshake completes, the retried SYN is answered.
    complete_from(t, 40000, a);
    t.expect_nothing();
    (void)syn_from(t, 40001, seq32{7000});
}

TEST_CASE("listen_syn_beyond_connection_limit_is_dropped_and_counted")
{
    // config.max_connections bounds the connection table: a SYN that would exceed it is
    // dropped and counted.
    config c = scenario_config();
    c.max_connections = 1;
    scenario t{c};
    listen_on(t);
    const captured a = syn_from(t, 40000, seq32{1000});
    complete_from(t, 40000, a);
    t.inject(from_port(t.segment(SYN, seq32{7000}), 40001));
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::connection_limit) == 1);
    CHECK(t.st.connection_count() == 1);
}

TEST_CASE("listen_on_a_port_already_listened_on_fails_with_address_in_use")
{
    // RFC 9293 §3.9.1.1 OPEN: a second passive OPEN on the same local socket is an error.
    scenario t;
    listen_on(t);
    std::error_code ec;
    const listener again = t.st.listen(t.local_port, 8, ec);
    CHECK(ec == errc::address_in_use);
    CHECK(ec == std::errc::address_in_use);
    CHECK_FALSE(again.valid());
}

TEST_CASE("listen_with_zero_backlog_or_port_fails_with_invalid_argument")
{
    // A listener needs room for one connection and a real port (RFC 6335 §6: not 0).
    scenario t;
    std::error_code ec;
    (void)t.st.listen(t.local_port, 0, ec);
    CHECK(ec == errc::invalid_argument);
    (void)t.st.listen(0, 8, ec);
    CHECK(ec == errc::invalid_argument);
}

TEST_CASE("listen_accept_on_empty_queue_would_block")
{
    // Non-blocking accept: no finished handshake yet, not even a half-open one.
    scenario t;
    const listener l = listen_on(t);
    std::error_code ec;
    const socket none = t.st.accept(l, ec);
    CHECK(ec == errc::would_block);
    CHECK_FALSE(none.valid());
    (void)syn_from(t, 40000, seq32{1000});  // SYN-RECEIVED is not acceptable yet
    (void)t.st.accept(l, ec);
    CHECK(ec == errc::would_block);
}

TEST_CASE("listen_stale_listener_handle_is_bad_handle")
{
    // socket.hpp: a closed listener's handle goes stale, even once the port is
    // listened on again (the generation moved on).
    scenario t;
    const listener l = listen_on(t);
    REQUIRE_FALSE(t.st.close(l));
    std::error_code ec;
    (void)t.st.accept(l, ec);
    CHECK(ec == errc::bad_handle);
    CHECK(t.st.close(l) == errc::bad_handle);
    const listener fresh = listen_on(t);
    (void)t.st.accept(l, ec);
    CHECK(ec == errc::bad_handle);
    (void)t.st.accept(fresh, ec);
    CHECK(ec == errc::would_block);
    (void)t.st.accept(listener{}, ec);  // never valid
    CHECK(ec == errc::bad_handle);
}

TEST_CASE("listen_close_resets_unaccepted_connections")
{
    // RFC 9293 §3.10.4 CLOSE in LISTEN: "Any outstanding RECEIVEs are returned with
    // 'error: closing' responses. Delete TCB" — connections nobody accepted are
    // aborted (§3.10.5: <SEQ=SND.NXT><CTL=RST>), both the queued and the half-open.
    scenario t;
    const listener l = listen_on(t);
    const captured a = syn_from(t, 40000, seq32{1000});
    complete_from(t, 40000, a);  // ESTABLISHED, in the accept queue
    const captured b = syn_from(t, 40001, seq32{7000});  // SYN-RECEIVED
    t.expect_nothing();
    REQUIRE(t.st.connection_count() == 2);

    REQUIRE_FALSE(t.st.close(l));
    const auto out = t.sent();
    REQUIRE(out.size() == 2);
    bool reset_a = false;
    bool reset_b = false;
    for (const captured& c : out) {
        CHECK(c.flags() == RST);
        if (c.tcp.destination_port == 40000) reset_a = c.seq() == a.seq() + 1;
        if (c.tcp.destination_port == 40001) reset_b = c.seq() == b.seq() + 1;
    }
    CHECK(reset_a);
    CHECK(reset_b);
    CHECK(t.st.counters().resets_sent == 2);
    CHECK(t.st.connection_count() == 0);

    // The port is closed now: a SYN is answered as §3.10.7.1 says.
    t.inject(from_port(t.segment(SYN, seq32{9000}), 40002));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == (RST | ACK));
    CHECK(rst.ack() == seq32{9001});
    CHECK(t.st.counters().no_listener_resets == 1);
}

TEST_CASE("listen_close_keeps_accepted_connections")
{
    // RFC 9293 §3.10.4: closing the listener ends listening only; an accepted
    // connection belongs to the user and goes on.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.peer_ack(t.stack_nxt));
    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    REQUIRE_FALSE(t.st.close(l));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.send(s, "still here") == 10);
    const captured data = t.expect_one();
    CHECK(data.text() == "still here");
    CHECK(data.seq() == t.stack_nxt);
}
