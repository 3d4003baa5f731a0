// Tests for tcpx/wire/icmp.hpp: a Linux ping read and answered byte for byte, echo
// round trips, malformed messages each as their own case, destination unreachable
// quoting within RFC 792's floor and RFC 1812's 576-byte ceiling, quote parsing, and
// every case of RFC 1122 §3.2.2 in which no error may be sent.
// Have open: RFC 792, RFC 1122 §3.2.2, RFC 1812 §4.3.2.3 and §4.3.2.7, RFC 1191 §4.
//
// The hand-written vectors' checksums were computed by a plain RFC 1071 sum apart from
// checksum.hpp; the tests below also verify each with internet_checksum.
#include <tcpx/wire/icmp.hpp>
#include <tcpx/wire/ipv4.hpp>

#include <doctest/doctest.h>

#include "support/hex.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>  // doctest prints a failed std::error_code comparison through it
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

using namespace tcpx;
using namespace tcpx::wire;

namespace {

using bytes = std::vector<std::uint8_t>;

using tcpx_test::concat;
using tcpx_test::from_hex;

// Sums packet[0, length) with its checksum field (at `field`) zeroed, and stores the
// result there: an IPv4 header (RFC 791 §3.1) or an ICMP message (RFC 792) alike.
void fill_checksum(bytes& packet, std::size_t length, std::size_t field)
{
    std::uint8_t* at = packet.data() + field;
    at[0] = at[1] = 0;
    const std::uint16_t c = internet_checksum(std::span{packet}.first(length));
    at[0] = static_cast<std::uint8_t>(c >> 8);
    at[1] = static_cast<std::uint8_t>(c & 0xff);
}

constexpr ipv4_address us{10, 0, 0, 1};    // tcpx's default address (config.hpp)
constexpr ipv4_address peer{10, 0, 0, 2};

// `ping -c 1 10.0.0.1` from Linux (iputils) at 10.0.0.2: DF set, TTL 64, identifier
// 0x1c2d, sequence 1, and 56 data bytes: a 16-byte struct timeval (little-endian),
// then the pattern 10 11 12 ... 37.
bytes linux_ping_request()
{
    return from_hex(
        "45 00 00 54 4a 2b 40 00 40 01 dc 7b 0a 00 00 02 0a 00 00 01"  // IPv4
        "08 00 e6 ca 1c 2d 00 01"                                      // echo request
        "10 2a 5f 66 00 00 00 00 c1 a3 05 00 00 00 00 00"              // tv_sec, tv_usec
        "10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27"
        "28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37");
}

// What tcpx answers: addresses swapped, DF set and identification 0 (an atomic
// datagram), type 0, and the checksum 0x0800 higher (RFC 1624: only the type changed).
bytes linux_ping_reply()
{
    return from_hex(
        "45 00 00 54 00 00 40 00 40 01 26 a7 0a 00 00 01 0a 00 00 02"
        "00 00 ee ca 1c 2d 00 01"
        "10 2a 5f 66 00 00 00 00 c1 a3 05 00 00 00 00 00"
        "10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27"
        "28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37");
}

// A Linux SYN from 10.0.0.2:40000 to 10.0.0.1:81, where nobody listens: MSS 1460,
// SACK-permitted, timestamps, window scale 7; sequence number 0x0a1b2c3d.
bytes linux_syn()
{
    return from_hex(
        "45 00 00 3c 12 34 40 00 40 06 14 86 0a 00 00 02 0a 00 00 01"
        "9c 40 00 51 0a 1b 2c 3d 00 00 00 00 a0 02 fa f0 ba 55 00 00"
        "02 04 05 b4 04 02 08 0a 00 00 ab cd 00 00 00 00 01 03 03 07");
}

// A datagram built with ipv4_header::emit (tested in ipv4.cpp) around `payload`.
bytes datagram(ipv4_address source, ipv4_address destination, ip_protocol protocol, const bytes& payload,
               std::uint16_t flags_fragment = 0x4000)
{
    ipv4_header h;
    h.source = source;
    h.destination = destination;
    h.protocol = static_cast<std::uint8_t>(protocol);
    h.payload_length = static_cast<std::uint16_t>(payload.size());
    bytes p(ipv4_header::size);
    REQUIRE(h.emit(p) == std::error_code{});
    p[6] = static_cast<std::uint8_t>(flags_fragment >> 8);
    p[7] = static_cast<std::uint8_t>(flags_fragment & 0xff);
    fill_checksum(p, ipv4_header::size, ipv4_field::checksum);
    return concat(p, payload);
}

// An ICMP message: type, code, the 4 type-specific bytes, the body; checksum filled in.
bytes icmp_message(std::uint8_t type, std::uint8_t code, const bytes& rest_of_header, const bytes& body)
{
    REQUIRE(rest_of_header.size() == 4);
    bytes m = concat(concat({type, code, 0, 0}, rest_of_header), body);
    fill_checksum(m, m.size(), icmp_field::checksum);
    return m;
}

bytes echo_request(const bytes& data, std::uint16_t identifier = 0x1c2d, std::uint16_t sequence = 1)
{
    return icmp_message(8, 0,
                        {static_cast<std::uint8_t>(identifier >> 8), static_cast<std::uint8_t>(identifier),
                         static_cast<std::uint8_t>(sequence >> 8), static_cast<std::uint8_t>(sequence)},
                        data);
}

bytes pattern(std::size_t n, std::uint8_t seed = 0)
{
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
    return b;
}

// A router's "fragmentation needed" (RFC 1191 §4) about a 1500-byte segment we sent
// from 10.0.0.1:443 to 10.0.0.2:40000, sequence 0x11223344; the router quoted the
// IPv4 header and the first 8 bytes of TCP, as RFC 792 asks at least.
bytes frag_needed_quote_header() { return from_hex("45 00 05 dc 00 00 40 00 3f 06 00 00 0a 00 00 01 0a 00 00 02"); }
bytes frag_needed_quote_tcp() { return from_hex("01 bb 9c 40 11 22 33 44"); }
bytes frag_needed(std::uint16_t mtu, const bytes& quote)
{
    return icmp_message(3, 4, {0, 0, static_cast<std::uint8_t>(mtu >> 8), static_cast<std::uint8_t>(mtu)}, quote);
}

std::optional<icmp_quote> quote_of(const bytes& message)
{
    const icmp_view v{message};
    REQUIRE(v.check() == std::error_code{});
    return v.quoted_transport();
}

struct emitted {
    std::error_code ec;
    std::size_t written = 0;
    bytes out;
};

emitted reply_to(const bytes& request_packet, std::size_t out_size = 70000)
{
    const ipv4_view request{request_packet};
    REQUIRE(request.check() == std::error_code{});
    emitted e;
    e.out.assign(out_size, 0xee);
    e.ec = emit_echo_reply(request, us, e.out, e.written);
    return e;
}

emitted unreachable_for(const bytes& offending_packet, std::size_t out_size = 2000,
                        unreachable_code code = unreachable_code::port)
{
    const ipv4_view offending{offending_packet};
    REQUIRE(offending.check() == std::error_code{});
    emitted e;
    e.out.assign(out_size, 0xee);
    e.ec = emit_destination_unreachable(code, offending, us, e.out, e.written);
    return e;
}

bool may_send(const bytes& packet) { return may_send_icmp_error(ipv4_view{packet}); }

bool untouched(const bytes& out)
{
    return std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0xee; });
}

}  // namespace

