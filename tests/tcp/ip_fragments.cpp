// Scenario tests: IPv4 fragments at the stack (impl/stack_fragments.ipp). Fragments are
// reassembled and the datagram processed as if it had come whole; an echo reply above
// the MTU goes out in fragments; what an attacker makes of fragments is dropped and
// counted.
//
// Have open: RFC 791 §3.2, RFC 1122 §3.2.2.6 and §3.3.2, RFC 1858 §3, RFC 5722,
// RFC 792 (time exceeded).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/handshake_helpers.hpp"

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
constexpr std::size_t ip_size = wire::ipv4_header::size;

/// Cuts the datagram `whole` (a 20-byte header and its payload) into fragments whose
/// payloads start at `offsets` (multiples of 8, the first 0), as a router would.
std::vector<bytes> fragment(const bytes& whole, std::vector<std::size_t> offsets, std::uint16_t id = 0x4242)
{
    const std::size_t length = whole.size() - ip_size;
    std::vector<bytes> out;
    for (std::size_t i = 0; i < offsets.size(); ++i) {
        const std::size_t from = offsets[i];
        const std::size_t to = i + 1 < offsets.size() ? offsets[i + 1] : length;
        bytes f(whole.begin(), whole.begin() + ip_size);
        f.insert(f.end(), whole.begin() + static_cast<std::ptrdiff_t>(ip_size + from),
                 whole.begin() + static_cast<std::ptrdiff_t>(ip_size + to));
        boost::endian::store_big_u16(f.data() + wire::ipv4_field::identification, id);
        wire::rewrite_fragment_fields(std::span{f}.first(ip_size), static_cast<std::uint16_t>(f.size()), from,
                                      to < length);
        out.push_back(std::move(f));
    }
    return out;
}

/// An echo request of `n` bytes of data from the peer (RFC 792), whole.
bytes echo_request(const scenario& t, std::size_t n)
{
    bytes p(ip_size + wire::icmp_field::fixed_size + n);
    wire::ipv4_header ip;
    ip.source = t.peer_address;
    ip.destination = t.st.configuration().address;
    ip.protocol = static_cast<std::uint8_t>(wire::ip_protocol::icmp);
    ip.dont_fragment = false;
    ip.payload_length = static_cast<std::uint16_t>(p.size() - ip_size);
    REQUIRE_FALSE(ip.emit(p));
    const auto m = std::span{p}.subspan(ip_size);
    m[wire::icmp_field::type] = static_cast<std::uint8_t>(wire::icmp_type::echo_request);
    boost::endian::store_big_u32(m.data() + wire::icmp_field::identifier, 0x12340007);
    for (std::size_t i = 0; i < n; ++i) m[wire::icmp_field::fixed_size + i] = static_cast<std::uint8_t>(i % 251);
    boost::endian::store_big_u16(m.data() + wire::icmp_field::checksum, wire::internet_checksum(m));
    return p;
}


void inject_all(scenario& t, const std::vector<bytes>& packets)
{
    for (const bytes& p : packets) t.inject_raw(p);
}

}  // namespace

TEST_CASE("any_state_syn_in_three_fragments_is_reassembled_and_answered")
{
    // RFC 791 §3.2: the datagram put together is processed as if it came whole: a SYN
    // to a closed port (with 40 bytes of text) gets its RST, acknowledging the text.
    scenario t;
    const bytes whole = t.build(t.segment(SYN, seq32{5000}), std::string(40, 'x'));
    const auto pieces = fragment(whole, {0, 24, 48});
    inject_all(t, {pieces[2], pieces[0]});
    t.expect_nothing();
    t.inject_raw(pieces[1]);
    const captured rst = t.expect_one();
    CHECK(rst.has(RST));
    CHECK(rst.ack() == seq32{5000 + 1 + 40});
    const auto& c = t.st.counters();
    CHECK(c.fragments_received == 3);
    CHECK(c.datagrams_reassembled == 1);
    CHECK(c.dropped_total() == 0);
    CHECK(t.st.reassembly().datagrams_held() == 0);
}

