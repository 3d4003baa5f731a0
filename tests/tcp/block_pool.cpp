// Tests for tcpx/detail/block_pool.hpp: the blocks connections hold while a flight is
// out (tcp/recovery_state.hpp). Bounded, aligned, recycled last-in first-out with their
// bytes kept, and grown in slabs that stay, so a steady state allocates nothing.
#include <tcpx/detail/block_pool.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

using tcpx::detail::block_pool;

TEST_CASE("block_pool_gives_at_most_max_blocks_then_none_and_takes_them_back")
{
    block_pool pool{100, 16, 70};  // a slab of 64, then one cut to 6
    std::vector<void*> held;
    for (int i = 0; i < 70; ++i) {
        const block_pool::block b = pool.acquire();
        REQUIRE(b.storage != nullptr);
        CHECK(b.fresh);
        CHECK(reinterpret_cast<std::uintptr_t>(b.storage) % 16 == 0);
        held.push_back(b.storage);
    }
    CHECK(std::set<void*>(held.begin(), held.end()).size() == 70);  // all distinct
    CHECK(pool.acquire().storage == nullptr);
    CHECK(pool.in_use() == 70);
    CHECK(pool.made() == 70);
    for (void* b : held) pool.release(b);
    CHECK(pool.in_use() == 0);
    // Nothing more is made: the same blocks come back, used, the last given back first.
    const block_pool::block again = pool.acquire();
    CHECK(again.storage == held.back());
    CHECK_FALSE(again.fresh);
    CHECK(pool.made() == 70);
}

TEST_CASE("block_pool_blocks_do_not_overlap_and_keep_their_bytes_when_given_back")
{
    block_pool pool{24, 8, 10};
    CHECK(pool.block_size() >= 24);
    std::vector<unsigned char*> held;
    for (int i = 0; i < 10; ++i) held.push_back(static_cast<unsigned char*>(pool.acquire().storage));
    for (std::size_t i = 0; i < held.size(); ++i) std::memset(held[i], static_cast<int>(i), 24);
    for (std::size_t i = 0; i < held.size(); ++i)
        for (unsigned char* p = held[i]; p != held[i] + 24; ++p) CHECK(*p == static_cast<unsigned char>(i));
    pool.release(held[3]);
    auto* back = static_cast<unsigned char*>(pool.acquire().storage);
    REQUIRE(back == held[3]);
    for (unsigned char* p = back; p != back + 24; ++p) CHECK(*p == 3);
}

TEST_CASE("block_pool_holds_memory_only_for_the_slabs_made")
{
    block_pool pool{1000, 8, 1'000'000};
    CHECK(pool.memory_bytes() == 0);
    const block_pool::block b = pool.acquire();
    CHECK(pool.memory_bytes() >= block_pool::per_slab * 1000);
    CHECK(pool.memory_bytes() < 2 * block_pool::per_slab * 1000);
    pool.release(b.storage);
}
