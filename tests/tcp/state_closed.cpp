// Scenario tests: CLOSED — no connection and no listener (RFC 9293 §3.10.7.1), and
// the checks every packet passes before it reaches any state (RFC 1122 §3.2.1,
// RFC 9293 §3.1): what fails them is dropped without a reply and counted.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/handshake_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

/// A scenario whose stack has no listener: every valid segment lands in CLOSED.
/// The peer's sequence number is 5000 unless a test says otherwise.
constexpr seq32 peer_seq{5000};

/// Checks that nothing was sent and the packet was counted under `r` alone.
void expect_dropped(scenario& t, drop_reason r)
{
    t.expect_nothing();
    const auto& c = t.st.counters();
    CHECK(c.dropped(r) == 1);
    CHECK(dropped_other_than(c, r) == 0);
    CHECK(c.packets_received == 1);
    CHECK(c.segments_received == 0);
    CHECK(c.resets_sent == 0);
    CHECK(c.no_listener_resets == 0);
    CHECK(t.st.connection_count() == 0);
}

}  // namespace

// ---- resets for segments with no connection ----

TEST_CASE("closed_syn_gets_rst_ack_acknowledging_the_syn")
{
    // RFC 9293 §3.10.7.1: ACK bit off -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
    // a SYN counts one in SEG.LEN (§3.4).
    scenario t;
    t.inject(t.segment(SYN, peer_seq));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == (RST | ACK));
    CHECK(rst.seq() == seq32{0});
    CHECK(rst.ack() == peer_seq + 1);
    CHECK(rst.window() == 0);
    CHECK(rst.payload.empty());
    CHECK(rst.tcp.source_port == t.local_port);
    CHECK(rst.tcp.destination_port == t.peer_port);
    CHECK(rst.ip.source == t.st.configuration().address);
    CHECK(rst.ip.destination == t.peer_address);
    CHECK(t.st.counters().no_listener_resets == 1);
    CHECK(t.st.counters().resets_sent == 1);
    CHECK(t.st.counters().segments_received == 1);
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("closed_syn_with_data_rst_acknowledges_syn_and_data")
{
    // RFC 9293 §3.10.7.1 with §3.4: SEG.LEN counts the data and the SYN; "all data in
    // the incoming segment is discarded".
    scenario t;
    t.inject(t.segment(SYN, peer_seq), "hello");
    const captured rst = t.expect_one();
    CHECK(rst.flags() == (RST | ACK));
    CHECK(rst.seq() == seq32{0});
    CHECK(rst.ack() == peer_seq + 6);
    CHECK(rst.payload.empty());
    CHECK(t.st.counters().no_listener_resets == 1);
}

TEST_CASE("closed_fin_without_ack_rst_acknowledges_the_fin")
{
    // RFC 9293 §3.10.7.1 with §3.4: a FIN counts one in SEG.LEN.
    scenario t;
    t.inject(t.segment(FIN, peer_seq));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == (RST | ACK));
    CHECK(rst.seq() == seq32{0});
    CHECK(rst.ack() == peer_seq + 1);
}

TEST_CASE("closed_data_without_ack_rst_acknowledges_the_data")
{
    // RFC 9293 §3.10.7.1: ACK off, no SYN or FIN -> SEG.LEN is the data length.
    scenario t;
    t.inject(t.segment(PSH, peer_seq), "abc");
    const captured rst = t.expect_one();
    CHECK(rst.flags() == (RST | ACK));
    CHECK(rst.seq() == seq32{0});
    CHECK(rst.ack() == peer_seq + 3);
}

TEST_CASE("closed_syn_fin_with_data_rst_counts_syn_fin_and_data")
{
    // RFC 9293 §3.4: SEG.LEN = data + 1 for SYN + 1 for FIN; §3.10.7.1 acknowledges all.
    scenario t;
    t.inject(t.segment(SYN | FIN, peer_seq), "xy");
    const captured rst = t.expect_one();
    CHECK(rst.flags() == (RST | ACK));
    CHECK(rst.ack() == peer_seq + 4);
}

