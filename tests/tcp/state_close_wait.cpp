// Scenario tests: CLOSE-WAIT and LAST-ACK, the states of the side that closes
// second (RFC 9293 §3.5 figure 12, §3.10.4, §3.10.7.4).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/closing_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;
using namespace std::chrono_literals;

TEST_CASE("established_fin_enters_close_wait_and_is_acked_at_once")
{
    // RFC 9293 §3.10.7.4 eighth: "advance RCV.NXT over the FIN, and send an
    // acknowledgment for the FIN"; ESTABLISHED: "Enter the CLOSE-WAIT state". The
    // user is told "connection closing" (peer_closed()).
    scenario t;
    const socket s = t.establish_active();
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt + 1);
    CHECK(ack.window() == 65534);  // RFC 9293 §3.8.6.2.2: the right edge stays; the FIN used one
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(t.st.peer_closed(s));
    CHECK(t.st.connection(s)->rcv().nxt == t.peer_nxt + 1);
}

TEST_CASE("close_wait_receive_returns_queued_data_then_end_of_stream")
{
    // RFC 9293 §3.10.3 RECEIVE, CLOSE-WAIT: "Since the remote side has already sent
    // FIN, RECEIVEs must be satisfied by data already on hand, but not yet delivered
    // to the user. If no text is awaiting delivery, the RECEIVE will get an 'error:
    // connection closing' response" (errc::end_of_stream).
    scenario t;
    const socket s = t.establish_active();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "last words");
    t.inject(t.segment(FIN | ACK, t.peer_nxt + 10, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.ack() == t.peer_nxt + 11);
    CHECK(t.st.state(s) == tcp::state::close_wait);
    std::error_code ec;
    CHECK(receive_ec(t, s, ec, 4) == "last");
    CHECK_FALSE(ec);
    CHECK(receive_ec(t, s, ec) == " words");
    CHECK_FALSE(ec);
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::end_of_stream);
    CHECK(t.st.readable(s));  // end of stream is readable: receive() does not block
    t.expect_nothing();       // reading after the FIN updates no window
}

TEST_CASE("close_wait_send_is_still_allowed")
{
    // RFC 9293 §3.10.2 SEND, CLOSE-WAIT: "Segmentize the buffer and send it" — the
    // peer closed only its own direction (half-close, §3.6).
    scenario t;
    const socket s = t.establish_then_close_wait();
    CHECK(t.st.writable(s));
    CHECK(t.send(s, "reply") == 5);
    const captured out = t.expect_one();
    CHECK(out.flags() == (ACK | PSH));
    CHECK(out.seq() == t.stack_nxt);
    CHECK(out.ack() == t.peer_nxt);
    CHECK(out.text() == "reply");
    t.inject(t.peer_ack(t.stack_nxt + 5));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(t.st.connection(s)->snd().una == t.stack_nxt + 5);
}

TEST_CASE("close_wait_text_is_ignored")
{
    // RFC 9293 §3.10.7.4 seventh, CLOSE-WAIT: "This should not occur since a FIN has
    // been received from the remote side. Ignore the segment text." Nothing is
    // delivered, RCV.NXT stays, nothing is sent.
    scenario t;
    const socket s = t.establish_then_close_wait();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "after fin");
    t.advance(t.st.configuration().delayed_ack);
    t.expect_nothing();
    CHECK(t.st.connection(s)->rcv().nxt == t.peer_nxt);
    CHECK(t.st.connection(s)->stats().bytes_received == 0);
    std::error_code ec;
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::end_of_stream);
}

