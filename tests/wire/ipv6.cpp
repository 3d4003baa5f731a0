// Tests for tcpx/wire/ipv6.hpp: a header read and written byte for byte, every
// extension header and option action walked as a destination must, every malformed
// chain as its own case, the TCP pseudo-header checksum against a value computed apart,
// and addresses as text (RFC 4291 §2.2, RFC 5952).
// Have open: RFC 8200 §3, §4.1-§4.7, §8.1; RFC 5095 §3; RFC 6946 §4; RFC 7112 §5.
//
// The TCP checksum 0x70c8 below was computed apart from checksum.hpp, by a plain
// RFC 1071 sum in python3 over the pseudo-header of RFC 8200 §8.1 and the segment:
//   ph = src16 + dst16 + struct.pack('!I', 40) + b'\0\0\0\x06'
//   s = sum(struct.unpack('!32H', ph + tcp_with_zero_checksum)); fold; ~s & 0xffff
#include <tcpx/wire/ipv6.hpp>

#include <doctest/doctest.h>

#include "support/hex.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>  // doctest prints a failed std::error_code comparison through it
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

using namespace tcpx;
using namespace tcpx::wire;

namespace {

using bytes = std::vector<std::uint8_t>;

using tcpx_test::concat;
using tcpx_test::from_hex;

constexpr ipv6_address doc_one{0x2001, 0xdb8, 0, 0, 0, 0, 0, 1};  // 2001:db8::1, RFC 3849
constexpr ipv6_address doc_two{0x2001, 0xdb8, 0, 0, 0, 0, 0, 2};
constexpr ipv6_address all_nodes{0xff02, 0, 0, 0, 0, 0, 0, 1};   // ff02::1, RFC 4291 §2.7.1

// A SYN from [2001:db8::2]:40000 to [2001:db8::1]:80: traffic class 0, flow label
// 0xabcde, hop limit 64; MSS 1440, SACK-permitted, timestamps, window scale 7.
bytes syn_header()
{
    return from_hex(
        "60 0a bc de 00 28 06 40"
        "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
        "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01");
}
bytes syn_tcp()
{
    return from_hex(
        "9c 40 00 50 0a 1b 2c 3d 00 00 00 00 a0 02 fd 20 70 c8 00 00"
        "02 04 05 a0 04 02 08 0a 00 00 ab cd 00 00 00 00 01 03 03 07");
}
bytes syn_packet() { return concat(syn_header(), syn_tcp()); }

ipv6_header syn_fields()
{
    ipv6_header h;
    h.source = doc_two;
    h.destination = doc_one;
    h.next_header = static_cast<std::uint8_t>(ipv6_next_header::tcp);
    h.hop_limit = 64;
    h.traffic_class = 0;
    h.flow_label = 0xabcde;
    h.payload_length = 40;
    return h;
}

// A packet from doc_two to `to` whose payload is `payload` (extension headers and all)
// and whose first Next Header is `next`; built by ipv6_header::emit (tested below).
bytes packet(std::uint8_t next, const bytes& payload, const ipv6_address& to = doc_one)
{
    ipv6_header h = syn_fields();
    h.destination = to;
    h.next_header = next;
    h.payload_length = static_cast<std::uint16_t>(payload.size());
    bytes p(ipv6_header::size);
    REQUIRE(h.emit(p) == std::error_code{});
    return concat(p, payload);
}

constexpr std::uint8_t hop_by_hop = 0;
constexpr std::uint8_t tcp = 6;
constexpr std::uint8_t routing = 43;
constexpr std::uint8_t fragment = 44;
constexpr std::uint8_t icmpv6 = 58;
constexpr std::uint8_t no_next = 59;
constexpr std::uint8_t destination_options = 60;

// An 8-byte options header (Hop-by-Hop or Destination Options, RFC 8200 §4.3, §4.6)
// holding one option of type `type` with 2 bytes of data, then a 2-byte PadN.
bytes one_option_header(std::uint8_t next, std::uint8_t type) { return {next, 0, type, 2, 0xaa, 0xbb, 1, 0}; }

// A 24-byte Routing header (RFC 8200 §4.4) of `type` with one address.
bytes routing_header(std::uint8_t next, std::uint8_t type, std::uint8_t segments_left)
{
    bytes h = {next, 2, type, segments_left, 0, 0, 0, 0};
    h.resize(24, 0x11);
    return h;
}

// An 8-byte Fragment header (RFC 8200 §4.5): offset in bytes (a multiple of 8), M, id.
bytes fragment_header(std::uint8_t next, std::size_t offset, bool more, std::uint32_t id = 0x12345678)
{
    const auto field = static_cast<std::uint16_t>((offset / 8) << 3 | (more ? 1u : 0u));
    return {next, 0, static_cast<std::uint8_t>(field >> 8), static_cast<std::uint8_t>(field & 0xff),
            static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
            static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
}

bytes filler(std::size_t n, std::uint8_t seed = 0)
{
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
    return b;
}

// `count` 8-byte Destination Options headers (one 4-byte PadN each), each naming the
// next as another: the last names one more, which is not there.
bytes destination_options_chain(std::size_t count)
{
    const bytes one = {destination_options, 0, 1, 4, 0, 0, 0, 0};
    bytes chain;
    for (std::size_t i = 0; i < count; ++i) chain.insert(chain.end(), one.begin(), one.end());
    return chain;
}

// A walk over a packet, which it keeps: the chain's upper_layer points into it.
struct walked {
    bytes packet;
    std::error_code ec;
    ipv6_header_chain chain;
};

walked walk(bytes p)
{
    walked w;
    w.packet = std::move(p);
    const ipv6_view v{w.packet};
    REQUIRE(v.check() == std::error_code{});
    w.ec = parse_header_chain(v, w.chain);
    return w;
}

ipv6_parameter_problem problem(icmpv6_parameter_problem_code code, std::uint32_t pointer) { return {code, pointer}; }

std::optional<ipv6_address> parse(std::string_view text) { return ipv6_address::parse(text); }

}  // namespace

// -- the fixed header (RFC 8200 §3) --------------------------------------------------

TEST_CASE("ipv6_view_reads_every_field_of_a_syn")
{
    const bytes p = syn_packet();
    const ipv6_view v{p};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.version() == 6);
    CHECK(v.traffic_class() == 0);
    CHECK(v.flow_label() == 0xabcde);
    CHECK(v.payload_length() == 40);
    CHECK(v.next_header() == tcp);
    CHECK(v.hop_limit() == 64);
    CHECK(v.source() == doc_two);
    CHECK(v.destination() == doc_one);
    CHECK(v.header_bytes().size() == 40);
    REQUIRE(v.payload().size() == 40);
    CHECK(v.payload().data() == p.data() + 40);
    CHECK(v.datagram().size() == 80);
}

