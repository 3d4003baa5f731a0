// Scenario tests: ICMP around TCP (impl/stack_icmp.ipp, tcp/icmp_error.hpp). The stack
// answers echo requests, sends protocol unreachable (rate-limited) for what it does not
// speak, and acts on error messages that quote its connections' segments.
//
// Have open: RFC 792 (formats), RFC 1122 §3.2.2 (what a host sends and when not),
// §3.2.2.6 (echo), §4.2.3.9 (TCP's soft and hard errors), RFC 5927 (validating errors),
// RFC 1191 (fragmentation needed), RFC 1812 §4.3.2.3 and §4.3.2.8 (quote size, rate
// limit), RFC 6633 (source quench), RFC 2873 (TOS and precedence).
//
// The error messages here are built by hand, the way a router on the path would
// send them: the IPv4 header of the stack's own datagram and its first 64 bits of
// data (RFC 792's minimum), unless a test says otherwise.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/handshake_helpers.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/endian/conversion.hpp>

using namespace tcpx;
using namespace tcpx::test;
using namespace std::chrono_literals;

namespace {

using bytes = std::vector<std::uint8_t>;

/// A router on the path between the stack and its peer (RFC 5737 TEST-NET-1).
constexpr wire::ipv4_address router{192, 0, 2, 1};

constexpr std::size_t ip_size = wire::ipv4_header::size;
constexpr std::size_t icmp_header_size = wire::icmp_field::fixed_size;

constexpr std::uint8_t type_byte(wire::icmp_type t) { return static_cast<std::uint8_t>(t); }
constexpr std::uint8_t code_byte(wire::unreachable_code c) { return static_cast<std::uint8_t>(c); }
constexpr std::uint8_t udp = static_cast<std::uint8_t>(wire::ip_protocol::udp);

/// The ICMP message of a packet without IPv4 options.
std::span<std::uint8_t> icmp_part(bytes& packet) { return std::span{packet}.subspan(ip_size); }

/// Recomputes the RFC 792 checksum after the test edited the ICMP message.
void reseal_icmp(bytes& packet)
{
    const auto m = icmp_part(packet);
    boost::endian::store_big_u16(m.data() + wire::icmp_field::checksum, 0);
    boost::endian::store_big_u16(m.data() + wire::icmp_field::checksum, wire::internet_checksum(m));
}

/// An IPv4 datagram carrying the ICMP message <type, code, the 32 bits after the
/// checksum (`rest`), body>, with both checksums right.
bytes icmp_packet(wire::ipv4_address from, wire::ipv4_address to, std::uint8_t type, std::uint8_t code,
                  std::uint32_t rest, std::span<const std::uint8_t> body, std::uint8_t tos = 0)
{
    bytes p(ip_size + icmp_header_size + body.size());
    wire::ipv4_header ip;
    ip.source = from;
    ip.destination = to;
    ip.protocol = static_cast<std::uint8_t>(wire::ip_protocol::icmp);
    ip.tos = tos;
    ip.payload_length = static_cast<std::uint16_t>(icmp_header_size + body.size());
    REQUIRE_FALSE(ip.emit(p));
    const auto m = icmp_part(p);
    m[wire::icmp_field::type] = type;
    m[wire::icmp_field::code] = code;
    boost::endian::store_big_u32(m.data() + wire::icmp_field::identifier, rest);
    std::copy(body.begin(), body.end(), m.begin() + static_cast<std::ptrdiff_t>(icmp_header_size));
    reseal_icmp(p);
    return p;
}

bytes text_bytes(std::string_view s) { return {s.begin(), s.end()}; }

/// An echo request from the peer to the stack (RFC 792).
bytes echo_request(const scenario& t, std::uint16_t id, std::uint16_t seq, std::string_view data,
                   std::uint8_t tos = 0)
{
    return icmp_packet(t.peer_address, t.st.configuration().address, type_byte(wire::icmp_type::echo_request), 0,
                       std::uint32_t{id} << 16 | seq, text_bytes(data), tos);
}

/// RFC 792: the least a router quotes, the datagram's IPv4 header and 64 bits of data;
/// for TCP, the ports and the sequence number.
bytes quote_of(const bytes& sent)
{
    REQUIRE(sent.size() >= ip_size + wire::icmp_quote_min_payload);
    return {sent.begin(), sent.begin() + static_cast<std::ptrdiff_t>(ip_size + wire::icmp_quote_min_payload)};
}

/// The quote with its TCP sequence number replaced (RFC 5927 §4.1 tests).
bytes with_quoted_seq(bytes quote, seq32 seq)
{
    boost::endian::store_big_u32(quote.data() + ip_size + 4, seq.value());
    return quote;
}

/// An ICMP error from the router to the stack, quoting `quote`.
bytes error_about(const scenario& t, wire::icmp_type type, std::uint8_t code, const bytes& quote,
                  std::uint32_t rest = 0, wire::ipv4_address from = router)
{
    return icmp_packet(from, t.st.configuration().address, type_byte(type), code, rest, quote);
}

/// Destination unreachable about a datagram the stack sent; next_hop_mtu goes in the
/// low 16 bits of the second word (RFC 1191 §4).
bytes unreachable_about(const scenario& t, wire::unreachable_code code, const bytes& sent,
                        std::uint16_t next_hop_mtu = 0)
{
    return error_about(t, wire::icmp_type::destination_unreachable, code_byte(code), quote_of(sent), next_hop_mtu);
}

/// A UDP datagram from the peer to the stack (a 20-byte stand-in body, and `payload`).
bytes udp_packet(const scenario& t, std::string_view payload = {})
{
    return packet_to(t, t.st.configuration().address, t.segment(SYN, seq32{5000}), payload, udp);
}


/// Exactly one packet was sent, an ICMP message whose IPv4 and ICMP checksums verify.
bytes expect_one_icmp(scenario& t)
{
    auto all = t.sent_packets();
    REQUIRE(all.size() == 1);
    const wire::ipv4_view ip{all.front()};
    REQUIRE_FALSE(ip.check());
    REQUIRE(ip.protocol() == static_cast<std::uint8_t>(wire::ip_protocol::icmp));
    const wire::icmp_view icmp{ip.payload()};
    REQUIRE_FALSE(icmp.check());
    CHECK(wire::internet_checksum(ip.payload()) == 0);
    return all.front();
}

void expect_no_packet(scenario& t)
{
    const auto all = t.sent_packets();
    CHECK_MESSAGE(all.empty(), "expected no packet, got " << all.size());
}

/// connect(): SYN-SENT, with the SYN as it was sent (the fixture's open_active()
/// parses it, and the error messages here quote its bytes).
struct opening {
    socket s;
    bytes syn;
};
opening connect_raw(scenario& t)
{
    std::error_code ec;
    const socket s = t.st.connect(t.peer_address, t.peer_port, ec);
    REQUIRE_FALSE(ec);
    auto sent = t.sent_packets();
    REQUIRE(sent.size() == 1);
    return {s, std::move(sent.front())};
}

/// ESTABLISHED, the peer's SYN-ACK announcing MSS 1460, so the send MSS is 1460 (the
/// fixture's SYN-ACK has no option, which makes it RFC 9293 §3.7.1's 536).
socket establish_with_mss_1460(scenario& t)
{
    const socket s = t.open_active();
    wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
    synack.options.mss = 1460;
    t.inject(synack);
    t.peer_nxt = t.peer_iss + 1;
    REQUIRE(t.expect_one().flags() == ACK);
    REQUIRE(t.st.state(s) == tcp::state::established);
    REQUIRE(t.st.connection(s)->send_mss() == 1460);
    return s;
}

/// Sends `text` and returns the one data packet it went out in, unacknowledged.
bytes send_unacknowledged(scenario& t, socket s, std::string_view text)
{
    REQUIRE(t.send(s, text) == text.size());
    auto all = t.sent_packets();
    REQUIRE(all.size() == 1);
    return all.front();
}

/// Lets timers run (the peer silent) until the connection is CLOSED; false if it never is.
bool run_until_closed(scenario& t, socket s)
{
    for (int i = 0; i < 200 && t.st.state(s) != tcp::state::closed; ++i)
        if (!t.advance_to_deadline()) break;
    t.dev.outbox.clear();
    return t.st.state(s) == tcp::state::closed;
}

config with(std::uint16_t icmp_errors_per_second)
{
    config c = scenario_config();
    c.icmp_errors_per_second = icmp_errors_per_second;
    return c;
}

config short_timeouts()
{
    config c = scenario_config();
    c.connect_timeout = 5s;
    c.user_timeout = 5s;
    return c;
}

}  // namespace

