// RFC 7323 as a scenario: the Timestamps option in the handshake (§3.2), on every
// segment after it (§3.2, §4.3), PAWS (§5.3) with the 24-day idle rule (§5.5), TS.Recent
// by Last.ACK.sent (§4.3), RTTM from TSecr (§4), and segment sizes less the option (§3.2
// with RFC 6691). The peer is the test; its timestamp clock is whatever the test says.
#include <tcpx/stack.hpp>
#include <doctest/doctest.h>

#include "support/scenario.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using namespace tcpx;
using namespace tcpx::test;

namespace {

using wire::timestamps;

struct ts_open {
    bool peer_offers_ts = true;
    bool peer_offers_sack = false;
    std::uint16_t peer_mss = 1460;
    std::uint32_t peer_tsval = 1000;  ///< the TSval in the peer's SYN
};

/// A header from the peer carrying TSopt {tsval, tsecr}.
wire::tcp_header stamped(const scenario& t, tcp_flags flags, seq32 seq, seq32 ack, std::uint32_t tsval,
                         std::uint32_t tsecr)
{
    wire::tcp_header h = t.segment(flags, seq, ack);
    h.options.timestamp = timestamps{tsval, tsecr};
    return h;
}

/// Passive open to ESTABLISHED; the peer's SYN carries TSopt (and SACK-permitted) as
/// asked, and its ACK of our SYN,ACK echoes our TSval. Returns the SYN,ACK in `synack`.
socket establish_passive_ts(scenario& t, ts_open o, captured* synack_out = nullptr)
{
    std::error_code ec;
    const listener l = t.st.listen(t.local_port, 8, ec);
    REQUIRE_FALSE(ec);
    wire::tcp_header syn = t.segment(SYN, t.peer_iss);
    syn.options.mss = o.peer_mss;
    syn.options.sack_permitted = o.peer_offers_sack;
    if (o.peer_offers_ts) syn.options.timestamp = timestamps{o.peer_tsval, 0};
    t.inject(syn);
    t.peer_nxt = t.peer_iss + 1;
    const captured synack = t.expect_one();
    REQUIRE(synack.flags() == (SYN | ACK));
    t.iss = synack.seq();
    t.stack_nxt = t.iss + 1;
    wire::tcp_header ack = t.peer_ack(t.stack_nxt);
    if (synack.tcp.options.timestamp) ack.options.timestamp = timestamps{o.peer_tsval, synack.tcp.options.timestamp->tsval};
    t.inject(ack);
    t.expect_nothing();
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(t.st.state(s) == tcp::state::established);
    if (synack_out != nullptr) *synack_out = synack;
    return s;
}

const scenario::stack_type::connection_type& conn(scenario& t, socket s)
{
    const auto* c = t.st.connection(s);
    REQUIRE(c != nullptr);
    return *c;
}

std::uint32_t our_clock(scenario& t, socket s) { return conn(t, s).ts_clock(t.time.now()); }

/// The peer's data at peer_nxt, stamped; peer_nxt moves past it.
void peer_data(scenario& t, std::string_view text, std::uint32_t tsval, std::uint32_t tsecr)
{
    t.inject(stamped(t, ACK | PSH, t.peer_nxt, t.stack_nxt, tsval, tsecr), text);
    t.peer_nxt = t.peer_nxt + static_cast<std::uint32_t>(text.size());
}

}  // namespace

// ---------------------------------------------------------------------------------
// 1. The handshake (RFC 7323 §3.2)
// ---------------------------------------------------------------------------------

TEST_CASE("syn_sent_offers_timestamps_with_zero_echo_and_none_when_off")
{
    // §3.2: "TSopt ... MAY be sent in an initial <SYN> segment"; its TSecr "MUST be zero"
    // there (nothing to echo yet) — "the TSecr field is valid only if the ACK bit is set".
    {
        scenario t;
        std::error_code ec;
        const socket s = t.st.connect(t.peer_address, t.peer_port, ec);
        REQUIRE_FALSE(ec);
        const captured syn = t.expect_one();
        REQUIRE(syn.flags() == SYN);
        REQUIRE(syn.tcp.options.timestamp.has_value());
        CHECK(syn.tcp.options.timestamp->tsecr == 0);
        CHECK(syn.tcp.options.timestamp->tsval == our_clock(t, s));
    }
    {
        config cfg = scenario_config();
        cfg.timestamps = false;
        scenario t{cfg};
        std::error_code ec;
        (void)t.st.connect(t.peer_address, t.peer_port, ec);
        REQUIRE_FALSE(ec);
        const captured syn = t.expect_one();
        REQUIRE(syn.flags() == SYN);
        CHECK_FALSE(syn.tcp.options.timestamp.has_value());
    }
}

