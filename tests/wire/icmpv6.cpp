// Tests for tcpx/wire/icmpv6.hpp: a ping -6 read and answered byte for byte, the
// checksum over the IPv6 pseudo-header, malformed messages each as their own case,
// error messages quoting up to RFC 4443 §2.4(c)'s 1280 bytes, quote parsing through
// extension headers, and every case of §2.4(e) in which no error may be sent.
// Have open: RFC 4443 §2-§4, RFC 8200 §4 and §8.1, RFC 7112 §5.
//
// The checksums of the hand-written vectors (0x744b, 0x734b, 0x7fd1, 0x79d5) were
// computed apart from checksum.hpp, by a plain RFC 1071 sum in python3 over the RFC
// 8200 §8.1 pseudo-header (source, destination, 32-bit length, 00 00 00 3a) and the
// message with its checksum field zero; the tests below verify each again.
#include <tcpx/wire/icmpv6.hpp>
#include <tcpx/wire/ipv6.hpp>

#include <doctest/doctest.h>

#include "support/hex.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>  // doctest prints a failed std::error_code comparison through it
#include <span>
#include <system_error>
#include <vector>

using namespace tcpx;
using namespace tcpx::wire;

namespace {

using bytes = std::vector<std::uint8_t>;

using tcpx_test::concat;
using tcpx_test::from_hex;

constexpr ipv6_address us{0xfd00, 0, 0, 0, 0, 0, 0, 1};  // fd00::1
constexpr ipv6_address peer{0xfd00, 0, 0, 0, 0, 0, 0, 2};
constexpr ipv6_address doc_one{0x2001, 0xdb8, 0, 0, 0, 0, 0, 1};
constexpr ipv6_address doc_two{0x2001, 0xdb8, 0, 0, 0, 0, 0, 2};
constexpr ipv6_address all_nodes{0xff02, 0, 0, 0, 0, 0, 0, 1};

constexpr std::uint8_t tcp = 6;
constexpr std::uint8_t udp = 17;
constexpr std::uint8_t fragment = 44;
constexpr std::uint8_t icmpv6 = 58;
constexpr std::uint8_t destination_options = 60;

// `ping -6 -c 1 fd00::1` from Linux at fd00::2: identifier 0x1c2d, sequence 1, and 56
// data bytes: a 16-byte struct timeval, then the pattern 10 11 12 ... 37.
bytes ping_data()
{
    return from_hex(
        "10 2a 5f 66 00 00 00 00 c1 a3 05 00 00 00 00 00"
        "10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27"
        "28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37");
}
bytes ping_request()
{
    return concat(from_hex("60 00 00 00 00 40 3a 40"
                           "fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02"
                           "fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01"
                           "80 00 74 4b 1c 2d 00 01"),
                  ping_data());
}
// What tcpx answers: addresses swapped, type 129, and the checksum 0x0100 lower (only
// the type changed; the pseudo-header sums the same with the addresses swapped).
bytes ping_reply()
{
    return concat(from_hex("60 00 00 00 00 40 3a 40"
                           "fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01"
                           "fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02"
                           "81 00 73 4b 1c 2d 00 01"),
                  ping_data());
}

// A SYN from [2001:db8::2]:40000 to [2001:db8::1]:80, where nobody listens; its TCP
// checksum is checked in ipv6.cpp. Sequence number 0x0a1b2c3d.
bytes syn_packet()
{
    return from_hex(
        "60 0a bc de 00 28 06 40"
        "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
        "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
        "9c 40 00 50 0a 1b 2c 3d 00 00 00 00 a0 02 fd 20 70 c8 00 00"
        "02 04 05 a0 04 02 08 0a 00 00 ab cd 00 00 00 00 01 03 03 07");
}
// RFC 4443 §3.1: the port unreachable tcpx sends about it, quoting all 80 bytes.
bytes syn_port_unreachable()
{
    return concat(from_hex("60 00 00 00 00 58 3a 40"
                           "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
                           "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
                           "01 04 7f d1 00 00 00 00"),
                  syn_packet());
}

// A packet from `from` to `to`, Next Header `next`, payload `payload`; by ipv6_header::emit.
bytes packet(const ipv6_address& from, const ipv6_address& to, std::uint8_t next, const bytes& payload)
{
    ipv6_header h;
    h.source = from;
    h.destination = to;
    h.next_header = next;
    h.payload_length = static_cast<std::uint16_t>(payload.size());
    bytes p(ipv6_header::size);
    REQUIRE(h.emit(p) == std::error_code{});
    return concat(p, payload);
}

// An ICMPv6 message from `from` to `to`: type, code, the 4 type-specific bytes, the
// body, and its checksum filled in over the pseudo-header (ipv6.cpp checks that sum).
bytes icmpv6_message(const ipv6_address& from, const ipv6_address& to, std::uint8_t type, std::uint8_t code,
                     const bytes& rest_of_header, const bytes& body)
{
    REQUIRE(rest_of_header.size() == 4);
    bytes m = concat(concat({type, code, 0, 0}, rest_of_header), body);
    const std::uint16_t c = ipv6_upper_layer_checksum(from, to, icmpv6, m);
    m[2] = static_cast<std::uint8_t>(c >> 8);
    m[3] = static_cast<std::uint8_t>(c & 0xff);
    return m;
}

bytes echo_request(const bytes& data) { return icmpv6_message(peer, us, 128, 0, {0x1c, 0x2d, 0, 1}, data); }

bytes pattern(std::size_t n, std::uint8_t seed = 0)
{
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
    return b;
}

struct emitted {
    std::error_code ec;
    std::size_t written = 0;
    bytes out;
};

emitted reply_to(const bytes& request_packet, std::size_t out_size = 70000)
{
    const ipv6_view request{request_packet};
    REQUIRE(request.check() == std::error_code{});
    ipv6_header_chain chain;
    REQUIRE(parse_header_chain(request, chain) == std::error_code{});
    const icmpv6_view message{chain.upper_layer};
    REQUIRE(message.check(request.source(), request.destination()) == std::error_code{});
    emitted e;
    e.out.assign(out_size, 0xee);
    e.ec = emit_icmpv6_echo_reply(request, message, request.destination(), e.out, e.written);
    return e;
}

emitted error_about(const bytes& offending_packet, const icmpv6_error& error, std::size_t out_size = 2000)
{
    const ipv6_view offending{offending_packet};
    REQUIRE(offending.check() == std::error_code{});
    emitted e;
    e.out.assign(out_size, 0xee);
    e.ec = emit_icmpv6_error(error, offending, offending.destination(), e.out, e.written);
    return e;
}

const icmpv6_error port_unreachable = icmpv6_error::destination_unreachable(icmpv6_unreachable_code::port_unreachable);

// The ICMPv6 message of an emitted packet, checked: the packet's header and the
// message's checksum over its pseudo-header.
icmpv6_view message_of(const bytes& p)
{
    const ipv6_view v{p};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.next_header() == icmpv6);
    const icmpv6_view m{v.payload()};
    REQUIRE(m.check(v.source(), v.destination()) == std::error_code{});
    return m;
}