// ---- echo (ping) ----

TEST_CASE("any_state_echo_request_gets_echo_reply_with_same_data")
{
    // RFC 1122 §3.2.2.6 (MUST): answer an echo request; the reply's source is the
    // request's destination, and its data, identifier and sequence number are the
    // request's, "returned entirely"; RFC 792: type 0, the checksum computed afresh.
    // No TCP state is involved: a host with no connection at all answers.
    for (const std::string_view data : {std::string_view{"0123456789abcdef"}, std::string_view{"odd-length data!!"}}) {
        CAPTURE(data);
        scenario t;
        t.inject_raw(echo_request(t, 0x1234, 0x0007, data));
        const bytes reply = expect_one_icmp(t);
        const wire::ipv4_view ip{reply};
        CHECK(ip.source() == t.st.configuration().address);
        CHECK(ip.destination() == t.peer_address);
        CHECK(ip.total_length() == ip_size + icmp_header_size + data.size());
        const wire::icmp_view icmp{ip.payload()};
        CHECK(icmp.type() == wire::icmp_type::echo_reply);
        CHECK(icmp.code() == 0);
        CHECK(icmp.identifier() == 0x1234);
        CHECK(icmp.sequence() == 0x0007);
        CHECK(bytes(icmp.body().begin(), icmp.body().end()) == text_bytes(data));
        CHECK(t.st.counters().icmp_echo_replies == 1);
        CHECK(t.st.counters().packets_sent == 1);
        CHECK(t.st.counters().dropped_total() == 0);
    }
}

TEST_CASE("any_state_echo_request_of_a_full_mtu_gets_a_full_reply")
{
    // RFC 1122 §3.2.2.6: the data is returned entirely; a request that filled the
    // 1500-byte link fits it on the way back, so nothing is cut.
    scenario t;
    const std::string data(1500 - ip_size - icmp_header_size, 'p');
    t.inject_raw(echo_request(t, 1, 2, data));
    const bytes reply = expect_one_icmp(t);
    CHECK(reply.size() == 1500);
    const wire::icmp_view icmp{wire::ipv4_view{reply}.payload()};
    CHECK(std::string(icmp.body().begin(), icmp.body().end()) == data);
}

TEST_CASE("established_echo_request_gets_echo_reply_and_leaves_the_connection_alone")
{
    // RFC 1122 §3.2.2.6: ping is answered whatever TCP is doing, and is none of TCP's
    // business (RFC 1122 §3.2.2: ICMP is demultiplexed by type, not by connection).
    scenario t;
    const socket s = t.establish_active();
    t.inject_raw(echo_request(t, 9, 9, "ping"));
    const bytes reply = expect_one_icmp(t);
    CHECK(wire::icmp_view{wire::ipv4_view{reply}.payload()}.type() == wire::icmp_type::echo_reply);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.counters().icmp_echo_replies == 1);
}

TEST_CASE("any_state_echo_reply_carries_the_request_tos_without_ecn")
{
    // RFC 1349 §5.1: "An echo reply message SHOULD have the same TOS as the echo
    // request"; RFC 3168 §5: ICMP is not ECN-capable, so the ECN bits are not echoed.
    scenario t;
    t.inject_raw(echo_request(t, 1, 1, "tos", 0x13));  // TOS 0x10 with ECN CE (0b11)
    const bytes reply = expect_one_icmp(t);
    CHECK(wire::ipv4_view{reply}.tos() == 0x10);
}