TEST_CASE("listen_syn_with_timestamps_is_answered_echoing_its_tsval_and_without_is_not")
{
    // §3.2: "a TCP MAY send the TSopt in a <SYN,ACK> only if it received a TSopt in the
    // initial <SYN>", and its TSecr echoes that SYN's TSval (§4.3: TS.Recent starts there).
    for (const bool offers : {true, false}) {
        CAPTURE(offers);
        scenario t;
        captured synack;
        const socket s = establish_passive_ts(t, ts_open{.peer_offers_ts = offers, .peer_tsval = 777'000}, &synack);
        CHECK(synack.tcp.options.timestamp.has_value() == offers);
        if (offers && synack.tcp.options.timestamp) {
            CHECK(synack.tcp.options.timestamp->tsecr == 777'000);
            CHECK(synack.tcp.options.timestamp->tsval == our_clock(t, s));
        }
        CHECK(conn(t, s).timestamps_on() == offers);
        CHECK(t.st.info(s).timestamps == offers);
    }
    // Timestamps off in our config: a peer's TSopt is not answered, and none is used.
    config cfg = scenario_config();
    cfg.timestamps = false;
    scenario u{cfg};
    captured synack;
    const socket s = establish_passive_ts(u, ts_open{}, &synack);
    CHECK_FALSE(synack.tcp.options.timestamp.has_value());
    CHECK_FALSE(conn(u, s).timestamps_on());
    REQUIRE(u.send(s, "x") == 1);
    CHECK_FALSE(u.expect_one().tcp.options.timestamp.has_value());
}

TEST_CASE("syn_sent_timestamps_are_on_only_when_the_syn_ack_carries_them")
{
    // §3.2: negotiated only if both <SYN> and <SYN,ACK> carry TSopt. The ACK completing
    // the handshake echoes the SYN,ACK's TSval.
    for (const bool answers : {true, false}) {
        CAPTURE(answers);
        scenario t;
        const socket s = t.open_active();
        wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
        if (answers) synack.options.timestamp = timestamps{4242, our_clock(t, s)};
        t.inject(synack);
        t.peer_nxt = t.peer_iss + 1;
        const captured ack = t.expect_one();
        REQUIRE(ack.flags() == ACK);
        CHECK(conn(t, s).timestamps_on() == answers);
        CHECK(ack.tcp.options.timestamp.has_value() == answers);
        if (answers && ack.tcp.options.timestamp) CHECK(ack.tcp.options.timestamp->tsecr == 4242);
    }
}

// ---------------------------------------------------------------------------------
// 2. Every segment after the handshake (§3.2, §4.3)
// ---------------------------------------------------------------------------------

TEST_CASE("established_every_non_rst_segment_carries_timestamps_echoing_ts_recent")
{
    // §3.2: "Once TSopt has been successfully negotiated ... the TSopt MUST be sent in
    // every non-<RST> segment for the duration of the connection"; §4.3: its TSecr is
    // TS.Recent, and TSval is our clock at sending (§5.4: monotone, here 1 ms ticks).
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_offers_sack = true, .peer_tsval = 1000});

    // A delayed ACK of the peer's data echoes that data's TSval.
    t.advance(std::chrono::milliseconds{7});
    peer_data(t, "ping", 1010, our_clock(t, s));
    t.advance(std::chrono::milliseconds{40});
    const captured ack = t.expect_one();
    REQUIRE(ack.flags() == ACK);
    REQUIRE(ack.tcp.options.timestamp.has_value());
    CHECK(ack.tcp.options.timestamp->tsecr == 1010);
    CHECK(ack.tcp.options.timestamp->tsval == our_clock(t, s));
    CHECK(conn(t, s).ts_recent() == 1010);

    // Our data.
    t.advance(std::chrono::milliseconds{5});
    REQUIRE(t.send(s, "pong") == 4);
    const captured data = t.expect_one();
    REQUIRE(data.text() == "pong");
    REQUIRE(data.tcp.options.timestamp.has_value());
    CHECK(data.tcp.options.timestamp->tsecr == 1010);
    CHECK(data.tcp.options.timestamp->tsval == our_clock(t, s));
    CHECK(data.tcp.options.timestamp->tsval - ack.tcp.options.timestamp->tsval == 5);  // 1 ms ticks
    t.inject(stamped(t, ACK, t.peer_nxt, t.stack_nxt + 4, 1011, data.tcp.options.timestamp->tsval));
    t.stack_nxt = t.stack_nxt + 4;
    t.expect_nothing();

    // An out-of-order segment's immediate ACK, with its SACK block beside the TSopt.
    t.inject(stamped(t, ACK, t.peer_nxt + 100, t.stack_nxt, 1013, our_clock(t, s)), "later");
    const captured dup = t.expect_one();
    REQUIRE(dup.tcp.options.timestamp.has_value());
    CHECK(dup.tcp.options.timestamp->tsecr == conn(t, s).ts_recent());
    CHECK(dup.tcp.options.sack_count == 1);

    // Our FIN.
    REQUIRE_FALSE(t.st.shutdown(s));
    const captured fin = t.expect_one();
    REQUIRE(fin.has(FIN));
    REQUIRE(fin.tcp.options.timestamp.has_value());
    CHECK(fin.tcp.options.timestamp->tsecr == conn(t, s).ts_recent());

    // info(): both options in use, shown as ss -ti does.
    const tcp::connection_info i = t.st.info(s);
    CHECK(i.timestamps);
    CHECK(i.sack);
    CHECK(tcp::to_string(i).find(" ts sack") != std::string::npos);
}

// ---------------------------------------------------------------------------------
// 3. PAWS (§5.3 R1)
// ---------------------------------------------------------------------------------

TEST_CASE("established_old_timestamp_is_dropped_by_paws_and_acked")
{
    // §5.3 R1: "If there is a Timestamps option in the arriving segment, SEG.TSval <
    // TS.Recent, TS.Recent is valid, and the RST bit is not set, then treat the arriving
    // segment as not acceptable: Send an acknowledgment in reply as specified in
    // Section 3.9 of [RFC793] ... and drop the segment."
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_tsval = 1000});
    peer_data(t, "abc", 1010, our_clock(t, s));
    t.advance(std::chrono::milliseconds{40});
    REQUIRE(t.expect_one().ack() == t.peer_nxt);
    REQUIRE(conn(t, s).ts_recent() == 1010);

    // In sequence, in the window, but stamped before TS.Recent: an old duplicate.
    t.advance(std::chrono::milliseconds{300});
    t.inject(stamped(t, ACK | PSH, t.peer_nxt, t.stack_nxt, 1005, our_clock(t, s)), "def");
    const captured reply = t.expect_one();
    CHECK(reply.flags() == ACK);
    CHECK(reply.ack() == t.peer_nxt);  // "def" not taken
    REQUIRE(reply.tcp.options.timestamp.has_value());
    CHECK(reply.tcp.options.timestamp->tsecr == 1010);  // TS.Recent unchanged
    CHECK(conn(t, s).ts_recent() == 1010);
    CHECK(conn(t, s).stats().paws_rejected == 1);
    CHECK(t.st.info(s).paws_rejected == 1);
    CHECK(t.receive(s) == "abc");

    // The same data with a current timestamp is taken.
    t.inject(stamped(t, ACK | PSH, t.peer_nxt, t.stack_nxt, 1020, our_clock(t, s)), "def");
    t.peer_nxt = t.peer_nxt + 3;
    CHECK(t.receive(s) == "def");
    CHECK(conn(t, s).stats().paws_rejected == 1);
}

