// Whole-packet vectors (IPv4 + TCP) of the kind Linux sends during one short
// connection: each is built from ipv4_header + tcp_header + fill_tcp_checksum and must
// match hand-written bytes exactly, then parse back to the same fields.
// Have open: RFC 791 §3.1, RFC 9293 §3.1, RFC 7323 §2-3 and Appendix A, RFC 2018 §2.
//
// The expected bytes were written by hand; their checksums are verified below by a
// reference sum written out plainly from RFC 1071 §4.1, independent of checksum.hpp
// (and, when the vectors were made, by `tcpdump -vv`, which called every one "correct").
#include <tcpx/wire/tcp_header.hpp>
#include <tcpx/wire/ipv4.hpp>

#include <doctest/doctest.h>

#include "support/hex.hpp"

#include <algorithm>
#include <cstdint>
#include <ostream>  // doctest prints a failed std::error_code comparison through it
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

using namespace tcpx;
using namespace tcpx::wire;

namespace {

using bytes = std::vector<std::uint8_t>;

using tcpx_test::from_hex;

// RFC 1071 §4.1, as plainly as it can be written: add big-endian 16-bit words (an odd
// last byte padded with zero), fold the carries back in, complement. 0 means correct.
std::uint16_t reference_checksum(const bytes& data)
{
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < data.size(); i += 2) {
        const std::uint32_t high = data[i];
        const std::uint32_t low = i + 1 < data.size() ? data[i + 1] : 0;
        sum += high << 8 | low;
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

// Checks the expected bytes on their own: IPv4 header checksum (RFC 791 §3.1) and TCP
// checksum over the pseudo-header (RFC 9293 §3.1), both by the reference sum.
void check_reference_checksums(const bytes& packet)
{
    REQUIRE(packet.size() >= 40);
    const std::size_t ihl = std::size_t{packet[0] & 0x0fu} * 4;
    const bytes header(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(ihl));
    CHECK(reference_checksum(header) == 0);
    const std::size_t tcp_length = packet.size() - ihl;
    bytes pseudo(packet.begin() + 12, packet.begin() + 20);  // source, destination
    pseudo.push_back(0);
    pseudo.push_back(6);
    pseudo.push_back(static_cast<std::uint8_t>(tcp_length >> 8));
    pseudo.push_back(static_cast<std::uint8_t>(tcp_length & 0xff));
    pseudo.insert(pseudo.end(), packet.begin() + static_cast<std::ptrdiff_t>(ihl), packet.end());
    CHECK(reference_checksum(pseudo) == 0);
}

// One packet the way the stack will build it: TCP header, payload, checksum over the
// finished segment, then the IPv4 header in front.
bytes build(ipv4_header ip, const tcp_header& tcp, const bytes& payload)
{
    const std::size_t segment_length = tcp.size() + payload.size();
    bytes packet(ipv4_header::size + segment_length, 0xee);
    const std::span<std::uint8_t> segment = std::span{packet}.subspan(ipv4_header::size);
    REQUIRE(tcp.emit(segment) == std::error_code{});
    std::copy(payload.begin(), payload.end(), segment.begin() + static_cast<std::ptrdiff_t>(tcp.size()));
    fill_tcp_checksum(segment, ip.source, ip.destination);
    ip.payload_length = static_cast<std::uint16_t>(segment_length);
    REQUIRE(ip.emit(packet) == std::error_code{});
    return packet;
}

// Parses a packet back through both views and checks every field against what built it.
void check_parses_back(const bytes& packet, const ipv4_header& ip, const tcp_header& tcp, const bytes& payload)
{
    const ipv4_view v4{packet};
    REQUIRE(v4.check() == std::error_code{});
    CHECK_FALSE(v4.is_fragment());
    CHECK(v4.protocol() == static_cast<std::uint8_t>(ip_protocol::tcp));
    const ipv4_header ip_back = ipv4_header::from(v4);
    CHECK(ip_back.source == ip.source);
    CHECK(ip_back.destination == ip.destination);
    CHECK(ip_back.protocol == ip.protocol);
    CHECK(ip_back.ttl == ip.ttl);
    CHECK(ip_back.tos == ip.tos);
    CHECK(ip_back.identification == ip.identification);
    CHECK(ip_back.dont_fragment == ip.dont_fragment);
    CHECK(ip_back.payload_length == tcp.size() + payload.size());

    const tcp_view seg{v4.payload()};
    REQUIRE(seg.check() == std::error_code{});
    CHECK(seg.checksum_ok(v4.source(), v4.destination()));
    tcp_header tcp_back;
    REQUIRE(tcp_header::parse(seg, tcp_back) == std::error_code{});
    CHECK(tcp_back == tcp);
    CHECK(bytes(seg.payload().begin(), seg.payload().end()) == payload);
}

const ipv4_address client{10, 0, 0, 1};
const ipv4_address server{10, 0, 0, 2};

// Linux's defaults (RFC 1191 path MTU discovery: DF on every TCP segment; TTL 64).
ipv4_header ip_from(ipv4_address source, ipv4_address destination, std::uint16_t id)
{
    ipv4_header ip;
    ip.source = source;
    ip.destination = destination;
    ip.protocol = static_cast<std::uint8_t>(ip_protocol::tcp);
    ip.ttl = 64;
    ip.tos = 0;
    ip.identification = id;
    ip.dont_fragment = true;
    return ip;
}

tcp_header tcp_from(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                    tcp_flags flags, std::uint16_t window)
{
    tcp_header h;
    h.source_port = sport;
    h.destination_port = dport;
    h.seq = seq32{seq};
    h.ack = seq32{ack};
    h.flags = flags;
    h.window = window;
    return h;
}

// The client's ISN, the server's ISN, and the two timestamp clocks of the exchange.
constexpr std::uint32_t client_isn = 0x5d3b1a2c;
constexpr std::uint32_t server_isn = 0x11223344;
constexpr std::uint32_t server_tsval = 0x00abcdef;

void check_vector(const bytes& expected, const ipv4_header& ip, const tcp_header& tcp, const bytes& payload = {})
{
    check_reference_checksums(expected);
    const bytes built = build(ip, tcp, payload);
    CHECK(built == expected);
    check_parses_back(expected, ip, tcp, payload);
}

}  // namespace

// RFC 9293 §3.7.1, RFC 7323 §2-3, RFC 2018 §2: Linux's SYN carries MSS 1460, SACK-permitted
// (in the NOP NOP slot before TS), timestamps with TSecr 0, NOP and window scale 7.
TEST_CASE("vector_linux_syn_with_mss_sack_permitted_timestamps_window_scale")
{
    tcp_header tcp = tcp_from(40000, 80, client_isn, 0, tcp_flags::syn, 64240);
    tcp.options.mss = 1460;
    tcp.options.sack_permitted = true;
    tcp.options.timestamp = timestamps{0x0004d2e1, 0};
    tcp.options.window_scale = 7;
    const bytes expected = from_hex(
        "45 00 00 3c  8f 2a 40 00  40 06 97 8f  0a 00 00 01  0a 00 00 02"
        "9c 40 00 50  5d 3b 1a 2c  00 00 00 00  a0 02 fa f0  52 2f 00 00"
        "02 04 05 b4  04 02 08 0a  00 04 d2 e1  00 00 00 00  01 03 03 07");
    check_vector(expected, ip_from(client, server, 0x8f2a), tcp);
}

// RFC 9293 §3.5: the SYN-ACK acknowledges ISN + 1; RFC 7323 §3.2 echoes the SYN's TSval.
TEST_CASE("vector_linux_syn_ack_echoes_timestamp_and_acknowledges_isn_plus_1")
{
    tcp_header tcp = tcp_from(80, 40000, server_isn, client_isn + 1, tcp_flags::syn | tcp_flags::ack, 65160);
    tcp.options.mss = 1460;
    tcp.options.sack_permitted = true;
    tcp.options.timestamp = timestamps{server_tsval, 0x0004d2e1};
    tcp.options.window_scale = 7;
    const bytes expected = from_hex(
        "45 00 00 3c  00 00 40 00  40 06 26 ba  0a 00 00 02  0a 00 00 01"
        "00 50 9c 40  11 22 33 44  5d 3b 1a 2d  a0 12 fe 88  3b 85 00 00"
        "02 04 05 b4  04 02 08 0a  00 ab cd ef  00 04 d2 e1  01 03 03 07");
    check_vector(expected, ip_from(server, client, 0), tcp);
}

// RFC 7323 Appendix A: NOP NOP TS, the 12-byte layout on every segment after the SYN.
TEST_CASE("vector_linux_pure_ack_with_timestamps")
{
    tcp_header tcp = tcp_from(40000, 80, client_isn + 1, server_isn + 1, tcp_flags::ack, 502);
    tcp.options.timestamp = timestamps{0x0004d2e9, server_tsval};
    const bytes expected = from_hex(
        "45 00 00 34  8f 2b 40 00  40 06 97 96  0a 00 00 01  0a 00 00 02"
        "9c 40 00 50  5d 3b 1a 2d  11 22 33 45  80 10 01 f6  66 dc 00 00"
        "01 01 08 0a  00 04 d2 e9  00 ab cd ef");
    check_vector(expected, ip_from(client, server, 0x8f2b), tcp);
}

// RFC 9293 §3.9.1 SEND with PUSH; 11 bytes of data, so the checksum pads an odd last byte.
TEST_CASE("vector_linux_data_segment_with_psh_and_odd_length_payload")
{
    tcp_header tcp = tcp_from(40000, 80, client_isn + 1, server_isn + 1, tcp_flags::psh | tcp_flags::ack, 502);
    tcp.options.timestamp = timestamps{0x0004d2ea, server_tsval};
    const bytes payload = from_hex("68 65 6c 6c 6f 20 74 63 70 78 21");  // "hello tcpx!"
    const bytes expected = from_hex(
        "45 00 00 3f  8f 2c 40 00  40 06 97 8a  0a 00 00 01  0a 00 00 02"
        "9c 40 00 50  5d 3b 1a 2d  11 22 33 45  80 18 01 f6  1c fa 00 00"
        "01 01 08 0a  00 04 d2 ea  00 ab cd ef"
        "68 65 6c 6c  6f 20 74 63  70 78 21");
    check_vector(expected, ip_from(client, server, 0x8f2c), tcp, payload);
}

// RFC 9293 §3.6: FIN takes the sequence number after the last data byte (ISN + 1 + 11).
TEST_CASE("vector_linux_fin_ack_after_the_data")
{
    tcp_header tcp = tcp_from(40000, 80, client_isn + 1 + 11, server_isn + 1, tcp_flags::fin | tcp_flags::ack, 502);
    tcp.options.timestamp = timestamps{0x0004d2f0, server_tsval};
    const bytes expected = from_hex(
        "45 00 00 34  8f 2d 40 00  40 06 97 94  0a 00 00 01  0a 00 00 02"
        "9c 40 00 50  5d 3b 1a 38  11 22 33 45  80 11 01 f6  66 c9 00 00"
        "01 01 08 0a  00 04 d2 f0  00 ab cd ef");
    check_vector(expected, ip_from(client, server, 0x8f2d), tcp);
}

// RFC 9293 §3.10.7.1: a SYN to a closed port is answered <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
// without options, window 0.
TEST_CASE("vector_linux_rst_ack_answering_a_syn_to_a_closed_port")
{
    const tcp_header tcp = tcp_from(81, 40001, 0, client_isn + 1, tcp_flags::rst | tcp_flags::ack, 0);
    const bytes expected = from_hex(
        "45 00 00 28  00 00 40 00  40 06 26 ce  0a 00 00 02  0a 00 00 01"
        "00 51 9c 41  00 00 00 00  5d 3b 1a 2d  50 14 00 00  87 d3 00 00");
    check_vector(expected, ip_from(server, client, 0), tcp);
}

// RFC 9293 §3.10.4 ABORT: <SEQ=SND.NXT><CTL=RST>, no ACK, no options.
TEST_CASE("vector_linux_rst_aborting_an_established_connection")
{
    const tcp_header tcp = tcp_from(40000, 80, client_isn + 1 + 11 + 1, 0, tcp_flags::rst, 0);
    const bytes expected = from_hex(
        "45 00 00 28  8f 2e 40 00  40 06 97 9f  0a 00 00 01  0a 00 00 02"
        "9c 40 00 50  5d 3b 1a 39  00 00 00 00  50 04 00 00  87 d9 00 00");
    check_vector(expected, ip_from(client, server, 0x8f2e), tcp);
}

// The reference sum itself, on RFC 1071 §3's numerical example and the classic IPv4 header,
// so a mistake in it cannot make the vectors above agree with a wrong implementation.
TEST_CASE("vector_reference_checksum_matches_rfc_1071_example")
{
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
    CHECK(reference_checksum(from_hex("00 01 f2 03 f4 f5 f6 f7")) == static_cast<std::uint16_t>(~0xddf2u));
    CHECK(reference_checksum(from_hex("45 00 00 3c 1c 46 40 00 40 06 b1 e6 ac 10 0a 63 ac 10 0a 0c")) == 0);
    CHECK(reference_checksum(from_hex("45 00 00 3c 1c 46 40 00 40 06 00 00 ac 10 0a 63 ac 10 0a 0c")) == 0xb1e6);
    CHECK(reference_checksum(from_hex("01")) == 0xfeff);  // odd byte is the high half of a word
}