TEST_CASE("any_state_large_echo_request_in_fragments_gets_an_echo_reply_in_fragments")
{
    // RFC 1122 §3.2.2.6 (MUST): the reply returns all the data; above the MTU it goes
    // in fragments (RFC 791 §3.2): payloads of multiples of 8 bytes, MF on all but the
    // last, one Identification, DF clear. Put back together it is an echo reply with a
    // correct checksum and the request's data.
    scenario t;
    const bytes request = echo_request(t, 3000);  // a ping -s 3000: 3,028 bytes of IPv4
    inject_all(t, fragment(request, {0, 1480, 2960}));
    const std::vector<bytes> sent = t.sent_packets();
    REQUIRE(sent.size() == 3);
    bytes message;
    std::uint16_t id = 0;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const wire::ipv4_view ip{sent[i]};
        REQUIRE_FALSE(ip.check());
        CHECK(ip.total_length() <= 1500);
        CHECK(ip.destination() == t.peer_address);
        CHECK_FALSE(ip.dont_fragment());
        CHECK(ip.more_fragments() == (i + 1 < sent.size()));
        CHECK(ip.fragment_offset() == message.size());
        if (i == 0) id = ip.identification();
        CHECK(ip.identification() == id);
        if (i + 1 < sent.size()) CHECK(ip.payload().size() % 8 == 0);
        message.insert(message.end(), ip.payload().begin(), ip.payload().end());
    }
    REQUIRE(message.size() == request.size() - ip_size);
    CHECK(message[wire::icmp_field::type] == static_cast<std::uint8_t>(wire::icmp_type::echo_reply));
    CHECK(wire::internet_checksum(message) == 0);
    CHECK(std::equal(message.begin() + 4, message.end(), request.begin() + ip_size + 4));
    CHECK(t.st.counters().icmp_echo_replies == 1);
    CHECK(t.st.counters().fragments_sent == 3);
}

TEST_CASE("any_state_whole_echo_request_above_the_mtu_gets_an_echo_reply_in_fragments")
{
    // A device may hand over a datagram larger than its MTU (receive offload): the
    // reply still goes out in pieces the link carries.
    scenario t;
    t.inject_raw(echo_request(t, 2000));
    const std::vector<bytes> sent = t.sent_packets();
    REQUIRE(sent.size() == 2);
    CHECK(wire::ipv4_view{sent[0]}.total_length() == 1500);
    CHECK(wire::ipv4_view{sent[1]}.fragment_offset() == 1480);
}

TEST_CASE("any_state_overlapping_fragment_drops_the_datagram_and_is_counted")
{
    // RFC 5722 §3: a fragment over bytes already held drops the whole datagram: the
    // rest of it then completes nothing.
    scenario t;
    const bytes whole = t.build(t.segment(SYN, seq32{5000}), std::string(40, 'x'));
    const auto pieces = fragment(whole, {0, 24, 48});
    t.inject_raw(pieces[0]);
    bytes over = fragment(whole, {0, 16, 48})[1];  // bytes 16..48: over 16..24
    t.inject_raw(over);
    CHECK(t.st.counters().dropped(drop_reason::fragment_overlap) == 1);
    inject_all(t, {pieces[1], pieces[2]});
    t.expect_nothing();
    CHECK(t.st.counters().datagrams_reassembled == 0);
}

TEST_CASE("any_state_duplicate_fragment_is_dropped_alone")
{
    // RFC 8200 §4.5's rule for exact duplicates, as Linux applies it to IPv4 too.
    scenario t;
    const bytes whole = t.build(t.segment(SYN, seq32{5000}), std::string(40, 'x'));
    const auto pieces = fragment(whole, {0, 24, 48});
    inject_all(t, {pieces[0], pieces[0], pieces[1], pieces[2]});
    CHECK(t.expect_one().has(RST));
    CHECK(t.st.counters().dropped(drop_reason::fragment_duplicate) == 1);
}

