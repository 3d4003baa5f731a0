// Tests for tcpx/wire/ipv4.hpp: a real header read and written byte for byte, round
// trips, addresses as text, and every malformed header as its own case
// (RFC 791 §3.1, RFC 1122 §3.2.1, RFC 2873).
#include <tcpx/wire/ipv4.hpp>

#include <doctest/doctest.h>

#include "support/hex.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>  // doctest prints a failed std::error_code comparison through it
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using namespace tcpx;
using namespace tcpx::wire;

namespace {

using bytes = std::vector<std::uint8_t>;

using tcpx_test::from_hex;

// The classic worked example of the IPv4 header checksum: a 60-byte TCP datagram
// from 172.16.10.99 to 172.16.10.12, checksum b1e6.
bytes classic_header() { return from_hex("45 00 00 3c 1c 46 40 00 40 06 b1 e6 ac 10 0a 63 ac 10 0a 0c"); }

// The classic header followed by its 40 bytes of payload (contents irrelevant to IPv4).
bytes classic_packet()
{
    bytes p = classic_header();
    for (std::uint8_t i = 0; i < 40; ++i) p.push_back(static_cast<std::uint8_t>(0xa0 + i));
    return p;
}

// Recomputes the header checksum in place (RFC 791 §3.1), so a test that breaks one
// field breaks only that field.
void refresh_checksum(bytes& packet)
{
    const std::size_t ihl = std::size_t{packet[0] & 0x0fu} * 4;
    packet[10] = packet[11] = 0;
    const std::uint16_t c = internet_checksum(std::span{packet}.first(std::min(ihl, packet.size())));
    packet[10] = static_cast<std::uint8_t>(c >> 8);
    packet[11] = static_cast<std::uint8_t>(c & 0xff);
}

// A valid packet with `ihl` words of header (options filled with NOPs, option type 1
// of RFC 791 §3.1) and `payload` bytes of data.
bytes packet_with_ihl(unsigned ihl, std::size_t payload)
{
    bytes p = classic_header();
    p[0] = static_cast<std::uint8_t>(0x40 | ihl);
    p.resize(std::size_t{ihl} * 4, 0x01);
    for (std::size_t i = 0; i < payload; ++i) p.push_back(static_cast<std::uint8_t>(i));
    const std::size_t total = p.size();
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total & 0xff);
    refresh_checksum(p);
    return p;
}

std::error_code check(const bytes& packet) { return ipv4_view{packet}.check(); }

ipv4_header example_header()
{
    ipv4_header h;
    h.source = ipv4_address{172, 16, 10, 99};
    h.destination = ipv4_address{172, 16, 10, 12};
    h.protocol = static_cast<std::uint8_t>(ip_protocol::tcp);
    h.ttl = 64;
    h.tos = 0;
    h.identification = 0x1c46;
    h.dont_fragment = true;
    h.payload_length = 40;
    return h;
}

void check_same_fields(const ipv4_header& a, const ipv4_header& b)
{
    CHECK(a.source == b.source);
    CHECK(a.destination == b.destination);
    CHECK(a.protocol == b.protocol);
    CHECK(a.ttl == b.ttl);
    CHECK(a.tos == b.tos);
    CHECK(a.identification == b.identification);
    CHECK(a.dont_fragment == b.dont_fragment);
    CHECK(a.payload_length == b.payload_length);
}

}  // namespace

// -- a real header -------------------------------------------------------------

// RFC 1071 §3: summing a header together with its own checksum gives all ones, so the
// checksum of a correct header comes out 0. Everything below relies on this example.
TEST_CASE("ipv4_classic_example_checksum_verifies")
{
    CHECK(internet_checksum(classic_header()) == 0);
    bytes zeroed = classic_header();
    zeroed[10] = zeroed[11] = 0;
    CHECK(internet_checksum(zeroed) == 0xb1e6);
}

