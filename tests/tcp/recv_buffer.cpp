// Tests for tcpx/tcp/recv_buffer.hpp: in-order data and the reassembly queue
// (RFC 9293 §3.10.7.4 first (SHLD-31) and seventh steps, RFC 1122 §4.2.2.20).
// Most cases use 64-byte chunks so small segments cross chunk boundaries.
#include <tcpx/tcp/recv_buffer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

using tcpx::tcp::basic_chunk_pool;
using tcpx::tcp::chunk_pool;
using tcpx::tcp::recv_buffer;
using range = recv_buffer::range;

// A control block holds one of these per connection: the chunk chain's cursors, the
// inline out-of-order ranges of 8 bytes, and the handles of the chunks more spill into.
static_assert(sizeof(recv_buffer) <= 40 + 8 * tcpx::tcp::detail::range_table::inline_slots +
                                         16 + 12 * tcpx::tcp::detail::range_table::spill_chunks);

namespace {

using small_pool = basic_chunk_pool<64>;
constexpr std::size_t big = 1 << 20;  // a capacity that never truncates

std::vector<std::uint8_t> pattern(std::size_t n, std::uint64_t seed = 1)
{
    std::vector<std::uint8_t> v(n);
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (auto& b : v) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    return v;
}

std::span<const std::uint8_t> part(const std::vector<std::uint8_t>& v, std::size_t at,
                                   std::size_t n)
{
    return std::span{v}.subspan(at, n);
}

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t at, std::size_t n)
{
    return {v.begin() + static_cast<std::ptrdiff_t>(at),
            v.begin() + static_cast<std::ptrdiff_t>(at + n)};
}

template <class Pool>
std::vector<std::uint8_t> read_all(recv_buffer& buf, Pool& pool)
{
    std::vector<std::uint8_t> out(buf.readable());
    CHECK(buf.read(pool, out) == out.size());
    return out;
}

std::vector<range> ranges(const recv_buffer& buf)
{
    const auto r = buf.out_of_order_ranges();
    return {r.begin(), r.end()};
}

// A tiny xorshift: the same seed gives the same run with any standard library.
struct rng {
    std::uint64_t x;
    std::size_t operator()(std::size_t n) // uniform enough in [0, n)
    {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return static_cast<std::size_t>(x % n);
    }
};

}  // namespace

// RFC 9293 §3.10.7.4, seventh: text at RCV.NXT is delivered at once.
TEST_CASE("recv_buffer_in_order_write_is_readable_at_once")
{
    small_pool pool{64 * 64};
    recv_buffer buf;
    const auto data = pattern(300);
    auto r = buf.write(pool, 0, part(data, 0, 100), big);
    CHECK(r.stored);
    CHECK(r.delivered == 100);
    r = buf.write(pool, 0, part(data, 100, 200), big);
    CHECK(r.delivered == 200);
    CHECK(buf.readable() == 300);
    CHECK(buf.held_out_of_order() == 0);
    CHECK(pool.bytes_in_use() == 5 * 64);  // ceil(300 / 64)
    CHECK(read_all(buf, pool) == data);
    CHECK(pool.bytes_in_use() == 0);
    CHECK(buf.empty());
}

// RFC 9293 §3.10.7.4, first (SHLD-31): text beyond RCV.NXT is held; when the hole
// is filled, all of it becomes readable and `delivered` counts every byte.
TEST_CASE("recv_buffer_out_of_order_then_hole_filled_delivers_all")
{
    small_pool pool{64 * 64};
    recv_buffer buf;
    const auto data = pattern(400);
    auto r = buf.write(pool, 300, part(data, 300, 100), big);
    CHECK(r.stored);
    CHECK(r.delivered == 0);
    r = buf.write(pool, 100, part(data, 100, 100), big);
    CHECK(r.delivered == 0);
    CHECK(buf.readable() == 0);
    CHECK(ranges(buf) == std::vector<range>{{100, 200}, {300, 400}});
    CHECK(buf.held_out_of_order() == 200);
    CHECK(buf.extent() == 400);
    r = buf.write(pool, 200, part(data, 200, 100), big);  // joins the two ranges
    CHECK(r.delivered == 0);
    CHECK(ranges(buf) == std::vector<range>{{100, 400}});
    r = buf.write(pool, 0, part(data, 0, 100), big);  // the hole
    CHECK(r.stored);
    CHECK(r.delivered == 400);
    CHECK(buf.readable() == 400);
    CHECK(buf.out_of_order_ranges().empty());
    CHECK(read_all(buf, pool) == data);
    CHECK(pool.bytes_in_use() == 0);
}

