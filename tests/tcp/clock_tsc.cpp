// clocks::basic_tsc (clock/tsc.hpp): steady_clock's time carried forward by a counter.
// A hand-driven counter and reference make every case exact: calibration reads only
// the reference, then the counter carries the time between reference readings at most
// resync_ns apart, and a counter that goes backwards or disagrees sends the clock back
// to the reference, which it follows without ever going backwards itself.
#include <tcpx/clock/tsc.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>

namespace {

using tcpx::instant;
using namespace std::chrono_literals;

struct world {
    std::uint64_t ticks = 1'000'000;   // the counter
    std::int64_t ns = 5'000'000'000;   // the reference, in ns
    int reference_reads = 0;
    bool usable = true;
    std::int64_t preempt = 0;  // the next reference reading happens this much later
    // Both move: the counter at ticks_per_ns.
    void advance(std::int64_t d_ns, double ticks_per_ns = 2.5)
    {
        ns += d_ns;
        ticks += static_cast<std::uint64_t>(static_cast<double>(d_ns) * ticks_per_ns);
    }
};

struct fake_counter {
    world* w = nullptr;
    bool usable() const noexcept { return w->usable; }
    std::uint64_t operator()() const noexcept { return w->ticks; }
};

struct fake_reference {
    world* w = nullptr;
    std::int64_t operator()() const noexcept
    {
        ++w->reference_reads;
        if (w->preempt != 0) {  // the thread lost the CPU between the counter and this read
            w->advance(w->preempt);
            w->preempt = 0;
        }
        return w->ns;
    }
};

using fake_tsc = tcpx::clocks::basic_tsc<fake_counter, fake_reference>;

instant at_ns(std::int64_t ns)
{
    return instant{std::chrono::duration_cast<tcpx::duration>(std::chrono::nanoseconds{ns})};
}

// Microseconds from the reference to a reading: the counter's rate is 32.32 fixed
// point, so an extrapolated reading may fall one microsecond short of the reference.
long long off_us(instant t, std::int64_t ns)
{
    return static_cast<long long>((t - at_ns(ns)).count());
}

// An extrapolated reading: at most one microsecond short of the reference, never ahead.
void check_carried(instant t, std::int64_t ns)
{
    const long long off = off_us(t, ns);
    CHECK(off >= -1);
    CHECK(off <= 0);
}

// Runs the clock through calibration: now() every 100 us for calibration_ns.
void calibrate(fake_tsc& c, world& w)
{
    for (std::int64_t t = 0; t <= fake_tsc::calibration_ns; t += 100'000) {
        CHECK(c.now() == at_ns(w.ns));
        w.advance(100'000);
    }
    (void)c.now();
}

static_assert(tcpx::clock<fake_tsc>);
static_assert(tcpx::clock<tcpx::clocks::tsc>);

}  // namespace

TEST_CASE("tsc_calibrating_reads_the_reference_every_time")
{
    world w;
    fake_tsc c{fake_counter{&w}, fake_reference{&w}};
    for (int i = 0; i < 50; ++i) {
        CHECK(c.now() == at_ns(w.ns));
        w.advance(100'000);
    }
    CHECK(w.reference_reads == 50);
    CHECK_FALSE(c.extrapolating());
}

TEST_CASE("tsc_calibrated_carries_the_time_and_reads_the_reference_once_per_resync")
{
    world w;
    fake_tsc c{fake_counter{&w}, fake_reference{&w}};
    calibrate(c, w);
    REQUIRE(c.extrapolating());
    const int reads_before = w.reference_reads;
    // 10 ms in 1 us steps: the counter alone answers between reference
    // reads, within the microsecond the fixed-point rate may lose.
    int far = 0;
    for (int i = 0; i < 10'000; ++i) {
        w.advance(1'000);
        const long long off = off_us(c.now(), w.ns);
        if (off < -1 || off > 0) ++far;
    }
    CHECK(far == 0);
    const int reads = w.reference_reads - reads_before;
    CHECK(reads >= 10 - 1);  // at least once per resync_ns (1 ms)
    CHECK(reads <= 11);
}

TEST_CASE("tsc_counter_going_backwards_falls_back_to_the_reference_and_never_decreases")
{
    world w;
    fake_tsc c{fake_counter{&w}, fake_reference{&w}};
    calibrate(c, w);
    REQUIRE(c.extrapolating());
    w.advance(200'000);
    const instant before = c.now();
    // Another core's counter, behind this one: the reference answers.
    w.ticks -= 1'000'000;
    w.ns += 1'000;
    const int reads = w.reference_reads;
    const instant after = c.now();
    CHECK(w.reference_reads == reads + 1);
    CHECK(after >= before);
    CHECK(after == at_ns(w.ns));
    CHECK_FALSE(c.extrapolating());  // calibrating again
}

TEST_CASE("tsc_counter_that_disagrees_with_the_reference_restarts_calibration")
{
    world w;
    fake_tsc c{fake_counter{&w}, fake_reference{&w}};
    calibrate(c, w);
    REQUIRE(c.extrapolating());
    // The counter suddenly runs at twice the rate (a migrated virtual machine): at the
    // next reference reading the extrapolation is 1 ms ahead and calibration restarts.
    instant last = c.now();
    for (int i = 0; i < 20; ++i) {
        w.advance(100'000, 5.0);
        const instant t = c.now();
        CHECK(t >= last);  // clamped while the reference catches up
        last = t;
    }
    CHECK_FALSE(c.extrapolating());
    // Never ahead of the reference by more than what the counter ran ahead before the
    // check: at most resync_ns.
    CHECK(c.now() - at_ns(w.ns) <= std::chrono::microseconds{fake_tsc::resync_ns / 1000});
    // After another calibration at the new rate it carries the time exactly again.
    for (std::int64_t t = 0; t <= fake_tsc::calibration_ns + fake_tsc::resync_ns; t += 100'000) {
        w.advance(100'000, 5.0);
        (void)c.now();
    }
    CHECK(c.extrapolating());
    w.advance(300'000, 5.0);
    const instant t = c.now();  // before reading w.ns
    check_carried(t, w.ns);
}

// A reference reading taken across a preemption (the counter moved far while it was
// taken) answers that call but anchors nothing: the readings after it stay as close as
// ever — at an ordinary resync, at the reading that ends calibration, and at the first
// reading of a restarted calibration.
TEST_CASE("tsc_preempted_between_counter_and_reference_stays_close")
{
    world w;
    fake_tsc c{fake_counter{&w}, fake_reference{&w}};
    // At the end of calibration.
    for (std::int64_t t = 0; t < fake_tsc::calibration_ns; t += 100'000) {
        (void)c.now();
        w.advance(100'000);
    }
    w.preempt = 500'000;
    (void)c.now();
    int far = 0;
    for (int i = 0; i < 3000; ++i) {
        w.advance(10'000);
        if (i % 100 == 0) w.preempt = 90'000;  // at resyncs and between them
        const instant t = c.now();  // before reading w.ns: a preemption moves it
        const long long off = off_us(t, w.ns);
        if (off < -2 || off > 2) ++far;
    }
    CHECK(c.extrapolating());
    CHECK(far == 0);
}

TEST_CASE("tsc_after_a_long_sleep_reads_the_reference_and_keeps_its_rate")
{
    world w;
    fake_tsc c{fake_counter{&w}, fake_reference{&w}};
    calibrate(c, w);
    w.advance(std::int64_t{3600} * 1'000'000'000);  // an hour in ppoll
    CHECK(c.now() == at_ns(w.ns));
    CHECK(c.extrapolating());
    w.advance(123'000);
    const instant t = c.now();  // before reading w.ns
    check_carried(t, w.ns);
}

// A counter that stops (it should not, being invariant) cannot stop the clock: after
// max_extrapolated readings in a row the reference is read regardless.
TEST_CASE("tsc_stopped_counter_still_reads_the_reference_now_and_then")
{
    world w;
    fake_tsc c{fake_counter{&w}, fake_reference{&w}};
    calibrate(c, w);
    REQUIRE(c.extrapolating());
    const instant stopped_at = c.now();
    for (std::uint32_t i = 0; i <= fake_tsc::max_extrapolated; ++i) {
        w.ns += 100;  // the reference moves, the counter does not
        (void)c.now();
    }
    CHECK(c.now() > stopped_at);
}

TEST_CASE("tsc_without_a_usable_counter_is_the_reference")
{
    world w;
    w.usable = false;
    fake_tsc c{fake_counter{&w}, fake_reference{&w}};
    for (int i = 0; i < 200; ++i) {
        w.advance(100'000);
        CHECK(c.now() == at_ns(w.ns));
    }
    CHECK(w.reference_reads == 200);
    CHECK_FALSE(c.extrapolating());
}

// The real thing against steady_clock: every reading lies between steady_clock read
// just before and just after it, give or take 20 us (the rate's error over one resync
// interval is far below that; preemption between the reads only widens the bracket).
TEST_CASE("tsc_real_clock_stays_within_steady_clock_readings")
{
    tcpx::clocks::tsc c;
    const auto steady_us = [] {
        return instant{std::chrono::duration_cast<tcpx::duration>(std::chrono::steady_clock::now().time_since_epoch())};
    };
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds{40};
    int bad = 0;
    long reads = 0;
    instant last{};
    while (std::chrono::steady_clock::now() < end) {
        const instant before = steady_us();
        const instant t = c.now();
        const instant after = steady_us();
        ++reads;
        if (t < last || t + 20us < before || t > after + 20us) ++bad;
        last = t;
    }
    CAPTURE(reads);
    CHECK(bad == 0);
    if (tcpx::clocks::detail::tsc_counter{}.usable())
        CHECK(c.extrapolating());
    else
        MESSAGE("no invariant TSC here: clocks::tsc reads steady_clock every time");
}
