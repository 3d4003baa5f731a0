// RFC 6675 §4's routines on the sender's SACK scoreboard: Update, IsLost, SetPipe,
// NextSeg (all four rules), and the lost-retransmission rule (RFC 8985 §6.2's reasoning).
#include <tcpx/tcp/sack_scoreboard.hpp>
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

using namespace tcpx;
using tcpx::tcp::sack_scoreboard;

namespace {

constexpr std::uint32_t mss = 1000;
const seq32 una{100000};

// Segment i of the flight: [una + i*mss, una + (i+1)*mss).
seq32 seg(std::uint32_t i) { return una + i * mss; }
wire::sack_block blk(std::uint32_t from, std::uint32_t to) { return {seg(from), seg(to)}; }

// Chunks for ranges beyond the inline few (sack_scoreboard.hpp, "Memory").
tcpx::tcp::chunk_pool pool{1 << 20};

}  // namespace

TEST_CASE("update_new_blocks_merge_and_count_newly_sacked_bytes")
{
    sack_scoreboard sb;
    const seq32 max = seg(10);
    const std::array<wire::sack_block, 1> b1{blk(2, 3)};
    auto r = sb.update(una, max, b1, pool);
    CHECK(r.newly_sacked == mss);
    CHECK(r.sacked_new);
    CHECK_FALSE(r.dsack);
    const std::array<wire::sack_block, 2> b2{blk(2, 4), blk(6, 7)};
    r = sb.update(una, max, b2, pool);
    CHECK(r.newly_sacked == 2 * mss);
    REQUIRE(sb.sacked().size() == 2);
    CHECK(sb.sacked()[0] == sack_scoreboard::range{seg(2), seg(4)});
    CHECK(sb.sacked()[1] == sack_scoreboard::range{seg(6), seg(7)});
    // Filling the gap joins them into one range.
    const std::array<wire::sack_block, 1> b3{blk(4, 6)};
    r = sb.update(una, max, b3, pool);
    CHECK(r.newly_sacked == 2 * mss);
    REQUIRE(sb.sacked().size() == 1);
    CHECK(sb.sacked_bytes() == 5 * mss);
    // The same again adds nothing: not a DupAck by RFC 6675 §2.
    r = sb.update(una, max, b3, pool);
    CHECK(r.newly_sacked == 0);
    CHECK_FALSE(r.sacked_new);
}

TEST_CASE("update_block_beyond_snd_max_or_inverted_is_ignored")
{
    sack_scoreboard sb;
    const std::array<wire::sack_block, 2> b{blk(8, 12), wire::sack_block{seg(5), seg(4)}};
    const auto r = sb.update(una, seg(10), b, pool);
    CHECK(r.newly_sacked == 0);
    CHECK(sb.empty());
}

TEST_CASE("update_first_block_below_ack_is_dsack")
{
    sack_scoreboard sb;
    // RFC 2883 §4 example: the first block reports data below the cumulative ACK.
    const std::array<wire::sack_block, 1> b{wire::sack_block{una - mss, una}};
    const auto r = sb.update(una, seg(10), b, pool);
    CHECK(r.dsack);
    CHECK(r.dsack_range == sack_scoreboard::range{una - mss, una});
    CHECK(sb.empty());
}

TEST_CASE("update_first_block_inside_second_is_dsack")
{
    sack_scoreboard sb;
    const std::array<wire::sack_block, 2> b{blk(3, 4), blk(2, 5)};
    const auto r = sb.update(una, seg(10), b, pool);
    CHECK(r.dsack);
    CHECK(sb.sacked_bytes() == 3 * mss);
}