// Ranges that touch are one range (the structure stays disjoint and non-adjacent).
TEST_CASE("recv_buffer_touching_ranges_merge_into_one")
{
    small_pool pool{64 * 64};
    recv_buffer buf;
    const auto data = pattern(100);
    buf.write(pool, 20, part(data, 20, 10), big);
    buf.write(pool, 30, part(data, 30, 10), big);   // touches on the right
    buf.write(pool, 10, part(data, 10, 10), big);   // touches on the left
    CHECK(ranges(buf) == std::vector<range>{{10, 40}});
    const auto r = buf.write(pool, 0, part(data, 0, 10), big);  // touches readable
    CHECK(r.delivered == 40);
    CHECK(read_all(buf, pool) == slice(data, 0, 40));
    CHECK(pool.bytes_in_use() == 0);
}

// RFC 9293 §3.10.7.4: retransmissions overlap what is held; a byte is kept once,
// the first copy wins, and nothing is delivered twice.
TEST_CASE("recv_buffer_overlap_and_duplicates_keep_first_copy_and_deliver_once")
{
    small_pool pool{64 * 64};
    recv_buffer buf;
    const auto data = pattern(300);
    auto other = data;
    for (auto& b : other)
        b = static_cast<std::uint8_t>(~b);  // a differing copy shows which one was kept

    buf.write(pool, 100, part(data, 100, 50), big);
    auto r = buf.write(pool, 100, part(data, 100, 50), big);  // exact duplicate
    CHECK(r.stored);
    CHECK(r.delivered == 0);
    CHECK(ranges(buf) == std::vector<range>{{100, 150}});
    r = buf.write(pool, 80, part(other, 80, 200), big);  // covers and extends both sides
    CHECK(r.stored);
    CHECK(ranges(buf) == std::vector<range>{{80, 280}});
    CHECK(buf.held_out_of_order() == 200);
    r = buf.write(pool, 0, part(data, 0, 120), big);  // in order, overlapping the range
    CHECK(r.delivered == 280);
    const auto got = read_all(buf, pool);
    REQUIRE(got.size() == 280);
    CHECK(slice(got, 0, 80) == slice(data, 0, 80));
    CHECK(slice(got, 80, 20) == slice(other, 80, 20));    // held first, from `other`
    CHECK(slice(got, 100, 50) == slice(data, 100, 50));   // held first, from `data`
    CHECK(slice(got, 150, 130) == slice(other, 150, 130));
    CHECK(pool.bytes_in_use() == 0);
}

