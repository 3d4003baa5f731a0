// Simulation tests (DESIGN.md "Tests, in layers", 3): two tcpx stacks over the
// impaired in-memory link with the manual clock, many seeds times loss, reordering,
// duplication, corruption and delay. Each run transfers a seeded byte stream each
// way at once, closes gracefully from a random side, and waits out TIME-WAIT; the
// checks are the end-to-end promises of RFC 9293 §2.6 and §3.8: every byte arrives
// exactly once and in order, both sides see the end of the stream, and nothing is
// left behind (no connection, no pool byte).
//
// A failing seed prints the command that replays exactly that run:
//     TCPX_SIM_SEED=<seed> TCPX_SIM_TRACE=1 <this test> -tc=<test case>
// (TCPX_SIM_TRACE prints every packet and application event; see harness.hpp).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "harness.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using tcpx::duration;
using tcpx::devices::impairment;
namespace sim = tcpx::sim;

/// Totals over every run of the file, reported by each test case as it ends.
struct totals {
    std::uint64_t runs = 0;
    double simulated_seconds = 0;
    std::chrono::steady_clock::duration wall{};
    std::uint64_t corrupted = 0;
    std::uint64_t tcp_bad_checksum = 0;
    std::uint64_t ipv4_bad_header_checksum = 0;
};
totals all_runs;

/// What one test case ran, for its closing MESSAGE.
struct tally {
    const char* name;
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    double simulated_seconds = 0;
    std::uint64_t slowest_seed = 0;
    double slowest_wall = 0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    ~tally()
    {
        const auto wall = std::chrono::steady_clock::now() - started;
        all_runs.wall += wall;
        char buf[500];
        std::snprintf(buf, sizeof buf,
                      "%s: %llu seeds, %.1f s simulated, %.2f s wall (slowest: seed %llu, %.3f s); file so far: "
                      "%llu seeds, %.1f s simulated, %.2f s wall",
                      name, static_cast<unsigned long long>(runs), simulated_seconds,
                      std::chrono::duration<double>(wall).count(), static_cast<unsigned long long>(slowest_seed),
                      slowest_wall, static_cast<unsigned long long>(all_runs.runs),
                      all_runs.simulated_seconds, std::chrono::duration<double>(all_runs.wall).count());
        MESSAGE(buf);
    }
};

std::string replay_command(std::uint64_t seed, const char* test_case)
{
    return "replay: TCPX_SIM_SEED=" + std::to_string(seed) + " TCPX_SIM_TRACE=1 <sim test binary> -tc=" + test_case;
}

/// Runs one scenario and checks the promises every run must keep; true if it did.
bool run_and_check(const sim::scenario& s, tally& t)
{
    const auto started = std::chrono::steady_clock::now();
    const sim::result r = sim::run(s);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (wall > t.slowest_wall) {
        t.slowest_wall = wall;
        t.slowest_seed = s.seed;
    }
    if (std::getenv("TCPX_SIM_VERBOSE") != nullptr)
        std::fprintf(stderr, "seed %llu: %.3f s wall, %.1f s simulated, %llu iterations%s\n",
                     static_cast<unsigned long long>(s.seed), wall, r.simulated_seconds(),
                     static_cast<unsigned long long>(r.iterations), r.passed() ? "" : " FAILED");
    ++t.runs;
    ++all_runs.runs;
    t.simulated_seconds += r.simulated_seconds();
    all_runs.simulated_seconds += r.simulated_seconds();
    INFO(sim::describe_scenario(s));
    INFO(replay_command(s.seed, t.name));
    INFO("failure: ", r.failure, "; simulated ", r.simulated_seconds(), " s, ", r.iterations, " iterations");
    bool ok = r.passed();
    CHECK_MESSAGE(r.passed(), r.failure);
    const std::uint64_t wanted[2] = {s.bytes_b_to_a, s.bytes_a_to_b};  // what A, B must read
    for (int i = 0; i < 2; ++i) {
        const sim::side_result& me = r.side[static_cast<std::size_t>(i)];
        const sim::side_result& peer = r.side[static_cast<std::size_t>(1 - i)];
        INFO("side ", i == 0 ? "A" : "B");
        // RFC 9293 §3.8 / §2.6: every byte delivered exactly once and in order (the
        // harness compared each against the stream), then the peer's FIN (§3.6).
        ok &= me.received == wanted[i] && me.end_of_stream && me.closed;
        CHECK(me.received == wanted[i]);
        CHECK(me.end_of_stream);
        CHECK(me.closed);
        // RFC 9293 §3.10.8: TIME-WAIT expired and every control block was deleted;
        // DESIGN.md "Memory and time": every pool chunk came back.
        ok &= me.connections == 0 && me.pool_bytes == 0;
        CHECK(me.connections == 0);
        CHECK(me.pool_bytes == 0);
        // RFC 1122 §3.2.1.2 and RFC 9293 §3.1 (MUST): a corrupted packet fails a checksum
        // and is dropped, counted, before it touches a connection. One flipped bit always
        // breaks a ones'-complement sum, so drops equal corruptions when none was lost
        // for another reason after being corrupted.
        const auto& tx = peer.transmit;
        if (tx.dropped_inner == 0 && tx.dropped_store_full == 0) {
            ok &= me.input_drops == tx.corrupted;
            CHECK(me.input_drops == tx.corrupted);
        } else {
            ok &= me.input_drops <= tx.corrupted;
            CHECK(me.input_drops <= tx.corrupted);
        }
        all_runs.corrupted += tx.corrupted;
        all_runs.tcp_bad_checksum += me.counters.dropped(tcpx::drop_reason::tcp_bad_checksum);
        all_runs.ipv4_bad_header_checksum += me.counters.dropped(tcpx::drop_reason::ipv4_bad_header_checksum);
    }
    if (!ok) ++t.failures;
    return ok;
}

