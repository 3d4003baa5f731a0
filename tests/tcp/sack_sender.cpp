// RFC 6675 (SACK-based loss recovery) and RFC 6937 (PRR) with tcpx as the data
// sender: the peer offers SACK-permitted in its SYN and answers tcpx's segments with
// ACKs whose SACK blocks the test writes. Timestamps are off (config), so every data
// segment is exactly SMSS = 1000 bytes and segment i starts at base + 1000 * i.
#include <tcpx/stack.hpp>
#include <doctest/doctest.h>

#include "support/scenario.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace tcpx;
using namespace tcpx::test;

namespace {

constexpr std::uint32_t smss = 1000;

/// RFC 8985 RACK-TLP, where the library has it, decides losses by time and probes
/// tails: off here, so these tests see RFC 6675's and RFC 6937's rules alone (the
/// members are set only if config has them).
template <class C>
void rfc6675_only(C& c)
{
    if constexpr (requires { c.rack; }) c.rack = false;
    if constexpr (requires { c.tail_loss_probe; }) c.tail_loss_probe = false;
}

config sack_config(std::uint32_t initial_window = 10)
{
    config c = scenario_config();
    c.timestamps = false;
    c.initial_window_segments = initial_window;
    rfc6675_only(c);
    return c;
}

/// Segment indices [first, last) as one SACK block.
using seg_block = std::pair<std::uint32_t, std::uint32_t>;

/// One connection with tcpx sending, the test as the SACK-capable receiver.
class sack_sender {
public:
    explicit sack_sender(config cfg = sack_config()) : t{cfg}
    {
        std::error_code ec;
        l = t.st.listen(t.local_port, 8, ec);
        REQUIRE_FALSE(ec);
        wire::tcp_header syn = t.segment(SYN, t.peer_iss);
        syn.options.mss = smss;
        syn.options.sack_permitted = true;
        t.inject(syn);
        t.peer_nxt = t.peer_iss + 1;
        const captured synack = t.expect_one();
        REQUIRE(synack.flags() == (SYN | ACK));
        REQUIRE(synack.tcp.options.sack_permitted);
        t.iss = synack.seq();
        t.stack_nxt = t.iss + 1;
        t.inject(t.peer_ack(t.stack_nxt));
        t.expect_nothing();
        s = t.st.accept(l, ec);
        REQUIRE_FALSE(ec);
        base = t.stack_nxt;
        REQUIRE(conn().send_mss() == smss);
        REQUIRE(conn().sack_permitted());
    }

    scenario t;
    listener l{};
    socket s{};
    seq32 base;
    std::map<std::uint32_t, int> sends;  ///< segment index -> times sent
    std::set<std::uint32_t> sacked;      ///< every segment index the peer has SACKed
    bool check_sacked_never_resent = true;

    const scenario::stack_type::connection_type& conn() const
    {
        const auto* c = t.st.connection(s);
        REQUIRE(c != nullptr);
        return *c;
    }
    tcp::connection_info info() const { return t.st.info(s); }
    seq32 seg(std::uint32_t i) const { return base + i * smss; }
    std::uint32_t index_of(const captured& c) const { return static_cast<std::uint32_t>(c.seq() - base) / smss; }

    /// Queues `n` full segments of data (not necessarily all sent at once).
    void queue(std::uint32_t n) { REQUIRE(t.send(s, std::string(n * smss, 'd')) == n * smss); }

    /// What tcpx sent since the last call, recorded per segment index. Every data
    /// segment must be a whole segment at a segment boundary; none may be one the
    /// peer has SACKed (RFC 6675 §4 NextSeg never returns SACKed octets).
    std::vector<captured> take()
    {
        std::vector<captured> data;
        for (const captured& c : t.sent()) {
            if (c.payload.empty()) continue;
            CHECK_MESSAGE((c.seq() - base) % smss == 0, describe(c));
            CHECK_MESSAGE(c.payload.size() == smss, describe(c));
            const std::uint32_t i = index_of(c);
            if (check_sacked_never_resent) CHECK_MESSAGE(!sacked.contains(i), "resent SACKed segment " << i);
            ++sends[i];
            data.push_back(c);
        }
        return data;
    }

    /// The peer's ACK of segments [0, cumulative) with `blocks` (first = newest, as
    /// RFC 2018 §4 asks); returns the data tcpx sent in answer.
    std::vector<captured> ack(std::uint32_t cumulative, std::vector<seg_block> blocks = {})
    {
        wire::tcp_header h = t.peer_ack(seg(cumulative));
        REQUIRE(blocks.size() <= 4);
        for (std::size_t k = 0; k < blocks.size(); ++k) {
            h.options.sack[k] = {seg(blocks[k].first), seg(blocks[k].second)};
            for (std::uint32_t i = blocks[k].first; i < blocks[k].second; ++i) sacked.insert(i);
        }
        h.options.sack_count = static_cast<std::uint8_t>(blocks.size());
        t.inject(h);
        return take();
    }