// RFC 1122 §4.2.2.20: queueing out-of-order segments is bounded; a segment that
// would need a range beyond max_ranges is refused whole and nothing else changes. A
// segment that touches a held range needs no new range and is still taken.
TEST_CASE("recv_buffer_extra_range_beyond_max_ranges_is_refused_and_nothing_changes")
{
    constexpr std::size_t n = recv_buffer::max_ranges<small_pool::chunk_size>;
    static_assert(n > 4, "more islands than one SACK option reports");
    small_pool pool{64 * 64 * 4};
    recv_buffer buf;
    const auto data = pattern(100 * (n + 2));
    for (std::size_t k = 1; k <= n; ++k)  // [100k, 100k + 10) for k = 1..n
        REQUIRE(buf.write(pool, 100 * k, part(data, 100 * k, 10), big).stored);
    REQUIRE(ranges(buf).size() == n);
    const auto before = ranges(buf);
    const std::size_t in_use = pool.bytes_in_use();

    const std::size_t beyond = 100 * (n + 1);
    auto r = buf.write(pool, beyond, part(data, beyond, 10), big);  // beyond the last
    CHECK_FALSE(r.stored);
    CHECK(r.delivered == 0);
    r = buf.write(pool, 150, part(data, 150, 10), big);  // between two
    CHECK_FALSE(r.stored);
    r = buf.write(pool, 50, part(data, 50, 10), big);  // before the first
    CHECK_FALSE(r.stored);
    CHECK(ranges(buf) == before);
    CHECK(buf.readable() == 0);
    CHECK(pool.bytes_in_use() == in_use);  // no chunk drawn for a refused segment

    const std::size_t last = 100 * n;
    r = buf.write(pool, last + 10, part(data, last + 10, 10), big);  // touches the last range
    CHECK(r.stored);
    r = buf.write(pool, 105, part(data, 105, 200), big);  // joins three ranges
    CHECK(r.stored);
    REQUIRE(ranges(buf).size() == n - 2);
    CHECK(ranges(buf).front() == range{100, 310});
    CHECK(ranges(buf).back() == range{static_cast<std::uint32_t>(last), static_cast<std::uint32_t>(last + 20)});
    r = buf.write(pool, 0, part(data, 0, 100), big);  // in order never needs a range
    CHECK(r.delivered == 310);
    REQUIRE(ranges(buf).size() == n - 3);
    CHECK(ranges(buf).front() == range{400, 410});
    CHECK(read_all(buf, pool) == slice(data, 0, 310));
    buf.clear(pool);
    CHECK(pool.bytes_in_use() == 0);
}

// RFC 9293 §3.10.7.4, first: only text inside the window is kept. write cuts at
// `capacity` (counted from the first unread byte) even if the caller did not.
TEST_CASE("recv_buffer_write_is_truncated_at_capacity")
{
    small_pool pool{64 * 64};
    recv_buffer buf;
    const auto data = pattern(400);
    auto r = buf.write(pool, 0, part(data, 0, 150), 100);
    CHECK(r.stored);
    CHECK(r.delivered == 100);
    CHECK(buf.readable() == 100);
    r = buf.write(pool, 50, part(data, 150, 100), 180);  // out of order, cut at 180
    CHECK(r.stored);
    CHECK(ranges(buf) == std::vector<range>{{150, 180}});
    CHECK(buf.extent() == 180);
    r = buf.write(pool, 80, part(data, 180, 10), 180);  // wholly beyond: nothing to keep
    CHECK(r.stored);
    CHECK(r.delivered == 0);
    CHECK(buf.extent() == 180);
    r = buf.write(pool, 0, part(data, 100, 50), 100);  // capacity already used up
    CHECK(r.delivered == 0);
    CHECK(buf.readable() == 100);
    CHECK(pool.bytes_in_use() == 3 * 64);  // ceil(180 / 64)

    std::vector<std::uint8_t> out(60);
    CHECK(buf.read(pool, out) == 60);  // reading moves the capacity's origin
    CHECK(out == slice(data, 0, 60));
    CHECK(ranges(buf) == std::vector<range>{{90, 120}});
    r = buf.write(pool, 0, part(data, 100, 50), 120);
    CHECK(r.delivered == 80);  // the hole, and the range after it
    CHECK(read_all(buf, pool) == slice(data, 60, 120));
    CHECK(pool.bytes_in_use() == 0);
}

