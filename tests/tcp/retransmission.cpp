// Scenario tests: retransmission and acknowledgment timing in ESTABLISHED — the
// retransmission timer (RFC 6298, Karn's algorithm §3), the user timeout (RFC 9293
// §3.8.3, §3.10.8), fast retransmit (RFC 5681 §3.2), delayed ACKs (RFC 1122 §4.2.3.2,
// RFC 5681 §4.2).
//
// Congestion control is cc::reno (RFC 5681): with an MSS of 1460 the initial window is
// 3 segments (§3.1 eq. 1), after a timeout 1 segment (the loss window).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

// With a 100 ms handshake, RFC 6298 §2.2: SRTT = 100 ms, RTTVAR = 50 ms,
// RTO = SRTT + max(G, 4 * RTTVAR) = 300 ms (above min_rto = 200 ms).
namespace {
constexpr duration rto_after_100ms = 300ms;

/// Advances to one microsecond before `d` from now, expects nothing, then to `d`.
void advance_exactly(scenario& t, duration d)
{
    t.advance(d - 1us);
    t.expect_nothing();
    t.advance(1us);
}
}  // namespace

// ---- the retransmission timeout (RFC 6298) ----

TEST_CASE("rto_before_any_sample_is_one_second")
{
    // RFC 6298 §2.1: "Until a round-trip time (RTT) measurement has been made ... the
    // sender SHOULD set RTO <- 1 second"; the SYN is the first segment timed by it.
    scenario t;
    const socket s = t.open_active();
    advance_exactly(t, 1s);
    const captured syn = t.expect_one();
    CHECK(syn.flags() == SYN);
    CHECK(syn.seq() == t.iss);
    CHECK(conn(t, s).stats().retransmitted_segments == 1);
    CHECK(conn(t, s).stats().timeouts == 1);
    CHECK(t.st.counters().retransmitted_segments == 1);
    advance_exactly(t, 2s);  // RFC 6298 §5.5: backed off
    CHECK(t.expect_one().flags() == SYN);
}

TEST_CASE("rto_after_first_sample_is_srtt_plus_4_rttvar")
{
    // RFC 6298 §2.2: first sample R: SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max(G, 4*RTTVAR).
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    CHECK(conn(t, s).rtt().srtt() == 100ms);
    CHECK(conn(t, s).rtt().rttvar() == 50ms);
    CHECK(conn(t, s).rtt().rto() == rto_after_100ms);
    t.send(s, "hello");
    (void)t.expect_one();
    advance_exactly(t, rto_after_100ms);
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt, t.peer_nxt, 65535, "hello");
}

TEST_CASE("rto_after_second_sample_applies_the_rfc6298_gains")
{
    // RFC 6298 §2.3: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'| = 37.5 + 25 = 62.5 ms, then
    // SRTT <- 7/8 SRTT + 1/8 R' = 87.5 + 25 = 112.5 ms; RTO = 112.5 + 250 = 362.5 ms.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, "a");
    (void)t.expect_one();
    t.advance(200ms);
    t.inject(t.peer_ack(t.stack_nxt + 1));
    CHECK(conn(t, s).rtt().srtt() == 112500us);
    CHECK(conn(t, s).rtt().rttvar() == 62500us);
    t.send(s, "b");
    (void)t.expect_one();
    advance_exactly(t, 362500us);
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 1, t.peer_nxt, 65535, "b");
}

TEST_CASE("rto_is_clamped_to_min_rto")
{
    // RFC 6298 §2.4: RTO is bounded below (tcpx: config::min_rto, 200 ms). A 10 ms RTT
    // gives 10 + 4 * 5 = 30 ms, so the timer runs 200 ms.
    scenario t;
    const socket s = establish(t, {.rtt = 10ms});
    CHECK(conn(t, s).rtt().rto() == t.st.configuration().min_rto);
    t.send(s, "hello");
    (void)t.expect_one();
    advance_exactly(t, 200ms);
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt, t.peer_nxt, 65535, "hello");
}