TEST_CASE("any_state_echo_request_with_answer_ping_off_is_dropped_unanswered")
{
    // config::answer_ping = false turns RFC 1122 §3.2.2.6's MUST off on purpose: the
    // request is dropped and counted as a type the stack does not act on.
    config c = scenario_config();
    c.answer_ping = false;
    scenario t{c};
    t.inject_raw(echo_request(t, 1, 1, "hello"));
    expect_no_packet(t);
    CHECK(t.st.counters().icmp_echo_replies == 0);
    CHECK(t.st.counters().dropped(drop_reason::icmp_unhandled) == 1);
    CHECK(dropped_other_than(t.st.counters(), drop_reason::icmp_unhandled) == 0);
}

TEST_CASE("any_state_echo_request_with_bad_checksum_is_dropped_and_counted")
{
    // RFC 792: the checksum covers the whole message; RFC 1122 §3.2.2: a message that
    // fails it is discarded, and nothing answers it.
    scenario t;
    bytes p = echo_request(t, 1, 1, "hello");
    p.back() ^= 0x01;  // a data bit: the IPv4 header is still sound
    t.inject_raw(std::move(p));
    expect_no_packet(t);
    CHECK(t.st.counters().dropped(drop_reason::icmp_bad_checksum) == 1);
    CHECK(dropped_other_than(t.st.counters(), drop_reason::icmp_bad_checksum) == 0);
    CHECK(t.st.counters().icmp_echo_replies == 0);
}

TEST_CASE("any_state_icmp_message_shorter_than_its_header_is_dropped_and_counted")
{
    // RFC 792: every message has the 8-byte header; 4 bytes cannot be one.
    scenario t;
    bytes p = echo_request(t, 1, 1, "");
    p.resize(ip_size + 4);
    boost::endian::store_big_u16(p.data() + wire::ipv4_field::total_length, static_cast<std::uint16_t>(p.size()));
    reseal_ipv4(p);
    t.inject_raw(std::move(p));
    expect_no_packet(t);
    CHECK(t.st.counters().dropped(drop_reason::icmp_truncated) == 1);
    CHECK(dropped_other_than(t.st.counters(), drop_reason::icmp_truncated) == 0);
}

TEST_CASE("any_state_echo_request_to_the_broadcast_address_is_dropped")
{
    // RFC 1122 §3.2.2.6: a request to a broadcast address MAY be discarded silently;
    // tcpx takes only datagrams to its own address (RFC 1122 §3.2.1.3).
    scenario t;
    t.inject_raw(icmp_packet(t.peer_address, wire::ipv4_address{255, 255, 255, 255},
                             type_byte(wire::icmp_type::echo_request), 0, 0x00010001, text_bytes("hi")));
    expect_no_packet(t);
    CHECK(t.st.counters().dropped(drop_reason::not_our_address) == 1);
    CHECK(t.st.counters().icmp_echo_replies == 0);
}

TEST_CASE("any_state_echo_reply_and_unknown_types_are_dropped_unhandled")
{
    // RFC 1122 §3.2.2: "If an ICMP message of unknown type is received, it MUST be
    // silently discarded"; an echo reply answers no request of ours (tcpx has no ping
    // client). Neither is answered: RFC 1122 §3.2.2 sends no error about them.
    scenario t;
    t.inject_raw(icmp_packet(t.peer_address, t.st.configuration().address, type_byte(wire::icmp_type::echo_reply),
                             0, 0x00010001, text_bytes("pong")));
    t.inject_raw(icmp_packet(t.peer_address, t.st.configuration().address, 42, 0, 0, text_bytes("?")));
    expect_no_packet(t);
    CHECK(t.st.counters().dropped(drop_reason::icmp_unhandled) == 2);
    CHECK(dropped_other_than(t.st.counters(), drop_reason::icmp_unhandled) == 0);
    CHECK(t.st.counters().icmp_echo_replies == 0);
    CHECK(t.st.counters().icmp_errors_sent == 0);
}

TEST_CASE("established_redirect_is_dropped_unhandled")
{
    // RFC 1122 §3.2.2.2: a redirect is for the host's routing table, which tcpx has
    // not; RFC 1122 §4.2.3.9 gives TCP nothing to do with it. counters.hpp lists it
    // under icmp_unhandled ("echo reply, redirect, unknown"), not as an error acted
    // on. It quotes a live segment, so the quote is not why it is dropped.
    scenario t;
    const socket s = t.establish_active();
    const bytes data = send_unacknowledged(t, s, "hello");
    t.inject_raw(error_about(t, wire::icmp_type::redirect, 1, quote_of(data), router.value));
    expect_no_packet(t);
    CHECK(t.st.counters().dropped(drop_reason::icmp_unhandled) == 1);
    CHECK(dropped_other_than(t.st.counters(), drop_reason::icmp_unhandled) == 0);
    CHECK(t.st.counters().icmp_errors_received == 0);
    CHECK(t.st.state(s) == tcp::state::established);
}

// ---- protocol unreachable, and when not to send it ----

TEST_CASE("closed_udp_datagram_gets_protocol_unreachable_quoting_it")
{
    // RFC 1122 §3.2.2.1 (SHOULD): protocol unreachable for a transport the host does
    // not run; RFC 792: the quote is the datagram's header and at least 64 bits of
    // its data, here all of it (RFC 1812 §4.3.2.3: as much as fits in 576 bytes);
    // RFC 1122 §3.2.2: sent with TOS 0, from our address to the datagram's source.
    scenario t;
    bytes offending = udp_packet(t, "some udp payload");
    offending[wire::ipv4_field::tos] = 0x28;
    reseal_ipv4(offending);
    t.inject_raw(offending);
    const bytes out = expect_one_icmp(t);
    const wire::ipv4_view ip{out};
    CHECK(ip.source() == t.st.configuration().address);
    CHECK(ip.destination() == t.peer_address);
    CHECK(ip.tos() == 0);
    const wire::icmp_view icmp{ip.payload()};
    CHECK(icmp.type() == wire::icmp_type::destination_unreachable);
    CHECK(icmp.code() == code_byte(wire::unreachable_code::protocol));
    CHECK(boost::endian::load_big_u32(icmp.bytes().data() + 4) == 0);  // unused, zero
    REQUIRE(icmp.body().size() >= ip_size + wire::icmp_quote_min_payload);
    CHECK(bytes(icmp.body().begin(), icmp.body().end()) == offending);
    const auto quote = icmp.quoted_transport();
    REQUIRE(quote.has_value());
    CHECK(quote->protocol == udp);
    CHECK(quote->source == t.peer_address);
    CHECK(t.st.counters().icmp_errors_sent == 1);
    CHECK(t.st.counters().dropped(drop_reason::protocol_unsupported) == 1);
}

