// Scenario tests: flow control in ESTABLISHED — the receive window we advertise
// (RFC 9293 §3.8.6, receiver SWS avoidance §3.8.6.2.2, RFC 1122 §4.2.3.3), how the
// sender obeys the peer's window (§3.8.6, sender SWS avoidance §3.8.6.2.1, Nagle
// RFC 1122 §4.2.3.4), and zero-window probing (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

/// An 8 KiB receive buffer: small enough to fill, and the window is exactly the free space.
config receive_8k()
{
    config c = scenario_config();
    c.receive_buffer = 8192;
    return c;
}

/// The peer fills the 8192-byte buffer (5 x 1460 + 892); returns the last ACK the stack sent.
captured fill_receive_buffer(scenario& t)
{
    for (std::uint32_t at = 0; at < 8192; at += 1460)
        inject_data(t, t.peer_nxt + at, t.stack_nxt, pattern(std::min<std::uint32_t>(1460, 8192 - at), at));
    t.peer_nxt = t.peer_nxt + 8192;
    t.advance(t.st.configuration().delayed_ack);
    const auto acks = t.sent();
    REQUIRE(!acks.empty());
    return acks.back();
}

}  // namespace

// ---- the window we advertise ----

TEST_CASE("flow_advertised_window_is_free_receive_space")
{
    // RFC 9293 §3.8.6: RCV.WND is the buffer space available; unread data shrinks it,
    // and the right edge RCV.NXT+RCV.WND stays where it was.
    scenario t{receive_8k()};
    const socket s = establish(t);
    CHECK(conn(t, s).rcv().wnd == 8192);
    inject_data(t, t.peer_nxt, t.stack_nxt, pattern(1000));
    t.advance(t.st.configuration().delayed_ack);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 1000, 7192);
    inject_data(t, t.peer_nxt + 1000, t.stack_nxt, pattern(500, 1000));
    t.advance(t.st.configuration().delayed_ack);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 1500, 6692);
    // Reading 1500 bytes frees enough (>= one MSS) to move the right edge at the next ACK.
    CHECK(t.receive(s).size() == 1500);
    inject_data(t, t.peer_nxt + 1500, t.stack_nxt, pattern(100, 1500));
    t.advance(t.st.configuration().delayed_ack);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 1600, 8092);
}

TEST_CASE("flow_window_closes_to_zero_when_receive_buffer_is_full")
{
    // RFC 9293 §3.8.6: with the buffer full the receiver advertises a zero window.
    scenario t{receive_8k()};
    const socket s = establish(t);
    const captured last = fill_receive_buffer(t);
    check_segment(last, ACK, t.stack_nxt, t.peer_nxt, 0);
    CHECK(conn(t, s).rcv().wnd == 0);
    CHECK(conn(t, s).readable_bytes() == 8192);
}

TEST_CASE("flow_bare_fin_at_rcv_nxt_into_zero_window_is_taken")
{
    // RFC 9293 §3.10.7.4 first: with RCV.WND zero no segment of non-zero length is
    // acceptable — yet a bare FIN needs no buffer space, and Linux takes it
    // (tcp_data_queue), so the peer's close is not stuck behind a slow reader. The data
    // before it is all still readable, then end of stream.
    scenario t{receive_8k()};
    const socket s = establish(t);
    (void)fill_receive_buffer(t);
    REQUIRE(conn(t, s).rcv().wnd == 0);
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 1, 0);
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(t.receive(s).size() == 8192);
    CHECK(t.st.peer_closed(s));
}

TEST_CASE("flow_reading_everything_reopens_window_with_an_update")
{
    // RFC 1122 §4.2.3.3 / RFC 9293 §3.8.6.2.2: once the application frees enough space, a
    // window update is sent at once (the peer, facing a zero window, would otherwise wait
    // for its persist timer).
    scenario t{receive_8k()};
    const socket s = establish(t);
    (void)fill_receive_buffer(t);
    CHECK(t.receive(s) == [] {
        std::string all;
        for (std::size_t at = 0; at < 8192; at += 1460) all += pattern(std::min<std::size_t>(1460, 8192 - at), at);
        return all;
    }());
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 8192);
}