TEST_CASE("is_lost_three_discontiguous_blocks_above_or_more_than_two_mss_sacked")
{
    sack_scoreboard sb;
    const seq32 max = seg(20);
    // One block of 2*mss above segment 0: neither rule (2*mss is not "more than").
    const std::array<wire::sack_block, 1> a{blk(1, 3)};
    sb.update(una, max, a, pool);
    CHECK_FALSE(sb.is_lost(seg(0), mss));
    // A third segment SACKed: more than (DupThresh-1)*SMSS bytes above.
    const std::array<wire::sack_block, 1> b{blk(3, 4)};
    sb.update(una, max, b, pool);
    CHECK(sb.is_lost(seg(0), mss));
    CHECK_FALSE(sb.is_lost(seg(5), mss));

    // Three discontiguous blocks of less than one segment each, all above octet 0.
    sack_scoreboard small;
    const std::array<wire::sack_block, 3> c{
        wire::sack_block{seg(2), seg(2) + 10}, wire::sack_block{seg(4), seg(4) + 10},
        wire::sack_block{seg(6), seg(6) + 10}};
    small.update(una, max, c, pool);
    CHECK(small.is_lost(seg(0), mss));
    CHECK_FALSE(small.is_lost(seg(3), mss));  // only two blocks and 20 bytes above
}

TEST_CASE("pipe_counts_unsacked_not_lost_once_and_retransmitted_once_more")
{
    sack_scoreboard sb;
    const seq32 max = seg(10);
    // Segment 0 lost (segments 1..3 SACKed); 4..9 in flight.
    const std::array<wire::sack_block, 1> b{blk(1, 4)};
    sb.update(una, max, b, pool);
    CHECK(sb.pipe(una, max, mss) == 6 * mss);
    // RFC 6675 §5 (C.4): the retransmission of segment 0 joins pipe.
    sb.record_retransmit(seg(0), seg(1), max);
    CHECK(sb.pipe(una, max, mss) == 7 * mss);
}

TEST_CASE("next_seg_rule1_lost_then_rule3_unsacked_below_highest_sack")
{
    sack_scoreboard sb;
    const seq32 max = seg(10);
    // Holes at 0 and 5: 0 is lost (segments 1..4 SACKed above it), 5 is not (one above).
    const std::array<wire::sack_block, 2> b{blk(6, 7), blk(1, 5)};
    sb.update(una, max, b, pool);
    auto n = sb.next_retransmission(una, max, mss, false);
    REQUIRE(n);
    CHECK(n->seq == seg(0));
    CHECK(n->length == mss);
    CHECK(n->why == sack_scoreboard::next_segment::rule::lost);
    sb.record_retransmit(n->seq, n->seq + n->length, max);
    // Rule (1) finds no further lost octet above HighRxt.
    CHECK_FALSE(sb.next_retransmission(una, max, mss, false));
    // Rule (3): segment 5 is unSACKed and below the highest SACKed octet.
    n = sb.next_retransmission(una, max, mss, true);
    REQUIRE(n);
    CHECK(n->seq == seg(5));
    CHECK(n->why == sack_scoreboard::next_segment::rule::unsacked);
    sb.record_retransmit(n->seq, n->seq + n->length, max);
    // Nothing unSACKed above seg 7 is below the highest SACK (1.b).
    CHECK_FALSE(sb.next_retransmission(una, max, mss, true));
}

TEST_CASE("next_seg_stops_at_a_sacked_range_inside_one_smss")
{
    sack_scoreboard sb;
    const seq32 max = seg(10);
    const std::array<wire::sack_block, 1> b{wire::sack_block{seg(0) + 400, seg(4)}};
    sb.update(una, max, b, pool);
    const auto n = sb.next_retransmission(una, max, mss, false);
    REQUIRE(n);
    CHECK(n->seq == seg(0));
    CHECK(n->length == 400);
}

TEST_CASE("rescue_takes_the_highest_unsacked_segment")
{
    sack_scoreboard sb;
    const seq32 max = seg(10);
    const std::array<wire::sack_block, 1> b{blk(8, 10)};
    sb.update(una, max, b, pool);
    const auto n = sb.rescue(una, max, mss);
    REQUIRE(n);
    CHECK(n->seq == seg(7));
    CHECK(n->length == mss);
    CHECK(n->why == sack_scoreboard::next_segment::rule::rescue);
}