TEST_CASE("closed_large_udp_datagram_unreachable_is_cut_to_576_bytes")
{
    // RFC 1812 §4.3.2.3: the error quotes "as much of the original datagram as
    // possible without the length of the ICMP datagram exceeding 576 bytes".
    scenario t;
    const bytes offending = udp_packet(t, std::string(1000, 'u'));
    t.inject_raw(offending);
    const bytes out = expect_one_icmp(t);
    CHECK(out.size() == wire::icmp_error_max_size);
    const wire::icmp_view icmp{wire::ipv4_view{out}.payload()};
    const std::size_t quoted = wire::icmp_error_max_size - ip_size - icmp_header_size;
    REQUIRE(icmp.body().size() == quoted);
    CHECK(std::equal(icmp.body().begin(), icmp.body().end(), offending.begin()));
}

TEST_CASE("closed_unreachables_beyond_the_rate_limit_are_not_sent_and_counted")
{
    // RFC 1812 §4.3.2.8 (RFC 1122 §3.2.2 DISCUSSION): errors are rate-limited; a token
    // bucket of icmp_errors_per_second, full at the start, refilled with time.
    scenario t{with(3)};
    for (int i = 0; i < 5; ++i) t.inject_raw(udp_packet(t));
    CHECK(t.sent_packets().size() == 3);
    CHECK(t.st.counters().icmp_errors_sent == 3);
    CHECK(t.st.counters().icmp_errors_limited == 2);
    CHECK(t.st.counters().dropped(drop_reason::protocol_unsupported) == 5);

    // One second later the bucket is full again: three more, and no more.
    t.time.advance(1s);
    for (int i = 0; i < 5; ++i) t.inject_raw(udp_packet(t));
    CHECK(t.sent_packets().size() == 3);
    CHECK(t.st.counters().icmp_errors_sent == 6);
    CHECK(t.st.counters().icmp_errors_limited == 4);

    // A third of a second (and a little) earns one token.
    t.time.advance(340ms);
    for (int i = 0; i < 2; ++i) t.inject_raw(udp_packet(t));
    CHECK(t.sent_packets().size() == 1);
    CHECK(t.st.counters().icmp_errors_sent == 7);
    CHECK(t.st.counters().icmp_errors_limited == 5);
}

TEST_CASE("closed_unreachable_bucket_does_not_grow_beyond_one_second_of_tokens")
{
    // RFC 1812 §4.3.2.8: the burst is bounded; an hour of silence still buys only
    // icmp_errors_per_second errors at once.
    scenario t{with(3)};
    t.time.advance(1h);
    for (int i = 0; i < 5; ++i) t.inject_raw(udp_packet(t));
    CHECK(t.sent_packets().size() == 3);
    CHECK(t.st.counters().icmp_errors_limited == 2);
}

TEST_CASE("closed_unreachable_with_rate_zero_is_never_sent")
{
    // config::icmp_errors_per_second = 0: "never send any" (RFC 1122 §3.2.2.1 is a SHOULD).
    scenario t{with(0)};
    for (int i = 0; i < 3; ++i) t.inject_raw(udp_packet(t));
    t.time.advance(10s);
    t.inject_raw(udp_packet(t));
    expect_no_packet(t);
    CHECK(t.st.counters().icmp_errors_sent == 0);
    CHECK(t.st.counters().icmp_errors_limited == 4);
    CHECK(t.st.counters().dropped(drop_reason::protocol_unsupported) == 4);
}

TEST_CASE("closed_udp_from_a_source_that_is_not_one_host_gets_no_unreachable")
{
    // RFC 1122 §3.2.2 (MUST NOT): no error about a datagram whose source "does not
    // define a single host -- e.g., a zero address, a loopback address, a broadcast
    // address, a multicast address, or a Class E address". Not even a token is spent.
    const wire::ipv4_address sources[] = {
        {0, 0, 0, 0}, {0, 1, 2, 3}, {127, 0, 0, 1}, {224, 0, 0, 9}, {239, 255, 255, 250},
        {240, 0, 0, 1}, {255, 255, 255, 255},
    };
    for (const auto source : sources) {
        CAPTURE(source.value);
        scenario t;
        t.peer_address = source;
        t.inject_raw(udp_packet(t));
        expect_no_packet(t);
        CHECK(t.st.counters().icmp_errors_sent == 0);
        CHECK(t.st.counters().icmp_errors_limited == 0);
        // Dropped as a source that names no host (RFC 1122 §3.2.1.3), before the
        // protocol is looked at (tests/tcp/source_validation.cpp has each reason).
        CHECK(t.st.counters().dropped(drop_reason::protocol_unsupported) == 0);
        CHECK(t.st.counters().dropped_total() == 1);
    }
}

// ---- errors about our connections: opening ----

TEST_CASE("syn_sent_port_unreachable_aborts_connect_with_connection_refused")
{
    // RFC 1122 §4.2.3.9: port unreachable is a hard error; RFC 5927 §4.2: a hard error
    // aborts a connection that is still being opened. The quoted sequence number is
    // the SYN's, ISS, which is in flight [SND.UNA, SND.MAX) (RFC 5927 §4.1). The user
    // sees "refused", as for a RST (RFC 9293 §3.10.7.3).
    scenario t;
    const auto [s, syn] = connect_raw(t);

    // The peer's host answers, the way the stack itself would (wire/icmp.hpp): from
    // the peer's address to the SYN's source, quoting the SYN.
    bytes icmp(wire::icmp_error_max_size);
    std::size_t written = 0;
    REQUIRE_FALSE(wire::emit_destination_unreachable(wire::unreachable_code::port, wire::ipv4_view{syn},
                                                     t.peer_address, icmp, written));
    icmp.resize(written);
    REQUIRE(wire::ipv4_view{icmp}.destination() == t.st.configuration().address);
    t.inject_raw(icmp);

    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::protocol_unreachable);
    CHECK(t.st.error(s) == std::errc::connection_refused);
    CHECK(t.st.counters().icmp_errors_received == 1);
    CHECK(t.st.counters().dropped_total() == 0);
    expect_no_packet(t);
    // Nothing is retransmitted afterwards.
    t.advance(10s);
    expect_no_packet(t);
}

