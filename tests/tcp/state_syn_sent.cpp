// Scenario tests: SYN-SENT (RFC 9293 §3.10.7.3), the active OPEN that leads there
// (§3.10.1), what the SYN announces (§3.7.1 MSS, RFC 7323 §2 window scale) and the
// SYN's retransmission (RFC 6298 §5, RFC 1122 §4.2.3.5).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"
#include "support/handshake_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

scenario scaling_scenario()
{
    config c = scenario_config();
    c.window_scaling = true;
    c.receive_buffer = 1 << 20;  // needs a shift of 5 to fit 16 bits (RFC 7323 §2.3)
    return scenario{c};
}

/// The peer's SYN-ACK to the stack's SYN, with the given options.
wire::tcp_header syn_ack(const scenario& t, std::optional<std::uint16_t> mss,
                         std::optional<std::uint8_t> window_scale = std::nullopt)
{
    wire::tcp_header h = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
    h.options.mss = mss;
    h.options.window_scale = window_scale;
    return h;
}

/// Completes the handshake with `synack`, expects the stack's ACK; ESTABLISHED.
captured complete(scenario& t, socket s, const wire::tcp_header& synack)
{
    t.inject(synack);
    t.peer_nxt = t.peer_iss + 1;
    const captured ack = t.expect_one();
    REQUIRE(ack.flags() == ACK);
    REQUIRE(t.st.state(s) == tcp::state::established);
    return ack;
}

/// Sends a large buffer and returns the payload length of the first data segment.
std::size_t first_segment_length(scenario& t, socket s)
{
    const std::string big(5000, 'x');
    REQUIRE(t.send(s, big) == big.size());
    const auto out = t.sent();
    REQUIRE_FALSE(out.empty());
    CHECK(out.front().seq() == t.stack_nxt);
    return out.front().payload.size();
}

}  // namespace

// ---- the SYN ----

TEST_CASE("syn_sent_syn_carries_mss_and_no_window_scale_when_disabled")
{
    // RFC 9293 §3.10.1 active OPEN: <SEQ=ISS><CTL=SYN>, SND.UNA = ISS, SND.NXT = ISS+1;
    // §3.7.1: the SYN announces our MSS (1500 - 40); RFC 7323 §2.2: the option is
    // only offered when scaling is enabled (config.window_scaling off here).
    scenario t;
    std::error_code ec;
    const socket s = t.st.connect(t.peer_address, t.peer_port, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    const captured syn = t.expect_one();
    CHECK(syn.flags() == SYN);
    CHECK(syn.ack() == seq32{0});
    CHECK(syn.window() == 65535);
    CHECK(syn.payload.empty());
    REQUIRE(syn.tcp.options.mss.has_value());
    CHECK(*syn.tcp.options.mss == 1460);
    CHECK_FALSE(syn.tcp.options.window_scale.has_value());
    CHECK(syn.tcp.destination_port == t.peer_port);
    CHECK(syn.tcp.source_port >= t.st.configuration().ephemeral_port_first);  // RFC 6335 §6
    CHECK(syn.ip.destination == t.peer_address);
    const auto* c = t.st.connection(s);
    REQUIRE(c != nullptr);
    CHECK(c->iss() == syn.seq());
    CHECK(c->snd().una == syn.seq());
    CHECK(c->snd().nxt == syn.seq() + 1);
    CHECK(t.st.counters().connections_opened == 1);
    CHECK(c->stats().segments_sent == 1);
}

TEST_CASE("syn_sent_syn_offers_window_scale_when_enabled")
{
    // RFC 7323 §2.2: with scaling on, the SYN carries the shift that lets the 16-bit
    // field cover the receive buffer (1 MiB: 5, §2.3); the SYN's own window is unscaled.
    scenario t = scaling_scenario();
    std::error_code ec;
    (void)t.st.connect(t.peer_address, t.peer_port, ec);
    REQUIRE_FALSE(ec);
    const captured syn = t.expect_one();
    CHECK(syn.flags() == SYN);
    REQUIRE(syn.tcp.options.window_scale.has_value());
    CHECK(*syn.tcp.options.window_scale == 5);
    CHECK(syn.window() == 65535);
    REQUIRE(syn.tcp.options.mss.has_value());
    CHECK(*syn.tcp.options.mss == 1460);
}

TEST_CASE("syn_sent_connect_beyond_connection_limit_fails_with_no_buffer_space")
{
    // config.max_connections bounds the table (DESIGN.md "Everything bounded").
    config c = scenario_config();
    c.max_connections = 1;
    scenario t{c};
    (void)t.open_active();
    std::error_code ec;
    const socket second = t.st.connect(t.peer_address, 8080, ec);
    CHECK(ec == errc::no_buffer_space);
    CHECK_FALSE(second.valid());
    CHECK(t.st.counters().dropped(drop_reason::connection_limit) == 1);
    t.expect_nothing();
}

// ---- first: the ACK bit ----

TEST_CASE("syn_sent_ack_of_iss_gets_rst_with_seq_from_the_ack")
{
    // RFC 9293 §3.10.7.3 first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset
    // (unless the RST bit is set) <SEQ=SEG.ACK><CTL=RST> and discard the segment."
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(ACK, t.peer_iss, t.iss));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.iss);
    CHECK(rst.tcp.destination_port == t.peer_port);
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    CHECK(t.st.counters().resets_sent == 1);
}