// RFC 8200 §3, §7: traffic class straddles the first two bytes; the flow label is the
// low 20 bits; neither leaks into the other or into the version.
TEST_CASE("ipv6_view_traffic_class_and_flow_label_are_separate_bits")
{
    bytes p = syn_packet();
    p[0] = 0x6b;  // version 6, traffic class 0xb_
    p[1] = 0x8f;  // traffic class 0x_8, flow label 0xf____
    p[2] = 0xff;
    p[3] = 0xff;
    const ipv6_view v{p};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.version() == 6);
    CHECK(v.traffic_class() == 0xb8);
    CHECK(v.flow_label() == 0xfffff);
}

TEST_CASE("ipv6_emit_writes_a_syn_header_byte_exact")
{
    bytes out(40, 0xee);
    REQUIRE(syn_fields().emit(out) == std::error_code{});
    CHECK(out == syn_header());
}

// Contract: emit writes exactly 40 bytes and nothing past them.
TEST_CASE("ipv6_emit_writes_exactly_40_bytes")
{
    bytes out(64, 0xee);
    REQUIRE(syn_fields().emit(out) == std::error_code{});
    CHECK(bytes(out.begin(), out.begin() + 40) == syn_header());
    CHECK(std::all_of(out.begin() + 40, out.end(), [](std::uint8_t b) { return b == 0xee; }));
}

TEST_CASE("ipv6_emit_into_39_bytes_is_buffer_too_small")
{
    bytes out(39, 0xee);
    CHECK(syn_fields().emit(out) == errc::buffer_too_small);
    CHECK(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0xee; }));
}

// RFC 6437 §2: the flow label has 20 bits; a 21st would land in the traffic class.
TEST_CASE("ipv6_emit_flow_label_beyond_20_bits_is_invalid_argument")
{
    ipv6_header h = syn_fields();
    h.flow_label = 0x100000;
    bytes out(40);
    CHECK(h.emit(out) == errc::invalid_argument);
    h.flow_label = 0xfffff;
    CHECK(h.emit(out) == std::error_code{});
}

TEST_CASE("ipv6_emit_check_from_round_trips")
{
    ipv6_header h = syn_fields();
    h.traffic_class = 0xb9;
    h.flow_label = 0x54321;
    h.hop_limit = 255;
    h.next_header = icmpv6;
    h.payload_length = 3;
    bytes p(43, 0x5a);
    REQUIRE(h.emit(p) == std::error_code{});
    const ipv6_view v{p};
    REQUIRE(v.check() == std::error_code{});
    const ipv6_header back = ipv6_header::from(v);
    CHECK(back.source == h.source);
    CHECK(back.destination == h.destination);
    CHECK(back.next_header == h.next_header);
    CHECK(back.hop_limit == h.hop_limit);
    CHECK(back.traffic_class == h.traffic_class);
    CHECK(back.flow_label == h.flow_label);
    CHECK(back.payload_length == h.payload_length);
}

// -- malformed fixed headers -----------------------------------------------------------

TEST_CASE("ipv6_check_empty_packet_is_truncated")
{
    CHECK(ipv6_view{std::span<const std::uint8_t>{}}.check() == errc::ipv6_truncated);
}

TEST_CASE("ipv6_check_39_bytes_is_truncated")
{
    const bytes p = syn_packet();
    CHECK(ipv6_view{std::span{p}.first(39)}.check() == errc::ipv6_truncated);
}

TEST_CASE("ipv6_check_version_4_is_bad_version")
{
    bytes p = syn_packet();
    p[0] = 0x45;
    CHECK(ipv6_view{p}.check() == errc::ipv6_bad_version);
}

TEST_CASE("ipv6_check_payload_length_past_the_bytes_is_rejected")
{
    const bytes p = syn_packet();
    CHECK(ipv6_view{std::span{p}.first(79)}.check() == errc::ipv6_payload_length_beyond_packet);
}