// -- types and codes ---------------------------------------------------------------

// RFC 792; RFC 1122 §3.2.2.1 (codes 6-12); RFC 1812 §5.2.7.1 (codes 13-15).
static_assert(static_cast<int>(icmp_type::echo_reply) == 0);
static_assert(static_cast<int>(icmp_type::destination_unreachable) == 3);
static_assert(static_cast<int>(icmp_type::echo_request) == 8);
static_assert(static_cast<int>(icmp_type::time_exceeded) == 11);
static_assert(static_cast<int>(unreachable_code::port) == 3);
static_assert(static_cast<int>(unreachable_code::fragmentation_needed) == 4);
static_assert(static_cast<int>(unreachable_code::network_unknown) == 6);
static_assert(static_cast<int>(unreachable_code::network_prohibited) == 9);
static_assert(static_cast<int>(unreachable_code::host_prohibited) == 10);
static_assert(static_cast<int>(unreachable_code::communication_prohibited) == 13);
static_assert(static_cast<int>(unreachable_code::precedence_cutoff) == 15);

// RFC 1122 §3.2.2: the five error messages; queries and unknown types are not errors.
static_assert(is_icmp_error(icmp_type::destination_unreachable));
static_assert(is_icmp_error(icmp_type::source_quench));
static_assert(is_icmp_error(icmp_type::redirect));
static_assert(is_icmp_error(icmp_type::time_exceeded));
static_assert(is_icmp_error(icmp_type::parameter_problem));
static_assert(!is_icmp_error(icmp_type::echo_request));
static_assert(!is_icmp_error(icmp_type::echo_reply));
static_assert(!is_icmp_error(static_cast<icmp_type>(13)));  // timestamp, which tcpx does not know