// The view refers to the bytes: never to a temporary's.
icmpv6_view message_of(const bytes&& p) = delete;

// What an emit wrote: the first `written` bytes.
bytes sent(const emitted& e) { return bytes(e.out.begin(), e.out.begin() + static_cast<std::ptrdiff_t>(e.written)); }

bool may_send(const icmpv6_error& error, const bytes& p)
{
    const ipv6_view v{p};
    ipv6_header_chain chain;
    if (!v.check()) (void)parse_header_chain(v, chain);
    return may_send_icmpv6_error(error, v, chain);
}

bool untouched(const bytes& out)
{
    return std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0xee; });
}

}  // namespace

// -- types and codes (RFC 4443 §2.1, §3, §4) --------------------------------------------

static_assert(static_cast<int>(icmpv6_type::destination_unreachable) == 1);
static_assert(static_cast<int>(icmpv6_type::packet_too_big) == 2);
static_assert(static_cast<int>(icmpv6_type::time_exceeded) == 3);
static_assert(static_cast<int>(icmpv6_type::parameter_problem) == 4);
static_assert(static_cast<int>(icmpv6_type::echo_request) == 128);
static_assert(static_cast<int>(icmpv6_type::echo_reply) == 129);
static_assert(static_cast<int>(icmpv6_unreachable_code::port_unreachable) == 4);
static_assert(static_cast<int>(icmpv6_unreachable_code::reject_route) == 6);
static_assert(static_cast<int>(icmpv6_time_exceeded_code::fragment_reassembly) == 1);
static_assert(static_cast<int>(icmpv6_parameter_problem_code::incomplete_header_chain) == 3);
static_assert(icmpv6_error_max_size == 1280);