// A device may pad a short frame; the padding is no part of the datagram.
TEST_CASE("ipv6_check_link_padding_is_accepted_and_not_payload")
{
    bytes p = syn_packet();
    p.resize(p.size() + 6, 0);
    const ipv6_view v{p};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.payload().size() == 40);
    CHECK(v.datagram().size() == 80);
}

// -- the header chain (RFC 8200 §4) ----------------------------------------------------

TEST_CASE("ipv6_chain_without_extension_headers_is_the_upper_layer")
{
    const walked w = walk(syn_packet());
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == tcp);
    CHECK(w.chain.offset == 40);
    CHECK(w.chain.next_header_at == 6);
    CHECK(w.chain.upper_layer.size() == 40);
    CHECK_FALSE(w.chain.fragment.has_value());
    CHECK_FALSE(w.chain.problem.has_value());
}

// RFC 8200 §4.2: Pad1 is one byte without length; PadN two or more.
TEST_CASE("ipv6_chain_hop_by_hop_with_pad1_and_padn_is_walked")
{
    const bytes hbh = from_hex("06 00 00 01 03 00 00 00");  // Pad1, then a 5-byte PadN
    const walked w = walk(packet(hop_by_hop, concat(hbh, syn_tcp())));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == tcp);
    CHECK(w.chain.offset == 48);
    CHECK(w.chain.next_header_at == 40);
    CHECK(w.chain.upper_layer.size() == 40);
}

TEST_CASE("ipv6_chain_hop_by_hop_of_six_pad1_is_walked")
{
    const walked w = walk(packet(hop_by_hop, concat(from_hex("06 00 00 00 00 00 00 00"), syn_tcp())));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.offset == 48);
}

// RFC 8200 §4.3: Hdr Ext Len counts 8-byte units after the first 8.
TEST_CASE("ipv6_chain_hop_by_hop_of_24_bytes_is_walked")
{
    bytes hbh = {tcp, 2, 1, 20};
    hbh.resize(24, 0);
    const walked w = walk(packet(hop_by_hop, concat(hbh, syn_tcp())));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.offset == 64);
}

// RFC 8200 §4.2, action 00: "skip over this option and continue processing the header".
TEST_CASE("ipv6_option_unknown_00_is_skipped")
{
    const walked w = walk(packet(hop_by_hop, concat(one_option_header(tcp, 0x1e), syn_tcp())));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == tcp);
    CHECK(w.chain.offset == 48);
}

// RFC 8200 §4.2, action 01: "discard the packet" — silently.
TEST_CASE("ipv6_option_unknown_01_is_discarded_silently")
{
    const walked w = walk(packet(hop_by_hop, concat(one_option_header(tcp, 0x5e), syn_tcp())));
    CHECK(w.ec == errc::ipv6_unrecognized_option);
    CHECK_FALSE(w.chain.problem.has_value());
}

// RFC 8200 §4.2, action 10: discard and send Parameter Problem code 2 pointing at the
// option type, "regardless of whether or not the packet's Destination Address was a
// multicast address".
TEST_CASE("ipv6_option_unknown_10_is_reported_even_to_multicast")
{
    for (const ipv6_address& to : {doc_one, all_nodes}) {
        CAPTURE(to.to_string());
        const walked w = walk(packet(destination_options, concat(one_option_header(tcp, 0x9e), syn_tcp()), to));
        CHECK(w.ec == errc::ipv6_unrecognized_option);
        REQUIRE(w.chain.problem.has_value());
        CHECK(*w.chain.problem == problem(icmpv6_parameter_problem_code::unrecognized_option, 42));
    }
}

// RFC 8200 §4.2, action 11: reported "only if the packet's Destination Address was not
// a multicast address".
TEST_CASE("ipv6_option_unknown_11_is_reported_unless_multicast")
{
    const walked unicast = walk(packet(hop_by_hop, concat(one_option_header(tcp, 0xde), syn_tcp())));
    CHECK(unicast.ec == errc::ipv6_unrecognized_option);
    REQUIRE(unicast.chain.problem.has_value());
    CHECK(*unicast.chain.problem == problem(icmpv6_parameter_problem_code::unrecognized_option, 42));

    const walked multicast = walk(packet(hop_by_hop, concat(one_option_header(tcp, 0xde), syn_tcp()), all_nodes));
    CHECK(multicast.ec == errc::ipv6_unrecognized_option);
    CHECK_FALSE(multicast.chain.problem.has_value());
}

// The action comes from the two high bits alone (RFC 8200 §4.2); the third says only
// whether the data may change en route.
TEST_CASE("ipv6_option_action_is_read_from_the_two_high_bits")
{
    CHECK(unrecognized_option_action(0x00) == ipv6_option_action::skip);
    CHECK(unrecognized_option_action(0x3f) == ipv6_option_action::skip);
    CHECK(unrecognized_option_action(0x40) == ipv6_option_action::discard);
    CHECK(unrecognized_option_action(0x80) == ipv6_option_action::discard_and_report);
    CHECK(unrecognized_option_action(0xc2) == ipv6_option_action::discard_and_report_unless_multicast);
    CHECK(option_data_may_change(0x20));
    CHECK_FALSE(option_data_may_change(0xdf));
}