    /// The index one past the highest segment sent.
    std::uint32_t highest() const { return static_cast<std::uint32_t>(conn().snd().max - base) / smss; }
};

std::vector<std::uint32_t> indices(const sack_sender& x, const std::vector<captured>& v)
{
    std::vector<std::uint32_t> out;
    for (const captured& c : v) out.push_back(x.index_of(c));
    return out;
}

template <class T>
std::string str(const std::vector<T>& v)
{
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
    return out + "}";
}

}  // namespace

// ---------------------------------------------------------------------------------
// 1. Entering recovery by IsLost (RFC 6675 §5 (2), §4 IsLost, §5 (4))
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_above_2_smss_marks_the_hole_lost_and_retransmits_it_once")
{
    // §4 IsLost(SeqNum): true when "more than (DupThresh - 1) * SMSS bytes with sequence
    // numbers greater than SeqNum have been SACKed". §5 (2): then enter recovery even
    // before DupThresh DupAcks; (4.2) ssthresh = cwnd = FlightSize / 2; (4.3) retransmit
    // the first segment presumed dropped. NextSeg never offers SACKed data.
    sack_sender x;
    x.queue(20);
    REQUIRE(x.take().size() == 10);  // the initial window

    // One ACK SACKs segments 1..3: 3 * SMSS above segment 0, one DupAck only.
    const auto out = x.ack(0, {{1, 4}});
    REQUIRE_FALSE(out.empty());
    CHECK(out.front().seq() == x.seg(0));
    CHECK(x.sends[0] == 2);
    tcp::connection_info i = x.info();
    CHECK(i.sack_recoveries == 1);
    CHECK(i.in_recovery);
    CHECK(i.ssthresh == 5 * smss);  // FlightSize 10 segments, halved
    CHECK(i.cwnd == i.ssthresh);
    CHECK(i.sacked == 3 * smss);

    // The rest of the window is SACKed, one segment per ACK; the hole is not resent
    // again, nothing SACKed is resent (take() checks), recovery stays the one.
    for (std::uint32_t k = 5; k <= 10; ++k) (void)x.ack(0, {{1, k}});
    CHECK(x.sends[0] == 2);
    CHECK(x.info().sack_recoveries == 1);
    // The retransmission arrives: everything up to RecoveryPoint is acknowledged (§5 (A)).
    (void)x.ack(10);
    i = x.info();
    CHECK_FALSE(i.in_recovery);
    CHECK(i.cwnd == i.ssthresh);
    CHECK(i.ssthresh == 5 * smss);
    CHECK(i.sack_recoveries == 1);
    CHECK(i.timeouts == 0);
    CHECK(x.sends[0] == 2);
    for (std::uint32_t k = 1; k < 10; ++k) CHECK_MESSAGE(x.sends[k] == 1, "segment " << k);
}

TEST_CASE("established_sack_recovery_halves_the_flight_without_limited_transmit_segments")
{
    // RFC 6675 §5 (4.2) "ssthresh = cwnd = (FlightSize / 2) ... Additionally, note that
    // [RFC5681] requires that any segments sent as part of the Limited Transmit mechanism
    // not be counted in FlightSize for the purpose of the above equation." (RFC 5681 §3.2
    // step 2: "additional data sent in limited transmit MUST NOT be included in this
    // calculation".) Here the first two DupAcks each let one new segment out (§5 (3)),
    // and the third finds the hole: 10 segments were in flight before them, so 5.
    sack_sender x;
    x.queue(20);
    REQUIRE(x.take().size() == 10);
    CHECK(indices(x, x.ack(0, {{1, 2}})) == std::vector<std::uint32_t>{10});  // §5 (3)
    CHECK(indices(x, x.ack(0, {{1, 3}})) == std::vector<std::uint32_t>{11});
    const auto out = x.ack(0, {{1, 4}});
    REQUIRE_FALSE(out.empty());
    CHECK(out.front().seq() == x.seg(0));
    const tcp::connection_info i = x.info();
    CHECK(i.sack_recoveries == 1);
    CHECK(i.cwnd == i.ssthresh);
    CHECK(i.ssthresh == 5 * smss);
}

TEST_CASE("established_sack_loss_found_by_an_ack_that_also_acks_data_reduces_the_full_window")
{
    // RFC 6675 §5 (4.2) and RFC 5681 §3.2 step 2: FlightSize when the loss is found. The
    // ACK that finds it here also acknowledges four segments: what is left in flight
    // after it (six) is not what the network carried; ten were, the whole window, which
    // was full (more data waited on cwnd). ssthresh = 10 / 2 — not 6 / 2, and not half
    // of a window grown by the four segments that ACK acknowledged.
    sack_sender x;
    x.queue(30);
    REQUIRE(x.take().size() == 10);
    const auto out = x.ack(4, {{5, 8}});  // 4 missing, 5..7 SACKed: IsLost(4)
    REQUIRE_FALSE(out.empty());
    CHECK(out.front().seq() == x.seg(4));
    const tcp::connection_info i = x.info();
    CHECK(i.sack_recoveries == 1);
    CHECK(i.ssthresh == 5 * smss);
}

