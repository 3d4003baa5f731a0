// Scenario tests: SYN-RECEIVED of a passive open (RFC 9293 §3.10.7.4 as it applies
// before the handshake completes), the accept queue it feeds, and the SYN-ACK's
// retransmission (RFC 6298 §5). The simultaneous-open way into SYN-RECEIVED is in
// state_syn_sent.cpp.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/handshake_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

socket accept_one(scenario& t, listener l)
{
    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    return s;
}

bool nothing_to_accept(scenario& t, listener l)
{
    std::error_code ec;
    (void)t.st.accept(l, ec);
    return ec == errc::would_block;
}

/// The ACK an unacceptable segment draws in SYN-RECEIVED (§3.10.7.4 first):
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
void expect_plain_ack(scenario& t)
{
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt);
    CHECK(ack.window() == 65535);
    CHECK(ack.payload.empty());
}

}  // namespace

// ---- fifth: the ACK that completes the handshake ----

TEST_CASE("syn_received_ack_completes_handshake_and_accept_returns_it")
{
    // RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT, then
    // enter ESTABLISHED state and continue processing with the variables below set to
    // SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK."
    scenario t;
    const listener l = t.open_passive();
    CHECK(nothing_to_accept(t, l));
    wire::tcp_header ack = t.peer_ack(t.stack_nxt);
    ack.window = 30000;
    t.inject(ack);
    t.expect_nothing();
    CHECK(t.st.counters().connections_accepted == 1);
    const socket s = accept_one(t, l);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.writable(s));
    const auto* c = t.st.connection(s);
    REQUIRE(c != nullptr);
    CHECK(c->snd().una == t.iss + 1);
    CHECK(c->snd().wnd == 30000);
    CHECK(c->snd().wl1 == t.peer_nxt);
    CHECK(c->snd().wl2 == t.iss + 1);
    CHECK(c->irs() == t.peer_iss);
    CHECK(c->id().remote_port == t.peer_port);
    CHECK(c->id().remote_address == t.peer_address);
    CHECK(nothing_to_accept(t, l));
}

TEST_CASE("syn_received_ack_of_iss_gets_rst_with_seq_from_the_ack")
{
    // RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "If the segment acknowledgment is not
    // acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST> and send it" — SEG.ACK =
    // ISS = SND.UNA acknowledges nothing.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.peer_ack(t.iss));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.iss);
    CHECK(t.st.counters().resets_sent == 1);
    CHECK(nothing_to_accept(t, l));
    // The connection is still waiting: the right ACK completes it.
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(accept_one(t, l)) == tcp::state::established);
}

TEST_CASE("syn_received_ack_beyond_snd_nxt_gets_rst_with_seq_from_the_ack")
{
    // RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: SEG.ACK > SND.NXT is not acceptable.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.peer_ack(t.iss + 100));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.iss + 100);
    CHECK(nothing_to_accept(t, l));
    CHECK(t.st.connection_count() == 1);
}

TEST_CASE("syn_received_segment_without_ack_is_dropped")
{
    // RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and return".
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(PSH, t.peer_nxt), "no ack");
    t.expect_nothing();
    CHECK(nothing_to_accept(t, l));
    t.inject(t.peer_ack(t.stack_nxt));
    const socket s = accept_one(t, l);
    CHECK(t.receive(s).empty());  // the text was dropped with its segment
}

TEST_CASE("syn_received_data_with_completing_ack_is_delivered")
{
    // RFC 9293 §3.10.7.4 fifth: ESTABLISHED "and continue processing"; seventh: the
    // text goes to the receive buffer and is acknowledged (delayed, RFC 1122 §4.2.3.2).
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "hello");
    t.expect_nothing();
    const socket s = accept_one(t, l);
    CHECK(t.receive(s) == "hello");
    CHECK(t.st.connection(s)->stats().bytes_received == 5);
    t.advance(t.st.configuration().delayed_ack);
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt + 5);
}

TEST_CASE("syn_received_fin_with_completing_ack_enters_close_wait_after_accept")
{
    // RFC 9293 §3.10.7.4 eighth: "SYN-RECEIVED STATE, ESTABLISHED STATE: Enter the
    // CLOSE-WAIT state", the FIN acknowledged at once; accept() still hands it over.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.stack_nxt);
    CHECK(ack.ack() == t.peer_nxt + 1);
    CHECK(t.st.counters().connections_accepted == 1);
    const socket s = accept_one(t, l);
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(t.st.peer_closed(s));
    CHECK(t.st.readable(s));
    std::array<std::uint8_t, 8> buf{};
    std::error_code ec;
    CHECK(t.st.receive(s, buf, ec) == 0);
    CHECK(ec == errc::end_of_stream);
    CHECK(t.st.writable(s));  // half-close: we may still send
}

TEST_CASE("syn_received_data_and_fin_with_completing_ack_are_both_taken")
{
    // RFC 9293 §3.10.7.4 seventh then eighth, in one segment.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(FIN | ACK | PSH, t.peer_nxt, t.stack_nxt), "bye");
    const captured ack = t.expect_one();
    CHECK(ack.ack() == t.peer_nxt + 4);
    const socket s = accept_one(t, l);
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(t.receive(s) == "bye");
}