TEST_CASE("established_rst_with_old_timestamp_is_not_dropped_by_paws")
{
    // §5.3 R1 applies only when "the RST bit is not set": an old TSval on a reset (at
    // RCV.NXT) still resets the connection.
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_tsval = 1000});
    peer_data(t, "abc", 1010, our_clock(t, s));
    t.advance(std::chrono::milliseconds{40});
    (void)t.sent();
    REQUIRE(conn(t, s).ts_recent() == 1010);
    t.inject(stamped(t, RST, t.peer_nxt, seq32{0}, 900, 0));
    CHECK(t.st.state(s) == tcp::state::closed);
    if (const auto* c = t.st.connection(s)) CHECK(c->stats().paws_rejected == 0);
    t.expect_nothing();
}

// ---------------------------------------------------------------------------------
// 4. Outdated timestamps (§5.5)
// ---------------------------------------------------------------------------------

TEST_CASE("established_old_timestamp_after_24_days_idle_is_accepted_and_becomes_ts_recent")
{
    // §5.5: an implementation "must include a mechanism to 'invalidate' the TS.Recent
    // value when a connection is idle for more than 24 days ... If TS.Recent is found to
    // be invalid, then the segment is accepted, regardless of the failure of the
    // timestamp check, and rule R3 updates TS.Recent with the TSval from the new
    // segment." (The peer's clock may have wrapped its sign bit meanwhile.)
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_tsval = 1000});
    peer_data(t, "abc", 1010, our_clock(t, s));
    t.advance(std::chrono::milliseconds{40});
    (void)t.sent();
    REQUIRE(conn(t, s).ts_recent() == 1010);

    // 23 days idle: TS.Recent is still valid, the old TSval is still rejected.
    t.advance(std::chrono::hours{23 * 24});
    (void)t.sent();
    t.inject(stamped(t, ACK | PSH, t.peer_nxt, t.stack_nxt, 1005, our_clock(t, s)), "xyz");
    (void)t.sent();
    CHECK(conn(t, s).stats().paws_rejected == 1);
    CHECK(t.receive(s) == "abc");

    // Two more days (25 since TS.Recent was set): accepted.
    t.advance(std::chrono::hours{2 * 24});
    (void)t.sent();
    t.inject(stamped(t, ACK | PSH, t.peer_nxt, t.stack_nxt, 1005, our_clock(t, s)), "xyz");
    t.peer_nxt = t.peer_nxt + 3;
    CHECK(conn(t, s).stats().paws_rejected == 1);
    CHECK(t.receive(s) == "xyz");
    // R3: TS.Recent is now the new segment's TSval, and our ACK echoes it.
    t.advance(std::chrono::milliseconds{40});
    const captured ack = t.expect_one();
    CHECK(ack.ack() == t.peer_nxt);
    REQUIRE(ack.tcp.options.timestamp.has_value());
    CHECK(ack.tcp.options.timestamp->tsecr == 1005);
    CHECK(conn(t, s).ts_recent() == 1005);
    // And the next segment, a tick later on the peer's clock, passes PAWS.
    t.inject(stamped(t, ACK | PSH, t.peer_nxt, t.stack_nxt, 1006, our_clock(t, s)), "!");
    t.peer_nxt = t.peer_nxt + 1;
    CHECK(t.receive(s) == "!");
    CHECK(conn(t, s).stats().paws_rejected == 1);
}