TEST_CASE("established_sack_application_limited_loss_reduces_the_measured_flight")
{
    // The same ACK when the application gave only six segments: cwnd (10) was never full,
    // so the reduction starts from the flight, as RFC 5681 eq. 4 says (RFC 9438 §4.6: a
    // cwnd that outgrew the flight is no measure of it).
    sack_sender x;
    x.queue(6);
    REQUIRE(x.take().size() == 6);
    const auto out = x.ack(1, {{2, 5}});  // 1 missing, 2..4 SACKed; 5 segments in flight
    REQUIRE_FALSE(out.empty());
    CHECK(out.front().seq() == x.seg(1));
    CHECK(x.info().ssthresh == 2 * smss + smss / 2);  // FlightSize 5 segments, halved
}

// ---------------------------------------------------------------------------------
// 2. Two holes in one window (NextSeg rule 1)
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_two_holes_are_both_retransmitted_in_one_recovery")
{
    // §4 NextSeg (1): the first unSACKed octet for which IsLost holds, not yet
    // retransmitted, whenever the window (here PRR) allows a segment — so a second hole
    // is repaired in the same recovery, with no timeout (unlike Reno, RFC 5681).
    sack_sender x;
    x.queue(30);
    REQUIRE(x.take().size() == 10);
    // Segments 0 and 4 are lost; the rest arrive in order, each SACK reporting them.
    std::vector<std::vector<captured>> per_ack;
    per_ack.push_back(x.ack(0, {{1, 4}}));
    for (std::uint32_t k = 6; k <= 10; ++k) per_ack.push_back(x.ack(0, {{5, k}, {1, 4}}));
    REQUIRE(x.sends[0] == 2);
    // The retransmission of 0 arrives after the first flight, then the new segments sent
    // meanwhile, each extending the block, and the retransmission of 4 in its turn.
    per_ack.push_back(x.ack(4, {{5, 10}}));
    for (std::uint32_t k = 11; k <= x.highest() && k <= 14; ++k)
        per_ack.push_back(x.sends[4] >= 2 ? x.ack(k) : x.ack(4, {{5, k}}));
    std::string trace;
    for (const auto& v : per_ack) trace += str(indices(x, v)) + " ";
    CAPTURE(trace);
    CHECK(x.sends[0] == 2);
    CHECK(x.sends[4] == 2);
    // One retransmission per ACK at most (PRR spreads them; RFC 6937 §3).
    for (std::size_t a = 0; a < per_ack.size(); ++a) {
        int retransmissions = 0;
        for (const captured& c : per_ack[a])
            if (x.index_of(c) < 10) ++retransmissions;
        CHECK_MESSAGE(retransmissions <= 1, "ACK " << a);
    }
    const tcp::connection_info i = x.info();
    CHECK(i.sack_recoveries == 1);
    CHECK(i.timeouts == 0);
    CHECK(i.retransmitted_segments == 2);
    // Both repairs arrive: recovery ends at the cumulative ACK of RecoveryPoint.
    (void)x.ack(x.highest());
    CHECK_FALSE(x.info().in_recovery);
}

// ---------------------------------------------------------------------------------
// 3. PRR pacing (RFC 6937 §3, §3.1)
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_recovery_sends_one_segment_per_two_acks_and_ends_at_ssthresh")
{
    // RFC 6937 §3: while pipe > ssthresh, sndcnt = CEIL(prr_delivered * ssthresh /
    // RecoverFS) - prr_out; with ssthresh = RecoverFS / 2 that is one segment for every
    // two delivered — §3.1's example ("PRR ... sends one segment for every two ACKs").
    // Recovery ends with cwnd = ssthresh (RFC 6937 §3 "On exiting recovery").
    sack_sender x{sack_config(20)};
    x.queue(40);
    REQUIRE(x.take().size() == 20);
    const auto first = x.ack(0, {{1, 4}});  // IsLost(0): recovery
    REQUIRE_FALSE(first.empty());
    CHECK(first.front().seq() == x.seg(0));
    REQUIRE(x.info().ssthresh == 10 * smss);

    // Sixteen more ACKs, each SACKing one more of the original window.
    int new_segments = 0;
    std::vector<int> per_ack;
    for (std::uint32_t k = 5; k <= 20; ++k) {
        const auto out = x.ack(0, {{1, k}});
        per_ack.push_back(static_cast<int>(out.size()));
        for (const captured& c : out) {
            CHECK_MESSAGE(x.index_of(c) >= 20, "only new data: " << describe(c));
            ++new_segments;
        }
    }
    CAPTURE(str(per_ack));
    CHECK(new_segments == 8);
    for (std::size_t a = 0; a < per_ack.size(); ++a) CHECK_MESSAGE(per_ack[a] <= 1, "ACK " << a);
    // While pipe > ssthresh (the first twelve ACKs here) the proportional part rules:
    // exactly one segment per two ACKs, never two ACKs in a row. Only the last ones,
    // with pipe down to ssthresh, follow PRR-SSRB (sndcnt = MIN(ssthresh - pipe, limit)).
    REQUIRE(per_ack.size() == 16);
    for (std::size_t a = 0; a < 12; ++a) CHECK_MESSAGE(per_ack[a] == static_cast<int>(a % 2), "ACK " << a);
    CHECK(x.sends[0] == 2);

    // The retransmission arrived: the ACK of RecoveryPoint ends recovery.
    (void)x.ack(20);
    const tcp::connection_info i = x.info();
    CHECK_FALSE(i.in_recovery);
    CHECK(i.ssthresh == 10 * smss);
    CHECK(i.cwnd == i.ssthresh);
    CHECK(i.sack_recoveries == 1);
    CHECK(i.timeouts == 0);
}