TEST_CASE("rto_doubles_on_each_timeout")
{
    // RFC 6298 §5.5: on expiry "RTO <- RTO * 2 (back off the timer)"; §5.6: restart with it.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, "hello");
    (void)t.expect_one();
    duration rto = rto_after_100ms;
    for (int i = 1; i <= 4; ++i) {
        CAPTURE(i);
        advance_exactly(t, rto);
        check_segment(t.expect_one(), ACK | PSH, t.stack_nxt, t.peer_nxt, 65535, "hello");
        rto *= 2;
    }
    CHECK(conn(t, s).stats().timeouts == 4);
    CHECK(conn(t, s).stats().retransmitted_segments == 4);
    CHECK(t.st.counters().retransmitted_segments == 4);
    CHECK(conn(t, s).rtt().backoff_count() == 4);
}

TEST_CASE("rto_backoff_is_capped_at_max_rto")
{
    // RFC 6298 §2.5: "A maximum value MAY be placed on RTO provided it is at least 60
    // seconds" — tcpx's config::max_rto, here 2 s to see the cap: 300, 600, 1200, 2000, 2000.
    config c = scenario_config();
    c.max_rto = 2s;
    scenario t{c};
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, "hello");
    (void)t.expect_one();
    for (duration rto : {300ms, 600ms, 1200ms, 2000ms, 2000ms, 2000ms}) {
        CAPTURE(rto.count());
        advance_exactly(t, rto);
        CHECK(t.expect_one().text() == "hello");
    }
}

TEST_CASE("rto_expiry_retransmits_only_the_oldest_segment")
{
    // RFC 6298 §5.4: "Retransmit the earliest segment that has not been acknowledged";
    // RFC 5681 §3.1: after a timeout cwnd is the loss window, one segment.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(4380));
    REQUIRE(t.sent().size() == 3);  // RFC 5681 §3.1: IW = 3 * 1460
    advance_exactly(t, rto_after_100ms);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535, pattern(1460));
    CHECK(conn(t, s).congestion().cwnd() == 1460);
    advance_exactly(t, 2 * rto_after_100ms);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535, pattern(1460));
}

TEST_CASE("rto_expiry_then_ack_resumes_slow_start_from_one_segment")
{
    // RFC 5681 §3.1: after the loss window, slow start: the ACK of the retransmission
    // lets cwnd grow to 2 segments, and the next unacknowledged segments go again.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(4380));
    REQUIRE(t.sent().size() == 3);
    t.advance(rto_after_100ms);
    (void)t.expect_one();
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    CHECK(conn(t, s).congestion().cwnd() == 2920);
    const auto out = t.sent();
    REQUIRE(out.size() == 2);
    check_segment(out[0], ACK, t.stack_nxt + 1460, t.peer_nxt, 65535, pattern(1460, 1460));
    check_segment(out[1], ACK | PSH, t.stack_nxt + 2920, t.peer_nxt, 65535, pattern(1460, 2920));
    CHECK(conn(t, s).stats().retransmitted_segments == 3);
}

TEST_CASE("rto_ack_beyond_snd_nxt_after_go_back_is_accepted")
{
    // RFC 9293 §3.10.7.4 fifth: an ACK up to the highest sequence number sent is
    // acceptable even after a timeout moved the send point back (the ACKs were lost,
    // not the data); everything is acknowledged and the timer stops (RFC 6298 §5.2).
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(4380));
    REQUIRE(t.sent().size() == 3);
    t.advance(rto_after_100ms);
    (void)t.expect_one();
    t.inject(t.peer_ack(t.stack_nxt + 4380));
    t.expect_nothing();
    CHECK(conn(t, s).snd().una == t.stack_nxt + 4380);
    CHECK(conn(t, s).deadline(tcp::timer::retransmit) == never);
}

TEST_CASE("rto_timer_restarts_on_ack_of_new_data")
{
    // RFC 6298 §5.3: "When an ACK is received that acknowledges new data, restart the
    // retransmission timer so that it will expire after RTO seconds". The ACK's 100 ms
    // sample makes RTTVAR 37.5 ms: RTO = 100 + 150 = 250 ms from the ACK.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(2920));
    REQUIRE(t.sent().size() == 2);
    t.advance(100ms);
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    t.expect_nothing();
    CHECK(conn(t, s).rtt().rto() == 250ms);
    advance_exactly(t, 250ms);
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt + 1460, t.peer_nxt, 65535, pattern(1460, 1460));
}

TEST_CASE("rto_timer_stops_when_all_data_is_acked")
{
    // RFC 6298 §5.2: "When all outstanding data has been acknowledged, turn off the
    // retransmission timer."
    scenario t;
    const socket s = establish(t);
    t.send(s, "hello");
    (void)t.expect_one();
    t.inject(t.peer_ack(t.stack_nxt + 5));
    CHECK(conn(t, s).deadline(tcp::timer::retransmit) == never);
    t.advance(10s);
    t.expect_nothing();
}

