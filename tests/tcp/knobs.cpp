// Scenario tests: each field of tcpx::config (config.hpp) whose effect shows on the
// wire or through the API, at its default and at another value.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/closing_helpers.hpp"

#include <set>

using namespace tcpx;
using namespace tcpx::test;
using namespace std::chrono_literals;

namespace {

/// The time of each segment sent until the connection behind `s` closes (at most
/// `limit` ahead), advancing deadline by deadline; returns when it closed, or never.
instant run_until_closed(scenario& t, socket s, std::vector<instant>& sent_at, duration limit = 24h)
{
    const instant stop = t.time.now() + limit;
    while (t.st.state(s) != tcp::state::closed && t.time.now() < stop) {
        if (!t.advance_to_deadline(stop - t.time.now())) return never;
        for (std::size_t n = t.sent().size(); n != 0; --n) sent_at.push_back(t.time.now());
    }
    return t.st.state(s) == tcp::state::closed ? t.time.now() : never;
}

/// Sends `n` bytes of filler and returns the segments that leave at once.
std::vector<captured> send_and_capture(scenario& t, socket s, std::size_t n)
{
    CHECK(t.send(s, filler(n)) == n);
    return t.sent();
}

}  // namespace

// ---- delayed_ack ----

TEST_CASE("config_delayed_ack_default_acks_after_exactly_40ms")
{
    // RFC 1122 §4.2.3.2: an ACK may be delayed, but less than 0.5 s; config::delayed_ack
    // defaults to 40 ms (as Linux). One small segment waits exactly that long.
    scenario t;
    const socket s = t.establish_active();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "hello");
    CHECK(t.st.poll() == t.time.now() + 40ms);
    t.advance(40ms - 1us);
    t.expect_nothing();
    t.advance(1us);
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_nxt + 5);
    CHECK(t.receive(s) == "hello");
}

TEST_CASE("config_delayed_ack_100ms_acks_after_exactly_100ms")
{
    // RFC 1122 §4.2.3.2: the delay is the configured one.
    config cfg = scenario_config();
    cfg.delayed_ack = 100ms;
    scenario t{cfg};
    t.establish_active();
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "hello");
    CHECK(t.st.poll() == t.time.now() + 100ms);
    t.advance(100ms - 1us);
    t.expect_nothing();
    t.advance(1us);
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_nxt + 5);
}

// ---- nodelay ----

TEST_CASE("config_nodelay_default_off_holds_small_segment_while_data_is_unacked")
{
    // RFC 1122 §4.2.3.4 (Nagle, on by default): a small segment waits while data is
    // unacknowledged, and goes when the ACK arrives.
    scenario t;
    const socket s = t.establish_active();
    CHECK_FALSE(t.st.connection(s)->nodelay());
    CHECK(t.send(s, "a") == 1);
    CHECK(t.expect_one().text() == "a");
    CHECK(t.send(s, "b") == 1);
    t.expect_nothing();
    t.inject(t.peer_ack(t.stack_nxt + 1));
    const captured b = t.expect_one();
    CHECK(b.seq() == t.stack_nxt + 1);
    CHECK(b.text() == "b");
}

TEST_CASE("config_nodelay_on_sends_small_segment_at_once")
{
    // RFC 1122 §4.2.3.4: "A TCP SHOULD implement a way for an application to disable
    // the Nagle algorithm"; config::nodelay is that switch's default.
    config cfg = scenario_config();
    cfg.nodelay = true;
    scenario t{cfg};
    const socket s = t.establish_active();
    CHECK(t.st.connection(s)->nodelay());
    CHECK(t.send(s, "a") == 1);
    CHECK(t.expect_one().text() == "a");
    CHECK(t.send(s, "b") == 1);
    const captured b = t.expect_one();
    CHECK(b.seq() == t.stack_nxt + 1);
    CHECK(b.text() == "b");
}

TEST_CASE("config_set_nodelay_releases_held_segment")
{
    // RFC 1122 §4.2.3.4: switching Nagle off lets the held segment go at once.
    scenario t;
    const socket s = t.establish_active();
    CHECK(t.send(s, "a") == 1);
    CHECK(t.expect_one().text() == "a");
    CHECK(t.send(s, "b") == 1);
    t.expect_nothing();
    CHECK_FALSE(t.st.set_nodelay(s, true));
    CHECK(t.expect_one().text() == "b");
}

// ---- msl ----

