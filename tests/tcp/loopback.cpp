// In-memory devices: loopback_link and loopback_switch move packets byte-exact and
// in order, bound their queues and count every drop; impaired<D> loses, duplicates,
// corrupts, delays, serialises and reorders exactly as configured, and the same seed
// replays the same run. The device rules checked are the tcpx::device table in
// concepts.hpp; addresses and header fields follow RFC 791 §3.1.
#include <tcpx/device/loopback.hpp>

#include <doctest/doctest.h>

#include <tcpx/device/detail/packet_ring.hpp>
#include <tcpx/device/impaired.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <span>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using tcpx::duration;
using tcpx::instant;
using tcpx::devices::impaired;
using tcpx::devices::impairment;
using tcpx::devices::impairment_config;
using tcpx::devices::loopback;
using tcpx::devices::loopback_config;
using tcpx::devices::loopback_link;
using tcpx::devices::loopback_switch;

using bytes = std::vector<std::uint8_t>;

static_assert(tcpx::device<loopback>);
static_assert(tcpx::device<impaired<loopback&>>);
static_assert(tcpx::device<impaired<impaired<loopback&>>>);
// The ends point at each other or at their switch: they must not be copied.
static_assert(!std::is_copy_constructible_v<loopback>);
static_assert(!std::is_move_constructible_v<loopback_link>);
static_assert(!std::is_move_constructible_v<loopback_switch>);

constexpr instant at(std::int64_t us) { return instant{duration{us}}; }
constexpr instant t0 = at(1'000'000);  // like the manual clock: 1 s past the epoch

constexpr std::uint32_t ipv4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return std::uint32_t{a} << 24 | std::uint32_t{b} << 16 | std::uint32_t{c} << 8 | d;
}
constexpr std::uint32_t host_a = ipv4(10, 0, 0, 1);
constexpr std::uint32_t host_b = ipv4(10, 0, 0, 2);
constexpr std::uint32_t host_c = ipv4(10, 0, 0, 3);

void put16(std::uint8_t* p, std::uint32_t v)
{
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

// RFC 791 §3.1: a 20-byte IPv4 header (no options; protocol 253, which RFC 3692
// sets aside for experiments), then payload bytes that depend on `seed`, so every
// packet of a test is distinguishable. The header checksum is RFC 1071's.
// p.size() >= 20.
void fill_packet(std::span<std::uint8_t> p, std::uint32_t src, std::uint32_t dst,
                 std::uint32_t seed)
{
    std::memset(p.data(), 0, 20);
    p[0] = 0x45;
    put16(&p[2], static_cast<std::uint32_t>(p.size()));
    put16(&p[4], seed & 0xffff);
    p[8] = 64;
    p[9] = 253;
    put32(&p[12], src);
    put32(&p[16], dst);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) {
        sum += std::uint32_t{p[i]} << 8 | p[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    put16(&p[10], ~sum & 0xffff);
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 20; i < p.size(); ++i) {
        x = x * 1103515245u + 12345u;
        p[i] = static_cast<std::uint8_t>(x >> 24);
    }
}

bytes make_packet(std::size_t size, std::uint32_t seed, std::uint32_t src = host_a,
                  std::uint32_t dst = host_b)
{
    bytes p(size);
    fill_packet(p, src, dst, seed);
    return p;
}

// The stack's side of the device contract: ask for room, write, commit.
template <class D>
bool send(D& d, const bytes& p, instant t)
{
    const auto room = d.transmit_buffer(p.size());
    if (room.size() != p.size()) {
        return false;  // refused (empty), or a device that broke the contract
    }
    std::memcpy(room.data(), p.data(), p.size());
    d.transmit(p.size(), t);
    return true;
}

template <class D>
std::vector<bytes> drain(D& d, instant t, std::size_t n = ~std::size_t{0})
{
    std::vector<bytes> got;
    const std::size_t k = d.receive(
        t, [&](std::span<const std::uint8_t> p) { got.emplace_back(p.begin(), p.end()); }, n);
    CHECK(k == got.size());
    return got;
}

// Which seed (payload id in bytes 4..5) a test packet carries.
std::uint32_t id_of(const bytes& p) { return std::uint32_t{p[4]} << 8 | p[5]; }

int bits_differing(const bytes& a, const bytes& b)
{
    REQUIRE(a.size() == b.size());
    int n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        n += std::popcount(static_cast<unsigned>(a[i] ^ b[i]));
    }
    return n;
}

}  // namespace

// ---------------------------------------------------------------------------------
// loopback_link