// DESIGN.md: bounded pool — when it refuses a chunk the segment is dropped whole
// (RFC 1122 §4.2.2.20: the peer retransmits) and chunks drawn for it are returned.
TEST_CASE("recv_buffer_pool_exhausted_drops_segment_and_returns_its_chunks")
{
    small_pool pool{3 * 64};
    recv_buffer buf;
    const auto data = pattern(400);
    REQUIRE(buf.write(pool, 0, part(data, 0, 10), big).delivered == 10);
    CHECK(pool.bytes_in_use() == 64);
    auto r = buf.write(pool, 250, part(data, 10 + 250, 20), big);  // needs chunks 0..4
    CHECK_FALSE(r.stored);
    CHECK(r.delivered == 0);
    CHECK(pool.refused_at_limit() == 1);
    CHECK(pool.bytes_in_use() == 64);
    CHECK(buf.out_of_order_ranges().empty());
    r = buf.write(pool, 100, part(data, 110, 20), big);  // fits in chunks 0..2
    CHECK(r.stored);
    CHECK(pool.bytes_in_use() == 3 * 64);
    r = buf.write(pool, 0, part(data, 10, 100), big);
    CHECK(r.delivered == 120);
    CHECK(read_all(buf, pool) == slice(data, 0, 130));
    CHECK(pool.bytes_in_use() == 0);

    small_pool empty_pool{0};  // nothing held before: refusal leaves nothing either
    r = buf.write(empty_pool, 0, part(data, 0, 10), big);
    CHECK_FALSE(r.stored);
    CHECK(buf.empty());
}

// The application reads in pieces that cross chunk boundaries; each read returns
// the next bytes and emptied chunks go back to the pool as it goes.
TEST_CASE_TEMPLATE("recv_buffer_read_across_chunks_returns_bytes_in_order", Pool, small_pool,
                   chunk_pool)
{
    constexpr std::size_t C = Pool::chunk_size;
    Pool pool{16 * C};
    recv_buffer buf;
    const auto data = pattern(5 * C + 3);
    REQUIRE(buf.write(pool, 0, data, 16 * C).delivered == data.size());
    std::size_t done = 0;
    for (std::size_t piece : {std::size_t{1}, C - 2, C + 2, std::size_t{5}, 2 * C}) {
        std::vector<std::uint8_t> out(piece);
        REQUIRE(buf.read(pool, out) == piece);
        CHECK(out == slice(data, done, piece));
        done += piece;
        CHECK(pool.bytes_in_use() == ((done % C + buf.readable() + C - 1) / C) * C);
    }
    std::vector<std::uint8_t> rest(data.size() - done + 50);
    CHECK(buf.read(pool, rest) == data.size() - done);
    CHECK(slice(rest, 0, data.size() - done) == slice(data, done, data.size() - done));
    CHECK(buf.read(pool, rest) == 0);
    CHECK(pool.bytes_in_use() == 0);
}

// Zero-copy reads: runs of readable data in order, then consume what was used.
TEST_CASE("recv_buffer_peek_runs_then_consume")
{
    small_pool pool{64 * 64};
    recv_buffer buf;
    const auto data = pattern(200);
    REQUIRE(buf.write(pool, 0, part(data, 0, 150), big).delivered == 150);
    REQUIRE(buf.write(pool, 10, part(data, 160, 40), big).stored);  // position 160
    std::vector<std::uint8_t> seen;
    std::size_t runs = 0;
    CHECK(buf.peek_runs(pool, [&](std::span<const std::uint8_t> run) {
        seen.insert(seen.end(), run.begin(), run.end());
        ++runs;
    }) == 150);
    CHECK(seen == slice(data, 0, 150));  // never the out-of-order bytes
    CHECK(runs == 3);
    CHECK(buf.readable() == 150);        // peeking consumes nothing

    buf.consume(pool, 70);
    CHECK(pool.bytes_in_use() == 3 * 64);  // chunk 0 read through and returned
    seen.clear();
    CHECK(buf.peek_runs(pool, [&](std::span<const std::uint8_t> run) {
        seen.insert(seen.end(), run.begin(), run.end());
        return false;  // stop after the first run
    }) == 58);
    CHECK(seen == slice(data, 70, 58));
    buf.consume(pool, 80);
    CHECK(buf.readable() == 0);
    CHECK(ranges(buf) == std::vector<range>{{10, 50}});
    CHECK(buf.write(pool, 0, part(data, 150, 10), big).delivered == 50);
    CHECK(read_all(buf, pool) == slice(data, 150, 50));
    CHECK(pool.bytes_in_use() == 0);
}