TEST_CASE("config_msl_sets_time_wait_to_twice_its_value")
{
    // RFC 9293 §3.4.2 / §3.10.8: TIME-WAIT lasts 2 MSL; config::msl is MSL.
    config cfg = scenario_config();
    cfg.msl = 1s;
    scenario t{cfg};
    const socket s = t.establish_then_time_wait();
    t.advance(2s - 1us);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    t.advance(1us);
    CHECK(t.st.state(s) == tcp::state::closed);
}

// ---- keep-alive ----

TEST_CASE("config_keepalive_default_off_sends_no_probe")
{
    // RFC 1122 §4.2.3.6: keep-alives "MUST default to off". An idle connection stays
    // silent for hours, with no timer at all.
    scenario t;
    const socket s = t.establish_active();
    CHECK(t.st.poll() == never);
    t.advance(5h);
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(deadline_of(t, s, tcp::timer::keepalive) == never);
}

TEST_CASE("config_keepalive_on_probes_after_exactly_keepalive_idle")
{
    // RFC 1122 §4.2.3.6: the probe goes after the idle interval ("MUST default to no
    // less than two hours") and is <SEQ=SND.NXT-1><ACK=RCV.NXT>, no data, so a live
    // peer must answer it with an ACK.
    config cfg = scenario_config();
    cfg.keepalive = true;
    scenario t{cfg};
    const socket s = t.establish_active();
    CHECK(cfg.keepalive_idle == 2h);
    CHECK(t.st.poll() == t.time.now() + 2h);
    t.advance(2h - 1us);
    t.expect_nothing();
    t.advance(1us);
    const captured probe = t.expect_one();
    CHECK(probe.flags() == ACK);
    CHECK(probe.seq() == t.stack_nxt - 1);
    CHECK(probe.ack() == t.peer_nxt);
    CHECK(probe.payload.empty());
    CHECK(t.st.state(s) == tcp::state::established);
}

TEST_CASE("config_keepalive_unanswered_probes_repeat_every_interval_then_time_out")
{
    // RFC 1122 §4.2.3.6 (and Linux's keepalive_probes): probes repeat every
    // keepalive_interval; after keepalive_probes of them go unanswered the connection
    // is dead: errc::timed_out, at idle + probes * interval.
    config cfg = scenario_config();
    cfg.keepalive = true;
    cfg.keepalive_idle = 10s;
    cfg.keepalive_interval = 1s;
    cfg.keepalive_probes = 3;
    scenario t{cfg};
    const socket s = t.establish_active();
    const instant start = t.time.now();
    for (int i = 0; i < 3; ++i) {
        CHECK(t.advance_to_deadline());
        CHECK(t.time.now() == start + 10s + i * 1s);
        const captured probe = t.expect_one();
        CHECK(probe.seq() == t.stack_nxt - 1);
        CHECK(t.st.state(s) == tcp::state::established);
    }
    CHECK(t.advance_to_deadline());
    CHECK(t.time.now() == start + 13s);
    t.sent();  // RFC 1122 is silent on telling a dead peer; whatever goes is not checked
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::timed_out);
}

TEST_CASE("config_keepalive_probes_are_held_to_255")
{
    // The count of probes sent is a byte per connection: a larger keepalive_probes
    // would never be reached and the connection never declared dead. The stack holds
    // it to config::max_keepalive_probes (Linux caps TCP_KEEPCNT at 127).
    config cfg = scenario_config();
    cfg.keepalive_probes = 1000;
    scenario t{cfg};
    CHECK(t.st.configuration().keepalive_probes == config::max_keepalive_probes);
}

TEST_CASE("config_keepalive_sends_no_probe_while_data_is_in_flight")
{
    // RFC 1122 §4.2.3.6 probes an idle connection; one with data unacknowledged is not
    // idle — its retransmission timer already asks the peer (Linux's keep-alive timer
    // waits another idle period then). Everything sent carries the data.
    config cfg = scenario_config();
    cfg.keepalive = true;
    cfg.keepalive_idle = 10s;
    cfg.keepalive_interval = 1s;
    scenario t{cfg};
    const socket s = t.establish_active();
    CHECK(t.send(s, "x") == 1);
    for (int i = 0; i < 8; ++i) {
        t.advance(2s);
        for (const captured& c : t.sent()) CHECK(c.text() == "x");
    }
    CHECK(t.st.connection(s)->stats().segments_sent >= 2);
}

