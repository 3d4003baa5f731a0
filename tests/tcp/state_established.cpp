// Scenario tests: ESTABLISHED (RFC 9293 §3.10.7.4).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

TEST_CASE("established_data_in_order_is_delivered_and_acked")
{
    // RFC 9293 §3.10.7.4 seventh: in-order text goes to the user; RCV.NXT advances.
    scenario t;
    const socket s = t.establish_active();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "hello");
    CHECK(t.receive(s) == "hello");
    t.advance(t.st.configuration().delayed_ack);
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_nxt + 5);
}

TEST_CASE("established_send_emits_one_segment_with_psh")
{
    scenario t;
    const socket s = t.establish_active();
    CHECK(t.send(s, "hello") == 5);
    const captured out = t.expect_one();
    CHECK(out.flags() == (ACK | PSH));
    CHECK(out.seq() == t.stack_nxt);
    CHECK(out.text() == "hello");
}

// ---- first: the sequence number test (RFC 9293 §3.10.7.4, §3.4 acceptability table) ----

TEST_CASE("established_zero_length_segment_at_rcv_nxt_is_acceptable")
{
    // RFC 9293 §3.4: SEG.LEN = 0, RCV.WND > 0: acceptable if RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND.
    scenario t;
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    t.inject(t.peer_ack(t.stack_nxt + 5));
    t.expect_nothing();
    CHECK(conn(t, s).snd().una == t.stack_nxt + 5);  // its ACK field was processed
    CHECK(conn(t, s).deadline(tcp::timer::retransmit) == never);
}

TEST_CASE("established_zero_length_segment_inside_window_is_acceptable")
{
    // RFC 9293 §3.4: a zero-length segment anywhere in [RCV.NXT, RCV.NXT+RCV.WND) is acceptable.
    scenario t;
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    t.inject(t.segment(ACK, t.peer_nxt + 100, t.stack_nxt + 5));
    t.expect_nothing();
    CHECK(conn(t, s).snd().una == t.stack_nxt + 5);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);
}

TEST_CASE("established_zero_length_segment_before_rcv_nxt_is_unacceptable_and_acked")
{
    // RFC 9293 §3.10.7.4 first: an unacceptable segment is answered with
    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, then dropped: its ACK and window are not used.
    scenario t;
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    t.peer_window = 1000;
    t.inject(t.segment(ACK, t.peer_nxt - 1, t.stack_nxt + 5));
    check_segment(t.expect_one(), ACK, t.stack_nxt + 5, t.peer_nxt, 65535);
    CHECK(conn(t, s).snd().una == t.stack_nxt);
    CHECK(conn(t, s).snd().wnd == 65535);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);
}

TEST_CASE("established_zero_length_segment_at_right_window_edge_is_unacceptable")
{
    // RFC 9293 §3.4: RCV.NXT+RCV.WND itself is outside the window. RCV.WND is what we
    // advertised (65535: a 64 KiB buffer without window scaling, RFC 7323 §2.3).
    scenario t;
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    t.inject(t.segment(ACK, t.peer_nxt + 65535, t.stack_nxt + 5));
    check_segment(t.expect_one(), ACK, t.stack_nxt + 5, t.peer_nxt, 65535);
    CHECK(conn(t, s).snd().una == t.stack_nxt);
}

namespace {
/// A connection whose 4096-byte receive buffer the peer has filled: RCV.WND = 0.
/// The stack has sent "hello" (unacknowledged). Returns the socket.
socket establish_with_full_receive_buffer(scenario& t)
{
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    inject_data(t, t.peer_nxt, t.stack_nxt, pattern(1460));
    inject_data(t, t.peer_nxt + 1460, t.stack_nxt, pattern(1460, 1460));
    inject_data(t, t.peer_nxt + 2920, t.stack_nxt, pattern(1176, 2920));
    t.peer_nxt = t.peer_nxt + 4096;
    t.advance(t.st.configuration().delayed_ack);
    const auto acks = t.sent();
    REQUIRE(!acks.empty());
    REQUIRE(acks.back().ack() == t.peer_nxt);
    REQUIRE(acks.back().window() == 0);
    return s;
}
config small_receive_buffer()
{
    config c = scenario_config();
    c.receive_buffer = 4096;
    return c;
}
}  // namespace

