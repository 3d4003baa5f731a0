// ip::reassembler (ip/reassembly.hpp) on its own: fragments in every order, duplicates,
// overlaps, malformed ones, the timeout and the memory bound. The stack's use of it
// (IPv4 headers, ICMP time exceeded) is tests/tcp/ip_fragments.cpp.
//
// Have open: RFC 791 §3.2, RFC 815, RFC 5722, RFC 8200 §4.5, RFC 1122 §3.3.2.
#include <tcpx/ip/reassembly.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

using namespace tcpx;
using namespace std::chrono_literals;
using ip::fragment_outcome;

namespace {

using bytes = std::vector<std::uint8_t>;

constexpr instant t0{};

ip::fragment_key key_n(std::uint32_t id)
{
    ip::fragment_key k;
    k.protocol = 6;
    k.identification = id;
    k.source[0] = 10;
    k.destination[0] = 10;
    k.destination[3] = 1;
    return k;
}

/// A payload whose byte i is i mod 251, and a header of 20 bytes of 0x45.
bytes payload(std::size_t n)
{
    bytes p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(i % 251);
    return p;
}
const bytes header(20, 0x45);

struct piece {
    std::size_t offset;
    std::size_t length;
};

/// Cuts `n` bytes into pieces of `size` (a multiple of 8), the last one shorter.
std::vector<piece> cut(std::size_t n, std::size_t size)
{
    std::vector<piece> out;
    for (std::size_t at = 0; at < n; at += size) out.push_back({at, std::min(size, n - at)});
    return out;
}

fragment_outcome offer(ip::reassembler& r, const ip::fragment_key& k, const bytes& data, piece p, std::size_t total,
                       instant now = t0)
{
    const bool more = p.offset + p.length < total;
    return r.add(k, p.offset, more, p.offset == 0 ? std::span<const std::uint8_t>{header} : std::span<const std::uint8_t>{},
                 std::span{data}.subspan(p.offset, p.length), now);
}

/// Offers every piece in the order given; checks that only the last completes and that
/// the datagram is header + data.
void expect_reassembled(const std::vector<piece>& order, std::size_t total)
{
    ip::reassembler r{4, 30s};
    const bytes data = payload(total);
    for (std::size_t i = 0; i < order.size(); ++i) {
        const fragment_outcome o = offer(r, key_n(7), data, order[i], total);
        CHECK(o == (i + 1 == order.size() ? fragment_outcome::complete : fragment_outcome::incomplete));
    }
    const std::span<std::uint8_t> whole = r.complete();
    REQUIRE(whole.size() == header.size() + total);
    CHECK(r.complete_header_length() == header.size());
    CHECK(std::equal(header.begin(), header.end(), whole.begin()));
    CHECK(std::equal(data.begin(), data.end(), whole.begin() + static_cast<std::ptrdiff_t>(header.size())));
    CHECK(r.counters().reassembled == 1);
    r.release_complete();
    CHECK(r.datagrams_held() == 0);
}

}  // namespace

TEST_CASE("reassembly_fragments_in_order_make_the_datagram")
{
    // RFC 791 §3.2: the pieces put back at their offsets, the first one's header in front.
    expect_reassembled(cut(3000, 1480), 3000);
}

TEST_CASE("reassembly_fragments_reversed_make_the_datagram")
{
    // RFC 815: the last fragment (MF clear) may come first; it sets the length.
    auto order = cut(5000, 1480);
    std::reverse(order.begin(), order.end());
    expect_reassembled(order, 5000);
}

TEST_CASE("reassembly_fragments_shuffled_make_the_datagram")
{
    // Any order: twenty seeds over a datagram of 64 fragments of 8 to 1,000 bytes.
    for (unsigned seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);  // replay: the seed of std::mt19937 below
        std::mt19937 rng{seed};
        std::vector<piece> order;
        std::size_t at = 0;
        for (int i = 0; i < 64; ++i) {
            const std::size_t n = (std::uniform_int_distribution<std::size_t>{1, 125}(rng)) * 8;
            order.push_back({at, n});
            at += n;
        }
        order.back().length -= 3;  // the last one need not be a multiple of 8
        const std::size_t total = at - 3;
        std::shuffle(order.begin(), order.end(), rng);
        expect_reassembled(order, total);
    }
}