TEST_CASE("syn_sent_communication_prohibited_aborts_connect_with_host_unreachable")
{
    // RFC 1812 §5.2.7.1: code 13, "communication administratively prohibited", is a
    // filter's final word (tcp/icmp_error.hpp classifies it hard); RFC 5927 §4.2: a
    // hard error aborts a connection in SYN-SENT.
    scenario t;
    const auto [s, syn] = connect_raw(t);
    t.inject_raw(unreachable_about(t, wire::unreachable_code::communication_prohibited, syn));
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::host_unreachable);
    CHECK(t.st.counters().icmp_errors_received == 1);
}

TEST_CASE("syn_sent_host_unreachable_is_soft_then_timeout_reports_host_unreachable")
{
    // RFC 1122 §4.2.3.9: host unreachable (code 1) is soft: "TCP MUST NOT abort the
    // connection"; the SYN keeps being retransmitted, and when the connection times
    // out the soft error is what the user is told, not a bare timeout.
    scenario t{short_timeouts()};
    const instant start = t.time.now();
    const auto [s, syn] = connect_raw(t);
    t.inject_raw(unreachable_about(t, wire::unreachable_code::host, syn));
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.counters().icmp_errors_received == 1);

    REQUIRE(t.advance_to_deadline());  // the SYN is retransmitted as before
    const captured again = t.expect_one();
    CHECK(again.flags() == SYN);
    CHECK(t.st.state(s) == tcp::state::syn_sent);

    REQUIRE(run_until_closed(t, s));
    CHECK(t.st.error(s) == errc::host_unreachable);
    CHECK(t.st.error(s) == std::errc::host_unreachable);
    CHECK(t.elapsed_since(start) >= 5s);
    CHECK(t.elapsed_since(start) < 6s);
}

TEST_CASE("syn_sent_time_exceeded_is_soft")
{
    // RFC 1122 §4.2.3.9: time exceeded is soft, "tell AL, don't abort".
    scenario t{short_timeouts()};
    const auto [s, syn] = connect_raw(t);
    t.inject_raw(error_about(t, wire::icmp_type::time_exceeded, 0, quote_of(syn)));
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    CHECK(t.st.counters().icmp_errors_received == 1);
    REQUIRE(run_until_closed(t, s));
    CHECK(t.st.error(s) == errc::host_unreachable);
}

TEST_CASE("syn_received_port_unreachable_does_not_abort")
{
    // RFC 5927 §4.2: hard errors abort only a connection the user is opening
    // (SYN-SENT); a passive open in SYN-RECEIVED treats it as soft, so a forged ICMP
    // cannot tear down half-open connections more cheaply than a RST could.
    scenario t;
    (void)t.open_passive();
    // The SYN-ACK as it was sent: rebuild it from the fixture's numbers.
    wire::tcp_header synack;
    synack.source_port = t.local_port;
    synack.destination_port = t.peer_port;
    synack.seq = t.iss;
    synack.ack = t.peer_nxt;
    synack.flags = SYN | ACK;
    std::vector<std::uint8_t> sent(ip_size + synack.size());
    wire::ipv4_header ip;
    ip.source = t.st.configuration().address;
    ip.destination = t.peer_address;
    ip.payload_length = static_cast<std::uint16_t>(synack.size());
    REQUIRE_FALSE(ip.emit(sent));
    REQUIRE_FALSE(synack.emit(std::span{sent}.subspan(ip_size)));
    t.inject_raw(unreachable_about(t, wire::unreachable_code::port, sent));
    CHECK(t.st.counters().icmp_errors_received == 1);
    CHECK(t.st.connection_count() == 1);
    // The handshake still completes.
    t.inject(t.peer_ack(t.stack_nxt));
    expect_no_packet(t);
    CHECK(t.st.counters().connections_accepted == 1);
}

// ---- errors about our connections: synchronized ----

TEST_CASE("established_port_unreachable_does_not_abort")
{
    // RFC 5927 §4.2: once established, a hard error is treated as soft (an
    // unauthenticated message must not reset a connection; Linux and the BSDs agree).
    // RFC 1122 §4.2.3.9: it is remembered, and reported if the connection times out;
    // the user then learns what the ICMP said, "port unreachable" (Linux reports
    // ECONNREFUSED from sk_err_soft likewise).
    scenario t{short_timeouts()};
    const socket s = t.establish_active();
    const bytes data = send_unacknowledged(t, s, "hello");
    t.inject_raw(unreachable_about(t, wire::unreachable_code::port, data));
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.counters().icmp_errors_received == 1);
    expect_no_packet(t);

    // Data still flows both ways.
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "more");
    CHECK(t.receive(s) == "more");

    REQUIRE(run_until_closed(t, s));
    CHECK(t.st.error(s) == errc::protocol_unreachable);
}

TEST_CASE("established_host_unreachable_is_soft_then_user_timeout_reports_host_unreachable")
{
    // RFC 1122 §4.2.3.9: a soft error does not abort; when the user timeout (RFC 9293
    // §3.8.3) closes the connection, the soft error explains why.
    scenario t{short_timeouts()};
    const socket s = t.establish_active();
    const bytes data = send_unacknowledged(t, s, "hello");
    t.inject_raw(unreachable_about(t, wire::unreachable_code::network, data));
    CHECK(t.st.state(s) == tcp::state::established);
    REQUIRE(run_until_closed(t, s));
    CHECK(t.st.error(s) == errc::host_unreachable);
    CHECK(t.st.error(s) == std::errc::host_unreachable);
}