// concepts.hpp device table: transmit(n, t) sends the first n bytes of the last
// transmit_buffer as one packet; receive calls f with it.
TEST_CASE("loopback_link_packet_sent_on_either_end_arrives_byte_exact_at_the_other")
{
    loopback_link link;
    const bytes p = make_packet(60, 1, host_a, host_b);
    const bytes q = make_packet(1500, 2, host_b, host_a);
    REQUIRE(send(link.end(0), p, t0));
    REQUIRE(send(link.end(1), q, t0));
    CHECK(drain(link.end(0), t0) == std::vector<bytes>{q});
    CHECK(drain(link.end(1), t0) == std::vector<bytes>{p});
    CHECK(link.end(0).counters().packets_sent == 1);
    CHECK(link.end(0).counters().bytes_sent == 60);
    CHECK(link.end(1).counters().packets_received == 1);
    CHECK(link.end(1).counters().bytes_received == 60);
}

// concepts.hpp: receive delivers "in arrival order".
TEST_CASE("loopback_link_receive_keeps_the_order_packets_were_sent_in")
{
    loopback_link link;
    std::vector<bytes> sent;
    for (std::uint32_t i = 0; i < 50; ++i) {
        sent.push_back(make_packet(20 + i * 7, i));
        REQUIRE(send(link.end(0), sent.back(), t0));
    }
    CHECK(drain(link.end(1), t0) == sent);
}

// concepts.hpp: transmit sends only the first n bytes of a larger buffer.
TEST_CASE("loopback_link_transmit_of_fewer_bytes_than_reserved_sends_exactly_n")
{
    loopback_link link;
    const bytes p = make_packet(100, 3);
    const auto room = link.end(0).transmit_buffer(1500);
    REQUIRE(room.size() == 1500);
    std::memcpy(room.data(), p.data(), p.size());
    link.end(0).transmit(p.size(), t0);
    CHECK(drain(link.end(1), t0) == std::vector<bytes>{p});
}

// concepts.hpp: receive calls f "for each of up to n waiting packets".
TEST_CASE("loopback_receive_calls_f_at_most_n_times")
{
    loopback_link link;
    for (std::uint32_t i = 0; i < 5; ++i) {
        REQUIRE(send(link.end(0), make_packet(40, i), t0));
    }
    CHECK(drain(link.end(1), t0, 2).size() == 2);
    CHECK(link.end(1).waiting() == 3);
    const auto rest = drain(link.end(1), t0, 10);
    REQUIRE(rest.size() == 3);
    CHECK(id_of(rest[0]) == 2);
}