// ---------------------------------------------------------------------------------
// 5. Which TSval TS.Recent takes (§4.3)
// ---------------------------------------------------------------------------------

TEST_CASE("established_delayed_ack_echoes_the_first_segment_it_acknowledges")
{
    // §4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent, then SEG.TSval
    // is copied to TS.Recent; otherwise, it is ignored." Case (A): with delayed ACKs the
    // ACK for two segments echoes the earlier one's TSval, so the peer's RTT includes the
    // delay.
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_tsval = 1000});
    const std::uint32_t echo = our_clock(t, s);
    peer_data(t, "first", 2001, echo);
    peer_data(t, "second", 2002, echo);
    t.expect_nothing();  // both small: the ACK waits (RFC 1122 §4.2.3.2)
    CHECK(conn(t, s).ts_recent() == 2001);
    t.advance(std::chrono::milliseconds{40});
    const captured ack = t.expect_one();
    CHECK(ack.ack() == t.peer_nxt);
    REQUIRE(ack.tcp.options.timestamp.has_value());
    CHECK(ack.tcp.options.timestamp->tsecr == 2001);
}

TEST_CASE("established_out_of_order_segment_does_not_update_ts_recent")
{
    // §4.3 case (B): for an out-of-order segment (beyond RCV.NXT, so beyond
    // Last.ACK.sent) TS.Recent stays; the immediate ACK echoes the last in-order one.
    // Case (C): the segment that fills the hole sets it.
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_tsval = 1000});
    const std::uint32_t echo = our_clock(t, s);
    peer_data(t, "aaaa", 3001, echo);
    t.advance(std::chrono::milliseconds{40});
    REQUIRE(t.expect_one().tcp.options.timestamp->tsecr == 3001);

    t.inject(stamped(t, ACK | PSH, t.peer_nxt + 4, t.stack_nxt, 3003, echo), "cccc");
    const captured ooo = t.expect_one();
    CHECK(ooo.ack() == t.peer_nxt);
    REQUIRE(ooo.tcp.options.timestamp.has_value());
    CHECK(ooo.tcp.options.timestamp->tsecr == 3001);
    CHECK(conn(t, s).ts_recent() == 3001);

    t.inject(stamped(t, ACK | PSH, t.peer_nxt, t.stack_nxt, 3004, echo), "bbbb");
    t.peer_nxt = t.peer_nxt + 8;
    const captured filled = t.expect_one();
    CHECK(filled.ack() == t.peer_nxt);
    REQUIRE(filled.tcp.options.timestamp.has_value());
    CHECK(filled.tcp.options.timestamp->tsecr == 3004);
    CHECK(t.receive(s) == "aaaabbbbcccc");
}