TEST_CASE("syn_sent_syn_ack_beyond_snd_nxt_gets_rst_with_seq_from_the_ack")
{
    // RFC 9293 §3.10.7.3 first: SEG.ACK > SND.NXT is unacceptable, SYN or not.
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(SYN | ACK, t.peer_iss, t.iss + 2));
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == t.iss + 2);
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    // The true SYN-ACK still completes the handshake.
    complete(t, s, syn_ack(t, 1460));
}

TEST_CASE("syn_sent_rst_with_unacceptable_ack_is_dropped")
{
    // RFC 9293 §3.10.7.3 first: "If the segment acknowledgment is not acceptable ...
    // send a reset (unless the RST bit is set ...)": a reset is never answered.
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(RST | ACK, seq32{0}, t.iss + 5));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    CHECK_FALSE(t.st.error(s));
    CHECK(t.st.counters().resets_sent == 0);
}

// ---- second: the RST bit ----

TEST_CASE("syn_sent_rst_with_acceptable_ack_refuses_connection")
{
    // RFC 9293 §3.10.7.3 second: "If the ACK was acceptable, then signal to the user
    // 'error: connection reset', drop the segment, enter CLOSED state" — reported as
    // connection refused (ECONNREFUSED), as sockets do.
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(RST | ACK, seq32{0}, t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::connection_refused);
    CHECK(t.st.error(s) == std::errc::connection_refused);
    std::error_code ec;
    CHECK(t.st.send(s, std::span<const std::uint8_t>{}, ec) == 0);
    CHECK(ec == errc::connection_refused);
    std::array<std::uint8_t, 8> buf{};
    CHECK(t.st.receive(s, buf, ec) == 0);
    CHECK(ec == errc::connection_refused);
    CHECK_FALSE(t.st.writable(s));
    CHECK(t.st.readable(s));  // a read would not block: it reports the error
    // No retransmission follows: the timer went with the connection.
    t.advance(std::chrono::seconds(10));
    t.expect_nothing();
}

TEST_CASE("syn_sent_rst_without_ack_is_dropped")
{
    // RFC 9293 §3.10.7.3 second: "If the ACK bit is not set, drop the segment"
    // (RFC 5961 §3: a reset must be tied to our SYN to count).
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(RST, t.peer_iss));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    CHECK_FALSE(t.st.error(s));
    complete(t, s, syn_ack(t, 1460));
}

// ---- fourth: the SYN bit ----

