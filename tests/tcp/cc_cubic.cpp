// cc::cubic event by event against RFC 9438: W_cubic (§4.2 Figure 1) and K (Figure 2)
// computed here in double precision from the RFC's formulas, the window at chosen times
// since the last reduction, the Reno-friendly region (§4.3), the bounds on the target
// (§4.2), multiplicative decrease (§4.6), fast convergence (§4.7), timeouts (§4.8), and
// NewReno loss recovery (RFC 6582) underneath. SMSS is 1460.
#include <tcpx/cc/cubic.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

using namespace tcpx;

namespace {
constexpr std::uint32_t smss = 1460;
constexpr double s = smss;
const seq32 iss{1000};
const seq32 una0 = iss + 1;
constexpr double rfc_beta = 0.7;                               // RFC 9438 §4.6
constexpr double rfc_c = 0.4;                                  // RFC 9438 §4.2
constexpr double rfc_alpha = 3 * (1 - rfc_beta) / (1 + rfc_beta);  // RFC 9438 §4.3
const instant t0 = instant{} + std::chrono::seconds{100};

cc::ack_event ack(seq32 from, std::uint32_t acked, std::uint32_t flight, instant now, duration rtt = duration{0})
{
    return cc::ack_event{from + acked, acked, flight, rtt, now};
}
cc::duplicate_ack_event dup(seq32 una, std::uint32_t count, std::uint32_t flight)
{
    return cc::duplicate_ack_event{una, count, flight, una + flight, t0};
}

/// RFC 9438 §4.2–§4.5 for one congestion avoidance stage, in bytes and seconds.
struct rfc9438 {
    double w_max;
    double cwnd_prior;
    double rtt;  ///< seconds
    double w = 0, w_est = 0, k = 0;

    void begin(double cwnd_epoch)
    {
        w = cwnd_epoch;
        w_est = cwnd_epoch;                                     // §4.3
        k = std::cbrt((w_max - cwnd_epoch) / (rfc_c * s));      // Figure 2 (C in segments)
    }
    double w_cubic(double t) const { return rfc_c * s * std::pow(t - k, 3) + w_max; }  // Figure 1
    void on_ack(double t, double acked)
    {
        // §4.3 Figure 4, α_cubic 1 once W_est >= cwnd_prior.
        w_est += (w_est >= cwnd_prior ? 1.0 : rfc_alpha) * s * acked / w;
        if (w_cubic(t) < w_est) {
            w = std::max(w, w_est);  // Reno-friendly region
        } else {
            const double target = std::clamp(w_cubic(t + rtt), w, 1.5 * w);  // §4.2
            w += (target - w) * acked / w;                                     // §4.4, §4.5
        }
    }
};

/// A policy that just lost at cwnd = FlightSize = `w_max` bytes and left recovery with
/// a full ACK (cwnd = ssthresh = 0.7 * w_max), its RTT samples `rtt`.
cc::cubic after_loss(std::uint32_t w_max, duration rtt, seq32& una)
{
    cc::cubic k{cc::init{smss, w_max, iss}};
    REQUIRE(k.cwnd() == w_max);
    una = una0;
    for (std::uint32_t n = 1; n <= 3; ++n) (void)k.on_duplicate_ack(dup(una, n, w_max));
    REQUIRE(k.in_recovery());
    // The full ACK: everything up to recover, with a window's worth still outstanding.
    (void)k.on_ack(ack(una, w_max, 2 * w_max, t0, rtt));
    una += w_max;
    REQUIRE_FALSE(k.in_recovery());
    REQUIRE(k.cwnd() == k.ssthresh());
    return k;
}
}  // namespace

TEST_CASE("cubic_constants_are_rfc9438s")
{
    // RFC 9438 §4.6 β_cubic = 0.7, §4.2 C = 0.4, §4.3 α_cubic = 3(1 - β)/(1 + β).
    CHECK(cc::cubic::beta == 0.7);
    CHECK(cc::cubic::c == 0.4);
    CHECK(cc::cubic::alpha == doctest::Approx(9.0 / 17.0).epsilon(1e-15));
}

TEST_CASE("cubic_slow_start_below_ssthresh_is_rfc5681s")
{
    // RFC 9438 §4.10: below ssthresh, slow start — RFC 5681 §3.1 with RFC 3465 L = 2*SMSS.
    cc::cubic k{cc::init{smss, 0, iss}};
    CHECK(k.cwnd() == 4380);
    CHECK(k.ssthresh() == UINT32_MAX);
    (void)k.on_ack(ack(una0, 4380, 4380, t0));
    CHECK(k.cwnd() == 4380 + 2920);
    CHECK_FALSE(k.in_epoch());
}

