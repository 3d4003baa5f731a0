// RFC 2018 as a data receiver: SACK-permitted in the handshake, and SACK blocks that
// report the out-of-order data held, newest arrival first (§4).
#include <tcpx/stack.hpp>
#include <doctest/doctest.h>

#include "support/scenario.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace tcpx;
using namespace tcpx::test;

namespace {

using blocks = std::vector<wire::sack_block>;

blocks sack_of(const captured& c)
{
    const auto b = c.tcp.options.sack_blocks();
    return {b.begin(), b.end()};
}

wire::sack_block block(seq32 left, std::uint32_t from, std::uint32_t to)
{
    return {left + from, left + to};
}

/// ESTABLISHED by a passive open whose peer SYN carries SACK-permitted (or not); the
/// SYN,ACK must answer with it when the peer offers it and `answered`.
socket establish_passive_with_sack(scenario& t, bool peer_offers, bool answered = true)
{
    std::error_code ec;
    const listener l = t.st.listen(t.local_port, 8, ec);
    REQUIRE_FALSE(ec);
    wire::tcp_header syn = t.segment(SYN, t.peer_iss);
    syn.options.sack_permitted = peer_offers;
    t.inject(syn);
    t.peer_nxt = t.peer_iss + 1;
    const captured synack = t.expect_one();
    REQUIRE(synack.flags() == (SYN | ACK));
    CHECK(synack.tcp.options.sack_permitted == (peer_offers && answered));
    t.iss = synack.seq();
    t.stack_nxt = t.iss + 1;
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    return s;
}

/// The peer sends `length` bytes at `offset` past its next sequence number (a later
/// segment than the ones still missing); returns the ACK the stack sends at once.
captured out_of_order(scenario& t, std::uint32_t offset, std::uint32_t length)
{
    t.inject(t.segment(ACK, t.peer_nxt + offset, t.stack_nxt), std::string(length, 'o'));
    return t.expect_one();
}

}  // namespace

TEST_CASE("syn_sent_offers_sack_permitted")
{
    scenario t;
    std::error_code ec;
    (void)t.st.connect(t.peer_address, t.peer_port, ec);
    REQUIRE_FALSE(ec);
    const captured syn = t.expect_one();
    CHECK(syn.tcp.options.sack_permitted);
}

TEST_CASE("syn_sent_with_sack_off_does_not_offer_it")
{
    config cfg = scenario_config();
    cfg.sack = false;
    scenario t{cfg};
    std::error_code ec;
    (void)t.st.connect(t.peer_address, t.peer_port, ec);
    REQUIRE_FALSE(ec);
    CHECK_FALSE(t.expect_one().tcp.options.sack_permitted);
}

TEST_CASE("listen_syn_with_sack_permitted_is_answered_with_it_and_without_it_is_not")
{
    for (const bool offers : {true, false}) {
        CAPTURE(offers);
        scenario t;
        (void)establish_passive_with_sack(t, offers);  // checks the SYN,ACK's option
    }
}