TEST_CASE("established_zero_window_zero_length_segment_at_rcv_nxt_is_acceptable")
{
    // RFC 9293 §3.4: SEG.LEN = 0, RCV.WND = 0: acceptable if SEG.SEQ = RCV.NXT.
    scenario t{small_receive_buffer()};
    const socket s = establish_with_full_receive_buffer(t);
    t.inject(t.peer_ack(t.stack_nxt + 5));
    t.expect_nothing();
    CHECK(conn(t, s).snd().una == t.stack_nxt + 5);
}

TEST_CASE("established_zero_window_zero_length_segment_beyond_rcv_nxt_is_unacceptable")
{
    // RFC 9293 §3.4: with RCV.WND = 0 only SEG.SEQ = RCV.NXT is acceptable; anything else
    // gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped (§3.10.7.4 first).
    scenario t{small_receive_buffer()};
    const socket s = establish_with_full_receive_buffer(t);
    t.inject(t.segment(ACK, t.peer_nxt + 1, t.stack_nxt + 5));
    check_segment(t.expect_one(), ACK, t.stack_nxt + 5, t.peer_nxt, 0);
    CHECK(conn(t, s).snd().una == t.stack_nxt);
}

TEST_CASE("established_zero_window_data_is_unacceptable_and_acked")
{
    // RFC 9293 §3.4: SEG.LEN > 0, RCV.WND = 0: not acceptable. The text is not taken;
    // the answer is <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with the window still zero.
    scenario t{small_receive_buffer()};
    const socket s = establish_with_full_receive_buffer(t);
    const auto received = conn(t, s).stats().bytes_received;
    inject_data(t, t.peer_nxt, t.stack_nxt, "x");
    check_segment(t.expect_one(), ACK, t.stack_nxt + 5, t.peer_nxt, 0);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);
    CHECK(conn(t, s).readable_bytes() == 4096);
    CHECK(conn(t, s).stats().bytes_received == received);
}

TEST_CASE("established_zero_window_data_segment_still_has_its_ack_processed")
{
    // RFC 9293 §3.10.7.4 first: "If the RCV.WND is zero, no segments will be acceptable,
    // but special allowance should be made to accept valid ACKs, URGs, and RSTs." A
    // zero-window probe from the peer carries its ACK of our data; it must not be lost.
    scenario t{small_receive_buffer()};
    const socket s = establish_with_full_receive_buffer(t);
    inject_data(t, t.peer_nxt, t.stack_nxt + 5, "x");
    check_segment(t.expect_one(), ACK, t.stack_nxt + 5, t.peer_nxt, 0);
    CHECK(conn(t, s).snd().una == t.stack_nxt + 5);
    CHECK(conn(t, s).readable_bytes() == 4096);  // the text itself is still not taken
}

TEST_CASE("established_zero_window_rst_at_rcv_nxt_resets")
{
    // RFC 9293 §3.10.7.4 first: the special allowance covers RSTs; second: SEG.SEQ = RCV.NXT resets.
    scenario t{small_receive_buffer()};
    const socket s = establish_with_full_receive_buffer(t);
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::connection_reset);
}

TEST_CASE("established_data_entirely_before_rcv_nxt_is_unacceptable_and_acked")
{
    // RFC 9293 §3.10.7.4 first: a segment wholly below RCV.NXT (a duplicate) is not
    // acceptable: ACK <SEQ=SND.NXT><ACK=RCV.NXT> at once, and nothing is delivered twice.
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, "hello");
    t.advance(t.st.configuration().delayed_ack);
    (void)t.expect_one();
    inject_data(t, t.peer_nxt, t.stack_nxt, "hello");
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 5, 65530);
    CHECK(t.receive(s) == "hello");
    CHECK(conn(t, s).stats().bytes_received == 5);
}

