// Clock policies: both models satisfy tcpx::clock (concepts.hpp), the manual clock
// moves exactly as told and only forward, and steady never runs backwards.
#include <tcpx/clock/manual.hpp>
#include <tcpx/clock/steady.hpp>

#include <doctest/doctest.h>

#include <type_traits>

namespace {

using namespace std::chrono_literals;
using tcpx::clocks::manual;
using tcpx::clocks::manual_timeline;
using tcpx::clocks::steady;

// Negative models of the clock concept (concepts.hpp table: c.now() -> tcpx::instant).
struct no_now {};
struct wrong_type_now {
    std::chrono::steady_clock::time_point now() const { return {}; }
};

static_assert(tcpx::clock<steady>);
static_assert(tcpx::clock<manual>);
static_assert(tcpx::clock<manual_timeline>);
static_assert(!tcpx::clock<no_now>);
static_assert(!tcpx::clock<wrong_type_now>);
// An empty policy costs nothing when stored with [[no_unique_address]] (DESIGN.md).
static_assert(std::is_empty_v<steady>);
// A manual clock is a handle: copied into each stack, one pointer wide.
static_assert(std::is_trivially_copyable_v<manual>);
static_assert(!std::is_copy_constructible_v<manual_timeline>);

}  // namespace

// concepts.hpp: now() "never decreases"; a fresh timeline starts past the epoch so
// that a default-constructed instant (0) is never a valid "now".
TEST_CASE("manual_timeline_start_is_one_second_past_the_epoch")
{
    manual_timeline world;
    CHECK(world.now() == tcpx::instant{} + 1s);
    CHECK(manual{world}.now() == tcpx::instant{} + 1s);
}

// The simulation advances exactly what it is told, to the microsecond.
TEST_CASE("manual_advance_moves_now_by_exactly_the_duration")
{
    manual_timeline world;
    const manual clock{world};
    const tcpx::instant t0 = clock.now();
    world.advance(1us);
    CHECK(clock.now() == t0 + 1us);
    world.advance(200ms);
    CHECK(clock.now() == t0 + 200ms + 1us);
    world.advance(0us);
    CHECK(clock.now() == t0 + 200ms + 1us);
    world.advance_to(t0 + 5s);
    CHECK(clock.now() == t0 + 5s);
}

// concepts.hpp clock table: now() never decreases between calls.
TEST_CASE("manual_advance_backwards_is_ignored")
{
    manual_timeline world;
    const manual clock{world};
    world.advance(10s);
    const tcpx::instant t = clock.now();
    world.advance(-1s);
    CHECK(clock.now() == t);
    world.advance_to(t - 1us);
    CHECK(clock.now() == t);
    world.advance_to(tcpx::instant{});
    CHECK(clock.now() == t);
    world.advance_to(t);
    CHECK(clock.now() == t);
}

// Advancing by an absurd amount saturates at tcpx::never instead of wrapping.
TEST_CASE("manual_advance_past_the_end_saturates_at_never")
{
    manual_timeline world;
    world.advance(tcpx::duration::max());
    CHECK(world.now() == tcpx::never);
    world.advance(1s);
    CHECK(world.now() == tcpx::never);
}

// Several stacks in one simulation share one "now" (DESIGN.md, simulation layer).
TEST_CASE("manual_handles_on_one_timeline_see_the_same_time")
{
    manual_timeline world;
    const manual a{world};
    const manual b{world};
    const manual c = a;  // copies point at the same timeline too
    world.advance(1234us);
    CHECK(a.now() == b.now());
    CHECK(c.now() == b.now());
    CHECK(a.now() == tcpx::instant{} + 1s + 1234us);

    manual_timeline other;
    const manual d{other};
    CHECK(d.now() == tcpx::instant{} + 1s);  // a second timeline is independent
}

// concepts.hpp clock table: now() never decreases. Reads only, no sleep.
TEST_CASE("steady_two_reads_never_go_backwards")
{
    const steady clock;
    const tcpx::instant first = clock.now();
    const tcpx::instant second = clock.now();
    CHECK(second >= first);
    CHECK(first > tcpx::instant{});
    CHECK(first < tcpx::never);
}