// ---------------------------------------------------------------------------------
// 4. Rescue retransmission (RFC 6675 §4 NextSeg rule 4)
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_tail_loss_gets_one_rescue_retransmission_of_the_highest_unsacked_segment")
{
    // §4 NextSeg (4): "If the conditions for rules (1), (2), and (3) fail, but there
    // exists an unSACKed sequence number S3 such that S3 > HighRxt, S3 <= HighData and
    // HighACK > RescueRxt (or RescueRxt is undefined), then one segment of upto SMSS
    // octets that MUST include the highest outstanding unSACKed sequence number SHOULD be
    // returned, and RescueRxt set to RecoveryPoint." Once per recovery.
    sack_sender x;
    x.queue(10);  // nothing new to send after the window
    REQUIRE(x.take().size() == 10);
    // Segments 0, 8 and 9 are lost (the tail: nothing after 7 arrives).
    std::vector<captured> all = x.ack(0, {{1, 4}});
    for (std::uint32_t k = 5; k <= 8; ++k) {
        const auto out = x.ack(0, {{1, k}});
        all.insert(all.end(), out.begin(), out.end());
    }
    CAPTURE(str(indices(x, all)));
    CHECK(x.sends[0] == 2);
    CHECK(x.sends[9] == 2);  // the rescue: the highest unSACKed segment
    CHECK(x.sends[8] == 1);  // not also the one below it
    CHECK(x.info().rescue_retransmits == 1);
    CHECK(x.info().sack_recoveries == 1);

    // Segment 0's and 9's retransmissions arrive; 8 is the hole below the SACK of 9.
    // NextSeg (3) resends it (unSACKed below the highest SACKed), still no timeout and
    // no second rescue.
    (void)x.ack(8, {{9, 10}});
    CHECK(x.sends[8] == 2);
    CHECK(x.info().rescue_retransmits == 1);
    (void)x.ack(10);
    const tcp::connection_info i = x.info();
    CHECK_FALSE(i.in_recovery);
    CHECK(i.rescue_retransmits == 1);
    CHECK(i.timeouts == 0);
}

// ---------------------------------------------------------------------------------
// 5. A lost retransmission, found without a timeout
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_rescue_is_not_sent_for_a_hole_already_retransmitted")
{
    // RFC 6675 §4 NextSeg (4): the rescue carries "the highest outstanding unSACKed
    // sequence number". Here that is the one hole, segment 5, below a SACKed tail, and
    // (4.3) has just retransmitted it: a rescue would send it a second time at once.
    sack_sender x;
    x.queue(10);
    REQUIRE(x.take().size() == 10);
    const auto out = x.ack(5, {{6, 10}});  // 5 missing, the tail SACKed: IsLost(5)
    REQUIRE(out.size() == 1);
    CHECK(out.front().seq() == x.seg(5));
    CHECK(x.sends[5] == 2);
    CHECK(x.info().rescue_retransmits == 0);
    (void)x.ack(10);
    CHECK(x.sends[5] == 2);
    CHECK_FALSE(x.info().in_recovery);
}

TEST_CASE("established_sack_lost_retransmission_is_sent_again_without_a_timeout")
{
    // RFC 6675 §4 keeps only HighRxt, so a lost retransmission stays "in pipe" until the
    // RTO (§5.1). tcpx (as RFC 8985 §6.2 reasons, and Linux's tcp_mark_lost_retrans did)
    // deems a retransmission lost when more than (DupThresh - 1) * SMSS of data first
    // sent after it is SACKed, and sends it again.
    sack_sender x;
    x.queue(30);
    REQUIRE(x.take().size() == 10);
    REQUIRE(x.ack(0, {{1, 4}}).front().seq() == x.seg(0));  // the retransmission, lost too
    for (std::uint32_t k = 5; k <= 10; ++k) (void)x.ack(0, {{1, k}});
    REQUIRE(x.sends[0] == 2);
    const std::uint32_t high = x.highest();
    REQUIRE(high >= 13);  // new data went out after the retransmission
    // The new segments arrive; the retransmission does not.
    for (std::uint32_t k = 11; k <= 13; ++k) (void)x.ack(0, {{1, k}});
    for (std::uint32_t k = 14; k <= high && x.sends[0] < 3; ++k) (void)x.ack(0, {{1, k}});
    CHECK(x.sends[0] == 3);
    const tcp::connection_info i = x.info();
    CHECK(i.lost_retransmits == 1);
    CHECK(i.timeouts == 0);
    CHECK(i.sack_recoveries == 1);
}