// The pointer counts from the IPv6 header's first byte, through earlier headers.
TEST_CASE("ipv6_option_unknown_in_the_second_destination_options_points_past_the_first")
{
    const bytes first = one_option_header(routing, 0x1e);
    const bytes second = one_option_header(tcp, 0x9e);
    const walked w =
        walk(packet(destination_options, concat(concat(concat(first, routing_header(destination_options, 4, 0)), second),
                                                syn_tcp())));
    CHECK(w.ec == errc::ipv6_unrecognized_option);
    REQUIRE(w.chain.problem.has_value());
    CHECK(w.chain.problem->pointer == 40 + 8 + 24 + 2);
}

// RFC 2675 is not supported: the Jumbo Payload option (0xC2) is unrecognized, 11.
TEST_CASE("ipv6_option_jumbo_payload_is_unrecognized")
{
    const walked w = walk(packet(hop_by_hop, concat(from_hex("06 00 c2 04 00 01 00 00"), syn_tcp())));
    CHECK(w.ec == errc::ipv6_unrecognized_option);
    REQUIRE(w.chain.problem.has_value());
    CHECK(w.chain.problem->pointer == 42);
}

TEST_CASE("ipv6_option_length_past_the_header_is_option_beyond_header")
{
    const walked w = walk(packet(hop_by_hop, concat(from_hex("06 00 01 07 00 00 00 00"), syn_tcp())));
    CHECK(w.ec == errc::ipv6_option_beyond_header);
    CHECK_FALSE(w.chain.problem.has_value());
}

TEST_CASE("ipv6_option_type_in_the_last_byte_without_length_is_option_beyond_header")
{
    const walked w = walk(packet(destination_options, concat(from_hex("06 00 01 03 00 00 00 1e"), syn_tcp())));
    CHECK(w.ec == errc::ipv6_option_beyond_header);
}

// RFC 8200 §4.6: Destination Options, as many as come, the same format as Hop-by-Hop.
TEST_CASE("ipv6_chain_destination_options_is_walked")
{
    const walked w = walk(packet(destination_options, concat(from_hex("3a 00 01 04 00 00 00 00"), filler(8))));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == icmpv6);
    CHECK(w.chain.offset == 48);
    CHECK(w.chain.next_header_at == 40);
}

// RFC 8200 §4.1: Hop-by-Hop only right after the IPv6 header; a Next Header of zero
// anywhere else is answered as an unrecognized Next Header, pointing at that byte.
TEST_CASE("ipv6_chain_hop_by_hop_after_destination_options_is_misplaced")
{
    const bytes dest = from_hex("00 00 01 04 00 00 00 00");
    const walked w = walk(packet(destination_options, concat(concat(dest, one_option_header(tcp, 1)), syn_tcp())));
    CHECK(w.ec == errc::ipv6_misplaced_hop_by_hop);
    REQUIRE(w.chain.problem.has_value());
    CHECK(*w.chain.problem == problem(icmpv6_parameter_problem_code::unrecognized_next_header, 40));
}

TEST_CASE("ipv6_chain_two_hop_by_hop_headers_is_misplaced")
{
    const bytes first = from_hex("00 00 01 04 00 00 00 00");
    const walked w = walk(packet(hop_by_hop, concat(concat(first, one_option_header(tcp, 1)), syn_tcp())));
    CHECK(w.ec == errc::ipv6_misplaced_hop_by_hop);
}

// RFC 5095 §3: a type 0 Routing header is treated as an unrecognized type: ignored with
// Segments Left 0 ...
TEST_CASE("ipv6_routing_type_0_with_no_segments_left_is_ignored")
{
    const walked w = walk(packet(routing, concat(routing_header(tcp, 0, 0), syn_tcp())));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == tcp);
    CHECK(w.chain.offset == 64);
    CHECK(w.chain.next_header_at == 40);
}

// ... and otherwise discarded, Parameter Problem code 0 at the Routing Type (RFC 8200 §4.4).
TEST_CASE("ipv6_routing_type_0_with_segments_left_is_dropped_with_parameter_problem")
{
    const walked w = walk(packet(routing, concat(routing_header(tcp, 0, 1), syn_tcp())));
    CHECK(w.ec == errc::ipv6_routing_type_0);
    REQUIRE(w.chain.problem.has_value());
    CHECK(*w.chain.problem == problem(icmpv6_parameter_problem_code::erroneous_header_field, 42));
}

// RFC 8200 §4.4: a host executes no routing type (2, 3, 4 are Mobile IPv6, RPL and SRv6).
TEST_CASE("ipv6_routing_other_types_are_ignored_or_dropped_by_segments_left")
{
    for (const std::uint8_t type : {std::uint8_t{2}, std::uint8_t{3}, std::uint8_t{4}, std::uint8_t{253}}) {
        CAPTURE(int{type});
        const walked ignored = walk(packet(routing, concat(routing_header(tcp, type, 0), syn_tcp())));
        CHECK(ignored.ec == std::error_code{});
        CHECK(ignored.chain.offset == 64);
        const walked dropped = walk(packet(routing, concat(routing_header(tcp, type, 3), syn_tcp())));
        CHECK(dropped.ec == errc::ipv6_unrecognized_routing_type);
        REQUIRE(dropped.chain.problem.has_value());
        CHECK(*dropped.chain.problem == problem(icmpv6_parameter_problem_code::erroneous_header_field, 42));
    }
}