// -- a real echo request -------------------------------------------------------------

TEST_CASE("icmp_view_echo_request_parses")
{
    const bytes packet = linux_ping_request();
    const ipv4_view ip{packet};
    REQUIRE(ip.check() == std::error_code{});
    CHECK(ip.protocol() == static_cast<std::uint8_t>(ip_protocol::icmp));
    CHECK(ip.source() == peer);
    CHECK(ip.destination() == us);

    const icmp_view v{ip.payload()};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.type() == icmp_type::echo_request);
    CHECK(v.code() == 0);
    CHECK(v.checksum() == 0xe6ca);
    CHECK(v.identifier() == 0x1c2d);
    CHECK(v.sequence() == 1);
    REQUIRE(v.body().size() == 56);
    CHECK(v.body().data() == packet.data() + 28);
    CHECK(v.body()[16] == 0x10);
    CHECK(v.body()[55] == 0x37);
    CHECK(v.bytes().size() == 64);
    // A query quotes nothing.
    CHECK(v.quoted().empty());
    CHECK_FALSE(v.quoted_transport().has_value());
}

// RFC 792: "If the total length is odd, the received data is padded with one octet of
// zeros for computing the checksum."
TEST_CASE("icmp_check_accepts_an_odd_length_message")
{
    const bytes m = echo_request(pattern(5));
    REQUIRE(m.size() == 13);
    const icmp_view v{m};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.body().size() == 5);
}

TEST_CASE("icmp_check_accepts_a_bare_8_byte_header")
{
    const bytes m = echo_request({});
    const icmp_view v{m};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.body().empty());
}

// -- malformed messages, each its own case ---------------------------------------------

TEST_CASE("icmp_check_empty_message_is_truncated")
{
    CHECK(icmp_view{std::span<const std::uint8_t>{}}.check() == errc::icmp_truncated);
}

TEST_CASE("icmp_check_7_bytes_is_truncated")
{
    bytes m = echo_request({});
    m.pop_back();
    CHECK(icmp_view{m}.check() == errc::icmp_truncated);
}

TEST_CASE("icmp_check_bad_checksum_is_rejected")
{
    bytes m = linux_ping_request();
    m.erase(m.begin(), m.begin() + 20);
    REQUIRE(icmp_view{m}.check() == std::error_code{});
    m[3] ^= 0x01;  // e6ca -> e6cb
    CHECK(icmp_view{m}.check() == errc::icmp_bad_checksum);
}

// RFC 792: the checksum covers the whole message, data included, so every single-bit
// error anywhere in it is caught.
TEST_CASE("icmp_check_every_single_bit_flip_is_a_bad_checksum")
{
    const bytes good = echo_request(pattern(23));
    for (std::size_t byte = 0; byte < good.size(); ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            CAPTURE(byte);
            CAPTURE(bit);
            bytes m = good;
            m[byte] ^= static_cast<std::uint8_t>(1u << bit);
            CHECK(icmp_view{m}.check() == errc::icmp_bad_checksum);
        }
    }
}

// -- echo reply (RFC 792, RFC 1122 §3.2.2.6) -------------------------------------------

TEST_CASE("icmp_emit_echo_reply_answers_linux_ping_byte_exact")
{
    const emitted e = reply_to(linux_ping_request(), 84);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 84);
    CHECK(e.out == linux_ping_reply());
}

// Contract: the writer writes exactly `written` bytes and nothing past them.
TEST_CASE("icmp_emit_echo_reply_writes_exactly_written_bytes")
{
    const emitted e = reply_to(linux_ping_request(), 200);
    REQUIRE(e.ec == std::error_code{});
    REQUIRE(e.written == 84);
    CHECK(bytes(e.out.begin(), e.out.begin() + 84) == linux_ping_reply());
    CHECK(untouched(bytes(e.out.begin() + 84, e.out.end())));
}

