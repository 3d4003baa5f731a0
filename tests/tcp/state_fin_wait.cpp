// Scenario tests: FIN-WAIT-1 and FIN-WAIT-2, the states of the side that closes
// first (RFC 9293 §3.5 figure 12, §3.10.4, §3.10.7.4).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/closing_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;
using namespace std::chrono_literals;

TEST_CASE("established_shutdown_sends_fin_and_enters_fin_wait_1")
{
    // RFC 9293 §3.10.4 ESTABLISHED: "form a FIN segment and send it, and set state to
    // FIN-WAIT-1"; the FIN takes one sequence number (§3.4).
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.shutdown(s));
    const captured fin = t.expect_one();
    CHECK(fin.flags() == (FIN | ACK));
    CHECK(fin.seq() == t.stack_nxt);
    CHECK(fin.ack() == t.peer_nxt);
    CHECK(fin.window() == 65535);
    CHECK(fin.payload.empty());
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
    CHECK(t.st.connection(s)->snd().nxt == t.stack_nxt + 1);
}

TEST_CASE("fin_wait_1_ack_of_fin_enters_fin_wait_2")
{
    // RFC 9293 §3.10.7.4 fifth, FIN-WAIT-1: "if the FIN segment is now acknowledged,
    // then enter FIN-WAIT-2 and continue processing"; nothing is left to retransmit
    // (RFC 6298 §5.2: all data acknowledged, the timer stops).
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
    CHECK(t.st.connection(s)->snd().una == t.stack_nxt);
    CHECK(deadline_of(t, s, tcp::timer::retransmit) == never);
    CHECK(t.st.connection(s)->stats().bytes_acked == 1);  // the FIN's sequence number
}

TEST_CASE("fin_wait_1_ack_of_data_before_fin_stays_in_fin_wait_1")
{
    // RFC 9293 §3.10.7.4 fifth: only the ACK of the FIN itself moves FIN-WAIT-1 on; an
    // ACK of the data before it is ordinary ACK processing.
    scenario t;
    const socket s = t.establish_active();
    CHECK(t.send(s, "hello") == 5);
    const captured data = t.expect_one();
    CHECK(data.text() == "hello");
    CHECK_FALSE(t.st.shutdown(s));
    const captured fin = t.expect_one();
    CHECK(fin.flags() == (FIN | ACK));
    CHECK(fin.seq() == t.stack_nxt + 5);
    t.inject(t.peer_ack(t.stack_nxt + 5));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
    t.inject(t.peer_ack(t.stack_nxt + 6));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
}

TEST_CASE("established_shutdown_with_data_held_by_nagle_sends_fin_with_the_last_segment")
{
    // RFC 9293 §3.10.4: the FIN is queued "until all preceding SENDs have been
    // segmentized"; RFC 1122 §4.2.3.4: a closing connection has no more data to wait
    // for, so the held tail goes at once and the FIN rides on it.
    scenario t;
    const socket s = t.establish_active();
    CHECK(t.send(s, "a") == 1);
    CHECK(t.expect_one().text() == "a");
    CHECK(t.send(s, "bc") == 2);
    t.expect_nothing();  // Nagle: "a" is unacknowledged
    CHECK_FALSE(t.st.shutdown(s));
    const captured last = t.expect_one();
    CHECK(last.flags() == (ACK | PSH | FIN));
    CHECK(last.seq() == t.stack_nxt + 1);
    CHECK(last.text() == "bc");
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
}

TEST_CASE("fin_wait_1_fin_ack_acking_our_fin_enters_time_wait")
{
    // RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed (perhaps in
    // this segment), then enter TIME-WAIT, start the time-wait timer, turn off the
    // other timers" — the fifth step moved us to FIN-WAIT-2 first. The FIN is acknowledged.
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt + 1);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.poll() == t.time.now() + 2 * t.st.configuration().msl);
}

TEST_CASE("fin_wait_2_fin_enters_time_wait_and_is_acked_at_once")
{
    // RFC 9293 §3.10.7.4 eighth, FIN-WAIT-2: "Enter the TIME-WAIT state. Start the
    // time-wait timer, turn off the other timers"; a FIN is acknowledged at once.
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt + 1);
    CHECK(ack.window() == 65534);  // RFC 9293 §3.8.6.2.2: the right edge stays; the FIN used one
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.peer_closed(s));
    CHECK(deadline_of(t, s, tcp::timer::retransmit) == never);
    CHECK(deadline_of(t, s, tcp::timer::delayed_ack) == never);
    CHECK(deadline_of(t, s, tcp::timer::time_wait) == t.time.now() + 2 * t.st.configuration().msl);
}

