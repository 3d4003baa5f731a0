// Scenario tests: TIME-WAIT — its length, what it answers, and when a new SYN may
// end it (RFC 9293 §3.4.2, §3.10.7.4, §3.10.8; RFC 1122 §4.2.2.13; RFC 6191).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/closing_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;
using namespace std::chrono_literals;

TEST_CASE("time_wait_lasts_exactly_2msl")
{
    // RFC 9293 §3.10.8 TIME-WAIT TIMEOUT: "If the time-wait timeout expires on a
    // connection, delete the TCB, enter the CLOSED state, and return"; the timeout is
    // 2 MSL (§3.4.2, config::msl). It ends silently and without error.
    scenario t;
    const socket s = t.establish_then_time_wait();
    const duration two_msl = 2 * t.st.configuration().msl;
    CHECK(t.st.poll() == t.time.now() + two_msl);
    t.advance(two_msl - 1us);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    t.advance(1us);
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.poll() == never);
}

TEST_CASE("time_wait_after_close_is_removed_after_exactly_2msl")
{
    // RFC 9293 §3.10.8: the TCB is deleted when the time-wait timeout expires — with
    // the handle closed, nothing else holds it: the connection leaves the table.
    scenario t;
    const socket s = t.establish_then_time_wait();
    CHECK_FALSE(t.st.close(s));
    t.expect_nothing();  // close() in TIME-WAIT sends nothing (§3.10.4: "connection closing")
    CHECK(t.st.state(s) == tcp::state::closed);  // the handle is stale at once
    CHECK(t.st.connection_count() == 1);
    const duration two_msl = 2 * t.st.configuration().msl;
    t.advance(two_msl - 1us);
    CHECK(t.st.connection_count() == 1);
    t.advance(1us);
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().connections_reclaimed == 1);
}

TEST_CASE("time_wait_retransmitted_fin_is_acked_and_restarts_2msl")
{
    // RFC 9293 §3.10.7.4 (fifth and eighth), TIME-WAIT: "The only thing that can arrive
    // in this state is a retransmission of the remote FIN. Acknowledge it, and restart
    // the 2 MSL timeout." The retransmitted FIN sits one before RCV.NXT.
    scenario t;
    const socket s = t.establish_then_time_wait();
    const duration two_msl = 2 * t.st.configuration().msl;
    t.advance(30s);
    t.inject(t.segment(FIN | ACK, t.peer_nxt - 1, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.poll() == t.time.now() + two_msl);
    t.advance(two_msl - 1us);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    t.advance(1us);
    CHECK(t.st.state(s) == tcp::state::closed);
}

TEST_CASE("time_wait_text_is_ignored_but_acked_and_does_not_restart_the_timer")
{
    // RFC 9293 §3.10.7.4 seventh, TIME-WAIT: "Ignore the segment text"; only a FIN
    // restarts the 2 MSL wait. The text is answered with an ACK at once, as Linux's
    // TIME-WAIT answers it: the peer learns its FIN was taken and nothing more is.
    scenario t;
    const socket s = t.establish_then_time_wait();
    const instant ends = t.time.now() + 2 * t.st.configuration().msl;
    t.advance(1s);
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "stray");
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(ack.payload.empty());
    t.advance(t.st.configuration().delayed_ack);
    t.expect_nothing();
    CHECK(t.st.connection(s)->rcv().nxt == t.peer_nxt);
    CHECK(t.st.connection(s)->stats().bytes_received == 0);
    CHECK(t.st.poll() == ends);
}

TEST_CASE("time_wait_duplicate_ack_is_not_answered")
{
    // RFC 9293 §3.10.7.4 fifth, TIME-WAIT: an acceptable ACK that carries no FIN asks
    // for nothing (answering ACKs with ACKs would loop); the timer runs on.
    scenario t;
    const socket s = t.establish_then_time_wait();
    const instant ends = t.time.now() + 2 * t.st.configuration().msl;
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.poll() == ends);
}