// RFC 4443 §2.1: the high bit of the type tells errors (0-127) from informational messages.
static_assert(is_icmpv6_error(0));
static_assert(is_icmpv6_error(1));
static_assert(is_icmpv6_error(127));
static_assert(!is_icmpv6_error(128));
static_assert(!is_icmpv6_error(255));

// -- a real echo request -------------------------------------------------------------

TEST_CASE("icmpv6_view_echo_request_parses")
{
    const bytes p = ping_request();
    const ipv6_view ip{p};
    REQUIRE(ip.check() == std::error_code{});
    ipv6_header_chain chain;
    REQUIRE(parse_header_chain(ip, chain) == std::error_code{});
    CHECK(chain.protocol == icmpv6);

    const icmpv6_view v{chain.upper_layer};
    REQUIRE(v.check(peer, us) == std::error_code{});
    CHECK(v.type() == 128);
    CHECK_FALSE(v.is_error());
    CHECK(v.code() == 0);
    CHECK(v.checksum() == 0x744b);
    CHECK(v.identifier() == 0x1c2d);
    CHECK(v.sequence() == 1);
    REQUIRE(v.body().size() == 56);
    CHECK(v.body().data() == p.data() + 48);
    CHECK(v.body()[55] == 0x37);
    CHECK(v.bytes().size() == 64);
    // A query quotes nothing.
    CHECK(v.quoted().empty());
    CHECK_FALSE(v.quoted_transport().has_value());
}

// RFC 4443 §2.3: the pseudo-header is part of the sum, so the same bytes between other
// addresses do not verify.
TEST_CASE("icmpv6_check_with_other_addresses_is_a_bad_checksum")
{
    const bytes p = ping_request();
    const icmpv6_view v{std::span{p}.subspan(40)};
    CHECK(v.check(peer, us) == std::error_code{});
    CHECK(v.check(us, peer) == std::error_code{});  // the sum is commutative in the addresses
    CHECK(v.check(peer, doc_one) == errc::icmpv6_bad_checksum);
    CHECK(v.check(doc_two, us) == errc::icmpv6_bad_checksum);
}

TEST_CASE("icmpv6_check_accepts_an_odd_length_message")
{
    const bytes m = echo_request(pattern(5));
    REQUIRE(m.size() == 13);
    CHECK(icmpv6_view{m}.check(peer, us) == std::error_code{});
}

TEST_CASE("icmpv6_check_accepts_a_bare_8_byte_header")
{
    const bytes m = echo_request({});
    const icmpv6_view v{m};
    REQUIRE(v.check(peer, us) == std::error_code{});
    CHECK(v.body().empty());
}

// -- malformed messages, each its own case ---------------------------------------------

TEST_CASE("icmpv6_check_empty_message_is_truncated")
{
    CHECK(icmpv6_view{std::span<const std::uint8_t>{}}.check(peer, us) == errc::icmpv6_truncated);
}

TEST_CASE("icmpv6_check_7_bytes_is_truncated")
{
    bytes m = echo_request({});
    m.pop_back();
    CHECK(icmpv6_view{m}.check(peer, us) == errc::icmpv6_truncated);
}

TEST_CASE("icmpv6_check_bad_checksum_is_rejected")
{
    bytes m = echo_request(pattern(8));
    REQUIRE(icmpv6_view{m}.check(peer, us) == std::error_code{});
    m[3] ^= 0x01;
    CHECK(icmpv6_view{m}.check(peer, us) == errc::icmpv6_bad_checksum);
}