// RFC 1122 §3.2.2.6: "Data received in an ICMP Echo Request MUST be entirely included in
// the resulting Echo Reply"; RFC 792: addresses reversed, identifier and sequence kept.
TEST_CASE("icmp_echo_reply_round_trip_returns_the_data_entirely")
{
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{56}, std::size_t{1472},
                                   std::size_t{65507}}) {
        CAPTURE(size);
        const bytes data = pattern(size, static_cast<std::uint8_t>(size));
        const bytes request = datagram(peer, us, ip_protocol::icmp, echo_request(data, 0xbeef, 0x8001));
        const emitted e = reply_to(request);
        REQUIRE(e.ec == std::error_code{});
        REQUIRE(e.written == request.size());

        const ipv4_view ip{std::span{e.out}.first(e.written)};
        REQUIRE(ip.check() == std::error_code{});
        CHECK(ip.source() == us);
        CHECK(ip.destination() == peer);
        CHECK(ip.protocol() == static_cast<std::uint8_t>(ip_protocol::icmp));
        CHECK(ip.dont_fragment());
        CHECK_FALSE(ip.is_fragment());
        CHECK(internet_checksum(ip.payload()) == 0);

        const icmp_view reply{ip.payload()};
        REQUIRE(reply.check() == std::error_code{});
        CHECK(reply.type() == icmp_type::echo_reply);
        CHECK(reply.code() == 0);
        CHECK(reply.identifier() == 0xbeef);
        CHECK(reply.sequence() == 0x8001);
        CHECK(std::equal(reply.body().begin(), reply.body().end(), data.begin(), data.end()));
    }
}

// RFC 792 sets only the type to 0; the code comes back as it went.
TEST_CASE("icmp_echo_reply_keeps_a_nonzero_code")
{
    bytes m = echo_request(pattern(8));
    m[1] = 7;
    fill_checksum(m, m.size(), icmp_field::checksum);
    const emitted e = reply_to(datagram(peer, us, ip_protocol::icmp, m));
    REQUIRE(e.ec == std::error_code{});
    const icmp_view reply{std::span{e.out}.subspan(20, e.written - 20)};
    REQUIRE(reply.check() == std::error_code{});
    CHECK(reply.code() == 7);
}

// RFC 1349 §5.1: the reply's TOS is the request's; RFC 3168 §5: not its ECN field.
TEST_CASE("icmp_echo_reply_copies_the_dscp_but_not_the_ecn_field")
{
    bytes request = linux_ping_request();
    request[1] = 0xb9;  // EF, ECT(1)
    fill_checksum(request, 20, ipv4_field::checksum);
    const emitted e = reply_to(request);
    REQUIRE(e.ec == std::error_code{});
    const ipv4_view ip{std::span{e.out}.first(e.written)};
    REQUIRE(ip.check() == std::error_code{});
    CHECK(ip.tos() == 0xb8);
}

// tcpx sends no IPv4 options (ipv4.hpp), so a request with options gets a shorter reply.
TEST_CASE("icmp_echo_reply_to_a_request_with_options_has_none")
{
    const bytes icmp = echo_request(pattern(10));
    bytes request = from_hex("46 00 00 00 00 01 00 00 40 01 00 00 0a 00 00 02 0a 00 00 01 01 01 01 00");
    request = concat(request, icmp);
    request[3] = static_cast<std::uint8_t>(request.size());
    fill_checksum(request, 24, ipv4_field::checksum);
    const emitted e = reply_to(request);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 20 + icmp.size());
    const ipv4_view ip{std::span{e.out}.first(e.written)};
    REQUIRE(ip.check() == std::error_code{});
    CHECK(ip.header_length() == 20);
    CHECK(icmp_view{ip.payload()}.check() == std::error_code{});
}

// RFC 791 §3.1: bytes after the total length are the link's padding, not data to echo.
TEST_CASE("icmp_echo_reply_ignores_link_padding")
{
    const bytes request = datagram(peer, us, ip_protocol::icmp, echo_request(pattern(2)));
    bytes padded = request;
    padded.resize(46, 0);
    const emitted e = reply_to(padded);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == request.size());
}

TEST_CASE("icmp_emit_echo_reply_into_a_short_buffer_is_buffer_too_small")
{
    const emitted e = reply_to(linux_ping_request(), 83);
    CHECK(e.ec == errc::buffer_too_small);
    CHECK(e.written == 0);
    CHECK(untouched(e.out));
}

TEST_CASE("icmp_emit_echo_reply_to_anything_but_an_echo_request_is_invalid_argument")
{
    bytes reply_packet = datagram(peer, us, ip_protocol::icmp, icmp_message(0, 0, {0, 1, 0, 1}, {}));
    CHECK(reply_to(reply_packet).ec == errc::invalid_argument);
    bytes unreachable = datagram(peer, us, ip_protocol::icmp, frag_needed(1400, frag_needed_quote_header()));
    CHECK(reply_to(unreachable).ec == errc::invalid_argument);
    // An echo request cut below its 8-byte header.
    const bytes short_request = datagram(peer, us, ip_protocol::icmp, {8, 0, 0, 0, 0, 0, 0});
    const emitted e = reply_to(short_request);
    CHECK(e.ec == errc::invalid_argument);
    CHECK(e.written == 0);
    CHECK(untouched(e.out));
}

