// Scenario tests: every segment a connection discards, and every part of one it does
// not take, is counted by reason (tcp::discard_reason, connection_stats::discarded),
// and the stack's own discards by drop_reason — one case per rule of RFC 9293
// §3.10.7 that says "drop", and RFC 5961's challenges.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"

#include <string>

#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;
using tcp::discard_reason;

namespace {

std::uint32_t discards(scenario& t, socket s, discard_reason r) { return conn(t, s).stats().discards(r); }

}  // namespace

TEST_CASE("established_segment_without_ack_is_discarded_and_counted")
{
    // §3.10.7.4 fifth: "if the ACK bit is off drop the segment and return".
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(PSH, t.peer_nxt), "abc");
    t.expect_nothing();
    CHECK(discards(t, s, discard_reason::no_ack) == 1);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);
}

TEST_CASE("established_segment_outside_the_window_is_acknowledged_and_counted")
{
    // §3.10.7.4 first: an unacceptable segment is answered with an ACK and dropped.
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt + 200000, t.stack_nxt, "far");
    CHECK(t.expect_one().ack() == t.peer_nxt);
    CHECK(discards(t, s, discard_reason::unacceptable) == 1);
}

TEST_CASE("established_text_beyond_the_window_is_trimmed_and_counted")
{
    // §3.10.7.4 first: the part beyond RCV.NXT+RCV.WND is trimmed; the rest is taken.
    config c = scenario_config();
    c.receive_buffer = 1000;
    scenario t{c};
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, pattern(1500));
    (void)t.sent();
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt + 1000);
    CHECK(discards(t, s, discard_reason::text_beyond_window) == 1);
}

TEST_CASE("close_wait_text_is_ignored_and_counted")
{
    // §3.10.7.4 seventh, CLOSE-WAIT: "Ignore the segment text."
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    t.peer_nxt = t.peer_nxt + 1;
    (void)t.sent();
    REQUIRE(t.st.state(s) == tcp::state::close_wait);
    inject_data(t, t.peer_nxt, t.stack_nxt, "late");
    (void)t.sent();
    CHECK(discards(t, s, discard_reason::text_after_fin) == 1);
}

TEST_CASE("established_reset_in_the_window_not_at_rcv_nxt_is_challenged_and_counted")
{
    // RFC 5961 §3.2: a challenge ACK, the connection untouched.
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(RST, t.peer_nxt + 10));
    CHECK(t.expect_one().flags() == ACK);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(discards(t, s, discard_reason::reset_not_exact) == 1);
}

TEST_CASE("established_syn_is_challenged_and_counted")
{
    // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK and is dropped.
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(SYN, t.peer_nxt));
    CHECK(t.expect_one().flags() == ACK);
    CHECK(discards(t, s, discard_reason::syn_synchronized) == 1);
}

TEST_CASE("established_ack_of_unsent_data_is_discarded_counted_and_a_second_answer_throttled")
{
    // RFC 5961 §5.2: an ACK of data not yet sent is discarded with a challenge ACK; a
    // second within the throttle (§7) gets none, counted as throttled.
    scenario t;
    const socket s = establish(t);
    t.inject(t.peer_ack(t.stack_nxt + 5000));
    CHECK(t.expect_one().flags() == ACK);
    t.inject(t.peer_ack(t.stack_nxt + 6000));
    t.expect_nothing();
    CHECK(discards(t, s, discard_reason::bad_ack) == 2);
    CHECK(conn(t, s).stats().acks_throttled == 1);
}

TEST_CASE("syn_sent_segment_without_syn_or_rst_is_discarded_and_counted")
{
    // §3.10.7.3 fifth: "If neither of the SYN or RST bits is set, then drop the segment".
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(ACK, t.peer_iss, t.stack_nxt));
    t.expect_nothing();
    CHECK(discards(t, s, discard_reason::syn_sent_no_syn) == 1);
    t.inject(t.segment(RST, t.peer_iss));  // a reset without an ACK: dropped too (second)
    CHECK(discards(t, s, discard_reason::syn_sent_reset) == 1);
    CHECK(t.st.state(s) == tcp::state::syn_sent);
}

TEST_CASE("syn_sent_ack_of_nothing_sent_is_reset_and_counted")
{
    // §3.10.7.3 first: an unacceptable ACK is answered with <SEQ=SEG.ACK><CTL=RST>.
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(SYN | ACK, t.peer_iss, t.stack_nxt + 100));
    CHECK(t.expect_one().flags() == RST);
    CHECK(discards(t, s, discard_reason::syn_sent_bad_ack) == 1);
}

TEST_CASE("closed_port_reset_is_dropped_and_counted")
{
    // §3.10.7.1: a reset to no connection and no listener is discarded, unanswered.
    scenario t;
    t.inject(t.segment(RST, seq32{5000}));
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::reset_no_connection) == 1);
}

TEST_CASE("listen_syn_text_is_not_kept_and_is_counted")
{
    // §3.10.7.2: the SYN's text may be queued (a SHOULD); tcpx, as Linux without Fast
    // Open, does not take it — the SYN,ACK acknowledges only the SYN — and counts it.
    scenario t;
    std::error_code ec;
    (void)t.st.listen(t.local_port, 4, ec);
    REQUIRE_FALSE(ec);
    t.inject(t.segment(SYN, t.peer_iss), "early");
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == t.peer_iss + 1);
    CHECK(t.st.counters().syn_text_discarded == 1);
}