TEST_CASE("established_out_of_order_data_is_reported_newest_block_first")
{
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;

    // A hole of 100 bytes, then 100 held: one block.
    CHECK(sack_of(out_of_order(t, 100, 100)) == blocks{block(base, 100, 200)});
    // Another island further on: it leads, the earlier one follows.
    CHECK(sack_of(out_of_order(t, 300, 50)) == blocks{block(base, 300, 350), block(base, 100, 200)});
    // Growing the first island moves its block to the front again (§4: the block
    // holding the segment that triggered the ACK comes first).
    CHECK(sack_of(out_of_order(t, 200, 20)) == blocks{block(base, 100, 220), block(base, 300, 350)});
    // A duplicate of held data: RFC 2883 §4, the first block is the duplicate (D-SACK),
    // the second the held block it lies in, then the rest as ever.
    CHECK(sack_of(out_of_order(t, 300, 10)) ==
          blocks{block(base, 300, 310), block(base, 300, 350), block(base, 100, 220)});
    CHECK(t.st.info(s).dsacks_sent == 1);

    // The hole at the front fills: RCV.NXT jumps past the first island; the other
    // remains and is reported alone (the D-SACK went in one option only).
    t.inject(t.segment(ACK, base, t.stack_nxt), std::string(100, 'i'));
    const captured filled = t.expect_one();
    CHECK(filled.ack() == base + 220);
    CHECK(sack_of(filled) == blocks{block(base, 300, 350)});

    // The last hole fills: nothing is held, no SACK option.
    t.inject(t.segment(ACK, base + 220, t.stack_nxt), std::string(80, 'i'));
    const captured all = t.expect_one();
    CHECK(all.ack() == base + 350);
    CHECK(all.tcp.options.sack_count == 0);
    CHECK(t.receive(s) == std::string(100, 'i') + std::string(120, 'o') + std::string(80, 'i') + std::string(50, 'o'));
}

TEST_CASE("established_sack_reports_at_most_four_blocks_and_data_segments_carry_them")
{
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;
    for (std::uint32_t i = 0; i < 4; ++i) (void)out_of_order(t, 100 + 200 * i, 100);
    // A fifth island is held (recv_buffer keeps more ranges than one option reports):
    // its block leads, the three reported most recently follow, the oldest drops out.
    const captured fifth = out_of_order(t, 1100, 100);
    CHECK(t.st.connection(s)->stats().out_of_order_dropped == 0);
    const blocks b = sack_of(fifth);
    CHECK(b == blocks{block(base, 1100, 1200), block(base, 700, 800), block(base, 500, 600), block(base, 300, 400)});
    // Our data carries the report too (every ACK does).
    REQUIRE(t.send(s, "reply") == 5);
    const captured data = t.expect_one();
    CHECK(data.text() == "reply");
    CHECK(sack_of(data) == b);
}

TEST_CASE("established_out_of_order_islands_many_more_than_a_sack_option_are_all_held")
{
    // RFC 9293 §3.10.7.4 first (SHLD-31) and RFC 2018 §4: out-of-order text is held up to
    // the window however many islands it makes (past a few, their ranges live in chunks
    // of the data pool); each arrival's block leads its ACK, and the next blocks are the
    // arrivals before it; filling the holes delivers everything.
    constexpr std::uint32_t n = 100;
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    for (std::uint32_t k = 1; k <= n; ++k) {
        const captured ack = out_of_order(t, 10 * k, 5);
        CHECK(ack.ack() == t.peer_nxt);
        const blocks b = sack_of(ack);
        REQUIRE(b.size() >= std::min<std::size_t>(k, 3));
        CHECK(b[0] == block(t.peer_nxt, 10 * k, 10 * k + 5));
        if (k > 1) CHECK(b[1] == block(t.peer_nxt, 10 * (k - 1), 10 * (k - 1) + 5));
    }
    CHECK(t.st.connection(s)->stats().out_of_order_dropped == 0);
    t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt), std::string(10, 'i'));
    for (std::uint32_t k = 1; k < n; ++k)
        t.inject(t.segment(ACK, t.peer_nxt + 10 * k + 5, t.stack_nxt), std::string(5, 'i'));
    t.advance(t.st.configuration().delayed_ack);
    const captured last = t.sent().back();
    CHECK(last.ack() == t.peer_nxt + 10 * n + 5);
    CHECK(sack_of(last).empty());
    CHECK(t.receive(s).size() == 10 * n + 5);
    CHECK(t.st.connection(s)->stats().out_of_order_dropped == 0);
}

TEST_CASE("established_sack_blocks_follow_arrival_order_not_position")
{
    // §4: after the first block, the most recently reported ones, newest first.
    scenario t;
    (void)establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;
    (void)out_of_order(t, 500, 10);
    (void)out_of_order(t, 100, 10);
    CHECK(sack_of(out_of_order(t, 300, 10)) ==
          blocks{block(base, 300, 310), block(base, 100, 110), block(base, 500, 510)});
}