TEST_CASE("established_soft_error_is_forgotten_once_data_is_acknowledged")
{
    // RFC 1122 §4.2.3.9: a soft error is reported if the connection times out because
    // of it. Once later data is acknowledged the path worked again and the old message
    // explains nothing (Linux clears sk_err_soft in tcp_ack, "Something worked...";
    // FreeBSD clears t_softerror on an RTT sample); a later timeout is a plain timeout.
    scenario t{short_timeouts()};
    const socket s = t.establish_active();
    const bytes data = send_unacknowledged(t, s, "hello");
    t.inject_raw(unreachable_about(t, wire::unreachable_code::host, data));
    REQUIRE(t.st.counters().icmp_errors_received == 1);
    t.inject(t.peer_ack(t.stack_nxt + 5));  // the peer acknowledges "hello"
    t.stack_nxt = t.stack_nxt + 5;
    expect_no_packet(t);

    (void)send_unacknowledged(t, s, "world");
    REQUIRE(run_until_closed(t, s));
    CHECK(t.st.error(s) == errc::timed_out);
}

TEST_CASE("established_icmp_error_with_sequence_outside_flight_is_ignored")
{
    // RFC 5927 §4.1: act on an error only if the quoted sequence number is in
    // [SND.UNA, SND.MAX); anything else is stale or forged. Checked with a hard error
    // in SYN-SENT, where acting on it would abort, and a frag-needed in ESTABLISHED,
    // where it would shrink the MSS.
    {
        scenario t;
        const auto [s, syn] = connect_raw(t);
        const seq32 iss = t.st.connection(s)->iss();
        const bytes quote = quote_of(syn);
        const auto port = code_byte(wire::unreachable_code::port);
        // below SND.UNA (= ISS), and at SND.MAX (= ISS + 1)
        t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, port, with_quoted_seq(quote, iss - 1)));
        t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, port, with_quoted_seq(quote, iss + 1)));
        t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, port, with_quoted_seq(quote, iss + 70000)));
        CHECK(t.st.state(s) == tcp::state::syn_sent);
        CHECK_FALSE(t.st.error(s));
        CHECK(t.st.counters().dropped(drop_reason::icmp_unmatched) == 3);
        CHECK(t.st.counters().icmp_errors_received == 0);
        expect_no_packet(t);
    }
    {
        scenario t;
        const socket s = establish_with_mss_1460(t);
        const bytes data = send_unacknowledged(t, s, "hello");  // in flight: [stack_nxt, stack_nxt + 5)
        const bytes quote = quote_of(data);
        const auto frag = code_byte(wire::unreachable_code::fragmentation_needed);
        t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, frag,
                                 with_quoted_seq(quote, t.stack_nxt - 1), 1000));
        t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, frag,
                                 with_quoted_seq(quote, t.stack_nxt + 5), 1000));
        CHECK(t.st.connection(s)->send_mss() == 1460);
        CHECK(t.st.counters().dropped(drop_reason::icmp_unmatched) == 2);
        CHECK(t.st.counters().icmp_errors_received == 0);
        // The last byte in flight is inside: that one is acted on.
        t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, frag,
                                 with_quoted_seq(quote, t.stack_nxt + 4), 1000));
        CHECK(t.st.connection(s)->send_mss() == 960);
        CHECK(t.st.counters().icmp_errors_received == 1);
    }
}

TEST_CASE("established_icmp_error_with_nothing_in_flight_is_ignored")
{
    // RFC 5927 §4.1: with SND.UNA == SND.MAX there is no sequence number an error
    // could rightly quote.
    scenario t;
    const socket s = t.establish_active();
    const bytes data = send_unacknowledged(t, s, "hello");
    t.inject(t.peer_ack(t.stack_nxt + 5));
    expect_no_packet(t);
    t.inject_raw(unreachable_about(t, wire::unreachable_code::host, data));
    CHECK(t.st.counters().dropped(drop_reason::icmp_unmatched) == 1);
    CHECK(t.st.counters().icmp_errors_received == 0);
    CHECK(t.st.state(s) == tcp::state::established);
}

TEST_CASE("established_icmp_error_quoting_unknown_connection_is_ignored")
{
    // RFC 1122 §4.2.3.9 / RFC 792: the quoted ports and addresses name the connection;
    // one that names none of ours (another port, another source, not TCP) is dropped.
    scenario t;
    const socket s = t.establish_active();
    const bytes data = send_unacknowledged(t, s, "hello");
    const auto port = code_byte(wire::unreachable_code::port);

    bytes other_port = quote_of(data);
    boost::endian::store_big_u16(other_port.data() + ip_size + 2, static_cast<std::uint16_t>(t.peer_port + 1));
    t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, port, other_port));

    bytes other_local_port = quote_of(data);
    boost::endian::store_big_u16(other_local_port.data() + ip_size, static_cast<std::uint16_t>(t.local_port + 1));
    t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, port, other_local_port));

    bytes not_from_us = quote_of(data);  // a datagram someone else sent
    boost::endian::store_big_u32(not_from_us.data() + wire::ipv4_field::source, router.value);
    t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, port, not_from_us));

    bytes not_tcp = quote_of(data);
    not_tcp[wire::ipv4_field::protocol] = udp;
    t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, port, not_tcp));

    bytes too_short = quote_of(data);  // header and 4 bytes: no sequence number
    too_short.resize(ip_size + 4);
    t.inject_raw(error_about(t, wire::icmp_type::destination_unreachable, port, too_short));

    CHECK(t.st.counters().dropped(drop_reason::icmp_unmatched) == 5);
    CHECK(dropped_other_than(t.st.counters(), drop_reason::icmp_unmatched) == 0);
    CHECK(t.st.counters().icmp_errors_received == 0);
    CHECK(t.st.state(s) == tcp::state::established);
    expect_no_packet(t);
}

