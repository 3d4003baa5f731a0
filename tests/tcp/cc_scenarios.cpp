// The congestion-control scenarios, run under each policy (TEST_CASE_TEMPLATE over
// cc::reno, cc::newreno, cc::cubic): one stack, the test as the receiving peer on a
// 100 ms path, MSS 1460 (RFC 5681 §3.1 eq. 1: IW = 3 segments), data flowing one way.
// What each policy must do is what its RFC implies; where Reno (RFC 5681) and NewReno
// (RFC 6582) part ways, each case says which and why.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include <type_traits>

#include "support/cc_scenario.hpp"
#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {
constexpr std::uint32_t mss = 1460;
template <class CC>
constexpr bool is_reno = std::is_same_v<CC, cc::reno>;
template <class CC>
constexpr bool is_cubic = std::is_same_v<CC, cc::cubic>;

/// The ssthresh each policy sets from a FlightSize: RFC 5681 eq. 4, or RFC 9438 §4.6.
template <class CC>
std::uint32_t ssthresh_for(std::uint32_t flight)
{
    if constexpr (is_cubic<CC>) return std::max<std::uint32_t>(flight * 7 / 10, 2 * mss);
    else return std::max<std::uint32_t>(flight / 2, 2 * mss);
}
}  // namespace

TEST_CASE("stack_without_a_third_argument_runs_reno")
{
    // Issue 4 / DESIGN.md: tcpx::stack<Device, Clock> is Reno (RFC 5681).
    static_assert(std::is_same_v<stack<probe_device&, clocks::manual>::connection_type, tcp::connection<cc::reno>>);
    static_assert(congestion_control<cc::reno> && congestion_control<cc::newreno> && congestion_control<cc::cubic>);
    CHECK(true);
}

TEST_CASE_TEMPLATE("cc_transfer_without_loss_delivers_everything_without_retransmission", CC, cc::reno, cc::newreno,
                   cc::cubic)
{
    // RFC 5681 §3.1: slow start from IW, no loss, no retransmission, every byte in order.
    cc_scenario<CC> t;
    const socket s = t.establish();
    peer_receiver peer{t.stack_nxt};
    const std::string data = pattern(40 * mss);
    const auto r = run_transfer(t, s, peer, data);
    CHECK(peer.delivered() == data);
    const auto& st = t.conn(s).stats();
    CHECK(st.retransmitted_segments == 0);
    CHECK(st.timeouts == 0);
    CHECK(r.timer_waits == 0);
    CHECK(t.conn(s).congestion().ssthresh() == UINT32_MAX);
    CHECK(r.max_cwnd > 20 * mss);
}

TEST_CASE_TEMPLATE("cc_one_loss_is_repaired_by_fast_retransmit_without_timeout", CC, cc::reno, cc::newreno,
                   cc::cubic)
{
    // RFC 5681 §3.2: the third duplicate ACK retransmits the lost segment at once; fast
    // recovery keeps the ACK clock, and the timer never fires. Segment 10 is in the third
    // round's window (segments 9 to 20), so it is followed by ten duplicates.
    cc_scenario<CC> t;
    const socket s = t.establish();
    peer_receiver peer{t.stack_nxt};
    peer.lose({10});
    const std::string data = pattern(40 * mss);
    const auto r = run_transfer(t, s, peer, data);
    CHECK(peer.delivered() == data);
    CHECK(peer.lost() == 1);
    const auto& st = t.conn(s).stats();
    CHECK(st.fast_retransmits == 1);
    CHECK(st.retransmitted_segments == 1);
    CHECK(st.timeouts == 0);
    CHECK(r.timer_waits == 0);
    CHECK_FALSE(t.conn(s).congestion().in_recovery());
    CHECK(t.conn(s).congestion().ssthresh() < UINT32_MAX);
}