TEST_CASE("flow_small_read_from_zero_window_sends_no_update")
{
    // RFC 9293 §3.8.6.2.2 receiver SWS avoidance: the right edge moves only when the freed
    // space reaches min(RCV.BUFF / 2, Eff.snd.MSS) = min(4096, 1460); then the update goes.
    scenario t{receive_8k()};
    const socket s = establish(t);
    (void)fill_receive_buffer(t);
    CHECK(t.receive(s, 1459).size() == 1459);
    t.expect_nothing();
    CHECK(t.receive(s, 1).size() == 1);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 1460);
}

TEST_CASE("flow_ack_after_small_read_keeps_window_closed")
{
    // RFC 9293 §3.8.6.2.2: "keep RCV.NXT+RCV.WND fixed until the reduction satisfies
    // RCV.BUFF - RCV.USER - RCV.WND >= min(Fr * RCV.BUFF, Eff.snd.MSS)" — also in the ACK
    // that answers a zero-window probe.
    scenario t{receive_8k()};
    const socket s = establish(t);
    (void)fill_receive_buffer(t);
    CHECK(t.receive(s, 100).size() == 100);
    t.expect_nothing();
    inject_data(t, t.peer_nxt, t.stack_nxt, "x");  // the peer's probe
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 0);
    CHECK(conn(t, s).readable_bytes() == 8092);
}

// ---- the sender obeys the peer's window ----

TEST_CASE("flow_sender_respects_peer_window_exactly")
{
    // RFC 9293 §3.8.6: the sender never sends beyond SND.UNA + SND.WND.
    scenario t;
    const socket s = establish(t, {.window = 1000});
    CHECK(t.send(s, pattern(5000)) == 5000);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535, pattern(1000));
    t.expect_nothing();
    t.inject(t.peer_ack(t.stack_nxt + 1000));
    check_segment(t.expect_one(), ACK, t.stack_nxt + 1000, t.peer_nxt, 65535, pattern(1000, 1000));
    t.expect_nothing();
}

TEST_CASE("flow_sender_fills_a_window_opened_by_ack")
{
    // RFC 9293 §3.8.6: a larger window lets more go at once — full segments up to the new
    // right edge; RFC 1122 §4.2.3.4 Nagle holds the small tail while data is unacknowledged.
    scenario t;
    const socket s = establish(t, {.window = 1000});
    t.send(s, pattern(5000));
    (void)t.expect_one();
    t.peer_window = 4000;
    t.inject(t.peer_ack(t.stack_nxt + 1000));
    const auto out = t.sent();
    REQUIRE(out.size() == 2);
    check_segment(out[0], ACK, t.stack_nxt + 1000, t.peer_nxt, 65535, pattern(1460, 1000));
    check_segment(out[1], ACK, t.stack_nxt + 2460, t.peer_nxt, 65535, pattern(1460, 2460));
    t.inject(t.peer_ack(t.stack_nxt + 3920));
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 3920, t.peer_nxt, 65535, pattern(1080, 3920));
}

TEST_CASE("flow_sender_sws_holds_segment_below_half_the_max_window")
{
    // RFC 9293 §3.8.6.2.1 sender SWS avoidance: send only a full segment, or at least
    // Fs = 1/2 of the largest window offered, or everything when nothing is unacknowledged.
    scenario t;
    const socket s = establish(t, {.window = 4000});
    t.send(s, pattern(10000));
    const auto first = t.sent();
    REQUIRE(first.size() == 2);  // 1460 + 1460; the usable 1080 < 2000 waits
    CHECK(first[1].seq() == t.stack_nxt + 1460);
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    check_segment(t.expect_one(), ACK, t.stack_nxt + 2920, t.peer_nxt, 65535, pattern(1460, 2920));
    t.expect_nothing();  // usable is 1080 again
}