// RFC 4443 §2.3: unlike UDP's, the ICMPv6 checksum is never optional: zero is no
// "not computed", and a message that needs another value fails with it.
TEST_CASE("icmpv6_check_zero_checksum_is_not_skipped")
{
    bytes m = echo_request(pattern(8));
    REQUIRE((m[2] != 0 || m[3] != 0));
    m[2] = m[3] = 0;
    CHECK(icmpv6_view{m}.check(peer, us) == errc::icmpv6_bad_checksum);
}

TEST_CASE("icmpv6_check_every_single_bit_flip_is_a_bad_checksum")
{
    const bytes good = echo_request(pattern(23));
    for (std::size_t byte = 0; byte < good.size(); ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            CAPTURE(byte);
            CAPTURE(bit);
            bytes m = good;
            m[byte] ^= static_cast<std::uint8_t>(1u << bit);
            CHECK(icmpv6_view{m}.check(peer, us) == errc::icmpv6_bad_checksum);
        }
    }
}

// -- echo reply (RFC 4443 §4.2) ------------------------------------------------------------

TEST_CASE("icmpv6_emit_echo_reply_answers_ping_byte_exact")
{
    const emitted e = reply_to(ping_request(), 104);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 104);
    CHECK(e.out == ping_reply());
}

TEST_CASE("icmpv6_emit_echo_reply_writes_exactly_written_bytes")
{
    const emitted e = reply_to(ping_request(), 200);
    REQUIRE(e.ec == std::error_code{});
    REQUIRE(e.written == 104);
    CHECK(bytes(e.out.begin(), e.out.begin() + 104) == ping_reply());
    CHECK(untouched(bytes(e.out.begin() + 104, e.out.end())));
}

// RFC 4443 §4.2: "The data received in the ICMPv6 Echo Request message MUST be
// returned entirely and unmodified", and the reply verifies with the swapped addresses.
TEST_CASE("icmpv6_echo_reply_round_trip_returns_the_data_entirely")
{
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{57}, std::size_t{1232},
                                std::size_t{4000}}) {
        CAPTURE(n);
        const bytes data = pattern(n, 3);
        emitted e = reply_to(packet(peer, us, icmpv6, echo_request(data)));
        REQUIRE(e.ec == std::error_code{});
        REQUIRE(e.written == 48 + n);
        e.out.resize(e.written);
        const ipv6_view v{e.out};
        REQUIRE(v.check() == std::error_code{});
        CHECK(v.source() == us);
        CHECK(v.destination() == peer);
        CHECK(v.hop_limit() == 64);
        CHECK(v.flow_label() == 0);
        const icmpv6_view m = message_of(e.out);
        CHECK(m.type() == 129);
        CHECK(m.identifier() == 0x1c2d);
        CHECK(m.sequence() == 1);
        CHECK(bytes(m.body().begin(), m.body().end()) == data);
    }
}

TEST_CASE("icmpv6_echo_reply_keeps_a_nonzero_code")
{
    const emitted e = reply_to(packet(peer, us, icmpv6, icmpv6_message(peer, us, 128, 7, {1, 2, 3, 4}, pattern(8))));
    REQUIRE(e.ec == std::error_code{});
    const bytes out = sent(e);
    CHECK(message_of(out).code() == 7);
}

TEST_CASE("icmpv6_echo_reply_copies_the_dscp_but_not_the_ecn_field")
{
    bytes p = ping_request();
    p[0] = 0x6b;  // traffic class 0xbb: DSCP 46 (EF), ECN 11 (CE)
    p[1] = 0xb0;
    const emitted e = reply_to(p);
    REQUIRE(e.ec == std::error_code{});
    CHECK(ipv6_view{e.out}.traffic_class() == 0xb8);
}