TEST_CASE("rto_after_retransmitted_syn_is_three_seconds")
{
    // RFC 6298 §5.7: if the timer expired while awaiting the ACK of a SYN and no sample
    // was taken (Karn, §3), RTO is re-initialised to 3 s when data transmission begins.
    scenario t;
    const socket s = t.open_active();
    t.advance(1s);
    REQUIRE(t.expect_one().flags() == SYN);
    wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
    synack.options.mss = 1460;
    t.inject(synack);
    t.peer_nxt = t.peer_iss + 1;
    REQUIRE(t.expect_one().flags() == ACK);
    CHECK_FALSE(conn(t, s).rtt().has_sample());
    t.send(s, "hello");
    (void)t.expect_one();
    advance_exactly(t, 3s);
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt, t.peer_nxt, 65535, "hello");
}

// ---- Karn's algorithm (RFC 6298 §3) ----

TEST_CASE("karn_ack_of_retransmitted_segment_gives_no_rtt_sample")
{
    // RFC 6298 §3: "RTT samples MUST NOT be made using segments that were retransmitted".
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, "a");
    (void)t.expect_one();
    t.advance(rto_after_100ms);
    (void)t.expect_one();
    t.advance(50ms);
    t.inject(t.peer_ack(t.stack_nxt + 1));
    CHECK(conn(t, s).rtt().srtt() == 100ms);
    CHECK(conn(t, s).rtt().rttvar() == 50ms);
}

TEST_CASE("karn_backed_off_rto_is_kept_until_a_valid_sample")
{
    // RFC 6298 §3 (Karn) and §5 note after (5.7): the backed-off RTO stays until a new RTT
    // measurement is obtained from a segment that was not retransmitted; that sample
    // "collapses" RTO back to the §2 value.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, "a");
    (void)t.expect_one();
    t.advance(rto_after_100ms);
    (void)t.expect_one();
    t.inject(t.peer_ack(t.stack_nxt + 1));  // acknowledges the retransmission: no sample
    t.send(s, "b");
    (void)t.expect_one();
    advance_exactly(t, 2 * rto_after_100ms);  // still backed off
    CHECK(t.expect_one().text() == "b");
    t.inject(t.peer_ack(t.stack_nxt + 2));
    t.send(s, "c");
    (void)t.expect_one();
    t.advance(100ms);
    t.inject(t.peer_ack(t.stack_nxt + 3));  // a valid 100 ms sample: RTTVAR 37.5 ms, RTO 250 ms
    CHECK(conn(t, s).rtt().rto() == 250ms);
    t.send(s, "d");
    (void)t.expect_one();
    advance_exactly(t, 250ms);
    CHECK(t.expect_one().text() == "d");
}

// ---- the user timeout (RFC 9293 §3.8.3, §3.10.8) ----

TEST_CASE("user_timeout_expiry_aborts_with_timed_out")
{
    // RFC 9293 §3.10.8 USER TIMEOUT: "flush all queues, signal the user 'error: connection
    // aborted due to user timeout' ..., enter the CLOSED state". Retransmissions at 300 and
    // 900 ms; at user_timeout = 2.1 s after the data was sent, the connection ends.
    config c = scenario_config();
    c.user_timeout = 2100ms;
    scenario t{c};
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, "hello");
    (void)t.expect_one();
    advance_exactly(t, 300ms);
    (void)t.expect_one();
    advance_exactly(t, 600ms);
    (void)t.expect_one();
    t.advance(1200ms - 1us);
    CHECK(t.st.state(s) == tcp::state::established);
    t.advance(1us);
    t.expect_nothing();  // no reset: the peer is unreachable anyway
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::timed_out);
    std::error_code ec;
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::timed_out);
    CHECK(conn(t, s).stats().timeouts == 2);
    CHECK(conn(t, s).stats().retransmitted_segments == 2);
    CHECK(t.st.counters().retransmitted_segments == 2);
}