// Wrap-around: a record that does not fit before the end of the ring goes back to
// its start; 100k packets of 20..1500 bytes through a 16 KiB ring, in bursts.
TEST_CASE("loopback_ring_wraps_100k_packets_of_20_to_1500_bytes_byte_exact")
{
    loopback_link link{loopback_config{.mtu = 1500, .queue_bytes = 16 * 1024}};
    std::deque<std::pair<std::size_t, std::uint32_t>> in_flight;  // (size, seed)
    std::uint32_t x = 12345;
    auto next = [&x] { return x = x * 1664525u + 1013904223u; };
    std::uint32_t sent = 0, received = 0, mismatches = 0;
    bytes buf;
    while (received < 100'000) {
        const std::uint32_t burst = next() % 24 + 1;
        for (std::uint32_t i = 0; i < burst && sent < 100'000; ++i) {
            const std::size_t size = 20 + next() % 1481;
            const auto room = link.end(0).transmit_buffer(size);
            if (room.empty()) {
                break;  // full: read some first
            }
            fill_packet(room, host_a, host_b, sent);
            link.end(0).transmit(size, t0);
            in_flight.emplace_back(size, sent++);
        }
        const std::size_t take = next() % 20 + 1;
        link.end(1).receive(
            t0,
            [&](std::span<const std::uint8_t> p) {
                if (in_flight.empty()) {  // more arrived than was sent
                    ++mismatches;
                    return;
                }
                const auto [size, seed] = in_flight.front();
                in_flight.pop_front();
                buf.resize(size);
                fill_packet(buf, host_a, host_b, seed);
                mismatches += !std::equal(p.begin(), p.end(), buf.begin(), buf.end());
                ++received;
            },
            take);
    }
    CHECK(mismatches == 0);
    CHECK(link.end(0).counters().packets_sent == 100'000);
    CHECK(link.end(1).counters().packets_received == 100'000);
}

// Bounded queue: a full ring refuses room (empty span) and the drop is counted.
TEST_CASE("loopback_full_ring_refuses_transmit_buffer_and_counts_the_drop")
{
    loopback_link link{loopback_config{.mtu = 1500, .queue_bytes = 8192}};
    const bytes p = make_packet(1000, 1);
    int accepted = 0;
    while (send(link.end(0), p, t0)) {
        ++accepted;
        REQUIRE(accepted < 100);
    }
    CHECK(accepted == 8);  // 8 records of 1008 bytes fill 8192
    CHECK(link.end(0).counters().dropped_queue_full == 1);
    CHECK_FALSE(send(link.end(0), p, t0));
    CHECK(link.end(0).counters().dropped_queue_full == 2);
    CHECK(link.end(0).counters().packets_sent == 8);
    // Reading one makes room for one again.
    CHECK(drain(link.end(1), t0, 1).size() == 1);
    CHECK(send(link.end(0), p, t0));
}

// concepts.hpp: transmit_buffer(n) takes n <= mtu(); more is refused and counted.
TEST_CASE("loopback_transmit_buffer_above_mtu_is_refused_and_counted")
{
    loopback_link link{loopback_config{.mtu = 576}};
    CHECK(link.end(0).mtu() == 576);
    CHECK(link.end(0).transmit_buffer(577).empty());
    CHECK(link.end(0).counters().dropped_too_big == 1);
    link.end(0).transmit(577, t0);  // nothing was handed out: nothing is sent
    CHECK(link.end(1).waiting() == 0);
}

// concepts.hpp: next_deadline() is when d next has work; waiting packets are work
// due now.
TEST_CASE("loopback_next_deadline_is_due_while_packets_wait_else_never")
{
    loopback_link link;
    CHECK(link.end(1).next_deadline() == tcpx::never);
    REQUIRE(send(link.end(0), make_packet(40, 1), t0));
    CHECK(link.end(1).next_deadline() <= t0);
    CHECK(link.end(0).next_deadline() == tcpx::never);
    drain(link.end(1), t0);
    CHECK(link.end(1).next_deadline() == tcpx::never);
}

// The sender writes into the receiver's ring: a reservation must survive the
// receiver emptying the ring between transmit_buffer and transmit, also when the
// reservation wrapped to the ring's start.
TEST_CASE("loopback_reservation_survives_the_peer_reading_before_transmit")
{
    loopback_link link{loopback_config{.mtu = 1500, .queue_bytes = 4096}};
    const bytes big = make_packet(1500, 1);
    const bytes small = make_packet(900, 2);
    REQUIRE(send(link.end(0), big, t0));    // [0, 1512)
    REQUIRE(send(link.end(0), big, t0));    // [1512, 3024)
    drain(link.end(1), t0, 1);              // frees [0, 1512)
    const auto room = link.end(0).transmit_buffer(1500);  // 1072 left at the end: wraps to 0
    REQUIRE(room.size() == 1500);
    std::memcpy(room.data(), big.data(), big.size());
    drain(link.end(1), t0);                 // the ring is empty now
    link.end(0).transmit(big.size(), t0);
    REQUIRE(send(link.end(0), small, t0));
    CHECK(drain(link.end(1), t0) == std::vector<bytes>{big, small});
}

// Growth (used by impaired<D>'s held rings): packets keep their order and bytes.
TEST_CASE("packet_ring_growing_keeps_packets_and_order")
{
    tcpx::devices::detail::packet_ring<std::uint64_t> ring{8 << 20, 0};
    std::uint64_t popped = 0;
    for (std::uint64_t i = 0; i < 5000; ++i) {
        const bytes p = make_packet(20 + i % 1400, static_cast<std::uint32_t>(i));
        REQUIRE(ring.push(p, i));
        if (i % 3 == 0) {  // read some as we go, so growth meets a wrapped ring
            const auto front = ring.front();
            CHECK(front.meta == popped);
            ++popped;
            ring.pop();
        }
    }
    CHECK(ring.capacity() <= ring.limit());
    while (!ring.empty()) {
        const auto front = ring.front();
        const bytes expect = make_packet(20 + popped % 1400, static_cast<std::uint32_t>(popped));
        CHECK(front.meta == popped);
        CHECK(std::equal(front.data.begin(), front.data.end(), expect.begin(), expect.end()));
        ++popped;
        ring.pop();
    }
    CHECK(popped == 5000);
    CHECK(ring.bytes_used() == 0);
}

TEST_CASE("packet_ring_refuses_a_packet_beyond_its_limit")
{
    tcpx::devices::detail::packet_ring<> ring{4096, 0};
    const bytes p = make_packet(2000, 1);
    CHECK(ring.push(p));
    CHECK(ring.push(p));
    CHECK_FALSE(ring.push(p));  // 3 * 2008 > 4096
    CHECK(ring.capacity() == 4096);
}

// ---------------------------------------------------------------------------------
// loopback_switch

// RFC 791 §3.1: the destination address (bytes 16..19) picks the receiving end.
TEST_CASE("loopback_switch_routes_each_packet_to_the_end_with_its_destination")
{
    loopback_switch sw;
    loopback& a = sw.add_end(host_a);
    loopback& b = sw.add_end(host_b);
    loopback& c = sw.add_end(host_c);
    CHECK(sw.size() == 3);
    CHECK(sw.find(host_b) == &b);
    CHECK(b.address() == host_b);
    const bytes to_c = make_packet(100, 1, host_a, host_c);
    const bytes to_b = make_packet(200, 2, host_a, host_b);
    const bytes to_a = make_packet(300, 3, host_c, host_a);
    REQUIRE(send(a, to_c, t0));
    REQUIRE(send(a, to_b, t0));
    REQUIRE(send(c, to_a, t0));
    CHECK(drain(a, t0) == std::vector<bytes>{to_a});
    CHECK(drain(b, t0) == std::vector<bytes>{to_b});
    CHECK(drain(c, t0) == std::vector<bytes>{to_c});
    CHECK(a.counters().packets_sent == 2);
    CHECK(a.counters().bytes_sent == 300);
    CHECK(a.counters().dropped_no_route == 0);
}

// A destination no end has is dropped and counted on the sender.
TEST_CASE("loopback_switch_unknown_destination_is_dropped_and_counted_no_route")
{
    loopback_switch sw;
    loopback& a = sw.add_end(host_a);
    loopback& b = sw.add_end(host_b);
    REQUIRE(send(a, make_packet(60, 1, host_a, ipv4(10, 0, 0, 9)), t0));
    CHECK(a.counters().dropped_no_route == 1);
    CHECK(a.counters().packets_sent == 0);
    CHECK(b.waiting() == 0);
    CHECK(a.waiting() == 0);
}

// RFC 1122 §3.2.1.3: 255.255.255.255 is the limited broadcast, no one host; the
// switch does not flood, so a broadcast is dropped as having no route.
TEST_CASE("loopback_switch_limited_broadcast_is_dropped_and_counted_no_route")
{
    loopback_switch sw;
    loopback& a = sw.add_end(host_a);
    loopback& b = sw.add_end(host_b);
    REQUIRE(send(a, make_packet(60, 1, host_a, ipv4(255, 255, 255, 255)), t0));
    CHECK(a.counters().dropped_no_route == 1);
    CHECK(b.waiting() == 0);
}

// RFC 791 §3.1: without a whole header or with another version there is no IPv4
// destination to route by.
TEST_CASE("loopback_switch_short_or_non_ipv4_packet_is_dropped_no_route")
{
    loopback_switch sw;
    loopback& a = sw.add_end(host_a);
    loopback& b = sw.add_end(host_b);
    bytes v6 = make_packet(60, 1, host_a, host_b);
    v6[0] = 0x60;
    REQUIRE(send(a, v6, t0));
    REQUIRE(send(a, bytes(19, 0x45), t0));
    CHECK(a.counters().dropped_no_route == 2);
    CHECK(b.waiting() == 0);
}

// RFC 1122 §3.2.1.3: 0.0.0.0 and 255.255.255.255 are no host's address; and one
// address is one end.
TEST_CASE("loopback_switch_add_end_refuses_reserved_and_duplicate_addresses")
{
    loopback_switch sw;
    sw.add_end(host_a);
    std::error_code ec;
    CHECK(sw.add_end(host_a, ec) == nullptr);
    CHECK(ec == std::errc::address_in_use);
    CHECK(sw.add_end(0, ec) == nullptr);
    CHECK(ec == std::errc::invalid_argument);
    CHECK(sw.add_end(0xffff'ffffu, ec) == nullptr);
    CHECK(ec == std::errc::invalid_argument);
    CHECK_THROWS_AS(sw.add_end(host_a), std::system_error);
    CHECK(sw.add_end(host_b, ec) != nullptr);
    CHECK_FALSE(ec);
    CHECK(sw.size() == 2);
}

TEST_CASE("loopback_switch_full_destination_ring_drops_and_counts_on_the_sender")
{
    loopback_switch sw{loopback_config{.mtu = 1500, .queue_bytes = 4096}};
    loopback& a = sw.add_end(host_a);
    loopback& b = sw.add_end(host_b);
    const bytes p = make_packet(1000, 1, host_a, host_b);
    for (int i = 0; i < 6; ++i) {
        REQUIRE(send(a, p, t0));  // the switch always takes the packet to copy it
    }
    CHECK(a.counters().packets_sent == 4);
    CHECK(a.counters().dropped_queue_full == 2);
    CHECK(drain(b, t0).size() == 4);
}

// ---------------------------------------------------------------------------------
// impaired<D>

namespace {

// Sends `count` packets through `dev`, one every `gap`, polling both sides after
// each; returns what end(1) of the link received, with the time of the poll.
struct delivery {
    instant when;
    bytes packet;
    friend bool operator==(const delivery&, const delivery&) = default;
};

template <class D>
std::vector<delivery> run_transmit(D& dev, loopback& far, int count, duration gap,
                                   std::size_t size = 100)
{
    std::vector<delivery> out;
    instant t = t0;
    auto poll = [&] {
        dev.receive(t, [](std::span<const std::uint8_t>) {}, 64);
        far.receive(t, [&](std::span<const std::uint8_t> p) { out.push_back({t, bytes(p.begin(), p.end())}); },
                    ~std::size_t{0});
    };
    for (int i = 0; i < count; ++i) {
        send(dev, make_packet(size, static_cast<std::uint32_t>(i)), t);
        poll();
        t += gap;
    }
    // Then follow the deadlines until nothing is held.
    for (int guard = 0; dev.next_deadline() != tcpx::never && guard < 1'000'000; ++guard) {
        t = std::max(t, dev.next_deadline());
        poll();
    }
    return out;
}

}  // namespace

TEST_CASE("impaired_without_impairments_passes_packets_unchanged_and_at_once")
{
    loopback_link link;
    impaired dev{impairment_config{}, link.end(0)};
    static_assert(std::is_same_v<decltype(dev), impaired<loopback&>>);
    const bytes p = make_packet(500, 7);
    REQUIRE(send(dev, p, t0));
    CHECK(drain(link.end(1), t0) == std::vector<bytes>{p});
    REQUIRE(send(link.end(1), p, t0));
    CHECK(drain(dev, t0) == std::vector<bytes>{p});
    CHECK(dev.transmit_counters().delivered == 1);
    CHECK(dev.receive_counters().delivered == 1);
    CHECK(dev.next_deadline() == tcpx::never);
    CHECK(dev.mtu() == 1500);
}

// Loss: each packet is dropped with probability p, independently.
TEST_CASE("impaired_loss_drops_a_fraction_p_of_100k_packets")
{
    for (const double p : {0.01, 0.1, 0.5}) {
        loopback_link link;
        impaired dev{impairment_config{.transmit = {.loss = p}, .receive = {.loss = p}}, link.end(0)};
        const bytes pkt = make_packet(40, 1);
        std::size_t arrived = 0, received = 0;
        for (int i = 0; i < 100'000; ++i) {
            send(dev, pkt, t0);
            arrived += link.end(1).receive(t0, [](std::span<const std::uint8_t>) {}, 1);
            send(link.end(1), pkt, t0);
            received += dev.receive(t0, [](std::span<const std::uint8_t>) {}, 1);
        }
        // 100k Bernoulli(p) trials: the standard deviation is at most 158 packets;
        // allow 5 of them.
        CHECK(std::abs(static_cast<double>(arrived) - 100'000 * (1 - p)) < 800);
        CHECK(std::abs(static_cast<double>(received) - 100'000 * (1 - p)) < 800);
        CHECK(dev.transmit_counters().lost + arrived == 100'000);
        CHECK(dev.receive_counters().lost + received == 100'000);
    }
}

// Duplication: with probability 1 every packet arrives twice, back to back.
TEST_CASE("impaired_duplicate_delivers_each_duplicated_packet_twice")
{
    loopback_link link;
    impaired dev{impairment_config{.transmit = {.duplicate = 1}}, link.end(0)};
    std::vector<bytes> expect;
    for (std::uint32_t i = 0; i < 10; ++i) {
        const bytes p = make_packet(80, i);
        REQUIRE(send(dev, p, t0));
        expect.push_back(p);
        expect.push_back(p);
    }
    CHECK(drain(link.end(1), t0) == expect);
    CHECK(dev.transmit_counters().duplicated == 10);
    CHECK(dev.transmit_counters().delivered == 20);
}

// concepts.hpp: receive calls f at most n times, even when a duplicate doubles a
// packet; the copy past the budget comes with the next call.
TEST_CASE("impaired_receive_duplicate_beyond_n_waits_for_the_next_call")
{
    loopback_link link;
    impaired dev{impairment_config{.receive = {.duplicate = 1}}, link.end(0)};
    const bytes p = make_packet(80, 1);
    const bytes q = make_packet(80, 2);
    REQUIRE(send(link.end(1), p, t0));
    REQUIRE(send(link.end(1), q, t0));
    CHECK(drain(dev, t0, 1) == std::vector<bytes>{p});
    CHECK(dev.next_deadline() <= t0);  // the second copy is due now
    CHECK(drain(dev, t0, 1) == std::vector<bytes>{p});
    CHECK(drain(dev, t0, 5) == std::vector<bytes>{q, q});
    CHECK(dev.receive_counters().delivered == 4);
}

TEST_CASE("impaired_duplicate_rate_is_near_p")
{
    loopback_link link;
    impaired dev{impairment_config{.receive = {.duplicate = 0.3}, .seed = 9}, link.end(0)};
    const bytes p = make_packet(40, 1);
    std::size_t got = 0;
    for (int i = 0; i < 100'000; ++i) {
        send(link.end(1), p, t0);
        got += dev.receive(t0, [](std::span<const std::uint8_t>) {}, 4);
    }
    CHECK(std::abs(static_cast<double>(got) - 130'000) < 800);
    CHECK(dev.receive_counters().duplicated + 100'000 == got);
}

// Corruption flips exactly one bit, so a checksum (RFC 791 §3.1, RFC 9293 §3.1)
// sees it; both directions, with and without delay (held copy and bypass).
TEST_CASE("impaired_corrupt_flips_exactly_one_bit_of_the_packet")
{
    for (const duration delay : {duration{0}, duration{500}}) {
        loopback_link link;
        impaired dev{impairment_config{.transmit = {.delay = delay, .corrupt = 1},
                                       .receive = {.delay = delay, .corrupt = 1}},
                     link.end(0)};
        for (std::uint32_t i = 0; i < 200; ++i) {
            const bytes p = make_packet(20 + i * 7, i);
            const instant t = t0 + duration{i * 1000};
            REQUIRE(send(dev, p, t));
            REQUIRE(send(link.end(1), p, t));
            auto r = drain(dev, t);  // takes the received packet in (and holds it, if delayed)
            if (delay != duration{0}) {
                CHECK(r.empty());
                r = drain(dev, t + delay);
            }
            const auto s = drain(link.end(1), t + delay);
            REQUIRE(r.size() == 1);
            REQUIRE(s.size() == 1);
            CHECK(bits_differing(r[0], p) == 1);
            CHECK(bits_differing(s[0], p) == 1);
        }
        CHECK(dev.transmit_counters().corrupted == 200);
        CHECK(dev.receive_counters().corrupted == 200);
    }
}

// Delay: a packet leaves exactly `delay` after it was sent, not a microsecond
// before; next_deadline() names that instant.
TEST_CASE("impaired_delay_releases_the_packet_exactly_at_its_due_time")
{
    loopback_link link;
    impaired dev{impairment_config{.transmit = {.delay = 10ms}, .receive = {.delay = 3ms}},
                 link.end(0)};
    const bytes p = make_packet(100, 1);
    REQUIRE(send(dev, p, t0));
    REQUIRE(send(link.end(1), p, t0));
    CHECK(drain(dev, t0).empty());  // receive side: pulled in at t0, due t0 + 3 ms
    CHECK(dev.next_deadline() == t0 + 3ms);
    CHECK(drain(dev, t0 + 3ms - 1us).empty());
    CHECK(drain(dev, t0 + 3ms) == std::vector<bytes>{p});
    CHECK(dev.next_deadline() == t0 + 10ms);
    CHECK(link.end(1).waiting() == 0);
    drain(dev, t0 + 10ms - 1us);
    CHECK(link.end(1).waiting() == 0);
    drain(dev, t0 + 10ms);  // any call at or after the due time moves it on
    CHECK(drain(link.end(1), t0 + 10ms) == std::vector<bytes>{p});
    CHECK(dev.next_deadline() == tcpx::never);
    CHECK(dev.held_bytes() == 0);
}

// The bottleneck serialises packets at rate_bps: departure = max(now, previous
// departure) + size * 8 / rate, exact to the microsecond over the long run.
TEST_CASE("impaired_rate_serialises_packets_at_exact_departure_times")
{
    loopback_link link;
    // 125-byte packets at 3 Mb/s take 333 1/3 us each.
    impaired dev{impairment_config{.transmit = {.rate_bps = 3'000'000}}, link.end(0)};
    for (std::uint32_t i = 0; i < 6; ++i) {
        REQUIRE(send(dev, make_packet(125, i), t0));
    }
    const std::vector<instant> due = {t0 + 333us,  t0 + 666us,  t0 + 1000us,
                                      t0 + 1333us, t0 + 1666us, t0 + 2000us};
    for (std::size_t i = 0; i < due.size(); ++i) {
        CHECK(dev.next_deadline() == due[i]);
        drain(dev, due[i] - 1us);
        CHECK(link.end(1).waiting() == 0);
        drain(dev, due[i]);
        const auto got = drain(link.end(1), due[i]);
        REQUIRE(got.size() == 1);
        CHECK(id_of(got[0]) == i);
    }
    // An idle link starts the next packet at its arrival.
    REQUIRE(send(dev, make_packet(125, 9), t0 + 5000us));
    CHECK(dev.next_deadline() == t0 + 5333us);
}

// RFC 7567 §2 tail drop: a packet arriving while queue_packets wait is dropped.
TEST_CASE("impaired_bottleneck_drops_the_tail_beyond_queue_packets")
{
    loopback_link link;
    // 125 bytes at 1 Mb/s: 1 ms each.
    impaired dev{impairment_config{.transmit = {.rate_bps = 1'000'000, .queue_packets = 5}},
                 link.end(0)};
    for (std::uint32_t i = 0; i < 10; ++i) {
        REQUIRE(send(dev, make_packet(125, i), t0));
    }
    CHECK(dev.transmit_counters().dropped_queue == 5);
    // At t0 + 1 ms the first has left: one place is free again.
    drain(dev, t0 + 1ms);
    REQUIRE(send(dev, make_packet(125, 10), t0 + 1ms));
    CHECK(dev.transmit_counters().dropped_queue == 5);
    REQUIRE(send(dev, make_packet(125, 11), t0 + 1ms));
    CHECK(dev.transmit_counters().dropped_queue == 6);
    drain(dev, t0 + 10ms);
    std::vector<std::uint32_t> ids;
    for (const auto& p : drain(link.end(1), t0 + 10ms)) {
        ids.push_back(id_of(p));
    }
    CHECK(ids == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 10});
    CHECK(dev.transmit_counters().delivered == 6);
}

// A reordered packet is held reorder_delay longer, so the packets behind it pass.
TEST_CASE("impaired_reorder_lets_later_packets_overtake_a_held_back_one")
{
    loopback_link link;
    impaired dev{impairment_config{.transmit = {.reorder = 1, .reorder_delay = 2ms}}, link.end(0)};
    REQUIRE(send(dev, make_packet(100, 0), t0));
    dev.set_transmit_impairment({});
    REQUIRE(send(dev, make_packet(100, 1), t0 + 1ms));
    REQUIRE(send(dev, make_packet(100, 2), t0 + 2ms));
    drain(dev, t0 + 3ms);
    std::vector<std::uint32_t> ids;
    for (const auto& p : drain(link.end(1), t0 + 3ms)) {
        ids.push_back(id_of(p));
    }
    // Packet 0 fell due at t0 + 2 ms and left just before packet 2, sent then.
    CHECK(ids == std::vector<std::uint32_t>{1, 0, 2});
    CHECK(dev.transmit_counters().reordered == 1);
}

TEST_CASE("impaired_reorder_with_probability_p_delivers_everything_out_of_order")
{
    loopback_link link;
    impaired dev{impairment_config{.transmit = {.reorder = 0.25, .reorder_delay = 1ms}}, link.end(0)};
    const auto got = run_transmit(dev, link.end(1), 2000, 100us);
    REQUIRE(got.size() == 2000);
    std::size_t inversions = 0;
    std::vector<bool> seen(2000);
    for (std::size_t i = 0; i < got.size(); ++i) {
        seen[id_of(got[i].packet)] = true;
        inversions += i != 0 && id_of(got[i].packet) < id_of(got[i - 1].packet);
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));
    CHECK(inversions > 100);
    CHECK(dev.transmit_counters().reordered > 400);
    CHECK(dev.transmit_counters().reordered < 600);
}

// Jitter varies the delay but never reorders: a packet is never due before the
// one ahead of it.
TEST_CASE("impaired_jitter_without_reorder_keeps_packets_in_order")
{
    loopback_link link;
    impaired dev{impairment_config{.transmit = {.delay = 5ms, .jitter = 4ms}}, link.end(0)};
    const auto got = run_transmit(dev, link.end(1), 5000, 100us);
    REQUIRE(got.size() == 5000);
    bool in_order = true;
    duration least = duration::max(), most = duration::zero();
    for (std::size_t i = 0; i < got.size(); ++i) {
        in_order = in_order && id_of(got[i].packet) == i;
        const duration taken = got[i].when - (t0 + duration{100 * static_cast<std::int64_t>(i)});
        least = std::min(least, taken);
        most = std::max(most, taken);
    }
    CHECK(in_order);
    CHECK(least >= 1ms);  // 5 ms - 4 ms at least
    CHECK(least < 2ms);
    CHECK(most > 8ms);    // the FIFO clamp may add to 5 ms + 4 ms, never reorder

}

// max_held_bytes bounds the held packets; the excess is dropped and counted.
TEST_CASE("impaired_store_beyond_max_held_bytes_drops_and_counts")
{
    loopback_link link;
    impaired dev{impairment_config{.transmit = {.delay = 1s}, .max_held_bytes = 10'000}, link.end(0)};
    for (std::uint32_t i = 0; i < 20; ++i) {
        REQUIRE(send(dev, make_packet(1000, i), t0));
    }
    CHECK(dev.transmit_counters().dropped_store_full == 11);  // 9 of 1024 bytes fit
    CHECK(dev.held_bytes() == 9 * 1024);
    drain(dev, t0 + 1s);
    CHECK(drain(link.end(1), t0 + 1s).size() == 9);
    CHECK(dev.held_bytes() == 0);
}

// DESIGN.md: the same seed gives the same run, bit for bit; another seed, another.
TEST_CASE("impaired_same_seed_replays_identically_and_another_seed_differs")
{
    const impairment everything{.loss = 0.05, .duplicate = 0.05, .reorder = 0.05,
                                .reorder_delay = 3ms, .delay = 2ms, .jitter = 1ms,
                                .corrupt = 0.05, .rate_bps = 10'000'000, .queue_packets = 20};
    auto run = [&](std::uint64_t seed) {
        loopback_link link;
        impaired dev{impairment_config{.transmit = everything, .seed = seed}, link.end(0)};
        auto got = run_transmit(dev, link.end(1), 3000, 50us, 300);
        return std::pair{got, dev.transmit_counters()};
    };
    const auto [a, ca] = run(42);
    const auto [b, cb] = run(42);
    const auto [c, cc] = run(43);
    CHECK(a.size() > 500);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(ca.lost == cb.lost);
    CHECK(ca.corrupted == cb.corrupted);
    CHECK(ca.dropped_queue > 0);  // 300 B every 50 us is 48 Mb/s into 10 Mb/s
    // Every packet that entered is accounted for exactly once.
    CHECK(ca.lost + ca.dropped_queue + ca.dropped_store_full + ca.dropped_inner + ca.delivered ==
          3000 + ca.duplicated);
    CHECK(ca.delivered == a.size());
}

// Each direction has its own stream: impairing one direction does not change what
// the other draws.
TEST_CASE("impaired_directions_draw_independently")
{
    auto received = [](const impairment& transmit) {
        loopback_link link;
        impaired dev{impairment_config{.transmit = transmit, .receive = {.loss = 0.3}}, link.end(0)};
        std::vector<std::uint32_t> ids;
        for (std::uint32_t i = 0; i < 500; ++i) {
            send(dev, make_packet(60, i), t0);
            send(link.end(1), make_packet(60, i), t0);
            for (const auto& p : drain(dev, t0)) {
                ids.push_back(id_of(p));
            }
        }
        return ids;
    };
    CHECK(received({}) == received({.loss = 0.5, .corrupt = 0.5}));
}

// concepts.hpp: next_deadline() is the earliest work the device has of its own:
// the inner device's, or a held packet's due time, either direction.
TEST_CASE("impaired_next_deadline_is_the_earliest_held_packet_or_inner_deadline")
{
    loopback_link link;
    impaired dev{impairment_config{.transmit = {.delay = 7ms}, .receive = {.delay = 4ms}}, link.end(0)};
    CHECK(dev.next_deadline() == tcpx::never);
    REQUIRE(send(dev, make_packet(100, 1), t0));
    CHECK(dev.next_deadline() == t0 + 7ms);
    REQUIRE(send(link.end(1), make_packet(100, 2), t0 + 1ms));
    CHECK(dev.next_deadline() <= t0 + 1ms);  // the inner device has a packet waiting
    drain(dev, t0 + 1ms);
    CHECK(dev.next_deadline() == t0 + 5ms);
}

// The decorator composes: impaired<impaired<D>> is a device, and impairs twice.
TEST_CASE("impaired_of_impaired_applies_both_delays")
{
    loopback_link link;
    impaired<impaired<loopback&>> dev{impairment_config{.transmit = {.delay = 2ms}},
                                      impairment_config{.transmit = {.delay = 3ms}}, link.end(0)};
    REQUIRE(send(dev, make_packet(100, 1), t0));
    CHECK(dev.next_deadline() == t0 + 2ms);
    drain(dev, t0 + 2ms);
    CHECK(dev.next_deadline() == t0 + 5ms);
    drain(dev, t0 + 5ms - 1us);
    CHECK(link.end(1).waiting() == 0);
    drain(dev, t0 + 5ms);
    CHECK(link.end(1).waiting() == 1);
}

// impaired<D> is movable (a stack may hold its device by value); held packets
// move with it.
TEST_CASE("impaired_moved_keeps_its_held_packets")
{
    loopback_link link;
    impaired first{impairment_config{.transmit = {.delay = 1ms}}, link.end(0)};
    REQUIRE(send(first, make_packet(100, 1), t0));
    impaired second{std::move(first)};
    CHECK(second.next_deadline() == t0 + 1ms);
    drain(second, t0 + 1ms);
    CHECK(link.end(1).waiting() == 1);
    CHECK(second.transmit_counters().delivered == 1);
}
