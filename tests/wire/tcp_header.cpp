// Tests for tcpx/wire/tcp_header.hpp: the view's accessors on hand-written bytes, the
// control bits, emit byte for byte, the checksum with its pseudo-header, and every
// malformed header as its own case (RFC 9293 §3.1, RFC 3168 §6.1, RFC 1122 §4.2.2.5).
#include <tcpx/wire/tcp_header.hpp>

#include <doctest/doctest.h>

#include "support/hex.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
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

using tcpx_test::concat;
using tcpx_test::from_hex;

const ipv4_address client{10, 0, 0, 1};
const ipv4_address server{10, 0, 0, 2};

// An ECN-setup SYN (RFC 3168 §6.1.1: SYN with ECE and CWR) with every field distinct:
// ports 50000 -> 443, seq deadbeef, ack 01020304, data offset 8, flags c2, window ffff,
// checksum 1234 (not verified by the view), urgent pointer 7, NOP NOP TS(1, 2), data "abc".
bytes hand_written_segment()
{
    return from_hex("c3 50 01 bb  de ad be ef  01 02 03 04  80 c2 ff ff  12 34 00 07"
                    "01 01 08 0a  00 00 00 01  00 00 00 02"
                    "61 62 63");
}

// The data segment of tests/wire/vectors.cpp: 10.0.0.1:40000 -> 10.0.0.2:80, PSH|ACK,
// timestamps, 11 bytes of data. tcpdump -vv reports its checksum 1cfa "correct".
bytes tcpdump_verified_segment()
{
    return from_hex("9c 40 00 50  5d 3b 1a 2d  11 22 33 45  80 18 01 f6  1c fa 00 00"
                    "01 01 08 0a  00 04 d2 ea  00 ab cd ef"
                    "68 65 6c 6c 6f 20 74 63 70 78 21");
}

// A header whose fields are all distinct, with options (12 bytes of them).
tcp_header sample_header()
{
    tcp_header h;
    h.source_port = 40000;
    h.destination_port = 80;
    h.seq = seq32{0x5d3b1a2du};
    h.ack = seq32{0x11223345u};
    h.flags = tcp_flags::psh | tcp_flags::ack;
    h.window = 502;
    h.urgent_pointer = 0;
    h.options.timestamp = timestamps{0x0004d2eau, 0x00abcdefu};
    return h;
}

// Header emitted, payload appended, checksum filled: a complete segment.
bytes make_segment(const tcp_header& h, const bytes& payload,
                   ipv4_address source = client, ipv4_address destination = server)
{
    bytes segment(h.size() + payload.size(), 0xee);
    REQUIRE(h.emit(segment) == std::error_code{});
    std::copy(payload.begin(), payload.end(), segment.begin() + static_cast<std::ptrdiff_t>(h.size()));
    fill_tcp_checksum(segment, source, destination);
    return segment;
}

bytes payload_of(std::size_t n)
{
    bytes p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
    return p;
}

std::error_code check(const bytes& segment) { return tcp_view{segment}.check(); }

std::error_code parse(const bytes& segment)
{
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    tcp_header h;
    return tcp_header::parse(v, h);
}

// A 20-byte SYN header followed by `options` as its options area, data offset to match.
bytes with_options(const bytes& options)
{
    bytes s = from_hex("9c 40 00 50  00 00 00 01  00 00 00 00  00 02 ff ff  00 00 00 00");
    s[12] = static_cast<std::uint8_t>(((20 + options.size()) / 4) << 4);
    return concat(s, options);
}

}  // namespace

// -- the view ------------------------------------------------------------------

// RFC 9293 §3.1: every field of the fixed header, at its offset.
TEST_CASE("tcp_view_reads_every_field_of_hand_written_bytes")
{
    const bytes segment = hand_written_segment();
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.source_port() == 50000);
    CHECK(v.destination_port() == 443);
    CHECK(v.seq() == seq32{0xdeadbeefu});
    CHECK(v.ack() == seq32{0x01020304u});
    CHECK(v.header_length() == 32);
    CHECK(v.flags() == (tcp_flags::cwr | tcp_flags::ece | tcp_flags::syn));
    CHECK(v.window() == 0xffff);
    CHECK(v.checksum() == 0x1234);
    CHECK(v.urgent_pointer() == 7);
    REQUIRE(v.options_area().size() == 12);
    CHECK(v.options_area().data() == segment.data() + 20);
    CHECK(v.options_area()[2] == 0x08);
    REQUIRE(v.payload().size() == 3);
    CHECK(v.payload().data() == segment.data() + 32);
    CHECK(v.payload()[0] == 'a');
    CHECK(v.bytes().size() == segment.size());
}