TEST_CASE("user_timeout_is_enforced_between_backed_off_retransmissions")
{
    // RFC 9293 §3.8.3 (R2) / §3.10.8: the user timeout is a limit of its own, not "at the
    // next backoff after it": with retransmissions at 300 ms and 900 ms and the next due at
    // 2.1 s, a 1 s user timeout closes the connection at 1 s.
    config c = scenario_config();
    c.user_timeout = 1s;
    scenario t{c};
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, "hello");
    (void)t.expect_one();
    t.advance(300ms);
    (void)t.expect_one();
    t.advance(600ms);
    (void)t.expect_one();
    t.advance(100ms - 1us);
    CHECK(t.st.state(s) == tcp::state::established);
    t.advance(1us);
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::timed_out);
}

// ---- fast retransmit (RFC 5681 §2, §3.2) ----

namespace {
/// Five segments in flight: A, B, C from the initial window, then D, E after the peer
/// acknowledged A. Returns the sequence number of B (SND.UNA).
seq32 five_in_flight_then_ack_first(scenario& t, socket s)
{
    t.send(s, pattern(7300));
    REQUIRE(t.sent().size() == 3);
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    REQUIRE(t.sent().size() == 2);  // slow start: cwnd 4380 -> 5840
    return t.stack_nxt + 1460;
}
}  // namespace

TEST_CASE("fast_retransmit_on_third_duplicate_ack")
{
    // RFC 5681 §3.2 step 2: on the third duplicate ACK, retransmit the segment that appears
    // lost (the one at SND.UNA) — exactly that one, at once, without waiting for the timer.
    scenario t;
    const socket s = establish(t);
    const seq32 b = five_in_flight_then_ack_first(t, s);
    t.inject(t.peer_ack(b));
    t.expect_nothing();
    t.inject(t.peer_ack(b));
    t.expect_nothing();
    t.inject(t.peer_ack(b));
    check_segment(t.expect_one(), ACK, b, t.peer_nxt, 65535, pattern(1460, 1460));
    CHECK(conn(t, s).stats().duplicate_acks == 3);
    CHECK(conn(t, s).stats().fast_retransmits == 1);
    CHECK(conn(t, s).stats().retransmitted_segments == 1);
    CHECK(conn(t, s).stats().timeouts == 0);
    CHECK(t.st.counters().retransmitted_segments == 1);
    // RFC 5681 §3.2 step 2/3: ssthresh = max(FlightSize / 2, 2 * SMSS), cwnd = ssthresh + 3 * SMSS.
    CHECK(conn(t, s).congestion().ssthresh() == 2920);
    CHECK(conn(t, s).congestion().cwnd() == 2920 + 3 * 1460);
}

TEST_CASE("fast_retransmit_is_sent_once_per_loss")
{
    // RFC 5681 §3.2 step 4: further duplicates only inflate cwnd; the segment is not sent again.
    scenario t;
    const socket s = establish(t);
    const seq32 b = five_in_flight_then_ack_first(t, s);
    for (int i = 0; i < 3; ++i) t.inject(t.peer_ack(b));
    (void)t.expect_one();
    t.inject(t.peer_ack(b));
    t.inject(t.peer_ack(b));
    t.expect_nothing();  // no new data is queued, and B is not resent
    CHECK(conn(t, s).stats().fast_retransmits == 1);
    CHECK(conn(t, s).stats().duplicate_acks == 5);
}

TEST_CASE("fast_retransmit_not_triggered_by_two_duplicate_acks")
{
    // RFC 5681 §3.2: the threshold is three duplicate ACKs (reordering can cause one or two).
    scenario t;
    const socket s = establish(t);
    const seq32 b = five_in_flight_then_ack_first(t, s);
    t.inject(t.peer_ack(b));
    t.inject(t.peer_ack(b));
    t.expect_nothing();
    CHECK(conn(t, s).stats().duplicate_acks == 2);
    CHECK(conn(t, s).stats().fast_retransmits == 0);
}

TEST_CASE("fast_retransmit_ack_with_changed_window_is_not_a_duplicate")
{
    // RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT (e): "the advertised window in the incoming
    // acknowledgment equals the advertised window in the last incoming acknowledgment".
    scenario t;
    const socket s = establish(t);
    const seq32 b = five_in_flight_then_ack_first(t, s);
    for (std::uint16_t w : {60000, 50000, 40000}) {
        t.peer_window = w;
        t.inject(t.peer_ack(b));
    }
    t.expect_nothing();
    CHECK(conn(t, s).stats().duplicate_acks == 0);
    CHECK(conn(t, s).stats().fast_retransmits == 0);
}