// -- destination unreachable (RFC 792, RFC 1812 §4.3.2.3) ----------------------------------

// Port unreachable for a SYN to a port where nobody listens: the whole 60-byte
// datagram is quoted, as it fits well within 576 bytes.
TEST_CASE("icmp_emit_port_unreachable_for_a_syn_byte_exact")
{
    const emitted e = unreachable_for(linux_syn(), 88);
    REQUIRE(e.ec == std::error_code{});
    REQUIRE(e.written == 88);
    const bytes expected = concat(from_hex("45 00 00 58 00 00 40 00 40 01 26 a3 0a 00 00 01 0a 00 00 02"
                                           "03 03 11 2e 00 00 00 00"),
                                  linux_syn());
    CHECK(e.out == expected);
}

TEST_CASE("icmp_unreachable_round_trip_names_the_connection")
{
    const emitted e = unreachable_for(linux_syn());
    REQUIRE(e.ec == std::error_code{});
    const ipv4_view ip{std::span{e.out}.first(e.written)};
    REQUIRE(ip.check() == std::error_code{});
    CHECK(ip.source() == us);
    CHECK(ip.destination() == peer);
    CHECK(ip.tos() == 0);  // RFC 1122 §3.2.2: normal TOS
    const icmp_view v{ip.payload()};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.type() == icmp_type::destination_unreachable);
    CHECK(v.code() == static_cast<std::uint8_t>(unreachable_code::port));
    CHECK(v.next_hop_mtu() == 0);
    CHECK(std::ranges::equal(v.quoted(), linux_syn()));
    // The SYN's addresses, protocol, ports and sequence number, as the stack needs them
    // to find the connection (RFC 5927 §4.1).
    const icmp_quote expected{peer, us, static_cast<std::uint8_t>(ip_protocol::tcp), 40000, 81, seq32{0x0a1b2c3d}};
    CHECK(v.quoted_transport() == expected);
}

// RFC 792: "Internet Header + 64 bits of Original Data Datagram" is the floor, and a
// buffer that holds just that gets just that.
TEST_CASE("icmp_unreachable_quotes_header_and_8_bytes_at_least")
{
    const bytes offending = linux_syn();
    const emitted e = unreachable_for(offending, 28 + 20 + 8);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 56);
    const ipv4_view ip{std::span{e.out}.first(e.written)};
    REQUIRE(ip.check() == std::error_code{});
    const icmp_view v{ip.payload()};
    REQUIRE(v.check() == std::error_code{});
    CHECK(std::ranges::equal(v.quoted(), std::span{offending}.first(28)));
    REQUIRE(v.quoted_transport().has_value());
    CHECK(v.quoted_transport()->sequence == seq32{0x0a1b2c3d});
}

TEST_CASE("icmp_unreachable_into_a_buffer_below_the_floor_is_buffer_too_small")
{
    const emitted e = unreachable_for(linux_syn(), 28 + 20 + 7);
    CHECK(e.ec == errc::buffer_too_small);
    CHECK(e.written == 0);
    CHECK(untouched(e.out));
    CHECK(unreachable_for(linux_syn(), 0).ec == errc::buffer_too_small);
}

// RFC 1812 §4.3.2.3: as much of the datagram as fits "without the length of the ICMP
// datagram exceeding 576 bytes".
TEST_CASE("icmp_unreachable_from_a_1500_byte_datagram_is_capped_at_576_bytes")
{
    const bytes offending = datagram(peer, us, ip_protocol::tcp, pattern(1480));
    const emitted e = unreachable_for(offending, 2000);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == icmp_error_max_size);
    CHECK(untouched(bytes(e.out.begin() + 576, e.out.end())));
    const ipv4_view ip{std::span{e.out}.first(e.written)};
    REQUIRE(ip.check() == std::error_code{});
    CHECK(ip.total_length() == 576);
    const icmp_view v{ip.payload()};
    REQUIRE(v.check() == std::error_code{});
    CHECK(std::ranges::equal(v.quoted(), std::span{offending}.first(576 - 28)));
}

// Between the floor and 576 bytes, the caller's buffer sets the length.
TEST_CASE("icmp_unreachable_quote_is_limited_by_the_buffer")
{
    const bytes offending = datagram(peer, us, ip_protocol::tcp, pattern(1480));
    const emitted e = unreachable_for(offending, 100);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 100);
    const icmp_view v{std::span{e.out}.subspan(20, 80)};
    REQUIRE(v.check() == std::error_code{});
    CHECK(std::ranges::equal(v.quoted(), std::span{offending}.first(72)));
}