TEST_CASE("established_sack_blocks_across_sequence_zero")
{
    scenario t;
    t.peer_iss = seq32{0xFFFFFFF0u};
    (void)establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;  // 0xFFFFFFF1: the island below straddles zero
    const blocks b = sack_of(out_of_order(t, 10, 20));
    REQUIRE(b.size() == 1);
    CHECK(b.front() == block(base, 10, 30));
    CHECK(b.front().left.value() == 0xFFFFFFFBu);
    CHECK(b.front().right.value() == 0x0000000Fu);
}

TEST_CASE("established_fin_held_out_of_order_is_inside_its_sack_block")
{
    // A sender whose last segment carried data and FIN counts it SACKed only if the
    // block covers the FIN too (Linux); a FIN alone gets a block of one.
    scenario t;
    (void)establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;
    t.inject(t.segment(FIN | ACK, base + 100, t.stack_nxt), std::string(50, 'f'));
    CHECK(sack_of(t.expect_one()) == blocks{block(base, 100, 151)});

    scenario u;
    (void)establish_passive_with_sack(u, true);
    const seq32 ubase = u.peer_nxt;
    (void)out_of_order(u, 100, 50);
    u.inject(u.segment(FIN | ACK, ubase + 300, u.stack_nxt));
    CHECK(sack_of(u.expect_one()) == blocks{block(ubase, 300, 301), block(ubase, 100, 150)});
}

TEST_CASE("close_wait_sends_no_sack_blocks_for_what_lies_beyond_the_fin")
{
    // Data held beyond where the FIN turned out to be is not data: once the FIN is
    // taken, no block reports it (and data segments are full-sized again).
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;
    (void)out_of_order(t, 300, 50);  // beyond the FIN below
    t.inject(t.segment(FIN | ACK, base + 200, t.stack_nxt));
    (void)t.expect_one();
    t.inject(t.segment(ACK, base, t.stack_nxt), std::string(200, 'i'));
    const captured ack = t.expect_one();
    CHECK(ack.ack() == base + 201);
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(ack.tcp.options.sack_count == 0);
    const std::size_t mss = t.st.connection(s)->send_mss();
    REQUIRE(t.send(s, std::string(mss, 'd')) == mss);
    const captured data = t.expect_one();
    CHECK(data.payload.size() == mss);
    CHECK(data.tcp.options.sack_count == 0);
}

TEST_CASE("established_fast_retransmit_resends_a_full_segment_and_gives_sack_blocks_way")
{
    // The lost segment went out at the full MSS before any of the peer's data was held
    // out of order; resent shorter, its end would wait for another recovery.
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    const std::size_t mss = t.st.connection(s)->send_mss();
    REQUIRE(t.send(s, std::string(4 * mss, 'd')) == 4 * mss);
    const auto first = t.sent();
    REQUIRE(first.size() == 4);
    for (const captured& c : first) REQUIRE(c.payload.size() == mss);
    // Now the peer's data arrives out of order, and three duplicate ACKs follow.
    (void)out_of_order(t, 100, 100);
    for (int i = 0; i < 3; ++i) t.inject(t.peer_ack(t.stack_nxt));
    const auto after = t.sent();
    REQUIRE_FALSE(after.empty());
    const captured& resent = after.front();
    CHECK(resent.seq() == t.stack_nxt);
    CHECK(resent.payload.size() == mss);
    CHECK(resent.tcp.options.sack_count == 0);  // no room left beside a full segment
}