TEST_CASE("config_keepalive_answered_probe_restarts_idle_interval")
{
    // RFC 1122 §4.2.3.6: the idle interval counts from the last segment received; the
    // peer's answer to a probe starts it again, and the probe count resets.
    config cfg = scenario_config();
    cfg.keepalive = true;
    cfg.keepalive_idle = 10s;
    cfg.keepalive_interval = 1s;
    cfg.keepalive_probes = 2;
    scenario t{cfg};
    const socket s = t.establish_active();
    t.advance(10s);
    CHECK(t.expect_one().seq() == t.stack_nxt - 1);
    t.advance(1s);
    CHECK(t.expect_one().seq() == t.stack_nxt - 1);  // second probe: one more and it times out
    t.advance(500ms);
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.poll() == t.time.now() + 10s);
    t.advance(10s);
    CHECK(t.expect_one().seq() == t.stack_nxt - 1);
    CHECK(t.st.state(s) == tcp::state::established);
}

TEST_CASE("config_set_keepalive_turns_probing_on_for_one_socket")
{
    // RFC 1122 §4.2.3.6: keep-alive is chosen per connection; set_keepalive() turns it
    // on where config::keepalive left it off.
    config cfg = scenario_config();
    cfg.keepalive_idle = 60s;
    scenario t{cfg};
    const socket s = t.establish_active();
    CHECK(t.st.poll() == never);
    CHECK_FALSE(t.st.set_keepalive(s, true));
    CHECK(t.st.poll() == t.time.now() + 60s);
    t.advance(60s);
    const captured probe = t.expect_one();
    CHECK(probe.flags() == ACK);
    CHECK(probe.seq() == t.stack_nxt - 1);
    CHECK_FALSE(t.st.set_keepalive(s, false));
    CHECK(t.st.poll() == never);
}

// ---- user_timeout, connect_timeout ----

TEST_CASE("config_user_timeout_aborts_unacknowledged_data_when_it_expires")
{
    // RFC 9293 §3.10.8 USER TIMEOUT: "For any state if the user timeout expires, flush
    // all queues, signal the user 'error: connection aborted due to user timeout'".
    // Retransmissions back off (RFC 6298 §5.5: 0.2, 0.4, 0.8, 1.6, 3.2 s) until then.
    config cfg = scenario_config();
    cfg.user_timeout = 10s;
    scenario t{cfg};
    const socket s = t.establish_active();
    const instant start = t.time.now();
    CHECK(t.send(s, "hello") == 5);
    CHECK(t.expect_one().text() == "hello");
    std::vector<instant> sent_at;
    const instant closed_at = run_until_closed(t, s, sent_at);
    CHECK(closed_at == start + 10s);
    REQUIRE(sent_at.size() == 5);
    CHECK(sent_at[0] == start + 200ms);
    CHECK(sent_at[4] == start + 6200ms);
    CHECK(t.st.error(s) == errc::timed_out);
    CHECK(t.st.error(s) == std::errc::timed_out);
}

TEST_CASE("config_connect_timeout_aborts_unanswered_syn_when_it_expires")
{
    // RFC 1122 §4.2.3.5 (R2 for a SYN) / RFC 9293 §3.10.8: an unanswered SYN is given
    // up after connect_timeout; SYNs go at 0, 1, 3 s (initial_rto, doubled, RFC 6298
    // §5.5) until then, and connect's socket reports errc::timed_out.
    config cfg = scenario_config();
    cfg.connect_timeout = 5s;
    scenario t{cfg};
    const instant start = t.time.now();
    const socket s = t.open_active();
    std::vector<instant> sent_at;
    const instant closed_at = run_until_closed(t, s, sent_at);
    CHECK(closed_at == start + 5s);
    REQUIRE(sent_at.size() == 2);
    CHECK(sent_at[0] == start + 1s);
    CHECK(sent_at[1] == start + 3s);
    CHECK(t.st.error(s) == errc::timed_out);
}

// ---- initial_rto, min_rto, max_rto ----

TEST_CASE("config_initial_rto_times_the_first_syn_retransmission")
{
    // RFC 6298 §2.1: before any RTT sample RTO is the initial value (config::initial_rto,
    // 1 s by default); §5.5: then it doubles.
    config cfg = scenario_config();
    cfg.initial_rto = 3s;
    scenario t{cfg};
    const instant start = t.time.now();
    t.open_active();
    CHECK(t.st.poll() == start + 3s);
    t.advance(3s - 1us);
    t.expect_nothing();
    t.advance(1us);
    const captured syn = t.expect_one();
    CHECK(syn.flags() == SYN);
    CHECK(syn.seq() == t.iss);
    CHECK(t.st.poll() == start + 3s + 6s);
}