// RFC 6946 §4: an atomic fragment (offset 0, M 0) is processed in isolation, as a
// whole packet: the walk goes on past its header.
TEST_CASE("ipv6_fragment_atomic_is_walked_past")
{
    const walked w = walk(packet(fragment, concat(fragment_header(tcp, 0, false), syn_tcp())));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == tcp);
    CHECK(w.chain.offset == 48);
    CHECK(w.chain.next_header_at == 40);
    REQUIRE(w.chain.fragment.has_value());
    CHECK(w.chain.fragment->is_atomic());
    CHECK(w.chain.fragment->identification == 0x12345678);
    CHECK(w.chain.fragment->header_at == 40);
    CHECK(w.chain.fragment->next_header_at == 6);
}

// RFC 8200 §4.5: a first fragment holding the whole chain stops the walk at its data.
TEST_CASE("ipv6_fragment_first_with_the_whole_chain_stops_the_walk")
{
    const bytes data = concat(syn_tcp(), filler(8));  // 48 bytes: a multiple of 8
    const walked w = walk(packet(fragment, concat(fragment_header(tcp, 0, true, 0xcafef00d), data)));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == tcp);
    CHECK(w.chain.offset == 48);
    CHECK(w.chain.next_header_at == 40);
    CHECK(w.chain.upper_layer.size() == 48);
    REQUIRE(w.chain.fragment.has_value());
    const ipv6_fragment& f = *w.chain.fragment;
    CHECK_FALSE(f.is_atomic());
    CHECK(f.more_fragments);
    CHECK(f.offset == 0);
    CHECK(f.identification == 0xcafef00d);
    CHECK(f.next_header == tcp);
    CHECK(f.header_at == 40);
    CHECK(f.data_at() == 48);
    CHECK(f.next_header_at == 6);
}

TEST_CASE("ipv6_fragment_last_reads_offset_and_no_more_fragments")
{
    const walked w = walk(packet(fragment, concat(fragment_header(tcp, 1448, false), filler(100))));
    REQUIRE(w.ec == std::error_code{});
    REQUIRE(w.chain.fragment.has_value());
    CHECK(w.chain.fragment->offset == 1448);
    CHECK_FALSE(w.chain.fragment->more_fragments);
    CHECK(w.chain.upper_layer.size() == 100);
}

// RFC 8200 §4.5: the two reserved fields are "ignored on reception".
TEST_CASE("ipv6_fragment_reserved_bits_are_ignored")
{
    bytes f = fragment_header(tcp, 0, false);
    f[1] = 0xff;
    f[3] |= 0x06;
    const walked w = walk(packet(fragment, concat(f, syn_tcp())));
    REQUIRE(w.ec == std::error_code{});
    REQUIRE(w.chain.fragment.has_value());
    CHECK(w.chain.fragment->is_atomic());
}

// Per-fragment headers before the Fragment header are walked first (RFC 8200 §4.5).
TEST_CASE("ipv6_fragment_after_destination_options_records_where_it_is")
{
    const bytes dest = from_hex("2c 00 01 04 00 00 00 00");
    const walked w = walk(packet(destination_options, concat(concat(dest, fragment_header(tcp, 8, true)), filler(16))));
    REQUIRE(w.ec == std::error_code{});
    REQUIRE(w.chain.fragment.has_value());
    CHECK(w.chain.fragment->header_at == 48);
    CHECK(w.chain.fragment->next_header_at == 40);
    CHECK(w.chain.offset == 56);
    CHECK(w.chain.next_header_at == 48);
}

// RFC 8200 §4.5: a fragment with M set whose length is no multiple of 8: Parameter
// Problem code 0 pointing at the Payload Length field.
TEST_CASE("ipv6_fragment_not_a_multiple_of_8_with_more_is_bad_length")
{
    const walked w = walk(packet(fragment, concat(fragment_header(tcp, 8, true), filler(13))));
    CHECK(w.ec == errc::ipv6_fragment_bad_length);
    REQUIRE(w.chain.problem.has_value());
    CHECK(*w.chain.problem == problem(icmpv6_parameter_problem_code::erroneous_header_field, 4));
}

TEST_CASE("ipv6_fragment_last_of_any_length_is_accepted")
{
    const walked w = walk(packet(fragment, concat(fragment_header(tcp, 8, false), filler(13))));
    CHECK(w.ec == std::error_code{});
}

// RFC 8200 §4.5: a fragment that would make the reassembled payload longer than 65,535
// bytes: Parameter Problem code 0 pointing at the Fragment Offset field. The payload
// counts the per-fragment headers too.
TEST_CASE("ipv6_fragment_ending_past_65535_bytes_is_too_large")
{
    const walked fits = walk(packet(fragment, concat(fragment_header(tcp, 65528, false), filler(7))));
    CHECK(fits.ec == std::error_code{});

    const walked past = walk(packet(fragment, concat(fragment_header(tcp, 65528, false), filler(8))));
    CHECK(past.ec == errc::ipv6_fragment_too_large);
    REQUIRE(past.chain.problem.has_value());
    CHECK(*past.chain.problem == problem(icmpv6_parameter_problem_code::erroneous_header_field, 42));

    const bytes dest = from_hex("2c 00 01 04 00 00 00 00");
    const walked behind = walk(packet(destination_options, concat(concat(dest, fragment_header(tcp, 65528, false)),
                                                                  filler(7))));
    CHECK(behind.ec == errc::ipv6_fragment_too_large);
    REQUIRE(behind.chain.problem.has_value());
    CHECK(behind.chain.problem->pointer == 50);
}