TEST_CASE("established_fragmentation_needed_lowers_mss_and_resends_at_once")
{
    // RFC 1191 §6.4: "fragmentation needed" with a next-hop MTU lowers the segment
    // size to MTU - 40. §6.5: what the router dropped is resent at once, from SND.UNA,
    // already at the new size — not a retransmission timeout later — and the congestion
    // state is left as it was (a narrower path, not congestion). New data follows at the
    // new size too.
    scenario t;
    const socket s = establish_with_mss_1460(t);
    const std::string big(3 * 1460, 'x');
    REQUIRE(t.send(s, big) == big.size());
    t.st.poll();
    REQUIRE_FALSE(t.dev.outbox.empty());
    const bytes first = t.dev.outbox.front();
    for (const auto& p : t.dev.outbox) CHECK(scenario::parse(p).payload.size() == 1460);
    t.dev.outbox.clear();
    const std::uint32_t cwnd = t.st.connection(s)->congestion().cwnd();
    const std::uint32_t ssthresh = t.st.connection(s)->congestion().ssthresh();

    t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, first, 1000));
    CHECK(t.st.connection(s)->send_mss() == 960);
    CHECK(t.st.counters().icmp_errors_received == 1);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.connection(s)->congestion().cwnd() == cwnd);
    CHECK(t.st.connection(s)->congestion().ssthresh() == ssthresh);

    // Sent by the poll that took the ICMP message: the whole flight again, in order, in
    // 960-byte pieces, each counted as a retransmission.
    const auto resent = t.sent();
    REQUIRE_FALSE(resent.empty());
    CHECK(resent.front().seq() == t.stack_nxt);
    std::size_t bytes_resent = 0;
    for (const auto& c : resent) {
        CHECK(c.payload.size() <= 960);
        CHECK(c.seq() == t.stack_nxt + static_cast<std::uint32_t>(bytes_resent));
        bytes_resent += c.payload.size();
    }
    CHECK(bytes_resent == big.size());
    CHECK(t.st.connection(s)->stats().retransmitted_segments == resent.size());
    CHECK(t.st.connection(s)->stats().timeouts == 0);

    // Everything acknowledged; what comes next is 960 at most as well.
    t.inject(t.peer_ack(t.stack_nxt + static_cast<std::uint32_t>(big.size())));
    t.stack_nxt = t.stack_nxt + static_cast<std::uint32_t>(big.size());
    (void)t.sent();
    REQUIRE(t.send(s, std::string(2000, 'y')) == 2000);
    const auto fresh = t.sent();
    REQUIRE_FALSE(fresh.empty());
    CHECK(fresh.front().seq() == t.stack_nxt);
    CHECK(fresh.front().payload.size() == 960);
    for (const auto& c : fresh) CHECK(c.payload.size() <= 960);
}

TEST_CASE("established_fragmentation_needed_that_does_not_lower_mss_resends_nothing")
{
    // A second message about the same flight, naming the same or a larger MTU, changes
    // nothing and sends nothing: forged or repeated ICMP cannot make the flight repeat.
    scenario t;
    const socket s = establish_with_mss_1460(t);
    REQUIRE(t.send(s, std::string(2 * 1460, 'x')) == 2 * 1460);
    t.st.poll();
    REQUIRE_FALSE(t.dev.outbox.empty());
    const bytes first = t.dev.outbox.front();
    t.dev.outbox.clear();
    t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, first, 1000));
    REQUIRE(t.st.connection(s)->send_mss() == 960);
    const auto resent = t.sent();
    REQUIRE_FALSE(resent.empty());
    const std::uint64_t retransmitted = t.st.connection(s)->stats().retransmitted_segments;
    for (const std::uint16_t mtu : {std::uint16_t{1000}, std::uint16_t{1400}, std::uint16_t{9000}}) {
        CAPTURE(mtu);
        t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, first, mtu));
        CHECK(t.st.connection(s)->send_mss() == 960);
        expect_no_packet(t);
    }
    CHECK(t.st.connection(s)->stats().retransmitted_segments == retransmitted);
}

TEST_CASE("established_fragmentation_needed_during_zero_window_probing_leaves_the_probe_alone")
{
    // While the peer's window is zero and the persist timer probes it (RFC 9293
    // §3.8.6.1), a lower MSS takes effect for later segments, but going back to SND.UNA
    // sends nothing: the window decides, as for any send.
    scenario t;
    const socket s = establish_with_mss_1460(t);
    REQUIRE(t.send(s, std::string(1460, 'x')) == 1460);
    t.st.poll();
    REQUIRE_FALSE(t.dev.outbox.empty());
    const bytes first = t.dev.outbox.front();
    (void)t.sent();
    // The peer takes the segment and shuts its window; more data waits.
    wire::tcp_header shut = t.peer_ack(t.stack_nxt + 1460);
    shut.window = 0;
    t.inject(shut);
    t.stack_nxt = t.stack_nxt + 1460;
    REQUIRE(t.send(s, std::string(3000, 'y')) == 3000);
    (void)t.sent();
    // The first probe goes out when the persist timer fires.
    REQUIRE(t.advance_to_deadline());
    const auto probe = t.sent();
    REQUIRE(probe.size() == 1);
    REQUIRE(probe.front().payload.size() == 1);
    // An ICMP message quoting the probe (in flight: SND.UNA) lowers the MSS only.
    bytes quoted = first;  // the same connection's header, with the probe's sequence number
    boost::endian::store_big_u32(quoted.data() + wire::ipv4_header::size + 4, t.stack_nxt.value());
    t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, quoted, 1000));
    CHECK(t.st.connection(s)->send_mss() == 960);
    expect_no_packet(t);
}

TEST_CASE("established_fragmentation_needed_below_576_is_floored_at_536")
{
    // RFC 1191 §6.4 with RFC 1122 §3.3.3 (every host takes 576-byte datagrams): a
    // forged or odd next-hop MTU of 100 (or 0, from a router older than RFC 1191)
    // cannot shrink segments below 576 - 40 = 536 bytes.
    for (const std::uint16_t mtu : {std::uint16_t{100}, std::uint16_t{0}}) {
        CAPTURE(mtu);
        scenario t;
        const socket s = establish_with_mss_1460(t);
        const bytes data = send_unacknowledged(t, s, "hello");
        t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, data, mtu));
        CHECK(t.st.connection(s)->send_mss() == 536);
        CHECK(t.st.counters().icmp_errors_received == 1);
    }
}