TEST_CASE("closed_ack_gets_rst_with_seq_from_the_ack")
{
    // RFC 9293 §3.10.7.1: ACK bit on -> <SEQ=SEG.ACK><CTL=RST> (no ACK bit).
    scenario t;
    t.inject(t.segment(ACK, peer_seq, seq32{777777}));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == seq32{777777});
    CHECK(rst.ack() == seq32{0});
    CHECK(rst.window() == 0);
    CHECK(rst.payload.empty());
    CHECK(t.st.counters().no_listener_resets == 1);
    CHECK(t.st.counters().resets_sent == 1);
}

TEST_CASE("closed_data_with_ack_gets_rst_with_seq_from_the_ack")
{
    // RFC 9293 §3.10.7.1: ACK on -> <SEQ=SEG.ACK><CTL=RST>, whatever the segment carries.
    scenario t;
    t.inject(t.segment(ACK | PSH | FIN, peer_seq, seq32{0xfffffff0}), "late data");
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == seq32{0xfffffff0});
}

TEST_CASE("closed_syn_ack_gets_rst_with_seq_from_the_ack")
{
    // RFC 9293 §3.10.7.1: a SYN,ACK has the ACK bit on -> <SEQ=SEG.ACK><CTL=RST>.
    scenario t;
    t.inject(t.segment(SYN | ACK, peer_seq, seq32{42}));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == seq32{42});
}

TEST_CASE("closed_rst_gets_no_reply")
{
    // RFC 9293 §3.10.7.1: "An incoming segment containing a RST is discarded" — and,
    // as every discard, counted under its reason.
    scenario t;
    t.inject(t.segment(RST, peer_seq));
    t.expect_nothing();
    CHECK(t.st.counters().no_listener_resets == 0);
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(t.st.counters().segments_received == 1);
    CHECK(t.st.counters().dropped(drop_reason::reset_no_connection) == 1);
    CHECK(t.st.counters().dropped_total() == 1);
}

TEST_CASE("closed_rst_ack_gets_no_reply")
{
    // RFC 9293 §3.10.7.1 (and §3.5.2: never answer a reset with a reset).
    scenario t;
    t.inject(t.segment(RST | ACK, peer_seq, seq32{99}));
    t.expect_nothing();
    CHECK(t.st.counters().resets_sent == 0);
}

TEST_CASE("closed_port_beside_a_listener_still_gets_rst")
{
    // RFC 9293 §3.10.7.1: a listener on another port does not make this one LISTEN.
    scenario t;
    std::error_code ec;
    (void)t.st.listen(80, 4, ec);
    REQUIRE_FALSE(ec);
    t.local_port = 81;
    t.inject(t.segment(SYN, peer_seq));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == (RST | ACK));
    CHECK(rst.tcp.source_port == 81);
    CHECK(rst.ack() == peer_seq + 1);
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("closed_connection_kept_for_its_user_answers_with_rst")
{
    // RFC 9293 §3.10.7.1: a connection refused in SYN-SENT is CLOSED; the handle only
    // keeps its error for the user, so a later segment for it gets a reset.
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(RST | ACK, seq32{0}, t.stack_nxt));
    REQUIRE(t.st.state(s) == tcp::state::closed);
    t.expect_nothing();
    t.inject(t.segment(ACK, t.peer_iss + 1, seq32{12345}));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == seq32{12345});
    CHECK(t.st.counters().resets_sent == 1);
    // Still the user's error: the reset answered the peer, nothing changed here.
    CHECK(t.st.error(s) == errc::connection_refused);
}

// ---- what never reaches a state: dropped, counted, no reply ----

TEST_CASE("closed_segment_to_another_address_is_dropped_and_counted")
{
    // RFC 1122 §3.2.1.3: a host silently discards a datagram not addressed to it.
    scenario t;
    t.inject_raw(packet_to(t, wire::ipv4_address{10, 0, 0, 9}, t.segment(SYN, peer_seq)));
    expect_dropped(t, drop_reason::not_our_address);
}

TEST_CASE("closed_segment_with_bad_checksum_is_dropped_and_counted")
{
    // RFC 9293 §3.1 / RFC 1122 §4.2.2.7 (MUST): a segment whose checksum fails is
    // discarded; no reset, which would let a corrupted segment tear things down.
    scenario t;
    auto p = t.build(t.segment(SYN, peer_seq), "payload");
    tcp_part(p)[wire::tcp_field::checksum] ^= 0x01;
    t.inject_raw(std::move(p));
    expect_dropped(t, drop_reason::tcp_bad_checksum);
}