TEST_CASE("fast_retransmit_ack_carrying_data_is_not_a_duplicate")
{
    // RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT (b): "the incoming acknowledgment carries no data".
    scenario t;
    const socket s = establish(t);
    const seq32 b = five_in_flight_then_ack_first(t, s);
    inject_data(t, t.peer_nxt, b, "x");
    inject_data(t, t.peer_nxt + 1, b, "y");
    inject_data(t, t.peer_nxt + 2, b, "z");
    t.expect_nothing();  // the ACK of "xyz" is delayed; nothing is retransmitted
    CHECK(conn(t, s).stats().duplicate_acks == 0);
    CHECK(conn(t, s).stats().fast_retransmits == 0);
    CHECK(t.receive(s) == "xyz");
}

// ---- delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2) ----

TEST_CASE("delayed_ack_single_full_segment_is_acked_after_the_delay")
{
    // RFC 1122 §4.2.3.2: an ACK may be delayed, but less than 0.5 s (tcpx:
    // config::delayed_ack, 40 ms); a lone full-sized segment is acknowledged when it expires.
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, pattern(1460));
    t.expect_nothing();
    advance_exactly(t, t.st.configuration().delayed_ack);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 1460, 65535 - 1460);
    CHECK(t.receive(s).size() == 1460);
}

TEST_CASE("delayed_ack_second_full_segment_is_acked_at_once")
{
    // RFC 1122 §4.2.3.2 / RFC 5681 §4.2: "an ACK SHOULD be generated for at least every
    // second full-sized segment".
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, pattern(1460));
    t.expect_nothing();
    t.advance(10ms);
    inject_data(t, t.peer_nxt + 1460, t.stack_nxt, pattern(1460, 1460));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 2920, 65535 - 2920);
    t.advance(t.st.configuration().delayed_ack);
    t.expect_nothing();  // the delayed ACK was satisfied
    CHECK(conn(t, s).deadline(tcp::timer::delayed_ack) == never);
}

TEST_CASE("delayed_ack_narrow_path_second_segment_of_the_size_seen_is_acked_at_once")
{
    // RFC 1122 §4.2.3.2: full-sized is what the peer sends. Behind a path that told it
    // (ICMP fragmentation needed) to send 960 bytes, every second segment is still
    // acknowledged at once; counted against the 1,460 both ends announced, none would
    // be full and each ACK would wait the delay — a window's flight per 40 ms.
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, pattern(960));
    t.expect_nothing();
    CHECK(conn(t, s).receive_mss() == 960);
    inject_data(t, t.peer_nxt + 960, t.stack_nxt, pattern(960, 960));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 1920, 65535 - 1920);
    inject_data(t, t.peer_nxt + 1920, t.stack_nxt, pattern(960, 1920));
    t.expect_nothing();
    inject_data(t, t.peer_nxt + 2880, t.stack_nxt, pattern(960, 2880));
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 3840, 65535 - 3840);
}

TEST_CASE("delayed_ack_two_equal_smaller_segments_lower_the_full_size_small_pushed_ones_do_not")
{
    // Linux's rcv_mss estimate: the largest segment seen raises it; two consecutive
    // segments of one smaller size, no tinier than a full one can be (536 bytes, or
    // 88 without PSH), lower it; short pushed writes leave it.
    scenario t;
    const socket s = establish(t);
    seq32 at = t.peer_nxt;
    const auto data = [&](std::size_t n, tcp_flags flags) {
        t.inject(t.segment(flags, at, t.stack_nxt), pattern(n));
        at += static_cast<std::uint32_t>(n);
    };
    data(1460, ACK);
    CHECK(conn(t, s).receive_mss() == 1460);
    data(100, ACK | PSH);
    data(100, ACK | PSH);
    CHECK(conn(t, s).receive_mss() == 1460);
    data(1000, ACK);
    CHECK(conn(t, s).receive_mss() == 1460);
    data(1000, ACK);
    CHECK(conn(t, s).receive_mss() == 1000);
    data(200, ACK);
    data(200, ACK);
    CHECK(conn(t, s).receive_mss() == 200);
    CHECK(t.st.info(s).rcv_mss == 200);
}

TEST_CASE("delayed_ack_small_segment_is_acked_after_the_delay")
{
    // RFC 1122 §4.2.3.2: a segment smaller than the MSS is acknowledged by the same delay.
    scenario t;
    (void)establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, "hi");
    advance_exactly(t, t.st.configuration().delayed_ack);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt + 2, 65533);
}

