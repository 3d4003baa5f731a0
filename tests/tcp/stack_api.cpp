// Scenario tests: the stack's user interface (RFC 9293 §3.9.1, §3.10 user calls) as
// tcpx shapes it — handles that go stale, ABORT, error codes, readiness queries,
// poll()'s deadline, a full device, and the counters.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/closing_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;
using namespace std::chrono_literals;

namespace {

struct readiness {
    bool readable;
    bool writable;
    bool peer_closed;
    tcp::state state;
};

void check_readiness(const scenario& t, socket s, readiness want)
{
    CHECK(t.st.readable(s) == want.readable);
    CHECK(t.st.writable(s) == want.writable);
    CHECK(t.st.peer_closed(s) == want.peer_closed);
    CHECK(t.st.state(s) == want.state);
}

}  // namespace

// ---- stale handles ----

TEST_CASE("stack_api_close_makes_the_handle_stale_for_every_call")
{
    // RFC 9293 §3.10.4: after CLOSE the user no longer owns the connection; tcpx's
    // handle goes stale at once (socket.hpp) and every call says errc::bad_handle,
    // while the connection itself closes in the background.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.close(s));
    CHECK(t.expect_one().flags() == (FIN | ACK));
    std::error_code ec;
    CHECK(send_ec(t, s, "x", ec) == 0);
    CHECK(ec == errc::bad_handle);
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::bad_handle);
    CHECK(t.st.shutdown(s) == errc::bad_handle);
    CHECK(t.st.close(s) == errc::bad_handle);
    CHECK(t.st.abort(s) == errc::bad_handle);
    CHECK(t.st.set_nodelay(s, true) == errc::bad_handle);
    CHECK(t.st.set_keepalive(s, true) == errc::bad_handle);
    CHECK(t.st.error(s) == errc::bad_handle);
    CHECK(t.st.connection(s) == nullptr);
    check_readiness(t, s, {false, false, false, tcp::state::closed});
    t.expect_nothing();                  // none of those calls reached the connection
    CHECK(t.st.connection_count() == 1);  // which is still in FIN-WAIT-1
}

TEST_CASE("stack_api_abort_makes_the_handle_stale_and_frees_the_connection")
{
    // RFC 9293 §3.10.5 ABORT: "delete the TCB" — at once.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.abort(s));
    t.sent();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().connections_reclaimed == 1);
    CHECK(t.st.error(s) == errc::bad_handle);
    CHECK(t.st.abort(s) == errc::bad_handle);
}

TEST_CASE("stack_api_stale_handle_never_reaches_the_connection_reusing_its_slot")
{
    // socket.hpp: a slot's generation moves on when it is reused, so an old handle is
    // stale rather than somebody else's connection.
    scenario t;
    const socket old = t.establish_active();
    CHECK_FALSE(t.st.abort(old));
    t.sent();
    std::error_code ec;
    t.peer_port = 40001;
    const socket fresh = t.st.connect(t.peer_address, t.peer_port, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.expect_one().flags() == SYN);
    CHECK(fresh.index == old.index);  // the same slot ...
    CHECK(fresh.generation != old.generation);  // ... another connection
    CHECK(t.st.close(old) == errc::bad_handle);
    CHECK(t.st.abort(old) == errc::bad_handle);
    CHECK(send_ec(t, old, "x", ec) == 0);
    CHECK(ec == errc::bad_handle);
    CHECK(t.st.state(old) == tcp::state::closed);
    t.expect_nothing();
    CHECK(t.st.state(fresh) == tcp::state::syn_sent);
    CHECK(t.st.connection_count() == 1);
}

TEST_CASE("stack_api_closed_listener_handle_is_stale")
{
    // RFC 9293 §3.10.4 CLOSE, LISTEN: "Any outstanding RECEIVEs are returned with
    // 'error: closing' responses. Delete TCB" — the listener handle goes stale.
    scenario t;
    std::error_code ec;
    const listener l = t.st.listen(80, 4, ec);
    REQUIRE_FALSE(ec);
    CHECK_FALSE(t.st.close(l));
    t.st.accept(l, ec);
    CHECK(ec == errc::bad_handle);
    CHECK(t.st.close(l) == errc::bad_handle);
    // The port is free again (a SYN gets the CLOSED answer, §3.10.7.1).
    t.inject(t.segment(SYN, t.peer_iss));
    CHECK(t.expect_one().flags() == (RST | ACK));
}

