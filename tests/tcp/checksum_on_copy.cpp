// The receive checksum verified on the copy into the receive buffer (stack_input.ipp
// on_tcp, connection::stage_text, recv_buffer::stage): a segment with 256 bytes of text
// or more, in order, is copied into the buffer unreadable while its sum is taken, and
// committed only if the checksum is good. These cases check that a damaged segment on
// that path changes nothing (RFC 9293 §3.1 / RFC 1122 §4.2.2.7: it is discarded), that
// text the connection does not take leaves no chunk behind, and that the path the
// segment takes when it cannot be staged (out of order) is verified as well.
#include <span>
#include <string>
#include <vector>

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

std::span<std::uint8_t> tcp_part(std::vector<std::uint8_t>& p) { return std::span{p}.subspan(wire::ipv4_header::size); }

// A correct checksum again after the test edited the segment on purpose.
void reseal(std::vector<std::uint8_t>& p)
{
    auto seg = tcp_part(p);
    seg[wire::tcp_field::checksum] = 0;
    seg[wire::tcp_field::checksum + 1] = 0;
    wire::fill_tcp_checksum(seg, wire::ipv4_address{10, 0, 0, 2}, wire::ipv4_address{10, 0, 0, 1});
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
    CHECK(t.st.counters().checksums_on_copy == 1);  // the damaged one was staged, not counted
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
    // of 1399 bytes cross three of them, most starting at an odd offset.
    scenario t;
    const socket s = t.establish_active();
    std::string all;
    for (int i = 0; i < 40; ++i) {
        const std::string text = text_of(1399, static_cast<char>('!' + i));
        t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt), text);
        t.peer_nxt += static_cast<std::uint32_t>(text.size());
        all += text;
    }
    std::string got;
    while (t.st.readable(s)) got += t.receive(s);
    CHECK(got == all);
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 0);
    CHECK(t.st.counters().checksums_on_copy == 40);  // every one took the staged path
}

TEST_CASE("established_damaged_segment_over_unread_data_across_a_chunk_changes_nothing")
{
    // 16 KiB unread (a chunk boundary ahead), then a damaged segment that would also
    // carry the FIN: neither its text nor its FIN counts, and the pool is as it was.
    scenario t;
    const socket s = t.establish_active();
    std::string all;
    while (all.size() < 16000) {
        const std::string text = text_of(1001, static_cast<char>('A' + all.size() % 7));
        t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt), text);
        t.peer_nxt += static_cast<std::uint32_t>(text.size());
        all += text;
    }
    (void)t.sent();
    const std::size_t pool_before = t.st.pool().bytes_in_use();
    const std::string next = text_of(1001, 'z');
    auto p = t.build(t.segment(ACK | PSH | FIN, t.peer_nxt, t.stack_nxt), next);
    p.back() ^= 1;
    t.inject_raw(std::move(p));
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 1);
    CHECK(t.st.pool().bytes_in_use() == pool_before);
    CHECK(t.st.state(s) == tcp::state::established);
    t.expect_nothing();
    t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt), next);
    all += next;
    std::string got;
    while (t.st.readable(s)) got += t.receive(s);
    CHECK(got == all);
}

TEST_CASE("fin_wait_1_damaged_segment_acking_our_fin_changes_nothing")
{
    scenario t;
    const socket s = t.establish_then_fin_wait_1();
    auto p = t.build(t.segment(ACK | FIN, t.peer_nxt, t.stack_nxt), text_of(400, 'a'));
    p[p.size() - 7] ^= 0x40;
    t.inject_raw(std::move(p));
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
    CHECK_FALSE(t.st.readable(s));
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 1);
    t.expect_nothing();
}

TEST_CASE("fin_wait_2_staged_text_with_fin_is_readable_in_time_wait")
{
    // RFC 9293 §3.10.7.4: the text step comes before the FIN step, so staged text is
    // committed before the FIN moves the connection on.
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    const std::string text = text_of(700, 'm');
    t.inject(t.segment(ACK | FIN, t.peer_nxt, t.stack_nxt), text);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.counters().checksums_on_copy == 1);
    CHECK(t.receive(s) == text);
}

TEST_CASE("established_bad_option_counts_as_bad_checksum_only_when_the_checksum_is_bad")
{
    // A segment whose checksum is not yet verified and whose options do not parse: a
    // damaged one is a checksum failure, an intact one a bad option.
    for (const bool damaged : {false, true}) {
        scenario t;
        (void)t.establish_active();
        wire::tcp_header h = t.segment(ACK, t.peer_nxt, t.stack_nxt);
        h.options.mss = 1460;
        auto p = t.build(h, text_of(300, 'a'));
        auto options = tcp_part(p).subspan(wire::tcp_field::fixed_size, 4);
        options[0] = 8;  // timestamps, with a length of 1
        options[1] = 1;
        options[2] = 0;
        options[3] = 0;
        reseal(p);
        if (damaged) p.back() ^= 1;
        t.inject_raw(std::move(p));
        CAPTURE(damaged);
        CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == (damaged ? 1u : 0u));
        CHECK(t.st.counters().dropped(drop_reason::tcp_bad_option) == (damaged ? 0u : 1u));
    }
}

TEST_CASE("listen_and_closed_damaged_large_segments_are_dropped_silently")
{
    scenario t;
    std::error_code ec;
    (void)t.st.listen(t.local_port, 8, ec);
    auto p = t.build(t.segment(SYN, t.peer_iss), text_of(300, 'a'));
    p.back() ^= 1;
    t.inject_raw(std::move(p));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    t.local_port = 81;  // nobody listens here
    auto q = t.build(t.segment(ACK, t.peer_iss, seq32{5}), text_of(300, 'a'));
    q.back() ^= 1;
    t.inject_raw(std::move(q));
    t.expect_nothing();
    CHECK(t.st.counters().no_listener_resets == 0);
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 2);
}

TEST_CASE("established_pool_at_its_limit_a_damaged_segment_is_not_a_pool_refusal")
{
    // Staging declines at the pool's limit without asking the pool, so a segment that
    // fails its checksum leaves no trace in the pool's refusal count.
    config c = scenario_config();
    c.pool_bytes = 16 * 1024;  // one chunk
    scenario t{c};
    (void)t.establish_active();
    for (std::size_t at = 0; at < 16000; at += 1000) {
        t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt), text_of(1000, 'a'));
        t.peer_nxt += 1000;
    }
    const auto refused = t.st.pool().refused_at_limit();
    auto p = t.build(t.segment(ACK, t.peer_nxt, t.stack_nxt), text_of(1000, 'q'));
    p.back() ^= 1;
    t.inject_raw(std::move(p));
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == 1);
    CHECK(t.st.pool().refused_at_limit() == refused);
}