// RFC 791 §3.1: every field of the fixed header, at its offset.
TEST_CASE("ipv4_view_reads_every_field_of_a_real_header")
{
    const bytes packet = classic_packet();
    const ipv4_view v{packet};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.version() == 4);
    CHECK(v.header_length() == 20);
    CHECK(v.tos() == 0);
    CHECK(v.total_length() == 60);
    CHECK(v.identification() == 0x1c46);
    CHECK(v.dont_fragment());
    CHECK_FALSE(v.more_fragments());
    CHECK(v.fragment_offset() == 0);
    CHECK_FALSE(v.is_fragment());
    CHECK(v.ttl() == 64);
    CHECK(v.protocol() == static_cast<std::uint8_t>(ip_protocol::tcp));
    CHECK(v.header_checksum() == 0xb1e6);
    CHECK(v.source() == ipv4_address{172, 16, 10, 99});
    CHECK(v.destination() == ipv4_address{172, 16, 10, 12});
    CHECK(v.source().to_string() == "172.16.10.99");
    CHECK(v.destination().to_string() == "172.16.10.12");
    CHECK(v.options().empty());
    CHECK(v.header_bytes().size() == 20);
    CHECK(v.header_bytes().data() == packet.data());
    REQUIRE(v.payload().size() == 40);
    CHECK(v.payload().data() == packet.data() + 20);
    CHECK(v.bytes().size() == 60);
}

TEST_CASE("ipv4_from_reads_the_fields_of_a_real_header")
{
    const bytes packet = classic_packet();
    const ipv4_view v{packet};
    REQUIRE(v.check() == std::error_code{});
    check_same_fields(ipv4_header::from(v), example_header());
}

// RFC 791 §3.1: emit writes the same bytes, checksum included.
TEST_CASE("ipv4_emit_writes_a_real_header_byte_exact")
{
    bytes out(20, 0xee);
    REQUIRE(example_header().emit(out) == std::error_code{});
    CHECK(out == classic_header());
}

// Contract: emit writes exactly 20 bytes and nothing past them.
TEST_CASE("ipv4_emit_writes_exactly_20_bytes")
{
    bytes out(64, 0xee);
    REQUIRE(example_header().emit(out) == std::error_code{});
    CHECK(bytes(out.begin(), out.begin() + 20) == classic_header());
    CHECK(std::all_of(out.begin() + 20, out.end(), [](std::uint8_t b) { return b == 0xee; }));
}

// Whatever was in the checksum field before, emit computes it afresh.
TEST_CASE("ipv4_emit_ignores_stale_bytes_in_the_buffer")
{
    for (const std::uint8_t fill : {0x00, 0xff, 0x5a}) {
        bytes out(20, fill);
        REQUIRE(example_header().emit(out) == std::error_code{});
        CHECK(out == classic_header());
    }
}

TEST_CASE("ipv4_emit_into_19_bytes_is_buffer_too_small")
{
    bytes out(19, 0xee);
    CHECK(example_header().emit(out) == errc::buffer_too_small);
    CHECK(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0xee; }));
    CHECK(example_header().emit({}) == errc::buffer_too_small);
}

// RFC 791 §3.1: total length is 16 bits and counts the 20 header bytes.
TEST_CASE("ipv4_emit_payload_beyond_65515_is_message_too_long")
{
    ipv4_header h = example_header();
    bytes out(20);
    h.payload_length = 65515;
    REQUIRE(h.emit(out) == std::error_code{});
    CHECK(out[2] == 0xff);
    CHECK(out[3] == 0xff);
    h.payload_length = 65516;
    CHECK(h.emit(out) == errc::message_too_long);
    h.payload_length = 0xffff;
    CHECK(h.emit(out) == errc::message_too_long);
}

