// cc::newreno event by event (RFC 6582 §3.2 on top of RFC 5681 §3): the variable
// "recover", partial and full acknowledgments, the check that keeps one window from
// triggering two fast retransmits, and recover after a timeout. SMSS is 1460, ISS 1000.
#include <tcpx/cc/newreno.hpp>

#include <doctest/doctest.h>

#include <cstdint>

using namespace tcpx;

namespace {
constexpr std::uint32_t smss = 1460;
const seq32 iss{1000};
const seq32 una0 = iss + 1;

cc::newreno make() { return cc::newreno{cc::init{smss, 0, iss}}; }

cc::ack_event ack(seq32 from, std::uint32_t acked, std::uint32_t flight)
{
    return cc::ack_event{from + acked, acked, flight, duration{0}, instant{}};
}
cc::duplicate_ack_event dup(seq32 una, std::uint32_t count, std::uint32_t flight)
{
    return cc::duplicate_ack_event{una, count, flight, una + flight, instant{}};
}
void enter_recovery(cc::newreno& r, seq32 una, std::uint32_t flight)
{
    REQUIRE(r.on_duplicate_ack(dup(una, 1, flight)) == cc::action::none);
    REQUIRE(r.on_duplicate_ack(dup(una, 2, flight)) == cc::action::none);
    REQUIRE(r.on_duplicate_ack(dup(una, 3, flight)) == cc::action::retransmit);
}
}  // namespace

TEST_CASE("newreno_recover_starts_at_the_iss")
{
    // RFC 6582 §3.2 step 1: "When the TCP protocol control block is initialized, recover
    // is set to the initial send sequence number."
    const cc::newreno r = make();
    CHECK(r.recover() == iss);
    CHECK(r.cwnd() == 4380);  // RFC 5681 §3.1 eq. 1
    CHECK(r.ssthresh() == UINT32_MAX);
}

TEST_CASE("newreno_third_duplicate_ack_sets_recover_to_highest_sent")
{
    // RFC 6582 §3.2 step 2: "the value of recover is incremented to the value of the highest
    // sequence number transmitted by the TCP so far", then RFC 5681 §3.2 steps 2-3.
    cc::newreno r = make();
    enter_recovery(r, una0, 8760);
    CHECK(r.recover() == una0 + 8760 - 1);
    CHECK(r.ssthresh() == 4380);
    CHECK(r.cwnd() == 4380 + 3 * 1460);
    CHECK(r.in_recovery());
}

TEST_CASE("newreno_partial_ack_retransmits_and_deflates_by_the_amount_acked_plus_smss")
{
    // RFC 6582 §3.2 step 3, partial acknowledgment: "retransmit the first unacknowledged
    // segment. Deflate the congestion window by the amount of new data acknowledged ...
    // If the partial ACK acknowledges at least one SMSS of new data, then add back SMSS
    // bytes ... Do not exit the fast recovery procedure".
    cc::newreno r = make();
    enter_recovery(r, una0, 14600);  // ssthresh 7300, cwnd 11680, recover una0 + 14599
    (void)r.on_duplicate_ack(dup(una0, 4, 14600));
    (void)r.on_duplicate_ack(dup(una0, 5, 14600));
    REQUIRE(r.cwnd() == 14600);
    CHECK(r.on_ack(ack(una0, 2920, 14600)) == cc::action::retransmit);
    CHECK(r.cwnd() == 14600 - 2920 + 1460);
    CHECK(r.ssthresh() == 7300);
    CHECK(r.in_recovery());
    // Duplicates that follow still inflate (RFC 5681 §3.2 step 4).
    CHECK(r.on_duplicate_ack(dup(una0 + 2920, 1, 11680)) == cc::action::none);
    CHECK(r.cwnd() == 13140 + 1460);
    // A second partial ACK: again one retransmission.
    CHECK(r.on_ack(ack(una0 + 2920, 4380, 11680)) == cc::action::retransmit);
    CHECK(r.cwnd() == 14600 - 4380 + 1460);
    CHECK(r.in_recovery());
}

TEST_CASE("newreno_partial_ack_of_less_than_smss_adds_nothing_back")
{
    // RFC 6582 §3.2 step 3: SMSS is added back only for a partial ACK of "at least one SMSS".
    cc::newreno r = make();
    enter_recovery(r, una0, 14600);
    REQUIRE(r.cwnd() == 11680);
    CHECK(r.on_ack(ack(una0, 1000, 14600)) == cc::action::retransmit);
    CHECK(r.cwnd() == 10680);
    CHECK(r.in_recovery());
}