TEST_CASE("reassembly_largest_datagram_fits_and_one_byte_more_does_not")
{
    // RFC 791 §3.1: 16 bits of length; a fragment past 65,535 bytes is the "ping of death".
    expect_reassembled(cut(ip::reassembler::max_payload, 8000), ip::reassembler::max_payload);
    ip::reassembler r{1, 30s};
    const bytes data(16);
    CHECK(r.add(key_n(1), 65'528, false, {}, data, t0) == fragment_outcome::too_large);
    CHECK(r.datagrams_held() == 0);
    CHECK(r.counters().malformed == 1);
}

TEST_CASE("reassembly_exact_duplicate_is_dropped_alone")
{
    // RFC 8200 §4.5: an exact copy the network made is dropped; the datagram goes on.
    ip::reassembler r{2, 30s};
    const bytes data = payload(3000);
    const auto pieces = cut(3000, 1480);
    CHECK(offer(r, key_n(1), data, pieces[0], 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, key_n(1), data, pieces[0], 3000) == fragment_outcome::duplicate);
    CHECK(offer(r, key_n(1), data, pieces[2], 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, key_n(1), data, pieces[2], 3000) == fragment_outcome::duplicate);
    CHECK(offer(r, key_n(1), data, pieces[1], 3000) == fragment_outcome::complete);
    CHECK(r.counters().duplicates == 2);
}

TEST_CASE("reassembly_overlapping_fragment_drops_the_whole_datagram")
{
    // RFC 5722 §3: a fragment over bytes already held (not an exact copy) drops the
    // datagram and every fragment of it; later pieces start a new one.
    ip::reassembler r{2, 30s};
    const bytes data = payload(3000);
    CHECK(offer(r, key_n(1), data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, key_n(1), data, {1472, 1480}, 3000) == fragment_outcome::overlap);
    CHECK(r.datagrams_held() == 0);
    CHECK(r.counters().overlaps == 1);
    // The same offsets with other bytes are no duplicate either.
    bytes other = data;
    other[10] ^= 0xff;
    CHECK(offer(r, key_n(2), data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, key_n(2), other, {0, 1480}, 3000) == fragment_outcome::overlap);
    CHECK(r.datagrams_held() == 0);
}

TEST_CASE("reassembly_fragment_with_more_to_come_not_a_multiple_of_8_is_dropped")
{
    // RFC 791 §3.2, RFC 8200 §4.5: only the last fragment's length is free. An empty
    // fragment carries nothing and is dropped the same way.
    ip::reassembler r{2, 30s};
    const bytes data(100);
    CHECK(r.add(key_n(1), 0, true, header, std::span{data}.first(100), t0) == fragment_outcome::bad_length);
    CHECK(r.add(key_n(1), 8, true, {}, std::span<const std::uint8_t>{}, t0) == fragment_outcome::bad_length);
    CHECK(r.datagrams_held() == 0);
}

TEST_CASE("reassembly_second_end_or_fragment_past_the_end_drops_the_datagram")
{
    // Once a fragment without MF set the length, another end, or data past it, cannot be.
    ip::reassembler r{2, 30s};
    const bytes data = payload(3000);
    CHECK(offer(r, key_n(1), data, {1480, 1520}, 3000) == fragment_outcome::incomplete);
    CHECK(r.add(key_n(1), 0, false, header, std::span{data}.first(1480), t0) == fragment_outcome::inconsistent);
    CHECK(r.datagrams_held() == 0);
    CHECK(offer(r, key_n(2), data, {1480, 1520}, 3000) == fragment_outcome::incomplete);
    CHECK(r.add(key_n(2), 2992, true, {}, std::span{data}.first(16), t0) == fragment_outcome::inconsistent);
    CHECK(r.datagrams_held() == 0);
}

TEST_CASE("reassembly_datagrams_are_kept_apart_by_their_keys")
{
    // RFC 791 §3.2: the same identification from another source, or of another
    // protocol, is another datagram.
    ip::reassembler r{4, 30s};
    const bytes data = payload(3000);
    ip::fragment_key other_source = key_n(1);
    other_source.source[3] = 9;
    ip::fragment_key other_protocol = key_n(1);
    other_protocol.protocol = 1;
    CHECK(offer(r, key_n(1), data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, other_source, data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, other_protocol, data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    CHECK(r.datagrams_held() == 3);
}

TEST_CASE("reassembly_timeout_drops_the_datagram_and_reports_its_first_fragment")
{
    // RFC 1122 §3.3.2: a datagram not whole within the timeout is dropped; the first
    // fragment (when it came) is what the time exceeded message quotes.
    ip::reassembler r{4, 30s};
    const bytes data = payload(4000);
    CHECK(offer(r, key_n(1), data, {0, 1480}, 4000) == fragment_outcome::incomplete);
    CHECK(offer(r, key_n(2), data, {1480, 1480}, 4000, t0 + 10s) == fragment_outcome::incomplete);
    CHECK(r.next_deadline() == t0 + 30s);
    std::vector<std::size_t> reported;
    r.expire(t0 + 29s, [&](const ip::fragment_key&, std::span<const std::uint8_t> q) { reported.push_back(q.size()); });
    CHECK(reported.empty());
    CHECK(r.datagrams_held() == 2);
    r.expire(t0 + 30s, [&](const ip::fragment_key& k, std::span<const std::uint8_t> q) {
        CHECK(k == key_n(1));
        reported.push_back(q.size());
    });
    REQUIRE(reported.size() == 1);
    CHECK(reported[0] == header.size() + 1480);
    CHECK(r.next_deadline() == t0 + 40s);
    // The second never had its first fragment: dropped without a report.
    r.expire(t0 + 40s, [&](const ip::fragment_key&, std::span<const std::uint8_t>) { FAIL("no first fragment"); });
    CHECK(r.datagrams_held() == 0);
    CHECK(r.counters().timed_out == 2);
    CHECK(r.next_deadline() == never);
}

TEST_CASE("reassembly_full_drops_the_oldest_datagram_for_a_new_one")
{
    // Memory is max_datagrams buffers: a flood of fragments that never complete evicts
    // the oldest, so new datagrams still get through (counted).
    ip::reassembler r{3, 30s};
    const bytes data = payload(3000);
    for (std::uint32_t id = 1; id <= 3; ++id) CHECK(offer(r, key_n(id), data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, key_n(4), data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    CHECK(r.counters().evicted == 1);
    CHECK(r.datagrams_held() == 3);
    // Datagram 1 went: its rest starts a new, incomplete one; 4 completes.
    CHECK(offer(r, key_n(1), data, {1480, 1520}, 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, key_n(4), data, {1480, 1520}, 3000) == fragment_outcome::complete);
    CHECK(r.capacity_bytes() == 3 * (ip::reassembler::header_room + ip::reassembler::max_payload));
}

TEST_CASE("reassembly_with_no_slots_takes_nothing")
{
    // config::reassembly_datagrams 0: reassembly off.
    ip::reassembler r{0, 30s};
    const bytes data(8);
    CHECK(r.add(key_n(1), 0, true, header, data, t0) == fragment_outcome::disabled);
    CHECK(r.capacity_bytes() == 0);
}

TEST_CASE("reassembly_ipv6_datagram_has_its_own_timeout")
{
    // RFC 8200 §4.5: 60 s for IPv6; IPv4's is the host's choice (30 s, as Linux).
    ip::reassembler r{4, 30s, 60s};
    const bytes data = payload(3000);
    ip::fragment_key k6 = key_n(1);
    k6.family = 6;
    k6.protocol = 0;
    CHECK(offer(r, key_n(1), data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    CHECK(offer(r, k6, data, {0, 1480}, 3000) == fragment_outcome::incomplete);
    r.expire(t0 + 30s, [](const ip::fragment_key& k, std::span<const std::uint8_t>) { CHECK(k.family == 4); });
    CHECK(r.datagrams_held() == 1);
    r.expire(t0 + 60s, [](const ip::fragment_key& k, std::span<const std::uint8_t>) { CHECK(k.family == 6); });
    CHECK(r.datagrams_held() == 0);
}