// emit -> check -> from gives back every field emit takes, for varied headers.
TEST_CASE("ipv4_emit_check_from_round_trips")
{
    struct variant { std::uint8_t tos, ttl, protocol; std::uint16_t id; bool df; std::uint16_t payload; };
    const variant variants[] = {
        {0x00, 64, 6, 0x1c46, true, 40},
        {0xb8, 1, 6, 0, false, 0},          // EF DSCP, TTL 1, no payload
        {0xff, 255, 1, 0xffff, true, 1},    // every TOS bit, ICMP
        {0x03, 128, 17, 0x8000, false, 1460},
        {0x02, 64, 6, 1, true, 65515},      // the largest datagram
    };
    for (const variant& x : variants) {
        CAPTURE(x.id);
        ipv4_header h;
        h.source = ipv4_address{0xc0000201u};
        h.destination = ipv4_address{0xc6336402u};
        h.tos = x.tos;
        h.ttl = x.ttl;
        h.protocol = x.protocol;
        h.identification = x.id;
        h.dont_fragment = x.df;
        h.payload_length = x.payload;
        bytes packet(20 + std::size_t{x.payload}, 0x77);
        REQUIRE(h.emit(packet) == std::error_code{});
        const ipv4_view v{packet};
        REQUIRE(v.check() == std::error_code{});
        CHECK_FALSE(v.is_fragment());
        CHECK(v.payload().size() == x.payload);
        check_same_fields(ipv4_header::from(v), h);
    }
}

// -- addresses -----------------------------------------------------------------