TEST_CASE("cubic_loss_sets_ssthresh_to_beta_flight_and_w_max_to_cwnd")
{
    // RFC 9438 §4.6 Figure 5: ssthresh = flight_size * β_cubic, cwnd_prior = cwnd; §4.7:
    // the first loss sets W_max = cwnd. Recovery is RFC 6582's: cwnd = ssthresh + 3*SMSS,
    // retransmit, recover = highest sent.
    cc::cubic k{cc::init{smss, 14600, iss}};
    CHECK(k.on_duplicate_ack(dup(una0, 1, 14600)) == cc::action::none);
    CHECK(k.on_duplicate_ack(dup(una0, 2, 14600)) == cc::action::none);
    CHECK(k.on_duplicate_ack(dup(una0, 3, 14600)) == cc::action::retransmit);
    CHECK(k.ssthresh() == 10220);
    CHECK(k.w_max() == 14600);
    CHECK(k.cwnd_prior() == 14600);
    CHECK(k.cwnd() == 10220 + 4380);
    CHECK(k.in_recovery());
    CHECK(k.recover() == una0 + 14600 - 1);
}

TEST_CASE("cubic_ssthresh_is_at_least_two_segments")
{
    // RFC 9438 §4.6 Figure 5: "ssthresh = max(ssthresh, 2)" segments.
    cc::cubic k{cc::init{smss, 2920, iss}};
    for (std::uint32_t n = 1; n <= 3; ++n) (void)k.on_duplicate_ack(dup(una0, n, 2920));
    CHECK(k.ssthresh() == 2920);
}

TEST_CASE("cubic_fast_convergence_lowers_w_max_below_the_cwnd_at_loss")
{
    // RFC 9438 §4.7: a loss at cwnd < W_max sets W_max = cwnd * (1 + β_cubic) / 2.
    seq32 una;
    cc::cubic k = after_loss(146000, 100ms, una);  // W_max 146000, cwnd 102200
    REQUIRE(k.cwnd() == 102200);
    // One ACK past recover + 1 (RFC 6582 §3.2 step 2), then the next loss.
    (void)k.on_ack(ack(una, smss, 102200, t0 + 1ms, 100ms));
    una += smss;
    const double cwnd = k.cwnd();
    for (std::uint32_t n = 1; n <= 3; ++n) (void)k.on_duplicate_ack(dup(una, n, 102200));
    CHECK(cwnd < 146000);
    CHECK(k.w_max() == doctest::Approx(cwnd * (1 + rfc_beta) / 2));
    CHECK(k.cwnd_prior() == cwnd);
    CHECK(k.ssthresh() == 71540);  // FlightSize 102200 * 0.7
    // A loss above the last W_max: W_max = cwnd.
    cc::cubic g{cc::init{smss, 14600, iss}};
    for (std::uint32_t n = 1; n <= 3; ++n) (void)g.on_duplicate_ack(dup(una0, n, 14600));
    CHECK(g.w_max() == 14600);
}

TEST_CASE("cubic_k_and_w_cubic_follow_figures_1_and_2")
{
    // RFC 9438 §4.2: K = cubic_root((W_max - cwnd_epoch)/C), W_cubic(t) = C*(t - K)^3 + W_max.
    // W_max = 100 segments, cwnd_epoch = 70: K = cbrt(30 / 0.4) = cbrt(75) s.
    seq32 una;
    cc::cubic k = after_loss(146000, 100ms, una);
    (void)k.on_ack(ack(una, 1460, 146000, t0 + 1ms, 100ms));  // the epoch begins here
    REQUIRE(k.in_epoch());
    CHECK(k.epoch_start() == t0 + 1ms);
    CHECK(k.cwnd_epoch() == 102200);
    CHECK(k.k() == doctest::Approx(std::cbrt(75.0)).epsilon(1e-12));
    rfc9438 m{146000, 146000, 0.1};
    m.begin(102200);
    for (double t : {0.0, 0.5, 1.0, 2.0, m.k, 5.0, 6.0, 10.0}) {
        CAPTURE(t);
        CHECK(k.w_cubic(t) == doctest::Approx(m.w_cubic(t)).epsilon(1e-12));
    }
    CHECK(k.w_cubic(0) == doctest::Approx(102200).epsilon(1e-12));  // starts at cwnd_epoch
    CHECK(k.w_cubic(k.k()) == doctest::Approx(146000).epsilon(1e-12));  // reaches W_max at K
}

