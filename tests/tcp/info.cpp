// Scenario tests: per-connection statistics (tcp/info.hpp, stack::info), the numbers
// Linux's tcp_info and `ss -ti` report, after scripted exchanges whose every value the
// RFCs fix: RFC 6298 §2 (SRTT, RTTVAR, RTO), §5.5 (backoff), RFC 5681 §3.1 (initial
// window, slow start, the loss window), §3.2 (fast retransmit), RFC 9293 §3.3.1.
//
// Congestion control is cc::reno with an MSS of 1460: IW = 3 segments (RFC 5681 §3.1 eq. 1).
#include <tcpx/tcp/info.hpp>

#include <doctest/doctest.h>

#include <tcpx/stack.hpp>

#include "support/scenario.hpp"
#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

TEST_CASE("info_after_handshake_reports_established_rtt_and_initial_window")
{
    // RFC 6298 §2.2: the SYN-ACK's 100 ms is the first sample: SRTT = R = 100 ms,
    // RTTVAR = R/2 = 50 ms, RTO = SRTT + 4 RTTVAR = 300 ms. RFC 5681 §3.1: IW = 3 * 1460,
    // ssthresh arbitrarily high. bytes_acked counts data and FIN, not the SYN.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    const tcp::connection_info i = t.st.info(s);
    CHECK(i.state == tcp::state::established);
    CHECK(i.cwnd == 4380);
    CHECK(i.ssthresh == UINT32_MAX);
    CHECK_FALSE(i.in_recovery);
    CHECK(i.snd_mss == 1460);
    CHECK(i.snd_wnd == 65535);
    CHECK(i.rcv_wnd == 64 * 1024 - 1);  // the 16-bit field's largest value (no window scaling)
    CHECK(i.srtt == 100ms);
    CHECK(i.rttvar == 50ms);
    CHECK(i.rto == 300ms);
    CHECK(i.backoff == 0);
    CHECK(i.retransmit_timer == duration::max());  // RFC 6298 §5.2: off, nothing outstanding
    CHECK(i.bytes_in_flight == 0);
    CHECK(i.segments_sent == 2);      // SYN, ACK
    CHECK(i.segments_received == 1);  // SYN-ACK
    CHECK(i.bytes_sent == 0);
    CHECK(i.bytes_acked == 0);
    CHECK(i.bytes_received == 0);
    CHECK(i.delivery_rate == 0);  // the handshake's sample carries no data
}

TEST_CASE("info_after_passive_open_counts_no_syn_in_bytes_acked")
{
    // RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: the ACK of our SYN-ACK moves SND.UNA past
    // the SYN; bytes_acked counts data and FIN only, the same after either open.
    scenario t;
    const socket s = t.establish_passive();
    const tcp::connection_info i = t.st.info(s);
    CHECK(i.state == tcp::state::established);
    CHECK(i.bytes_acked == 0);
    CHECK(i.segments_sent == 1);      // SYN-ACK
    CHECK(i.segments_received == 2);  // SYN, ACK
}

TEST_CASE("info_after_exchange_counts_bytes_sent_acked_and_received")
{
    // RFC 9293 §3.3.1: 2920 bytes leave (SND.NXT advances), the peer acknowledges them
    // (SND.UNA advances) and sends 100 bytes of its own (RCV.NXT advances).
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(2920));
    REQUIRE(t.sent().size() == 2);
    CHECK(t.st.info(s).bytes_in_flight == 2920);
    t.advance(100ms);
    inject_data(t, t.peer_nxt, t.stack_nxt + 2920, pattern(100));
    t.peer_nxt = t.peer_nxt + 100;
    CHECK(t.receive(s) == pattern(100));
    const tcp::connection_info i = t.st.info(s);
    CHECK(i.bytes_sent == 2920);
    CHECK(i.bytes_acked == 2920);
    CHECK(i.bytes_received == 100);
    CHECK(i.bytes_in_flight == 0);
    CHECK(i.segments_received == 2);
    CHECK(i.retransmitted_segments == 0);
    CHECK(i.bytes_retransmitted == 0);
    // RFC 5681 §3.1 slow start with RFC 3465 L = 2*SMSS: one ACK of 2920 bytes adds 2920.
    CHECK(i.cwnd == 4380 + 2920);
}