TEST_CASE("timeout_marks_every_unsacked_octet_below_snd_max_lost")
{
    sack_scoreboard sb;
    const seq32 max = seg(10);
    const std::array<wire::sack_block, 1> b{blk(4, 5)};
    sb.update(una, max, b, pool);
    sb.forget_retransmits();
    sb.mark_lost_upto(max);
    CHECK(sb.pipe(una, max, mss) == 0);
    auto n = sb.next_retransmission(una, max, mss, false);
    REQUIRE(n);
    CHECK(n->seq == seg(0));
    // NextSeg goes past the highest SACK up to where the timeout marked.
    for (std::uint32_t i : {0u, 1u, 2u, 3u, 5u, 6u, 7u, 8u}) {
        n = sb.next_retransmission(una, max, mss, false);
        REQUIRE(n);
        CHECK(n->seq == seg(i));
        sb.record_retransmit(n->seq, n->seq + n->length, max);
    }
    n = sb.next_retransmission(una, max, mss, false);
    REQUIRE(n);
    CHECK(n->seq == seg(9));
    // The cumulative ACK passing the mark ends it.
    sb.drop_below(max, pool);
    CHECK(sb.empty());
    CHECK_FALSE(sb.next_retransmission(max, max, mss, false));
}

TEST_CASE("lost_retransmission_detected_by_sack_of_later_data")
{
    sack_scoreboard sb;
    seq32 max = seg(10);
    const std::array<wire::sack_block, 1> b{blk(1, 10)};
    sb.update(una, max, b, pool);
    sb.record_retransmit(seg(0), seg(1), max);
    CHECK(sb.pipe(una, max, mss) == mss);
    // New data sent after the retransmission, two segments SACKed: not yet enough.
    max = seg(14);
    const std::array<wire::sack_block, 1> c{blk(1, 12)};
    sb.update(una, max, c, pool);
    CHECK(sb.detect_lost_retransmits(una, mss) == 0);
    // A third: the retransmission is lost; it leaves pipe and NextSeg offers it again.
    const std::array<wire::sack_block, 1> d{blk(1, 13)};
    sb.update(una, max, d, pool);
    CHECK(sb.detect_lost_retransmits(una, mss) == mss);
    CHECK(sb.retransmitted_in_flight() == 0);
    const auto n = sb.next_retransmission(una, max, mss, false);
    REQUIRE(n);
    CHECK(n->seq == seg(0));
}

TEST_CASE("many_islands_are_all_kept_in_pool_chunks_and_given_back")
{
    // A queue overflowing in slow start drops every other segment: one island per
    // segment, each reported in only a few ACKs. Every one must be remembered, or RACK
    // retransmits the data of the forgotten ones.
    sack_scoreboard sb;
    constexpr std::uint32_t islands = 600;
    const seq32 max = seg(2 * islands + 1);
    const std::size_t chunks_before = pool.chunks_available();
    for (std::uint32_t i = 0; i < islands; ++i) {
        const std::array<wire::sack_block, 1> b{blk(2 * i + 1, 2 * i + 2)};
        CHECK(sb.update(una, max, b, pool).forgotten == 0);
    }
    CHECK(sb.sacked().size() == islands);
    CHECK(sb.sacked_bytes() == islands * mss);
    CHECK(pool.chunks_available() < chunks_before);
    // Every hole is found, in order, and none of the SACKed data is offered again.
    seq32 s = una;
    for (std::uint32_t i = 0; i < islands; ++i) {
        CHECK_FALSE(sb.is_sacked(seg(2 * i)));
        CHECK(sb.is_sacked(seg(2 * i + 1)));
    }
    sb.mark_lost_upto(max);
    const auto n = sb.next_retransmission(s, max, mss, false);
    REQUIRE(n);
    CHECK(n->seq == seg(0));
    CHECK(n->length == mss);
    CHECK(sb.pipe(una, max, mss) == 0);  // all unSACKed octets lost, none retransmitted
    // The cumulative ACK takes the lower half; the rest moves down intact.
    sb.drop_below(seg(islands), pool);
    CHECK(sb.sacked().size() == islands / 2);
    CHECK(sb.sacked().front() == sack_scoreboard::range{seg(islands + 1), seg(islands + 2)});
    CHECK(sb.sacked_bytes() == islands / 2 * mss);
    sb.clear(pool);
    CHECK(pool.chunks_available() == chunks_before);
}