// The request's extension headers were addressed to us; the reply carries none, and
// its length is the request's ICMPv6 message's.
TEST_CASE("icmpv6_echo_reply_to_a_request_behind_destination_options_has_none")
{
    const bytes dest = {icmpv6, 0, 1, 4, 0, 0, 0, 0};
    const emitted e = reply_to(packet(peer, us, destination_options, concat(dest, echo_request(ping_data()))));
    REQUIRE(e.ec == std::error_code{});
    REQUIRE(e.written == 104);
    CHECK(bytes(e.out.begin(), e.out.begin() + 104) == ping_reply());
}

TEST_CASE("icmpv6_echo_reply_ignores_link_padding")
{
    bytes p = ping_request();
    p.resize(p.size() + 6, 0);
    const emitted e = reply_to(p);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 104);
}

TEST_CASE("icmpv6_emit_echo_reply_into_a_short_buffer_is_buffer_too_small")
{
    const emitted e = reply_to(ping_request(), 103);
    CHECK(e.ec == errc::buffer_too_small);
    CHECK(e.written == 0);
    CHECK(untouched(e.out));
}

TEST_CASE("icmpv6_emit_echo_reply_to_anything_but_an_echo_request_is_invalid_argument")
{
    for (const std::uint8_t type : {std::uint8_t{129}, std::uint8_t{1}, std::uint8_t{135}}) {
        CAPTURE(int{type});
        const bytes m = icmpv6_message(peer, us, type, 0, {0, 0, 0, 0}, pattern(8));
        const bytes p = packet(peer, us, icmpv6, m);
        const ipv6_view request{p};
        REQUIRE(request.check() == std::error_code{});
        bytes out(200, 0xee);
        std::size_t written = 99;
        CHECK(emit_icmpv6_echo_reply(request, icmpv6_view{m}, us, out, written) == errc::invalid_argument);
        CHECK(written == 0);
        CHECK(untouched(out));
    }
}

// A reassembled request can hold more than a 16-bit payload length says once its
// extension headers are gone; the reply would not fit its own header.
TEST_CASE("icmpv6_emit_echo_reply_longer_than_65535_bytes_is_message_too_long")
{
    bytes m(65536, 0);
    m[0] = 128;
    const bytes p = ping_request();
    const ipv6_view request{p};
    REQUIRE(request.check() == std::error_code{});
    bytes out(70000, 0xee);
    std::size_t written = 99;
    CHECK(emit_icmpv6_echo_reply(request, icmpv6_view{m}, us, out, written) == errc::message_too_long);
    CHECK(written == 0);
    CHECK(untouched(out));
}

// -- error messages (RFC 4443 §3) ------------------------------------------------------------

TEST_CASE("icmpv6_emit_port_unreachable_for_a_syn_byte_exact")
{
    const emitted e = error_about(syn_packet(), port_unreachable, 128);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 128);
    CHECK(e.out == syn_port_unreachable());
}

// RFC 4443 §3.2: Packet Too Big carries the MTU in the 32 bits after the checksum.
TEST_CASE("icmpv6_emit_packet_too_big_carries_the_mtu")
{
    const emitted e = error_about(syn_packet(), icmpv6_error::packet_too_big(1280));
    REQUIRE(e.ec == std::error_code{});
    REQUIRE(e.written == 128);
    CHECK(bytes(e.out.begin() + 40, e.out.begin() + 48) == from_hex("02 00 79 d5 00 00 05 00"));
    const bytes out = sent(e);
    const icmpv6_view m = message_of(out);
    CHECK(m.is_error());
    CHECK(m.mtu() == 1280);
}

// RFC 4443 §3.4: Parameter Problem carries the pointer, from what the chain walk found.
TEST_CASE("icmpv6_emit_parameter_problem_carries_the_pointer")
{
    const bytes offending = packet(doc_two, doc_one, 43, concat(from_hex("06 02 00 01"), bytes(20, 0x11)));
    const ipv6_view v{offending};
    REQUIRE(v.check() == std::error_code{});
    ipv6_header_chain chain;
    REQUIRE(parse_header_chain(v, chain) == errc::ipv6_routing_type_0);
    REQUIRE(chain.problem.has_value());
    const emitted e = error_about(offending, icmpv6_error::parameter_problem(*chain.problem));
    REQUIRE(e.ec == std::error_code{});
    const bytes out = sent(e);
    const icmpv6_view m = message_of(out);
    CHECK(m.type() == 4);
    CHECK(m.code() == 0);
    CHECK(m.pointer() == 42);
}