TEST_CASE("closed_segment_with_data_damaged_is_dropped_and_counted")
{
    // RFC 9293 §3.1: the checksum covers the data too (one flipped payload bit).
    scenario t;
    auto p = t.build(t.segment(SYN, peer_seq), "payload");
    p.back() ^= 0x80;
    t.inject_raw(std::move(p));
    expect_dropped(t, drop_reason::tcp_bad_checksum);
}

TEST_CASE("closed_segment_shorter_than_a_tcp_header_is_dropped_and_counted")
{
    // RFC 9293 §3.1: a TCP header is at least 20 bytes; 12 cannot be one.
    scenario t;
    auto p = t.build(t.segment(SYN, peer_seq));
    p.resize(wire::ipv4_header::size + 12);
    boost::endian::store_big_u16(p.data() + wire::ipv4_field::total_length, static_cast<std::uint16_t>(p.size()));
    reseal_ipv4(p);
    t.inject_raw(std::move(p));
    expect_dropped(t, drop_reason::tcp_truncated);
}

TEST_CASE("closed_segment_with_data_offset_below_five_is_dropped_and_counted")
{
    // RFC 9293 §3.1: the data offset counts the header in 32-bit words, at least 5;
    // RFC 1122 §4.2.2.5: survive any value.
    scenario t;
    auto p = t.build(t.segment(SYN, peer_seq), "abcd");
    tcp_part(p)[wire::tcp_field::data_offset] = 4 << 4;
    reseal_tcp(p);
    t.inject_raw(std::move(p));
    expect_dropped(t, drop_reason::tcp_bad_data_offset);
}

TEST_CASE("closed_segment_with_data_offset_beyond_segment_is_dropped_and_counted")
{
    // RFC 9293 §3.1: a data offset of 15 words (60 bytes) in a 24-byte segment.
    scenario t;
    auto p = t.build(t.segment(SYN, peer_seq), "abcd");
    tcp_part(p)[wire::tcp_field::data_offset] = 15 << 4;
    reseal_tcp(p);
    t.inject_raw(std::move(p));
    expect_dropped(t, drop_reason::tcp_data_offset_beyond_segment);
}

TEST_CASE("closed_segment_with_malformed_option_is_dropped_and_counted")
{
    // RFC 9293 §3.2 / RFC 1122 §4.2.2.5: an option whose length byte is 1 cannot be
    // walked; the segment is discarded (under tcp_bad_option), not answered.
    scenario t;
    wire::tcp_header h = t.segment(SYN, peer_seq);
    h.options.mss = 1460;  // reserves 4 option bytes, rewritten below
    auto p = t.build(h);
    auto opts = tcp_part(p).subspan(wire::tcp_field::fixed_size, 4);
    opts[0] = 8;  // timestamp kind ...
    opts[1] = 1;  // ... with an impossible length
    opts[2] = 0;
    opts[3] = 0;
    reseal_tcp(p);
    t.inject_raw(std::move(p));
    expect_dropped(t, drop_reason::tcp_bad_option);
}

TEST_CASE("closed_segment_with_wrong_mss_option_size_is_dropped_and_counted")
{
    // RFC 9293 §3.2: the MSS option is exactly 4 bytes; length 3 is malformed.
    scenario t;
    wire::tcp_header h = t.segment(SYN, peer_seq);
    h.options.mss = 1460;
    auto p = t.build(h);
    tcp_part(p)[wire::tcp_field::fixed_size + 1] = 3;
    reseal_tcp(p);
    t.inject_raw(std::move(p));
    expect_dropped(t, drop_reason::tcp_bad_option);
}

TEST_CASE("closed_segment_from_source_port_zero_is_dropped_and_counted")
{
    // RFC 6335 §6 / RFC 9293 §3.1: port 0 is reserved and never a connection's end;
    // a reset to it would go nowhere.
    scenario t;
    t.peer_port = 0;
    t.inject(t.segment(SYN, peer_seq));
    expect_dropped(t, drop_reason::tcp_bad_port);
}

TEST_CASE("closed_segment_to_port_zero_is_dropped_and_counted")
{
    // RFC 6335 §6: port 0 is reserved; nothing listens or connects there.
    scenario t;
    t.local_port = 0;
    t.inject(t.segment(SYN, peer_seq));
    expect_dropped(t, drop_reason::tcp_bad_port);
}