// ---------------------------------------------------------------------------------
// 6. After a timeout only unSACKed data is resent (RFC 6675 §5.1)
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_retransmission_timeout_resends_only_unsacked_segments")
{
    // §5.1: after an RTO "the data sender SHOULD use the SACK information ... to avoid
    // retransmitting data the receiver holds": the slow start that follows fills the
    // holes of the scoreboard, not the SACKed segments.
    sack_sender x;
    x.queue(10);
    REQUIRE(x.take().size() == 10);
    // Segments 3 and 6 arrive, nothing else: too little for IsLost, one DupAck.
    CHECK(x.ack(0, {{6, 7}, {3, 4}}).empty());
    CHECK_FALSE(x.info().in_recovery);
    REQUIRE(x.t.advance_to_deadline());
    const auto rto = x.take();
    CHECK(indices(x, rto) == std::vector<std::uint32_t>{0});
    CHECK(x.info().timeouts == 1);
    CHECK(x.info().cwnd == smss);
    // Slow start over the holes: 1, 2, then 4, 5, 7, 8, then 9.
    std::vector<std::uint32_t> resent = indices(x, x.ack(1, {{6, 7}, {3, 4}}));
    auto more = indices(x, x.ack(4, {{6, 7}}));
    resent.insert(resent.end(), more.begin(), more.end());
    for (int round = 0; round < 4 && x.conn().snd().una != x.conn().snd().max; ++round) {
        // The peer got everything resent so far: its cumulative ACK is the first hole.
        std::uint32_t cum = 4;
        while (cum < 10 && (x.sends[cum] >= 2 || x.sacked.contains(cum))) ++cum;
        more = indices(x, x.ack(cum));
        resent.insert(resent.end(), more.begin(), more.end());
    }
    CAPTURE(str(resent));
    CHECK(x.sends[3] == 1);
    CHECK(x.sends[6] == 1);
    for (const std::uint32_t k : {0u, 1u, 2u, 4u, 5u, 7u, 8u, 9u}) CHECK_MESSAGE(x.sends[k] == 2, "segment " << k);
    CHECK(x.info().timeouts == 1);
    CHECK(x.info().sack_reneging == 0);
    CHECK(x.conn().snd().una == x.conn().snd().max);
}

// ---------------------------------------------------------------------------------
// 7. Reneging (RFC 6675 §8, RFC 2018 §8)
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_block_at_snd_una_on_timeout_is_reneging_and_clears_the_scoreboard")
{
    // RFC 2018 §8: the receiver may discard data it SACKed; "the data sender MUST NOT
    // discard data before it is cumulatively acknowledged". RFC 6675 §8: a SACKed range
    // that the cumulative ACK reaches without covering shows it — then the scoreboard
    // is cleared when the RTO fires and the data is resent from SND.UNA.
    sack_sender x;
    x.check_sacked_never_resent = false;  // reneged data must be resent
    x.queue(10);
    REQUIRE(x.take().size() == 10);
    CHECK(x.ack(0, {{1, 3}}).empty());  // 1 and 2 held
    CHECK(x.info().sacked == 2 * smss);
    (void)x.ack(1);  // 0 arrives, but the ACK stops at 1: 1 and 2 were dropped
    REQUIRE(x.conn().scoreboard().is_sacked(x.seg(1)));
    REQUIRE(x.t.advance_to_deadline());
    const auto rto = x.take();
    CHECK(indices(x, rto) == std::vector<std::uint32_t>{1});
    tcp::connection_info i = x.info();
    CHECK(i.sack_reneging == 1);
    CHECK(i.sacked == 0);
    CHECK(i.timeouts == 1);
    CHECK(x.conn().scoreboard().empty());
    // The next ACK lets segment 2 go again too: it is not SACKed any more.
    const auto next = indices(x, x.ack(2));
    CAPTURE(str(next));
    REQUIRE_FALSE(next.empty());
    CHECK(next.front() == 2);
    CHECK(x.sends[2] == 2);
}

// ---------------------------------------------------------------------------------
// 8. sack_recovery off: RFC 5681 (RFC 6675 not used)
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_recovery_off_uses_rfc5681_fast_retransmit_and_fast_recovery")
{
    // RFC 5681 §3.2: on the third duplicate ACK, ssthresh per eq. 4 (FlightSize before
    // limited transmit, step 2), retransmit, cwnd = ssthresh + 3*SMSS (step 3); each
    // further duplicate inflates cwnd by SMSS (step 4). SACK blocks change nothing.
    config cfg = sack_config();
    cfg.sack_recovery = false;
    sack_sender x{cfg};
    x.queue(20);
    REQUIRE(x.take().size() == 10);
    CHECK(indices(x, x.ack(0, {{1, 2}})) == std::vector<std::uint32_t>{10});  // RFC 3042
    CHECK(indices(x, x.ack(0, {{1, 3}})) == std::vector<std::uint32_t>{11});
    const auto out = x.ack(0, {{1, 4}});
    REQUIRE_FALSE(out.empty());
    CHECK(out.front().seq() == x.seg(0));
    tcp::connection_info i = x.info();
    CHECK(i.sack_recoveries == 0);
    CHECK(i.fast_retransmits == 1);
    CHECK(i.ssthresh == 5 * smss);
    CHECK(i.cwnd == 5 * smss + 3 * smss);
    (void)x.ack(0, {{1, 5}});
    CHECK(x.info().cwnd == 5 * smss + 4 * smss);
    CHECK(x.sends[0] == 2);
    CHECK(x.info().sack_recoveries == 0);
}