// RFC 7112 §5, RFC 8200 §4.5: a first fragment without the whole header chain through
// the upper-layer header: Parameter Problem code 3, pointer 0.
TEST_CASE("ipv6_fragment_first_with_half_a_tcp_header_is_an_incomplete_chain")
{
    const walked w = walk(packet(fragment, concat(fragment_header(tcp, 0, true), filler(16))));
    CHECK(w.ec == errc::ipv6_incomplete_header_chain);
    REQUIRE(w.chain.problem.has_value());
    CHECK(*w.chain.problem == problem(icmpv6_parameter_problem_code::incomplete_header_chain, 0));
}

TEST_CASE("ipv6_fragment_first_ending_inside_its_extension_headers_is_an_incomplete_chain")
{
    // A Destination Options header of 16 bytes announced, 8 present in the fragment.
    const walked w = walk(packet(fragment, concat(fragment_header(destination_options, 0, true),
                                                  from_hex("06 01 01 04 00 00 00 00"))));
    CHECK(w.ec == errc::ipv6_incomplete_header_chain);
}

TEST_CASE("ipv6_fragment_first_with_extension_headers_then_no_upper_layer_is_an_incomplete_chain")
{
    const walked w = walk(packet(fragment, concat(fragment_header(destination_options, 0, true),
                                                  from_hex("06 00 01 04 00 00 00 00"))));
    CHECK(w.ec == errc::ipv6_incomplete_header_chain);
}

TEST_CASE("ipv6_fragment_first_ending_in_no_next_header_is_complete")
{
    const walked w = walk(packet(fragment, concat(fragment_header(no_next, 0, true), filler(8))));
    CHECK(w.ec == std::error_code{});
}

// RFC 7112 concerns first fragments only; a later one's bytes are data.
TEST_CASE("ipv6_fragment_non_first_with_few_bytes_is_accepted")
{
    const walked w = walk(packet(fragment, concat(fragment_header(tcp, 16, true), filler(8))));
    CHECK(w.ec == std::error_code{});
}

// RFC 8200 §4.7: nothing follows No Next Header; the bytes after it are ignored.
TEST_CASE("ipv6_chain_no_next_header_ends_the_walk")
{
    const walked w = walk(packet(no_next, filler(11)));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == no_next);
    CHECK(w.chain.offset == 40);
}

// RFC 8200 §4: an upper layer the node does not know: the caller answers Parameter
// Problem code 1 pointing at the Next Header byte that named it.
TEST_CASE("ipv6_chain_unknown_next_header_is_answered_at_its_byte")
{
    const walked w = walk(packet(destination_options, concat(from_hex("fd 00 01 04 00 00 00 00"), filler(4))));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == 253);
    CHECK(w.chain.unrecognized_next_header() ==
          problem(icmpv6_parameter_problem_code::unrecognized_next_header, 40));
    const walked bare = walk(packet(253, {}));
    CHECK(bare.chain.unrecognized_next_header().pointer == 6);
}

// -- truncated chains, each its own case -------------------------------------------------

TEST_CASE("ipv6_chain_hop_by_hop_in_an_empty_payload_is_truncated")
{
    const walked w = walk(packet(hop_by_hop, {}));
    CHECK(w.ec == errc::ipv6_extension_truncated);
    CHECK_FALSE(w.chain.problem.has_value());
}

TEST_CASE("ipv6_chain_one_byte_of_an_extension_header_is_truncated")
{
    CHECK(walk(packet(destination_options, {tcp})).ec == errc::ipv6_extension_truncated);
    CHECK(walk(packet(routing, {tcp})).ec == errc::ipv6_extension_truncated);
}

TEST_CASE("ipv6_chain_hdr_ext_len_past_the_payload_is_truncated")
{
    CHECK(walk(packet(hop_by_hop, from_hex("06 01 01 04 00 00 00 00"))).ec == errc::ipv6_extension_truncated);
    CHECK(walk(packet(routing, from_hex("06 02 00 00 00 00 00 00"))).ec == errc::ipv6_extension_truncated);
}

TEST_CASE("ipv6_chain_fragment_header_of_7_bytes_is_truncated")
{
    bytes f = fragment_header(tcp, 0, false);
    f.pop_back();
    CHECK(walk(packet(fragment, f)).ec == errc::ipv6_extension_truncated);
}

// The payload length bounds the walk, not the bytes a device handed over.
TEST_CASE("ipv6_chain_header_past_the_payload_length_into_padding_is_truncated")
{
    bytes p = packet(destination_options, from_hex("06 01 01 04 00 00 00 00"));
    p.resize(p.size() + 8, 0);  // link padding that would complete the header
    CHECK(walk(p).ec == errc::ipv6_extension_truncated);
}

TEST_CASE("ipv6_chain_truncated_after_a_good_header_is_truncated")
{
    const bytes chain = concat(from_hex("3c 00 01 04 00 00 00 00"), from_hex("06 01"));
    CHECK(walk(packet(destination_options, chain)).ec == errc::ipv6_extension_truncated);
}

// RFC 8200 §4.1 allows any number of Destination Options headers; the walk is linear:
// every header advances it by 8 bytes or more, so 8,000 of them end in 8,000 steps, and
// no chain can turn back on itself.
TEST_CASE("ipv6_chain_of_8000_destination_options_is_walked_linearly")
{
    bytes chain = destination_options_chain(8000);
    chain[chain.size() - 8] = tcp;
    const walked w = walk(packet(destination_options, concat(chain, syn_tcp())));
    REQUIRE(w.ec == std::error_code{});
    CHECK(w.chain.protocol == tcp);
    CHECK(w.chain.offset == 40 + 64000);
    CHECK(w.chain.next_header_at == 40 + 64000 - 8);
}