TEST_CASE("config_min_rto_bounds_rto_after_a_zero_rtt_sample")
{
    // RFC 6298 §2.4: RTO is rounded up to the minimum (config::min_rto); the handshake's
    // sample of 0 µs gives SRTT + 4 RTTVAR = 1 ms (G), so data waits min_rto.
    config cfg = scenario_config();
    cfg.min_rto = 500ms;
    scenario t{cfg};
    const socket s = t.establish_active();
    CHECK(t.send(s, "hello") == 5);
    t.expect_one();
    t.advance(500ms - 1us);
    t.expect_nothing();
    t.advance(1us);
    const captured again = t.expect_one();
    CHECK(again.seq() == t.stack_nxt);
    CHECK(again.text() == "hello");
}

TEST_CASE("config_max_rto_caps_the_backoff")
{
    // RFC 6298 §2.5: a maximum may be placed on RTO (config::max_rto); the doubling of
    // §5.5 stops there: SYNs at 0, 1, 3, 5, 7 s with max_rto = 2 s.
    config cfg = scenario_config();
    cfg.max_rto = 2s;
    scenario t{cfg};
    const instant start = t.time.now();
    t.open_active();
    std::vector<instant> at;
    for (int i = 0; i < 4; ++i) {
        REQUIRE(t.advance_to_deadline());
        CHECK(t.expect_one().flags() == SYN);
        at.push_back(t.time.now());
    }
    CHECK(at[0] == start + 1s);
    CHECK(at[1] == start + 3s);
    CHECK(at[2] == start + 5s);
    CHECK(at[3] == start + 7s);
}

// ---- mss ----

TEST_CASE("config_mss_default_follows_the_device_mtu")
{
    // RFC 9293 §3.7.1 / RFC 6691: the MSS announced is the MTU less the fixed IPv4 and
    // TCP headers: 1500 - 40 = 1460.
    scenario t;
    std::error_code ec;
    t.st.connect(t.peer_address, t.peer_port, ec);
    REQUIRE_FALSE(ec);
    const captured syn = t.expect_one();
    CHECK(syn.tcp.options.mss == std::optional<std::uint16_t>{1460});
}

TEST_CASE("config_mss_set_is_announced")
{
    // RFC 9293 §3.7.1: a smaller configured MSS is what the SYN announces.
    config cfg = scenario_config();
    cfg.mss = 1000;
    scenario t{cfg};
    std::error_code ec;
    t.st.connect(t.peer_address, t.peer_port, ec);
    const captured syn = t.expect_one();
    CHECK(syn.tcp.options.mss == std::optional<std::uint16_t>{1000});
}

TEST_CASE("config_mss_above_the_mtu_is_clamped_to_it")
{
    // RFC 9293 §3.7.1 (MUST-67 ...): never announce more than the interface can carry.
    config cfg = scenario_config();
    cfg.mss = 9000;
    scenario t{cfg};
    std::error_code ec;
    t.st.connect(t.peer_address, t.peer_port, ec);
    const captured syn = t.expect_one();
    CHECK(syn.tcp.options.mss == std::optional<std::uint16_t>{1460});
    CHECK(t.st.configuration().mss == 1460);
}

TEST_CASE("config_mss_default_on_a_576_byte_mtu_is_536")
{
    // RFC 9293 §3.7.1 / RFC 6691: MTU 576 (the IPv4 minimum reassembly size) - 40 = 536.
    clocks::manual_timeline time;
    probe_device dev;
    dev.mtu_ = 576;
    stack<probe_device&, clocks::manual> st{dev, clocks::manual{time}, scenario_config()};
    std::error_code ec;
    st.connect(wire::ipv4_address{10, 0, 0, 2}, 80, ec);
    REQUIRE_FALSE(ec);
    st.poll();
    REQUIRE(dev.outbox.size() == 1);
    const captured syn = scenario::parse(dev.outbox.front());
    CHECK(syn.tcp.options.mss == std::optional<std::uint16_t>{536});
}

TEST_CASE("config_mss_limits_data_segments_to_the_smaller_of_both_mss")
{
    // RFC 9293 §3.7.1 (MUST-16): segments carry at most the peer's MSS; RFC 6691 and
    // tcpx's choice: and at most our own (config::mss = 1000, peer 1460).
    config cfg = scenario_config();
    cfg.mss = 1000;
    scenario t{cfg};
    const socket s = establish_active_with(t, 1460);
    CHECK(t.st.connection(s)->send_mss() == 1000);
    const auto out = send_and_capture(t, s, 2000);
    REQUIRE(out.size() == 2);
    CHECK(out[0].payload.size() == 1000);
    CHECK(out[1].payload.size() == 1000);
    CHECK(out[1].seq() == t.stack_nxt + 1000);
}