TEST_CASE("syn_sent_syn_ack_establishes_and_acks")
{
    // RFC 9293 §3.10.7.3 fourth: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ, SND.UNA = SEG.ACK;
    // our SYN is acknowledged, so "enter ESTABLISHED state, form an ACK segment
    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it".
    scenario t;
    const socket s = t.open_active();
    wire::tcp_header h = syn_ack(t, 1460);
    h.window = 20000;
    t.inject(h);
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.seq() == t.iss + 1);
    CHECK(ack.ack() == t.peer_iss + 1);
    CHECK(ack.window() == 65535);
    CHECK(ack.payload.empty());
    CHECK_FALSE(ack.tcp.options.mss.has_value());  // options belong to SYNs only
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.writable(s));
    const auto* c = t.st.connection(s);
    REQUIRE(c != nullptr);
    CHECK(c->irs() == t.peer_iss);
    CHECK(c->rcv().nxt == t.peer_iss + 1);
    CHECK(c->snd().una == t.iss + 1);
    CHECK(c->snd().wnd == 20000);  // SND.WND from the SYN-ACK, never scaled (RFC 7323 §2.2)
    CHECK(c->snd().wl1 == t.peer_iss);
    CHECK(c->snd().wl2 == t.iss + 1);
    CHECK(c->stats().segments_received == 1);
    CHECK(c->rtt().has_sample());  // RFC 6298 §2.2: the handshake gives the first sample
}

TEST_CASE("syn_sent_syn_ack_with_data_delivers_it")
{
    // RFC 9293 §3.10.7.3 fourth: "If there are other controls or text in the segment,
    // continue processing at the sixth step" — the text is taken and acknowledged.
    scenario t;
    const socket s = t.open_active();
    t.inject(syn_ack(t, 1460), "hi");
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == t.peer_iss + 3);
    CHECK(t.receive(s) == "hi");
}

TEST_CASE("syn_sent_syn_enters_syn_received_and_sends_syn_ack_with_same_iss")
{
    // RFC 9293 §3.10.7.3 fourth, and §3.5 figure 8 (simultaneous open): a SYN without
    // an ACK -> SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
    scenario t;
    const socket s = t.open_active();
    wire::tcp_header syn = t.segment(SYN, t.peer_iss);
    syn.options.mss = 1460;
    syn.window = 1000;  // a peer with a 1,000-byte buffer
    t.inject(syn);
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.seq() == t.iss);
    CHECK(synack.ack() == t.peer_iss + 1);
    CHECK(synack.window() == 65535);
    REQUIRE(synack.tcp.options.mss.has_value());
    CHECK(*synack.tcp.options.mss == 1460);
    CHECK(t.st.state(s) == tcp::state::syn_received);
    CHECK(t.st.connection(s)->irs() == t.peer_iss);
}

TEST_CASE("syn_sent_simultaneous_open_completes_on_the_peers_syn_ack")
{
    // RFC 9293 §3.5 figure 8, line 6: the peer, in SYN-RECEIVED too, sends its SYN,ACK
    // (the SYN we already hold, now with the ACK of ours): ESTABLISHED; its SYN is old
    // and trimmed (§3.10.7.4 first), so nothing needs answering (line 7 is our own
    // SYN,ACK reaching the peer).
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(SYN, t.peer_iss));
    REQUIRE(t.expect_one().flags() == (SYN | ACK));
    t.inject(t.segment(SYN | ACK, t.peer_iss, t.iss + 1));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.connection(s)->snd().una == t.iss + 1);
    CHECK(t.st.connection(s)->rcv().nxt == t.peer_iss + 1);
    CHECK(t.st.connection(s)->stats().challenge_acks == 0);
    // And the connection carries data from here.
    CHECK(t.send(s, "go") == 2);
    const captured data = t.expect_one();
    CHECK(data.seq() == t.iss + 1);
    CHECK(data.ack() == t.peer_iss + 1);
    CHECK(data.text() == "go");
}