// ---------------------------------------------------------------------------------
// 6. A segment without TSopt (§3.2)
// ---------------------------------------------------------------------------------

TEST_CASE("established_segment_without_timestamps_is_dropped_silently")
{
    // §3.2: "If a non-<RST> segment is received without a TSopt, a TCP SHOULD silently
    // drop the segment." A reset without one is still a reset.
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_tsval = 1000});
    t.inject(t.segment(ACK | PSH, t.peer_nxt, t.stack_nxt), "bare");
    t.advance(std::chrono::milliseconds{100});
    t.expect_nothing();
    CHECK(t.receive(s).empty());
    CHECK(conn(t, s).stats().timestamp_missing == 1);
    CHECK(t.st.info(s).timestamp_missing == 1);
    CHECK(conn(t, s).rcv().nxt == t.peer_nxt);

    t.inject(t.segment(RST, t.peer_nxt));
    CHECK(t.st.state(s) == tcp::state::closed);
}

// ---------------------------------------------------------------------------------
// 7. RTTM (§4)
// ---------------------------------------------------------------------------------

TEST_CASE("established_acks_outside_the_timed_segment_give_rtt_samples_from_tsecr")
{
    // §4.1: "RTTM ... every ACK of new data"; the TSecr of an ACK that advances the left
    // edge gives RTT = now - TSecr. Without the option only the one timed segment per
    // round trip does (RFC 6298 §3). Here each later ACK echoes a TSval 50 ms old.
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_tsval = 1000});
    const std::size_t pmss = conn(t, s).send_mss() - 12u;
    REQUIRE(t.send(s, std::string(3 * pmss, 'd')) == 3 * pmss);
    const auto burst = t.sent();
    REQUIRE(burst.size() == 3);
    const std::uint32_t v0 = burst.front().tcp.options.timestamp->tsval;
    for (const captured& c : burst) CHECK(c.tcp.options.timestamp->tsval == v0);

    t.advance(std::chrono::milliseconds{50});
    // The first ACK ends the timed segment's measurement (RFC 6298 §3).
    const auto n = static_cast<std::uint32_t>(pmss);
    t.inject(stamped(t, ACK, t.peer_nxt, t.stack_nxt + n, 1001, v0));
    (void)t.sent();
    const auto samples0 = conn(t, s).stats().timestamp_rtt_samples;
    const duration srtt0 = conn(t, s).rtt().srtt();
    // The second and third: segments sent under the same timing, now TSecr samples.
    t.inject(stamped(t, ACK, t.peer_nxt, t.stack_nxt + 2 * n, 1002, v0));
    (void)t.sent();
    CHECK(conn(t, s).stats().timestamp_rtt_samples == samples0 + 1);
    const duration srtt1 = conn(t, s).rtt().srtt();
    t.inject(stamped(t, ACK, t.peer_nxt, t.stack_nxt + 3 * n, 1003, v0));
    (void)t.sent();
    CHECK(conn(t, s).stats().timestamp_rtt_samples == samples0 + 2);
    CHECK(t.st.info(s).timestamp_rtt_samples == samples0 + 2);
    const duration srtt2 = conn(t, s).rtt().srtt();
    CAPTURE(srtt0.count());
    CAPTURE(srtt1.count());
    CAPTURE(srtt2.count());
    // Each 50 ms sample pulls SRTT toward 50 ms (RFC 6298 §2.3), from below here.
    const duration target = std::chrono::milliseconds{50};
    CHECK(srtt0 <= target);
    if (srtt0 < target) {
        CHECK(srtt1 > srtt0);
        CHECK(srtt2 > srtt1);
    }
    CHECK(srtt2 <= target);

    // A duplicate ACK (nothing new acknowledged) gives no sample (§4.1).
    t.inject(stamped(t, ACK, t.peer_nxt, t.stack_nxt + 3 * n, 1004, v0));
    CHECK(conn(t, s).stats().timestamp_rtt_samples == samples0 + 2);
}