TEST_CASE("established_data_overlapping_rcv_nxt_is_trimmed_to_its_new_bytes")
{
    // RFC 9293 §3.10.7.4 first: a segment that starts before RCV.NXT but ends inside the
    // window is acceptable; "the segment ... may be trimmed" so only the new bytes count.
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, "hello");
    t.advance(t.st.configuration().delayed_ack);
    (void)t.expect_one();
    CHECK(t.receive(s) == "hello");
    inject_data(t, t.peer_nxt + 2, t.stack_nxt, "XYZworld");  // "XYZ" sits over "llo"
    CHECK(t.receive(s) == "world");
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt + 10);
    CHECK(conn(t, s).stats().bytes_received == 10);
    t.advance(t.st.configuration().delayed_ack);
    CHECK(t.expect_one().ack() == t.peer_nxt + 10);
}

TEST_CASE("established_data_entirely_beyond_window_is_unacceptable_and_acked")
{
    // RFC 9293 §3.4 / §3.10.7.4 first: a segment starting at or after RCV.NXT+RCV.WND is
    // not acceptable: ACK <SEQ=SND.NXT><ACK=RCV.NXT>, and its bytes are not held.
    scenario t{small_receive_buffer()};
    const socket s = establish(t);
    inject_data(t, t.peer_nxt + 4096, t.stack_nxt, "abc");
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 4096);
    // Filling the window delivers exactly the window: nothing beyond it was kept.
    inject_data(t, t.peer_nxt, t.stack_nxt, pattern(1460));
    inject_data(t, t.peer_nxt + 1460, t.stack_nxt, pattern(1460, 1460));
    inject_data(t, t.peer_nxt + 2920, t.stack_nxt, pattern(1176, 2920));
    CHECK(t.receive(s) == pattern(4096));
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt + 4096);
}

TEST_CASE("established_data_crossing_right_window_edge_is_tail_trimmed")
{
    // RFC 9293 §3.10.7.4 first: "segments with higher beginning sequence numbers SHOULD be
    // held", and the portion beyond the window is trimmed off (seventh: "trimmed to fit").
    scenario t{small_receive_buffer()};
    const socket s = establish(t);
    inject_data(t, t.peer_nxt + 4000, t.stack_nxt, pattern(200, 4000));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 4096);  // out of order: ACK at once
    inject_data(t, t.peer_nxt, t.stack_nxt, pattern(1460));
    inject_data(t, t.peer_nxt + 1460, t.stack_nxt, pattern(1460, 1460));
    inject_data(t, t.peer_nxt + 2920, t.stack_nxt, pattern(1080, 2920));
    const auto acks = t.sent();
    REQUIRE(!acks.empty());
    // The gap filled: everything up to the window's edge, and not a byte more.
    check_segment(acks.back(), ACK, t.stack_nxt, t.peer_nxt + 4096, 0);
    CHECK(t.receive(s) == pattern(4096));
}

// ---- second: the RST bit (RFC 9293 §3.10.7.4, RFC 5961 §3.2) ----

TEST_CASE("established_rst_at_rcv_nxt_resets_the_connection")
{
    // RFC 9293 §3.10.7.4 second / RFC 5961 §3.2: a RST with SEG.SEQ = RCV.NXT resets the
    // connection: "any outstanding RECEIVEs and SEND should receive 'reset' responses",
    // CLOSED, and no segment in reply.
    scenario t;
    const socket s = establish(t);
    const auto resets = t.st.counters().resets_sent;
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::connection_reset);
    std::error_code ec;
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::connection_reset);
    const std::string_view more = "more";
    CHECK(t.st.send(s, {reinterpret_cast<const std::uint8_t*>(more.data()), more.size()}, ec) == 0);
    CHECK(ec == errc::connection_reset);
    CHECK(t.st.counters().resets_sent == resets);
}

TEST_CASE("established_rst_in_window_but_not_at_rcv_nxt_sends_challenge_ack")
{
    // RFC 5961 §3.2: a RST inside the window but not exactly at RCV.NXT is answered with a
    // challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> and otherwise ignored.
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(RST, t.peer_nxt + 1));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(conn(t, s).stats().challenge_acks == 1);
    // The true peer answers with the exact number, which does reset.
    t.inject(t.segment(RST, t.peer_nxt));
    t.expect_nothing();
    CHECK(t.st.error(s) == errc::connection_reset);
}

