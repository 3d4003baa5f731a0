// cc::reno event by event (RFC 5681 §3, RFC 3465 §2, RFC 3042 §2): cwnd and ssthresh
// after each ACK, duplicate ACK and timeout, against the numbers the RFCs prescribe.
// SMSS is 1460 throughout, so RFC 5681 §3.1 eq. 1 gives IW = 3 * 1460 = 4380.
#include <tcpx/cc/reno.hpp>

#include <doctest/doctest.h>

#include <cstdint>

using namespace tcpx;

namespace {
constexpr std::uint32_t smss = 1460;
const seq32 iss{1000};
const seq32 una0 = iss + 1;  // the first data byte

cc::reno make(std::uint32_t initial_window = 0) { return cc::reno{cc::init{smss, initial_window, iss}}; }

/// An ACK that moves SND.UNA from `from` by `acked` bytes with `flight` outstanding before it.
cc::ack_event ack(seq32 from, std::uint32_t acked, std::uint32_t flight)
{
    return cc::ack_event{from + acked, acked, flight, duration{0}, instant{}};
}
cc::duplicate_ack_event dup(seq32 una, std::uint32_t count, std::uint32_t flight)
{
    return cc::duplicate_ack_event{una, count, flight, una + flight, instant{}};
}

/// Drives r into fast recovery: three duplicates with `flight` outstanding at SND.UNA `una`.
void enter_recovery(cc::reno& r, seq32 una, std::uint32_t flight)
{
    REQUIRE(r.on_duplicate_ack(dup(una, 1, flight)) == cc::action::none);
    REQUIRE(r.on_duplicate_ack(dup(una, 2, flight)) == cc::action::none);
    REQUIRE(r.on_duplicate_ack(dup(una, 3, flight)) == cc::action::retransmit);
}
}  // namespace

TEST_CASE("reno_initial_window_follows_rfc5681_equation_1")
{
    // RFC 5681 §3.1 eq. 1: SMSS > 2190: 2 segments; > 1095: 3; otherwise 4.
    CHECK(cc::reno{cc::init{2191}}.cwnd() == 2 * 2191);
    CHECK(cc::reno{cc::init{2190}}.cwnd() == 3 * 2190);
    CHECK(cc::reno{cc::init{1096}}.cwnd() == 3 * 1096);
    CHECK(cc::reno{cc::init{1095}}.cwnd() == 4 * 1095);
    CHECK(cc::reno{cc::init{536}}.cwnd() == 4 * 536);
    CHECK(make().cwnd() == 4380);
}

TEST_CASE("reno_initial_window_from_init_takes_rfc6928_ten_segments")
{
    // RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)); the sender passes it in bytes.
    CHECK(cc::rfc6928_initial_window(1460) == 14600);
    CHECK(cc::rfc6928_initial_window(536) == 5360);
    CHECK(cc::rfc6928_initial_window(9000) == 18000);  // two jumbo segments, not ten
    CHECK(make(cc::rfc6928_initial_window(smss)).cwnd() == 14600);
    CHECK(make(cc::rfc6928_initial_window(smss)).initial_window() == 14600);
}

TEST_CASE("reno_initial_ssthresh_is_arbitrarily_high")
{
    // RFC 5681 §3.1: "The initial value of ssthresh SHOULD be set arbitrarily high".
    const cc::reno r = make();
    CHECK(r.ssthresh() == UINT32_MAX);
    CHECK_FALSE(r.in_recovery());
}

TEST_CASE("reno_slow_start_grows_by_bytes_acked_up_to_two_smss_per_ack")
{
    // RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2 appropriate byte counting, L = 2*SMSS:
    // cwnd += min(N, L) per ACK of N new bytes.
    cc::reno r = make();
    seq32 una = una0;
    const std::uint32_t n[] = {1460, 2920, 4380, 100, 1460};
    const std::uint32_t cwnd[] = {5840, 8760, 11680, 11780, 13240};
    for (int i = 0; i < 5; ++i) {
        CAPTURE(i);
        CHECK(r.on_ack(ack(una, n[i], 20000)) == cc::action::none);
        una += n[i];
        CHECK(r.cwnd() == cwnd[i]);
        CHECK(r.ssthresh() == UINT32_MAX);
    }
}