// Ranges beyond the inline few take chunks of the pool, as the bytes do: a segment
// whose island finds no chunk for its range is refused with nothing changed, and
// every chunk comes back once the holes are filled.
TEST_CASE("recv_buffer_many_islands_spill_ranges_into_pool_chunks_and_give_them_back")
{
    constexpr std::size_t C = small_pool::chunk_size;
    constexpr std::size_t islands = tcpx::tcp::detail::range_table::inline_slots + 3 * (C / sizeof(range));
    // The pool holds the data of `held` islands and two chunks of ranges: the inline
    // slots and two chunks' worth of ranges are held, and the next island, which needs a
    // third chunk for its range, is refused whole.
    const std::size_t held = tcpx::tcp::detail::range_table::inline_slots + 2 * (C / sizeof(range));
    const auto data = pattern(64 * (islands + 1));
    const std::size_t data_chunks = (64 * held + 32 + C - 1) / C;  // [0, 64 * held + 32)
    small_pool pool{(data_chunks + 2) * C};
    recv_buffer buf;
    std::size_t k = 1;
    for (; k <= islands; ++k) {  // [64k, 64k + 32): one island each
        const auto r = buf.write(pool, 64 * k, part(data, 64 * k, 32), big);
        if (!r.stored) break;
    }
    CHECK(k == held + 1);
    CHECK(ranges(buf).size() == held);
    CHECK(pool.bytes_in_use() == pool.max_bytes());
    const auto before = ranges(buf);
    CHECK_FALSE(buf.write(pool, 64 * k, part(data, 64 * k, 32), big).stored);
    CHECK(ranges(buf) == before);
    // Text touching a held island needs no new range: taken even with the pool dry.
    CHECK(buf.write(pool, 64 * held + 32, part(data, 64 * held + 32, 8), big).stored);
    CHECK(ranges(buf).back() == range{static_cast<std::uint32_t>(64 * held), static_cast<std::uint32_t>(64 * held + 40)});
    // Fill every hole from the front, reading as we go: everything comes out exact.
    std::vector<std::uint8_t> got;
    for (std::size_t j = 0; j < held; ++j) {
        const std::size_t at = j == 0 ? 0 : 64 * j + 32;
        const std::size_t len = j == 0 ? 64 : 32;
        CHECK(buf.write(pool, at - got.size(), part(data, at, len), big).stored);
        const auto out = read_all(buf, pool);
        got.insert(got.end(), out.begin(), out.end());
    }
    CHECK(got == slice(data, 0, 64 * held + 40));
    CHECK(buf.empty());
    CHECK(pool.bytes_in_use() == 0);
}