TEST_CASE("established_rst_outside_window_is_dropped_silently")
{
    // RFC 5961 §3.2 / RFC 9293 §3.10.7.4 first: an unacceptable RST is dropped, and
    // "an acknowledgment should be sent in reply (unless the RST bit is set)".
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(RST, t.peer_nxt - 1));
    t.inject(t.segment(RST, t.peer_nxt + 65535));
    t.inject(t.segment(RST | ACK, t.peer_nxt + 100000, t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(conn(t, s).stats().challenge_acks == 0);
}

// ---- fourth: the SYN bit (RFC 5961 §4) ----

TEST_CASE("established_syn_in_window_sends_challenge_ack")
{
    // RFC 9293 §3.10.7.4 fourth / RFC 5961 §4.2: a SYN in a synchronized state, in the
    // window or not, gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>; no reset, no change.
    scenario t;
    const socket s = establish(t);
    const auto resets = t.st.counters().resets_sent;
    t.inject(t.segment(SYN, t.peer_nxt));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(conn(t, s).stats().challenge_acks == 1);
    CHECK(t.st.counters().resets_sent == resets);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);
}

TEST_CASE("established_syn_outside_window_is_acked_and_dropped")
{
    // RFC 9293 §3.10.7.4 first (unacceptable, ACK) and RFC 5961 §4.2 (a SYN never resets).
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(SYN, t.peer_nxt + 200000));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(t.st.state(s) == tcp::state::established);
}

// ---- fifth: the ACK field ----

TEST_CASE("established_ack_above_snd_nxt_is_acked_and_segment_dropped")
{
    // RFC 9293 §3.10.7.4 fifth: "If the ACK acks something not yet sent (SEG.ACK >
    // SND.NXT), then send an ACK, drop the segment, and return" — its text included.
    scenario t;
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    inject_data(t, t.peer_nxt, t.stack_nxt + 6, "abc");
    check_segment(t.expect_one(), ACK, t.stack_nxt + 5, t.peer_nxt, 65535);
    CHECK(conn(t, s).snd().una == t.stack_nxt);
    CHECK(conn(t, s).readable_bytes() == 0);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);
}

TEST_CASE("established_ack_older_than_max_snd_wnd_is_acked_and_segment_dropped")
{
    // RFC 5961 §5.2: an ACK is acceptable only if SND.UNA - MAX.SND.WND =< SEG.ACK =<
    // SND.NXT; below that, send an ACK and drop the segment (text included).
    scenario t;
    const socket s = establish(t);  // MAX.SND.WND = 65535
    inject_data(t, t.peer_nxt, t.stack_nxt - 65536, "abc");
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(conn(t, s).readable_bytes() == 0);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);
}

TEST_CASE("established_old_ack_within_max_snd_wnd_is_ignored_but_text_accepted")
{
    // RFC 5961 §5.2 acceptable range, and RFC 9293 §3.10.7.4 fifth: "If the ACK is a
    // duplicate (SEG.ACK < SND.UNA), it can be ignored" — processing continues with the text.
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt - 65535, "abc");
    CHECK(t.receive(s) == "abc");
    CHECK(conn(t, s).snd().una == t.stack_nxt);
}

TEST_CASE("established_duplicate_ack_is_ignored")
{
    // RFC 9293 §3.10.7.4 fifth: SEG.ACK = SND.UNA acknowledges nothing new; nothing is
    // sent and the retransmission timer runs on. RFC 5681 §2 counts it as a duplicate.
    scenario t;
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    const instant rto_deadline = conn(t, s).deadline(tcp::timer::retransmit);
    t.advance(10ms);
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(conn(t, s).snd().una == t.stack_nxt);
    CHECK(conn(t, s).stats().duplicate_acks == 1);
    CHECK(conn(t, s).deadline(tcp::timer::retransmit) == rto_deadline);
}