TEST_CASE("reno_third_duplicate_ack_halves_flight_and_inflates_by_three_segments")
{
    // RFC 5681 §3.2 step 2: ssthresh = max(FlightSize / 2, 2*SMSS) (eq. 4); step 3:
    // retransmit the segment at SND.UNA, cwnd = ssthresh + 3*SMSS.
    cc::reno r = make();
    enter_recovery(r, una0, 8760);
    CHECK(r.ssthresh() == 4380);
    CHECK(r.cwnd() == 4380 + 3 * 1460);
    CHECK(r.in_recovery());
}

TEST_CASE("reno_first_and_second_duplicate_acks_leave_cwnd_unchanged")
{
    // RFC 5681 §3.2 step 1 / RFC 3042 §2: limited transmit may send new data on the first
    // two duplicates, but "the TCP sender MUST NOT change cwnd to reflect these two segments".
    cc::reno r = make();
    CHECK(r.on_duplicate_ack(dup(una0, 1, 4380)) == cc::action::none);
    CHECK(r.cwnd() == 4380);
    CHECK(r.on_duplicate_ack(dup(una0, 2, 5840)) == cc::action::none);
    CHECK(r.cwnd() == 4380);
    CHECK(r.ssthresh() == UINT32_MAX);
    CHECK_FALSE(r.in_recovery());
}

TEST_CASE("reno_third_duplicate_ack_leaves_limited_transmit_out_of_flight_size")
{
    // RFC 5681 §3.2 step 2: "additional data sent in limited transmit MUST NOT be included
    // in this calculation": 4380 outstanding at the first duplicate, 7300 at the third after
    // two limited-transmit segments; ssthresh = max(4380 / 2, 2920) = 2920, not 3650.
    cc::reno r = make();
    CHECK(r.on_duplicate_ack(dup(una0, 1, 4380)) == cc::action::none);
    CHECK(r.on_duplicate_ack(dup(una0, 2, 5840)) == cc::action::none);
    CHECK(r.on_duplicate_ack(dup(una0, 3, 7300)) == cc::action::retransmit);
    CHECK(r.ssthresh() == 2920);
    CHECK(r.cwnd() == 2920 + 4380);
}

TEST_CASE("reno_ssthresh_is_at_least_two_segments")
{
    // RFC 5681 §3.1 eq. 4: max(FlightSize / 2, 2*SMSS).
    cc::reno r = make();
    enter_recovery(r, una0, 2920);
    CHECK(r.ssthresh() == 2920);
    CHECK(r.cwnd() == 2920 + 4380);
}

TEST_CASE("reno_each_further_duplicate_ack_inflates_cwnd_by_smss")
{
    // RFC 5681 §3.2 step 4: "For each additional duplicate ACK received (after the third),
    // cwnd MUST be incremented by SMSS."
    cc::reno r = make();
    enter_recovery(r, una0, 11680);
    CHECK(r.cwnd() == 5840 + 4380);
    for (std::uint32_t k = 4; k <= 8; ++k) {
        CAPTURE(k);
        CHECK(r.on_duplicate_ack(dup(una0, k, 11680)) == cc::action::none);
        CHECK(r.cwnd() == 5840 + 4380 + (k - 3) * 1460);
        CHECK(r.ssthresh() == 5840);
    }
}

TEST_CASE("reno_ack_of_new_data_in_recovery_deflates_to_ssthresh_and_ends_recovery")
{
    // RFC 5681 §3.2 step 6: "When the next ACK arrives that acknowledges previously
    // unacknowledged data, a TCP MUST set cwnd to ssthresh" — even one that leaves a hole
    // (Reno has no partial-ACK rule; that is RFC 6582's).
    cc::reno r = make();
    enter_recovery(r, una0, 11680);
    (void)r.on_duplicate_ack(dup(una0, 4, 11680));
    CHECK(r.on_ack(ack(una0, 1460, 11680)) == cc::action::none);
    CHECK(r.cwnd() == 5840);
    CHECK(r.ssthresh() == 5840);
    CHECK_FALSE(r.in_recovery());
}