TEST_CASE("established_fragmentation_needed_below_576_clears_df_and_a_report_of_0_keeps_it")
{
    // RFC 1191 §3: a router may report an MTU below 576. Segments stay at 536 bytes,
    // and would still be dropped with DF set — a black hole — so from then on the
    // connection's datagrams go without DF, each with its own Identification (RFC 6864
    // §4.1), as Linux locks the path MTU. A report of 0 (a router older than RFC 1191)
    // says nothing below 576: DF stays.
    for (const std::uint16_t mtu : {std::uint16_t{100}, std::uint16_t{0}}) {
        CAPTURE(mtu);
        scenario t;
        const socket s = establish_with_mss_1460(t);
        CHECK(t.st.connection(s)->dont_fragment());
        const bytes data = send_unacknowledged(t, s, std::string(1000, 'x'));
        t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, data, mtu));
        const auto resent = t.sent();
        REQUIRE(resent.size() == 2);  // the 1,000 bytes again, in 536 and 464
        for (const captured& c : resent) {
            CHECK(c.ip.dont_fragment == (mtu == 0));
            if (mtu != 0) CHECK(c.ip.identification != 0);
        }
        if (mtu != 0) CHECK(resent[0].ip.identification != resent[1].ip.identification);
        CHECK(t.st.connection(s)->dont_fragment() == (mtu == 0));
    }
}

TEST_CASE("established_fragmentation_needed_never_raises_mss")
{
    // RFC 1191 §6.3: a larger path MTU is found only by probing after a timeout; a
    // frag-needed naming an MTU above the current segment size changes nothing.
    scenario t;
    const socket s = establish_with_mss_1460(t);
    const bytes data = send_unacknowledged(t, s, "hello");
    t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, data, 1000));
    REQUIRE(t.st.connection(s)->send_mss() == 960);
    t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, data, 9000));
    CHECK(t.st.connection(s)->send_mss() == 960);
}

TEST_CASE("established_source_quench_is_ignored")
{
    // RFC 6633 §1: a host "MUST silently discard any received ICMP Source Quench
    // messages": no change to the window, no soft error, nothing sent; counted as a
    // type the stack does not act on, not as an error acted on (counters.hpp).
    scenario t{short_timeouts()};
    const socket s = t.establish_active();
    const bytes data = send_unacknowledged(t, s, "hello");
    const std::uint32_t cwnd = t.st.connection(s)->congestion().cwnd();
    const std::uint16_t mss = t.st.connection(s)->send_mss();
    t.inject_raw(error_about(t, wire::icmp_type::source_quench, 0, quote_of(data)));
    expect_no_packet(t);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.connection(s)->congestion().cwnd() == cwnd);
    CHECK(t.st.connection(s)->send_mss() == mss);
    CHECK(t.st.counters().icmp_errors_received == 0);
    CHECK(t.st.counters().dropped(drop_reason::icmp_unhandled) == 1);
    REQUIRE(run_until_closed(t, s));
    CHECK(t.st.error(s) == errc::timed_out);  // no soft error was remembered
}

TEST_CASE("time_wait_icmp_error_is_ignored")
{
    // RFC 5927 §4.1: in TIME-WAIT nothing of ours is in flight (SND.UNA == SND.MAX),
    // so no error can be about it; the connection waits out 2 MSL untouched.
    scenario t;
    const socket s = t.establish_active();
    const bytes data = send_unacknowledged(t, s, "hello");
    t.inject(t.peer_ack(t.stack_nxt + 5));
    t.stack_nxt = t.stack_nxt + 5;
    expect_no_packet(t);
    REQUIRE_FALSE(t.st.shutdown(s));
    t.stack_nxt = t.stack_nxt + 1;
    (void)t.sent();
    t.inject(t.peer_ack(t.stack_nxt));
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    (void)t.sent();
    REQUIRE(t.st.state(s) == tcp::state::time_wait);
    t.inject_raw(unreachable_about(t, wire::unreachable_code::port, data));
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.counters().dropped(drop_reason::icmp_unmatched) == 1);
    CHECK(t.st.counters().icmp_errors_received == 0);
}

// ---- TOS / precedence ----

TEST_CASE("listen_syn_with_tos_nonzero_is_accepted")
{
    // RFC 2873 §4.2.1: TCP MUST ignore the precedence of incoming segments (and the
    // rest of the TOS byte): a SYN with TOS 0xff is answered with a SYN-ACK as any
    // other, and the handshake completes with an ACK of precedence 7 (0xe0).
    scenario t;
    std::error_code ec;
    const listener l = t.st.listen(t.local_port, 4, ec);
    REQUIRE_FALSE(ec);
    bytes syn = t.build(t.segment(SYN, t.peer_iss));
    syn[wire::ipv4_field::tos] = 0xff;
    reseal_ipv4(syn);
    t.inject_raw(std::move(syn));
    t.peer_nxt = t.peer_iss + 1;
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == t.peer_nxt);
    t.stack_nxt = synack.seq() + 1;

    bytes ack = t.build(t.peer_ack(t.stack_nxt));
    ack[wire::ipv4_field::tos] = 0xe0;
    reseal_ipv4(ack);
    t.inject_raw(std::move(ack));
    t.expect_nothing();
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.counters().dropped_total() == 0);
    CHECK(t.st.counters().resets_sent == 0);
}

TEST_CASE("syn_sent_fragmentation_needed_caps_the_mss_learned_from_the_syn_ack")
{
    // RFC 1191 §6.4: a path MTU learned while the SYN is out still holds once the
    // SYN-ACK's MSS option is read (the option must not raise the size back).
    scenario t;
    const auto [s, syn] = connect_raw(t);
    t.inject_raw(unreachable_about(t, wire::unreachable_code::fragmentation_needed, syn, 1000));
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    CHECK(t.st.counters().icmp_errors_received == 1);
    t.local_port = scenario::parse(syn).tcp.source_port;
    wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, scenario::parse(syn).seq() + 1);
    synack.options.mss = 1460;
    t.inject(synack);
    REQUIRE(t.st.state(s) == tcp::state::established);
    CHECK(t.st.connection(s)->send_mss() == 960);
}