// RFC 9293 §3.10.7.4 (SHLD-31) and seventh step together, under reordering,
// duplication and overlap: a stream cut into segments and delivered in random order,
// with reads of random sizes in between, comes out exactly; a bitmap model predicts
// every delivered count, every held range and every refusal at max_ranges.
TEST_CASE_TEMPLATE("recv_buffer_random_reordered_segments_reproduce_stream", Pool, small_pool,
                   chunk_pool)
{
    constexpr std::size_t C = Pool::chunk_size;
    constexpr std::size_t spill = tcpx::tcp::detail::range_table::spill_chunks;  // chunks ranges may take
    const bool small = C < 1024;
    const std::uint64_t seeds = small ? 300 : 6;
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
        INFO("seed " << seed << " chunk_size " << C);
        rng rnd{seed * 0x2545F4914F6CDD1Dull};
        const std::size_t total = small ? 3000 + rnd(20000) : 200'000 + rnd(200'000);
        const std::size_t capacity = small ? C / 2 + rnd(12 * C) : 8192 + rnd(6 * C);
        const std::size_t mss = small ? 1 + rnd(2 * C) : 536 + rnd(8000);
        const auto stream = pattern(total, seed);
        Pool pool{capacity + (2 + spill) * C};  // enough: the bound is tested elsewhere
        recv_buffer buf;

        std::vector<bool> held(total, false);  // the model, absolute positions
        std::size_t read_at = 0, rcv_nxt = 0, held_end = 0;
        struct segment { std::size_t begin, end; };
        std::vector<segment> queue;  // in flight, next to arrive at the front
        std::size_t cut = 0;         // stream up to here has been cut into segments

        while (read_at < total) {
            if (rnd(3) == 0 && buf.readable() > 0) {  // the application reads a piece
                const std::size_t n = 1 + rnd(std::min(buf.readable(), 3 * mss));
                if (rnd(2) == 0) {
                    std::vector<std::uint8_t> out(n);
                    REQUIRE(buf.read(pool, out) == n);
                    REQUIRE(out == slice(stream, read_at, n));
                } else {
                    std::vector<std::uint8_t> seen;
                    buf.peek_runs(pool, [&](std::span<const std::uint8_t> run) {
                        seen.insert(seen.end(), run.begin(), run.end());
                        return seen.size() < n;
                    });
                    REQUIRE(seen.size() >= n);
                    seen.resize(n);
                    REQUIRE(seen == slice(stream, read_at, n));
                    buf.consume(pool, n);
                }
                read_at += n;
                REQUIRE(pool.bytes_in_use() <= ((buf.extent() + C - 1) / C + 1 + spill) * C);
            }
            if (rcv_nxt == total)
                continue;

            // The sender cuts new segments up to the window, or, when everything
            // in flight is gone, resends from RCV.NXT (its view of SND.UNA).
            const std::size_t window_end = std::min(total, rcv_nxt + capacity);
            if (queue.empty() && cut >= window_end)
                cut = rcv_nxt;
            if (cut < window_end && (queue.empty() || rnd(2) == 0)) {
                const std::size_t len = std::min(1 + rnd(mss), total - cut);
                queue.push_back({cut, cut + len});
                cut += len;
                continue;
            }
            // Reordering: usually the oldest in flight arrives next, else one of
            // the next few overtakes it.
            const auto pick = queue.begin() + static_cast<std::ptrdiff_t>(
                rnd(2) == 0 ? 0 : rnd(std::min<std::size_t>(queue.size(), 7)));
            const segment s = *pick;
            queue.erase(pick);
            if (rnd(10) == 0)  // a duplicate, arriving later
                queue.push_back(s);
            if (rnd(10) == 0 && s.end < total) {  // an overlapping re-cut of nearby bytes
                const std::size_t b = s.begin + rnd(s.end - s.begin);
                queue.push_back({b, std::min(total, s.end + 1 + rnd(mss))});
            }

            // The caller's trim (RFC 9293 §3.10.7.4, first): nothing before RCV.NXT;
            // the right edge is trimmed only half the time, write cuts the rest.
            const std::size_t begin = std::max(s.begin, rcv_nxt);
            std::size_t end = s.end;
            if (rnd(2) == 0)
                end = std::min(end, read_at + capacity);
            if (begin >= end)
                continue;
            const std::size_t kept_end = std::min(end, read_at + capacity);

            // Model: the in-order end and the ranges beyond it if this text were kept.
            std::size_t nxt = rcv_nxt;
            std::size_t runs = 0;
            bool previous = true;  // the byte before RCV.NXT is in order
            for (std::size_t p = rcv_nxt; p < std::max(held_end, kept_end); ++p) {
                const bool h = held[p] || (p >= begin && p < kept_end);
                if (h && p == nxt)
                    ++nxt;
                else if (h && !previous)
                    ++runs;
                previous = h;
            }
            const bool expect_stored = begin >= kept_end || runs <= recv_buffer::max_ranges<C>;

            const auto r = buf.write(pool, begin - rcv_nxt, part(stream, begin, end - begin),
                                     capacity);
            REQUIRE(r.stored == expect_stored);
            if (r.stored && begin < kept_end) {
                for (std::size_t p = begin; p < kept_end; ++p)
                    held[p] = true;
                held_end = std::max(held_end, kept_end);
                REQUIRE(r.delivered == nxt - rcv_nxt);
                rcv_nxt = nxt;
            } else {
                REQUIRE(r.delivered == 0);
            }
            REQUIRE(buf.readable() == rcv_nxt - read_at);

            std::vector<range> expect;  // the held ranges, as the model sees them
            for (std::size_t p = rcv_nxt; p < held_end; ++p) {
                if (!held[p])
                    continue;
                const std::size_t b = p;
                while (p < held_end && held[p])
                    ++p;
                expect.push_back({static_cast<std::uint32_t>(b - read_at),
                                  static_cast<std::uint32_t>(p - read_at)});
            }
            REQUIRE(ranges(buf) == expect);
            REQUIRE(buf.held_out_of_order() == static_cast<std::size_t>(std::count(
                        held.begin() + static_cast<std::ptrdiff_t>(rcv_nxt),
                        held.begin() + static_cast<std::ptrdiff_t>(held_end), true)));
            REQUIRE(pool.bytes_in_use() <= ((buf.extent() + C - 1) / C + 1 + spill) * C);
        }
        CHECK(buf.empty());
        CHECK(pool.bytes_in_use() == 0);
        buf.clear(pool);
    }
}

