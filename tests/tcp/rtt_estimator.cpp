// RFC 6298 retransmission timer arithmetic (tcpx/tcp/rtt_estimator.hpp).
#include <tcpx/tcp/rtt_estimator.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

namespace {

using namespace std::chrono_literals;
using tcpx::duration;
using tcpx::tcp::rto_bounds;
using tcpx::tcp::rtt_estimator;

// Bounds that let the formulas show through the clamps.
constexpr rto_bounds unclamped{.initial = 1s, .min = 1us, .max = 3600s, .granularity = 1us};

}  // namespace

// RFC 6298 §2.1: until a sample is taken, RTO is 1 second.
TEST_CASE("rto_before_any_sample_is_one_second")
{
    const rtt_estimator est;
    CHECK_FALSE(est.has_sample());
    CHECK(est.rto() == 1s);
    CHECK(est.srtt() == 0us);
    CHECK(est.rttvar() == 0us);
    CHECK(est.backoff_count() == 0);
}

// RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max(G, 4·RTTVAR).
TEST_CASE("rto_after_first_sample_is_srtt_plus_4_rttvar")
{
    rtt_estimator est;
    est.on_sample(100ms);
    CHECK(est.has_sample());
    CHECK(est.srtt() == 100ms);
    CHECK(est.rttvar() == 50ms);
    CHECK(est.rto() == 300ms);
}

// RFC 6298 §2.3: RTTVAR <- 3/4·RTTVAR + 1/4·|SRTT - R'| (with the old SRTT),
// then SRTT <- 7/8·SRTT + 1/8·R'.
TEST_CASE("rto_after_second_sample_follows_rfc_6298_2_3_exactly")
{
    rtt_estimator est;
    est.on_sample(100ms);
    est.on_sample(200ms);
    // RTTVAR = 3/4·50 + 1/4·|100 - 200| = 62.5 ms; SRTT = 7/8·100 + 1/8·200 = 112.5 ms.
    CHECK(est.rttvar() == 62500us);
    CHECK(est.srtt() == 112500us);
    CHECK(est.rto() == 362500us);  // 112.5 + 4·62.5

    est.on_sample(100ms);
    // RTTVAR = 3/4·62.5 + 1/4·|112.5 - 100| = 50 ms (so RTTVAR used the old SRTT);
    // SRTT = 7/8·112.5 + 1/8·100 = 110.9375 ms, kept to the sub-microsecond.
    CHECK(est.rttvar() == 50ms);
    CHECK(est.srtt() == 110938us);          // 110937.5 rounded to nearest
    CHECK(est.rto() == 310938us);           // 310937.5 rounded to nearest
}

// RFC 6298 §2.4: RTO below the minimum is rounded up to it (200 ms by default,
// Linux's TCP_RTO_MIN; the RFC's 1 s when configured so).
TEST_CASE("rto_below_minimum_is_raised_to_minimum")
{
    rtt_estimator est;
    est.on_sample(10ms);  // 10 + 4·5 = 30 ms
    CHECK(est.rto() == 200ms);

    rtt_estimator rfc{{.min = 1s}};
    rfc.on_sample(10ms);
    CHECK(rfc.rto() == 1s);
}

// RFC 6298 §2.5: a maximum may be placed on RTO (at least 60 s; 120 s by default).
TEST_CASE("rto_above_maximum_is_lowered_to_maximum")
{
    rtt_estimator est;
    est.on_sample(50s);  // 50 + 4·25 = 150 s
    CHECK(est.srtt() == 50s);
    CHECK(est.rto() == 120s);

    rtt_estimator sixty{{.max = 60s}};
    sixty.on_sample(50s);
    CHECK(sixty.rto() == 60s);
}

// RFC 6298 §2.3 and §4: when 4·RTTVAR falls below the clock granularity G, G is
// the variance term.
TEST_CASE("rto_with_tiny_variance_uses_granularity")
{
    rtt_estimator est{{.min = 1us, .granularity = 1ms}};
    for (int i = 0; i < 200; ++i) {
        est.on_sample(300ms);  // a constant RTT drives RTTVAR to 0
    }
    CHECK(est.srtt() == 300ms);
    CHECK(est.rttvar() == 0us);
    CHECK(est.rto() == 301ms);  // SRTT + G

    rtt_estimator coarse{{.min = 1us, .granularity = 100ms}};
    coarse.on_sample(40ms);  // 4·RTTVAR = 80 ms < G
    CHECK(coarse.rto() == 140ms);
}

// RFC 6298 §5.5: each expiry doubles RTO; §2.5's maximum caps the doubling.
TEST_CASE("rto_backoff_doubles_and_caps_at_maximum")
{
    rtt_estimator est;
    est.on_sample(100ms);  // RTO 300 ms
    est.backoff();
    CHECK(est.backoff_count() == 1);
    CHECK(est.rto() == 600ms);
    est.backoff();
    CHECK(est.rto() == 1200ms);
    for (int i = 0; i < 7; ++i) {
        est.backoff();  // 300 ms · 2^9 = 153.6 s > 120 s
    }
    CHECK(est.backoff_count() == 9);
    CHECK(est.rto() == 120s);
    for (int i = 0; i < 100; ++i) {
        est.backoff();  // shifts past 63 bits must not overflow
    }
    CHECK(est.rto() == 120s);

    rtt_estimator fresh;  // backoff applies to the initial 1 s as well
    fresh.backoff();
    CHECK(fresh.rto() == 2s);
}