TEST_CASE("ipv6_chain_of_destination_options_that_never_ends_is_truncated")
{
    const bytes chain = destination_options_chain(8000);
    CHECK(walk(packet(destination_options, chain)).ec == errc::ipv6_extension_truncated);
}

// -- skipping headers by length (quotes, fragments' rest) --------------------------------

TEST_CASE("ipv6_skip_extension_headers_goes_past_every_kind")
{
    const bytes chain = concat(concat(concat(one_option_header(routing, 0x9e), routing_header(fragment, 0, 5)),
                                      fragment_header(destination_options, 0, true)),
                               one_option_header(tcp, 0xde));
    const bytes p = packet(hop_by_hop, concat(chain, filler(8)));
    const std::optional<ipv6_upper_layer> u = skip_extension_headers(p, hop_by_hop, 40);
    REQUIRE(u.has_value());
    CHECK(*u == ipv6_upper_layer{tcp, 40 + 8 + 24 + 8 + 8});
}

TEST_CASE("ipv6_skip_extension_headers_stops_at_a_non_first_fragment")
{
    const bytes p = packet(fragment, concat(fragment_header(tcp, 8, true), filler(8)));
    CHECK_FALSE(skip_extension_headers(p, fragment, 40).has_value());
}

TEST_CASE("ipv6_skip_extension_headers_of_a_cut_chain_is_nullopt")
{
    const bytes p = packet(destination_options, from_hex("06 01 01 04 00 00 00 00"));
    CHECK_FALSE(skip_extension_headers(p, destination_options, 40).has_value());
    CHECK_FALSE(skip_extension_headers(p, fragment, 44).has_value());
    CHECK_FALSE(skip_extension_headers(p, tcp, p.size() + 1).has_value());
    CHECK(skip_extension_headers(p, tcp, p.size()) == ipv6_upper_layer{tcp, p.size()});
}

// -- the pseudo-header checksum (RFC 8200 §8.1) ------------------------------------------

TEST_CASE("ipv6_tcp_checksum_matches_a_value_computed_apart")
{
    bytes segment = syn_tcp();
    segment[16] = segment[17] = 0;
    CHECK(ipv6_upper_layer_checksum(doc_two, doc_one, tcp, segment) == 0x70c8);
    // Over the segment with its checksum in place the sum verifies.
    CHECK(ipv6_upper_layer_checksum(doc_two, doc_one, tcp, syn_tcp()) == 0);
    // A different destination or Next Header gives another sum.
    CHECK(ipv6_upper_layer_checksum(doc_two, doc_two, tcp, syn_tcp()) != 0);
    CHECK(ipv6_upper_layer_checksum(doc_two, doc_one, 17, syn_tcp()) != 0);
}

// RFC 8200 §8.1: the pseudo-header is source, destination, a 32-bit length, three zero
// bytes and the Next Header — the same sum as those 40 bytes laid out.
TEST_CASE("ipv6_pseudo_header_sums_as_its_40_bytes")
{
    const bytes laid_out = concat(concat(bytes(doc_two.octets.begin(), doc_two.octets.end()),
                                         bytes(doc_one.octets.begin(), doc_one.octets.end())),
                                  from_hex("00 01 23 45 00 00 00 06"));
    checksum_accumulator by_fields;
    add_ipv6_pseudo_header(by_fields, doc_two, doc_one, tcp, 0x12345);
    checksum_accumulator by_bytes;
    by_bytes.add(laid_out);
    CHECK(by_fields.sum() == by_bytes.sum());
}

TEST_CASE("ipv6_checksum_of_an_odd_length_upper_layer_pads_with_zero")
{
    const bytes odd = filler(13, 3);
    bytes even = odd;
    even.push_back(0);
    // The length in the pseudo-header differs (13 against 14), so compare with it fixed.
    checksum_accumulator a;
    add_ipv6_pseudo_header(a, doc_two, doc_one, icmpv6, 13);
    a.add(even);
    CHECK(ipv6_upper_layer_checksum(doc_two, doc_one, icmpv6, odd) == a.finish());
}

// -- addresses as text (RFC 4291 §2.2, RFC 5952) -----------------------------------------

TEST_CASE("ipv6_address_parse_accepts_the_forms_of_rfc_4291")
{
    CHECK(parse("::") == ipv6_address{});
    CHECK(parse("::1") == ipv6_address{0, 0, 0, 0, 0, 0, 0, 1});
    CHECK(parse("1::") == ipv6_address{1, 0, 0, 0, 0, 0, 0, 0});
    CHECK(parse("2001:db8::1") == doc_one);
    CHECK(parse("2001:DB8:0:0:0:0:0:1") == doc_one);
    CHECK(parse("2001:0db8:0000:0000:0000:0000:0000:0001") == doc_one);
    CHECK(parse("2001:db8::1:0:0:1") == ipv6_address{0x2001, 0xdb8, 0, 0, 1, 0, 0, 1});
    CHECK(parse("fe80::1:2") == ipv6_address{0xfe80, 0, 0, 0, 0, 0, 1, 2});
    CHECK(parse("1:2:3:4:5:6:7::") == ipv6_address{1, 2, 3, 4, 5, 6, 7, 0});
    CHECK(parse("::2:3:4:5:6:7:8") == ipv6_address{0, 2, 3, 4, 5, 6, 7, 8});
    CHECK(parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") ==
          ipv6_address{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff});
}