// ---------------------------------------------------------------------------------
// 9. D-SACK (RFC 2883)
// ---------------------------------------------------------------------------------

TEST_CASE("established_dsack_is_counted_and_changes_nothing_sacked")
{
    // RFC 2883 §4: the first block reports a duplicate when it lies below the cumulative
    // ACK, or inside the second block. It is counted (Linux's TCPDSACKRecv); it neither
    // SACKs data below SND.UNA nor adds to what the scoreboard holds (RFC 6675 §4
    // Update() records SACKed data only).
    sack_sender x;
    x.queue(10);
    REQUIRE(x.take().size() == 10);
    (void)x.ack(2, {{3, 4}});
    const auto before = std::vector<tcp::sack_scoreboard::range>(x.conn().scoreboard().sacked().begin(),
                                                                 x.conn().scoreboard().sacked().end());
    REQUIRE(x.info().sacked == smss);
    // Below the cumulative ACK: segment 1 arrived twice.
    (void)x.ack(2, {{1, 2}, {3, 4}});
    CHECK(x.info().dsacks_received == 1);
    CHECK(x.info().sacked == smss);
    // Inside the second block: half of segment 3 arrived twice.
    wire::tcp_header h = x.t.peer_ack(x.seg(2));
    h.options.sack_count = 2;
    h.options.sack[0] = {x.seg(3), x.seg(3) + smss / 2};
    h.options.sack[1] = {x.seg(3), x.seg(4)};
    x.t.inject(h);
    (void)x.take();
    CHECK(x.info().dsacks_received == 2);
    CHECK(x.info().sacked == smss);
    const auto after = std::vector<tcp::sack_scoreboard::range>(x.conn().scoreboard().sacked().begin(),
                                                                x.conn().scoreboard().sacked().end());
    CHECK(after == before);
    CHECK_FALSE(x.info().in_recovery);
    CHECK(x.info().retransmitted_segments == 0);
}

// ---------------------------------------------------------------------------------
// 7. A needless recovery undone (RFC 3708 §3, RFC 9438 §4.9)
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_recovery_whose_retransmission_is_dsacked_is_undone")
{
    // Segment 0 was only delayed (reordering): three later segments are SACKed, recovery
    // halves the window and resends 0; then the original arrives (the cumulative ACK
    // jumps), and so does the retransmission, which the peer reports as a duplicate.
    // Every retransmission of that recovery was needless: the reduction is undone.
    sack_sender x;
    x.queue(30);
    REQUIRE(x.take().size() == 10);
    const tcp::connection_info before = x.info();
    REQUIRE(x.ack(0, {{1, 4}}).front().seq() == x.seg(0));
    const tcp::connection_info reduced = x.info();
    REQUIRE(reduced.sack_recoveries == 1);
    REQUIRE(reduced.ssthresh < before.cwnd);
    (void)x.ack(10);  // the original segment 0 arrived, and all the rest
    x.check_sacked_never_resent = false;
    (void)x.ack(10, {{0, 1}});  // RFC 2883 §4: the D-SACK of the retransmission
    const tcp::connection_info after = x.info();
    CHECK(after.dsacks_received == 1);
    CHECK(after.reductions_undone == 1);
    CHECK(after.cwnd >= before.cwnd);
    CHECK(after.ssthresh == before.ssthresh);
    CHECK_FALSE(after.in_recovery);
}

TEST_CASE("established_sack_recovery_with_a_real_loss_is_not_undone")
{
    // Two retransmissions, only one D-SACKed: the other repaired a loss, the reduction stays.
    sack_sender x;
    x.queue(30);
    REQUIRE(x.take().size() == 10);
    REQUIRE(x.ack(0, {{1, 4}}).front().seq() == x.seg(0));
    for (std::uint32_t k = 6; k <= 10; ++k) (void)x.ack(0, {{5, k}, {1, 4}});
    REQUIRE(x.sends[4] == 2);  // segment 4 too
    const std::uint32_t ssthresh = x.info().ssthresh;
    (void)x.ack(4, {{5, 10}});  // 0's original (or retransmission) and 1-3 are in
    x.check_sacked_never_resent = false;
    (void)x.ack(10, {{0, 1}});  // 0 was delivered twice; 4's retransmission repaired a loss
    const tcp::connection_info after = x.info();
    CHECK(after.dsacks_received == 1);
    CHECK(after.reductions_undone == 0);
    CHECK(after.ssthresh == ssthresh);
}

TEST_CASE("established_sack_recovery_is_not_undone_when_config_says_no")
{
    config c = sack_config();
    c.undo_spurious_reductions = false;
    sack_sender x{c};
    x.queue(30);
    REQUIRE(x.take().size() == 10);
    REQUIRE(x.ack(0, {{1, 4}}).front().seq() == x.seg(0));
    const std::uint32_t ssthresh = x.info().ssthresh;
    (void)x.ack(10);
    x.check_sacked_never_resent = false;
    (void)x.ack(10, {{0, 1}});
    CHECK(x.info().reductions_undone == 0);
    CHECK(x.info().ssthresh == ssthresh);
}