// A datagram with fewer than 8 bytes of payload is quoted whole; nothing is padded.
TEST_CASE("icmp_unreachable_quotes_a_short_datagram_whole")
{
    const bytes offending = datagram(peer, us, ip_protocol::udp, {1, 2, 3});
    const emitted e = unreachable_for(offending, 28 + 23);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 51);
    const icmp_view v{std::span{e.out}.subspan(20, 31)};
    REQUIRE(v.check() == std::error_code{});
    CHECK(std::ranges::equal(v.quoted(), offending));
    CHECK_FALSE(v.quoted_transport().has_value());  // too short to name ports
}

// RFC 1122 §3.2.2: the quoted header "MUST be unchanged from the received datagram",
// options included; link padding after the total length is not part of it.
TEST_CASE("icmp_unreachable_quotes_options_unchanged_and_no_padding")
{
    bytes offending = from_hex("47 00 00 00 00 07 00 00 40 11 00 00 0a 00 00 02 0a 00 00 01"
                               "01 01 01 01 01 01 01 00");
    offending = concat(offending, from_hex("9c 40 00 35 00 0c 00 00 61 62 63 64"));  // UDP
    offending[3] = static_cast<std::uint8_t>(offending.size());
    fill_checksum(offending, 28, ipv4_field::checksum);
    bytes padded = offending;
    padded.resize(64, 0);
    const emitted e = unreachable_for(padded);
    REQUIRE(e.ec == std::error_code{});
    CHECK(e.written == 28 + offending.size());
    const icmp_view v{std::span{e.out}.subspan(20, e.written - 20)};
    REQUIRE(v.check() == std::error_code{});
    CHECK(std::ranges::equal(v.quoted(), offending));
    const std::optional<icmp_quote> q = v.quoted_transport();
    REQUIRE(q.has_value());
    CHECK(q->protocol == static_cast<std::uint8_t>(ip_protocol::udp));
    CHECK(q->source_port == 40000);
    CHECK(q->destination_port == 53);
}

TEST_CASE("icmp_unreachable_writes_the_given_code")
{
    for (const unreachable_code code : {unreachable_code::network, unreachable_code::protocol,
                                        unreachable_code::port, unreachable_code::communication_prohibited}) {
        const emitted e = unreachable_for(linux_syn(), 2000, code);
        REQUIRE(e.ec == std::error_code{});
        const icmp_view v{std::span{e.out}.subspan(20, e.written - 20)};
        REQUIRE(v.check() == std::error_code{});
        CHECK(v.code() == static_cast<std::uint8_t>(code));
    }
}

// -- quotes in received errors ----------------------------------------------------------

// RFC 1191 §4: the next-hop MTU sits in the low 16 bits of the second word.
TEST_CASE("icmp_unreachable_fragmentation_needed_carries_next_hop_mtu")
{
    const bytes m = frag_needed(1400, concat(frag_needed_quote_header(), frag_needed_quote_tcp()));
    const icmp_view v{m};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.type() == icmp_type::destination_unreachable);
    CHECK(v.code() == static_cast<std::uint8_t>(unreachable_code::fragmentation_needed));
    CHECK(v.next_hop_mtu() == 1400);
    // RFC 1191 §5: a router older than RFC 1191 leaves the field zero.
    const bytes old = frag_needed(0, concat(frag_needed_quote_header(), frag_needed_quote_tcp()));
    CHECK(icmp_view{old}.next_hop_mtu() == 0);
}

// RFC 792: the ports and TCP's sequence number are in the first 64 bits of data.
// The quoted total length (1500) and checksum (0) are wrong for 28 bytes, as from a
// router that truncated the datagram and decremented its TTL; the quote is still good.
TEST_CASE("icmp_quoted_transport_extracts_ports_and_sequence")
{
    const std::optional<icmp_quote> q =
        quote_of(frag_needed(1400, concat(frag_needed_quote_header(), frag_needed_quote_tcp())));
    REQUIRE(q.has_value());
    CHECK(q->source == us);  // we sent the datagram the router quotes
    CHECK(q->destination == peer);
    CHECK(q->protocol == static_cast<std::uint8_t>(ip_protocol::tcp));
    CHECK(q->source_port == 443);
    CHECK(q->destination_port == 40000);
    CHECK(q->sequence == seq32{0x11223344});
}

