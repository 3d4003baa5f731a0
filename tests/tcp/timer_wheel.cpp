// The stack's timer index: tcpx::detail::deadline_heap (tcpx/detail/deadline_heap.hpp).
// (File name kept from the build's list; the structure is a heap, not a wheel.)
#include <tcpx/detail/deadline_heap.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using tcpx::instant;
using tcpx::detail::deadline_heap;

constexpr instant at(std::int64_t ms) { return instant{} + std::chrono::milliseconds{ms}; }

/// Pops everything, returning the ids in pop order.
std::vector<std::uint32_t> drain(deadline_heap& heap)
{
    std::vector<std::uint32_t> ids;
    while (!heap.empty()) {
        ids.push_back(heap.top_id());
        heap.pop();
    }
    return ids;
}

}  // namespace

// An empty heap has no deadline: poll() can sleep until tcpx::never.
TEST_CASE("deadline_heap_empty_has_no_deadline")
{
    deadline_heap heap;
    CHECK(heap.empty());
    CHECK(heap.size() == 0);
    CHECK(heap.top_deadline() == tcpx::never);
    CHECK_FALSE(heap.contains(0));
    CHECK(heap.deadline(7) == tcpx::never);
    heap.erase(3);  // erasing what was never there is a no-op
    CHECK(heap.empty());
}

// Entries come out earliest deadline first, whatever the insertion order.
TEST_CASE("deadline_heap_pops_in_deadline_order")
{
    deadline_heap heap;
    const std::vector<std::pair<std::uint32_t, std::int64_t>> timers = {
        {4, 50}, {0, 10}, {7, 70}, {2, 5}, {1, 30}, {9, 1}, {3, 20}, {5, 60}, {6, 40}, {8, 15}};
    for (const auto& [id, ms] : timers) {
        heap.set(id, at(ms));
    }
    CHECK(heap.size() == timers.size());
    CHECK(heap.top_deadline() == at(1));
    CHECK(heap.top_id() == 9);
    CHECK(heap.deadline(6) == at(40));
    CHECK(drain(heap) == std::vector<std::uint32_t>{9, 2, 0, 8, 3, 1, 6, 4, 5, 7});
    CHECK(heap.top_deadline() == tcpx::never);
}

// set() on an id already present moves it: earlier toward the top...
TEST_CASE("deadline_heap_set_earlier_moves_entry_up")
{
    deadline_heap heap;
    for (std::uint32_t id = 0; id < 20; ++id) {
        heap.set(id, at(100 + id));
    }
    heap.set(17, at(1));
    CHECK(heap.size() == 20);
    CHECK(heap.top_id() == 17);
    CHECK(heap.top_deadline() == at(1));
    CHECK(heap.invariants_hold());
}

// ...later toward the bottom, without duplicating it.
TEST_CASE("deadline_heap_set_later_moves_entry_down")
{
    deadline_heap heap;
    for (std::uint32_t id = 0; id < 20; ++id) {
        heap.set(id, at(100 + id));
    }
    heap.set(0, at(500));
    CHECK(heap.size() == 20);
    CHECK(heap.top_id() == 1);
    CHECK(heap.deadline(0) == at(500));
    const auto order = drain(heap);
    CHECK(order.size() == 20);
    CHECK(order.back() == 0);
}

// erase() removes an entry from the middle and keeps the rest in order.
TEST_CASE("deadline_heap_erase_middle_keeps_order")
{
    deadline_heap heap;
    for (std::uint32_t id = 0; id < 10; ++id) {
        heap.set(id, at(10 * (10 - id)));  // id 9 earliest
    }
    heap.erase(5);
    heap.erase(5);  // twice is fine
    CHECK(heap.size() == 9);
    CHECK_FALSE(heap.contains(5));
    CHECK(heap.invariants_hold());
    CHECK(drain(heap) == std::vector<std::uint32_t>{9, 8, 7, 6, 4, 3, 2, 1, 0});
}

// An id removed (by erase or pop) can be set again, with a new deadline.
TEST_CASE("deadline_heap_reinsert_after_erase_and_pop")
{
    deadline_heap heap;
    heap.set(3, at(30));
    heap.set(1, at(10));
    heap.pop();  // removes id 1
    CHECK_FALSE(heap.contains(1));
    heap.erase(3);
    CHECK(heap.empty());
    heap.set(3, at(5));
    heap.set(1, at(50));
    CHECK(heap.top_id() == 3);
    CHECK(heap.deadline(1) == at(50));
    CHECK(drain(heap) == std::vector<std::uint32_t>{3, 1});
}