TEST_CASE("newreno_full_ack_exits_with_ssthresh_when_flight_is_large")
{
    // RFC 6582 §3.2 step 3, full acknowledgment, option (1):
    // cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS), FlightSize after the ACK.
    // 14600 outstanding at the loss, recover = una0 + 14599; the ACK covers it with 7300
    // sent since still outstanding: min(7300, 7300 + 1460) = 7300.
    cc::newreno r = make();
    enter_recovery(r, una0, 14600);
    CHECK(r.on_ack(ack(una0, 14600, 21900)) == cc::action::none);
    CHECK(r.cwnd() == 7300);
    CHECK(r.ssthresh() == 7300);
    CHECK_FALSE(r.in_recovery());
}

TEST_CASE("newreno_full_ack_with_little_outstanding_exits_with_flight_plus_smss")
{
    // RFC 6582 §3.2 step 3 option (1): with nothing outstanding after the ACK,
    // max(0, SMSS) + SMSS = 2920 < ssthresh — no burst of a whole ssthresh at once.
    cc::newreno r = make();
    enter_recovery(r, una0, 14600);
    CHECK(r.on_ack(ack(una0, 14600, 14600)) == cc::action::none);
    CHECK(r.cwnd() == 2920);
    CHECK(r.ssthresh() == 7300);
    CHECK_FALSE(r.in_recovery());
    // Then slow start up to ssthresh (RFC 5681 §3.1), as after any reduction below it.
    (void)r.on_ack(ack(una0 + 14600, 2920, 2920));
    CHECK(r.cwnd() == 5840);
}

TEST_CASE("newreno_duplicates_not_beyond_recover_do_not_start_a_second_fast_retransmit")
{
    // RFC 6582 §3.2 step 2: the third duplicate starts fast retransmit only if "the
    // Cumulative Acknowledgment field covers more than recover" (ack - 1 > recover); "If
    // not, the TCP does not enter fast retransmit and does not reset ssthresh." After
    // recovery ended at exactly recover + 1, duplicates of that ACK come from the
    // recovery's own retransmissions: no second halving for one window.
    cc::newreno r = make();
    enter_recovery(r, una0, 14600);
    const seq32 end = una0 + 14600;  // recover + 1
    (void)r.on_ack(ack(una0, 14600, 21900));
    REQUIRE(r.cwnd() == 7300);
    for (std::uint32_t k = 1; k <= 4; ++k) CHECK(r.on_duplicate_ack(dup(end, k, 7300)) == cc::action::none);
    CHECK(r.ssthresh() == 7300);
    CHECK(r.cwnd() == 7300);
    CHECK_FALSE(r.in_recovery());
    // One byte beyond recover + 1 and the next loss may be fast-retransmitted.
    (void)r.on_ack(ack(end, 1460, 7300));
    enter_recovery(r, end + 1460, 8760);
    CHECK(r.ssthresh() == 4380);
    CHECK(r.recover() == end + 1460 + 8760 - 1);
}

TEST_CASE("newreno_timeout_records_highest_sent_in_recover")
{
    // RFC 6582 §3.2 step 4: "After a retransmit timeout, record the highest sequence number
    // transmitted in the variable recover, and exit the fast recovery procedure if
    // applicable." SND.UNA (from the ACKs) + FlightSize - 1. RFC 5681 §3.1: LW and eq. 4.
    cc::newreno r = make();
    (void)r.on_ack(ack(una0, 1460, 4380));
    const seq32 una = una0 + 1460;
    enter_recovery(r, una, 8760);
    r.on_timeout(8760, instant{});
    CHECK_FALSE(r.in_recovery());
    CHECK(r.recover() == una + 8760 - 1);
    CHECK(r.cwnd() == 1460);
    CHECK(r.ssthresh() == 4380);
    // The go-back retransmissions draw duplicates of old data: they start nothing.
    for (std::uint32_t k = 1; k <= 3; ++k) CHECK(r.on_duplicate_ack(dup(una + 1460, k, 7300)) == cc::action::none);
    CHECK(r.cwnd() == 1460);
    CHECK(r.ssthresh() == 4380);
}

TEST_CASE("newreno_timeout_before_any_ack_counts_from_the_iss")
{
    // RFC 6582 §3.2 step 4 with step 1: before any ACK of data, SND.UNA is ISS + 1.
    cc::newreno r = make();
    r.on_timeout(4380, instant{});
    CHECK(r.recover() == una0 + 4380 - 1);
    CHECK(r.on_duplicate_ack(dup(una0 + 1460, 3, 2920)) == cc::action::none);
    // The timeout's flight acknowledged in full, a later loss is fast-retransmitted.
    (void)r.on_ack(ack(una0 + 1460, 2920 + 1460, 2920 + 1460));
    enter_recovery(r, una0 + 5840, 5840);
    CHECK(r.in_recovery());
}