// RFC 9293 §3.1: the reserved bits "must be ignored in received segments" — they
// change neither the data offset nor the control bits.
TEST_CASE("tcp_view_ignores_the_reserved_bits_beside_data_offset")
{
    bytes segment = hand_written_segment();
    segment[12] = 0x8f;
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.header_length() == 32);
    CHECK(v.flags() == (tcp_flags::cwr | tcp_flags::ece | tcp_flags::syn));
}

TEST_CASE("tcp_view_without_options_has_an_empty_options_area")
{
    const bytes segment = from_hex("00 50 9c 40  00 00 00 00  5d 3b 1a 2d  50 14 00 00  00 00 00 00");
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.header_length() == 20);
    CHECK(v.options_area().empty());
    CHECK(v.payload().empty());
    tcp_header h;
    REQUIRE(tcp_header::parse(v, h) == std::error_code{});
    CHECK(h.options == tcp_options{});
    CHECK(h.flags == (tcp_flags::rst | tcp_flags::ack));
}

// RFC 9293 §3.1: data offset 15 is the largest header, 40 bytes of options.
TEST_CASE("tcp_view_data_offset_15_with_60_bytes_is_accepted")
{
    bytes options(40, tcp_option::nop);
    const bytes segment = with_options(options);
    REQUIRE(segment.size() == 60);
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.header_length() == 60);
    CHECK(v.options_area().size() == 40);
    CHECK(v.payload().empty());
    CHECK(parse(segment) == std::error_code{});
}

// -- control bits --------------------------------------------------------------

// RFC 9293 §3.1 and RFC 3168 §6.1: the eight control bits, each its own bit value.
TEST_CASE("tcp_flags_have_their_header_bit_values")
{
    CHECK(static_cast<unsigned>(tcp_flags::fin) == 0x01);
    CHECK(static_cast<unsigned>(tcp_flags::syn) == 0x02);
    CHECK(static_cast<unsigned>(tcp_flags::rst) == 0x04);
    CHECK(static_cast<unsigned>(tcp_flags::psh) == 0x08);
    CHECK(static_cast<unsigned>(tcp_flags::ack) == 0x10);
    CHECK(static_cast<unsigned>(tcp_flags::urg) == 0x20);
    CHECK(static_cast<unsigned>(tcp_flags::ece) == 0x40);
    CHECK(static_cast<unsigned>(tcp_flags::cwr) == 0x80);
}

TEST_CASE("tcp_flags_has_needs_every_wanted_bit")
{
    const tcp_flags syn_ack = tcp_flags::syn | tcp_flags::ack;
    CHECK(has(syn_ack, tcp_flags::syn));
    CHECK(has(syn_ack, tcp_flags::ack));
    CHECK(has(syn_ack, syn_ack));
    CHECK_FALSE(has(syn_ack, tcp_flags::fin));
    CHECK_FALSE(has(syn_ack, tcp_flags::syn | tcp_flags::fin));
    CHECK(has(syn_ack, tcp_flags::none));
    tcp_flags f = tcp_flags::none;
    f |= tcp_flags::ece;
    f |= tcp_flags::cwr;
    CHECK(f == (tcp_flags::ece | tcp_flags::cwr));
    CHECK((f & tcp_flags::ece) == tcp_flags::ece);
    CHECK((f & tcp_flags::syn) == tcp_flags::none);
}