TEST_CASE("info_delivery_rate_is_bytes_acked_over_the_timed_round_trip")
{
    // The first data segment is timed (RFC 6298 §3); its ACK 100 ms later acknowledges
    // all three: 4380 bytes in 0.1 s is 43 800 bytes per second.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(4380));
    REQUIRE(t.sent().size() == 3);
    t.advance(100ms);
    t.inject(t.peer_ack(t.stack_nxt + 4380));
    CHECK(t.st.info(s).delivery_rate == 43'800);
    CHECK(t.st.info(s).srtt == 100ms);  // RFC 6298 §2.3 with an equal sample: unchanged
}

TEST_CASE("info_delivery_rate_is_kept_while_karn_voids_the_timing")
{
    // RFC 6298 §3 (Karn): the ACK of a retransmitted segment gives no RTT sample, so no
    // new delivery-rate sample either; the last one stays.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(1460));
    (void)t.expect_one();
    t.advance(50ms);
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    t.stack_nxt = t.stack_nxt + 1460;
    CHECK(t.st.info(s).delivery_rate == 29'200);  // 1460 bytes in 50 ms
    t.send(s, pattern(1460));
    (void)t.expect_one();
    REQUIRE(t.advance_to_deadline());  // the RTO fires: the segment goes again
    (void)t.expect_one();
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    CHECK(t.st.info(s).delivery_rate == 29'200);
}

TEST_CASE("info_counts_fast_retransmit_duplicate_acks_and_recovery")
{
    // RFC 5681 §3.2: the third duplicate ACK retransmits SND.UNA's segment, sets
    // ssthresh = max(FlightSize / 2, 2 * SMSS) = 2920 and cwnd = ssthresh + 3 * SMSS.
    scenario t;
    const socket s = establish(t);
    t.send(s, pattern(7300));
    REQUIRE(t.sent().size() == 3);
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    REQUIRE(t.sent().size() == 2);
    const seq32 una = t.stack_nxt + 1460;
    for (int k = 0; k < 3; ++k) t.inject(t.peer_ack(una));
    (void)t.expect_one();
    const tcp::connection_info i = t.st.info(s);
    CHECK(i.duplicate_acks == 3);
    CHECK(i.fast_retransmits == 1);
    CHECK(i.retransmitted_segments == 1);
    CHECK(i.bytes_retransmitted == 1460);
    CHECK(i.timeouts == 0);
    CHECK(i.in_recovery);
    CHECK(i.ssthresh == 2920);
    CHECK(i.cwnd == 2920 + 3 * 1460);
    CHECK(i.bytes_in_flight == 4 * 1460);
    CHECK(i.bytes_sent == 7300 + 1460);
}

TEST_CASE("info_counts_timeouts_and_reports_the_backed_off_rto")
{
    // RFC 6298 §5.5: the expiry doubles RTO (300 ms -> 600 ms) and §5.6 re-arms the
    // timer with it; RFC 5681 §3.1: cwnd is the loss window, ssthresh = max(4380 / 2, 2920).
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    t.send(s, pattern(4380));
    REQUIRE(t.sent().size() == 3);
    CHECK(t.st.info(s).retransmit_timer == 300ms);  // RFC 6298 §5.1: armed with RTO
    t.advance(100ms);
    CHECK(t.st.info(s).retransmit_timer == 200ms);
    t.advance(200ms);
    (void)t.expect_one();
    const tcp::connection_info i = t.st.info(s);
    CHECK(i.timeouts == 1);
    CHECK(i.backoff == 1);
    CHECK(i.rto == 600ms);
    CHECK(i.retransmit_timer == 600ms);
    CHECK(i.cwnd == 1460);
    CHECK(i.ssthresh == 2920);
    CHECK(i.retransmitted_segments == 1);
    CHECK(i.fast_retransmits == 0);
}

TEST_CASE("info_of_a_stale_socket_is_closed_and_zero")
{
    // A stale handle answers CLOSED, as stack::state() does.
    scenario t;
    const socket s = establish(t);
    REQUIRE_FALSE(t.st.abort(s));
    const tcp::connection_info i = t.st.info(s);
    CHECK(i.state == tcp::state::closed);
    CHECK(i.cwnd == 0);
    CHECK(i.segments_sent == 0);
}

TEST_CASE("info_to_string_reads_like_ss")
{
    // `ss -ti` style: state, rto and rtt in milliseconds, windows, counters.
    scenario t;
    const socket s = establish(t, {.rtt = 100ms});
    const std::string line = to_string(t.st.info(s));
    CHECK(line.find("ESTABLISHED") == 0);
    CHECK(line.find(" rto:300 ") != std::string::npos);
    CHECK(line.find(" rtt:100/50 ") != std::string::npos);
    CHECK(line.find(" mss:1460 ") != std::string::npos);
    CHECK(line.find(" cwnd:4380 ") != std::string::npos);
    CHECK(line.find("ssthresh") == std::string::npos);  // not set yet: not shown, as ss does
    CHECK(line.find(" bytes_acked:0 ") != std::string::npos);
}