TEST_CASE("delayed_ack_is_piggybacked_on_outgoing_data")
{
    // RFC 1122 §4.2.3.2 / RFC 9293 §3.8.4: an ACK rides on data that leaves before the
    // delay expires; no separate ACK follows.
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, "ping");
    t.expect_nothing();
    t.advance(5ms);
    t.send(s, "pong");
    check_segment(t.expect_one(), ACK | PSH, t.stack_nxt, t.peer_nxt + 4, 65531, "pong");
    t.advance(t.st.configuration().delayed_ack);
    t.expect_nothing();
}

// ---- the FIN is retransmitted like data (RFC 9293 §3.10.4, RFC 6298 §5.4) ----

TEST_CASE("rto_expiry_retransmits_the_fin")
{
    // RFC 9293 §3.4 / §3.10.4: the FIN occupies a sequence number and is retransmitted until
    // acknowledged, with the timer backing off (RFC 6298 §5.5).
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    REQUIRE_FALSE(t.st.shutdown(s));
    check_segment(t.expect_one(), FIN | ACK, t.stack_nxt, t.peer_nxt, 65535);
    advance_exactly(t, rto_after_100ms);
    check_segment(t.expect_one(), FIN | ACK, t.stack_nxt, t.peer_nxt, 65535);
    advance_exactly(t, 2 * rto_after_100ms);
    check_segment(t.expect_one(), FIN | ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(conn(t, s).stats().retransmitted_segments == 2);
    t.inject(t.peer_ack(t.stack_nxt + 1));
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
    CHECK(conn(t, s).deadline(tcp::timer::retransmit) == never);
}

namespace {

// The text sizes of the first transmission and the next `n` retransmissions of a
// full segment nobody acknowledges, each after its backed-off timer (RFC 6298 §5.5).
std::vector<std::size_t> sizes_through_timeouts(const config& c, int n)
{
    scenario t{c};
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(4000));
    const auto first = t.sent();  // as much as the initial window takes
    REQUIRE_FALSE(first.empty());
    std::vector<std::size_t> sizes{first[0].payload.size()};
    duration rto = rto_after_100ms;
    for (int i = 0; i < n; ++i) {
        advance_exactly(t, rto);
        const auto resent = t.sent();  // from SND.UNA, as much as the loss window takes
        REQUIRE_FALSE(resent.empty());
        sizes.push_back(resent[0].payload.size());
        rto *= 2;
    }
    return sizes;
}

}  // namespace

TEST_CASE("established_black_hole_detection_third_timeout_falls_to_1024_then_halves_to_536")
{
    // RFC 4821 §7.7's fallback, as Linux's tcp_mtu_probing=1: a path that drops full
    // segments without telling (no ICMP) shows as timeouts in a row; on the third the
    // segments fall to config::black_hole_base_mss, then halve, never below 536.
    config c = scenario_config();
    c.mtu_black_hole_detection = true;
    const auto sizes = sizes_through_timeouts(c, 5);
    const std::size_t options = 1460 - sizes[0];  // what each segment's options take
    CHECK(sizes[1] == sizes[0]);
    CHECK(sizes[2] == sizes[0]);
    CHECK(sizes[3] == 1024 - options);
    CHECK(sizes[4] == 536 - options);
    CHECK(sizes[5] == 536 - options);
}

TEST_CASE("established_black_hole_detection_off_by_default_segments_keep_their_size")
{
    const auto sizes = sizes_through_timeouts(scenario_config(), 5);
    for (const std::size_t n : sizes) CHECK(n == sizes[0]);
}

TEST_CASE("rto_expiry_retransmits_data_and_fin_together")
{
    // RFC 6298 §5.4 with RFC 9293 §3.10.4: the earliest unacknowledged segment is the data
    // that carried the FIN; it goes again as it was.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, "bye");
    REQUIRE_FALSE(t.st.shutdown(s));
    check_segment(t.expect_one(), FIN | PSH | ACK, t.stack_nxt, t.peer_nxt, 65535, "bye");
    advance_exactly(t, rto_after_100ms);
    check_segment(t.expect_one(), FIN | PSH | ACK, t.stack_nxt, t.peer_nxt, 65535, "bye");
    t.inject(t.peer_ack(t.stack_nxt + 4));
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);
}