TEST_CASE("flow_sender_never_sends_beyond_snd_una_plus_snd_wnd")
{
    // RFC 9293 §3.8.6 (and RFC 5681 §3.1's cwnd on top): over a whole transfer with a
    // 3000-byte window, every segment ends at or before SND.UNA + SND.WND.
    scenario t;
    const socket s = establish(t, {.window = 3000});
    const std::string data = pattern(30000);
    CHECK(t.send(s, data) == data.size());
    seq32 una = t.stack_nxt;
    std::string delivered;
    for (int round = 0; round < 100 && delivered.size() < data.size(); ++round) {
        const auto out = t.sent();
        REQUIRE(!out.empty());
        for (const captured& c : out) {
            CHECK(seq_le(c.seq() + static_cast<std::uint32_t>(c.payload.size()), una + 3000));
            CHECK(c.seq() == t.stack_nxt + static_cast<std::uint32_t>(delivered.size()));
            delivered += c.text();
        }
        una = t.stack_nxt + static_cast<std::uint32_t>(delivered.size());
        t.inject(t.peer_ack(una));
    }
    CHECK(delivered == data);
}

// ---- Nagle (RFC 1122 §4.2.3.4) ----

TEST_CASE("flow_nagle_holds_small_write_while_data_is_unacked")
{
    // RFC 1122 §4.2.3.4 (Nagle): with data unacknowledged, a small segment waits until the
    // outstanding data is acknowledged (or a full segment accumulates).
    scenario t;
    const socket s = establish(t);
    t.send(s, "a");
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt, t.peer_nxt, 65535, "a");
    t.send(s, "b");
    t.expect_nothing();
    t.send(s, "c");
    t.expect_nothing();
    t.inject(t.peer_ack(t.stack_nxt + 1));
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 1, t.peer_nxt, 65535, "bc");
}

TEST_CASE("flow_nagle_sends_a_full_segment_while_data_is_unacked")
{
    // RFC 1122 §4.2.3.4: Nagle holds only partial segments; a full one goes at once.
    scenario t;
    const socket s = establish(t);
    t.send(s, "a");
    (void)t.expect_one();
    t.send(s, pattern(1460));
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 1, t.peer_nxt, 65535, pattern(1460));
    t.send(s, "z");
    t.expect_nothing();
}

TEST_CASE("flow_nodelay_sends_small_writes_at_once")
{
    // RFC 1122 §4.2.3.4: "a TCP SHOULD implement the Nagle Algorithm ... However, there
    // MUST be a way for an application to disable the Nagle algorithm" (TCP_NODELAY).
    scenario t;
    const socket s = establish(t);
    REQUIRE_FALSE(t.st.set_nodelay(s, true));
    t.send(s, "a");
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt, t.peer_nxt, 65535, "a");
    t.send(s, "b");
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 1, t.peer_nxt, 65535, "b");
    t.send(s, "c");
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 2, t.peer_nxt, 65535, "c");
}

TEST_CASE("flow_enabling_nodelay_releases_data_held_by_nagle")
{
    // RFC 1122 §4.2.3.4: with Nagle off, queued data is sent without waiting for the ACK.
    scenario t;
    const socket s = establish(t);
    t.send(s, "a");
    (void)t.expect_one();
    t.send(s, "b");
    t.expect_nothing();
    REQUIRE_FALSE(t.st.set_nodelay(s, true));
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 1, t.peer_nxt, 65535, "b");
}

// ---- zero-window probing (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17) ----
//
// The handshake takes 100 ms, so RFC 6298 §2.2 gives SRTT = 100 ms, RTTVAR = 50 ms and
// RTO = 300 ms; RFC 1122 §4.2.2.17: the first probe goes after one RTO, then the
// interval doubles (tcpx: never below config::persist_timeout, never above max_rto).