TEST_CASE("cubic_window_at_chosen_times_after_a_reduction_follows_the_cubic")
{
    // RFC 9438 §4.2, §4.4, §4.5: after a loss at W_max = 100 segments, an ACK of one segment
    // every millisecond (RTT 100 ms): each ACK moves cwnd (target - cwnd)/cwnd segments
    // toward target = W_cubic(t + RTT) bounded to [cwnd, 1.5 cwnd]. The model above does the
    // same in double; cwnd matches it ACK by ACK, is concave below W_max until K, convex
    // above it after, and at each chosen time sits within 1% of W_cubic(t). (Past about
    // 5.7 s W_est, growing with α_cubic = 1 from cwnd_prior on, overtakes the curve: the
    // Reno-friendly region, checked in the model only.)
    seq32 una;
    cc::cubic k = after_loss(146000, 100ms, una);
    rfc9438 m{146000, 146000, 0.1};
    m.begin(102200);
    const instant start = t0 + 1ms;
    int checked = 0;
    for (int i = 0; i <= 8000; ++i) {
        const instant now = start + std::chrono::milliseconds{i};
        const double t = 1e-3 * i;
        (void)k.on_ack(ack(una, smss, 150000, now, 100ms));
        una += smss;
        m.on_ack(t, s);
        REQUIRE(std::abs(static_cast<double>(k.cwnd()) - std::floor(m.w)) <= 1.0);
        if (i % 1000 == 0 && i > 0 && i <= 5000) {
            CAPTURE(t);
            CAPTURE(k.cwnd());
            CHECK(std::abs(k.cwnd() - m.w_cubic(t)) < 0.01 * m.w_cubic(t));
            CHECK(m.w_cubic(t) > m.w_est);  // not the Reno-friendly region
            if (t < m.k - 0.2) CHECK(k.cwnd() < 146000);
            if (t > m.k + 0.2) CHECK(k.cwnd() > 146000);
            ++checked;
        }
    }
    CHECK(checked == 5);
    CHECK(m.w_cubic(8.0) < m.w_est);  // by 8 s the Reno-friendly region governs
    CHECK(k.cwnd() == static_cast<std::uint32_t>(m.w));
    CHECK(k.ssthresh() == 102200);  // growth leaves ssthresh alone
}

TEST_CASE("cubic_reno_friendly_region_sets_cwnd_to_w_est")
{
    // RFC 9438 §4.3: W_est += α_cubic * segments_acked / cwnd; "If W_cubic(t) is less than
    // W_est, then the protocol is in the Reno-friendly region and cwnd SHOULD be set to
    // W_est". A small window (W_max 10 segments) with an ACK every millisecond: Reno's
    // estimate outgrows the cubic curve within a few ACKs.
    seq32 una;
    cc::cubic k = after_loss(14600, 10ms, una);
    rfc9438 m{14600, 14600, 0.01};
    m.begin(10220);
    const instant start = t0 + 1ms;
    bool friendly = false;
    for (int i = 0; i < 200; ++i) {
        const double t = 1e-3 * i;
        (void)k.on_ack(ack(una, smss, 20000, start + std::chrono::milliseconds{i}, 10ms));
        una += smss;
        m.on_ack(t, s);
        CAPTURE(i);
        CHECK(k.w_est() == doctest::Approx(m.w_est).epsilon(1e-9));
        REQUIRE(std::abs(static_cast<double>(k.cwnd()) - std::floor(m.w)) <= 1.0);
        if (m.w_cubic(t) < m.w_est) {
            friendly = true;
            CHECK(k.cwnd() == static_cast<std::uint32_t>(std::max(m.w, m.w_est)));
        }
    }
    CHECK(friendly);
    CHECK(k.cwnd() > k.w_cubic(0.199));
}

TEST_CASE("cubic_alpha_becomes_one_once_w_est_reaches_cwnd_prior")
{
    // RFC 9438 §4.3: "Once W_est has grown to reach the cwnd at the time of most recently
    // setting ssthresh — that is, W_est >= cwnd_prior — the sender SHOULD set α_cubic to 1".
    seq32 una;
    cc::cubic k = after_loss(14600, 10ms, una);
    const instant start = t0 + 1ms;
    int i = 0;
    for (; k.w_est() < k.cwnd_prior(); ++i) {
        REQUIRE(i < 10000);
        (void)k.on_ack(ack(una, smss, 20000, start + std::chrono::milliseconds{i}, 10ms));
        una += smss;
    }
    const double before = k.w_est();
    const double cwnd = static_cast<double>(k.cwnd());
    (void)k.on_ack(ack(una, smss, 20000, start + std::chrono::milliseconds{i}, 10ms));
    CHECK(k.w_est() - before == doctest::Approx(1.0 * s * s / cwnd).epsilon(1e-4));
}