TEST_CASE("fin_wait_1_data_from_peer_is_delivered")
{
    // RFC 9293 §3.10.7.4 seventh, FIN-WAIT-1: data is accepted as in ESTABLISHED — a
    // half-close stops our sending only (§3.10.4: "RECEIVEs ... until the other side
    // has closed"). RFC 1122 §4.2.3.2: one small segment's ACK may be delayed.
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt - 1), "hello");  // does not ACK our FIN
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
    CHECK(t.st.readable(s));
    CHECK(t.receive(s) == "hello");
    t.expect_nothing();
    t.advance(t.st.configuration().delayed_ack);
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt + 5);
    CHECK(ack.window() == 65530);  // RFC 1122 §4.2.3.3: the right edge (65535 on) does not creep by 5
    CHECK(t.st.connection(s)->stats().bytes_received == 5);
}

TEST_CASE("fin_wait_2_data_from_peer_is_delivered")
{
    // RFC 9293 §3.10.7.4 seventh, FIN-WAIT-2: data is accepted as in ESTABLISHED
    // (half-close: the peer may go on sending after our FIN).
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "more");
    t.inject(t.segment(ACK | PSH, t.peer_nxt + 4, t.stack_nxt), " data");
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
    CHECK(t.receive(s) == "more data");
    t.advance(t.st.configuration().delayed_ack);
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt + 9);
    CHECK(t.st.connection(s)->stats().bytes_received == 9);
}

TEST_CASE("fin_wait_2_data_with_fin_is_delivered_then_end_of_stream")
{
    // RFC 9293 §3.10.7.4 seventh and eighth: text first, then the FIN (TIME-WAIT);
    // §3.10.3 RECEIVE after the FIN: the data still queued is returned, then
    // "connection closing" (tcpx: errc::end_of_stream), again on every later call.
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    t.inject(t.segment(FIN | ACK | PSH, t.peer_nxt, t.stack_nxt), "bye");
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_nxt + 4);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    std::error_code ec;
    CHECK(receive_ec(t, s, ec) == "bye");
    CHECK_FALSE(ec);
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::end_of_stream);
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::end_of_stream);
}

TEST_CASE("fin_wait_1_send_fails_with_connection_closing")
{
    // RFC 9293 §3.10.2 SEND, FIN-WAIT-1: "Return 'error: connection closing' and do
    // not service request". Nothing is sent.
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    std::error_code ec;
    CHECK(send_ec(t, s, "late", ec) == 0);
    CHECK(ec == errc::connection_closing);
    CHECK_FALSE(t.st.writable(s));
    t.expect_nothing();
}

TEST_CASE("fin_wait_2_send_fails_with_connection_closing")
{
    // RFC 9293 §3.10.2 SEND, FIN-WAIT-2: "Return 'error: connection closing'".
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    std::error_code ec;
    CHECK(send_ec(t, s, "late", ec) == 0);
    CHECK(ec == errc::connection_closing);
    CHECK(ec == std::errc::broken_pipe);  // the POSIX meaning of writing after shutdown
    t.expect_nothing();
}

TEST_CASE("fin_wait_1_second_shutdown_fails_with_connection_closing")
{
    // RFC 9293 §3.10.4 CLOSE, FIN-WAIT-1 and FIN-WAIT-2: "Respond with 'error:
    // connection closing'". No second FIN.
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    CHECK(t.st.shutdown(s) == errc::connection_closing);
    t.expect_nothing();
    t.inject(t.peer_ack(t.stack_nxt));
    CHECK(t.st.shutdown(s) == errc::connection_closing);
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
}

TEST_CASE("fin_wait_1_fin_is_retransmitted_on_rto")
{
    // RFC 6298 §5.4 - §5.6: the unacknowledged FIN is retransmitted when the timer
    // expires (the handshake's RTT sample of 0 gives RTO = min_rto, §2.4), and the
    // timer restarts with the doubled RTO.
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    const duration rto = t.st.configuration().min_rto;
    CHECK(t.st.poll() == t.time.now() + rto);
    t.advance(rto - 1us);
    t.expect_nothing();
    t.advance(1us);
    const captured again = t.expect_one();
    CHECK(again.flags() == (FIN | ACK));
    CHECK(again.seq() == t.stack_nxt - 1);
    CHECK(again.ack() == t.peer_nxt);
    CHECK(again.payload.empty());
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
    CHECK(t.st.connection(s)->stats().timeouts == 1);
    CHECK(t.st.connection(s)->stats().retransmitted_segments == 1);
    CHECK(t.st.counters().retransmitted_segments == 1);
    CHECK(t.st.poll() == t.time.now() + 2 * rto);
    t.inject(t.peer_ack(t.stack_nxt));
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
    t.expect_nothing();
}

TEST_CASE("fin_wait_1_rst_closes_with_connection_reset")
{
    // RFC 9293 §3.10.7.4 second, FIN-WAIT-1: a RST at RCV.NXT: "any outstanding
    // RECEIVEs and SEND should receive 'reset' responses ... enter the CLOSED state".
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::connection_reset);
    std::error_code ec;
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::connection_reset);
    CHECK(t.st.poll() == never);  // no timer of a closed connection survives
}