TEST_CASE("syn_sent_simultaneous_open_syn_ack_window_is_not_scaled")
{
    // RFC 7323 §2.2: "The window field in a segment where the SYN bit is set (i.e., a
    // <SYN> or <SYN,ACK>) MUST NOT be scaled" — also the SYN,ACK of a simultaneous
    // open, whose old SYN is trimmed before its ACK is taken. Both sides offered a
    // shift, so it is in use from then on.
    scenario t = scaling_scenario();
    const socket s = t.open_active();
    wire::tcp_header syn = t.segment(SYN, t.peer_iss);
    syn.options.window_scale = 7;
    syn.options.mss = 1460;
    syn.window = 1000;  // a peer with a 1,000-byte buffer
    t.inject(syn);
    REQUIRE(t.expect_one().flags() == (SYN | ACK));
    wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, t.iss + 1);
    synack.window = 1000;
    t.inject(synack);
    REQUIRE(t.st.state(s) == tcp::state::established);
    CHECK(t.st.connection(s)->snd().wnd == 1000);
    CHECK(t.send(s, std::string(1460, 'x')) == 1460);
    const captured data = t.expect_one();
    CHECK(data.text().size() == 1000);  // not 1,460 into a 1,000-byte window
}

TEST_CASE("syn_sent_simultaneous_open_completes_on_the_peers_ack")
{
    // RFC 9293 §3.5 figure 8 with §3.10.7.4 fifth (SYN-RECEIVED): an ACK of our SYN
    // (SND.UNA < SEG.ACK =< SND.NXT) -> ESTABLISHED.
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(SYN, t.peer_iss));
    REQUIRE(t.expect_one().flags() == (SYN | ACK));
    t.inject(t.segment(ACK, t.peer_iss + 1, t.iss + 1));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.counters().connections_accepted == 0);  // an active open, not a listener's
}

// ---- fifth: neither SYN nor RST ----

TEST_CASE("syn_sent_segment_without_syn_or_rst_is_dropped")
{
    // RFC 9293 §3.10.7.3 fifth: "If neither of the SYN or RST bits is set, then drop
    // the segment and return" — even with an acceptable ACK, FIN or text.
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(ACK, t.peer_iss + 1, t.iss + 1));
    t.inject(t.segment(FIN | ACK, t.peer_iss + 1, t.iss + 1));
    t.inject(t.segment(ACK | PSH, t.peer_iss + 1, t.iss + 1), "data");
    t.inject(t.segment(FIN, t.peer_iss + 1));
    t.inject(t.segment(PSH, t.peer_iss + 1), "more");
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    CHECK_FALSE(t.st.peer_closed(s));
    CHECK(t.st.counters().resets_sent == 0);
    // Nothing of it was taken: the handshake starts from the SYN-ACK.
    const captured ack = complete(t, s, syn_ack(t, 1460));
    CHECK(ack.ack() == t.peer_iss + 1);
    CHECK(t.receive(s).empty());
}

// ---- what the peer's SYN teaches ----

TEST_CASE("syn_sent_peer_mss_below_ours_limits_segments")
{
    // RFC 9293 §3.7.1 / RFC 6691: the send MSS is min(the peer's MSS option, ours).
    scenario t;
    const socket s = t.open_active();
    complete(t, s, syn_ack(t, 1000));
    CHECK(t.st.connection(s)->send_mss() == 1000);
    CHECK(first_segment_length(t, s) == 1000);
}

TEST_CASE("syn_sent_peer_mss_above_ours_is_capped_at_ours")
{
    // RFC 9293 §3.7.1: we send no segment bigger than our own path allows (1460).
    scenario t;
    const socket s = t.open_active();
    complete(t, s, syn_ack(t, 9000));
    CHECK(t.st.connection(s)->send_mss() == 1460);
    CHECK(first_segment_length(t, s) == 1460);
}

TEST_CASE("syn_sent_no_peer_mss_means_536")
{
    // RFC 9293 §3.7.1 (MUST-15) / RFC 1122 §4.2.2.6: without the option, assume 536.
    scenario t;
    const socket s = t.open_active();
    complete(t, s, syn_ack(t, std::nullopt));
    CHECK(t.st.connection(s)->send_mss() == 536);
    CHECK(first_segment_length(t, s) == 536);
}

