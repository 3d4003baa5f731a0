// Scenario tests: CLOSING and simultaneous close, both sides sending a FIN before
// seeing the other's (RFC 9293 §3.5 figure 13, §3.10.7.4).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/closing_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;
using namespace std::chrono_literals;

TEST_CASE("fin_wait_1_fin_without_ack_of_our_fin_enters_closing")
{
    // RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed ... enter
    // TIME-WAIT ...; otherwise, enter the CLOSING state". The FIN is acknowledged at once.
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt - 1));  // acknowledges up to, not over, our FIN
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt + 1);
    CHECK(t.st.state(s) == tcp::state::closing);
    CHECK(t.st.peer_closed(s));
    // Our FIN is still unacknowledged, so its retransmission timer keeps running.
    CHECK(deadline_of(t, s, tcp::timer::retransmit) != never);
}

TEST_CASE("closing_ack_of_fin_enters_time_wait")
{
    // RFC 9293 §3.10.7.4 fifth, CLOSING: "if the ACK acknowledges our FIN, then enter
    // the TIME-WAIT state; otherwise, ignore the segment". TIME-WAIT turns the other
    // timers off and runs 2 MSL.
    scenario t;
    const socket s = t.establish_then_closing();
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(deadline_of(t, s, tcp::timer::retransmit) == never);
    CHECK(t.st.poll() == t.time.now() + 2 * t.st.configuration().msl);
}

TEST_CASE("closing_ack_below_fin_stays_in_closing")
{
    // RFC 9293 §3.10.7.4 fifth, CLOSING: an ACK that does not cover our FIN: "ignore
    // the segment".
    scenario t;
    const socket s = t.establish_then_closing();
    t.inject(t.peer_ack(t.stack_nxt - 1));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closing);
}

TEST_CASE("simultaneous_close_crossing_fins_reach_time_wait_on_both_acks")
{
    // RFC 9293 §3.5 figure 13: both users CLOSE; the FINs cross (each acknowledges
    // only the other's data), each side ACKs the other's FIN, CLOSING -> TIME-WAIT.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.shutdown(s));
    const captured fin = t.expect_one();
    CHECK(fin.flags() == (FIN | ACK));
    CHECK(fin.seq() == t.stack_nxt);
    CHECK(fin.ack() == t.peer_nxt);
    // The peer's FIN, sent before ours arrived.
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt + 1);
    CHECK(ack.ack() == t.peer_nxt + 1);
    CHECK(t.st.state(s) == tcp::state::closing);
    // The peer's ACK of our FIN.
    t.inject(t.segment(ACK, t.peer_nxt + 1, t.stack_nxt + 1));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::time_wait);
}

TEST_CASE("simultaneous_close_with_data_in_the_crossing_fin_delivers_it")
{
    // RFC 9293 §3.10.7.4 seventh then eighth, FIN-WAIT-1: the text of the peer's
    // crossing FIN segment is delivered, and the FIN sits after it.
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    t.inject(t.segment(FIN | ACK | PSH, t.peer_nxt, t.stack_nxt - 1), "tail");
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_nxt + 5);
    CHECK(t.st.state(s) == tcp::state::closing);
    CHECK(t.receive(s) == "tail");
}

TEST_CASE("closing_fin_is_retransmitted_on_rto")
{
    // RFC 6298 §5.4: in CLOSING our FIN is still unacknowledged; when the timer
    // expires it is resent, now acknowledging the peer's FIN too.
    scenario t;
    const socket s = t.establish_then_closing();
    // establish_then_closing() took no time: the FIN's timer runs from the shutdown.
    t.advance(t.st.configuration().min_rto);
    const captured again = t.expect_one();
    CHECK(again.flags() == (FIN | ACK));
    CHECK(again.seq() == t.stack_nxt - 1);
    CHECK(again.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::closing);
    CHECK(t.st.connection(s)->stats().retransmitted_segments == 1);
}

TEST_CASE("closing_text_is_ignored")
{
    // RFC 9293 §3.10.7.4 seventh, CLOSING: "Ignore the segment text".
    scenario t;
    const socket s = t.establish_then_closing();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt - 1), "stray");
    t.advance(t.st.configuration().delayed_ack);
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closing);
    CHECK(t.st.connection(s)->rcv().nxt == t.peer_nxt);
    CHECK(t.st.connection(s)->stats().bytes_received == 0);
}

TEST_CASE("closing_retransmitted_fin_is_acked_again")
{
    // RFC 9293 §3.10.7.4 first: the peer's FIN again lies before RCV.NXT — "an
    // acknowledgment should be sent in reply"; eighth, CLOSING: "Remain in the
    // CLOSING state".
    scenario t;
    const socket s = t.establish_then_closing();
    t.inject(t.segment(FIN | ACK, t.peer_nxt - 1, t.stack_nxt - 1));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::closing);
}

TEST_CASE("closing_send_fails_with_connection_closing")
{
    // RFC 9293 §3.10.2 SEND, CLOSING: "Return 'error: connection closing'"; §3.10.4
    // CLOSE, CLOSING: "Respond with 'error: connection closing'".
    scenario t;
    const socket s = t.establish_then_closing();
    std::error_code ec;
    CHECK(send_ec(t, s, "late", ec) == 0);
    CHECK(ec == errc::connection_closing);
    CHECK(t.st.shutdown(s) == errc::connection_closing);
    t.expect_nothing();
}

TEST_CASE("closing_receive_reports_end_of_stream")
{
    // RFC 9293 §3.10.3 RECEIVE, CLOSING: "Return 'error: connection closing'" once
    // the queued data is read (errc::end_of_stream).
    scenario t;
    const socket s = t.establish_then_closing();
    std::error_code ec;
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::end_of_stream);
}

TEST_CASE("closing_rst_closes_without_error")
{
    // RFC 9293 §3.10.7.4 second, CLOSING: "If the RST bit is set, then enter the
    // CLOSED state, delete the TCB, and return".
    scenario t;
    const socket s = t.establish_then_closing();
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.poll() == never);
}