TEST_CASE("cubic_target_is_at_most_one_and_a_half_cwnd")
{
    // RFC 9438 §4.2: target = 1.5 * cwnd when W_cubic(t + RTT) exceeds it, so that the
    // increase stays below slow start's: far beyond K each ACK of N bytes adds N/2.
    seq32 una;
    cc::cubic k = after_loss(146000, 100ms, una);
    (void)k.on_ack(ack(una, smss, 150000, t0 + 1ms, 100ms));  // epoch begins
    una += smss;
    const instant late = t0 + 1ms + std::chrono::seconds{30};
    REQUIRE(k.w_cubic(30.1) > 1.5 * k.cwnd());
    for (int i = 0; i < 5; ++i) {
        const std::uint32_t before = k.cwnd();
        (void)k.on_ack(ack(una, smss, 150000, late + std::chrono::milliseconds{i}, 100ms));
        una += smss;
        CHECK(k.cwnd() - before == doctest::Approx(smss / 2.0).epsilon(0.01));
    }
}

TEST_CASE("cubic_target_is_at_least_cwnd")
{
    // RFC 9438 §4.2: target = cwnd when W_cubic(t + RTT) < cwnd — no ACK shrinks the
    // window. With a 2 s RTT cwnd chases W_cubic(t + 2 s); when the RTT drops to 1 ms
    // the curve one RTT ahead is far below cwnd, and cwnd holds until it catches up.
    seq32 una;
    cc::cubic k = after_loss(146000, 2s, una);
    instant now = t0;
    for (int i = 0; i < 100; ++i, now += 1ms) {
        (void)k.on_ack(ack(una, smss, 150000, now, 2s));
        una += smss;
    }
    for (int i = 0; i < 60; ++i, now += 1ms) {
        (void)k.on_ack(ack(una, smss, 150000, now, 1ms));
        una += smss;
    }
    const double t = std::chrono::duration<double>(now - k.epoch_start()).count();
    REQUIRE(k.srtt() < 10ms);
    REQUIRE(k.w_cubic(t + 0.02) < k.cwnd());
    REQUIRE(k.w_cubic(t + 0.02) > k.w_est());
    const std::uint32_t w = k.cwnd();
    for (int i = 0; i < 20; ++i, now += 1ms) {
        (void)k.on_ack(ack(una, smss, 150000, now, 1ms));
        una += smss;
        CHECK(k.cwnd() == w);
    }
}

TEST_CASE("cubic_partial_ack_in_recovery_is_newreno")
{
    // RFC 9438 §4.6 keeps the sender's loss recovery: RFC 6582 §3.2 step 3, with
    // ssthresh = 0.7 * FlightSize. 14600 in flight: ssthresh 10220, cwnd 14600; a partial
    // ACK of 2920 retransmits and deflates to 14600 - 2920 + 1460.
    cc::cubic k{cc::init{smss, 14600, iss}};
    for (std::uint32_t n = 1; n <= 3; ++n) (void)k.on_duplicate_ack(dup(una0, n, 14600));
    REQUIRE(k.cwnd() == 14600);
    CHECK(k.on_duplicate_ack(dup(una0, 4, 14600)) == cc::action::none);
    CHECK(k.cwnd() == 16060);
    CHECK(k.on_ack(ack(una0, 2920, 14600, t0)) == cc::action::retransmit);
    CHECK(k.cwnd() == 16060 - 2920 + 1460);
    CHECK(k.in_recovery());
    CHECK_FALSE(k.in_epoch());
    // Full ACK, option (1): min(10220, max(FlightSize, SMSS) + SMSS) with 2920 outstanding.
    CHECK(k.on_ack(ack(una0 + 2920, 11680, 14600, t0)) == cc::action::none);
    CHECK(k.cwnd() == 4380);
    CHECK_FALSE(k.in_recovery());
    // No second fast retransmit for duplicates at recover + 1 (RFC 6582 §3.2 step 2).
    for (std::uint32_t n = 1; n <= 3; ++n)
        CHECK(k.on_duplicate_ack(dup(una0 + 14600, n, 2920)) == cc::action::none);
}