TEST_CASE("syn_sent_window_scale_is_used_when_both_offer")
{
    // RFC 7323 §2.2-§2.3: both SYNs carried the option, so from the next segment on our
    // windows are sent >> 5 and the peer's are read << 3.
    scenario t = scaling_scenario();
    const socket s = t.open_active();
    const captured ack = complete(t, s, syn_ack(t, 1460, std::uint8_t{3}));
    CHECK(ack.window() == (1u << 20) >> 5);
    const auto* c = t.st.connection(s);
    CHECK(c->snd().scale == 3);
    CHECK(c->rcv().scale == 5);
    CHECK(c->snd().wnd == 65535);  // the SYN-ACK's window is never scaled (§2.2)
    wire::tcp_header h = t.segment(ACK, t.peer_nxt, t.stack_nxt);
    h.window = 1000;
    t.inject(h);
    CHECK(c->snd().wnd == 8000);
}

TEST_CASE("syn_sent_window_scale_is_not_used_when_the_peer_does_not_offer")
{
    // RFC 7323 §2.2: the option in only one SYN means no scaling either way: our
    // windows go unscaled (capped at 65535), the peer's are read as they are.
    scenario t = scaling_scenario();
    const socket s = t.open_active();
    const captured ack = complete(t, s, syn_ack(t, 1460));
    CHECK(ack.window() == 65535);
    const auto* c = t.st.connection(s);
    CHECK(c->snd().scale == 0);
    CHECK(c->rcv().scale == 0);
    wire::tcp_header h = t.segment(ACK, t.peer_nxt, t.stack_nxt);
    h.window = 1000;
    t.inject(h);
    CHECK(c->snd().wnd == 1000);
}

TEST_CASE("syn_sent_window_scale_from_the_peer_is_ignored_when_disabled")
{
    // RFC 7323 §2.2: we did not offer scaling, so the peer's option does not apply.
    scenario t;
    const socket s = t.open_active();
    const captured ack = complete(t, s, syn_ack(t, 1460, std::uint8_t{3}));
    CHECK(ack.window() == 65535);
    const auto* c = t.st.connection(s);
    CHECK(c->snd().scale == 0);
    CHECK(c->rcv().scale == 0);
    wire::tcp_header h = t.segment(ACK, t.peer_nxt, t.stack_nxt);
    h.window = 1000;
    t.inject(h);
    CHECK(c->snd().wnd == 1000);
}

// ---- timers ----

TEST_CASE("syn_sent_syn_is_retransmitted_after_1_then_2_then_4_seconds")
{
    // RFC 6298 §2.1: the initial RTO is 1 s; §5.5: each expiry doubles it; §5.4: the
    // earliest unacknowledged segment (our SYN, same ISS) goes again.
    scenario t;
    const socket s = t.open_active();
    const duration waits[] = {std::chrono::seconds(1), std::chrono::seconds(2), std::chrono::seconds(4)};
    int n = 0;
    for (const duration wait : waits) {
        ++n;
        t.advance(wait - std::chrono::milliseconds(1));
        t.expect_nothing();
        t.advance(std::chrono::milliseconds(1));
        const captured syn = t.expect_one();
        CHECK(syn.flags() == SYN);
        CHECK(syn.seq() == t.iss);
        REQUIRE(syn.tcp.options.mss.has_value());
        CHECK(*syn.tcp.options.mss == 1460);
        CHECK(t.st.connection(s)->stats().retransmitted_segments == static_cast<std::uint64_t>(n));
        CHECK(t.st.connection(s)->stats().timeouts == static_cast<std::uint64_t>(n));
    }
    CHECK(t.st.counters().retransmitted_segments == 3);
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    // A SYN-ACK to any of the copies completes the handshake.
    complete(t, s, syn_ack(t, 1460));
}

TEST_CASE("syn_sent_syn_ack_after_a_syn_timeout_sets_rto_to_3_seconds")
{
    // RFC 6298 §5.7: the SYN timed out and no RTT sample exists (Karn, §3: the SYN-ACK
    // answers a retransmission), so RTO is re-initialised to 3 s for the data.
    scenario t;
    const socket s = t.open_active();
    t.advance(std::chrono::seconds(1));
    REQUIRE(t.expect_one().flags() == SYN);
    complete(t, s, syn_ack(t, 1460));
    const auto* c = t.st.connection(s);
    CHECK_FALSE(c->rtt().has_sample());
    CHECK(c->rtt().rto() == std::chrono::seconds(3));
}