// Log text lists the set bits from the most significant (CWR) down to FIN.
TEST_CASE("tcp_flags_to_string_names_each_bit_in_header_order")
{
    CHECK(to_string(tcp_flags::none) == "none");
    CHECK(to_string(tcp_flags::fin) == "FIN");
    CHECK(to_string(tcp_flags::syn) == "SYN");
    CHECK(to_string(tcp_flags::rst) == "RST");
    CHECK(to_string(tcp_flags::psh) == "PSH");
    CHECK(to_string(tcp_flags::ack) == "ACK");
    CHECK(to_string(tcp_flags::urg) == "URG");
    CHECK(to_string(tcp_flags::ece) == "ECE");
    CHECK(to_string(tcp_flags::cwr) == "CWR");
    CHECK(to_string(tcp_flags::syn | tcp_flags::ack) == "ACK|SYN");
    CHECK(to_string(tcp_flags::fin | tcp_flags::ack) == "ACK|FIN");
    CHECK(to_string(tcp_flags::psh | tcp_flags::ack) == "ACK|PSH");
    CHECK(to_string(tcp_flags::rst | tcp_flags::ack) == "ACK|RST");
    // RFC 3168 §6.1.1: an ECN-setup SYN.
    CHECK(to_string(tcp_flags::syn | tcp_flags::ece | tcp_flags::cwr) == "CWR|ECE|SYN");
    CHECK(to_string(static_cast<tcp_flags>(0xff)) == "CWR|ECE|URG|ACK|PSH|RST|SYN|FIN");
}

// -- emit ----------------------------------------------------------------------

// RFC 9293 §3.1: the fields in place, data offset from the options, checksum left zero.
TEST_CASE("tcp_emit_writes_header_and_options_byte_exact")
{
    const tcp_header h = sample_header();
    REQUIRE(h.size() == 32);
    bytes out(32, 0xee);
    REQUIRE(h.emit(out) == std::error_code{});
    CHECK(out == from_hex("9c 40 00 50  5d 3b 1a 2d  11 22 33 45  80 18 01 f6  00 00 00 00"
                          "01 01 08 0a  00 04 d2 ea  00 ab cd ef"));
}

TEST_CASE("tcp_emit_without_options_writes_20_bytes")
{
    tcp_header h;
    h.source_port = 81;
    h.destination_port = 40001;
    h.seq = seq32{0};
    h.ack = seq32{0x5d3b1a2du};
    h.flags = tcp_flags::rst | tcp_flags::ack;
    h.window = 0;
    h.urgent_pointer = 0x0102;
    REQUIRE(h.size() == 20);
    bytes out(20, 0xee);
    REQUIRE(h.emit(out) == std::error_code{});
    CHECK(out == from_hex("00 51 9c 41  00 00 00 00  5d 3b 1a 2d  50 14 00 00  00 00 01 02"));
}

// Contract: emit writes exactly size() bytes, and overwrites a stale checksum with zero.
TEST_CASE("tcp_emit_writes_exactly_size_bytes")
{
    const tcp_header h = sample_header();
    bytes out(100, 0xee);
    REQUIRE(h.emit(out) == std::error_code{});
    CHECK(out[16] == 0);
    CHECK(out[17] == 0);
    CHECK(std::all_of(out.begin() + 32, out.end(), [](std::uint8_t b) { return b == 0xee; }));
}

TEST_CASE("tcp_emit_into_a_buffer_shorter_than_size_is_buffer_too_small")
{
    const tcp_header h = sample_header();
    bytes out(31, 0xee);
    CHECK(h.emit(out) == errc::buffer_too_small);
    CHECK(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0xee; }));
    CHECK(tcp_header{}.emit(std::span<std::uint8_t>{}) == errc::buffer_too_small);
    bytes nineteen(19);
    CHECK(tcp_header{}.emit(nineteen) == errc::buffer_too_small);
}

// Every control-bit combination and a spread of option sets survive emit -> parse.
TEST_CASE("tcp_emit_then_parse_round_trips_every_flag_combination")
{
    for (unsigned bits = 0; bits < 256; ++bits) {
        CAPTURE(bits);
        tcp_header h = sample_header();
        h.flags = static_cast<tcp_flags>(bits);
        h.urgent_pointer = static_cast<std::uint16_t>(bits * 257);
        const bytes segment = make_segment(h, payload_of(bits % 5));
        const tcp_view v{segment};
        REQUIRE(v.check() == std::error_code{});
        CHECK(v.checksum_ok(client, server));
        tcp_header back;
        REQUIRE(tcp_header::parse(v, back) == std::error_code{});
        CHECK(back == h);
    }
}