// ---- ABORT ----

TEST_CASE("stack_api_abort_in_established_sends_rst_at_snd_nxt")
{
    // RFC 9293 §3.10.5 ABORT, ESTABLISHED: "Send a reset segment: <SEQ=SND.NXT><CTL=RST>";
    // SND.NXT is past the unacknowledged data.
    scenario t;
    const socket s = t.establish_active();
    CHECK(t.send(s, "hello") == 5);
    t.expect_one();
    CHECK_FALSE(t.st.abort(s));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.stack_nxt + 5);
    CHECK(rst.tcp.source_port == t.local_port);
    CHECK(rst.tcp.destination_port == t.peer_port);
    CHECK(rst.payload.empty());
    CHECK(t.st.counters().resets_sent == 1);
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("stack_api_abort_then_peer_segment_is_answered_as_closed")
{
    // RFC 9293 §3.10.7.1: the peer, not having seen our RST (lost), sends on; with the
    // TCB gone the segment is answered <SEQ=SEG.ACK><CTL=RST>, which the peer accepts.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.abort(s));
    CHECK(t.expect_one().flags() == RST);
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "anyone?");
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.stack_nxt);
    CHECK(t.st.counters().no_listener_resets == 1);
}

TEST_CASE("stack_api_abort_in_syn_sent_sends_nothing")
{
    // RFC 9293 §3.10.5 ABORT, SYN-SENT: "All queued SENDs and RECEIVEs should be given
    // 'reset' notification, delete the TCB" — no segment (the peer has no state).
    scenario t;
    const socket s = t.open_active();
    CHECK_FALSE(t.st.abort(s));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("stack_api_abort_in_close_wait_sends_rst")
{
    // RFC 9293 §3.10.5 ABORT, CLOSE-WAIT (with ESTABLISHED, FIN-WAIT-1/2): send
    // <SEQ=SND.NXT><CTL=RST>.
    scenario t;
    const socket s = t.establish_then_close_wait();
    CHECK_FALSE(t.st.abort(s));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.stack_nxt);
}

TEST_CASE("stack_api_abort_in_fin_wait_2_sends_rst_after_the_fin")
{
    // RFC 9293 §3.10.5 ABORT, FIN-WAIT-2: <SEQ=SND.NXT><CTL=RST>; SND.NXT is past our FIN.
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    CHECK_FALSE(t.st.abort(s));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.stack_nxt);
}