namespace {
constexpr duration first_probe = 300ms;
}

TEST_CASE("flow_zero_window_with_data_pending_arms_persist_timer")
{
    // RFC 9293 §3.8.6.1 (MUST-35): with data to send and a zero window the sender starts
    // the persist timer, and sends nothing.
    scenario t;
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    REQUIRE(conn(t, s).rtt().rto() == first_probe);
    t.send(s, "hello");
    t.expect_nothing();
    CHECK(conn(t, s).deadline(tcp::timer::persist) == t.time.now() + first_probe);
    CHECK(conn(t, s).deadline(tcp::timer::retransmit) == never);
}

TEST_CASE("flow_zero_window_probe_is_one_byte_after_the_first_interval")
{
    // RFC 9293 §3.8.6.1 (MUST-36): the probe carries one octet of new data, at SND.UNA.
    scenario t;
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    t.send(s, "hello");
    t.expect_nothing();  // the send is taken at the next poll; the window is shut
    t.advance(first_probe - 1us);
    t.expect_nothing();
    t.advance(1us);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535, "h");
}

TEST_CASE("flow_fin_into_a_zero_window_waits_for_the_persist_timer")
{
    // The FIN's sequence number needs room in the peer's window like a byte of data
    // (Linux's tcp_snd_wnd_test counts it): behind a zero window it is not sent, and not
    // retransmitted by the RTO as if lost — no congestion signal, no user timeout. The
    // persist timer sends it as its probe (RFC 9293 §3.8.6.1); the peer takes a bare FIN
    // into a closed window (Linux does) and the close completes.
    scenario t;
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    CHECK_FALSE(t.st.shutdown(s));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
    CHECK(conn(t, s).deadline(tcp::timer::persist) == t.time.now() + first_probe);
    t.advance(first_probe);
    const captured probe = t.expect_one();
    CHECK(probe.flags() == (FIN | ACK));
    CHECK(probe.seq() == t.stack_nxt);
    t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt + 1));  // window still 0
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
    CHECK(conn(t, s).stats().timeouts == 0);
}

TEST_CASE("flow_orphan_behind_a_zero_window_is_aborted_after_orphan_probes")
{
    // An application close()d the connection with data still queued, and the peer
    // keeps its window shut, answering every probe. RFC 1122 §4.2.2.17 keeps a
    // connection whose peer answers — but nobody will ever read this one's error, so
    // it gets config::orphan_probes probes (Linux's tcp_orphan_retries, 8) and is
    // aborted, its slot reclaimed (RFC 6429 §2 allows it).
    scenario t;
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    t.send(s, "hello");
    CHECK_FALSE(t.st.close(s));
    const std::size_t limit = t.st.configuration().orphan_probes;
    std::size_t probes = 0;
    for (int i = 0; i < 40 && t.st.connection_count() != 0; ++i) {
        REQUIRE(t.advance_to_deadline());
        for (const captured& c : t.sent()) {
            if (c.text() != "h") continue;
            ++probes;
            t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt));  // answered, window still 0
        }
    }
    CHECK(probes == limit);
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("flow_zero_window_probe_intervals_double")
{
    // RFC 1122 §4.2.2.17: probes SHOULD be spaced exponentially; each answer that keeps the
    // window closed is neither a loss signal nor a reason to send anything else.
    scenario t;
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    t.send(s, "hello");
    t.expect_nothing();  // the send is taken at the next poll; the window is shut
    duration interval = first_probe;
    for (int probe = 0; probe < 5; ++probe) {
        CAPTURE(probe);
        t.advance(interval - 1us);
        t.expect_nothing();
        t.advance(1us);
        check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535, "h");
        t.inject(t.peer_ack(t.stack_nxt));  // "still zero"
        t.expect_nothing();
        interval *= 2;
    }
    CHECK(conn(t, s).stats().fast_retransmits == 0);
    CHECK(conn(t, s).stats().timeouts == 0);
}