// RFC 4443 §3.3, RFC 8200 §4.5: the reassembly timeout, with code 1.
TEST_CASE("icmpv6_emit_time_exceeded_writes_the_code_and_zero_unused")
{
    const emitted e =
        error_about(syn_packet(), icmpv6_error::time_exceeded(icmpv6_time_exceeded_code::fragment_reassembly));
    REQUIRE(e.ec == std::error_code{});
    CHECK(bytes(e.out.begin() + 40, e.out.begin() + 42) == bytes{3, 1});
    CHECK(bytes(e.out.begin() + 44, e.out.begin() + 48) == bytes{0, 0, 0, 0});
}

// RFC 4443 §2.4(c): as much of the packet as fits without exceeding 1280 bytes.
TEST_CASE("icmpv6_error_about_a_1500_byte_packet_is_capped_at_1280_bytes")
{
    const bytes offending = packet(doc_two, doc_one, udp, pattern(1460, 9));
    const emitted e = error_about(offending, port_unreachable, 4000);
    REQUIRE(e.ec == std::error_code{});
    REQUIRE(e.written == 1280);
    const bytes out(e.out.begin(), e.out.begin() + 1280);
    CHECK(untouched(bytes(e.out.begin() + 1280, e.out.end())));
    const icmpv6_view m = message_of(out);
    REQUIRE(m.quoted().size() == 1232);
    CHECK(std::equal(m.quoted().begin(), m.quoted().end(), offending.begin()));
    CHECK(ipv6_view{out}.payload_length() == 1240);
}

TEST_CASE("icmpv6_error_quote_is_limited_by_the_buffer")
{
    const emitted e = error_about(packet(doc_two, doc_one, udp, pattern(500)), port_unreachable, 300);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 300);
    CHECK(message_of(e.out).quoted().size() == 252);
}

TEST_CASE("icmpv6_error_quotes_a_short_packet_whole_and_not_its_padding")
{
    bytes offending = packet(doc_two, doc_one, udp, pattern(3));
    offending.resize(offending.size() + 7, 0);
    const emitted e = error_about(offending, port_unreachable);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 48 + 43);
}

// The floor: the offending header and 8 bytes after it (all of it when shorter).
TEST_CASE("icmpv6_error_into_a_buffer_below_the_floor_is_buffer_too_small")
{
    const emitted below = error_about(syn_packet(), port_unreachable, 48 + 47);
    CHECK(below.ec == errc::buffer_too_small);
    CHECK(below.written == 0);
    CHECK(untouched(below.out));
    const emitted at = error_about(syn_packet(), port_unreachable, 48 + 48);
    CHECK(at.ec == std::error_code{});
    CHECK(at.written == 96);
    const emitted short_packet = error_about(packet(doc_two, doc_one, udp, pattern(3)), port_unreachable, 48 + 43);
    CHECK(short_packet.ec == std::error_code{});
}

// RFC 4443 §2.1: an informational type carries no quote.
TEST_CASE("icmpv6_emit_error_of_an_informational_type_is_invalid_argument")
{
    const emitted e = error_about(syn_packet(), icmpv6_error{128, 0, 0});
    CHECK(e.ec == errc::invalid_argument);
    CHECK(e.written == 0);
    CHECK(untouched(e.out));
}

// -- the quote: who an error is about --------------------------------------------------------

TEST_CASE("icmpv6_quoted_transport_names_the_connection")
{
    const emitted e = error_about(syn_packet(), port_unreachable);
    REQUIRE(e.ec == std::error_code{});
    const bytes out = sent(e);
    const icmpv6_view m = message_of(out);
    const std::optional<icmpv6_quote> q = m.quoted_transport();
    REQUIRE(q.has_value());
    CHECK(q->source == doc_two);
    CHECK(q->destination == doc_one);
    CHECK(q->protocol == tcp);
    CHECK(q->source_port == 40000);
    CHECK(q->destination_port == 80);
    CHECK(q->sequence == seq32{0x0a1b2c3d});
}