TEST_CASE("established_ack_of_new_data_advances_snd_una")
{
    // RFC 9293 §3.10.7.4 fifth: "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK";
    // acknowledged bytes leave the retransmission queue.
    scenario t;
    const socket s = establish(t);
    const std::size_t writable = conn(t, s).writable_bytes(t.st.configuration());
    const auto acked = conn(t, s).stats().bytes_acked;
    t.send(s, "hello");
    (void)t.expect_one();
    CHECK(conn(t, s).writable_bytes(t.st.configuration()) == writable - 5);
    t.inject(t.peer_ack(t.stack_nxt + 3));
    t.expect_nothing();
    CHECK(conn(t, s).snd().una == t.stack_nxt + 3);
    CHECK(conn(t, s).writable_bytes(t.st.configuration()) == writable - 2);
    CHECK(conn(t, s).stats().bytes_acked == acked + 3);
}

TEST_CASE("established_window_update_from_newer_segment_is_taken")
{
    // RFC 9293 §3.10.7.4 fifth: if SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 =<
    // SEG.ACK, set SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK.
    scenario t;
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    t.peer_window = 3000;
    t.inject(t.peer_ack(t.stack_nxt + 5));
    CHECK(conn(t, s).snd().wnd == 3000);
    CHECK(conn(t, s).snd().wl1 == t.peer_nxt);
    CHECK(conn(t, s).snd().wl2 == t.stack_nxt + 5);
    t.peer_window = 5000;  // same SEQ and ACK: a pure window update
    t.inject(t.peer_ack(t.stack_nxt + 5));
    CHECK(conn(t, s).snd().wnd == 5000);
    t.expect_nothing();
}

TEST_CASE("established_older_segment_does_not_update_send_window")
{
    // RFC 9293 §3.10.7.4 fifth: the check on SND.WL1 "prevents using old segments to
    // update the window": a retransmission starting before SND.WL1 leaves SND.WND alone.
    scenario t;
    const socket s = establish(t);
    const seq32 p = t.peer_nxt;
    t.peer_window = 1000;
    inject_data(t, p, t.stack_nxt, "0123456789");
    t.peer_window = 2000;
    inject_data(t, p + 10, t.stack_nxt, "abcdefghij");
    CHECK(conn(t, s).snd().wnd == 2000);
    CHECK(conn(t, s).snd().wl1 == p + 10);
    t.peer_window = 500;
    inject_data(t, p, t.stack_nxt, "0123456789abcdefghijKLM");  // old start, new tail
    CHECK(conn(t, s).snd().wnd == 2000);
    CHECK(conn(t, s).snd().wl1 == p + 10);
    CHECK(t.receive(s) == "0123456789abcdefghijKLM");
}

// ---- sixth: the URG bit ----

TEST_CASE("established_urgent_data_stays_in_band")
{
    // RFC 9293 §3.8.5 / RFC 6093 §5: urgent data is delivered in line, in sequence; the
    // urgent pointer moves RCV.UP (§3.10.7.4 sixth) and nothing else.
    scenario t;
    const socket s = establish(t);
    wire::tcp_header urg = t.segment(ACK | PSH | URG, t.peer_nxt, t.stack_nxt);
    urg.urgent_pointer = 3;
    t.inject(urg, "abcdef");
    inject_data(t, t.peer_nxt + 6, t.stack_nxt, "gh");
    CHECK(t.receive(s) == "abcdefgh");
    CHECK(conn(t, s).rcv().up == t.peer_nxt + 3);
    CHECK(conn(t, s).stats().bytes_received == 8);
}

// ---- seventh: segment text, out of order (RFC 9293 §3.10.7.4 first SHLD-31; RFC 5681 §4.2) ----

TEST_CASE("established_out_of_order_segment_is_held_and_acked_at_once")
{
    // RFC 9293 §3.10.7.4 first (SHLD-31): a segment beyond RCV.NXT is held; RFC 5681 §4.2:
    // "A TCP receiver SHOULD send an immediate duplicate ACK when an out-of-order segment arrives".
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt + 5, t.stack_nxt, "world");
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(conn(t, s).readable_bytes() == 0);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);
}