TEST_CASE("close_wait_retransmitted_fin_is_acked_again")
{
    // RFC 9293 §3.10.7.4 first: the peer's FIN again (our ACK was lost) lies before
    // RCV.NXT — not acceptable, so "an acknowledgment should be sent in reply"; the
    // eighth step's CLOSE-WAIT: "Remain in the CLOSE-WAIT state".
    scenario t;
    const socket s = t.establish_then_close_wait();
    t.inject(t.segment(FIN | ACK, t.peer_nxt - 1, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::close_wait);
}

TEST_CASE("close_wait_shutdown_sends_fin_and_enters_last_ack")
{
    // RFC 9293 §3.10.4 CLOSE, CLOSE-WAIT: "Queue this request until all preceding
    // SENDs have been segmentized; then send a FIN segment, enter LAST-ACK state".
    scenario t;
    const socket s = t.establish_then_close_wait();
    CHECK_FALSE(t.st.shutdown(s));
    const captured fin = t.expect_one();
    CHECK(fin.flags() == (FIN | ACK));
    CHECK(fin.seq() == t.stack_nxt);
    CHECK(fin.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::last_ack);
    CHECK_FALSE(t.st.writable(s));
}

TEST_CASE("close_wait_send_then_shutdown_sends_fin_on_the_data")
{
    // RFC 9293 §3.10.4: the FIN follows the data queued before CLOSE; with both
    // waiting, one segment carries the data and the FIN (§3.4: the FIN's sequence
    // number is the one after the last data byte).
    scenario t;
    const socket s = t.establish_then_close_wait();
    CHECK(t.send(s, "bye") == 3);
    CHECK_FALSE(t.st.shutdown(s));
    const captured out = t.expect_one();
    CHECK(out.flags() == (ACK | PSH | FIN));
    CHECK(out.seq() == t.stack_nxt);
    CHECK(out.text() == "bye");
    CHECK(t.st.state(s) == tcp::state::last_ack);
    t.inject(t.peer_ack(t.stack_nxt + 3));  // the data, not the FIN
    CHECK(t.st.state(s) == tcp::state::last_ack);
    t.inject(t.peer_ack(t.stack_nxt + 4));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
}

TEST_CASE("close_wait_rst_at_the_peers_fin_sequence_resets")
{
    // RFC 5961 §3.2 takes a RST only at exactly RCV.NXT; after the peer's FIN that is one
    // past the FIN, and a peer that closed and then aborts numbers its RST from the FIN
    // itself. Linux accepts that one too (tcp_reset_check, in CLOSE-WAIT, CLOSING and
    // LAST-ACK); so does tcpx. One below it is still only challenged.
    scenario t;
    const socket s = t.establish_active();
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    REQUIRE(t.expect_one().flags() == ACK);
    REQUIRE(t.st.state(s) == tcp::state::close_wait);
    t.inject(t.segment(RST, t.peer_nxt - 1));
    CHECK(t.st.state(s) == tcp::state::close_wait);
    (void)t.sent();
    t.inject(t.segment(RST, t.peer_nxt));  // the FIN's number
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::connection_reset);
}

TEST_CASE("last_ack_ack_of_fin_closes_without_error")
{
    // RFC 9293 §3.10.7.4 fifth, LAST-ACK: "The only thing that can arrive in this
    // state is an acknowledgment of our FIN. If our FIN is now acknowledged, delete
    // the TCB, enter the CLOSED state, and return." A normal close leaves no error;
    // the user's handle keeps the slot until close() (then it is freed).
    scenario t;
    const socket s = t.establish_then_last_ack();
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.poll() == never);
    CHECK(t.st.connection_count() == 1);
    CHECK_FALSE(t.st.close(s));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().connections_reclaimed == 1);
}

TEST_CASE("close_wait_close_sends_fin_and_ack_of_fin_removes_connection")
{
    // RFC 9293 §3.10.4 CLOSE in CLOSE-WAIT sends the FIN (LAST-ACK); §3.10.7.4 fifth
    // LAST-ACK: the ACK of our FIN deletes the TCB — with the handle given up,
    // the control block is freed at once.
    scenario t;
    const socket s = t.establish_then_close_wait();
    CHECK_FALSE(t.st.close(s));
    const captured fin = t.expect_one();
    CHECK(fin.flags() == (FIN | ACK));
    CHECK(fin.seq() == t.stack_nxt);
    CHECK(t.st.connection_count() == 1);
    t.inject(t.peer_ack(t.stack_nxt + 1));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().connections_reclaimed == 1);
}