TEST_CASE("ipv4_address_parse_accepts_dotted_quads")
{
    CHECK(ipv4_address::parse("10.0.0.1") == ipv4_address{10, 0, 0, 1});
    CHECK(ipv4_address::parse("0.0.0.0") == ipv4_address{0u});
    CHECK(ipv4_address::parse("255.255.255.255") == ipv4_address{0xffff'ffffu});
    CHECK(ipv4_address::parse("172.16.10.99") == ipv4_address{0xac10'0a63u});
    CHECK(ipv4_address::parse("192.0.2.1")->value == 0xc000'0201u);
    CHECK(ipv4_address::parse("100.10.1.0") == ipv4_address{100, 10, 1, 0});
}

// inet_aton reads "010" as octal 8, inet_pton rejects it; reading it as decimal 10 would
// let one text name two hosts, so a leading zero is rejected as inet_pton does.
TEST_CASE("ipv4_address_parse_rejects_leading_zeros")
{
    for (const std::string_view text : {"010.0.0.1", "10.00.0.1", "10.0.0.01", "001.2.3.4", "1.2.3.000"}) {
        CAPTURE(std::string{text});
        CHECK_FALSE(ipv4_address::parse(text).has_value());
    }
}

TEST_CASE("ipv4_address_parse_rejects_malformed_text")
{
    for (const std::string_view text :
         {"1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "01234.1.1.1", "0001.1.1.1", "", "a.b.c.d",
          " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1..2.3", ".1.2.3", "1.2.3.", "-1.2.3.4", "+1.2.3.4",
          "1.2.3.-4", "0x1.2.3.4", "1,2,3,4", "1.2.3.4/24", "99999999999.1.1.1", "4294967297.1.1.1",
          "1.2.3.4:80", "::1"}) {
        CAPTURE(std::string{text});
        CHECK_FALSE(ipv4_address::parse(text).has_value());
    }
    // A string_view that stops before the junk is fine: parse reads only its range.
    constexpr std::string_view prefix{"1.2.3.4xyz", 7};
    CHECK(ipv4_address::parse(prefix) == ipv4_address{1, 2, 3, 4});
    CHECK_FALSE(ipv4_address::parse(std::string_view{}).has_value());
    CHECK_FALSE(ipv4_address::parse(std::string_view{"1.2.3.4\0", 8}).has_value());
}

TEST_CASE("ipv4_address_to_string_round_trips_through_parse")
{
    for (const std::uint32_t value : {0u, 1u, 0x0a00'0001u, 0x7f00'0001u, 0xac10'0a63u, 0xffff'ffffu, 0x0102'0304u}) {
        CAPTURE(value);
        const ipv4_address a{value};
        const std::string text = a.to_string();
        CHECK(ipv4_address::parse(text) == a);
    }
    CHECK(ipv4_address{1, 2, 3, 4}.to_string() == "1.2.3.4");
    CHECK(ipv4_address{}.to_string() == "0.0.0.0");
    CHECK(ipv4_address{255, 0, 10, 100}.to_string() == "255.0.10.100");
}

// Held in host order, an address orders as its number (so 4-tuples can be sorted and hashed).
TEST_CASE("ipv4_address_orders_as_its_number")
{
    CHECK(ipv4_address{10, 0, 0, 1} < ipv4_address{10, 0, 0, 2});
    CHECK(ipv4_address{9, 255, 255, 255} < ipv4_address{10, 0, 0, 0});
    CHECK(ipv4_address{10, 0, 0, 1}.value == 0x0a00'0001u);
    CHECK(ipv4_address{10, 0, 0, 1} != ipv4_address{1, 0, 0, 10});
}

// -- what check() accepts --------------------------------------------------------

// RFC 2873 §3: the TOS / precedence byte must not cause a packet to be dropped or a
// connection reset, whatever its value; it is reported, never judged.
TEST_CASE("ipv4_check_accepts_every_tos_byte")
{
    for (int tos = 0; tos <= 255; ++tos) {
        CAPTURE(tos);
        bytes packet = classic_packet();
        packet[1] = static_cast<std::uint8_t>(tos);
        refresh_checksum(packet);
        const ipv4_view v{packet};
        REQUIRE(v.check() == std::error_code{});
        CHECK(v.tos() == tos);
        CHECK(ipv4_header::from(v).tos == tos);
    }
}

// RFC 791 §3.1 total length: a link may pad a short frame (Ethernet's 60-byte
// minimum); bytes after total length are not part of the datagram.
TEST_CASE("ipv4_check_ignores_trailing_padding_beyond_total_length")
{
    bytes packet = classic_packet();
    for (int i = 0; i < 6; ++i) packet.push_back(0);
    const ipv4_view v{packet};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.total_length() == 60);
    CHECK(v.payload().size() == 40);
    CHECK(v.bytes().size() == 66);
    CHECK(ipv4_header::from(v).payload_length == 40);

    // A header alone, padded to Ethernet's minimum: the payload is empty.
    bytes bare = packet_with_ihl(5, 0);
    bare.resize(46, 0);
    const ipv4_view b{bare};
    REQUIRE(b.check() == std::error_code{});
    CHECK(b.payload().empty());
}

// RFC 791 §3.1: IHL counts 32-bit words of header, options included; tcpx skips them.
TEST_CASE("ipv4_check_skips_options_for_every_ihl_from_6_to_15")
{
    for (unsigned ihl = 6; ihl <= 15; ++ihl) {
        CAPTURE(ihl);
        const bytes packet = packet_with_ihl(ihl, 7);
        const ipv4_view v{packet};
        REQUIRE(v.check() == std::error_code{});
        CHECK(v.header_length() == ihl * 4);
        CHECK(v.options().size() == (ihl - 5) * 4);
        CHECK(v.options().data() == packet.data() + 20);
        REQUIRE(v.payload().size() == 7);
        CHECK(v.payload().data() == packet.data() + ihl * 4);
        CHECK(v.payload()[6] == 6);
        const ipv4_header h = ipv4_header::from(v);
        CHECK(h.payload_length == 7);
        // Emitted again, the options are gone and the payload length stays.
        bytes out(20);
        REQUIRE(h.emit(out) == std::error_code{});
        CHECK(out[0] == 0x45);
    }
}

// RFC 791 §3.2: a fragment has MF set or a non-zero offset (in 8-byte units). check()
// accepts it; the caller sees is_fragment() and drops it as errc::ipv4_fragment.
TEST_CASE("ipv4_view_reports_more_fragments_and_offset_as_fragment")
{
    struct row { std::uint16_t field; bool df, mf; std::size_t offset; bool fragment; };
    const row rows[] = {
        {0x0000, false, false, 0, false},
        {0x4000, true, false, 0, false},       // DF alone is not a fragment
        {0x2000, false, true, 0, true},        // first fragment
        {0x2001, false, true, 8, true},        // a middle fragment
        {0x00b9, false, false, 185 * 8, true}, // the last fragment
        {0x1fff, false, false, 0x1fff * 8, true},
        {0x3fff, false, true, 0x1fff * 8, true},
        {0x8000, false, false, 0, false},      // the reserved bit is not a fragment flag
    };
    for (const row& r : rows) {
        CAPTURE(r.field);
        bytes packet = classic_packet();
        packet[6] = static_cast<std::uint8_t>(r.field >> 8);
        packet[7] = static_cast<std::uint8_t>(r.field & 0xff);
        refresh_checksum(packet);
        const ipv4_view v{packet};
        REQUIRE(v.check() == std::error_code{});
        CHECK(v.dont_fragment() == r.df);
        CHECK(v.more_fragments() == r.mf);
        CHECK(v.fragment_offset() == r.offset);
        CHECK(v.is_fragment() == r.fragment);
    }
}

// -- malformed headers, each its own case (RFC 1122 §3.2.1: silently discard) --------

TEST_CASE("ipv4_check_empty_buffer_is_truncated")
{
    CHECK(check(bytes{}) == errc::ipv4_truncated);
    CHECK(ipv4_view{std::span<const std::uint8_t>{}}.check() == errc::ipv4_truncated);
}

TEST_CASE("ipv4_check_one_byte_is_truncated")
{
    CHECK(check(bytes{0x45}) == errc::ipv4_truncated);
}

TEST_CASE("ipv4_check_19_bytes_is_truncated")
{
    bytes packet = classic_header();
    packet.resize(19);
    CHECK(check(packet) == errc::ipv4_truncated);
}

// RFC 1122 §3.2.1.1: a datagram whose version number is not 4 MUST be silently discarded.
TEST_CASE("ipv4_check_version_6_is_bad_version")
{
    bytes packet = classic_packet();
    packet[0] = 0x65;
    refresh_checksum(packet);
    CHECK(check(packet) == errc::ipv4_bad_version);
}

TEST_CASE("ipv4_check_every_version_but_4_is_bad_version")
{
    for (unsigned version = 0; version < 16; ++version) {
        if (version == 4) continue;
        CAPTURE(version);
        bytes packet = classic_packet();
        packet[0] = static_cast<std::uint8_t>(version << 4 | 5);
        refresh_checksum(packet);
        CHECK(check(packet) == errc::ipv4_bad_version);
    }
}

// RFC 791 §3.1: "the minimum value for a correct header is 5".
TEST_CASE("ipv4_check_ihl_4_is_bad_header_length")
{
    bytes packet = classic_packet();
    packet[0] = 0x44;
    refresh_checksum(packet);
    CHECK(check(packet) == errc::ipv4_bad_header_length);
}

TEST_CASE("ipv4_check_ihl_0_is_bad_header_length")
{
    bytes packet = classic_packet();
    packet[0] = 0x40;
    CHECK(check(packet) == errc::ipv4_bad_header_length);
}

// IHL 15 claims 60 bytes of header; the view must not read them from 40.
TEST_CASE("ipv4_check_ihl_15_in_40_byte_buffer_is_header_beyond_packet")
{
    bytes packet = classic_packet();
    packet.resize(40);
    packet[0] = 0x4f;
    packet[2] = 0;
    packet[3] = 40;
    CHECK(check(packet) == errc::ipv4_header_beyond_packet);
}

// RFC 791 §3.1: total length counts the header, so it is at least IHL * 4.
TEST_CASE("ipv4_check_total_length_below_ihl_is_rejected")
{
    bytes packet = classic_packet();
    packet[2] = 0;
    packet[3] = 19;
    refresh_checksum(packet);
    CHECK(check(packet) == errc::ipv4_total_length_mismatch);

    bytes with_options = packet_with_ihl(6, 0);
    with_options[3] = 20;  // 20 < 24 header bytes
    refresh_checksum(with_options);
    CHECK(check(with_options) == errc::ipv4_total_length_mismatch);
}

TEST_CASE("ipv4_check_total_length_zero_is_rejected")
{
    bytes packet = classic_packet();
    packet[2] = packet[3] = 0;
    refresh_checksum(packet);
    CHECK(check(packet) == errc::ipv4_total_length_mismatch);
}

// RFC 791 §3.1: a datagram longer than what arrived was truncated on the way.
TEST_CASE("ipv4_check_total_length_beyond_packet_is_rejected")
{
    bytes packet = classic_packet();
    packet.pop_back();  // 59 bytes, total length says 60
    CHECK(check(packet) == errc::ipv4_total_length_mismatch);

    bytes huge = classic_packet();
    huge[2] = huge[3] = 0xff;
    refresh_checksum(huge);
    CHECK(check(huge) == errc::ipv4_total_length_mismatch);
}

// RFC 1122 §3.2.1.2: a host MUST verify the header checksum and discard on failure.
TEST_CASE("ipv4_check_bad_checksum_is_rejected")
{
    bytes packet = classic_packet();
    packet[11] ^= 0x01;  // b1e6 -> b1e7
    CHECK(check(packet) == errc::ipv4_bad_header_checksum);
    packet = classic_packet();
    packet[10] = packet[11] = 0;  // "no checksum" does not exist in IPv4
    CHECK(check(packet) == errc::ipv4_bad_header_checksum);
}

// The one's-complement sum changes with any single bit of the header, so every single-bit
// error is caught: by the checksum, or earlier by a structural check.
TEST_CASE("ipv4_check_every_single_bit_flip_in_the_header_is_caught")
{
    for (std::size_t byte = 0; byte < 20; ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            CAPTURE(byte);
            CAPTURE(bit);
            bytes packet = classic_packet();
            packet[byte] ^= static_cast<std::uint8_t>(1u << bit);
            const std::error_code ec = check(packet);
            CHECK(ec);
            // Outside version/IHL and total length no structural check can fire.
            if (byte != 0 && byte != 2 && byte != 3) CHECK(ec == errc::ipv4_bad_header_checksum);
        }
    }
}

// Options are inside the checksummed header too (RFC 791 §3.1 "header checksum").
TEST_CASE("ipv4_check_single_bit_flip_in_options_is_caught")
{
    const bytes good = packet_with_ihl(15, 4);
    REQUIRE(check(good) == std::error_code{});
    for (std::size_t byte = 20; byte < 60; ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            bytes packet = good;
            packet[byte] ^= static_cast<std::uint8_t>(1u << bit);
            CHECK(check(packet) == errc::ipv4_bad_header_checksum);
        }
    }
}

// The header checksum covers the header only (RFC 791 §3.1): payload damage is TCP's to find.
TEST_CASE("ipv4_check_does_not_cover_the_payload")
{
    bytes packet = classic_packet();
    packet[40] ^= 0xff;
    CHECK(check(packet) == std::error_code{});
}

TEST_CASE("ipv4_emit_checksum_from_fields_matches_the_sum_over_the_bytes")
{
    // emit() sums the header from its fields (RFC 1071 arithmetic, no pass over memory);
    // for any fields that must equal the checksum of the bytes it wrote (seeded, 100 000).
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    const auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    for (int i = 0; i < 100000; ++i) {
        ipv4_header h;
        const std::uint64_t r = next();
        h.source = ipv4_address{static_cast<std::uint32_t>(r)};
        h.destination = ipv4_address{static_cast<std::uint32_t>(r >> 32)};
        const std::uint64_t q = next();
        h.tos = static_cast<std::uint8_t>(q);
        h.ttl = static_cast<std::uint8_t>(q >> 8);
        h.protocol = static_cast<std::uint8_t>(q >> 16);
        h.identification = static_cast<std::uint16_t>(q >> 24);
        h.dont_fragment = (q >> 40) & 1;
        h.payload_length = static_cast<std::uint16_t>((q >> 41) % 65516);
        std::array<std::uint8_t, 20> out{};
        REQUIRE(h.emit(out) == std::error_code{});
        CAPTURE(i);
        CHECK(internet_checksum(out) == 0);  // a header with its checksum in place sums to 0
    }
}
