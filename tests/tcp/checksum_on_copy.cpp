// The receive checksum verified on the copy into the receive buffer (stack_input.ipp
// on_tcp, connection::stage_text, recv_buffer::stage): a segment with 256 bytes of text
// or more, in order, is copied into the buffer unreadable while its sum is taken, and
// committed only if the checksum is good. These cases check that a damaged segment on
// that path changes nothing (RFC 9293 §3.1 / RFC 1122 §4.2.2.7: it is discarded), that
// text the connection does not take leaves no chunk behind, and that the path the
// segment takes when it cannot be staged (out of order) is verified as well.
#include <string>

#include "../support/scenario.hpp"

namespace {

using namespace tcpx;
using namespace tcpx::test;

std::string text_of(std::size_t n, char first)
{
    std::string s(n, ' ');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(first + static_cast<char>(i % 23));
    return s;
}

}  // namespace

TEST_CASE("established_large_segment_with_damaged_text_is_dropped_and_delivers_nothing")
{
    scenario t;
    const socket s = t.establish_active();
    const std::size_t pool_before = t.st.pool().bytes_in_use();
    const std::string text = text_of(1000, 'a');
    auto p = t.build(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), text);
    p[p.size() - 500] ^= 0x20;  // a bit in the middle of the text
    t.inject_raw(std::move(p));
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 1);
    CHECK_FALSE(t.st.readable(s));
    CHECK(t.st.pool().bytes_in_use() == pool_before);  // the staging chunk went back
    t.expect_nothing();
    // The retransmission, undamaged, is delivered whole and exact.
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), text);
    CHECK(t.receive(s) == text);
}

TEST_CASE("established_large_segment_with_damaged_checksum_field_is_dropped")
{
    scenario t;
    const socket s = t.establish_active();
    const std::uint64_t segments_before = t.st.counters().segments_received;
    auto p = t.build(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), text_of(600, 'k'));
    p[wire::ipv4_header::size + wire::tcp_field::checksum + 1] ^= 0x01;
    t.inject_raw(std::move(p));
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 1);
    CHECK(t.st.counters().segments_received == segments_before);  // counted only when good
    CHECK_FALSE(t.st.readable(s));
}

TEST_CASE("established_large_segment_acking_unsent_data_is_not_delivered_and_frees_its_staging")
{
    // RFC 9293 §3.10.7.4 fifth: "If the ACK acks something not yet sent (SEG.ACK >
    // SND.NXT), then send an ACK, drop the segment, and return." The text was staged
    // (in order, checksum good) but the segment is dropped before the text step.
    scenario t;
    const socket s = t.establish_active();
    const std::size_t pool_before = t.st.pool().bytes_in_use();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt + 5000), text_of(800, 'q'));
    CHECK_FALSE(t.st.readable(s));
    CHECK(t.st.pool().bytes_in_use() == pool_before);
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 0);
}

TEST_CASE("established_large_out_of_order_segment_is_verified_too_then_joins_in_order_text")
{
    // Out of order, the text cannot be staged (stage_text wants RCV.NXT): the payload is
    // summed on its own. A damaged one is dropped; a good one is held and delivered
    // when the hole fills (RFC 9293 §3.10.7.4, SHLD-31).
    scenario t;
    const socket s = t.establish_active();
    const std::string first = text_of(700, 'A');
    const std::string second = text_of(900, 'b');
    const seq32 later = t.peer_nxt + static_cast<std::uint32_t>(first.size());
    auto damaged = t.build(t.segment(ACK | PSH, later, t.stack_nxt), second);
    damaged.back() ^= 0x04;
    t.inject_raw(std::move(damaged));
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 1);
    t.inject(t.segment(ACK | PSH, later, t.stack_nxt), second);
    CHECK_FALSE(t.st.readable(s));  // held beyond the hole
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), first);
    CHECK(t.receive(s) == first + second);
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 1);
}

TEST_CASE("established_large_segments_back_to_back_are_delivered_exactly")
{
    // Staging appends at RCV.NXT across chunk boundaries (16 KiB chunks): 40 segments
    // of 1400 bytes cross three of them.
    scenario t;
    const socket s = t.establish_active();
    std::string all;
    for (int i = 0; i < 40; ++i) {
        const std::string text = text_of(1400, static_cast<char>('!' + i));
        t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt), text);
        t.peer_nxt += static_cast<std::uint32_t>(text.size());
        all += text;
    }
    std::string got;
    while (t.st.readable(s)) got += t.receive(s);
    CHECK(got == all);
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 0);
}