TEST_CASE("config_mss_peer_smaller_mss_limits_data_segments")
{
    // RFC 9293 §3.7.1: the peer's announced MSS bounds what we send.
    scenario t;
    const socket s = establish_active_with(t, 500);
    CHECK(t.st.connection(s)->send_mss() == 500);
    const auto out = send_and_capture(t, s, 1000);
    REQUIRE(out.size() == 2);
    CHECK(out[0].payload.size() == 500);
    CHECK(out[1].payload.size() == 500);
}

// ---- receive_buffer, send_buffer ----

TEST_CASE("config_receive_buffer_is_the_advertised_window")
{
    // RFC 9293 §3.8.6: the window offered is the receive buffer's free space:
    // config::receive_buffer before any data, less what is unread after.
    config cfg = scenario_config();
    cfg.receive_buffer = 10000;
    scenario t{cfg};
    t.open_active();
    t.inject(t.segment(SYN | ACK, t.peer_iss, t.stack_nxt));
    t.peer_nxt = t.peer_iss + 1;
    const captured ack = t.expect_one();
    CHECK(ack.window() == 10000);
    t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt), filler(4000));
    t.advance(cfg.delayed_ack);
    const captured ack2 = t.expect_one();
    CHECK(ack2.ack() == t.peer_nxt + 4000);
    CHECK(ack2.window() == 6000);
}

TEST_CASE("config_receive_buffer_in_syn_window")
{
    // RFC 9293 §3.10.1 / RFC 7323 §2.2: the SYN's window (never scaled) offers the
    // receive buffer, up to 65535.
    config cfg = scenario_config();
    cfg.receive_buffer = 10000;
    scenario t{cfg};
    std::error_code ec;
    t.st.connect(t.peer_address, t.peer_port, ec);
    CHECK(t.expect_one().window() == 10000);
}

TEST_CASE("config_send_buffer_bounds_what_send_takes")
{
    // RFC 9293 §3.10.2: SEND queues what fits in the send buffer (config::send_buffer:
    // unacknowledged plus unsent bytes); the rest is refused until ACKs free room.
    config cfg = scenario_config();
    cfg.send_buffer = 1000;
    cfg.nodelay = true;
    scenario t{cfg};
    const socket s = t.establish_active();
    std::error_code ec;
    CHECK(send_ec(t, s, filler(3000), ec) == 1000);
    CHECK_FALSE(ec);
    CHECK(send_ec(t, s, "more", ec) == 0);
    CHECK(ec == errc::would_block);
    CHECK_FALSE(t.st.writable(s));
    const auto out = t.sent();
    REQUIRE(out.size() == 2);
    CHECK(out[0].payload.size() == 536);
    CHECK(out[1].payload.size() == 464);
    t.inject(t.peer_ack(t.stack_nxt + 536));
    CHECK(t.st.writable(s));
    CHECK(send_ec(t, s, filler(3000), ec) == 536);
}

// ---- window_scaling ----

TEST_CASE("config_window_scaling_on_offers_shift_for_the_receive_buffer")
{
    // RFC 7323 §2.2, §2.3: the SYN carries the shift that lets the 16-bit field cover
    // the receive buffer (1 MiB: 5), its window unscaled (65535); once the peer offers
    // scaling too, windows are sent shifted (1 MiB >> 5 = 32768).
    config cfg = scenario_config();
    cfg.window_scaling = true;
    cfg.receive_buffer = 1 << 20;
    scenario t{cfg};
    const socket s = t.open_active();
    // open_active() consumed the SYN; look at the connection's view of it instead.
    CHECK(t.st.connection(s)->rcv().scale == 5);
    auto synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
    synack.options.window_scale = 2;
    t.inject(synack);
    t.peer_nxt = t.peer_iss + 1;
    const captured ack = t.expect_one();
    CHECK(ack.window() == 32768);
    // The peer's windows are shifted by its own offer (2) from now on.
    t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt) /* window 65535 */);
    CHECK(t.st.connection(s)->snd().wnd == 65535u << 2);
}

TEST_CASE("config_window_scaling_on_syn_carries_the_option")
{
    // RFC 7323 §2.2: "a TCP ... MAY send the Window Scale option in an initial <SYN>".
    config cfg = scenario_config();
    cfg.window_scaling = true;
    cfg.receive_buffer = 1 << 20;
    scenario t{cfg};
    std::error_code ec;
    t.st.connect(t.peer_address, t.peer_port, ec);
    const captured syn = t.expect_one();
    CHECK(syn.tcp.options.window_scale == std::optional<std::uint8_t>{5});
    CHECK(syn.window() == 65535);
}