TEST_CASE("established_peer_segments_shortened_by_their_options_still_count_as_full")
{
    // RFC 6691: a full-sized segment is MSS bytes of text and options together. A peer
    // that SACKs our data sends that much less text; every second such segment is still
    // acknowledged at once (RFC 5681 §4.2), not after the delayed-ACK timer.
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    const std::size_t mss = t.st.connection(s)->send_mss();
    wire::tcp_header h = t.segment(ACK, t.peer_nxt, t.stack_nxt);
    h.options.sack_count = 1;
    h.options.sack[0] = {t.stack_nxt + 1000, t.stack_nxt + 2000};  // ignored (§8)
    const std::size_t text = mss - (4 + 8);
    t.inject(h, std::string(text, 'a'));
    t.expect_nothing();  // the first waits (RFC 1122 §4.2.3.2)
    h.seq = t.peer_nxt + static_cast<std::uint32_t>(text);
    t.inject(h, std::string(text, 'b'));
    const captured ack = t.expect_one();
    CHECK(ack.ack() == t.peer_nxt + static_cast<std::uint32_t>(2 * text));
}

TEST_CASE("established_tiny_mss_leaves_room_for_data")
{
    // A configured MSS of 20: no more than half of it goes to SACK blocks, so a block
    // of 8 does not fit and none is sent; data still flows.
    config cfg = scenario_config();
    cfg.mss = 20;
    scenario t{cfg};
    const socket s = establish_passive_with_sack(t, true);
    REQUIRE(t.st.connection(s)->send_mss() == 20);
    CHECK(out_of_order(t, 100, 10).tcp.options.sack_count == 0);
    REQUIRE(t.send(s, std::string(40, 'd')) == 40);
    const auto sent = t.sent();
    REQUIRE_FALSE(sent.empty());
    for (const captured& c : sent) CHECK(c.payload.size() == 20);
}

TEST_CASE("established_without_peer_sack_permitted_sends_no_blocks")
{
    scenario t;
    (void)establish_passive_with_sack(t, false);
    CHECK(out_of_order(t, 100, 100).tcp.options.sack_count == 0);
}

TEST_CASE("established_with_sack_off_sends_no_blocks_even_if_the_peer_offers")
{
    config cfg = scenario_config();
    cfg.sack = false;
    scenario t{cfg};
    (void)establish_passive_with_sack(t, true, false);  // the SYN,ACK does not answer it
    CHECK(out_of_order(t, 100, 100).tcp.options.sack_count == 0);
}

TEST_CASE("syn_sent_sack_is_on_only_when_the_syn_ack_carries_it")
{
    for (const bool answers : {true, false}) {
        CAPTURE(answers);
        scenario t;
        const socket s = t.open_active();
        wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
        synack.options.sack_permitted = answers;
        t.inject(synack);
        t.peer_nxt = t.peer_iss + 1;
        REQUIRE(t.expect_one().flags() == ACK);
        REQUIRE(t.st.state(s) == tcp::state::established);
        CHECK(out_of_order(t, 100, 100).tcp.options.sack_count == (answers ? 1 : 0));
    }
}

TEST_CASE("established_data_segments_shrink_by_the_sack_option_so_none_exceeds_the_mss")
{
    // RFC 9293 §3.7.1 / RFC 6691: the MSS counts the fixed headers only, so SACK blocks
    // on a data segment come out of its payload; otherwise full segments would exceed
    // the path's MTU while out-of-order data is held.
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;
    const std::size_t mss = t.st.connection(s)->send_mss();
    for (std::uint32_t i = 0; i < 3; ++i) (void)out_of_order(t, 100 + 200 * i, 100);
    REQUIRE(t.send(s, std::string(4 * mss, 'd')) == 4 * mss);
    const auto sent = t.sent();
    REQUIRE(sent.size() == 4);
    for (const captured& c : sent) {
        CHECK(sack_of(c).size() == 3);
        CHECK(c.payload.size() == mss - (4 + 3 * 8));
    }
    // The rest, a runt, waits (Nagle). The peer fills its holes and acknowledges all:
    // the report stops, and data segments are full-sized again.
    const auto acked = static_cast<std::uint32_t>(4 * (mss - 28));
    t.inject(t.segment(ACK, base, t.stack_nxt + acked), std::string(700, 'f'));
    t.stack_nxt = t.stack_nxt + acked;
    const auto runt = t.sent();
    REQUIRE_FALSE(runt.empty());
    // The 700 bytes brought the held [100, 200) again: the first segment says so
    // (RFC 2883 §4, a D-SACK below the new RCV.NXT), and no segment carries more.
    CHECK(sack_of(runt.front()) == blocks{block(base, 100, 200)});
    for (std::size_t k = 1; k < runt.size(); ++k) CHECK(runt[k].tcp.options.sack_count == 0);
    CHECK(runt.back().ack() == base + 700);
    REQUIRE(t.send(s, std::string(2 * mss, 'e')) == 2 * mss);
    const auto full = t.sent();
    REQUIRE_FALSE(full.empty());
    CHECK(full.front().payload.size() == mss);
    CHECK(full.front().tcp.options.sack_count == 0);
}

