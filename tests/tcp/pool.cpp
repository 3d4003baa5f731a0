// Tests for tcpx/tcp/chunk_pool.hpp: the stack-wide bounded data pool.
// The rules come from DESIGN.md "Memory and time" (bounded, recycled, never moved);
// RFC 1122 §4.2.2.20 is why a refusal must be clean: the peer retransmits.
#include <tcpx/tcp/chunk_pool.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <utility>
#include <vector>

using tcpx::tcp::basic_chunk_pool;
using tcpx::tcp::chunk_index;
using tcpx::tcp::chunk_pool;
using tcpx::tcp::no_chunk;

// DESIGN.md: "the data pool" is bounded; at the limit the stack refuses cleanly.
TEST_CASE("pool_allocate_at_limit_returns_no_chunk_and_counts_refusal")
{
    chunk_pool pool{3 * chunk_pool::chunk_size + 100};
    CHECK(pool.max_bytes() == 3 * chunk_pool::chunk_size);  // rounded down to chunks
    std::vector<chunk_index> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(pool.allocate());
        REQUIRE(held.back() != no_chunk);
    }
    CHECK(pool.bytes_in_use() == pool.max_bytes());
    CHECK(pool.allocate() == no_chunk);
    CHECK(pool.allocate() == no_chunk);
    CHECK(pool.refused_at_limit() == 2);
    CHECK(pool.refused_out_of_memory() == 0);
    CHECK(pool.allocation_failures() == 2);
    CHECK(pool.bytes_in_use() == pool.max_bytes());

    pool.release(held.back());
    CHECK(pool.allocate() != no_chunk);
    CHECK(pool.allocation_failures() == 2);
}

// DESIGN.md: bounded — a zero limit is a pool that refuses everything, not a crash.
TEST_CASE("pool_zero_limit_refuses_every_allocation")
{
    chunk_pool pool{chunk_pool::chunk_size - 1};
    CHECK(pool.max_bytes() == 0);
    CHECK(pool.allocate() == no_chunk);
    CHECK(pool.refused_at_limit() == 1);
    CHECK(pool.bytes_reserved() == 0);
}

// DESIGN.md: memory is recycled, hot first — released chunks come back LIFO.
TEST_CASE("pool_release_then_allocate_reuses_last_released_first")
{
    chunk_pool pool{16 * chunk_pool::chunk_size};
    const chunk_index a = pool.allocate();
    const chunk_index b = pool.allocate();
    const chunk_index c = pool.allocate();
    REQUIRE(std::set<chunk_index>{a, b, c}.size() == 3);
    pool.release(a);
    pool.release(c);
    pool.release(b);
    CHECK(pool.allocate() == b);
    CHECK(pool.allocate() == c);
    CHECK(pool.allocate() == a);
    const std::size_t reserved = pool.bytes_reserved();
    for (int round = 0; round < 100; ++round) {  // steady state takes nothing new
        const chunk_index x = pool.allocate();
        pool.release(x);
        CHECK(pool.allocate() == x);
        pool.release(x);
    }
    CHECK(pool.bytes_reserved() == reserved);
}