TEST_CASE("fin_wait_2_rst_closes_with_connection_reset")
{
    // RFC 9293 §3.10.7.4 second, FIN-WAIT-2: as FIN-WAIT-1.
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    t.inject(t.segment(RST | ACK, t.peer_nxt, t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::connection_reset);
    CHECK(t.st.error(s) == std::errc::connection_reset);
}

TEST_CASE("fin_wait_2_rst_in_window_but_not_at_rcv_nxt_gets_challenge_ack")
{
    // RFC 5961 §3.2 (RFC 9293 §3.10.7.4 second): a RST inside the window but not
    // exactly at RCV.NXT is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the
    // connection stays.
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    t.inject(t.segment(RST, t.peer_nxt + 100));
    const captured challenge = t.expect_one();
    CHECK(challenge.flags() == ACK);
    CHECK(challenge.seq() == t.stack_nxt);
    CHECK(challenge.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
    CHECK(t.st.connection(s)->stats().challenge_acks == 1);
}

TEST_CASE("fin_wait_2_after_shutdown_waits_for_the_peer_without_limit")
{
    // RFC 9293 §3.10.4: after CLOSE of the sending side "the user ... can continue to
    // RECEIVE until the other side closes": a half-closed connection the user still
    // holds has no timer (the orphan limit applies only after close()).
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    CHECK(t.st.poll() == never);
    t.advance(10h);
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "still here");
    CHECK(t.receive(s) == "still here");
}

TEST_CASE("fin_wait_2_orphaned_by_close_is_removed_after_2msl")
{
    // RFC 9293 §3.10.4 leaves a closed connection waiting for the peer's FIN; a peer
    // that never sends it would hold the control block forever, so an orphaned
    // FIN-WAIT-2 ends after 2 MSL (the TIME-WAIT timer; Linux's tcp_fin_timeout).
    // It goes silently: the peer gets nothing.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.close(s));
    const captured fin = t.expect_one();
    CHECK(fin.flags() == (FIN | ACK));
    t.stack_nxt = t.stack_nxt + 1;
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 1);
    const duration two_msl = 2 * t.st.configuration().msl;
    CHECK(t.st.poll() == t.time.now() + two_msl);
    t.advance(two_msl - 1us);
    CHECK(t.st.connection_count() == 1);
    t.advance(1us);
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().connections_reclaimed == 1);
    CHECK(t.st.poll() == never);
}

TEST_CASE("fin_wait_2_orphaned_data_arrival_sends_reset")
{
    // RFC 1122 §4.2.2.13 (and RFC 2525 §2.17): "if new data is received after CLOSE
    // is called, its TCP SHOULD send a RST to show that data was lost". The reset
    // answers the segment: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1 form), and the
    // connection is gone.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.close(s));
    CHECK(t.expect_one().flags() == (FIN | ACK));
    t.stack_nxt = t.stack_nxt + 1;
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "unwanted");
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.stack_nxt);
    CHECK(rst.payload.empty());
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().resets_sent == 1);
}

TEST_CASE("fin_wait_1_orphaned_data_arrival_sends_reset")
{
    // RFC 1122 §4.2.2.13: as in FIN-WAIT-2, data after CLOSE draws a RST.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.close(s));
    CHECK(t.expect_one().flags() == (FIN | ACK));
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "unwanted");  // our FIN not yet ACKed
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.stack_nxt);
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("established_close_without_unread_data_sends_fin_and_closes_in_background")
{
    // RFC 9293 §3.10.4 CLOSE, ESTABLISHED: the FIN goes and FIN-WAIT-1 follows; tcpx's
    // close() also gives the handle up (stale at once: CLOSED through it), while the
    // connection goes on closing gracefully in the table.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.close(s));
    const captured fin = t.expect_one();
    CHECK(fin.flags() == (FIN | ACK));
    CHECK(fin.seq() == t.stack_nxt);
    CHECK(fin.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::bad_handle);
    CHECK(t.st.connection_count() == 1);
    t.stack_nxt = t.stack_nxt + 1;
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_nxt + 1);
    CHECK(t.st.connection_count() == 1);  // TIME-WAIT
    t.advance(2 * t.st.configuration().msl);
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("established_close_with_unread_data_sends_rst")
{
    // RFC 2525 §2.17 / RFC 1122 §4.2.2.13: "If such a host issues a CLOSE call while
    // received data is still pending in TCP ... its TCP SHOULD send a RST to show that
    // data was lost": <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5), and no FIN.
    scenario t;
    const socket s = t.establish_active();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "unread");
    CHECK_FALSE(t.st.close(s));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.stack_nxt);
    CHECK(rst.payload.empty());
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().resets_sent == 1);
}