TEST_CASE("stack_api_abort_in_last_ack_sends_nothing")
{
    // RFC 9293 §3.10.5 ABORT, CLOSING, LAST-ACK, TIME-WAIT: "Respond with 'ok' and
    // delete the TCB, enter CLOSED state, and return".
    scenario t;
    const socket s = t.establish_then_last_ack();
    CHECK_FALSE(t.st.abort(s));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("stack_api_abort_in_closing_sends_nothing")
{
    // RFC 9293 §3.10.5 ABORT, CLOSING: "Respond with 'ok' and delete the TCB".
    scenario t;
    const socket s = t.establish_then_closing();
    CHECK_FALSE(t.st.abort(s));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
}

// ---- error codes ----

TEST_CASE("stack_api_error_codes_compare_equal_to_std_errc")
{
    // error.hpp: every tcpx::errc with a POSIX meaning compares equal to it, as Asio's
    // and Beast's codes do.
    CHECK(std::error_code{errc::would_block} == std::errc::operation_would_block);
    CHECK(std::error_code{errc::connection_refused} == std::errc::connection_refused);
    CHECK(std::error_code{errc::connection_reset} == std::errc::connection_reset);
    CHECK(std::error_code{errc::connection_aborted} == std::errc::connection_aborted);
    CHECK(std::error_code{errc::timed_out} == std::errc::timed_out);
    CHECK(std::error_code{errc::not_connected} == std::errc::not_connected);
    CHECK(std::error_code{errc::connection_closing} == std::errc::broken_pipe);
    CHECK(std::error_code{errc::already_connected} == std::errc::already_connected);
    CHECK(std::error_code{errc::address_in_use} == std::errc::address_in_use);
    CHECK(std::error_code{errc::bad_handle} == std::errc::bad_file_descriptor);
    CHECK(std::error_code{errc::no_buffer_space} == std::errc::no_buffer_space);
    CHECK(std::error_code{errc::invalid_argument} == std::errc::invalid_argument);
    CHECK(std::error_code{errc::host_unreachable} == std::errc::host_unreachable);
    CHECK(std::error_code{errc::message_too_long} == std::errc::message_size);
    CHECK(std::error_code{errc::connection_reset} != std::errc::connection_refused);
}

TEST_CASE("stack_api_error_codes_without_posix_meaning_match_no_std_errc")
{
    // error.hpp: end of stream and the parse failures have no POSIX equivalent; they
    // stay in the "tcpx" category and match nothing generic.
    const std::error_code eos{errc::end_of_stream};
    CHECK(eos.category().name() == std::string{"tcpx"});
    CHECK(eos.default_error_condition().category() == eos.category());
    CHECK(eos != std::errc::broken_pipe);
    CHECK(std::error_code{errc::tcp_bad_checksum}.default_error_condition().category() == eos.category());
    CHECK_FALSE(std::string{eos.message()}.empty());
}

TEST_CASE("stack_api_refused_connect_reports_connection_refused")
{
    // RFC 9293 §3.10.7.3 second: a RST acknowledging our SYN: "signal to the user
    // 'error: connection reset'" — tcpx calls it refused, equal to std::errc's.
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(RST | ACK, seq32{0}, t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == std::errc::connection_refused);
    std::error_code ec;
    CHECK(send_ec(t, s, "x", ec) == 0);
    CHECK(ec == std::errc::connection_refused);
}

// ---- readiness per state (RFC 9293 §3.10.6 STATUS) ----

TEST_CASE("stack_api_queries_in_syn_sent")
{
    // RFC 9293 §3.10.6: the state; tcpx: writable once ESTABLISHED (basic_stack.hpp).
    scenario t;
    const socket s = t.open_active();
    check_readiness(t, s, {false, false, false, tcp::state::syn_sent});
    CHECK_FALSE(t.st.error(s));
}

TEST_CASE("stack_api_queries_in_established")
{
    // RFC 9293 §3.10.6: ESTABLISHED is writable; readable once data is queued.
    scenario t;
    const socket s = t.establish_active();
    check_readiness(t, s, {false, true, false, tcp::state::established});
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "data");
    check_readiness(t, s, {true, true, false, tcp::state::established});
}

TEST_CASE("stack_api_queries_in_close_wait")
{
    // RFC 9293 §3.10.6: CLOSE-WAIT: the peer closed (receive() returns end of stream
    // at once: readable), and we may still send.
    scenario t;
    const socket s = t.establish_then_close_wait();
    check_readiness(t, s, {true, true, true, tcp::state::close_wait});
}

TEST_CASE("stack_api_queries_in_fin_wait_1_and_fin_wait_2")
{
    // RFC 9293 §3.10.6: after our FIN nothing may be sent; nothing to read yet.
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    check_readiness(t, s, {false, false, false, tcp::state::fin_wait_1});
    t.inject(t.peer_ack(t.stack_nxt));
    check_readiness(t, s, {false, false, false, tcp::state::fin_wait_2});
}

TEST_CASE("stack_api_queries_in_closing_last_ack_and_time_wait")
{
    // RFC 9293 §3.10.6: both FINs sent: end of stream readable, nothing writable.
    scenario a;
    const socket s1 = a.establish_then_closing();
    check_readiness(a, s1, {true, false, true, tcp::state::closing});
    scenario b;
    const socket s2 = b.establish_then_last_ack();
    check_readiness(b, s2, {true, false, true, tcp::state::last_ack});
    scenario c;
    const socket s3 = c.establish_then_time_wait();
    check_readiness(c, s3, {true, false, true, tcp::state::time_wait});
}

TEST_CASE("stack_api_queries_after_reset")
{
    // RFC 9293 §3.10.7.4 second: after a reset, receive() reports it at once
    // (readable), nothing is writable, and error() says why.
    scenario t;
    const socket s = t.establish_active();
    t.inject(t.segment(RST, t.peer_nxt));
    check_readiness(t, s, {true, false, false, tcp::state::closed});
    CHECK(t.st.error(s) == errc::connection_reset);
}