// ---- second: the RST bit ----

TEST_CASE("syn_received_rst_removes_the_embryonic_connection")
{
    // RFC 9293 §3.10.7.4 second, SYN-RECEIVED: "If this connection was initiated with a
    // passive OPEN (i.e., came from the LISTEN state), then return this connection to
    // LISTEN state and return. The user need not be informed." The listener keeps
    // working, and the half-open place is given back.
    config c = scenario_config();
    c.max_half_open = 1;
    scenario t{c};
    const listener l = t.open_passive();
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().connections_reclaimed == 1);
    CHECK(nothing_to_accept(t, l));
    // The same peer (a new ISN) and another peer are both answered.
    t.inject(t.segment(SYN, seq32{50000}));
    const captured again = t.expect_one();
    CHECK(again.flags() == (SYN | ACK));
    CHECK(again.ack() == seq32{50001});
    CHECK(t.st.counters().dropped(drop_reason::half_open_limit) == 0);
}

TEST_CASE("syn_received_rst_outside_the_window_is_dropped")
{
    // RFC 9293 §3.10.7.4 first: an unacceptable segment with RST is dropped without an ACK.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(RST, t.peer_nxt + 100000));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 1);
    t.inject(t.peer_ack(t.stack_nxt));
    CHECK(t.st.state(accept_one(t, l)) == tcp::state::established);
}

TEST_CASE("syn_received_rst_in_window_but_not_at_rcv_nxt_gets_challenge_ack")
{
    // RFC 5961 §3.2 (RFC 9293 §3.10.7.4 second): a reset in the window but not exactly
    // at RCV.NXT draws a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(RST, t.peer_nxt + 10));
    expect_plain_ack(t);
    CHECK(t.st.connection_count() == 1);
    t.inject(t.peer_ack(t.stack_nxt));
    const socket s = accept_one(t, l);
    CHECK(t.st.connection(s)->stats().challenge_acks == 1);
}

// ---- fourth: the SYN bit ----

TEST_CASE("syn_received_retransmitted_syn_gets_the_syn_ack_again")
{
    // RFC 9293 §3.5: a lost SYN,ACK shows as the peer's SYN again; answering it with
    // the same <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> lets the handshake go on at once.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(SYN, t.peer_iss));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.seq() == t.iss);
    CHECK(synack.ack() == t.peer_iss + 1);
    REQUIRE(synack.tcp.options.mss.has_value());
    CHECK(*synack.tcp.options.mss == 1460);
    CHECK(t.st.counters().retransmitted_segments == 1);
    CHECK(t.st.connection_count() == 1);
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(accept_one(t, l)) == tcp::state::established);
}

TEST_CASE("syn_received_duplicate_syn_keeps_the_initial_window_and_rto")
{
    // RFC 5681 §3.1 cuts the initial window to one segment, and RFC 6298 §5.7 raises
    // the RTO to 3 s, when the SYN or SYN-ACK "is lost": when the retransmission timer
    // fired. A SYN that merely arrives twice draws the SYN-ACK again (above) and shows
    // no loss of ours: the connection starts with RFC 5681's four segments of 536 and
    // the 1 s initial RTO, as without the copy.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(SYN, t.peer_iss));
    REQUIRE(t.expect_one().flags() == (SYN | ACK));
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    const socket s = accept_one(t, l);
    CHECK(t.st.connection(s)->rtt().rto() == t.st.configuration().initial_rto);
    CHECK(t.send(s, std::string(10000, 'x')) == 10000);
    const auto out = t.sent();
    CHECK(out.size() == 4);
    for (const captured& c : out) CHECK(c.text().size() == 536);
}

TEST_CASE("syn_received_new_syn_in_window_returns_to_listen")
{
    // RFC 9293 §3.10.7.4 fourth, SYN-RECEIVED: "If the connection was initiated with a
    // passive OPEN, then return this connection to the LISTEN state and return." The
    // embryonic connection goes silently; the peer's next SYN gets a fresh SYN,ACK.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(SYN, t.peer_nxt + 50));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(nothing_to_accept(t, l));
    t.inject(t.segment(SYN, t.peer_nxt + 50));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == t.peer_nxt + 51);
}

// ---- first: the sequence number ----

TEST_CASE("syn_received_segment_beyond_the_window_gets_an_ack")
{
    // RFC 9293 §3.10.7.4 first: "If an incoming segment is not acceptable, an
    // acknowledgment should be sent in reply (unless the RST bit is set)"
    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the segment is dropped.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(ACK | PSH, t.peer_nxt + 70000, t.stack_nxt), "far");
    expect_plain_ack(t);
    CHECK(nothing_to_accept(t, l));  // its ACK did not complete the handshake
    t.inject(t.peer_ack(t.stack_nxt));
    const socket s = accept_one(t, l);
    CHECK(t.receive(s).empty());
}