TEST_CASE("last_ack_fin_is_retransmitted_on_rto")
{
    // RFC 6298 §5.4: the unacknowledged FIN is resent when the retransmission timer
    // (RTO = min_rto after the handshake's sample, §2.4) expires.
    scenario t;
    const socket s = t.establish_then_last_ack();
    const duration rto = t.st.configuration().min_rto;
    t.advance(rto - 1us);
    t.expect_nothing();
    t.advance(1us);
    const captured again = t.expect_one();
    CHECK(again.flags() == (FIN | ACK));
    CHECK(again.seq() == t.stack_nxt - 1);
    CHECK(again.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::last_ack);
    CHECK(t.st.connection(s)->stats().retransmitted_segments == 1);
    CHECK(t.st.counters().retransmitted_segments == 1);
    t.inject(t.peer_ack(t.stack_nxt));
    CHECK(t.st.state(s) == tcp::state::closed);
}

TEST_CASE("last_ack_ack_below_fin_stays_in_last_ack")
{
    // RFC 9293 §3.10.7.4 fifth, LAST-ACK: only the ACK of the FIN closes; an ACK of
    // the data before it does not.
    scenario t;
    const socket s = t.establish_then_close_wait();
    CHECK(t.send(s, "data") == 4);
    CHECK(t.expect_one().text() == "data");
    CHECK_FALSE(t.st.shutdown(s));
    const captured fin = t.expect_one();
    CHECK(fin.flags() == (FIN | ACK));
    CHECK(fin.seq() == t.stack_nxt + 4);
    t.inject(t.peer_ack(t.stack_nxt + 4));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::last_ack);
}

TEST_CASE("last_ack_text_is_ignored")
{
    // RFC 9293 §3.10.7.4 seventh, LAST-ACK: "Ignore the segment text".
    scenario t;
    const socket s = t.establish_then_last_ack();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt - 1), "stray");
    t.advance(t.st.configuration().delayed_ack);
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::last_ack);
    CHECK(t.st.connection(s)->rcv().nxt == t.peer_nxt);
    CHECK(t.st.connection(s)->stats().bytes_received == 0);
}

TEST_CASE("last_ack_send_fails_with_connection_closing")
{
    // RFC 9293 §3.10.2 SEND, LAST-ACK: "Return 'error: connection closing'".
    scenario t;
    const socket s = t.establish_then_last_ack();
    std::error_code ec;
    CHECK(send_ec(t, s, "late", ec) == 0);
    CHECK(ec == errc::connection_closing);
    CHECK(t.st.shutdown(s) == errc::connection_closing);  // §3.10.4 LAST-ACK
    t.expect_nothing();
}

TEST_CASE("close_wait_rst_closes_with_connection_reset")
{
    // RFC 9293 §3.10.7.4 second, CLOSE-WAIT: "any outstanding RECEIVEs and SEND
    // should receive 'reset' responses ... enter the CLOSED state".
    scenario t;
    const socket s = t.establish_then_close_wait();
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::connection_reset);
    std::error_code ec;
    CHECK(send_ec(t, s, "x", ec) == 0);
    CHECK(ec == errc::connection_reset);
}

TEST_CASE("last_ack_rst_closes_without_error")
{
    // RFC 9293 §3.10.7.4 second, LAST-ACK: "If the RST bit is set, then enter the
    // CLOSED state, delete the TCB, and return" — no user is waiting on a reset here.
    scenario t;
    const socket s = t.establish_then_last_ack();
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.poll() == never);
}

TEST_CASE("last_ack_rst_outside_window_is_dropped_silently")
{
    // RFC 9293 §3.10.7.4 first: a RST that fails the sequence check is dropped
    // ("unless the RST bit is set" — no ACK either); the connection stays.
    scenario t;
    const socket s = t.establish_then_last_ack();
    t.inject(t.segment(RST, t.peer_nxt + 200000));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::last_ack);
}