TEST_CASE_TEMPLATE("cc_limited_transmit_sends_one_new_segment_per_early_duplicate", CC, cc::reno, cc::newreno,
                   cc::cubic)
{
    // RFC 3042 §2 / RFC 5681 §3.2 step 1: the first and the second duplicate ACK each
    // release one segment of new data beyond cwnd (4380 bytes of IW in flight), and
    // cwnd does not change. The third starts fast retransmit with ssthresh from the
    // FlightSize before limited transmit (step 2): 4380, not 7300.
    cc_scenario<CC> t;
    const socket s = t.establish();
    t.send(s, pattern(10 * mss));
    auto first = t.sent();
    REQUIRE(first.size() == 3);
    t.advance(100ms);
    const seq32 a = t.stack_nxt;  // segment 0 is lost: the peer keeps acknowledging its start
    t.inject(t.peer_ack(a));      // segment 1 arrived
    auto lt1 = t.sent();
    REQUIRE(lt1.size() == 1);
    CHECK(lt1[0].seq() == t.stack_nxt + 3 * mss);
    CHECK(t.conn(s).congestion().cwnd() == 3 * mss);
    t.inject(t.peer_ack(a));  // segment 2 arrived
    auto lt2 = t.sent();
    REQUIRE(lt2.size() == 1);
    CHECK(lt2[0].seq() == t.stack_nxt + 4 * mss);
    CHECK(t.conn(s).congestion().cwnd() == 3 * mss);
    t.inject(t.peer_ack(a));  // segment 3 (limited transmit) arrived: the third duplicate
    auto rtx = t.sent();
    REQUIRE(rtx.size() == 1);
    CHECK(rtx[0].seq() == t.stack_nxt);
    CHECK(rtx[0].payload.size() == mss);
    CHECK(t.conn(s).congestion().ssthresh() == ssthresh_for<CC>(3 * mss));
    CHECK(t.conn(s).congestion().cwnd() == ssthresh_for<CC>(3 * mss) + 3 * mss);
    CHECK(t.conn(s).stats().fast_retransmits == 1);
}

TEST_CASE_TEMPLATE("cc_several_losses_in_one_window", CC, cc::reno, cc::newreno, cc::cubic)
{
    // Three segments of one window lost (10, 13, 16 of the window 9..20); 13 segments are
    // in flight at the first duplicate ACK.
    //  - NewReno (RFC 6582 §3.2 step 3) and CUBIC (its loss recovery, RFC 9438 §4.6):
    //    each partial ACK retransmits the next hole at once; one fast retransmit, three
    //    retransmissions, one reduction of ssthresh, no timeout.
    //  - Reno (RFC 5681 §3.2 step 6) leaves recovery at the first ACK of new data, so every
    //    hole is an episode of its own: a fast retransmit when three new duplicates follow
    //    it (from segments the inflated window sent), otherwise the retransmission timer.
    //    Here 10 and 13 are fast-retransmitted; behind 16 too few segments follow, and the
    //    timer repairs it (RFC 6298 §5.4), with the loss window (RFC 5681 §3.1).
    cc_scenario<CC> t;
    const socket s = t.establish();
    peer_receiver peer{t.stack_nxt};
    peer.lose({10, 13, 16});
    const std::string data = pattern(40 * mss);
    const auto r = run_transfer(t, s, peer, data);
    CHECK(peer.delivered() == data);
    CHECK(peer.lost() == 3);
    const auto& st = t.conn(s).stats();
    CHECK(st.retransmitted_segments == 3);
    if constexpr (is_reno<CC>) {
        CHECK(st.fast_retransmits + st.timeouts == 3);
        CHECK(st.fast_retransmits == 2);
        CHECK(st.timeouts == 1);
        CHECK(r.timer_waits == 1);
        CHECK(r.min_cwnd == mss);
    } else {
        CHECK(st.fast_retransmits == 1);
        CHECK(st.timeouts == 0);
        CHECK(r.timer_waits == 0);
        CHECK(r.min_cwnd > mss);
        CHECK(t.conn(s).congestion().ssthresh() == ssthresh_for<CC>(13 * mss));
    }
}