// A quote cut short inside the TCP header still names the connection from 8 bytes.
TEST_CASE("icmpv6_quoted_transport_reads_only_the_header_and_8_bytes")
{
    const bytes syn = syn_packet();
    const bytes m = icmpv6_message(doc_one, doc_two, 1, 4, {0, 0, 0, 0}, bytes(syn.begin(), syn.begin() + 48));
    const std::optional<icmpv6_quote> q = icmpv6_view{m}.quoted_transport();
    REQUIRE(q.has_value());
    CHECK(q->destination_port == 80);
    const bytes shorter = icmpv6_message(doc_one, doc_two, 1, 4, {0, 0, 0, 0}, bytes(syn.begin(), syn.begin() + 47));
    CHECK_FALSE(icmpv6_view{shorter}.quoted_transport().has_value());
}

// RFC 4443 §2.4(d): the upper layer is found past the quoted extension headers,
// a first fragment's among them.
TEST_CASE("icmpv6_quoted_transport_walks_past_extension_headers")
{
    const bytes syn = syn_packet();
    const bytes tcp_header(syn.begin() + 40, syn.end());
    const bytes chain = concat(bytes{fragment, 0, 1, 4, 0, 0, 0, 0}, bytes{tcp, 0, 0, 1, 0, 0, 0, 9});
    const bytes quoted = packet(doc_two, doc_one, destination_options, concat(chain, tcp_header));
    const bytes m = icmpv6_message(doc_one, doc_two, 2, 0, {0, 0, 5, 0}, quoted);
    const std::optional<icmpv6_quote> q = icmpv6_view{m}.quoted_transport();
    REQUIRE(q.has_value());
    CHECK(q->protocol == tcp);
    CHECK(q->source_port == 40000);
    CHECK(q->sequence == seq32{0x0a1b2c3d});
}

TEST_CASE("icmpv6_quoted_transport_of_a_non_first_fragment_is_empty")
{
    const bytes quoted = packet(doc_two, doc_one, fragment, concat(bytes{tcp, 0, 0, 9, 0, 0, 0, 9}, pattern(16)));
    const bytes m = icmpv6_message(doc_one, doc_two, 1, 4, {0, 0, 0, 0}, quoted);
    CHECK_FALSE(icmpv6_view{m}.quoted_transport().has_value());
}

TEST_CASE("icmpv6_quoted_transport_of_a_cut_extension_header_is_empty")
{
    const bytes quoted = packet(doc_two, doc_one, destination_options, bytes{tcp, 3, 1, 4, 0, 0, 0, 0});
    const bytes m = icmpv6_message(doc_one, doc_two, 1, 4, {0, 0, 0, 0}, concat(quoted, pattern(8)));
    CHECK_FALSE(icmpv6_view{m}.quoted_transport().has_value());
}

TEST_CASE("icmpv6_quoted_transport_version_4_is_rejected")
{
    bytes syn = syn_packet();
    syn[0] = 0x45;
    const bytes m = icmpv6_message(doc_one, doc_two, 1, 4, {0, 0, 0, 0}, syn);
    CHECK_FALSE(icmpv6_view{m}.quoted_transport().has_value());
}

TEST_CASE("icmpv6_quoted_transport_shorter_than_the_ipv6_header_is_rejected")
{
    const bytes syn = syn_packet();
    const bytes m = icmpv6_message(doc_one, doc_two, 1, 4, {0, 0, 0, 0}, bytes(syn.begin(), syn.begin() + 39));
    CHECK_FALSE(icmpv6_view{m}.quoted_transport().has_value());
}

// An unknown error type (below 128) still quotes (RFC 4443 §2.4(b) hands it up).
TEST_CASE("icmpv6_quoted_transport_of_an_unknown_error_type_is_read")
{
    const bytes m = icmpv6_message(doc_one, doc_two, 100, 0, {0, 0, 0, 0}, syn_packet());
    CHECK(icmpv6_view{m}.quoted_transport().has_value());
}

// -- may an error be sent? (RFC 4443 §2.4(e)) ------------------------------------------------