// DESIGN.md: chunks are never moved, so an index, a data() pointer and a next()
// reference taken before growth stay valid after it.
TEST_CASE("pool_indices_and_memory_stay_valid_across_growth")
{
    constexpr std::size_t count = 3 * chunk_pool::chunks_per_block + 5;
    chunk_pool pool{count * chunk_pool::chunk_size};
    std::vector<chunk_index> chunks;
    std::vector<std::uint8_t*> where;
    const chunk_index first = pool.allocate();
    chunk_index& first_link = pool.next(first);
    CHECK(first_link == no_chunk);  // a fresh chunk ends a chain
    chunks.push_back(first);
    where.push_back(pool.data(first));
    std::memset(pool.data(first), 0xA5, chunk_pool::chunk_size);
    for (std::size_t i = 1; i < count; ++i) {
        const chunk_index c = pool.allocate();
        REQUIRE(c != no_chunk);
        CHECK(pool.next(c) == no_chunk);
        std::uint8_t* p = pool.data(c);
        p[0] = static_cast<std::uint8_t>(i);
        p[chunk_pool::chunk_size - 1] = static_cast<std::uint8_t>(i >> 8);
        chunks.push_back(c);
        where.push_back(p);
    }
    CHECK(pool.bytes_reserved() == count * chunk_pool::chunk_size);  // last block is short
    CHECK(std::set<chunk_index>(chunks.begin(), chunks.end()).size() == count);
    first_link = chunks[1];  // the reference taken before growth still reaches the link
    CHECK(pool.next(first) == chunks[1]);
    CHECK(pool.data(first)[chunk_pool::chunk_size - 1] == 0xA5);
    for (std::size_t i = 1; i < count; ++i) {
        CHECK(pool.data(chunks[i]) == where[i]);
        CHECK(where[i][0] == static_cast<std::uint8_t>(i));
        CHECK(where[i][chunk_pool::chunk_size - 1] == static_cast<std::uint8_t>(i >> 8));
        // page aligned: chunks can be handed to the kernel or a NIC as they are
        CHECK(reinterpret_cast<std::uintptr_t>(where[i]) % 4096 == 0);
    }
    for (chunk_index c : chunks)
        pool.release(c);
    CHECK(pool.bytes_in_use() == 0);
    CHECK(pool.bytes_reserved() == count * chunk_pool::chunk_size);  // kept for reuse
}

// DESIGN.md: bytes_in_use counts chunks handed out; reserve grows a block at a time.
TEST_CASE("pool_bytes_in_use_counts_chunks_handed_out")
{
    using small_pool = basic_chunk_pool<64>;
    small_pool pool{10 * small_pool::chunks_per_block * 64};
    CHECK(pool.bytes_in_use() == 0);
    CHECK(pool.bytes_reserved() == 0);  // nothing taken until asked
    std::vector<chunk_index> held;
    for (std::size_t i = 0; i < small_pool::chunks_per_block + 1; ++i) {
        held.push_back(pool.allocate());
        CHECK(pool.bytes_in_use() == held.size() * 64);
    }
    CHECK(pool.bytes_reserved() == 2 * small_pool::chunks_per_block * 64);
    while (!held.empty()) {
        pool.release(held.back());
        held.pop_back();
        CHECK(pool.bytes_in_use() == held.size() * 64);
    }
    CHECK(pool.bytes_reserved() == 2 * small_pool::chunks_per_block * 64);
    CHECK(pool.bytes_reserved() <= pool.max_bytes());
}

#if defined(TCPX_DETAIL_ASAN)
// AddressSanitizer aborts on an impossible request instead of failing it (unless
// the whole executable runs with allocator_may_return_null=1).
constexpr bool under_asan = true;
#else
constexpr bool under_asan = false;
#endif

// DESIGN.md: at a limit the stack refuses cleanly — also when the system itself has
// no memory: allocate() reports no_chunk and counts it, it does not throw.
TEST_CASE("pool_system_out_of_memory_returns_no_chunk_and_counts" * doctest::skip(under_asan))
{
    using huge_pool = basic_chunk_pool<(std::size_t{1} << 46)>;  // 64 TiB per chunk
    huge_pool pool{std::size_t{1} << 50};
    CHECK(pool.allocate() == no_chunk);
    CHECK(pool.refused_out_of_memory() == 1);
    CHECK(pool.refused_at_limit() == 0);
    CHECK(pool.bytes_reserved() == 0);
    CHECK(pool.bytes_in_use() == 0);
}

// A stack owning the pool may be moved; chunks and counters move with it.
TEST_CASE("pool_move_carries_chunks_and_counters")
{
    chunk_pool a{4 * chunk_pool::chunk_size};
    const chunk_index c = a.allocate();
    a.data(c)[7] = 42;
    chunk_pool b{std::move(a)};
    CHECK(b.bytes_in_use() == chunk_pool::chunk_size);
    CHECK(b.data(c)[7] == 42);
    CHECK(a.bytes_in_use() == 0);       // NOLINT(bugprone-use-after-move): documented state
    CHECK(a.allocate() == no_chunk);    // a moved-from pool has no budget
    b.release(c);
    CHECK(b.bytes_in_use() == 0);
}