TEST_CASE("established_segment_filling_the_gap_delivers_held_data_and_is_acked_at_once")
{
    // RFC 9293 §3.10.7.4 seventh: text at RCV.NXT is delivered with the held data it
    // reaches; RFC 5681 §4.2: "an immediate ACK ... when the incoming segment fills in all or
    // part of a gap in the sequence space".
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt + 5, t.stack_nxt, "world");
    (void)t.expect_one();
    inject_data(t, t.peer_nxt, t.stack_nxt, "hello");
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 10, 65525);
    CHECK(t.receive(s) == "helloworld");
}

TEST_CASE("established_overlapping_out_of_order_segments_are_trimmed_exactly")
{
    // RFC 9293 §3.10.7.4 seventh: overlapping text is placed by sequence number; every
    // byte is delivered once, in order.
    scenario t;
    const socket s = establish(t);
    const std::string text = pattern(20);
    inject_data(t, t.peer_nxt + 5, t.stack_nxt, text.substr(5, 5));    // [5, 10)
    inject_data(t, t.peer_nxt + 7, t.stack_nxt, text.substr(7, 8));    // [7, 15)
    inject_data(t, t.peer_nxt + 12, t.stack_nxt, text.substr(12, 3));  // [12, 15) again
    inject_data(t, t.peer_nxt + 3, t.stack_nxt, text.substr(3, 4));    // [3, 7)
    CHECK(t.sent().size() == 4);  // each out of order: ACK at once
    inject_data(t, t.peer_nxt, t.stack_nxt, text.substr(0, 8));        // [0, 8)
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 15, 65520);
    CHECK(t.receive(s) == text.substr(0, 15));
    CHECK(conn(t, s).stats().bytes_received == 15);
}

TEST_CASE("established_out_of_order_fin_is_processed_when_the_gap_fills")
{
    // RFC 9293 §3.10.7.4 eighth: a FIN counts where it sits in sequence. Beyond a hole it is
    // remembered; when the data before it arrives, the connection enters CLOSE-WAIT.
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(ACK | FIN, t.peer_nxt + 5, t.stack_nxt), "world");
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK_FALSE(t.st.peer_closed(s));
    inject_data(t, t.peer_nxt, t.stack_nxt, "hello");
    // The FIN takes a sequence number but no buffer space: the right edge stays put.
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 11, 65535 - 11);
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(t.receive(s) == "helloworld");
    std::error_code ec;
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::end_of_stream);
}

TEST_CASE("established_bare_out_of_order_fin_is_processed_when_the_gap_fills")
{
    // RFC 9293 §3.10.7.4 eighth: a FIN without text, beyond a hole, waits for the hole.
    scenario t;
    const socket s = establish(t);
    t.inject(t.segment(ACK | FIN, t.peer_nxt + 5, t.stack_nxt));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(t.st.state(s) == tcp::state::established);
    inject_data(t, t.peer_nxt, t.stack_nxt, "hello");
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 6, 65535 - 6);
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(t.receive(s) == "hello");
}

TEST_CASE("established_out_of_order_with_pool_dry_is_dropped_counted_and_acked")
{
    // RFC 1122 §4.2.2.20 (queueing is a SHOULD): with the data pool at its limit, an
    // out-of-order segment is dropped (the peer retransmits it), counted, and acknowledged
    // like any out-of-order segment; what was held stays held.
    config c = scenario_config();
    c.pool_bytes = tcp::chunk_pool::chunk_size;  // one chunk, for the first island
    scenario t{c};
    const socket s = establish(t);
    const std::string text = pattern(3 * tcp::chunk_pool::chunk_size);
    inject_data(t, t.peer_nxt + 10, t.stack_nxt, text.substr(10, 5));
    (void)t.sent();
    const std::uint32_t far = tcp::chunk_pool::chunk_size + 100;  // needs a second chunk
    inject_data(t, t.peer_nxt + far, t.stack_nxt, text.substr(far, 5));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(conn(t, s).stats().out_of_order_dropped == 1);
    inject_data(t, t.peer_nxt, t.stack_nxt, text.substr(0, 10));
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt + 15);
    (void)t.sent();
    CHECK(t.receive(s) == text.substr(0, 15));
}