TEST_CASE("flow_window_opening_stops_probing_and_sending_resumes")
{
    // RFC 9293 §3.8.6.1: when the window opens, probing ends and the queued data goes at
    // once, from SND.UNA (the probe byte was refused, so it is part of what is sent).
    scenario t;
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    t.send(s, "hello");
    t.expect_nothing();  // the send is taken at the next poll; the window is shut
    t.advance(first_probe);
    (void)t.expect_one();
    t.peer_window = 1000;
    t.inject(t.peer_ack(t.stack_nxt));
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt, t.peer_nxt, 65535, "hello");
    CHECK(conn(t, s).deadline(tcp::timer::persist) == never);
    t.inject(t.peer_ack(t.stack_nxt + 5));
    t.advance(60s);
    t.expect_nothing();
}

TEST_CASE("flow_probe_byte_accepted_then_the_rest_follows")
{
    // RFC 9293 §3.8.6.1: a probe byte the peer took is acknowledged like any data; the
    // rest follows as the window allows.
    scenario t;
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    t.send(s, "hello");
    t.expect_nothing();  // the send is taken at the next poll; the window is shut
    t.advance(first_probe);
    (void)t.expect_one();
    t.peer_window = 1000;
    t.inject(t.peer_ack(t.stack_nxt + 1));
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 1, t.peer_nxt, 65535, "ello");
    CHECK(conn(t, s).deadline(tcp::timer::persist) == never);
}

TEST_CASE("flow_zero_window_probing_answered_never_times_out")
{
    // RFC 1122 §4.2.2.17: "As long as the receiving TCP continues to send acknowledgments
    // in response to the probe segments, the sending TCP MUST allow the connection to stay
    // open" — the user timeout (RFC 9293 §3.8.3) is for data nobody acknowledges.
    config c = scenario_config();
    c.user_timeout = 10s;
    scenario t{c};
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    t.send(s, "hello");
    t.expect_nothing();  // the send is taken at the next poll; the window is shut
    const instant start = t.time.now();
    instant last_probe = start;
    duration expected = first_probe;
    int probes = 0;
    while (t.time.now() - start < 10min) {
        REQUIRE(t.advance_to_deadline());
        for (const captured& p : t.sent()) {
            check_segment(p, ACK, t.stack_nxt, t.peer_nxt, 65535, "h");
            CHECK(t.time.now() - last_probe == expected);
            last_probe = t.time.now();
            expected = std::min<duration>(expected * 2, t.st.configuration().max_rto);
            ++probes;
            t.inject(t.peer_ack(t.stack_nxt));
        }
    }
    CHECK(probes >= 10);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK_FALSE(t.st.error(s));
    CHECK(conn(t, s).stats().timeouts == 0);
    CHECK(conn(t, s).stats().fast_retransmits == 0);
}

TEST_CASE("flow_zero_window_probes_unanswered_time_out_after_user_timeout")
{
    // RFC 9293 §3.8.3 / §3.10.8 user timeout, and RFC 1122 §4.2.2.17 read the other way:
    // a peer that answers no probe at all for user_timeout is gone (errc::timed_out).
    config c = scenario_config();
    c.user_timeout = 10s;
    scenario t{c};
    const socket s = establish(t, {.window = 0, .rtt = 100ms});
    const instant heard = t.time.now();  // the SYN-ACK: the last the peer said
    t.send(s, "hello");
    t.expect_nothing();  // the send is taken at the next poll; the window is shut
    while (t.st.state(s) == tcp::state::established && t.advance_to_deadline(1h)) (void)t.sent();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::timed_out);
    // Probes at 0.3, 0.9, 2.1, 4.5 and 9.3 s go unanswered; the persist expiry at 18.9 s
    // is the first at or after user_timeout since the peer was last heard.
    CHECK(t.time.now() - heard == 18900ms);
    CHECK(conn(t, s).stats().timeouts == 0);
}