// ---------------------------------------------------------------------------------
// 8. Segment sizes (§3.2 with RFC 6691)
// ---------------------------------------------------------------------------------

TEST_CASE("established_data_segments_leave_room_for_the_timestamps_and_three_sack_blocks")
{
    // RFC 6691: the MSS counts the fixed headers only, so the 12 bytes of TSopt (with
    // its two NOPs) on every segment come out of the payload; RFC 2018 §3: beside it at
    // most 3 SACK blocks fit in the 40 bytes of options.
    scenario t;
    const socket s = establish_passive_ts(t, ts_open{.peer_offers_sack = true, .peer_mss = 1000});
    REQUIRE(conn(t, s).send_mss() == 1000);
    CHECK(t.st.info(s).snd_mss == 1000);
    REQUIRE(t.send(s, std::string(2 * 988 + 100, 'd')) == 2 * 988 + 100);
    const auto full = t.sent();
    REQUIRE(full.size() >= 2);
    CHECK(full[0].payload.size() == 1000 - 12);
    CHECK(full[1].payload.size() == 1000 - 12);
    for (const captured& c : full) {
        CHECK(c.payload.size() <= 1000 - 12);
        CHECK(c.tcp.options.timestamp.has_value());
    }

    // Four islands of the peer's data held out of order: only three blocks go beside
    // the timestamp, and data segments shrink by them too.
    const std::uint32_t echo = our_clock(t, s);
    for (std::uint32_t i = 0; i < 4; ++i) {
        t.inject(stamped(t, ACK, t.peer_nxt + 100 + 200 * i, t.stack_nxt, 1001 + i, echo), std::string(100, 'o'));
        const captured a = t.expect_one();
        CHECK(a.tcp.options.sack_count == std::min<std::uint32_t>(i + 1, 3));
        CHECK(a.tcp.options.wire_size() <= 40);
    }
    // The peer acknowledges what we sent; the rest of ours goes out.
    const auto acked = static_cast<std::uint32_t>(2 * 988 + 100);
    t.inject(stamped(t, ACK, t.peer_nxt, t.stack_nxt + acked, 1005, echo));
    (void)t.sent();
    t.stack_nxt = t.stack_nxt + acked;
    REQUIRE(t.send(s, std::string(3 * 988, 'e')) == 3 * 988);
    const auto shrunk = t.sent();
    REQUIRE_FALSE(shrunk.empty());
    for (const captured& c : shrunk) {
        CHECK(c.tcp.options.timestamp.has_value());
        CHECK(c.tcp.options.sack_count == 3);
        CHECK(c.payload.size() <= 1000 - 12 - (4 + 3 * 8));
    }
    CHECK(shrunk.front().payload.size() == 1000 - 12 - (4 + 3 * 8));
}

// ---------------------------------------------------------------------------------
// 9. A needless recovery told by the timestamp echo (RFC 3522 §2, Eifel detection)
// ---------------------------------------------------------------------------------