TEST_CASE("cubic_timeout_sets_loss_window_and_beta_ssthresh_then_k_zero")
{
    // RFC 9438 §4.8: "CUBIC follows Reno to reduce cwnd [RFC5681], but sets ssthresh using
    // β_cubic"; the first congestion avoidance stage after it has K = 0 and W_max = W_est =
    // the cwnd it starts with. Slow start after the timeout counts L = 1*SMSS (RFC 3465 §2.3).
    cc::cubic k{cc::init{smss, 14600, iss}};
    k.on_timeout(14600, t0);
    CHECK(k.cwnd() == 1460);
    CHECK(k.ssthresh() == 10220);
    CHECK(k.cwnd_prior() == 14600);
    k.on_timeout(1460, t0 + 1s);  // RFC 5681 §3.1: held on the repeated timeout
    CHECK(k.ssthresh() == 10220);
    seq32 una = una0;
    instant now = t0 + 2s;
    while (k.cwnd() < k.ssthresh()) {
        (void)k.on_ack(ack(una, 2920, 14600, now, 100ms));
        una += 2920;
        now += 10ms;
    }
    CHECK(k.cwnd() == 10220);  // 1460 + 6 * 1460: one SMSS per ACK
    CHECK_FALSE(k.in_epoch());
    (void)k.on_ack(ack(una, 1460, 14600, now, 100ms));
    CHECK(k.in_epoch());
    CHECK(k.k() == 0);
    CHECK(k.w_max() == 10220);
    CHECK(k.cwnd_epoch() == 10220);
}

TEST_CASE("cubic_restart_after_idle_ends_the_epoch")
{
    // RFC 5681 §4.1 (RW = min(IW, cwnd)) and RFC 9438 §5.8: idle time is not counted in t.
    seq32 una;
    cc::cubic k = after_loss(146000, 100ms, una);
    (void)k.on_ack(ack(una, smss, 150000, t0 + 1ms, 100ms));
    una += smss;
    REQUIRE(k.in_epoch());
    const std::uint32_t w = k.cwnd();
    REQUIRE(w < 146000);
    k.on_idle(t0 + 10s);
    CHECK_FALSE(k.in_epoch());
    CHECK(k.cwnd() == w);  // below IW (146000 in this test) already
    (void)k.on_ack(ack(una, smss, 150000, t0 + 11s, 100ms));
    CHECK(k.epoch_start() == t0 + 11s);
}

TEST_CASE("cubic_slow_start_after_idle_following_a_timeout_counts_two_smss_per_ack")
{
    // RFC 3465 §2.3's L = 1*SMSS holds only "during the slow start phase following a
    // retransmission timeout": once congestion avoidance has run, a later slow start (a
    // restart after idle, RFC 5681 §4.1) grows by up to 2*SMSS per ACK again.
    cc::cubic k{cc::init{smss, 0, iss}};  // IW = 3 * SMSS (RFC 5681 §3.1)
    k.on_timeout(14600, t0);
    seq32 una = una0;
    instant now = t0 + 2s;
    while (k.cwnd() <= k.ssthresh()) {
        (void)k.on_ack(ack(una, 2920, 14600, now, 100ms));
        una += 2920;
        now += 10ms;
    }
    REQUIRE(k.in_epoch());
    k.on_idle(now + 10s);
    const std::uint32_t w = k.cwnd();
    REQUIRE(w < k.ssthresh());  // slow start again: min(IW, cwnd) below ssthresh
    (void)k.on_ack(ack(una, 2920, 14600, now + 10s, 100ms));
    CHECK(k.cwnd() == w + 2920);
}

TEST_CASE("cubic_keeps_a_smoothed_rtt_from_the_samples")
{
    // RFC 9438 §4.2 uses "the smoothed round-trip time": RFC 6298 §2.3's SRTT gain of 1/8.
    cc::cubic k{cc::init{smss, 0, iss}};
    (void)k.on_ack(ack(una0, 1460, 4380, t0, 100ms));
    CHECK(k.srtt() == 100ms);
    (void)k.on_ack(ack(una0 + 1460, 1460, 4380, t0, 180ms));
    CHECK(k.srtt() == 110ms);
    (void)k.on_ack(ack(una0 + 2920, 1460, 4380, t0, duration{0}));  // no sample
    CHECK(k.srtt() == 110ms);
}

TEST_CASE("cubic_paced_recovery_ends_with_cwnd_at_ssthresh")
{
    // As newreno's: after a cc::loss_event recovery (PRR-paced, RFC 6937), cwnd = ssthresh
    // at the full ACK, not min(ssthresh, FlightSize + SMSS).
    cc::cubic k{cc::init{smss, 0, iss}};
    k.on_loss(cc::loss_event{una0, 100 * smss, una0 + 100 * smss, t0});
    REQUIRE(k.ssthresh() == 70 * smss);
    (void)k.on_ack(ack(una0, 100 * smss, 100 * smss, t0 + 100ms, 100ms));
    CHECK_FALSE(k.in_recovery());
    CHECK(k.cwnd() == 70 * smss);
}