TEST_CASE("icmpv6_may_send_error_about_an_ordinary_segment")
{
    CHECK(may_send(port_unreachable, syn_packet()));
    CHECK(may_send(port_unreachable, ping_request()));
}

// §2.4(e.1): never about an error message, known type or not.
TEST_CASE("icmpv6_may_not_send_error_about_an_icmpv6_error")
{
    for (const std::uint8_t type : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{4}, std::uint8_t{127}}) {
        CAPTURE(int{type});
        const bytes p = packet(peer, us, icmpv6, icmpv6_message(peer, us, type, 0, {0, 0, 0, 0}, syn_packet()));
        CHECK_FALSE(may_send(port_unreachable, p));
    }
}

// §2.4(e.2): nor about a Redirect.
TEST_CASE("icmpv6_may_not_send_error_about_a_redirect")
{
    CHECK_FALSE(may_send(port_unreachable,
                         packet(peer, us, icmpv6, icmpv6_message(peer, us, 137, 0, {0, 0, 0, 0}, pattern(32)))));
}

TEST_CASE("icmpv6_may_not_send_error_about_an_icmpv6_error_behind_extension_headers")
{
    const bytes dest = {icmpv6, 0, 1, 4, 0, 0, 0, 0};
    const bytes p = packet(peer, us, destination_options, concat(dest, icmpv6_message(peer, us, 3, 0, {0, 0, 0, 0}, {})));
    CHECK_FALSE(may_send(port_unreachable, p));
}

// A non-first fragment's bytes are no ICMPv6 header: its type is not known.
TEST_CASE("icmpv6_may_send_error_about_a_non_first_fragment_of_icmpv6")
{
    const bytes p = packet(peer, us, fragment, concat(bytes{icmpv6, 0, 0, 17, 0, 0, 0, 1}, bytes(16, 1)));
    const icmpv6_error bad_length =
        icmpv6_error::parameter_problem({icmpv6_parameter_problem_code::erroneous_header_field, 4});
    CHECK(may_send(bad_length, p));
}

// §2.4(e.3): not about a packet to a multicast address, but for Packet Too Big and
// Parameter Problem code 2.
TEST_CASE("icmpv6_may_not_send_error_about_a_packet_to_multicast_but_two")
{
    const bytes p = packet(peer, all_nodes, 17, pattern(16));
    CHECK_FALSE(may_send(port_unreachable, p));
    CHECK_FALSE(may_send(icmpv6_error::time_exceeded(icmpv6_time_exceeded_code::fragment_reassembly), p));
    CHECK_FALSE(may_send(icmpv6_error::parameter_problem({icmpv6_parameter_problem_code::erroneous_header_field, 6}),
                         p));
    CHECK(may_send(icmpv6_error::packet_too_big(1280), p));
    CHECK(may_send(icmpv6_error::parameter_problem({icmpv6_parameter_problem_code::unrecognized_option, 42}), p));
}

// §2.4(e.6): not about a packet whose source names no single node.
TEST_CASE("icmpv6_may_not_send_error_about_an_unspecified_multicast_or_loopback_source")
{
    CHECK_FALSE(may_send(port_unreachable, packet(ipv6_address{}, us, udp, pattern(8))));
    CHECK_FALSE(may_send(port_unreachable, packet(all_nodes, us, udp, pattern(8))));
    CHECK_FALSE(may_send(port_unreachable, packet(ipv6_address{0, 0, 0, 0, 0, 0, 0, 1}, us, udp, pattern(8))));
    CHECK(may_send(port_unreachable, packet(ipv6_address{0xfe80, 0, 0, 0, 0, 0, 0, 1}, us, udp, pattern(8))));
}

TEST_CASE("icmpv6_may_not_send_error_about_a_packet_that_fails_check")
{
    bytes p = syn_packet();
    p[0] = 0x45;
    CHECK_FALSE(may_send(port_unreachable, p));
    const bytes syn = syn_packet();
    CHECK_FALSE(may_send(port_unreachable, bytes(syn.begin(), syn.begin() + 39)));
}