// stage(): text copied past the readable bytes (summed on the way) stays unreadable;
// release_unheld_chunks() gives its chunks back exactly, and write() with `placed`
// commits it without copying. With a head offset inside the first chunk and text that
// crosses into new chunks.
TEST_CASE("recv_buffer_stage_release_and_commit_with_a_head_offset")
{
    tcpx::tcp::basic_chunk_pool<64> pool{1 << 20};
    tcpx::tcp::recv_buffer b;
    std::vector<std::uint8_t> a(100), d(77);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(200 + i);
    CHECK(b.write(pool, 0, a, 1 << 20).delivered == 100);
    std::vector<std::uint8_t> out(37);
    CHECK(b.read(pool, out) == 37);  // head offset 37, 63 readable, two chunks
    const auto before = pool.bytes_in_use();
    tcpx::wire::checksum_accumulator sum;
    REQUIRE(b.stage(pool, d, 1 << 20, sum));
    CHECK(b.readable() == 63);
    tcpx::wire::checksum_accumulator reference;
    reference.add(d);
    CHECK(sum.sum() == reference.sum());
    b.release_unheld_chunks(pool);
    CHECK(pool.bytes_in_use() == before);
    tcpx::wire::checksum_accumulator again;
    REQUIRE(b.stage(pool, d, 1 << 20, again));
    CHECK(b.write(pool, 0, d, 1 << 20, d.size()).delivered == 77);
    b.release_unheld_chunks(pool);  // nothing beyond what is held: keeps every chunk
    std::vector<std::uint8_t> all(200);
    CHECK(b.read(pool, all) == 140);
    CHECK(std::equal(a.begin() + 37, a.end(), all.begin()));
    CHECK(std::equal(d.begin(), d.end(), all.begin() + 63));
    CHECK(pool.bytes_in_use() == 0);
}

TEST_CASE("recv_buffer_stage_declines_with_ranges_held_or_no_room")
{
    tcpx::tcp::basic_chunk_pool<64> pool{128};  // two chunks at most
    tcpx::tcp::recv_buffer b;
    const std::vector<std::uint8_t> d(50, 7);
    tcpx::wire::checksum_accumulator sum;
    CHECK(b.write(pool, 10, d, 1 << 20).stored);  // out of order: a range is held
    CHECK_FALSE(b.stage(pool, d, 1 << 20, sum));
    b.clear(pool);
    CHECK_FALSE(b.stage(pool, d, 40, sum));           // beyond capacity
    const std::vector<std::uint8_t> big(200, 1);
    const auto refused = pool.refused_at_limit();
    CHECK_FALSE(b.stage(pool, big, 1 << 20, sum));    // the pool has two chunks, not four
    CHECK(pool.refused_at_limit() == refused);        // declined without asking
    CHECK(pool.bytes_in_use() == 0);
}