/// Seeds are numbered cell * seeds_per_cell_stride + k, so one number names a run
/// (and TCPX_SIM_SEED replays it without saying which cell).
constexpr std::uint64_t stride = 100'000;

/// Runs `count` seeds of one cell; stops a cell after three failing seeds.
void run_cell(std::uint64_t cell, std::uint64_t count, const impairment& imp, std::uint64_t largest, tally& t,
              const sim::scenario* tweak = nullptr)
{
    const auto only = sim::replay_seed();
    std::uint64_t failures = 0;
    for (std::uint64_t k = 0; k < count; ++k) {
        const std::uint64_t seed = cell * stride + k;
        if (only && *only != seed) continue;
        sim::scenario s = sim::draw_scenario(seed, imp, imp, largest);
        if (tweak != nullptr) {
            s.base.user_timeout = tweak->base.user_timeout;
            s.time_limit = tweak->time_limit;
        }
        if (!run_and_check(s, t) && ++failures == 3) {
            MESSAGE("cell " << cell << ": stopping after 3 failing seeds");
            break;
        }
    }
}

}  // namespace

// RFC 9293 §3.8, §3.6: on a perfect link, both directions at once, every size, every
// close order: exact delivery and a clean end.
TEST_CASE("transfer_clean_link_delivers_every_byte_once_and_closes")
{
    tally t{"transfer_clean_link_delivers_every_byte_once_and_closes"};
    run_cell(1, 200, impairment{}, 3 << 20, t);
}

// The grid: loss x reordering x duplication x corruption x delay/jitter, the same
// in both directions (each direction draws its own fate). RFC 9293 §3.10.7.4 and
// RFC 5681 §3.2 must turn every one of these networks into an exact byte stream.
TEST_CASE("transfer_impaired_grid_delivers_every_byte_once_and_closes")
{
    tally t{"transfer_impaired_grid_delivers_every_byte_once_and_closes"};
    const double losses[] = {0, 0.01, 0.05, 0.10, 0.20};
    const double reorders[] = {0, 0.03};
    const double duplicates[] = {0, 0.03};
    const double corruptions[] = {0, 0.02};
    const duration delays[] = {0ms, 10ms};
    std::uint64_t cell = 100;
    for (const double loss : losses)
        for (const double reorder : reorders)
            for (const double duplicate : duplicates)
                for (const double corrupt : corruptions)
                    for (const duration delay : delays) {
                        impairment imp;
                        imp.loss = loss;
                        imp.reorder = reorder;
                        imp.reorder_delay = delay > 0ms ? 5ms : 1ms;
                        imp.duplicate = duplicate;
                        imp.corrupt = corrupt;
                        imp.delay = delay;
                        imp.jitter = delay / 4;
                        CAPTURE(loss);
                        CAPTURE(reorder);
                        CAPTURE(duplicate);
                        CAPTURE(corrupt);
                        CAPTURE(delay.count());
                        // Heavy loss costs more loop turns per byte: smaller transfers there.
                        const std::uint64_t largest = loss >= 0.10 ? 512 * 1024 : 2 << 20;
                        run_cell(cell++, 40, imp, largest, t);
                    }
}