// RFC 6298 §5, note after rule 5.7: a new measurement recomputes RTO from §2,
// "collapsing" the backed-off value.
TEST_CASE("rto_sample_after_backoff_clears_backoff")
{
    rtt_estimator est;
    est.on_sample(100ms);
    est.backoff();
    est.backoff();
    CHECK(est.rto() == 1200ms);
    est.on_sample(100ms);  // RTTVAR = 3/4·50 + 0 = 37.5 ms; SRTT stays 100 ms
    CHECK(est.backoff_count() == 0);
    CHECK(est.rto() == 250ms);

    est.backoff();
    est.reset_backoff();
    CHECK(est.backoff_count() == 0);
    CHECK(est.rto() == 250ms);
}

// RFC 6298 §2.2-2.3 at microsecond scale (a loopback or LAN RTT): no precision is
// lost to whole-microsecond rounding between samples.
TEST_CASE("rto_microsecond_samples_keep_precision")
{
    rtt_estimator est{unclamped};
    est.on_sample(37us);
    CHECK(est.srtt() == 37us);
    CHECK(est.rto() == 111us);  // 37 + 4·18.5: the half microsecond is kept
    est.on_sample(45us);
    // RTTVAR = 3/4·18.5 + 1/4·|37 - 45| = 15.875 µs; SRTT = 7/8·37 + 1/8·45 = 38 µs;
    // RTO = 38 + 63.5 = 101.5 µs, rounded to 102. Rounding RTTVAR to 18 µs after the
    // first sample would have given 98 µs.
    CHECK(est.srtt() == 38us);
    CHECK(est.rttvar() == 16us);
    CHECK(est.rto() == 102us);
}

// A constant RTT converges to itself, to the microsecond: no drift from rounding.
TEST_CASE("rto_constant_samples_converge_without_drift")
{
    rtt_estimator est{unclamped};
    est.on_sample(1ms);
    for (int i = 0; i < 1000; ++i) {
        est.on_sample(12345us);
    }
    CHECK(est.srtt() == 12345us);
    CHECK(est.rttvar() == 0us);
    CHECK(est.rto() == 12346us);  // SRTT + G (1 µs)

    rtt_estimator from_above{unclamped};  // and approached from above
    from_above.on_sample(900ms);
    for (int i = 0; i < 1000; ++i) {
        from_above.on_sample(12345us);
    }
    CHECK(from_above.srtt() == 12345us);
    CHECK(from_above.rttvar() == 0us);
    CHECK(from_above.rto() == 12346us);
}

// RFC 6298 §2.2-2.3 against the same formulas in exact-enough floating point,
// over many random samples: SRTT, RTTVAR and RTO never stray by a microsecond.
TEST_CASE("rto_random_samples_track_exact_rfc_arithmetic")
{
    rtt_estimator est{unclamped};
    std::mt19937_64 rng{6298};
    std::uniform_int_distribution<std::int64_t> pick{0, 2'000'000};  // up to 2 s
    double srtt = 0;
    double rttvar = 0;
    for (int i = 0; i < 20'000; ++i) {
        const std::int64_t r = i % 100 < 90 ? pick(rng) % 5000 : pick(rng);  // mostly µs-scale
        est.on_sample(duration{r});
        if (i == 0) {
            srtt = static_cast<double>(r);
            rttvar = srtt / 2;
        } else {
            rttvar = 0.75 * rttvar + 0.25 * std::abs(srtt - static_cast<double>(r));
            srtt = 0.875 * srtt + 0.125 * static_cast<double>(r);
        }
        const double rto = srtt + std::max(1.0, 4 * rttvar);
        REQUIRE(std::abs(static_cast<double>(est.srtt().count()) - srtt) < 1.0);
        REQUIRE(std::abs(static_cast<double>(est.rttvar().count()) - rttvar) < 1.0);
        REQUIRE(std::abs(static_cast<double>(est.rto().count()) - rto) < 1.0);
    }
}

// Out-of-range input stays in range: a negative sample counts as 0, a huge one is
// limited, and nothing overflows.
TEST_CASE("rto_out_of_range_samples_are_clamped")
{
    rtt_estimator est;
    est.on_sample(-5ms);
    CHECK(est.srtt() == 0us);
    CHECK(est.rto() == 200ms);  // 0 + max(1 ms, 0), raised to the minimum

    rtt_estimator huge;
    huge.on_sample(duration::max());
    CHECK(huge.srtt() == rtt_estimator::sample_limit);
    CHECK(huge.rto() == 120s);
    huge.on_sample(duration::max());
    CHECK(huge.rto() == 120s);
}

// RFC 6298 §5.7: the timer expired awaiting the ACK of a SYN, so RTO is
// re-initialised to 3 s when data transmission begins (no sample taken).
TEST_CASE("rto_after_retransmitted_syn_restarts_at_three_seconds")
{
    rtt_estimator est;
    est.backoff();  // SYN timed out: 1 s -> 2 s
    est.backoff();
    CHECK(est.rto() == 4s);
    est.restart_after_syn_timeout();  // handshake completes
    CHECK(est.backoff_count() == 0);
    CHECK(est.rto() == 3s);
    est.backoff();  // the 3 s value then backs off like any other
    CHECK(est.rto() == 6s);
    est.on_sample(100ms);  // and a sample replaces it
    CHECK(est.rto() == 300ms);
}

// RFC 6298 §5.7 applies only "if ... using an RTO less than 3 seconds": a larger
// initial RTO is kept, and an RTO already measured (e.g. by timestamps) wins.
TEST_CASE("rto_after_retransmitted_syn_keeps_larger_or_measured_rto")
{
    rtt_estimator slow{{.initial = 5s}};
    slow.backoff();
    slow.restart_after_syn_timeout();
    CHECK(slow.rto() == 5s);

    rtt_estimator measured;
    measured.backoff();
    measured.on_sample(100ms);
    measured.restart_after_syn_timeout();
    CHECK(measured.rto() == 300ms);
}