TEST_CASE("out_of_order_charged_by_the_chunks_it_pins_and_refunded_when_delivered")
{
    // One byte far beyond RCV.NXT pins every chunk up to it (holes included): that is
    // what the pool's out-of-order share is charged, and in-order delivery refunds it.
    small_pool pool{64 * 64};
    recv_buffer buf;
    const auto data = pattern(640);
    REQUIRE(buf.write(pool, 639, part(data, 639, 1), big).stored);
    CHECK(buf.out_of_order_chunks() == 10);
    CHECK(pool.out_of_order_in_use() == 10 * 64);
    const auto r = buf.write(pool, 0, part(data, 0, 639), big);
    CHECK(r.delivered == 640);
    CHECK(buf.out_of_order_chunks() == 0);
    CHECK(pool.out_of_order_in_use() == 0);
    CHECK(read_all(buf, pool) == data);
    CHECK(pool.bytes_in_use() == 0);
}

TEST_CASE("out_of_order_beyond_the_share_is_refused_and_in_order_data_still_stored")
{
    // RFC 1122 §4.2.2.20: queueing out of order is a SHOULD; past the pool's share it is
    // refused (refusal::share), changing nothing, while in-order text takes any chunk.
    small_pool pool{64 * 64};
    pool.set_out_of_order_limit(4 * 64);
    recv_buffer held, other;
    const auto data = pattern(64 * 40);
    REQUIRE(held.write(pool, 200, part(data, 200, 1), big).stored);  // pins chunks 0..3
    CHECK(held.out_of_order_chunks() == 4);
    const auto refused = other.write(pool, 100, part(data, 100, 1), big);
    CHECK_FALSE(refused.stored);
    CHECK(refused.why == recv_buffer::refusal::share);
    CHECK(other.empty());
    CHECK(pool.refused_out_of_order() == 1);
    // In order, the same buffer stores 2 KiB: the share does not bind it.
    const auto in_order = other.write(pool, 0, part(data, 0, 2048), big);
    CHECK(in_order.stored);
    CHECK(in_order.delivered == 2048);
    CHECK(pool.out_of_order_in_use() == 4 * 64);
}

TEST_CASE("out_of_order_dropped_gives_back_its_chunks_and_keeps_what_is_in_order")
{
    small_pool pool{64 * 64};
    recv_buffer buf;
    const auto data = pattern(1000);
    REQUIRE(buf.write(pool, 0, part(data, 0, 100), big).delivered == 100);
    REQUIRE(buf.write(pool, 500, part(data, 600, 50), big).stored);
    REQUIRE(buf.write(pool, 800, part(data, 900, 50), big).stored);
    CHECK(buf.out_of_order_chunks() == 13);  // chunks 2..14, past the two holding RCV.NXT
    CHECK(buf.drop_out_of_order(pool) == 100);
    CHECK_FALSE(buf.has_out_of_order());
    CHECK(buf.out_of_order_chunks() == 0);
    CHECK(pool.out_of_order_in_use() == 0);
    CHECK(pool.bytes_in_use() == 2 * 64);  // the 100 readable bytes
    CHECK(read_all(buf, pool) == slice(data, 0, 100));
    CHECK(pool.bytes_in_use() == 0);
}

TEST_CASE("out_of_order_charge_includes_spilled_ranges_and_clear_refunds_all")
{
    // Ranges past the inline slots live in pool chunks: out-of-order data pins those too.
    small_pool pool{64 * 1024};
    recv_buffer buf;
    const auto data = pattern(64 * 100);
    const std::size_t islands = tcpx::tcp::detail::range_table::inline_slots + 1;
    for (std::size_t k = 0; k < islands; ++k)
        REQUIRE(buf.write(pool, 10 + 20 * k, part(data, 10 + 20 * k, 5), big).stored);
    const std::size_t chain = (10 + 20 * (islands - 1) + 5 + 63) / 64;
    CHECK(buf.out_of_order_chunks() == chain + 1);
    buf.clear(pool);
    CHECK(pool.out_of_order_in_use() == 0);
    CHECK(pool.bytes_in_use() == 0);
}
