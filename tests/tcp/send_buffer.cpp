// Tests for tcpx/tcp/send_buffer.hpp: bytes from SND.UNA onward (RFC 9293 §3.3.1).
// Most cases run with 64-byte chunks, so a few hundred bytes cross many chunk
// boundaries, and again with the stack's 16 KiB chunks.
#include <tcpx/tcp/send_buffer.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <vector>

using tcpx::tcp::basic_chunk_pool;
using tcpx::tcp::chunk_pool;
using tcpx::tcp::send_buffer;

// A control block holds one of these per connection (DESIGN.md: <= 1 KiB idle).
static_assert(sizeof(send_buffer) <= 40);

namespace {

using small_pool = basic_chunk_pool<64>;

// Deterministic bytes with no short period, so a misplaced run shows.
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

template <class Pool>
std::vector<std::uint8_t> collect(send_buffer& buf, Pool& pool, std::size_t offset,
                                  std::size_t len, std::size_t* runs = nullptr)
{
    std::vector<std::uint8_t> out;
    buf.for_each_run(pool, offset, len, [&](std::span<const std::uint8_t> run) {
        CHECK(!run.empty());
        out.insert(out.end(), run.begin(), run.end());
        if (runs)
            ++*runs;
    });
    return out;
}

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t at, std::size_t n)
{
    return {v.begin() + static_cast<std::ptrdiff_t>(at),
            v.begin() + static_cast<std::ptrdiff_t>(at + n)};
}

}  // namespace

// RFC 9293 §3.3.1: the queue holds what SEND gave, in order, whatever the chunking.
TEST_CASE_TEMPLATE("send_buffer_append_across_chunk_boundaries_keeps_bytes_in_order", Pool,
                   small_pool, chunk_pool)
{
    constexpr std::size_t C = Pool::chunk_size;
    Pool pool{64 * C};
    send_buffer buf;
    const auto data = pattern(3 * C + C / 2);
    std::size_t given = 0;
    for (std::size_t piece : {std::size_t{1}, C - 1, std::size_t{2}, C + 3, std::size_t{7}}) {
        piece = std::min(piece, data.size() - given);
        CHECK(buf.append(pool, std::span{data}.subspan(given, piece), 1 << 30) == piece);
        given += piece;
    }
    CHECK(buf.append(pool, std::span{data}.subspan(given), 1 << 30) == data.size() - given);
    CHECK(buf.size() == data.size());
    CHECK(pool.bytes_in_use() == 4 * C);  // ceil(3.5): chunks drawn only as needed
    CHECK(collect(buf, pool, 0, data.size()) == data);
    buf.clear(pool);
    CHECK(pool.bytes_in_use() == 0);
}

// DESIGN.md: the configured send buffer size is a limit on what append takes.
TEST_CASE("send_buffer_append_stops_at_limit")
{
    small_pool pool{64 * 64};
    send_buffer buf;
    const auto data = pattern(500);
    CHECK(buf.append(pool, data, 300) == 300);
    CHECK(buf.size() == 300);
    CHECK(buf.append(pool, std::span{data}.subspan(300), 300) == 0);
    CHECK(buf.append(pool, std::span{data}.subspan(300), 100) == 0);  // limit below size
    buf.consume(pool, 50);
    CHECK(buf.append(pool, std::span{data}.subspan(300), 300) == 50);
    CHECK(collect(buf, pool, 0, 300) == slice(data, 50, 300));
    buf.clear(pool);
}

// DESIGN.md: at the pool's bound append takes what fits and refuses cleanly.
TEST_CASE("send_buffer_append_stops_when_pool_refuses")
{
    small_pool pool{2 * 64};
    send_buffer buf;
    const auto data = pattern(200);
    CHECK(buf.append(pool, data, 1000) == 128);
    CHECK(pool.refused_at_limit() == 1);
    CHECK(collect(buf, pool, 0, 128) == slice(data, 0, 128));
    buf.consume(pool, 64);  // an ACK frees the first chunk
    CHECK(buf.append(pool, std::span{data}.subspan(128), 1000) == 64);
    CHECK(collect(buf, pool, 0, 128) == slice(data, 64, 128));
    buf.clear(pool);
    CHECK(pool.bytes_in_use() == 0);
}

// RFC 6298 §5 / RFC 6675 §5: a segment may be (re)sent from any offset; every
// [offset, offset + len) must come out exactly, in at most one run per chunk.
TEST_CASE("send_buffer_for_each_run_at_every_offset_reproduces_bytes")
{
    small_pool pool{64 * 64};
    send_buffer buf;
    const auto data = pattern(400);
    REQUIRE(buf.append(pool, data, 1000) == 400);
    buf.consume(pool, 37);  // the head chunk starts part-way
    const auto live = slice(data, 37, 363);
    for (std::size_t offset = 0; offset <= live.size(); ++offset) {
        for (std::size_t len = 0; offset + len <= live.size(); len += 1 + len / 3) {
            std::size_t runs = 0;
            REQUIRE(collect(buf, pool, offset, len, &runs) == slice(live, offset, len));
            const std::size_t first = (37 + offset) / 64;
            const std::size_t last = len == 0 ? first : (37 + offset + len - 1) / 64;
            REQUIRE(runs == (len == 0 ? 0 : last - first + 1));
        }
    }
    // Backwards too: a cursor ahead of the offset must not be used.
    for (std::size_t offset = live.size(); offset-- > 0;)
        REQUIRE(collect(buf, pool, offset, 1) == slice(live, offset, 1));
    buf.clear(pool);
    CHECK(pool.bytes_in_use() == 0);
}