// ---- poll() ----

TEST_CASE("stack_api_poll_when_idle_returns_never")
{
    // DESIGN.md "One packet's way": poll() returns the next deadline so the caller
    // sleeps exactly until then; an idle connection with keep-alive off has none.
    scenario t;
    t.establish_active();
    CHECK(t.st.poll() == never);
    scenario empty;
    CHECK(empty.st.poll() == never);
}

TEST_CASE("stack_api_poll_returns_the_delayed_ack_deadline")
{
    // RFC 1122 §4.2.3.2: the delayed ACK is due delayed_ack after the data; poll()
    // says exactly when.
    scenario t;
    t.establish_active();
    t.advance(7ms);
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "x");
    CHECK(t.st.poll() == t.time.now() + t.st.configuration().delayed_ack);
}

TEST_CASE("stack_api_poll_returns_the_retransmission_deadline")
{
    // RFC 6298 §5.1: sending data starts the retransmission timer, RTO ahead.
    scenario t;
    const socket s = t.establish_active();
    t.advance(3ms);
    CHECK(t.send(s, "hello") == 5);
    t.expect_one();
    CHECK(t.st.poll() == t.time.now() + t.st.connection(s)->rtt().rto());
    CHECK(t.st.connection(s)->rtt().rto() == t.st.configuration().min_rto);
}

TEST_CASE("stack_api_poll_returns_the_syn_retransmission_deadline")
{
    // RFC 6298 §2.1, §5.1: the SYN's timer runs initial_rto.
    scenario t;
    t.open_active();
    CHECK(t.st.poll() == t.time.now() + t.st.configuration().initial_rto);
}

TEST_CASE("stack_api_poll_returns_the_earliest_of_several_deadlines")
{
    // DESIGN.md: poll() returns the earliest deadline of all timers: here a delayed ACK
    // (t0 + 100 + 40 ms) before the retransmission of data sent at t0 (t0 + 200 ms).
    scenario t;
    const socket s = t.establish_active();
    const instant t0 = t.time.now();
    CHECK(t.send(s, "ping") == 4);
    t.expect_one();
    t.advance(100ms);
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "x");  // does not ACK "ping"
    CHECK(t.st.poll() == t0 + 140ms);
    t.advance(40ms);
    CHECK(t.expect_one().ack() == t.peer_nxt + 1);
    CHECK(t.st.poll() == t0 + 200ms);
}

// ---- a full device ----

TEST_CASE("stack_api_full_device_defers_output_and_counts_device_full")
{
    // DESIGN.md "Bad input ... counted": a device with no room is counted
    // (drop_reason::device_full), and the connection survives: its data goes once the
    // device takes packets again, no later than one RTO (RFC 6298 §5: what a lost
    // segment would cost).
    scenario t;
    const socket s = t.establish_active();
    t.dev.full = true;
    CHECK(t.send(s, "hello") == 5);
    t.st.poll();
    CHECK(t.dev.outbox.empty());
    CHECK(t.st.counters().dropped(drop_reason::device_full) == 1);
    CHECK(t.st.state(s) == tcp::state::established);
    t.dev.full = false;
    REQUIRE(t.advance_to_deadline());
    const captured out = t.expect_one();
    CHECK(out.seq() == t.stack_nxt);
    CHECK(out.text() == "hello");
    CHECK(t.st.state(s) == tcp::state::established);
}

TEST_CASE("stack_api_full_device_during_retransmission_recovers_at_the_next_rto")
{
    // RFC 6298 §5.4 - §5.6: a retransmission the device refused is as good as lost;
    // the timer (backed off) fires again and the segment goes.
    scenario t;
    const socket s = t.establish_active();
    const instant t0 = t.time.now();
    CHECK(t.send(s, "hello") == 5);
    t.expect_one();
    t.dev.full = true;
    t.advance(200ms);
    CHECK(t.dev.outbox.empty());
    CHECK(t.st.counters().dropped(drop_reason::device_full) == 1);
    t.dev.full = false;
    REQUIRE(t.advance_to_deadline());
    CHECK(t.time.now() == t0 + 600ms);
    const captured again = t.expect_one();
    CHECK(again.seq() == t.stack_nxt);
    CHECK(again.text() == "hello");
    CHECK(t.st.connection(s)->stats().timeouts == 2);
}

