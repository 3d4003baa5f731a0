// HyStart++ (RFC 9406 §4.2) round by round: rounds told from the ACKs (windowEnd),
// the RTT threshold, Conservative Slow Start at a quarter of the growth, the return
// to slow start when the RTT falls back, and ssthresh = cwnd after CSS_ROUNDS rounds.
// Then through cc::reno and cc::cubic, which share it, and with config::hystart off.
#include <tcpx/cc/cubic.hpp>
#include <tcpx/cc/detail/hystart.hpp>
#include <tcpx/cc/reno.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>

using namespace tcpx;
using std::chrono::milliseconds;
using phase = cc::detail::hystart_pp::phase;

namespace {
constexpr std::uint32_t smss = 1000;
const seq32 iss{5000};

/// Feeds one round of `acks` ACKs of one segment each, every one with RTT `rtt`. The
/// round begins at `una` with all its `acks` segments sent, and each ACK sends two of
/// the next round's (slow start), as FlightSize tells. Returns the sequence after it.
template <class Fn>
seq32 round_of(Fn&& on_ack, seq32 una, unsigned acks, duration rtt)
{
    for (unsigned i = 0; i < acks; ++i) {
        const seq32 before = una + i * smss;
        on_ack(cc::ack_event{before + smss, smss, (acks - i) * smss + 2 * i * smss, rtt, instant{}});
    }
    return una + acks * smss;
}
}  // namespace

TEST_CASE("slow_start_rtt_rise_below_threshold_stays_in_slow_start")
{
    cc::detail::hystart_pp h;
    auto feed = [&](const cc::ack_event& e) { CHECK(h.on_ack(e) == 1); };
    seq32 s = round_of(feed, iss, 10, milliseconds{40});
    // RFC 9406 §4.2: RttThresh = clamp(40 ms / 8, 4 ms, 16 ms) = 5 ms; 4 ms more is not enough.
    s = round_of(feed, s, 10, milliseconds{44});
    CHECK(h.current() == phase::slow_start);
}

TEST_CASE("slow_start_rtt_rise_past_threshold_after_eight_samples_enters_css")
{
    cc::detail::hystart_pp h;
    seq32 s = round_of([&](const cc::ack_event& e) { h.on_ack(e); }, iss, 10, milliseconds{40});
    // The next round's RTT is 6 ms higher: CSS, but only once N_RTT_SAMPLE samples are in.
    unsigned i = 0;
    round_of(
        [&](const cc::ack_event& e) {
            const unsigned divisor = h.on_ack(e);
            ++i;
            if (i < cc::detail::hystart_pp::n_rtt_sample) CHECK(divisor == 1);
            else CHECK(divisor == cc::detail::hystart_pp::css_growth_divisor);
        },
        s, 10, milliseconds{46});
    CHECK(h.current() == phase::css);
    CHECK(h.css_entries() == 1);
}

TEST_CASE("css_rtt_back_below_baseline_returns_to_slow_start")
{
    cc::detail::hystart_pp h;
    auto feed = [&](const cc::ack_event& e) { h.on_ack(e); };
    seq32 s = round_of(feed, iss, 10, milliseconds{40});
    s = round_of(feed, s, 10, milliseconds{50});
    REQUIRE(h.current() == phase::css);
    // RFC 9406 §4.2: "if currentRoundMinRTT < cssBaselineMinRtt ... the previous slow
    // start exit was spurious": resume slow start.
    round_of(feed, s, 10, milliseconds{41});
    CHECK(h.current() == phase::slow_start);
}

TEST_CASE("css_lasting_css_rounds_ends_slow_start")
{
    cc::detail::hystart_pp h;
    auto feed = [&](const cc::ack_event& e) { h.on_ack(e); };
    seq32 s = round_of(feed, iss, 10, milliseconds{40});
    s = round_of(feed, s, 10, milliseconds{50});
    REQUIRE(h.current() == phase::css);
    unsigned zero_at = 0;
    for (unsigned round = 1; round <= cc::detail::hystart_pp::css_rounds && zero_at == 0; ++round) {
        s = round_of(
            [&](const cc::ack_event& e) {
                if (h.on_ack(e) == 0 && zero_at == 0) zero_at = round;
            },
            s, 10, milliseconds{50});
    }
    // The fifth CSS round's end: "enter congestion avoidance by setting the ssthresh to
    // the current cwnd" (the 0 the caller turns into ssthresh = cwnd).
    CHECK(zero_at == cc::detail::hystart_pp::css_rounds);
    CHECK(h.current() == phase::off);
}

TEST_CASE("slow_start_loss_ends_hystart_and_timeout_restarts_it")
{
    cc::detail::hystart_pp h;
    h.on_loss();
    CHECK(h.current() == phase::off);
    CHECK(h.on_ack(cc::ack_event{iss + smss, smss, smss, milliseconds{40}, instant{}}) == 1);
    h.restart();  // RFC 9406 §4.3: HyStart++ may run in the slow start after a timeout
    CHECK(h.current() == phase::slow_start);
}

TEST_CASE("reno_css_grows_a_quarter_then_sets_ssthresh_to_cwnd")
{
    cc::reno r{cc::init{smss, 10 * smss, iss}};
    auto feed = [&](const cc::ack_event& e) { r.on_ack(e); };
    seq32 s = round_of(feed, iss + 1, 10, milliseconds{40});
    const std::uint32_t after_ss_round = r.cwnd();
    CHECK(after_ss_round == 20 * smss);  // RFC 5681 §3.1: one SMSS per ACK
    s = round_of(feed, s, 20, milliseconds{50});
    REQUIRE(r.hystart_phase() == phase::css);
    // Seven slow-start ACKs, then thirteen in CSS at a quarter: 7 + 13/4 SMSS.
    CHECK(r.cwnd() == after_ss_round + 7 * smss + 13 * (smss / 4));
    for (unsigned round = 0; round < cc::detail::hystart_pp::css_rounds; ++round)
        s = round_of(feed, s, 20, milliseconds{50});
    CHECK(r.hystart_phase() == phase::off);
    // ssthresh = cwnd when CSS ended; the round's last ACKs then grew cwnd by RFC 5681 §3.1 eq. 3.
    CHECK(r.ssthresh() <= r.cwnd());
    CHECK(r.cwnd() - r.ssthresh() < smss);
}

TEST_CASE("reno_hystart_off_grows_a_full_smss_per_ack")
{
    cc::reno r{cc::init{smss, 10 * smss, iss, false}};
    auto feed = [&](const cc::ack_event& e) { r.on_ack(e); };
    seq32 s = round_of(feed, iss + 1, 10, milliseconds{40});
    round_of(feed, s, 20, milliseconds{50});
    CHECK(r.hystart_phase() == phase::off);
    CHECK(r.cwnd() == 40 * smss);
}

TEST_CASE("cubic_css_slows_slow_start_like_reno")
{
    cc::cubic c{cc::init{smss, 10 * smss, iss}};
    auto feed = [&](const cc::ack_event& e) { c.on_ack(e); };
    seq32 s = round_of(feed, iss + 1, 10, milliseconds{40});
    s = round_of(feed, s, 20, milliseconds{50});
    CHECK(c.hystart_phase() == phase::css);
    CHECK(c.cwnd() < 40 * smss);
}