TEST_CASE("newreno_loss_of_the_first_segment_may_be_fast_retransmitted")
{
    // tcpx's reading of RFC 6582 §3.2 steps 1-2 (newreno.hpp): recover = ISS holds back
    // nothing — the duplicates of ISS + 1 cannot come from a recovery that never began.
    cc::newreno r = make();
    enter_recovery(r, una0, 4380);
    CHECK(r.ssthresh() == 2920);
    CHECK(r.recover() == una0 + 4380 - 1);
}

TEST_CASE("newreno_recover_check_holds_across_sequence_wraparound")
{
    // RFC 6582 §6: after 2^31 bytes outside recovery, a modular comparison with an old
    // recover would flip; once the ACKs have passed recover, they stay past it.
    const seq32 high_iss{0xfffff000u};
    cc::newreno r{cc::init{smss, 0, high_iss}};
    seq32 una = high_iss + 1;
    enter_recovery(r, una, 14600);
    (void)r.on_ack(ack(una, 14600, 14600));  // full, exactly recover + 1
    una += 14600;
    (void)r.on_ack(ack(una, 1460, 2920));    // past recover
    una += 1460;
    // Three gigabytes acknowledged in big steps (the test need not be realistic): SEG.ACK
    // is now "behind" recover in modular order.
    for (int i = 0; i < 3 * 1024; ++i) {
        (void)r.on_ack(ack(una, 1u << 20, 1u << 21));
        una += 1u << 20;
    }
    REQUIRE(seq_lt(una - 1, r.recover()));
    enter_recovery(r, una, 29200);
    CHECK(r.in_recovery());
}

TEST_CASE("newreno_grows_like_reno_outside_recovery")
{
    // RFC 6582 changes fast recovery only: slow start (RFC 5681 §3.1 with RFC 3465 L =
    // 2*SMSS) and congestion avoidance are RFC 5681's.
    cc::newreno r = make();
    (void)r.on_ack(ack(una0, 4380, 4380));
    CHECK(r.cwnd() == 4380 + 2920);
    enter_recovery(r, una0 + 4380, 11680);
    (void)r.on_ack(ack(una0 + 4380, 11680, 11680 + 5840));  // full: min(5840, 5840+1460)
    REQUIRE(r.cwnd() == 5840);
    seq32 una = una0 + 4380 + 11680;
    for (std::uint32_t e : {5840u, 5840u, 5840u, 7300u}) {
        (void)r.on_ack(ack(una, 1460, 5840));
        una += 1460;
        CHECK(r.cwnd() == e);
    }
}

TEST_CASE("newreno_repeated_timeout_holds_ssthresh_and_restart_after_idle_is_rw")
{
    // RFC 5681 §3.1 (ssthresh held on a repeated timeout) and §4.1 (RW = min(IW, cwnd)).
    cc::newreno r = make();
    r.on_timeout(11680, instant{});
    r.on_timeout(1460, instant{});
    CHECK(r.ssthresh() == 5840);
    CHECK(r.cwnd() == 1460);
    r.on_idle(instant{});
    CHECK(r.cwnd() == 1460);
}

TEST_CASE("newreno_paced_recovery_ends_with_cwnd_at_ssthresh_however_little_is_in_flight")
{
    // A recovery the sender ran itself (cc::loss_event: SACK, paced by PRR) ends with
    // RFC 6582 §3.2 step 3's option (2), cwnd = ssthresh (RFC 6937's target), even when
    // the full ACK leaves almost nothing in flight (the peer's window held the flight
    // back behind the hole): option (1) would leave 2 SMSS.
    cc::newreno r = make();
    const seq32 una = una0;
    r.on_loss(cc::loss_event{una, 100 * smss, una + 100 * smss, instant{}});
    REQUIRE(r.in_recovery());
    REQUIRE(r.ssthresh() == 50 * smss);
    (void)r.on_ack(ack(una, 100 * smss, 100 * smss));  // everything, nothing left in flight
    CHECK_FALSE(r.in_recovery());
    CHECK(r.cwnd() == 50 * smss);
}

TEST_CASE("newreno_dupack_recovery_full_ack_still_uses_option_one")
{
    // RFC 6582 §3.2 step 3 option (1) where the policy's own (inflating) recovery ran.
    cc::newreno r = make();
    const seq32 una = una0;
    for (std::uint32_t k = 1; k <= 3; ++k) (void)r.on_duplicate_ack(dup(una, k, 20 * smss));
    REQUIRE(r.in_recovery());
    (void)r.on_ack(ack(una, 20 * smss, 20 * smss));
    CHECK(r.cwnd() == std::min(r.ssthresh(), 2 * smss));
}