TEST_CASE("time_wait_turns_the_other_timers_off")
{
    // RFC 9293 §3.10.7.4 eighth: "Start the time-wait timer, turn off the other timers".
    // Keep-alive, armed while ESTABLISHED, is off too (RFC 1122 §4.2.3.6 probes
    // synchronized connections that can still carry data).
    config cfg = scenario_config();
    cfg.keepalive = true;
    scenario t{cfg};
    const socket s = t.establish_then_time_wait();
    CHECK(deadline_of(t, s, tcp::timer::retransmit) == never);
    CHECK(deadline_of(t, s, tcp::timer::persist) == never);
    CHECK(deadline_of(t, s, tcp::timer::delayed_ack) == never);
    CHECK(deadline_of(t, s, tcp::timer::keepalive) == never);
    CHECK(deadline_of(t, s, tcp::timer::time_wait) == t.time.now() + 2 * cfg.msl);
}

TEST_CASE("time_wait_rst_closes_without_error")
{
    // RFC 9293 §3.10.7.4 second, TIME-WAIT: "If the RST bit is set, then enter the
    // CLOSED state, delete the TCB, and return" (RFC 9293 keeps RFC 793's rule; the
    // RFC 1337 hazard is left to the 2 MSL of the next incarnation's ISN choice).
    scenario t;
    const socket s = t.establish_then_time_wait();
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.poll() == never);
}

TEST_CASE("time_wait_send_fails_and_receive_reports_end_of_stream")
{
    // RFC 9293 §3.10.2 SEND, TIME-WAIT: "Return 'error: connection closing'";
    // §3.10.3 RECEIVE, TIME-WAIT: "Return 'error: connection closing'".
    scenario t;
    const socket s = t.establish_then_time_wait();
    std::error_code ec;
    CHECK(send_ec(t, s, "late", ec) == 0);
    CHECK(ec == errc::connection_closing);
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::end_of_stream);
    CHECK(t.st.shutdown(s) == errc::connection_closing);
    t.expect_nothing();
}

TEST_CASE("time_wait_syn_with_higher_sequence_number_reopens_on_listening_port")
{
    // RFC 9293 §3.10.7.4 fourth (RFC 1122 §4.2.2.13, RFC 6191 §2): a SYN for a 4-tuple
    // in TIME-WAIT may start a new incarnation when its SEQ is above the old RCV.NXT
    // and the port is listening. The old TCB goes (the old handle is stale); the new
    // connection's ISN lies beyond the old SND.NXT (RFC 1122 §4.2.2.13 (1)), so no
    // old duplicate can be mistaken for new data.
    scenario t;
    const socket old = establish_passive_then_time_wait(t);
    const seq32 old_snd_nxt = t.stack_nxt;
    t.advance(1s);
    const seq32 new_iss = t.peer_nxt + 100000;
    t.inject(t.segment(SYN, new_iss));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == new_iss + 1);
    CHECK(seq_gt(synack.seq(), old_snd_nxt));
    CHECK(t.st.counters().time_wait_reopened == 1);
    CHECK(t.st.connection_count() == 1);
    CHECK(t.st.state(old) == tcp::state::closed);
    CHECK(t.st.error(old) == errc::bad_handle);
}

TEST_CASE("time_wait_reopened_connection_completes_and_is_accepted")
{
    // RFC 6191 §2 / RFC 9293 §3.10.7.2: after the reopening SYN the handshake runs as
    // from LISTEN, and the new connection reaches accept().
    scenario t;
    listener l;
    const socket old = establish_passive_then_time_wait(t, l);
    t.advance(1s);
    const seq32 new_iss = t.peer_nxt + 100000;
    t.inject(t.segment(SYN, new_iss));
    const captured synack = t.expect_one();
    REQUIRE(synack.flags() == (SYN | ACK));
    t.inject(t.segment(ACK, new_iss + 1, synack.seq() + 1));
    t.expect_nothing();
    std::error_code ec;
    const socket fresh = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.st.state(fresh) == tcp::state::established);
    CHECK(t.st.connection(fresh)->irs() == new_iss);
    CHECK(t.st.state(old) == tcp::state::closed);
    CHECK(t.st.counters().connections_accepted == 2);
}

TEST_CASE("time_wait_syn_with_lower_sequence_number_is_not_accepted")
{
    // RFC 6191 §2 / RFC 1122 §4.2.2.13: a SYN at or below the old RCV.NXT may be an old
    // duplicate; it does not end TIME-WAIT. RFC 9293 §3.10.7.4 first: it is not
    // acceptable, so it is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    scenario t;
    const socket s = establish_passive_then_time_wait(t);
    t.inject(t.segment(SYN, t.peer_nxt - 100));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.counters().time_wait_reopened == 0);
}