// Equal deadlines pop lowest id first, so a simulation replays identically
// (DESIGN.md: same seed, same run, bit for bit).
TEST_CASE("deadline_heap_ties_break_by_id")
{
    deadline_heap heap;
    for (std::uint32_t id : {6u, 2u, 9u, 0u, 4u, 7u, 1u}) {
        heap.set(id, at(42));
    }
    heap.set(8, at(41));
    CHECK(drain(heap) == std::vector<std::uint32_t>{8, 0, 1, 2, 4, 6, 7, 9});
}

// "No deadline" is tcpx::never: setting it removes the entry, so
// set(slot, conn.next_deadline()) is all the stack does after an event.
TEST_CASE("deadline_heap_set_never_removes_entry")
{
    deadline_heap heap;
    heap.set(2, at(20));
    heap.set(4, at(40));
    heap.set(2, tcpx::never);
    CHECK_FALSE(heap.contains(2));
    CHECK(heap.size() == 1);
    heap.set(11, tcpx::never);  // never-seen id with no deadline: nothing to do
    CHECK(heap.size() == 1);
    CHECK(heap.top_id() == 4);
}

// DESIGN.md, memory: no allocation in steady state. Once ids are covered,
// set/erase/pop reuse the same storage; clear() keeps it too.
TEST_CASE("deadline_heap_reserved_ids_do_not_grow_storage")
{
    deadline_heap heap;
    heap.reserve(1000);
    const std::size_t cap = heap.capacity();
    CHECK(cap >= 1000);
    for (int round = 0; round < 3; ++round) {
        for (std::uint32_t id = 0; id < 1000; ++id) {
            heap.set(id, at((id * 7919) % 1000));
        }
        heap.clear();
    }
    CHECK(heap.capacity() == cap);
    CHECK(heap.empty());
    CHECK_FALSE(heap.contains(999));

    deadline_heap grown;
    grown.set(100, at(1));  // first sight of a large id grows to cover it
    CHECK(grown.capacity() > 100);
    CHECK(grown.invariants_hold());
}

// Randomised against an ordered model: 100 000 mixed operations with a fixed seed
// (so a failure replays), ids dense in [0, 512), deadlines with many ties.
TEST_CASE("deadline_heap_random_operations_match_ordered_model")
{
    constexpr std::uint32_t id_count = 512;
    deadline_heap heap;
    std::set<std::pair<instant, std::uint32_t>> model;  // ordered (deadline, id)
    std::vector<instant> model_deadline(id_count, tcpx::never);

    auto model_erase = [&](std::uint32_t id) {
        if (model_deadline[id] != tcpx::never) {
            model.erase({model_deadline[id], id});
            model_deadline[id] = tcpx::never;
        }
    };

    std::mt19937_64 rng{20240601};
    std::uniform_int_distribution<std::uint32_t> pick_id{0, id_count - 1};
    std::uniform_int_distribution<std::int64_t> pick_ms{0, 2000};  // ~4 ids per ms: ties
    std::uniform_int_distribution<int> pick_op{0, 99};

    for (int step = 0; step < 100'000; ++step) {
        const int op = pick_op(rng);
        const std::uint32_t id = pick_id(rng);
        if (op < 55) {  // set: insert or move
            const instant t = at(pick_ms(rng));
            heap.set(id, t);
            model_erase(id);
            model.insert({t, id});
            model_deadline[id] = t;
        } else if (op < 75) {  // erase, present or not
            heap.erase(id);
            model_erase(id);
        } else if (op < 95) {  // pop
            if (!model.empty()) {
                const auto [t, top] = *model.begin();
                REQUIRE(heap.top_id() == top);
                REQUIRE(heap.top_deadline() == t);
                heap.pop();
                model_erase(top);
            }
        } else {  // query
            REQUIRE(heap.contains(id) == (model_deadline[id] != tcpx::never));
            REQUIRE(heap.deadline(id) == model_deadline[id]);
        }
        REQUIRE(heap.size() == model.size());
        REQUIRE(heap.top_deadline() == (model.empty() ? tcpx::never : model.begin()->first));
        if (!model.empty()) {
            REQUIRE(heap.top_id() == model.begin()->second);
        }
        if (step % 1000 == 0) {
            REQUIRE(heap.invariants_hold());
        }
    }
    REQUIRE(heap.invariants_hold());

    // Drain both: identical order to the end.
    while (!model.empty()) {
        REQUIRE(heap.top_id() == model.begin()->second);
        REQUIRE(heap.top_deadline() == model.begin()->first);
        heap.pop();
        model.erase(model.begin());
    }
    CHECK(heap.empty());
}