// ---- RFC 2883: D-SACK as a receiver ----

TEST_CASE("established_duplicate_below_rcv_nxt_is_reported_in_a_dsack_block_at_once")
{
    // RFC 2883 §4 (1): "A D-SACK block is only used to report a duplicate contiguous
    // sequence of data received by the receiver in the most recent packet"; with nothing
    // held above RCV.NXT, the option is that block alone. The ACK goes out at once, even
    // for a second duplicate straight after (a throttle is for bare ACKs, not text).
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;
    t.inject(t.segment(ACK, base, t.stack_nxt), std::string(300, 'a'));
    t.peer_nxt = base + 300;
    t.advance(t.st.configuration().delayed_ack);
    CHECK(sack_of(t.expect_one()).empty());
    for (int k = 0; k < 2; ++k) {
        t.inject(t.segment(ACK, base + 100, t.stack_nxt), std::string(100, 'a'));
        const captured ack = t.expect_one();
        CHECK(ack.ack() == base + 300);
        CHECK(sack_of(ack) == blocks{block(base, 100, 200)});
    }
    CHECK(t.st.info(s).dsacks_sent == 2);
    CHECK(t.receive(s) == std::string(300, 'a'));
}

TEST_CASE("established_segment_straddling_rcv_nxt_reports_its_old_part_as_dsack")
{
    // RFC 2883 §4: the duplicate is the part of the segment below RCV.NXT; the new part
    // is taken as usual.
    scenario t;
    const socket s = establish_passive_with_sack(t, true);
    const seq32 base = t.peer_nxt;
    t.inject(t.segment(ACK, base, t.stack_nxt), std::string(100, 'a'));
    t.advance(t.st.configuration().delayed_ack);
    (void)t.sent();
    t.inject(t.segment(ACK, base + 50, t.stack_nxt), std::string(50, 'a') + std::string(50, 'b'));
    t.advance(t.st.configuration().delayed_ack);
    const captured ack = t.expect_one();
    CHECK(ack.ack() == base + 150);
    CHECK(sack_of(ack) == blocks{block(base, 50, 100)});
    CHECK(t.receive(s) == std::string(100, 'a') + std::string(50, 'b'));
}

TEST_CASE("established_duplicate_without_sack_permitted_carries_no_blocks")
{
    // RFC 2883 §4 extends SACK: without SACK-permitted (RFC 2018 §2) no option is sent.
    scenario t;
    const socket s = establish_passive_with_sack(t, false);
    const seq32 base = t.peer_nxt;
    t.inject(t.segment(ACK, base, t.stack_nxt), std::string(100, 'a'));
    t.advance(t.st.configuration().delayed_ack);
    (void)t.sent();
    t.inject(t.segment(ACK, base, t.stack_nxt), std::string(100, 'a'));
    const captured ack = t.expect_one();
    CHECK(ack.tcp.options.sack_count == 0);
    CHECK(t.st.info(s).dsacks_sent == 0);
}