namespace {

/// A SACK sender with timestamps, RFC 6675's rules alone (no RACK, no probe), ten
/// segments out at once. Returns the TSval the ten carried.
struct eifel_sender {
    eifel_sender()
        : t{[] {
              config c = scenario_config();
              c.rack = false;
              c.tail_loss_probe = false;
              c.initial_window_segments = 10;
              return c;
          }()}
    {
        s = establish_passive_ts(t, ts_open{.peer_offers_sack = true, .peer_tsval = 1000});
        pmss = conn(t, s).send_mss() - 12u;
        REQUIRE(t.send(s, std::string(10 * pmss, 'd')) == 10 * pmss);
        const auto burst = t.sent();
        REQUIRE(burst.size() == 10);
        first_tsval = burst.front().tcp.options.timestamp->tsval;
        base = t.stack_nxt;
    }
    seq32 seg(std::uint32_t i) const { return base + i * pmss; }
    /// The peer's ACK of [0, cumulative) SACKing [from, to), echoing `tsecr`.
    std::vector<captured> ack(std::uint32_t cumulative, std::uint32_t from, std::uint32_t to, std::uint32_t tsecr)
    {
        wire::tcp_header h = stamped(t, ACK, t.peer_nxt, seg(cumulative), ++peer_tsval, tsecr);
        if (from != to) {
            h.options.sack[0] = {seg(from), seg(to)};
            h.options.sack_count = 1;
        }
        t.inject(h);
        return t.sent();
    }
    /// 20 ms on, the peer SACKs segments 1-3: segment 0 is retransmitted and recovery
    /// begins. Returns the retransmission's TSval.
    std::uint32_t enter_recovery()
    {
        t.advance(std::chrono::milliseconds{20});
        const auto out = ack(0, 1, 4, first_tsval);
        REQUIRE_FALSE(out.empty());
        REQUIRE(out.front().seq() == seg(0));
        return out.front().tcp.options.timestamp->tsval;
    }

    scenario t;
    socket s{};
    std::uint32_t pmss = 0;
    std::uint32_t first_tsval = 0;
    std::uint32_t peer_tsval = 1000;
    seq32 base;
};

}  // namespace

TEST_CASE("established_recovery_ended_by_an_ack_echoing_an_original_is_undone")
{
    // Segment 0 is only late: three later segments are SACKed, recovery halves the
    // window and resends 0 (its TSval: RetransmitTS). Then the late original fills the
    // hole; the ACK that ends recovery echoes the original's TSval (RFC 7323 §4.3), older
    // than RetransmitTS: the retransmission was needless, the reduction is undone.
    eifel_sender x;
    const tcp::connection_info before = x.t.st.info(x.s);
    const std::uint32_t retransmit_ts = x.enter_recovery();
    REQUIRE(retransmit_ts > x.first_tsval);
    REQUIRE(x.t.st.info(x.s).sack_recoveries == 1);
    REQUIRE(x.t.st.info(x.s).ssthresh < before.cwnd);
    (void)x.ack(10, 0, 0, x.first_tsval);
    const tcp::connection_info after = x.t.st.info(x.s);
    CHECK(after.reductions_undone == 1);
    CHECK(after.timestamp_undos == 1);
    CHECK(after.ssthresh == before.ssthresh);
    CHECK(after.cwnd >= before.cwnd);
    CHECK_FALSE(after.in_recovery);
}

TEST_CASE("established_recovery_ended_by_the_retransmission_echo_is_not_undone")
{
    // The same, but the retransmission filled the hole: the ACK echoes RetransmitTS.
    eifel_sender x;
    const std::uint32_t retransmit_ts = x.enter_recovery();
    const std::uint32_t ssthresh = x.t.st.info(x.s).ssthresh;
    (void)x.ack(10, 0, 0, retransmit_ts);
    const tcp::connection_info after = x.t.st.info(x.s);
    CHECK(after.reductions_undone == 0);
    CHECK(after.timestamp_undos == 0);
    CHECK(after.ssthresh == ssthresh);
}

TEST_CASE("established_recovery_whose_head_was_lost_is_not_undone_when_a_later_hole_was_late")
{
    // Segment 0 is lost, segment 5 only late. The ACK that ends the recovery echoes
    // 5's original (it filled the last hole), but the first ACK past the head echoed
    // the retransmission of 0: a loss was repaired, the reduction stays.
    eifel_sender x;
    const std::uint32_t retransmit_ts = x.enter_recovery();
    (void)x.ack(5, 6, 10, retransmit_ts);  // the retransmission of 0 arrived; 5 missing
    const std::uint32_t ssthresh = x.t.st.info(x.s).ssthresh;
    (void)x.ack(10, 0, 0, x.first_tsval);  // 5's original, late
    const tcp::connection_info after = x.t.st.info(x.s);
    CHECK(after.timestamp_undos == 0);
    CHECK(after.reductions_undone == 0);
    CHECK(after.ssthresh == ssthresh);
}