TEST_CASE_TEMPLATE("cc_timeout_collapses_cwnd_to_one_segment", CC, cc::reno, cc::newreno, cc::cubic)
{
    // RFC 5681 §3.1: "upon a timeout cwnd MUST be set to no more than the loss window, LW,
    // which equals 1 full-sized segment"; ssthresh from FlightSize (eq. 4, or β_cubic for
    // CUBIC, RFC 9438 §4.8). RFC 6298 §5.4: only the oldest segment goes again; the ACK of
    // it lets slow start send two (RFC 3465 §2.3: L = 1*SMSS after a timeout).
    cc_scenario<CC> t;
    const socket s = t.establish();
    t.send(s, pattern(30 * mss));
    REQUIRE(t.sent().size() == 3);
    t.advance(100ms);
    t.inject(t.peer_ack(t.stack_nxt + 3 * mss));  // the IW arrived: slow start to 4380 + 2920
    const auto second = t.sent();
    REQUIRE(second.size() == 5);                  // and then the whole second flight is lost
    REQUIRE(t.advance_to_deadline());
    const auto rtx = t.sent();
    REQUIRE(rtx.size() == 1);
    CHECK(rtx[0].seq() == t.stack_nxt + 3 * mss);
    CHECK(t.conn(s).stats().timeouts == 1);
    CHECK(t.conn(s).congestion().cwnd() == mss);
    CHECK(t.conn(s).congestion().ssthresh() == ssthresh_for<CC>(5 * mss));
    CHECK_FALSE(t.conn(s).congestion().in_recovery());
    t.advance(100ms);
    t.inject(t.peer_ack(t.stack_nxt + 4 * mss));
    CHECK(t.conn(s).congestion().cwnd() == 2 * mss);
    CHECK(t.sent().size() == 2);
}

TEST_CASE_TEMPLATE("cc_repeated_loss_of_the_same_segment_backs_off_and_holds_ssthresh", CC, cc::reno,
                   cc::newreno, cc::cubic)
{
    // RFC 5681 §3.1: on the second timeout of a segment ssthresh is "held constant";
    // cwnd stays the loss window; RFC 6298 §5.5 doubles the timer.
    cc_scenario<CC> t;
    const socket s = t.establish();
    t.send(s, pattern(8 * mss));
    REQUIRE(t.sent().size() == 3);
    REQUIRE(t.advance_to_deadline());
    REQUIRE(t.sent().size() == 1);
    const std::uint32_t ssthresh = t.conn(s).congestion().ssthresh();
    CHECK(ssthresh == ssthresh_for<CC>(3 * mss));
    REQUIRE(t.advance_to_deadline());
    REQUIRE(t.sent().size() == 1);
    CHECK(t.conn(s).stats().timeouts == 2);
    CHECK(t.conn(s).congestion().ssthresh() == ssthresh);
    CHECK(t.conn(s).congestion().cwnd() == mss);
}

TEST_CASE_TEMPLATE("cc_long_transfer_with_periodic_losses_completes_intact", CC, cc::reno, cc::newreno, cc::cubic)
{
    // Whatever the policy, loss recovery never corrupts or loses data: 120 segments, one
    // lost in every eight, all delivered in order.
    config c = scenario_config();
    c.send_buffer = 256 * 1024;
    cc_scenario<CC> t{c};
    const socket s = t.establish();
    peer_receiver peer{t.stack_nxt};
    peer.lose({5, 13, 21, 29, 37, 45, 53, 61, 69, 77, 85, 93, 101, 109, 117});
    const std::string data = pattern(120 * mss);
    (void)run_transfer(t, s, peer, data);
    CHECK(peer.delivered() == data);
    CHECK(peer.still_to_lose() == 0);
    CHECK(t.conn(s).stats().retransmitted_segments >= 15);
}

TEST_CASE_TEMPLATE("cc_restart_after_idle_sends_at_most_the_initial_window", CC, cc::reno, cc::newreno, cc::cubic)
{
    // RFC 5681 §4.1: a sender idle for longer than the RTO "SHOULD set cwnd to no more than
    // RW before beginning transmission", RW = min(IW, cwnd): after a transfer that opened
    // cwnd far beyond IW, ten idle seconds, then a burst of data — three segments leave.
    cc_scenario<CC> t;
    const socket s = t.establish();
    peer_receiver peer{t.stack_nxt};
    const auto r = run_transfer(t, s, peer, pattern(30 * mss));
    REQUIRE(r.max_cwnd > 10 * mss);
    t.advance(10s);
    t.send(s, pattern(20 * mss));
    CHECK(t.sent().size() == 3);
    CHECK(t.conn(s).congestion().cwnd() == 3 * mss);
}