// RFC 4291 §2.2 (3): the low 32 bits as a dotted quad.
TEST_CASE("ipv6_address_parse_accepts_an_embedded_ipv4_address")
{
    CHECK(parse("::ffff:1.2.3.4") == ipv6_address::v4_mapped(ipv4_address{1, 2, 3, 4}));
    CHECK(parse("::1.2.3.4") == ipv6_address{0, 0, 0, 0, 0, 0, 0x0102, 0x0304});
    CHECK(parse("64:ff9b::192.0.2.33") == ipv6_address{0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221});
    CHECK(parse("1:2:3:4:5:6:7.8.9.10") == ipv6_address{1, 2, 3, 4, 5, 6, 0x0708, 0x090a});
}

TEST_CASE("ipv6_address_parse_rejects_malformed_text")
{
    for (const std::string_view bad : {
             "", ":", ":::", "1::2::3", "::1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::",
             "::1:2:3:4:5:6:7:8", ":1::", "1:", "1::2:", "12345::", "g::1", "fe80::1%eth0", "%eth0",
             "[::1]", "::1/128", " ::1", "::1 ", "1.2.3.4", "::1.2.3", "::1.2.3.4.5", "::01.2.3.4",
             "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:256.1.1.1", "1:::2", "::-1"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse(bad).has_value());
    }
}

// RFC 5952: no leading zeros (§4.1), "::" for the longest run of two or more zero
// groups, the first of equal runs (§4.2), lowercase (§4.3), IPv4-mapped dotted (§5).
TEST_CASE("ipv6_address_to_string_writes_the_rfc_5952_form")
{
    CHECK(ipv6_address{}.to_string() == "::");
    CHECK(ipv6_address{0, 0, 0, 0, 0, 0, 0, 1}.to_string() == "::1");
    CHECK(ipv6_address{1, 0, 0, 0, 0, 0, 0, 0}.to_string() == "1::");
    CHECK(doc_one.to_string() == "2001:db8::1");
    CHECK(ipv6_address{0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}.to_string() == "2001:db8::1:0:0:1");
    CHECK(ipv6_address{0x2001, 0xdb8, 0, 1, 1, 1, 1, 1}.to_string() == "2001:db8:0:1:1:1:1:1");
    CHECK(ipv6_address{0x2001, 0, 0, 1, 0, 0, 0, 1}.to_string() == "2001:0:0:1::1");
    CHECK(ipv6_address{0x2001, 0xdb8, 0xabcd, 0x12, 0, 0, 0, 0}.to_string() == "2001:db8:abcd:12::");
    CHECK(ipv6_address{0xfe80, 0, 0, 0, 0x0200, 0x5eff, 0xfe00, 0x5301}.to_string() == "fe80::200:5eff:fe00:5301");
    CHECK(ipv6_address::v4_mapped(ipv4_address{1, 2, 3, 4}).to_string() == "::ffff:1.2.3.4");
    CHECK(ipv6_address{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff}.to_string() ==
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST_CASE("ipv6_address_to_chars_writes_at_most_39_characters")
{
    std::array<char, ipv6_address::text_capacity> text{};
    const ipv6_address longest{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff};
    CHECK(longest.to_chars(text) == 39);
    CHECK(ipv6_address::v4_mapped(ipv4_address{255, 255, 255, 255}).to_chars(text) == 22);
}

TEST_CASE("ipv6_address_to_string_round_trips_through_parse")
{
    for (const std::string_view text : {"::", "::1", "2001:db8::1:0:0:1", "::ffff:10.0.0.1", "fd00::2", "ff02::1",
                                        "1:2:3:4:5:6:7:8", "fe80::1:0:0:0", "0:1::"}) {
        CAPTURE(text);
        const std::optional<ipv6_address> a = parse(text);
        REQUIRE(a.has_value());
        CHECK(a->to_string() == text);
    }
}

// RFC 4291 §2.5.2-§2.7: which addresses are which.
TEST_CASE("ipv6_address_kinds")
{
    CHECK(ipv6_address{}.is_unspecified());
    CHECK_FALSE(doc_one.is_unspecified());
    CHECK(ipv6_address{0, 0, 0, 0, 0, 0, 0, 1}.is_loopback());
    CHECK(all_nodes.is_multicast());
    CHECK_FALSE(doc_one.is_multicast());
    CHECK(ipv6_address{0xfe80, 0, 0, 0, 0, 0, 0, 1}.is_link_local());
    CHECK(ipv6_address{0xfebf, 0, 0, 0, 0, 0, 0, 1}.is_link_local());
    CHECK_FALSE(ipv6_address{0xfec0, 0, 0, 0, 0, 0, 0, 1}.is_link_local());
    const ipv6_address mapped = ipv6_address::v4_mapped(ipv4_address{10, 0, 0, 1});
    CHECK(mapped.is_v4_mapped());
    CHECK(mapped.to_v4() == ipv4_address{10, 0, 0, 1});
    CHECK_FALSE(ipv6_address{0, 0, 0, 0, 0, 0xfffe, 0, 1}.is_v4_mapped());
    CHECK(doc_one < doc_two);
}