// ---------------------------------------------------------------------------------
// 8. RACK as the loss detector (RFC 8985 §6.2), as in Linux: no DupThresh once
//    reordering has been seen
// ---------------------------------------------------------------------------------

namespace {
config rack_config()
{
    config c = sack_config();
    c.rack = true;  // the default, which sack_config() turns off
    return c;
}
}  // namespace

TEST_CASE("established_rack_before_reordering_is_seen_three_sacked_segments_mark_the_hole_lost")
{
    // §6.2 step 4: RACK.reo_wnd is 0 while no reordering was seen and DupThresh segments
    // are SACKed: as quick as RFC 6675's DupThresh.
    sack_sender x{rack_config()};
    x.queue(30);
    REQUIRE(x.take().size() == 10);
    x.t.advance(std::chrono::milliseconds{20});
    (void)x.ack(1);
    const auto out = x.ack(1, {{2, 5}});
    REQUIRE_FALSE(out.empty());
    CHECK(out.front().seq() == x.seg(1));
    CHECK(x.info().rack_marked_lost == 1);
}

TEST_CASE("established_rack_rescue_waits_until_the_tail_could_have_been_acknowledged")
{
    // RFC 6675 §4 NextSeg (4) beside RFC 8985 §6.2: the tail segment, sent in the same
    // burst just after the SACKed ones, is not rescued the moment the recovery begins —
    // its ACK may still be on its way (at the end of every short transfer it is); once
    // RACK.rtt has passed since it was sent and it is still unacknowledged, it goes again.
    sack_sender x{rack_config()};
    x.queue(10);
    REQUIRE(x.take().size() == 10);
    x.t.advance(std::chrono::milliseconds{20});
    const auto entry = x.ack(5, {{6, 9}});  // 5 missing, 6..8 SACKed; 9, the tail, unheard of
    CHECK(indices(x, entry) == std::vector<std::uint32_t>{5});
    CHECK(x.sends[9] == 1);
    CHECK(x.info().rescue_retransmits == 0);
    x.t.advance(std::chrono::milliseconds{20});
    (void)x.ack(9);  // the retransmission of 5 arrived; 9 did not
    CHECK(x.sends[9] == 2);
    CHECK(x.info().timeouts == 0);
}

TEST_CASE("established_rack_after_reordering_is_seen_waits_the_reordering_window")
{
    // §6.2 step 3: the hole at SND.UNA filled with no retransmission: reordering. From
    // then on a segment is lost only RACK.rtt + reo_wnd (min RTT / 4) after it was sent,
    // however many segments sent after it are SACKed: three SACKed segments no longer
    // trigger a retransmission by themselves; the reordering timer does, reo_wnd later.
    sack_sender x{rack_config()};
    x.queue(40);
    REQUIRE(x.take().size() == 10);
    x.t.advance(std::chrono::milliseconds{20});
    (void)x.ack(1, {{2, 3}});  // 1 is late: one segment SACKed, nothing lost yet
    (void)x.ack(4);            // and arrives: reordering seen
    CHECK(x.sends[1] == 1);
    x.t.advance(std::chrono::milliseconds{20});
    (void)x.take();
    const auto now = x.ack(4, {{5, 8}});  // 4 missing, three SACKed after it
    for (const captured& c : now) CHECK(x.index_of(c) != 4);
    CHECK(x.sends[4] == 1);
    x.t.advance(std::chrono::milliseconds{6});  // past reo_wnd = 20 ms / 4
    (void)x.take();
    CHECK(x.sends[4] == 2);
    CHECK(x.info().timeouts == 0);
}

// ---------------------------------------------------------------------------------
// 9. The flight's recovery state (tcp/recovery_state.hpp): held while data is in flight
// ---------------------------------------------------------------------------------

TEST_CASE("established_sack_flight_holds_a_recovery_state_until_everything_is_acknowledged")
{
    // The scoreboard, RACK's log and PRR's counts describe data in flight: a connection
    // draws them from the stack's pool when a flight begins and gives them back when
    // it ends, so an idle connection does not carry them.
    sack_sender x;
    CHECK_FALSE(x.conn().has_recovery_state());
    CHECK(x.t.st.recovery_states().in_use() == 0);
    x.queue(3);
    REQUIRE(x.take().size() == 3);
    CHECK(x.conn().has_recovery_state());
    CHECK(x.t.st.recovery_states().in_use() == 1);
    (void)x.ack(2);
    CHECK(x.conn().has_recovery_state());
    (void)x.ack(3);
    CHECK_FALSE(x.conn().has_recovery_state());
    CHECK(x.t.st.recovery_states().in_use() == 0);
    CHECK(x.conn().scoreboard().empty());
    // The next flight draws one again.
    x.queue(1);
    REQUIRE(x.take().size() == 1);
    CHECK(x.conn().has_recovery_state());
}

