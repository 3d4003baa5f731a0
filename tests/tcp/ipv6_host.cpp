// Scenario tests: the stack as an IPv6 host (impl/stack_ipv6.ipp): packets to its
// address6 taken, sources that name no node dropped, extension headers walked and
// answered with Parameter Problem where RFC 8200 asks, echo answered (in fragments
// above the MTU), fragments reassembled and timed out. TCP over IPv6 is not carried yet.
//
// Have open: RFC 8200 §3-§4, RFC 4443 §2.4, §3.3, §3.4, §4, RFC 4291 §2.5-§2.7.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <boost/endian/conversion.hpp>

using namespace tcpx;
using namespace tcpx::test;
using namespace std::chrono_literals;

namespace {

using bytes = std::vector<std::uint8_t>;
constexpr std::size_t v6 = wire::ipv6_header::size;
const wire::ipv6_address ours{0xfd00, 0, 0, 0, 0, 0, 0, 1};
const wire::ipv6_address peer{0xfd00, 0, 0, 0, 0, 0, 0, 2};
constexpr auto icmpv6 = static_cast<std::uint8_t>(wire::ipv6_next_header::icmpv6);

config v6_config()
{
    config c = scenario_config();
    c.address6 = ours;
    return c;
}

/// An IPv6 packet from `from` to `to` whose payload (extension headers and upper layer)
/// is `payload`, the first header of it named `next`.
bytes packet6(std::uint8_t next, const bytes& payload, const wire::ipv6_address& from = peer,
              const wire::ipv6_address& to = ours)
{
    bytes p(v6 + payload.size());
    wire::ipv6_header h;
    h.source = from;
    h.destination = to;
    h.next_header = next;
    h.payload_length = static_cast<std::uint16_t>(payload.size());
    REQUIRE_FALSE(h.emit(p));
    std::copy(payload.begin(), payload.end(), p.begin() + v6);
    return p;
}

/// An ICMPv6 echo request of `n` data bytes with its checksum (RFC 4443 §2.3, §4.1).
bytes echo_message(std::size_t n, const wire::ipv6_address& from = peer)
{
    bytes m(wire::icmpv6_field::fixed_size + n);
    m[0] = static_cast<std::uint8_t>(wire::icmpv6_type::echo_request);
    boost::endian::store_big_u32(m.data() + 4, 0x77770001);
    for (std::size_t i = 0; i < n; ++i) m[8 + i] = static_cast<std::uint8_t>(i % 251);
    boost::endian::store_big_u16(m.data() + 2, wire::ipv6_upper_layer_checksum(from, ours, icmpv6, m));
    return m;
}

/// `message` (the upper layer, `next`) in fragments whose data start at `offsets`.
std::vector<bytes> fragments6(std::uint8_t next, const bytes& message, std::vector<std::size_t> offsets,
                              std::uint32_t id = 0x01020304)
{
    std::vector<bytes> out;
    for (std::size_t i = 0; i < offsets.size(); ++i) {
        const std::size_t from = offsets[i];
        const std::size_t to = i + 1 < offsets.size() ? offsets[i + 1] : message.size();
        bytes payload(8);
        payload[0] = next;
        boost::endian::store_big_u16(payload.data() + 2,
                                     static_cast<std::uint16_t>(from / 8 << 3 | (to < message.size() ? 1 : 0)));
        boost::endian::store_big_u32(payload.data() + 4, id);
        payload.insert(payload.end(), message.begin() + static_cast<std::ptrdiff_t>(from),
                       message.begin() + static_cast<std::ptrdiff_t>(to));
        out.push_back(packet6(static_cast<std::uint8_t>(wire::ipv6_next_header::fragment), payload));
    }
    return out;
}


/// Exactly one packet sent, an ICMPv6 message from us to the peer; returns the message.
bytes expect_one_icmpv6(scenario& t)
{
    const auto sent = t.sent_packets();
    REQUIRE(sent.size() == 1);
    const wire::ipv6_view ip{sent[0]};
    REQUIRE_FALSE(ip.check());
    CHECK(ip.source() == ours);
    CHECK(ip.destination() == peer);
    REQUIRE(ip.next_header() == icmpv6);
    const wire::icmpv6_view m{ip.payload()};
    REQUIRE_FALSE(m.check(ip.source(), ip.destination()));
    return {ip.payload().begin(), ip.payload().end()};
}

}  // namespace

TEST_CASE("ipv6_echo_request_gets_echo_reply_with_same_data")
{
    // RFC 4443 §4.2 (MUST): type 129, the identifier, sequence number and data
    // returned entirely, from the address the request was sent to.
    scenario t{v6_config()};
    const bytes request = echo_message(56);
    t.inject_raw(packet6(icmpv6, request));
    const bytes reply = expect_one_icmpv6(t);
    CHECK(reply[0] == static_cast<std::uint8_t>(wire::icmpv6_type::echo_reply));
    REQUIRE(reply.size() == request.size());
    CHECK(std::equal(reply.begin() + 4, reply.end(), request.begin() + 4));
    CHECK(t.st.counters().icmp_echo_replies == 1);
}

