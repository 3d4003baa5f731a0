// RFC 8985 §6 RACK on its own: the send log, the most recently delivered segment, the
// reordering window and its D-SACK steps, and the time-based verdict.
#include <tcpx/tcp/rack.hpp>
#include <doctest/doctest.h>

#include <chrono>

using namespace tcpx;
using namespace std::chrono_literals;
using tcpx::tcp::rack;
using tcpx::tcp::rack_reordering;

namespace {
const seq32 base{5000};
instant at(std::chrono::milliseconds ms) { return instant{ms}; }
}  // namespace

TEST_CASE("rack_log_tells_when_each_octet_was_first_sent")
{
    rack r;
    r.on_new_data_sent(base + 1000, at(10ms));
    r.on_new_data_sent(base + 2000, at(10ms));  // same instant: one entry
    r.on_new_data_sent(base + 3000, at(12ms));
    CHECK(r.log_entries() == 2);
    CHECK(r.sent_at(base) == at(10ms));
    CHECK(r.sent_at(base + 1999) == at(10ms));
    CHECK(r.sent_at(base + 2000) == at(12ms));
    CHECK(r.sent_at(base + 3000) == never);
    r.on_cumulative_ack(base + 2000);
    CHECK(r.log_entries() == 1);
}

TEST_CASE("rack_full_log_merges_towards_the_later_time")
{
    rack r;
    for (unsigned i = 0; i < rack::log_size + 1; ++i) r.on_new_data_sent(base + (i + 1) * 100, at(std::chrono::milliseconds{i}));
    CHECK(r.log_entries() <= rack::log_size);
    // Octet 0 now looks sent at 1 ms (the later of the first pair), never earlier.
    CHECK(r.sent_at(base) == at(1ms));
}

TEST_CASE("rack_segment_sent_before_a_delivered_one_is_lost_after_rtt_plus_reo_wnd")
{
    // RFC 8985 §6.2 step 5: segment A at 0 ms, B at 1 ms; B is SACKed at 21 ms.
    rack r;
    r.on_new_data_sent(base + 1000, at(0ms));
    r.on_new_data_sent(base + 2000, at(1ms));
    r.on_delivered(r.sent_at(base + 1999), base + 2000, at(21ms));
    CHECK(r.rtt() == 20ms);
    const duration reo = rack_reordering{}.reo_wnd(false, false, 20ms, 20ms);
    CHECK(reo == 5ms);  // min_RTT / 4
    // At 21 ms A is 21 ms old, less than RACK.rtt + reo_wnd = 25 ms: the timer is set.
    auto v = r.detect(base, at(21ms), reo);
    CHECK(v.lost_below == base);
    CHECK(v.timer == at(25ms));
    v = r.detect(base, at(25ms), reo);
    CHECK(v.lost_below == base + 1000);
    CHECK(v.timer == never);
}

TEST_CASE("rack_reo_wnd_is_zero_in_recovery_until_reordering_seen_then_grows_on_dsack")
{
    rack_reordering r;
    CHECK(r.reo_wnd(true, false, 40ms, 50ms) == 0ms);
    CHECK(r.reo_wnd(false, true, 40ms, 50ms) == 0ms);
    r.on_dsack();
    CHECK(r.reordering_seen());
    CHECK(r.reo_wnd(true, false, 40ms, 50ms) == 20ms);  // mult 2 * 40/4
    r.on_dsack();  // same round: no second step
    CHECK(r.reo_wnd_mult() == 2);
    r.on_round();
    r.on_dsack();
    CHECK(r.reo_wnd(true, false, 40ms, 50ms) == 30ms);
    CHECK(r.reo_wnd(true, false, 400ms, 50ms) == 50ms);  // never beyond SRTT
    for (int i = 0; i < 16; ++i) r.on_recovery_end();
    CHECK(r.reo_wnd_mult() == 1);
}

TEST_CASE("rack_retransmission_lost_when_sent_before_the_latest_delivery_and_old_enough")
{
    rack r;
    r.on_new_data_sent(base + 1000, at(30ms));
    r.on_delivered(at(30ms), base + 1000, at(50ms));
    CHECK(r.retransmission_lost(at(10ms), at(50ms), 0ms));
    CHECK_FALSE(r.retransmission_lost(at(40ms), at(50ms), 0ms));  // sent after the delivered one
    CHECK_FALSE(r.retransmission_lost(at(29ms), at(40ms), 0ms));  // not RACK.rtt old yet
}