// An error quotes whatever it likes past the floor; the parser reads only the floor.
TEST_CASE("icmp_quoted_transport_reads_only_the_header_and_8_bytes")
{
    const bytes quote = concat(concat(frag_needed_quote_header(), frag_needed_quote_tcp()), pattern(100));
    const std::optional<icmp_quote> q = quote_of(icmp_message(11, 0, {0, 0, 0, 0}, quote));  // time exceeded
    REQUIRE(q.has_value());
    CHECK(q->sequence == seq32{0x11223344});
}

TEST_CASE("icmp_quoted_transport_short_quote_is_rejected")
{
    bytes quote = concat(frag_needed_quote_header(), frag_needed_quote_tcp());
    quote.pop_back();  // 7 bytes of TCP
    CHECK_FALSE(quote_of(frag_needed(1400, quote)).has_value());
    CHECK_FALSE(quote_of(frag_needed(1400, frag_needed_quote_header())).has_value());
    CHECK_FALSE(quote_of(frag_needed(1400, bytes(19, 0x45))).has_value());
    CHECK_FALSE(quote_of(frag_needed(1400, {})).has_value());
}

TEST_CASE("icmp_quoted_transport_version_6_is_rejected")
{
    bytes quote = concat(frag_needed_quote_header(), frag_needed_quote_tcp());
    quote[0] = 0x65;
    CHECK_FALSE(quote_of(frag_needed(1400, quote)).has_value());
}

TEST_CASE("icmp_quoted_transport_ihl_below_5_is_rejected")
{
    for (const std::uint8_t ihl : {0, 1, 4}) {
        CAPTURE(ihl);
        bytes quote = concat(frag_needed_quote_header(), frag_needed_quote_tcp());
        quote[0] = static_cast<std::uint8_t>(0x40 | ihl);
        CHECK_FALSE(quote_of(frag_needed(1400, quote)).has_value());
    }
}

// IHL 6 says the transport header starts at byte 24, so 28 bytes hold only 4 of it.
TEST_CASE("icmp_quoted_transport_ihl_beyond_the_quote_is_rejected")
{
    bytes quote = concat(frag_needed_quote_header(), frag_needed_quote_tcp());
    quote[0] = 0x46;
    CHECK_FALSE(quote_of(frag_needed(1400, quote)).has_value());
    quote.insert(quote.begin() + 20, {1, 1, 1, 0});  // now the options are there
    const std::optional<icmp_quote> q = quote_of(frag_needed(1400, quote));
    REQUIRE(q.has_value());
    CHECK(q->source_port == 443);
}

// RFC 1122 §3.2.2: no error is sent about a non-initial fragment, whose bytes after
// the header are data, not ports.
TEST_CASE("icmp_quoted_transport_non_initial_fragment_is_rejected")
{
    bytes quote = concat(frag_needed_quote_header(), frag_needed_quote_tcp());
    quote[6] = 0x00;
    quote[7] = 0xb9;
    CHECK_FALSE(quote_of(frag_needed(1400, quote)).has_value());
    quote[6] = 0x20;  // MF set, offset 0: the first fragment, whose transport header is there
    quote[7] = 0x00;
    CHECK(quote_of(frag_needed(1400, quote)).has_value());
}

// Only error messages quote a datagram (RFC 1122 §3.2.2).
TEST_CASE("icmp_quoted_transport_of_a_query_is_empty")
{
    const bytes body = concat(frag_needed_quote_header(), frag_needed_quote_tcp());
    const bytes m = echo_request(body);
    const icmp_view v{m};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.quoted().empty());
    CHECK_FALSE(v.quoted_transport().has_value());
    CHECK(v.body().size() == body.size());
}

// -- when not to send an error (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7) --------------------------

TEST_CASE("icmp_may_send_error_about_an_ordinary_segment")
{
    CHECK(may_send(linux_syn()));
    CHECK(may_send(datagram(peer, us, ip_protocol::udp, pattern(8))));
}

TEST_CASE("icmp_may_send_error_about_an_echo_request_or_reply")
{
    CHECK(may_send(linux_ping_request()));
    CHECK(may_send(datagram(peer, us, ip_protocol::icmp, icmp_message(0, 0, {0, 1, 0, 1}, {}))));
}

TEST_CASE("icmp_may_not_send_error_about_an_icmp_error")
{
    for (const std::uint8_t type : {3, 4, 5, 11, 12}) {
        CAPTURE(type);
        const bytes error = icmp_message(type, 0, {0, 0, 0, 0}, concat(frag_needed_quote_header(), frag_needed_quote_tcp()));
        CHECK_FALSE(may_send(datagram(peer, us, ip_protocol::icmp, error)));
    }
}