TEST_CASE("ipv6_without_an_address6_every_packet_is_not_ours")
{
    // config::address6 unset: the stack is an IPv4 host; IPv6 packets are dropped, counted.
    scenario t;
    t.inject_raw(packet6(icmpv6, echo_message(8)));
    CHECK(t.sent_packets().empty());
    CHECK(t.st.counters().dropped(drop_reason::not_our_address) == 1);
}

TEST_CASE("ipv6_packet_to_a_multicast_group_or_another_address_is_dropped")
{
    // The kernel's router solicitations (to ff02::2) and anything not to address6.
    scenario t{v6_config()};
    t.inject_raw(packet6(icmpv6, echo_message(8), peer, wire::ipv6_address{0xff02, 0, 0, 0, 0, 0, 0, 2}));
    t.inject_raw(packet6(icmpv6, echo_message(8), peer, wire::ipv6_address{0xfd00, 0, 0, 0, 0, 0, 0, 9}));
    CHECK(t.sent_packets().empty());
    CHECK(t.st.counters().dropped(drop_reason::not_our_address) == 2);
}

TEST_CASE("ipv6_source_that_names_no_node_is_dropped_unanswered")
{
    // RFC 4291 §2.5.2 (::), §2.7 (multicast), §2.5.3 (::1 from a device), §2.5.5.2
    // (IPv4-mapped): no reply could reach one node.
    scenario t{v6_config()};
    const struct {
        wire::ipv6_address source;
        drop_reason reason;
    } cases[] = {
        {wire::ipv6_address{}, drop_reason::source_this_network},
        {wire::ipv6_address{0xff02, 0, 0, 0, 0, 0, 0, 1}, drop_reason::source_multicast},
        {wire::ipv6_address{0, 0, 0, 0, 0, 0, 0, 1}, drop_reason::source_loopback},
        {wire::ipv6_address::v4_mapped(wire::ipv4_address{10, 0, 0, 2}), drop_reason::source_reserved},
    };
    for (const auto& c : cases) {
        CAPTURE(c.source.to_string());
        t.inject_raw(packet6(icmpv6, echo_message(8, c.source), c.source));
        CHECK(t.sent_packets().empty());
        CHECK(t.st.counters().dropped(c.reason) == 1);
    }
}

TEST_CASE("ipv6_malformed_header_is_dropped_and_counted")
{
    // RFC 8200 §3: a payload length past the packet; a packet shorter than 40 bytes.
    scenario t{v6_config()};
    bytes p = packet6(icmpv6, echo_message(8));
    boost::endian::store_big_u16(p.data() + wire::ipv6_field::payload_length, 200);
    t.inject_raw(p);
    t.inject_raw(bytes(p.begin(), p.begin() + 30));
    CHECK(t.sent_packets().empty());
    CHECK(t.st.counters().dropped(drop_reason::ipv6_malformed) == 2);
}

TEST_CASE("ipv6_unknown_next_header_gets_parameter_problem_code_1")
{
    // RFC 8200 §4: an upper layer the node does not recognize (UDP, 17, here): discard,
    // Parameter Problem code 1 pointing at the Next Header byte that names it.
    scenario t{v6_config()};
    const bytes offending = packet6(17, bytes(16, 0));
    t.inject_raw(offending);
    const bytes m = expect_one_icmpv6(t);
    CHECK(m[0] == static_cast<std::uint8_t>(wire::icmpv6_type::parameter_problem));
    CHECK(m[1] == 1);
    CHECK(boost::endian::load_big_u32(m.data() + 4) == wire::ipv6_field::next_header);
    // RFC 4443 §2.4(c): the invoking packet quoted (all of it: it is short).
    CHECK(std::equal(offending.begin(), offending.end(), m.begin() + 8));
    CHECK(t.st.counters().dropped(drop_reason::ipv6_unknown_next_header) == 1);
}

TEST_CASE("ipv6_routing_header_type_0_with_segments_left_gets_parameter_problem_code_0")
{
    // RFC 5095 §3: type 0 is unrecognized; RFC 8200 §4.4: with Segments Left non-zero,
    // Parameter Problem code 0 pointing at the Routing Type.
    scenario t{v6_config()};
    bytes routing(24, 0);
    routing[0] = icmpv6;
    routing[1] = 2;  // 24 bytes
    routing[2] = 0;  // type 0
    routing[3] = 1;  // one segment left
    const bytes echo = echo_message(8);
    routing.insert(routing.end(), echo.begin(), echo.end());
    t.inject_raw(packet6(static_cast<std::uint8_t>(wire::ipv6_next_header::routing), routing));
    const bytes m = expect_one_icmpv6(t);
    CHECK(m[0] == static_cast<std::uint8_t>(wire::icmpv6_type::parameter_problem));
    CHECK(m[1] == 0);
    CHECK(boost::endian::load_big_u32(m.data() + 4) == v6 + 2);
    CHECK(t.st.counters().dropped(drop_reason::ipv6_bad_extension_header) == 1);
}