// RFC 9293 §3.10.7.4, fifth: SND.UNA advances with each ACK and acknowledged bytes
// leave; meanwhile new segments go out from SND.NXT and, now and then, the RTO
// (RFC 6298 §5.4) or fast retransmit (RFC 5681 §3.2) resends from SND.UNA.
TEST_CASE_TEMPLATE("send_buffer_interleaved_send_ack_retransmit_keeps_bytes", Pool, small_pool,
                   chunk_pool)
{
    constexpr std::size_t C = Pool::chunk_size;
    const std::size_t total = 40 * C + 123;
    const std::size_t limit = 6 * C + 17;
    const std::size_t mss = C < 1460 ? C / 3 + 5 : 1460;
    Pool pool{limit + 2 * C};
    send_buffer buf;
    const auto stream = pattern(total, 7);
    std::uint64_t x = 12345;
    const auto rnd = [&x](std::size_t n) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return static_cast<std::size_t>(x % n);
    };
    std::size_t written = 0;  // stream bytes given to append
    std::size_t una = 0;      // stream offset of SND.UNA (buffer offset 0)
    std::size_t nxt = 0;      // stream offset of SND.NXT
    while (una < total) {
        INFO("una " << una << " nxt " << nxt << " written " << written);
        if (written < total) {
            const std::size_t want = std::min(total - written, 1 + rnd(3 * mss));
            written += buf.append(pool, std::span{stream}.subspan(written, want), limit);
        }
        REQUIRE(buf.size() == written - una);
        REQUIRE(buf.size() <= limit);
        for (int burst = 0; burst < 3 && nxt < written; ++burst) {
            const std::size_t len = std::min(mss, written - nxt);
            REQUIRE(collect(buf, pool, nxt - una, len) == slice(stream, nxt, len));
            nxt += len;
        }
        if (rnd(7) == 0 && nxt > una) {  // retransmission from SND.UNA
            const std::size_t len = std::min(mss, nxt - una);
            REQUIRE(collect(buf, pool, 0, len) == slice(stream, una, len));
        }
        const std::size_t acked = nxt == una ? 0 : rnd(nxt - una + 1);
        buf.consume(pool, acked);
        una += acked;
        REQUIRE(pool.bytes_in_use() <= ((buf.size() + C - 1) / C + 1) * C);
    }
    CHECK(buf.size() == 0);
    CHECK(pool.bytes_in_use() == 0);  // an idle connection holds no chunk
}

// DESIGN.md: an idle connection costs only its control block — once everything is
// acknowledged, no chunk stays with the connection.
TEST_CASE("send_buffer_consume_to_zero_releases_every_chunk")
{
    small_pool pool{64 * 64};
    send_buffer buf;
    const auto data = pattern(64 * 5);  // exactly five full chunks
    REQUIRE(buf.append(pool, data, 1000) == data.size());
    CHECK(pool.bytes_in_use() == 5 * 64);
    buf.consume(pool, 64);  // exactly one chunk acknowledged
    CHECK(pool.bytes_in_use() == 4 * 64);
    buf.consume(pool, 100);
    CHECK(pool.bytes_in_use() == 3 * 64);
    buf.consume(pool, buf.size());
    CHECK(buf.size() == 0);
    CHECK(pool.bytes_in_use() == 0);
    // and it starts over cleanly
    REQUIRE(buf.append(pool, data, 1000) == data.size());
    CHECK(collect(buf, pool, 0, data.size()) == data);
    buf.consume(pool, 0);
    CHECK(buf.size() == data.size());
    buf.clear(pool);
    CHECK(pool.bytes_in_use() == 0);
}

// A connection table may move control blocks; the data goes with the buffer.
TEST_CASE("send_buffer_move_takes_the_chunks_and_leaves_the_source_empty")
{
    small_pool pool{64 * 64};
    send_buffer a;
    const auto data = pattern(150);
    REQUIRE(a.append(pool, data, 1000) == 150);
    send_buffer b{std::move(a)};
    CHECK(a.size() == 0);  // NOLINT(bugprone-use-after-move)
    CHECK(collect(b, pool, 0, 150) == data);
    send_buffer c;
    c = std::move(b);
    CHECK(b.size() == 0);  // NOLINT(bugprone-use-after-move)
    CHECK(collect(c, pool, 10, 100) == slice(data, 10, 100));
    c.clear(pool);
    CHECK(pool.bytes_in_use() == 0);
}