TEST_CASE("closed_ipv4_fragment_is_held_not_taken_for_a_whole_segment")
{
    // RFC 791 §3.2: a fragment (MF set, or a non-zero offset) is part of a larger
    // datagram: held for reassembly (tests/tcp/ip_fragments.cpp), never answered as
    // if its bytes were the whole segment.
    scenario t;
    auto first = t.build(t.segment(SYN, peer_seq), "text");  // 24 bytes: a multiple of 8
    boost::endian::store_big_u16(first.data() + wire::ipv4_field::flags_fragment, 0x2000);  // MF
    reseal_ipv4(first);
    t.inject_raw(std::move(first));
    t.expect_nothing();

    auto later = t.build(t.segment(SYN, peer_seq), "text");
    boost::endian::store_big_u16(later.data() + wire::ipv4_field::flags_fragment, 0x0010);  // offset 128
    reseal_ipv4(later);
    t.inject_raw(std::move(later));
    t.expect_nothing();
    CHECK(t.st.counters().fragments_received == 2);
    CHECK(t.st.counters().dropped_total() == 0);
    CHECK(t.st.counters().resets_sent == 0);
    CHECK(t.st.reassembly().datagrams_held() == 1);  // one datagram (one Identification), two holes
}

TEST_CASE("closed_non_tcp_protocol_is_dropped_and_answered_with_protocol_unreachable")
{
    // RFC 1122 §3.2.1: an IP datagram for a protocol the host does not run is not
    // TCP's to answer (UDP, protocol 17, here); RFC 1122 §3.2.2.1: the host SHOULD
    // answer it with ICMP protocol unreachable instead (no RST).
    scenario t;
    t.inject_raw(packet_to(t, t.st.configuration().address, t.segment(SYN, peer_seq), {},
                           static_cast<std::uint8_t>(wire::ip_protocol::udp)));
    t.st.poll();
    REQUIRE(t.dev.outbox.size() == 1);
    const wire::ipv4_view ip{t.dev.outbox.front()};
    REQUIRE_FALSE(ip.check());
    CHECK(ip.protocol() == static_cast<std::uint8_t>(wire::ip_protocol::icmp));
    const wire::icmp_view icmp{ip.payload()};
    REQUIRE_FALSE(icmp.check());
    CHECK(icmp.type() == wire::icmp_type::destination_unreachable);
    CHECK(icmp.code() == static_cast<std::uint8_t>(wire::unreachable_code::protocol));
    t.dev.outbox.clear();
    expect_dropped(t, drop_reason::protocol_unsupported);
    CHECK(t.st.counters().icmp_errors_sent == 1);
}

TEST_CASE("closed_ipv4_header_with_bad_checksum_is_dropped_and_counted")
{
    // RFC 791 §3.1 / RFC 1122 §3.2.1.2 (MUST): verify the header checksum; discard on failure.
    scenario t;
    auto p = t.build(t.segment(SYN, peer_seq));
    p[wire::ipv4_field::checksum] ^= 0x40;
    t.inject_raw(std::move(p));
    expect_dropped(t, drop_reason::ipv4_bad_header_checksum);
}

TEST_CASE("closed_connection_still_held_by_the_application_gives_up_its_4_tuple")
{
    // RFC 9293 §3.3.2: CLOSED "represents the state when there is no TCB". A connection
    // the peer reset stays a handle until close() (for error()), but no longer owns its
    // 4-tuple: the peer's new SYN from the same port reaches the listener and gets a
    // SYN-ACK, not the reset CLOSED would answer.
    scenario t;
    const socket s = t.establish_passive();
    t.inject(t.segment(RST, t.peer_nxt));
    REQUIRE(t.st.state(s) == tcp::state::closed);
    REQUIRE(t.st.error(s) == errc::connection_reset);
    t.inject(t.segment(SYN, seq32{900000}));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == seq32{900001});
    CHECK(t.st.connection_count() == 2);  // the old handle and the new half-open one
    // Closing the old handle does not disturb the new connection's entry.
    CHECK_FALSE(t.st.close(s));
    CHECK(t.st.connection_count() == 1);
    t.inject(t.segment(ACK, seq32{900001}, synack.seq() + 1));
    t.expect_nothing();
    CHECK(t.st.counters().connections_accepted == 2);
}