TEST_CASE("stack_api_full_device_drops_abort_reset_and_counts_it")
{
    // RFC 9293 §3.10.5: ABORT deletes the TCB whether or not its reset could leave; a
    // reset the device refused is counted as device_full.
    scenario t;
    const socket s = t.establish_active();
    t.dev.full = true;
    CHECK_FALSE(t.st.abort(s));
    CHECK(t.st.counters().dropped(drop_reason::device_full) == 1);
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(t.st.connection_count() == 0);
}

// ---- counters ----

TEST_CASE("stack_api_counters_count_packets_and_segments_in_and_out")
{
    // DESIGN.md: every packet in and out is counted, and a packet dropped before TCP
    // (a bad checksum, RFC 9293 §3.1 MUST-2/3) counts as a packet but not a segment.
    scenario t;
    const socket s = t.establish_active();
    const auto& c = t.st.counters();
    CHECK(c.packets_sent == 2);  // SYN, ACK
    CHECK(c.segments_sent == 2);
    CHECK(c.packets_received == 1);  // SYN,ACK
    CHECK(c.segments_received == 1);
    CHECK(c.connections_opened == 1);
    auto bad = t.build(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "oops");
    bad.back() ^= 0xff;
    t.inject_raw(bad);
    CHECK(c.packets_received == 2);
    CHECK(c.segments_received == 1);
    CHECK(c.dropped(drop_reason::tcp_bad_checksum) == 1);
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "good");
    t.advance(t.st.configuration().delayed_ack);
    CHECK(t.expect_one().ack() == t.peer_nxt + 4);
    CHECK(c.packets_received == 3);
    CHECK(c.segments_received == 2);
    CHECK(c.packets_sent == 3);
    CHECK(c.segments_sent == 3);
    CHECK(t.receive(s) == "good");
}

TEST_CASE("stack_api_connection_stats_count_its_own_segments_and_bytes")
{
    // connection_stats (as Linux's tcp_info): segments and payload bytes each way.
    scenario t;
    const socket s = t.establish_active();
    CHECK(t.send(s, "hello") == 5);
    t.expect_one();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt + 5), "abc");
    const auto& st = t.st.connection(s)->stats();
    CHECK(st.segments_sent == 3);     // SYN, ACK, data
    CHECK(st.segments_received == 2);  // SYN,ACK, data
    CHECK(st.bytes_sent == 5);
    CHECK(st.bytes_received == 3);
}

TEST_CASE("stack_on_a_link_of_mtu_100_announces_60_and_every_segment_fits")
{
    // RFC 9293 §3.7.1 / RFC 6691: MSS = MTU - 40 down to IPv4's smallest MTU (68,
    // RFC 791); a larger default would make every full segment too big for the device.
    devices::loopback_link link{devices::loopback_config{.mtu = 100}};
    config a_cfg;
    a_cfg.address = wire::ipv4_address{10, 0, 0, 1};
    config b_cfg;
    b_cfg.address = wire::ipv4_address{10, 0, 0, 2};
    using small_stack = stack<devices::loopback&, clocks::steady>;
    small_stack a{link.end(0), {}, a_cfg};
    small_stack b{link.end(1), {}, b_cfg};
    std::error_code ec;
    const listener l = b.listen(80, 4, ec);
    REQUIRE_FALSE(ec);
    const socket c = a.connect(b_cfg.address, 80, ec);
    REQUIRE_FALSE(ec);
    socket s;
    for (int i = 0; i < 20 && !s; ++i) {
        a.poll();
        b.poll();
        s = b.accept(l, ec);
    }
    REQUIRE(s);
    REQUIRE(a.connection(c)->send_mss() == 60);
    const std::string text(1000, 'm');
    REQUIRE(a.send(c, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, ec) == text.size());
    std::string got;
    for (int i = 0; i < 200 && got.size() < text.size(); ++i) {
        a.poll();
        b.poll();
        std::uint8_t buf[256];
        const std::size_t n = b.receive(s, buf, ec);
        got.append(reinterpret_cast<const char*>(buf), n);
    }
    CHECK(got == text);
    CHECK(a.counters().dropped(drop_reason::device_full) == 0);
    CHECK(link.end(0).counters().dropped_too_big == 0);
}