TEST_CASE("reno_congestion_avoidance_adds_one_smss_per_cwnd_of_bytes_acked")
{
    // RFC 5681 §3.1 eq. 3, the RECOMMENDED byte counting (RFC 3465 §2.1): at cwnd =
    // ssthresh = 5840 (recovery just ended), four ACKs of 1460 bytes make cwnd bytes
    // acknowledged: cwnd += SMSS. The next step needs 7300 bytes: five ACKs.
    cc::reno r = make();
    enter_recovery(r, una0, 11680);
    seq32 una = una0;
    (void)r.on_ack(ack(una, 1460, 11680));
    una += 1460;
    REQUIRE(r.cwnd() == 5840);
    const std::uint32_t expected[] = {5840, 5840, 5840, 7300, 7300, 7300, 7300, 7300, 8760};
    for (std::uint32_t e : expected) {
        (void)r.on_ack(ack(una, 1460, 10000));
        una += 1460;
        CHECK(r.cwnd() == e);
    }
    CHECK(r.ssthresh() == 5840);
}

TEST_CASE("reno_congestion_avoidance_with_delayed_acks_still_adds_one_smss_per_window")
{
    // RFC 5681 §3.1 / RFC 3465 §2.1: byte counting is why an ACK for every second segment
    // grows cwnd as fast as an ACK for each: 2920 + 2920 >= 5840 after two ACKs.
    cc::reno r = make();
    enter_recovery(r, una0, 11680);
    (void)r.on_ack(ack(una0, 1460, 11680));
    seq32 una = una0 + 1460;
    (void)r.on_ack(ack(una, 2920, 10000));
    CHECK(r.cwnd() == 5840);
    (void)r.on_ack(ack(una + 2920, 2920, 10000));
    CHECK(r.cwnd() == 7300);
}

TEST_CASE("reno_timeout_sets_loss_window_and_ssthresh_from_flight_size")
{
    // RFC 5681 §3.1 eq. 4 and "upon a timeout cwnd MUST be set to no more than the loss
    // window, LW, which equals 1 full-sized segment (regardless of the value of IW)".
    cc::reno r = make(cc::rfc6928_initial_window(smss));
    r.on_timeout(11680, instant{});
    CHECK(r.cwnd() == 1460);
    CHECK(r.ssthresh() == 5840);
    CHECK_FALSE(r.in_recovery());
}

TEST_CASE("reno_repeated_timeout_of_the_same_segment_holds_ssthresh")
{
    // RFC 5681 §3.1: "when a TCP sender detects segment loss using the retransmission timer
    // and the given segment has already been retransmitted by way of the retransmission
    // timer at least once, the value of ssthresh is held constant". An ACK of new data
    // makes the next timeout a first one again.
    cc::reno r = make();
    r.on_timeout(11680, instant{});
    REQUIRE(r.ssthresh() == 5840);
    r.on_timeout(2920, instant{});
    CHECK(r.ssthresh() == 5840);
    CHECK(r.cwnd() == 1460);
    (void)r.on_ack(ack(una0, 1460, 11680));
    r.on_timeout(4380, instant{});
    CHECK(r.ssthresh() == 2920);
}

TEST_CASE("reno_timeout_in_recovery_ends_recovery")
{
    // RFC 5681 §3.1: the loss window after a timeout, whatever fast recovery was doing.
    cc::reno r = make();
    enter_recovery(r, una0, 11680);
    r.on_timeout(11680, instant{});
    CHECK_FALSE(r.in_recovery());
    CHECK(r.cwnd() == 1460);
    CHECK(r.ssthresh() == 5840);
}