TEST_CASE("config_window_scaling_off_sends_no_option_and_caps_window")
{
    // RFC 7323 §2.2: without the option neither side scales; the window field is
    // capped at 65535 whatever the buffer.
    config cfg = scenario_config();
    cfg.window_scaling = false;
    cfg.receive_buffer = 1 << 20;
    scenario t{cfg};
    std::error_code ec;
    t.st.connect(t.peer_address, t.peer_port, ec);
    const captured syn = t.expect_one();
    CHECK_FALSE(syn.tcp.options.window_scale.has_value());
    CHECK(syn.window() == 65535);
}

TEST_CASE("config_window_scaling_not_offered_by_peer_is_not_used")
{
    // RFC 7323 §2.2: scaling is on only if both SYNs carried the option; otherwise
    // both shifts are 0 and our window is capped at 65535.
    config cfg = scenario_config();
    cfg.window_scaling = true;
    cfg.receive_buffer = 1 << 20;
    scenario t{cfg};
    const socket s = establish_active_with(t, 1460);  // no window scale option
    CHECK(t.st.connection(s)->rcv().scale == 0);
    CHECK(t.st.connection(s)->snd().scale == 0);
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "x");
    t.advance(cfg.delayed_ack);
    // The handshake offered 65535, unscaled; the right edge stays there (RFC 9293
    // §3.8.6.2.2), one byte of it now used.
    CHECK(t.expect_one().window() == 65534);
}

// ---- initial_window_segments ----

TEST_CASE("config_initial_window_default_is_rfc6928_ten_segments")
{
    // RFC 6928, as Linux: a stack made from a default config sends ten segments first.
    CHECK(config{}.initial_window_segments == 10);
}

TEST_CASE("config_initial_window_segments_0_is_rfc5681_three_segments_of_1460")
{
    // RFC 5681 §3.1 eq. 1: for 1095 < SMSS <= 2190, IW = 3 * SMSS; so the first flight
    // is three full segments (the scenario fixture's config asks for this rule).
    scenario t;
    REQUIRE(t.st.configuration().initial_window_segments == 0);
    const socket s = establish_active_with(t, 1460);
    const auto out = send_and_capture(t, s, 20000);
    REQUIRE(out.size() == 3);
    for (const auto& seg : out) CHECK(seg.payload.size() == 1460);
}

TEST_CASE("config_initial_window_segments_10_sends_ten_segments_first")
{
    // RFC 6928 §2: IW = min(10 * MSS, max(2 * MSS, 14600)); config::initial_window_segments = 10.
    config cfg = scenario_config();
    cfg.initial_window_segments = 10;
    scenario t{cfg};
    const socket s = establish_active_with(t, 1460);
    const auto out = send_and_capture(t, s, 20000);
    REQUIRE(out.size() == 10);
    for (std::size_t i = 0; i < out.size(); ++i) {
        CHECK(out[i].payload.size() == 1460);
        CHECK(out[i].seq() == t.stack_nxt + static_cast<std::uint32_t>(i * 1460));
    }
}

// ---- ephemeral ports ----

TEST_CASE("config_ephemeral_range_bounds_connect_ports_and_refuses_when_used_up")
{
    // RFC 6056 §2.1, §3.3: connect() picks its local port in the configured range and
    // never a port whose 4-tuple is live; when all are, errc::address_in_use.
    config cfg = scenario_config();
    cfg.ephemeral_port_first = 50000;
    cfg.ephemeral_port_last = 50002;
    scenario t{cfg};
    std::set<std::uint16_t> ports;
    for (int i = 0; i < 3; ++i) {
        std::error_code ec;
        t.st.connect(t.peer_address, 80, ec);
        REQUIRE_FALSE(ec);
        const captured syn = t.expect_one();
        CHECK(syn.tcp.source_port >= 50000);
        CHECK(syn.tcp.source_port <= 50002);
        ports.insert(syn.tcp.source_port);
    }
    CHECK(ports.size() == 3);
    std::error_code ec;
    const socket none = t.st.connect(t.peer_address, 80, ec);
    CHECK(ec == errc::address_in_use);
    CHECK(ec == std::errc::address_in_use);
    CHECK_FALSE(none.valid());
    t.expect_nothing();
}

