// RFC 6937 Proportional Rate Reduction: the worked examples of §3.1 in bytes.
#include <tcpx/tcp/prr.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

using tcpx::tcp::prr;

namespace {
constexpr std::uint32_t mss = 1000;
}

TEST_CASE("prr_one_loss_sends_one_segment_per_two_acks_down_to_ssthresh")
{
    // RFC 6937 §3.1, first example: 20 segments in flight, one lost, Reno's ssthresh of
    // 10 segments; every ACK after the loss delivers one segment.
    prr p;
    p.start(20 * mss);
    std::uint32_t pipe = 19 * mss;  // the lost segment has left pipe
    std::uint32_t sent = 0;
    std::string pattern;
    for (int ack = 1; ack <= 19; ++ack) {
        pipe -= mss;
        const std::uint32_t sndcnt = p.on_ack(mss, pipe, 10 * mss, mss);
        const std::uint32_t now = sndcnt >= mss ? mss : 0;  // whole segments go
        p.on_sent(now);
        pipe += now;
        sent += now;
        if (ack <= 6) pattern += now != 0 ? 'S' : '-';
    }
    // One segment for every two delivered: CEIL(prr_delivered * 10 / 20) - prr_out is
    // half a segment on the first ACK (the connection sends the fast retransmission
    // there regardless, RFC 6675 §5 step 4.3), one on the second, and so on.
    CHECK(pattern == "-S-S-S");
    // By the end prr_out has reached ssthresh's share of what was delivered:
    // CEIL(19 * 10 / 20) = 10 segments.
    CHECK(sent == 10 * mss);
    CHECK(pipe == 10 * mss);
}

TEST_CASE("prr_ssrb_rebuilds_by_slow_start_when_pipe_falls_below_ssthresh")
{
    // RFC 6937 §3.1, second example: losses took pipe below ssthresh. PRR-SSRB allows
    // what was delivered plus one MSS per ACK, never beyond ssthresh.
    prr p;
    p.start(20 * mss);
    const std::uint32_t ssthresh = 10 * mss;
    std::uint32_t pipe = 4 * mss;
    std::uint32_t sndcnt = p.on_ack(mss, pipe, ssthresh, mss);
    CHECK(sndcnt == 2 * mss);  // MAX(prr_delivered - prr_out, DeliveredData) + MSS
    p.on_sent(sndcnt);
    pipe += sndcnt;
    sndcnt = p.on_ack(mss, pipe - mss, ssthresh, mss);
    CHECK(sndcnt == 2 * mss);
    // Close to ssthresh, the bound is ssthresh - pipe.
    sndcnt = p.on_ack(mss, 9 * mss + 500, ssthresh, mss);
    CHECK(sndcnt == 500);
}

TEST_CASE("prr_never_negative_when_sending_ran_ahead")
{
    prr p;
    p.start(10 * mss);
    p.on_sent(5 * mss);
    CHECK(p.on_ack(mss, 9 * mss, 5 * mss, mss) == 0);
    CHECK(p.out() == 5 * mss);
    CHECK(p.delivered() == mss);
}