TEST_CASE("reno_slow_start_after_timeout_counts_at_most_one_smss_per_ack")
{
    // RFC 3465 §2.3: in the slow start that follows a retransmission timeout L is 1*SMSS —
    // the ACK of the retransmission may cover much that left before the timeout. Once that
    // slow start has ended, a later one (after idle) uses L = 2*SMSS again.
    cc::reno r = make();
    r.on_timeout(11680, instant{});  // ssthresh 5840
    seq32 una = una0;
    (void)r.on_ack(ack(una, 4380, 11680));
    una += 4380;
    CHECK(r.cwnd() == 2920);
    for (std::uint32_t expected : {4380u, 5840u}) {
        (void)r.on_ack(ack(una, 2920, 7300));
        una += 2920;
        CHECK(r.cwnd() == expected);
    }
    (void)r.on_ack(ack(una, 2920, 5840));  // cwnd = ssthresh: congestion avoidance
    una += 2920;
    CHECK(r.cwnd() == 5840);
    r.on_idle(instant{});  // RW = IW = 4380 < ssthresh: slow start again
    REQUIRE(r.cwnd() == 4380);
    (void)r.on_ack(ack(una, 4380, 4380));
    CHECK(r.cwnd() == 4380 + 2920);
}

TEST_CASE("reno_slow_start_after_fast_recovery_uses_l_of_two_smss")
{
    // RFC 3465 §2.2: L = 2*SMSS outside the slow start after a timeout. Recovery that ends
    // with cwnd below ssthresh (here after a restart from idle) slow-starts with L = 2*SMSS.
    cc::reno r = make();
    seq32 una = una0;
    for (int i = 0; i < 5; ++i) {
        (void)r.on_ack(ack(una, 2920, 30000));
        una += 2920;
    }
    REQUIRE(r.cwnd() == 4380 + 5 * 2920);
    enter_recovery(r, una, 30000);  // ssthresh 15000
    (void)r.on_ack(ack(una, 1460, 30000));
    una += 1460;
    REQUIRE(r.cwnd() == 15000);
    r.on_idle(instant{});
    REQUIRE(r.cwnd() == 4380);
    (void)r.on_ack(ack(una, 4380, 4380));
    CHECK(r.cwnd() == 4380 + 2920);
}

TEST_CASE("reno_restart_after_idle_is_min_of_iw_and_cwnd")
{
    // RFC 5681 §4.1: after an idle period longer than the RTO, "TCP SHOULD set cwnd to no
    // more than RW before beginning transmission", RW = min(IW, cwnd).
    cc::reno r = make();
    seq32 una = una0;
    for (int i = 0; i < 4; ++i) {
        (void)r.on_ack(ack(una, 2920, 20000));
        una += 2920;
    }
    REQUIRE(r.cwnd() == 4380 + 4 * 2920);
    r.on_idle(instant{});
    CHECK(r.cwnd() == 4380);
    r.on_timeout(4380, instant{});
    r.on_idle(instant{});
    CHECK(r.cwnd() == 1460);  // already below IW
}

TEST_CASE("reno_restart_after_idle_uses_the_initial_window_it_began_with")
{
    // RFC 5681 §4.1 with RFC 6928: IW is what the connection began with — ten segments here.
    cc::reno r = make(14600);
    seq32 una = una0;
    for (int i = 0; i < 4; ++i) {
        (void)r.on_ack(ack(una, 2920, 20000));
        una += 2920;
    }
    r.on_idle(instant{});
    CHECK(r.cwnd() == 14600);
}

TEST_CASE("reno_duplicates_beyond_the_third_outside_recovery_change_nothing")
{
    // RFC 5681 §3.2 step 2 acts on the third duplicate only; after a timeout ended recovery
    // the run goes on without a second fast retransmit.
    cc::reno r = make();
    r.on_timeout(8760, instant{});
    CHECK(r.on_duplicate_ack(dup(una0, 4, 8760)) == cc::action::none);
    CHECK(r.on_duplicate_ack(dup(una0, 5, 8760)) == cc::action::none);
    CHECK(r.cwnd() == 1460);
    CHECK(r.ssthresh() == 4380);
}