TEST_CASE("tcp_emit_then_parse_round_trips_option_sets")
{
    tcp_options syn;  // what Linux puts on a SYN
    syn.mss = 1460;
    syn.sack_permitted = true;
    syn.timestamp = timestamps{0x0004d2e1u, 0};
    syn.window_scale = 7;
    tcp_options sack = {};  // an ACK with timestamps and three SACK blocks (RFC 2018 §3)
    sack.timestamp = timestamps{1, 2};
    sack.sack_count = 3;
    sack.sack[0] = {seq32{100}, seq32{200}};
    sack.sack[1] = {seq32{0xffff'ff00u}, seq32{0x10}};
    sack.sack[2] = {seq32{300}, seq32{400}};
    tcp_options mss_only;
    mss_only.mss = 536;
    for (const tcp_options& o : {tcp_options{}, syn, sack, mss_only}) {
        tcp_header h = sample_header();
        h.options = o;
        const bytes segment = make_segment(h, payload_of(3));
        const tcp_view v{segment};
        REQUIRE(v.check() == std::error_code{});
        CHECK(v.header_length() == h.size());
        tcp_header back;
        REQUIRE(tcp_header::parse(v, back) == std::error_code{});
        CHECK(back == h);
    }
}

// -- checksum ------------------------------------------------------------------

// RFC 9293 §3.1: a segment tcpdump verified independently.
TEST_CASE("tcp_checksum_ok_accepts_a_segment_verified_by_tcpdump")
{
    const bytes segment = tcpdump_verified_segment();
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    CHECK(v.checksum() == 0x1cfa);
    CHECK(v.checksum_ok(client, server));
    bytes refilled = segment;
    fill_tcp_checksum(refilled, client, server);
    CHECK(refilled == segment);
}

TEST_CASE("tcp_fill_checksum_then_checksum_ok")
{
    for (std::size_t n : {0u, 1u, 2u, 3u, 11u, 536u, 1460u, 1461u}) {
        CAPTURE(n);
        const bytes segment = make_segment(sample_header(), payload_of(n));
        const tcp_view v{segment};
        REQUIRE(v.check() == std::error_code{});
        CHECK(v.checksum_ok(client, server));
    }
}

// RFC 1122 §4.2.2.7: a segment with a bad checksum MUST be discarded. A one's-complement
// sum changes with every single bit, header, options and payload alike.
TEST_CASE("tcp_checksum_ok_is_false_after_any_single_bit_flip")
{
    const bytes good = make_segment(sample_header(), payload_of(11));  // odd-length payload
    REQUIRE(tcp_view{good}.checksum_ok(client, server));
    for (std::size_t byte = 0; byte < good.size(); ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            CAPTURE(byte);
            CAPTURE(bit);
            bytes segment = good;
            segment[byte] ^= static_cast<std::uint8_t>(1u << bit);
            CHECK_FALSE(tcp_view{segment}.checksum_ok(client, server));
        }
    }
}

// header_sum is the first half of checksum_ok, for a receiver that sums the payload on
// its copy: header sum + payload gives the same verdict, damaged or not; a data offset
// past the end (check() not called) is bounded, not read beyond.
TEST_CASE("tcp_header_sum_plus_payload_agrees_with_checksum_ok")
{
    const bytes good = make_segment(sample_header(), payload_of(301));
    for (std::size_t byte = 0; byte < good.size(); byte += 7) {
        bytes segment = good;
        if (byte != 0) segment[byte] ^= 0x10;
        const tcp_view v{segment};
        if (v.check()) continue;  // a damaged data offset: check() refuses it first
        checksum_accumulator acc = v.header_sum(client, server);
        acc.add(v.payload());
        CAPTURE(byte);
        CHECK((acc.sum() == 0xffff) == v.checksum_ok(client, server));
        CHECK((acc.sum() == 0xffff) == (byte == 0));
    }
    // A data offset of 60 bytes in a 40-byte segment: the sum stops at the end.
    bytes beyond = good;
    beyond[tcpx::wire::tcp_field::data_offset] = 0xF0;
    beyond.resize(40);
    checksum_accumulator whole;
    tcpx::wire::add_tcp_pseudo_header(whole, client, server, beyond.size());
    whole.add(beyond);
    CHECK(tcp_view{beyond}.header_sum(client, server).sum() == whole.sum());
}

// RFC 9293 §3.1: the pseudo-header binds the segment to its addresses and length.
TEST_CASE("tcp_checksum_ok_is_false_for_other_addresses_or_length")
{
    const bytes good = make_segment(sample_header(), payload_of(11));
    CHECK_FALSE(tcp_view{good}.checksum_ok(client, ipv4_address{10, 0, 0, 3}));
    CHECK_FALSE(tcp_view{good}.checksum_ok(ipv4_address{10, 0, 1, 1}, server));
    // Cut the last byte: the pseudo-header's length and the sum both change.
    const bytes shorter(good.begin(), good.end() - 1);
    CHECK_FALSE(tcp_view{shorter}.checksum_ok(client, server));
    // Known limit of a sum: exchanging the two addresses leaves it unchanged, so a
    // reflected segment passes the checksum; the 4-tuple lookup is what rejects it.
    CHECK(tcp_view{good}.checksum_ok(server, client));
}

// The data path sums the payload while copying it, then finishes with the header:
// it must store exactly what summing the whole segment stores, for any payload parity.
TEST_CASE("tcp_store_checksum_with_payload_summed_apart_equals_fill_checksum")
{
    tcp_header with_syn_options = sample_header();
    with_syn_options.options.mss = 1460;
    with_syn_options.options.window_scale = 7;
    for (const tcp_header& h : {sample_header(), tcp_header{}, with_syn_options}) {
        for (std::size_t n = 0; n < 40; ++n) {
            CAPTURE(n);
            const bytes payload = payload_of(n);
            const bytes expected = make_segment(h, payload);

            bytes header(h.size());
            REQUIRE(h.emit(header) == std::error_code{});
            checksum_accumulator sum;
            sum.add(payload);
            store_tcp_checksum(header, sum, client, server, header.size() + payload.size());
            CHECK(header == bytes(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(h.size())));
        }
    }
    for (std::size_t n : {1459u, 1460u, 1461u, 65483u}) {  // 65483: the most IPv4 can carry
        CAPTURE(n);
        const tcp_header h = sample_header();
        const bytes payload = payload_of(n);
        const bytes expected = make_segment(h, payload);
        bytes header(h.size());
        REQUIRE(h.emit(header) == std::error_code{});
        checksum_accumulator sum;
        sum.add(payload);
        store_tcp_checksum(header, sum, client, server, header.size() + payload.size());
        CHECK(header == bytes(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(h.size())));
        const bytes whole = concat(header, payload);
        CHECK(tcp_view{whole}.checksum_ok(client, server));
    }
}

// fill_tcp_checksum zeroes the field first, so a stale value there cannot leak in.
TEST_CASE("tcp_fill_checksum_ignores_a_stale_checksum_field")
{
    bytes segment = tcpdump_verified_segment();
    segment[16] = 0xab;
    segment[17] = 0xcd;
    fill_tcp_checksum(segment, client, server);
    CHECK(segment == tcpdump_verified_segment());
}

// -- malformed headers, each its own case ----------------------------------------

TEST_CASE("tcp_check_empty_segment_is_truncated")
{
    CHECK(check(bytes{}) == errc::tcp_truncated);
}

TEST_CASE("tcp_check_one_byte_is_truncated")
{
    CHECK(check(bytes{0x9c}) == errc::tcp_truncated);
}

TEST_CASE("tcp_check_19_bytes_is_truncated")
{
    bytes segment = hand_written_segment();
    segment.resize(19);
    CHECK(check(segment) == errc::tcp_truncated);
}

// RFC 9293 §3.1: data offset counts 32-bit words and the fixed header is 5 of them.
TEST_CASE("tcp_check_data_offset_4_is_bad_data_offset")
{
    bytes segment = hand_written_segment();
    segment[12] = 0x40;
    CHECK(check(segment) == errc::tcp_bad_data_offset);
}

TEST_CASE("tcp_check_data_offset_0_is_bad_data_offset")
{
    bytes segment = hand_written_segment();
    segment[12] = 0x00;
    CHECK(check(segment) == errc::tcp_bad_data_offset);
}

// RFC 1122 §4.2.2.5: survive a data offset that claims more header than arrived.
TEST_CASE("tcp_check_data_offset_15_in_40_byte_segment_is_beyond_segment")
{
    bytes segment = with_options(bytes(20, tcp_option::nop));
    REQUIRE(segment.size() == 40);
    segment[12] = 0xf0;
    CHECK(check(segment) == errc::tcp_data_offset_beyond_segment);
}

TEST_CASE("tcp_check_data_offset_6_in_20_byte_segment_is_beyond_segment")
{
    bytes segment = hand_written_segment();
    segment.resize(20);
    segment[12] = 0x60;
    CHECK(check(segment) == errc::tcp_data_offset_beyond_segment);
}

// RFC 9293 §3.1 (MUST-7): the options parser's reason reaches the caller of parse.
TEST_CASE("tcp_parse_option_length_0_propagates_bad_length")
{
    CHECK(parse(with_options(from_hex("02 00 05 b4"))) == errc::tcp_option_bad_length);
}

TEST_CASE("tcp_parse_option_length_1_propagates_bad_length")
{
    CHECK(parse(with_options(from_hex("fe 01 01 01"))) == errc::tcp_option_bad_length);
}

TEST_CASE("tcp_parse_option_past_the_header_propagates_beyond_header")
{
    // A timestamp option (10 bytes) in a 4-byte options area.
    CHECK(parse(with_options(from_hex("08 0a 00 00"))) == errc::tcp_option_beyond_header);
}

TEST_CASE("tcp_parse_kind_without_room_for_its_length_propagates_beyond_header")
{
    CHECK(parse(with_options(from_hex("01 01 01 02"))) == errc::tcp_option_beyond_header);
}

// RFC 9293 §3.2: MSS is exactly 4 bytes long.
TEST_CASE("tcp_parse_mss_of_length_3_propagates_bad_size")
{
    CHECK(parse(with_options(from_hex("02 03 05 01"))) == errc::tcp_option_bad_size);
}

// RFC 7323 §2.2: window scale is exactly 3 bytes long.
TEST_CASE("tcp_parse_window_scale_of_length_4_propagates_bad_size")
{
    CHECK(parse(with_options(from_hex("03 04 07 00"))) == errc::tcp_option_bad_size);
}

// The options parser's errors come out of parse unchanged, and the fixed fields are still read.
TEST_CASE("tcp_parse_with_bad_options_still_reads_the_fixed_fields")
{
    const bytes segment = with_options(from_hex("02 03 05 01"));
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    tcp_header h;
    CHECK(tcp_header::parse(v, h) == errc::tcp_option_bad_size);
    CHECK(h.source_port == 40000);
    CHECK(h.destination_port == 80);
    CHECK(h.seq == seq32{1});
    CHECK(h.flags == tcp_flags::syn);
    CHECK(h.window == 0xffff);
}

// RFC 9293 §3.1 (MUST-6): an option tcpx does not know is skipped by its length.
TEST_CASE("tcp_parse_skips_unknown_options")
{
    const bytes segment = with_options(from_hex("fd 06 00 00 00 00  02 04 05 b4  00 00"));
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    tcp_header h;
    REQUIRE(tcp_header::parse(v, h) == std::error_code{});
    CHECK(h.options.mss == std::uint16_t{1460});
}

// parse resets the options: what a previous segment carried does not linger.
TEST_CASE("tcp_parse_clears_options_left_in_the_output")
{
    tcp_header h;
    h.options.mss = 9000;
    h.options.sack_permitted = true;
    const bytes segment = from_hex("00 50 9c 40  00 00 00 00  5d 3b 1a 2d  50 14 00 00  00 00 00 00");
    const tcp_view v{segment};
    REQUIRE(v.check() == std::error_code{});
    REQUIRE(tcp_header::parse(v, h) == std::error_code{});
    CHECK(h.options == tcp_options{});
}