TEST_CASE("config_ephemeral_port_search_starts_at_a_hash_of_the_destination")
{
    // RFC 6056 §3.3.3: port = min + (F(local IP, remote IP, remote port, secret) +
    // next_ephemeral) % span, next_ephemeral advancing with every try. Two connections
    // to one destination are as far apart as the tries between them; one to another
    // destination starts elsewhere, so a peer cannot read off the ports others get.
    config cfg = scenario_config();
    cfg.ephemeral_port_first = 40000;
    cfg.ephemeral_port_last = 49999;
    scenario t{cfg};
    auto port_to = [&](wire::ipv4_address a, std::uint16_t p) {
        std::error_code ec;
        (void)t.st.connect(a, p, ec);
        REQUIRE_FALSE(ec);
        return t.expect_one().tcp.source_port;
    };
    const wire::ipv4_address other{10, 0, 0, 77};
    const std::uint16_t first = port_to(t.peer_address, 80);
    const std::uint16_t elsewhere = port_to(other, 80);
    const std::uint16_t again = port_to(t.peer_address, 80);
    CHECK((again - 40000) == (first - 40000 + 2) % 10000);
    CHECK((elsewhere - 40000) != (first - 40000 + 1) % 10000);
    CHECK(port_to(t.peer_address, 81) != (first - 40000 + 3) % 10000 + 40000);  // the port is in F too
}

TEST_CASE("config_ephemeral_port_is_reused_only_for_a_different_4_tuple")
{
    // RFC 6056 §2.1: what must be unique is the 4-tuple. With one port in the range,
    // a second connection to another remote port may share it, one to the same may
    // not — until the first connection is gone.
    config cfg = scenario_config();
    cfg.ephemeral_port_first = 50000;
    cfg.ephemeral_port_last = 50000;
    scenario t{cfg};
    std::error_code ec;
    const socket a = t.st.connect(t.peer_address, 80, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.expect_one().tcp.source_port == 50000);
    t.st.connect(t.peer_address, 81, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.expect_one().tcp.source_port == 50000);
    t.st.connect(t.peer_address, 80, ec);
    CHECK(ec == errc::address_in_use);
    CHECK_FALSE(t.st.abort(a));  // SYN-SENT: no reset (RFC 9293 §3.10.5)
    t.st.connect(t.peer_address, 80, ec);
    CHECK_FALSE(ec);
    CHECK(t.expect_one().tcp.source_port == 50000);
}

TEST_CASE("config_ephemeral_port_in_time_wait_is_not_reused")
{
    // RFC 9293 §3.4.2 / RFC 6056 §2.1: a 4-tuple in TIME-WAIT is live; connect() may not
    // reuse it until 2 MSL have passed.
    config cfg = scenario_config();
    cfg.ephemeral_port_first = 50000;
    cfg.ephemeral_port_last = 50000;
    cfg.msl = 1s;
    scenario t{cfg};
    const socket s = t.establish_then_time_wait();
    CHECK(t.local_port == 50000);
    CHECK_FALSE(t.st.close(s));
    std::error_code ec;
    t.st.connect(t.peer_address, t.peer_port, ec);
    CHECK(ec == errc::address_in_use);
    t.advance(2s);
    CHECK(t.st.connection_count() == 0);
    t.st.connect(t.peer_address, t.peer_port, ec);
    CHECK_FALSE(ec);
    CHECK(t.expect_one().tcp.source_port == 50000);
}

// ---- limits ----

TEST_CASE("config_max_connections_refuses_connect_at_the_limit")
{
    // DESIGN.md "everything bounded": at config::max_connections connect() fails
    // cleanly with errc::no_buffer_space, counted as drop_reason::connection_limit.
    config cfg = scenario_config();
    cfg.max_connections = 2;
    scenario t{cfg};
    std::error_code ec;
    t.st.connect(t.peer_address, 80, ec);
    REQUIRE_FALSE(ec);
    t.st.connect(t.peer_address, 81, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.sent().size() == 2);
    const socket third = t.st.connect(t.peer_address, 82, ec);
    CHECK(ec == errc::no_buffer_space);
    CHECK(ec == std::errc::no_buffer_space);
    CHECK_FALSE(third.valid());
    CHECK(t.st.counters().dropped(drop_reason::connection_limit) == 1);
    CHECK(t.st.connection_count() == 2);
    t.expect_nothing();
}

TEST_CASE("config_max_connections_drops_syn_at_the_limit")
{
    // DESIGN.md "everything bounded": a SYN for a listener when the table is full is
    // dropped (the peer retries), counted as drop_reason::connection_limit. (TIME-WAIT
    // has a bound of its own: state_time_wait.cpp.)
    config cfg = scenario_config();
    cfg.max_connections = 1;
    scenario t{cfg};
    (void)t.establish_active();
    std::error_code ec;
    t.st.listen(8080, 4, ec);
    REQUIRE_FALSE(ec);
    t.local_port = 8080;
    t.inject(t.segment(SYN, seq32{5000}));
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::connection_limit) == 1);
    CHECK(t.st.connection_count() == 1);
}