TEST_CASE("any_state_tiny_first_tcp_fragment_is_dropped")
{
    // RFC 1858 §3.1: a first fragment too short for the TCP header hides its flags from
    // a filter; §3.2: a fragment at offset 8 could only be meant to overwrite them.
    scenario t;
    const bytes whole = t.build(t.segment(SYN, seq32{5000}), std::string(40, 'x'));
    t.inject_raw(fragment(whole, {0, 16})[0]);
    CHECK(t.st.counters().dropped(drop_reason::fragment_tiny) == 1);
    t.inject_raw(fragment(whole, {0, 8})[1]);
    CHECK(t.st.counters().dropped(drop_reason::fragment_tiny) == 2);
    t.expect_nothing();
    CHECK(t.st.reassembly().datagrams_held() == 0);
}

TEST_CASE("any_state_fragment_past_65535_bytes_is_dropped")
{
    // RFC 791 §3.1: the "ping of death", a last fragment ending past the 16-bit length.
    scenario t;
    bytes last = fragment(echo_request(t, 100), {0, 64})[1];
    wire::rewrite_fragment_fields(std::span{last}.first(ip_size), static_cast<std::uint16_t>(last.size()), 65'520,
                                  false);
    t.inject_raw(last);
    CHECK(t.st.counters().dropped(drop_reason::fragment_malformed) == 1);
    t.expect_nothing();
}

TEST_CASE("any_state_incomplete_datagram_times_out_with_time_exceeded_when_its_first_fragment_came")
{
    // RFC 1122 §3.3.2: after the reassembly timeout (config: Linux's 30 s) the datagram
    // is dropped and, if fragment zero had come, ICMP time exceeded code 1 quotes it.
    scenario t;
    const bytes whole = t.build(t.segment(SYN, seq32{5000}), std::string(40, 'x'));
    const auto pieces = fragment(whole, {0, 24, 48});
    t.inject_raw(pieces[0]);
    t.inject_raw(fragment(whole, {0, 24, 48}, 0x4343)[2]);  // another datagram's last piece only
    CHECK(t.st.next_deadline() == t.time.now() + 30s);
    t.advance(29s);
    CHECK(t.sent_packets().empty());
    t.advance(1s);
    const std::vector<bytes> sent = t.sent_packets();
    REQUIRE(sent.size() == 1);
    const wire::ipv4_view ip{sent[0]};
    REQUIRE_FALSE(ip.check());
    CHECK(ip.destination() == t.peer_address);
    const wire::icmp_view icmp{ip.payload()};
    REQUIRE_FALSE(icmp.check());
    CHECK(icmp.type() == wire::icmp_type::time_exceeded);
    CHECK(icmp.code() == static_cast<std::uint8_t>(wire::time_exceeded_code::fragment_reassembly));
    // The quote is the first fragment as it came: its header, then the TCP header.
    CHECK(std::equal(icmp.body().begin(), icmp.body().end(), pieces[0].begin()));
    CHECK(t.st.counters().reassembly_timeouts == 2);
    CHECK(t.st.counters().icmp_errors_sent == 1);
    CHECK(t.st.reassembly().datagrams_held() == 0);
    CHECK(t.st.next_deadline() == never);
}

TEST_CASE("any_state_fragment_with_reassembly_off_is_dropped_and_counted")
{
    // config::reassembly_datagrams 0: every fragment is dropped, none held.
    config cfg = scenario_config();
    cfg.reassembly_datagrams = 0;
    scenario t{cfg};
    const bytes whole = t.build(t.segment(SYN, seq32{5000}), std::string(40, 'x'));
    inject_all(t, fragment(whole, {0, 24, 48}));
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::ipv4_fragment) == 3);
    CHECK(t.st.reassembly().capacity_bytes() == 0);
}