TEST_CASE("time_wait_syn_at_rcv_nxt_is_not_accepted")
{
    // RFC 1122 §4.2.2.13: reopening needs a new SEQ strictly greater than the old
    // RCV.NXT. At RCV.NXT the SYN is in the window: RFC 5961 §4.2 / RFC 9293
    // §3.10.7.4 fourth, a challenge ACK, and TIME-WAIT stays.
    scenario t;
    const socket s = establish_passive_then_time_wait(t);
    t.inject(t.segment(SYN, t.peer_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.counters().time_wait_reopened == 0);
    CHECK(t.st.connection(s)->stats().challenge_acks == 1);
}

TEST_CASE("time_wait_syn_without_listener_is_not_accepted")
{
    // RFC 1122 §4.2.2.13 lets a TIME-WAIT be reopened only as a passive open: with no
    // listener on the port (the stack opened actively) the SYN is an in-window SYN
    // in a synchronized state — RFC 5961 §4.2: challenge ACK, TIME-WAIT stays.
    scenario t;
    const socket s = t.establish_then_time_wait();
    t.inject(t.segment(SYN, t.peer_nxt + 1000));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.counters().time_wait_reopened == 0);
}

TEST_CASE("time_wait_abort_sends_nothing_and_removes_connection")
{
    // RFC 9293 §3.10.5 ABORT, TIME-WAIT: "Respond with 'ok' and delete the TCB, enter
    // CLOSED state" — no reset: the peer has closed already.
    scenario t;
    const socket s = t.establish_then_time_wait();
    CHECK_FALSE(t.st.abort(s));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().resets_sent == 0);
}

TEST_CASE("time_wait_past_max_time_wait_acks_the_fin_and_closes_at_once_counted")
{
    // config::max_time_wait (Linux's tcp_max_tw_buckets): past the bound, the peer's FIN
    // is still acknowledged (it would otherwise retransmit it into a closed port and be
    // reset), then the connection is CLOSED at once, without error, and counted.
    config c = scenario_config();
    c.max_time_wait = 1;
    scenario t{c};
    const socket first = t.establish_then_time_wait();  // takes the one TIME-WAIT slot
    CHECK(t.st.time_wait_count() == 1);
    CHECK(t.st.counters().time_wait_overflows == 0);
    t.peer_port = 40001;
    const socket second = t.establish_then_fin_wait_2();
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    t.peer_nxt = t.peer_nxt + 1;
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(t.st.state(second) == tcp::state::closed);
    CHECK_FALSE(t.st.error(second));
    CHECK(t.st.counters().time_wait_overflows == 1);
    CHECK(t.st.time_wait_count() == 1);
    CHECK(t.st.state(first) == tcp::state::time_wait);
    // Its 4-tuple is free: a retransmitted FIN gets the closed port's reset, as Linux.
    t.inject(t.segment(FIN | ACK, t.peer_nxt - 1, t.stack_nxt));
    CHECK(t.expect_one().flags() == (RST));
}

TEST_CASE("time_wait_does_not_count_against_max_connections")
{
    // A server that closes first holds a TIME-WAIT per connection for 2 MSL; counted
    // against max_connections, they would stop it accepting (the bound is max_time_wait).
    config c = scenario_config();
    c.max_connections = 1;
    scenario t{c};
    const socket old = t.establish_then_time_wait();
    CHECK_FALSE(t.st.close(old));
    CHECK(t.st.connection_count() == 1);
    CHECK(t.st.time_wait_count() == 1);
    t.peer_port = 40001;
    const socket s = t.establish_active();
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.counters().dropped(drop_reason::connection_limit) == 0);
    // The one live connection is the limit: a second connect() is refused, counted.
    std::error_code ec;
    t.peer_port = 40002;
    (void)t.st.connect(t.peer_address, t.peer_port, ec);
    CHECK(ec == errc::no_buffer_space);
    CHECK(t.st.counters().dropped(drop_reason::connection_limit) == 1);
}