TEST_CASE("config_max_half_open_drops_syn_beyond_it")
{
    // RFC 4987 §3 (SYN flooding) / DESIGN.md bounds: at config::max_half_open
    // connections in SYN-RECEIVED and with SYN cookies off, further SYNs are dropped and
    // counted; once one completes, a SYN is taken again.
    config cfg = scenario_config();
    cfg.max_half_open = 1;
    cfg.syn_cookies = syn_cookie_mode::never;
    scenario t{cfg};
    t.open_passive();
    const std::uint16_t first_port = t.peer_port;
    t.peer_port = 40001;
    t.inject(t.segment(SYN, seq32{7000}));
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::half_open_limit) == 1);
    t.peer_port = first_port;
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    t.peer_port = 40001;
    t.inject(t.segment(SYN, seq32{7000}));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == seq32{7001});
}

TEST_CASE("config_max_listen_backlog_caps_the_accept_queue")
{
    // RFC 9293 §3.10.1 leaves queueing to the implementation; tcpx caps listen()'s
    // backlog at config::max_listen_backlog, and a SYN for a full queue is dropped
    // (the peer retries, as with Linux) when SYN cookies are off, counted.
    config cfg = scenario_config();
    cfg.max_listen_backlog = 1;
    cfg.syn_cookies = syn_cookie_mode::never;
    scenario t{cfg};
    t.open_passive(8);  // asks for 8, gets 1
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();  // queued, not accepted
    t.peer_port = 40001;
    t.inject(t.segment(SYN, seq32{7000}));
    t.expect_nothing();
    CHECK(t.st.counters().accept_queue_overflows == 1);
    CHECK(t.st.counters().dropped(drop_reason::listen_queue_full) == 1);
}

TEST_CASE("config_persist_timeout_times_the_first_zero_window_probe")
{
    // RFC 9293 §3.8.6.1 (MUST-36): with data queued behind a zero window, probe after
    // the persist interval: the larger of RTO and config::persist_timeout. The probe
    // is one byte of new data.
    config cfg = scenario_config();
    cfg.persist_timeout = 1s;
    scenario t{cfg};
    t.peer_window = 0;
    const socket s = t.establish_active();
    CHECK(t.send(s, "hello") == 5);
    t.expect_nothing();
    CHECK(t.st.poll() == t.time.now() + 1s);
    t.advance(1s);
    const captured probe = t.expect_one();
    CHECK(probe.seq() == t.stack_nxt);
    CHECK(probe.text() == "h");
}

TEST_CASE("config_max_packets_per_poll_bounds_one_poll")
{
    // DESIGN.md "everything bounded": one poll() takes at most max_packets_per_poll
    // packets and then returns "now" so the caller comes back at once.
    config cfg = scenario_config();
    cfg.max_packets_per_poll = 2;
    scenario t{cfg};
    t.establish_active();
    const std::uint64_t before = t.st.counters().packets_received;
    for (int i = 0; i < 3; ++i)
        t.dev.inbox.push_back(t.build(t.segment(ACK | PSH, t.peer_nxt + static_cast<std::uint32_t>(i), t.stack_nxt),
                                      std::string(1, static_cast<char>('a' + i))));
    CHECK(t.st.poll() == t.time.now());
    CHECK(t.st.counters().packets_received == before + 2);
    t.st.poll();
    CHECK(t.st.counters().packets_received == before + 3);
}

TEST_CASE("config_buffers_beyond_the_largest_window_are_held_to_it")
{
    // RFC 7323 §2.3: windows reach 2^30 at most (shift 14), and sequence comparisons need
    // less than 2^31 between SND.UNA and the last byte queued: a 4 GiB send buffer would
    // take bytes that could never go out right. The stack holds both buffers to 2^30.
    config c = scenario_config();
    c.send_buffer = std::size_t{4} << 30;
    c.receive_buffer = std::size_t{3} << 30;
    c.window_scaling = true;
    scenario t{c};
    CHECK(t.st.configuration().send_buffer == config::max_buffer);
    CHECK(t.st.configuration().receive_buffer == config::max_buffer);
    std::error_code ec;
    (void)t.st.listen(t.local_port, 8, ec);
    REQUIRE_FALSE(ec);
    wire::tcp_header syn = t.segment(SYN, t.peer_iss);
    syn.options.window_scale = 14;
    t.inject(syn);
    const captured synack = t.expect_one();
    REQUIRE(synack.tcp.options.window_scale);
    CHECK(*synack.tcp.options.window_scale <= 14);
}