TEST_CASE("islands_beyond_what_fits_forget_the_highest_and_are_counted")
{
    // A pool with no chunk to give: only the inline slots.
    tcpx::tcp::chunk_pool none{0};
    sack_scoreboard sb;
    const seq32 max = seg(200);
    constexpr std::uint32_t fit = tcpx::tcp::detail::range_table::inline_slots;
    std::uint32_t forgotten = 0;
    for (std::uint32_t i = 0; i < fit + 4; ++i) {
        const std::array<wire::sack_block, 1> b{blk(2 * i + 1, 2 * i + 2)};
        forgotten += sb.update(una, max, b, none).forgotten;
    }
    CHECK(forgotten == 4);
    CHECK(sb.sacked().size() == fit);
    CHECK(sb.sacked().back().end == seg(2 * fit));
    // A lower island still gets in, pushing out the highest.
    const std::array<wire::sack_block, 1> low{wire::sack_block{seg(0) + 10, seg(0) + 20}};
    const auto r = sb.update(una, max, low, none);
    CHECK(r.newly_sacked == 10);
    CHECK(r.forgotten == 1);
    CHECK(sb.sacked().size() == fit);
    CHECK(sb.sacked().front().begin == seg(0) + 10);
    CHECK(sb.sacked().back().end == seg(2 * fit - 2));
    CHECK(sb.sacked_bytes() == (fit - 1) * mss + 10);
}

TEST_CASE("retransmissions_of_one_burst_across_sacked_data_are_one_record")
{
    // Holes 0, 2, 4, ... retransmitted one after another with SND.MAX unchanged: one
    // record, so max_retransmits does not cap how many holes one round repairs.
    sack_scoreboard sb;
    constexpr std::uint32_t holes = 2 * sack_scoreboard::max_retransmits;
    const seq32 max = seg(2 * holes);
    for (std::uint32_t i = 0; i < holes; ++i) {
        const std::array<wire::sack_block, 1> b{blk(2 * i + 1, 2 * i + 2)};
        sb.update(una, max, b, pool);
    }
    sb.mark_lost_upto(max);
    for (std::uint32_t i = 0; i < holes; ++i) {
        const auto n = sb.next_retransmission(una, max, mss, false);
        REQUIRE(n);
        CHECK(n->seq == seg(2 * i));
        sb.record_retransmit(n->seq, n->seq + n->length, max);
    }
    CHECK_FALSE(sb.next_retransmission(una, max, mss, false));
    CHECK(sb.retransmitted_in_flight() == holes * mss);
    CHECK(sb.pipe(una, max, mss) == holes * mss);
    sb.clear(pool);
}

TEST_CASE("cumulative_ack_drops_sacked_and_retransmitted_below_it")
{
    sack_scoreboard sb;
    const seq32 max = seg(10);
    const std::array<wire::sack_block, 2> b{blk(2, 3), blk(5, 6)};
    sb.update(una, max, b, pool);
    sb.record_retransmit(seg(0), seg(2), max);
    sb.drop_below(seg(4), pool);
    REQUIRE(sb.sacked().size() == 1);
    CHECK(sb.sacked()[0].begin == seg(5));
    CHECK(sb.retransmitted_in_flight() == 0);
}