TEST_CASE("syn_received_old_segment_gets_an_ack")
{
    // RFC 9293 §3.10.7.4 first: a segment wholly before RCV.NXT is not acceptable.
    scenario t;
    const listener l = t.open_passive();
    t.inject(t.segment(ACK, t.peer_iss - 100, t.stack_nxt), "old");
    expect_plain_ack(t);
    CHECK(nothing_to_accept(t, l));
}

// ---- timers ----

TEST_CASE("syn_received_syn_ack_is_retransmitted_after_1_then_2_seconds")
{
    // RFC 6298 §2.1 / §5.5: the SYN,ACK is timed like any segment: 1 s, then doubled.
    scenario t;
    const listener l = t.open_passive();
    const duration waits[] = {std::chrono::seconds(1), std::chrono::seconds(2)};
    for (const duration wait : waits) {
        t.advance(wait - std::chrono::milliseconds(1));
        t.expect_nothing();
        t.advance(std::chrono::milliseconds(1));
        const captured synack = t.expect_one();
        CHECK(synack.flags() == (SYN | ACK));
        CHECK(synack.seq() == t.iss);
        CHECK(synack.ack() == t.peer_iss + 1);
    }
    CHECK(t.st.counters().retransmitted_segments == 2);
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    const socket s = accept_one(t, l);
    CHECK(t.st.connection(s)->stats().retransmitted_segments == 2);
    CHECK(t.st.connection(s)->stats().timeouts == 2);
}

TEST_CASE("syn_received_unanswered_syn_ack_gives_up_after_connect_timeout")
{
    // RFC 1122 §4.2.3.5 (R2 for a SYN-ACK too) / RFC 9293 §3.10.8: the embryonic
    // connection is deleted; nobody holds it, so it is reclaimed and its half-open
    // place given back.
    config c = scenario_config();
    c.connect_timeout = std::chrono::seconds(10);
    c.max_half_open = 1;
    scenario t{c};
    const listener l = t.open_passive();
    while (t.st.connection_count() != 0) {
        REQUIRE(t.advance_to_deadline());
        for (const captured& out : t.sent()) CHECK(out.flags() == (SYN | ACK));
    }
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(nothing_to_accept(t, l));
    t.peer_port = 40001;
    t.inject(t.segment(SYN, t.peer_iss));
    CHECK(t.expect_one().flags() == (SYN | ACK));
}

TEST_CASE("syn_received_unanswered_syn_ack_gives_up_after_syn_ack_retries")
{
    // config::syn_ack_retries (Linux's tcp_synack_retries, 5): the first SYN,ACK and five
    // retransmissions at 1, 2, 4, 8 and 16 s; at the next timeout (63 s) the embryonic
    // connection is deleted, long before connect_timeout.
    scenario t;
    (void)t.open_passive();
    const instant opened = t.time.now();
    std::size_t retransmissions = 0;
    while (t.st.connection_count() != 0) {
        REQUIRE(t.advance_to_deadline());
        for (const captured& out : t.sent()) {
            CHECK(out.flags() == (SYN | ACK));
            ++retransmissions;
        }
    }
    CHECK(retransmissions == 5);
    CHECK(t.time.now() - opened == std::chrono::seconds(63));
    CHECK(t.st.counters().resets_sent == 0);
}

TEST_CASE("syn_received_under_half_open_pressure_gives_up_after_fewer_retries")
{
    // config::syn_ack_retries_under_pressure (2): with the half-open table at least half
    // full, an embryonic connection gives up after 1 + 2 SYN,ACKs, at 7 s.
    config c = scenario_config();
    c.max_half_open = 2;
    c.syn_cookies = syn_cookie_mode::never;
    scenario t{c};
    (void)t.open_passive();
    const instant opened = t.time.now();
    std::size_t retransmissions = 0;
    while (t.st.connection_count() != 0) {
        REQUIRE(t.advance_to_deadline());
        retransmissions += t.sent().size();
    }
    CHECK(retransmissions == 2);
    CHECK(t.time.now() - opened == std::chrono::seconds(7));
}

TEST_CASE("listen_half_open_past_the_listeners_backlog_is_answered_with_a_cookie")
{
    // RFC 4987 §3.6, as Linux's per-listener SYN queue: a listener's half-open
    // connections are bounded by its backlog; past it a cookie answers, so a flood at one
    // port cannot take the stack-wide table from the others.
    scenario t;
    (void)t.open_passive(2);  // one half-open from port 40000
    t.peer_port = 40001;
    t.inject(t.segment(SYN, t.peer_iss));
    CHECK(t.expect_one().flags() == (SYN | ACK));
    CHECK(t.st.counters().syn_cookies_sent == 0);
    t.peer_port = 40002;
    t.inject(t.segment(SYN, t.peer_iss));
    CHECK(t.expect_one().flags() == (SYN | ACK));
    CHECK(t.st.counters().syn_cookies_sent == 1);
    CHECK(t.st.connection_count() == 2);
}