TEST_CASE("ipv6_echo_behind_destination_options_with_padding_is_answered")
{
    // RFC 8200 §4.6, §4.2: Pad1 and PadN are skipped; the upper layer is found after.
    scenario t{v6_config()};
    bytes options{icmpv6, 0, 0 /* Pad1 */, 1, 3, 0, 0, 0 /* PadN of 5 */};
    const bytes echo = echo_message(8);
    options.insert(options.end(), echo.begin(), echo.end());
    t.inject_raw(packet6(static_cast<std::uint8_t>(wire::ipv6_next_header::destination_options), options));
    CHECK(expect_one_icmpv6(t)[0] == static_cast<std::uint8_t>(wire::icmpv6_type::echo_reply));
}

TEST_CASE("ipv6_tcp_is_dropped_and_counted_not_yet_carried")
{
    // TCP over IPv6 is the next step of issue 16; until then each segment is counted.
    scenario t{v6_config()};
    t.inject_raw(packet6(static_cast<std::uint8_t>(wire::ipv6_next_header::tcp), bytes(20, 0)));
    CHECK(t.sent_packets().empty());
    CHECK(t.st.counters().dropped(drop_reason::ipv6_tcp_not_yet) == 1);
}

TEST_CASE("ipv6_echo_request_in_fragments_gets_echo_reply_in_fragments")
{
    // RFC 8200 §4.5: the fragments put together (the Fragment header's Next Header
    // restored, the payload length recomputed); RFC 4443 §4.2: the reply returns all of
    // the data, here above the MTU, so in fragments of ours: multiples of 8 bytes, one
    // Identification, M on all but the last.
    scenario t{v6_config()};
    const bytes request = echo_message(3000);
    for (const bytes& f : fragments6(icmpv6, request, {0, 1448, 2896})) t.inject_raw(f);
    const auto sent = t.sent_packets();
    REQUIRE(sent.size() == 3);
    bytes message;
    std::uint32_t id = 0;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const wire::ipv6_view ip{sent[i]};
        REQUIRE_FALSE(ip.check());
        CHECK(ip.datagram().size() <= 1500);
        wire::ipv6_header_chain chain;
        REQUIRE_FALSE(wire::parse_header_chain(ip, chain));
        REQUIRE(chain.fragment);
        CHECK(chain.fragment->offset == message.size());
        CHECK(chain.fragment->more_fragments == (i + 1 < sent.size()));
        if (i == 0) id = chain.fragment->identification;
        CHECK(chain.fragment->identification == id);
        message.insert(message.end(), chain.upper_layer.begin(), chain.upper_layer.end());
    }
    REQUIRE(message.size() == request.size());
    const wire::icmpv6_view reply{message};
    CHECK_FALSE(reply.check(ours, peer));
    CHECK(reply.type() == static_cast<std::uint8_t>(wire::icmpv6_type::echo_reply));
    CHECK(std::equal(message.begin() + 4, message.end(), request.begin() + 4));
    CHECK(t.st.counters().datagrams_reassembled == 1);
    CHECK(t.st.counters().fragments_sent == 3);
}

TEST_CASE("ipv6_incomplete_packet_after_60_s_gets_time_exceeded_quoting_its_first_fragment")
{
    // RFC 8200 §4.5: 60 s after the first-arriving fragment the packet is dropped and,
    // the first fragment having come, ICMPv6 Time Exceeded code 1 quotes it.
    scenario t{v6_config()};
    const auto pieces = fragments6(icmpv6, echo_message(3000), {0, 1448, 2896});
    t.inject_raw(pieces[0]);
    t.inject_raw(pieces[2]);
    t.advance(59s);
    CHECK(t.sent_packets().empty());
    t.advance(1s);
    const bytes m = expect_one_icmpv6(t);
    CHECK(m[0] == static_cast<std::uint8_t>(wire::icmpv6_type::time_exceeded));
    CHECK(m[1] == 1);
    // RFC 4443 §2.4(c): as much of the invoking packet as fits in 1280 bytes.
    CHECK(m.size() == wire::icmpv6_error_max_size - v6);
    CHECK(std::equal(m.begin() + 8, m.end(), pieces[0].begin()));
    CHECK(t.st.counters().reassembly_timeouts == 1);
}