// RFC 1122 §3.2.2: a message of unknown type is silently discarded, and RFC 1812
// §4.3.2.7 sends no error where a packet is silently discarded.
TEST_CASE("icmp_may_not_send_error_about_an_unknown_icmp_type")
{
    for (const std::uint8_t type : {1, 13, 17, 42, 255}) {
        CAPTURE(type);
        CHECK_FALSE(may_send(datagram(peer, us, ip_protocol::icmp, icmp_message(type, 0, {0, 0, 0, 0}, {}))));
    }
    // An ICMP datagram with no ICMP bytes at all has no type to judge by.
    CHECK_FALSE(may_send(datagram(peer, us, ip_protocol::icmp, {})));
}

TEST_CASE("icmp_may_not_send_error_about_a_non_initial_fragment")
{
    CHECK_FALSE(may_send(datagram(peer, us, ip_protocol::udp, pattern(8), 0x00b9)));  // last fragment
    CHECK_FALSE(may_send(datagram(peer, us, ip_protocol::udp, pattern(8), 0x2001)));  // a middle one
    CHECK(may_send(datagram(peer, us, ip_protocol::udp, pattern(8), 0x2000)));         // the first is fine
}

TEST_CASE("icmp_may_not_send_error_about_a_datagram_to_broadcast")
{
    CHECK_FALSE(may_send(datagram(peer, ipv4_address{255, 255, 255, 255}, ip_protocol::udp, pattern(8))));
}

TEST_CASE("icmp_may_not_send_error_about_a_datagram_to_multicast")
{
    for (const ipv4_address to : {ipv4_address{224, 0, 0, 1}, ipv4_address{224, 0, 0, 251},
                                  ipv4_address{239, 255, 255, 250}}) {
        CAPTURE(to.to_string());
        CHECK_FALSE(may_send(datagram(peer, to, ip_protocol::udp, pattern(8))));
    }
}

TEST_CASE("icmp_may_not_send_error_about_a_zero_source")
{
    CHECK_FALSE(may_send(datagram(ipv4_address{0u}, us, ip_protocol::udp, pattern(8))));
    CHECK_FALSE(may_send(datagram(ipv4_address{0, 0, 0, 7}, us, ip_protocol::udp, pattern(8))));  // {0, host}
}

// RFC 1122 §3.2.2 names "a loopback address"; §3.2.1.3 (g): 127/8 never leaves a host.
TEST_CASE("icmp_may_not_send_error_about_a_loopback_source")
{
    CHECK_FALSE(may_send(datagram(ipv4_address{127, 0, 0, 1}, us, ip_protocol::udp, pattern(8))));
    CHECK_FALSE(may_send(datagram(ipv4_address{127, 255, 0, 9}, us, ip_protocol::udp, pattern(8))));
}

TEST_CASE("icmp_may_not_send_error_about_a_broadcast_or_multicast_source")
{
    CHECK_FALSE(may_send(datagram(ipv4_address{255, 255, 255, 255}, us, ip_protocol::udp, pattern(8))));
    CHECK_FALSE(may_send(datagram(ipv4_address{224, 0, 0, 1}, us, ip_protocol::udp, pattern(8))));
}

TEST_CASE("icmp_may_not_send_error_about_a_class_e_source")
{
    CHECK_FALSE(may_send(datagram(ipv4_address{240, 0, 0, 1}, us, ip_protocol::udp, pattern(8))));
    CHECK_FALSE(may_send(datagram(ipv4_address{250, 1, 2, 3}, us, ip_protocol::udp, pattern(8))));
}

// The edges of the ranges: the last and first addresses that do name one host.
TEST_CASE("icmp_may_send_error_about_sources_next_to_the_excluded_ranges")
{
    for (const ipv4_address from : {ipv4_address{1, 0, 0, 0}, ipv4_address{126, 255, 255, 255},
                                    ipv4_address{128, 0, 0, 0}, ipv4_address{223, 255, 255, 255}}) {
        CAPTURE(from.to_string());
        CHECK(may_send(datagram(from, us, ip_protocol::udp, pattern(8))));
    }
}

// RFC 1812 §4.3.2.7: not about a packet that fails the IP header validation.
TEST_CASE("icmp_may_not_send_error_about_a_datagram_that_fails_check")
{
    bytes bad = linux_syn();
    bad[11] ^= 0x01;
    CHECK_FALSE(may_send(bad));
    CHECK_FALSE(may_send(bytes{0x45, 0x00}));
    CHECK_FALSE(may_send(bytes{}));
}