TEST_CASE("established_sack_recovery_state_stays_while_the_recovery_may_be_undone")
{
    // RFC 3708 §3: the D-SACK that shows a retransmission needless may come after
    // everything is acknowledged (the late original is reported when it arrives). The
    // policy from before the reduction waits in the recovery state until then.
    sack_sender x;
    x.queue(12);  // two beyond the window: recovery sends those, not a rescue
    REQUIRE(x.take().size() == 10);
    const tcp::connection_info before = x.info();
    REQUIRE(x.ack(0, {{1, 4}}).front().seq() == x.seg(0));
    (void)x.ack(10);  // the original segment 0 arrived, and all the rest
    const std::uint32_t all = x.highest();
    (void)x.ack(all);  // and what recovery sent meanwhile: nothing is in flight
    REQUIRE(x.conn().snd().una == x.conn().snd().max);
    CHECK(x.conn().has_recovery_state());
    CHECK(x.conn().scoreboard().empty());
    x.check_sacked_never_resent = false;
    (void)x.ack(all, {{0, 1}});  // the D-SACK of the retransmission: undone, and given back
    CHECK(x.info().reductions_undone == 1);
    CHECK(x.info().ssthresh == before.ssthresh);
    CHECK_FALSE(x.conn().has_recovery_state());
    CHECK(x.t.st.recovery_states().in_use() == 0);
}

TEST_CASE("established_sack_dsack_between_flights_is_counted_as_reordering")
{
    // RFC 2883 §4 with no flight: a block below the cumulative ACK still reports a
    // duplicate; RACK's reordering window learns from it (RFC 8985 §6.2 step 3).
    sack_sender x;
    x.queue(2);
    REQUIRE(x.take().size() == 2);
    (void)x.ack(2);
    REQUIRE_FALSE(x.conn().has_recovery_state());
    x.check_sacked_never_resent = false;
    (void)x.ack(2, {{0, 1}});
    CHECK(x.info().dsacks_received == 1);
    CHECK(x.info().reductions_undone == 0);
    CHECK_FALSE(x.conn().has_recovery_state());
}

TEST_CASE("established_sack_flight_without_a_free_recovery_state_is_recovered_by_the_policy")
{
    // config::max_recovery_states bounds the memory; a flight that finds none free is
    // recovered as without SACK (RFC 5681 §3.2 / RFC 6582 fast retransmit on the third
    // duplicate ACK), is counted, and loses nothing.
    config c = sack_config();
    c.max_recovery_states = 1;
    sack_sender x{c};
    x.queue(2);
    REQUIRE(x.take().size() == 2);  // connection A's flight holds the only one
    REQUIRE(x.conn().has_recovery_state());

    // Connection B, from another port of the peer.
    const socket a = x.s;
    const seq32 a_base = x.base;
    x.t.peer_port = 40001;
    x.t.peer_iss = seq32{90000};
    wire::tcp_header syn = x.t.segment(SYN, x.t.peer_iss);
    syn.options.mss = smss;
    syn.options.sack_permitted = true;
    x.t.inject(syn);
    x.t.peer_nxt = x.t.peer_iss + 1;
    const captured synack = x.t.expect_one();
    REQUIRE(synack.flags() == (SYN | ACK));
    x.t.iss = synack.seq();
    x.t.stack_nxt = x.t.iss + 1;
    x.t.inject(x.t.peer_ack(x.t.stack_nxt));
    std::error_code ec;
    x.s = x.t.st.accept(x.l, ec);
    REQUIRE_FALSE(ec);
    x.base = x.t.stack_nxt;
    x.sends.clear();  // A's, counted by the same indices
    REQUIRE(x.conn().sack_permitted());

    x.queue(10);
    REQUIRE(x.take().size() == 10);
    CHECK_FALSE(x.conn().has_recovery_state());
    CHECK(x.info().flights_without_recovery_state == 1);
    // Segment 0 lost: three duplicate ACKs (their SACK blocks unread) bring the
    // policy's fast retransmission.
    for (std::uint32_t k = 2; k <= 4; ++k) (void)x.ack(0, {{1, k}});
    CHECK(x.sends[0] == 2);
    CHECK(x.info().fast_retransmits == 1);
    CHECK(x.info().sack_recoveries == 0);
    (void)x.ack(10);
    CHECK(x.conn().snd().una == x.conn().snd().max);
    CHECK(x.info().timeouts == 0);
    // Connection A is untouched and still holds its state.
    const auto* conn_a = x.t.st.connection(a);
    REQUIRE(conn_a != nullptr);
    CHECK(conn_a->has_recovery_state());
    CHECK(conn_a->snd().una == a_base);
}

TEST_CASE("established_sack_recovery_state_kept_for_an_undo_goes_back_two_srtts_after_the_flight")
{
    // A block kept for a D-SACK that never comes is not kept for good: the loss-probe
    // timer, idle between flights, gives it back.
    sack_sender x;
    x.queue(12);
    REQUIRE(x.take().size() == 10);
    x.t.advance(std::chrono::milliseconds{10});
    REQUIRE(x.ack(0, {{1, 4}}).front().seq() == x.seg(0));
    (void)x.ack(10);
    (void)x.ack(x.highest());
    REQUIRE(x.conn().snd().una == x.conn().snd().max);
    REQUIRE(x.conn().has_recovery_state());
    x.t.advance(std::chrono::seconds{1});
    CHECK_FALSE(x.conn().has_recovery_state());
    CHECK(x.t.st.recovery_states().in_use() == 0);
    CHECK(x.info().reductions_undone == 0);
}