TEST_CASE("syn_sent_connect_timeout_closes_with_timed_out")
{
    // RFC 1122 §4.2.3.5 (R2 for a SYN) / RFC 9293 §3.10.8: when the SYN stays
    // unanswered past config.connect_timeout, the connection is closed and the user
    // told "timed out". No reset: the peer never knew of us.
    config c = scenario_config();
    c.connect_timeout = std::chrono::seconds(10);
    scenario t{c};
    const instant start = t.time.now();
    const socket s = t.open_active();
    int retransmissions = 0;
    while (t.st.state(s) == tcp::state::syn_sent) {
        REQUIRE(t.advance_to_deadline());
        const auto out = t.sent();
        if (t.st.state(s) == tcp::state::syn_sent) {
            REQUIRE(out.size() == 1);
            CHECK(out.front().flags() == SYN);
            CHECK(t.elapsed_since(start) < std::chrono::seconds(10));
            ++retransmissions;
        } else {
            CHECK(out.empty());
        }
    }
    CHECK(retransmissions == 3);                                // at 1 s, 3 s and 7 s
    CHECK(t.elapsed_since(start) >= std::chrono::seconds(10));  // not before the limit
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::timed_out);
    CHECK(t.st.error(s) == std::errc::timed_out);
    CHECK(t.st.counters().resets_sent == 0);
    CHECK_FALSE(t.advance_to_deadline());  // nothing left to do
}

// ---- user calls in SYN-SENT ----

TEST_CASE("syn_sent_send_queues_data_until_established")
{
    // RFC 9293 §3.10.2 SEND in SYN-SENT: "Queue the data for transmission after
    // entering ESTABLISHED state"; §3.10.7.3 fourth: "Data or controls that were queued
    // for transmission may be included" with the ACK of the SYN-ACK.
    scenario t;
    const socket s = t.open_active();
    CHECK(t.send(s, "hello") == 5);
    t.expect_nothing();  // no data rides on (or beside) the SYN
    t.inject(syn_ack(t, 1460));
    const captured data = t.expect_one();
    CHECK(data.flags() == (ACK | PSH));
    CHECK(data.seq() == t.iss + 1);
    CHECK(data.ack() == t.peer_iss + 1);
    CHECK(data.text() == "hello");
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.connection(s)->stats().bytes_sent == 5);
}

TEST_CASE("syn_sent_shutdown_with_queued_data_sends_the_data_then_fin_once_established")
{
    // RFC 9293 §3.10.4 CLOSE in SYN-SENT deletes the TCB, "closing" to queued SENDs; but
    // send() here has already reported those bytes accepted, so tcpx does what §3.10.4
    // says for SYN-RECEIVED: the FIN is queued "for processing after entering
    // ESTABLISHED", after the data. No accepted byte is dropped without an error.
    scenario t;
    const socket s = t.open_active();
    CHECK(t.send(s, "hello") == 5);
    REQUIRE_FALSE(t.st.shutdown(s));
    CHECK(t.st.state(s) == tcp::state::syn_sent);
    CHECK(t.st.shutdown(s) == make_error_code(errc::connection_closing));
    std::error_code ec;
    const std::uint8_t more[1] = {'x'};
    CHECK(t.st.send(s, more, ec) == 0);
    CHECK(ec == make_error_code(errc::connection_closing));
    t.expect_nothing();
    t.inject(syn_ack(t, 1460));
    const captured data = t.expect_one();
    CHECK(data.text() == "hello");
    CHECK((data.flags() & FIN) == FIN);  // the FIN rides on the last data
    CHECK(data.seq() == t.iss + 1);
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
}

TEST_CASE("syn_sent_shutdown_with_nothing_queued_deletes_the_tcb")
{
    // RFC 9293 §3.10.4: nothing was accepted, so nothing is lost: "Delete the TCB".
    scenario t;
    const socket s = t.open_active();
    REQUIRE_FALSE(t.st.shutdown(s));
    CHECK(t.st.state(s) == tcp::state::closed);
}
