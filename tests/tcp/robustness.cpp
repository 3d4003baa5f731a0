// Scenario tests: robustness fixes in the TCP core — the orphan FIN-WAIT-2 bound, a
// CLOSE queued in SYN-RECEIVED, the eighth step after a SYN-ACK with text, forged
// out-of-order FINs, RFC 5961 §7 throttling, keep-alive against dropped segments, and
// the ISS of a connection reopened from TIME-WAIT.
//
// Have open: RFC 9293 §3.10.4, §3.10.7.3, §3.10.7.4, §3.10.8; RFC 5961 §3.2, §4.2,
// §5.2, §7; RFC 1122 §4.2.2.13, §4.2.3.6; RFC 6191 §2.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "support/closing_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

/// Checks one captured segment field by field, naming it on failure.
void check_segment(const captured& c, tcp_flags flags, seq32 seq, seq32 ack, std::uint16_t window,
                   std::string_view text = {})
{
    INFO("segment: " << describe(c));
    CHECK(c.flags() == flags);
    CHECK(c.seq() == seq);
    CHECK(c.ack() == ack);
    CHECK(c.window() == window);
    CHECK(c.text() == text);
}

/// `n` bytes of a recognisable pattern.
std::string pattern(std::size_t n)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

/// Sends `total` bytes on `s` with the peer acknowledging everything it sees at once
/// (no time passes). Afterwards t.stack_nxt is past the last byte, all acknowledged.
void send_all_acknowledged(scenario& t, socket s, std::size_t total)
{
    const std::string block = filler(16 * 1024);
    const seq32 end = t.stack_nxt + static_cast<std::uint32_t>(total);
    std::size_t queued = 0;
    seq32 highest = t.stack_nxt;
    for (int round = 0; round < 100000 && highest != end; ++round) {
        while (queued < total) {
            const std::size_t n = t.send(s, std::string_view{block}.substr(0, std::min(block.size(), total - queued)));
            if (n == 0) break;
            queued += n;
        }
        const auto out = t.sent();
        for (const auto& c : out) {
            REQUIRE_FALSE(c.has(FIN));
            if (seq_gt(c.seq() + c.length(), highest)) highest = c.seq() + c.length();
        }
        if (out.empty()) {
            // Nothing went: a timer has to move things (should not happen here).
            REQUIRE(t.advance_to_deadline());
            continue;
        }
        t.inject(t.peer_ack(highest));
    }
    REQUIRE(highest == end);
    (void)t.sent();  // whatever the last ACK released (nothing is left)
    t.stack_nxt = end;
    REQUIRE(t.st.connection(s)->snd().una == end);
}

}  // namespace

// ---- 1. an orphan already in FIN-WAIT-2 ----

TEST_CASE("fin_wait_2_close_after_shutdown_orphan_is_reaped_after_2msl")
{
    // RFC 9293 §3.10.4 leaves a closed connection in FIN-WAIT-2 waiting for the peer's
    // FIN, and §3.10.8 bounds nothing there; a peer that never sends it would hold the
    // control block forever. Once the user has let go (close()), the orphan ends after
    // 2 MSL (Linux's tcp_fin_timeout) — also when it reached FIN-WAIT-2 through
    // shutdown() before the close(), not only when close() sent the FIN. Silently.
    scenario t;
    const socket s = t.establish_then_fin_wait_2();
    CHECK(t.st.poll() == never);  // held by the user: no limit (half-close)
    t.advance(5s);
    CHECK_FALSE(t.st.close(s));
    t.expect_nothing();
    CHECK(t.st.connection_count() == 1);
    const duration two_msl = 2 * t.st.configuration().msl;
    CHECK(t.st.poll() == t.time.now() + two_msl);
    t.advance(two_msl - 1us);
    CHECK(t.st.connection_count() == 1);
    t.advance(1us);
    t.expect_nothing();
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.counters().connections_reclaimed == 1);
    t.advance(1s);
    CHECK(t.st.connection_count() == 0);
    CHECK(t.st.poll() == never);
}

// ---- 2. CLOSE in SYN-RECEIVED ----

TEST_CASE("syn_received_close_then_handshake_completes_in_fin_wait_1")
{
    // RFC 9293 §3.10.4 CLOSE, SYN-RECEIVED: "If no SENDs have been issued and there is
    // no pending data to send, then form a FIN segment and send it, and enter FIN-WAIT-1
    // state; otherwise, queue for processing after entering ESTABLISHED state." tcpx
    // queues it: once our SYN is acknowledged the FIN leaves and the state is
    // FIN-WAIT-1, and the close runs its normal course (FIN-WAIT-2, TIME-WAIT).
    scenario t;
    const socket s = t.open_active();
    t.inject(t.segment(SYN, t.peer_iss));  // simultaneous open (§3.5 figure 8)
    t.peer_nxt = t.peer_iss + 1;
    check_segment(t.expect_one(), SYN | ACK, t.iss, t.peer_nxt, 65535);
    REQUIRE(t.st.state(s) == tcp::state::syn_received);

    CHECK_FALSE(t.st.shutdown(s));
    t.expect_nothing();  // the FIN waits for ESTABLISHED
    CHECK(t.st.state(s) == tcp::state::syn_received);

    SUBCASE("the peer's syn_ack acknowledges our syn")
    {
        t.inject(t.segment(SYN | ACK, t.peer_iss, t.iss + 1));
    }
    SUBCASE("the peer's ack acknowledges our syn")
    {
        t.inject(t.segment(ACK, t.peer_nxt, t.iss + 1));
    }
    check_segment(t.expect_one(), FIN | ACK, t.iss + 1, t.peer_nxt, 65535);
    CHECK(t.st.state(s) == tcp::state::fin_wait_1);
    t.stack_nxt = t.iss + 2;

    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::fin_wait_2);

    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    t.peer_nxt = t.peer_nxt + 1;
    // RFC 9293 §3.8.6.2.2: the right edge stays where it was; the FIN used one number.
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65534);
    CHECK(t.st.state(s) == tcp::state::time_wait);
    CHECK(t.st.connection(s)->stats().challenge_acks == 0);
    CHECK(t.st.counters().resets_sent == 0);
}

// ---- 3. SYN-ACK with text and FIN ----

TEST_CASE("syn_sent_syn_ack_with_data_and_fin_closes_only_when_text_taken")
{
    // RFC 9293 §3.10.7.3 fourth: after a SYN-ACK, "Data or controls that were queued for
    // transmission may be included. If there are other controls or text in the segment,
    // then continue processing at the sixth step"; §3.10.7.4 eighth: the FIN is processed
    // only when everything before it was taken ("advance RCV.NXT over the FIN"), so
    // text the receiver could not store leaves the FIN for the peer to send again.
    SUBCASE("the text is taken: ack covers text and fin, close-wait")
    {
        scenario t;
        const socket s = t.open_active();
        t.inject(t.segment(SYN | ACK | FIN, t.peer_iss, t.iss + 1), "hi");
        const captured ack = t.expect_one();
        CHECK(ack.flags() == ACK);
        CHECK(ack.seq() == t.iss + 1);
        CHECK(ack.ack() == t.peer_iss + 4);  // SYN, 2 bytes, FIN
        CHECK(t.st.state(s) == tcp::state::close_wait);
        CHECK(t.st.peer_closed(s));
        CHECK(t.st.connection(s)->stats().bytes_received == 2);
        std::error_code ec;
        CHECK(receive_ec(t, s, ec) == "hi");
        CHECK_FALSE(ec);
        CHECK(receive_ec(t, s, ec).empty());
        CHECK(ec == errc::end_of_stream);
    }
    SUBCASE("the pool refuses the text: ack covers only the syn, fin not taken")
    {
        config cfg = scenario_config();
        cfg.pool_bytes = tcp::chunk_pool::chunk_size / 2;  // no chunk at all: every write fails
        scenario t{cfg};
        const socket s = t.open_active();
        t.inject(t.segment(SYN | ACK | FIN, t.peer_iss, t.iss + 1), "hi");
        const captured ack = t.expect_one();
        CHECK(ack.flags() == ACK);
        CHECK(ack.seq() == t.iss + 1);
        CHECK(ack.ack() == t.peer_iss + 1);
        CHECK(t.st.state(s) == tcp::state::established);
        CHECK_FALSE(t.st.peer_closed(s));
        CHECK(t.st.connection(s)->rcv().nxt == t.peer_iss + 1);
        CHECK(t.st.connection(s)->stats().bytes_received == 0);
        CHECK(t.st.pool().refused_at_limit() >= 1);
        std::error_code ec;
        CHECK(receive_ec(t, s, ec).empty());
        CHECK(ec == errc::would_block);
    }
}

// ---- 4. a forged out-of-order FIN ----

TEST_CASE("established_forged_out_of_order_fin_is_forgotten_when_data_passes_it")
{
    // RFC 9293 §3.10.7.4 eighth: a FIN counts only at its place in the sequence space;
    // one held out of order is honoured when the data before it is all in. Data that
    // runs past the held place shows the FIN was never there (a forged or stale one):
    // the stream goes on, and only a FIN at the true end closes it.
    scenario t;
    const socket s = t.establish_active();
    const seq32 r = t.peer_nxt;  // RCV.NXT
    t.inject(t.segment(FIN | ACK, r + 100, t.stack_nxt));
    // Out of order: an immediate duplicate ACK (RFC 5681 §4.2), RCV.NXT unmoved.
    check_segment(t.expect_one(), ACK, t.stack_nxt, r, 65535);
    CHECK_FALSE(t.st.peer_closed(s));

    const std::string text = pattern(300);
    t.inject(t.segment(ACK | PSH, r, t.stack_nxt), text);
    t.advance(t.st.configuration().delayed_ack);
    const captured ack = t.expect_one();
    CHECK(ack.flags() == ACK);
    CHECK(ack.ack() == r + 300);  // not r + 301: the FIN at r + 100 was not taken
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK_FALSE(t.st.peer_closed(s));
    CHECK(t.st.connection(s)->rcv().nxt == r + 300);
    std::error_code ec;
    CHECK(receive_ec(t, s, ec) == text);
    CHECK_FALSE(ec);
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::would_block);  // no end of stream

    t.inject(t.segment(FIN | ACK, r + 300, t.stack_nxt));
    const captured fin_ack = t.expect_one();
    CHECK(fin_ack.flags() == ACK);
    CHECK(fin_ack.ack() == r + 301);
    CHECK(t.st.state(s) == tcp::state::close_wait);
    CHECK(receive_ec(t, s, ec).empty());
    CHECK(ec == errc::end_of_stream);
}

TEST_CASE("established_forged_out_of_order_fin_does_not_end_the_stream_after_sequence_wrap")
{
    // RFC 9293 §3.10.7.4 eighth, with §3.4's modular sequence space: a held FIN that
    // data ran past was false, and must not come back to life when RCV.NXT wraps round
    // to its number 2^32 bytes later (the case above cannot see a FIN that is merely
    // kept: only the wrap shows it). 4 GiB go through the receiver: ~4 s at -O1.
    scenario t;
    const socket s = t.establish_active();
    const seq32 r = t.peer_nxt;
    t.inject(t.segment(FIN | ACK, r + 100, t.stack_nxt));
    check_segment(t.expect_one(), ACK, t.stack_nxt, r, 65535);
    t.inject(t.segment(ACK | PSH, r, t.stack_nxt), pattern(300));
    std::vector<std::uint8_t> buf(1 << 17);
    std::error_code ec;
    REQUIRE(t.st.receive(s, buf, ec) == 300);

    // In-order data, 65 000 bytes a segment (read at once, so the window stays open),
    // with one segment ending exactly where the forged FIN sat, 2^32 bytes on.
    const std::string block = filler(65000, 'y');
    constexpr std::uint64_t wrap = std::uint64_t{1} << 32;
    const std::uint64_t fin_again = wrap + 100;  // bytes after r: RCV.NXT == r + 100 again
    std::uint64_t delivered = 300;
    seq32 nxt = r + 300;
    bool fine = true;
    while (fine && delivered < fin_again + 1000) {
        std::uint64_t n = std::min<std::uint64_t>(block.size(), fin_again + 1000 - delivered);
        if (delivered < fin_again && delivered + n > fin_again) n = fin_again - delivered;
        t.inject(t.segment(ACK, nxt, t.stack_nxt), std::string_view{block}.substr(0, n));
        nxt = nxt + static_cast<std::uint32_t>(n);
        delivered += n;
        const std::size_t got = t.st.receive(s, buf, ec);
        if (got != n || t.st.peer_closed(s) || t.st.state(s) != tcp::state::established) {
            FAIL_CHECK("after " << delivered << " bytes: read " << got << " of " << n << " ("
                                << ec.message() << "), peer_closed " << t.st.peer_closed(s));
            fine = false;
        }
        if (delivered == fin_again) {
            CHECK(nxt == r + 100);
            CHECK(t.st.connection(s)->rcv().nxt == r + 100);
        }
        t.dev.outbox.clear();  // the stack's ACKs and window updates: not the point here
        t.st.poll();
        t.dev.outbox.clear();
    }
    CHECK(fine);
    CHECK_FALSE(t.st.peer_closed(s));
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.connection(s)->rcv().nxt == r + 1100);
    CHECK(t.st.connection(s)->stats().bytes_received == fin_again + 1000);
    (void)receive_ec(t, s, ec);
    CHECK(ec == errc::would_block);

    // The true FIN still closes it.
    t.inject(t.segment(FIN | ACK, nxt, t.stack_nxt));
    const captured fin_ack = t.expect_one();
    CHECK(fin_ack.flags() == ACK);
    CHECK(fin_ack.ack() == nxt + 1);
    CHECK(t.st.state(s) == tcp::state::close_wait);
}

// ---- 5. RFC 5961 §7 throttling ----

TEST_CASE("established_challenge_acks_are_rate_limited")
{
    // RFC 5961 §7: "An implementation SHOULD include an ACK throttling mechanism" for
    // the challenge ACKs of §3.2 (RST in the window but not at RCV.NXT), §4.2 (SYN in a
    // synchronized state) and §5.2 (ACK outside [SND.UNA - MAX.SND.WND, SND.NXT]).
    // tcpx answers one per min_rto / 2: ten at one instant draw one ACK; the next is
    // answered once min_rto / 2 has passed, not a microsecond before.
    scenario t;
    const socket s = t.establish_active();
    wire::tcp_header forged;
    SUBCASE("rst in the window but not at rcv_nxt (RFC 5961 §3.2)")
    {
        forged = t.segment(RST, t.peer_nxt + 1);
    }
    SUBCASE("syn in established (RFC 5961 §4.2)")
    {
        forged = t.segment(SYN, t.peer_nxt);
    }
    SUBCASE("ack above snd_nxt (RFC 5961 §5.2)")
    {
        forged = t.segment(ACK, t.peer_nxt, t.stack_nxt + 1000);
    }
    for (int i = 0; i < 10; ++i) t.inject(forged);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(t.st.connection(s)->stats().challenge_acks == 1);

    const duration half_rto = t.st.configuration().min_rto / 2;
    t.advance(half_rto - 1us);
    t.inject(forged);
    t.expect_nothing();
    CHECK(t.st.connection(s)->stats().challenge_acks == 1);

    t.advance(1us);
    t.inject(forged);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    CHECK(t.st.connection(s)->stats().challenge_acks == 2);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.counters().resets_sent == 0);
}

// ---- 6. keep-alive and dropped segments ----

TEST_CASE("established_dropped_segments_do_not_refresh_keepalive")
{
    // RFC 1122 §4.2.3.6: the keep-alive idle time runs from the last segment received
    // from the peer; RFC 5961 §3.2 / §4.2 / §5.2: a segment answered with a challenge
    // ACK is discarded and has no other effect — in particular it shows no live peer.
    // A dead peer's connection, pelted with forged segments, still times out after
    // keepalive_idle + keepalive_probes * keepalive_interval.
    config cfg = scenario_config();
    cfg.keepalive = true;
    cfg.keepalive_idle = 10s;
    cfg.keepalive_interval = 1s;
    cfg.keepalive_probes = 3;
    scenario t{cfg};
    const socket s = t.establish_active();
    const instant start = t.time.now();
    wire::tcp_header dropped;
    SUBCASE("rst in the window but not at rcv_nxt")
    {
        dropped = t.segment(RST, t.peer_nxt + 1);
    }
    SUBCASE("syn in established")
    {
        dropped = t.segment(SYN, t.peer_nxt);
    }
    SUBCASE("ack above snd_nxt")
    {
        dropped = t.segment(ACK, t.peer_nxt, t.stack_nxt + 1000);
    }
    int probes = 0;
    for (int i = 1; i <= 12; ++i) {
        t.advance(1s);
        CHECK(t.time.now() == start + i * 1s);
        for (const auto& c : t.sent())
            if (c.seq() == t.stack_nxt - 1 && c.payload.empty()) ++probes;  // keep-alive probe
        REQUIRE(t.st.state(s) == tcp::state::established);
        t.inject(dropped);
        const captured challenge = t.expect_one();
        CHECK(challenge.seq() == t.stack_nxt);
        CHECK(challenge.ack() == t.peer_nxt);
    }
    CHECK(probes == 3);  // at idle + 0, 1, 2 intervals
    CHECK(t.st.connection(s)->stats().challenge_acks == 12);
    t.advance(1s - 1us);
    CHECK(t.st.state(s) == tcp::state::established);
    t.advance(1us);
    CHECK(t.time.now() == start + 13s);
    (void)t.sent();
    CHECK(t.st.state(s) == tcp::state::closed);
    CHECK(t.st.error(s) == errc::timed_out);
}

// ---- 7. reopening from TIME-WAIT ----

TEST_CASE("time_wait_reopen_iss_is_beyond_old_incarnation")
{
    // RFC 1122 §4.2.2.13 (1), kept by RFC 6191 §2 for SYNs without timestamps: a
    // connection reopened from TIME-WAIT "assigns its initial sequence number for the new
    // connection to be larger than the largest sequence number it used on the previous
    // connection incarnation". The RFC 6528 clock alone does not see to that when the old
    // incarnation sent faster than 4 µs a byte: here 200 000 bytes at no time at all.
    scenario t;
    listener l;
    l = t.open_passive();
    t.inject(t.peer_ack(t.stack_nxt));
    t.expect_nothing();
    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    const seq32 old_iss = t.iss;

    send_all_acknowledged(t, s, 200'000);
    REQUIRE_FALSE(t.st.shutdown(s));
    const captured fin = t.expect_one();
    REQUIRE(fin.flags() == (FIN | ACK));
    REQUIRE(fin.seq() == t.stack_nxt);
    t.stack_nxt = t.stack_nxt + 1;
    t.inject(t.segment(FIN | ACK, t.peer_nxt, t.stack_nxt));
    t.peer_nxt = t.peer_nxt + 1;
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65534);  // RFC 9293 §3.8.6.2.2
    REQUIRE(t.st.state(s) == tcp::state::time_wait);
    const seq32 old_highest = t.stack_nxt - 1;  // the FIN's sequence number
    CHECK(old_highest == old_iss + 200'001);

    t.advance(100ms);
    // The precondition that makes this test bite: the plain RFC 6528 ISN would lie
    // inside the old incarnation's sequence space.
    const tcp::isn_generator plain{*t.st.configuration().isn_secret};
    const seq32 clock_iss = plain.next(t.st.configuration().address.value, t.local_port, t.peer_address.value,
                                       t.peer_port, t.time.now());
    REQUIRE(seq_le(clock_iss, old_highest));

    const seq32 new_peer_iss = t.peer_nxt + 100'000;  // above the old RCV.NXT
    t.inject(t.segment(SYN, new_peer_iss));
    const captured synack = t.expect_one();
    CHECK(synack.flags() == (SYN | ACK));
    CHECK(synack.ack() == new_peer_iss + 1);
    CHECK(seq_gt(synack.seq(), old_highest));
    CHECK(t.st.counters().time_wait_reopened == 1);
    CHECK(t.st.connection_count() == 1);
    CHECK(t.st.state(s) == tcp::state::closed);  // the old handle is stale

    // And the new incarnation completes from there.
    t.inject(t.segment(ACK, new_peer_iss + 1, synack.seq() + 1));
    t.expect_nothing();
    const socket fresh = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.st.state(fresh) == tcp::state::established);
    CHECK(t.st.connection(fresh)->iss() == synack.seq());
}

TEST_CASE("established_out_of_window_text_is_acked_every_time_not_throttled")
{
    // RFC 9293 §3.10.7.4 first: an unacceptable segment is answered with an ACK. The
    // throttle (RFC 5961 §7) is for challenge ACKs and bare segments; text beyond the
    // window — a zero-window probe, or a segment the window no longer fits — gets its
    // ACK each time, so a forged bare ACK cannot use up the answer the real peer needs.
    scenario t;
    const socket s = t.establish_active();
    t.inject(t.segment(ACK, t.peer_nxt, t.stack_nxt + 1000));  // challenge: the throttle's one ACK now
    REQUIRE(t.sent().size() == 1);
    for (int i = 0; i < 3; ++i) {
        t.inject(t.segment(ACK, t.peer_nxt + 70000, t.stack_nxt), "x");  // beyond the 65,535 window
        check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 65535);
    }
    // A bare out-of-window ACK is still throttled.
    t.inject(t.segment(ACK, t.peer_nxt + 70000, t.stack_nxt));
    t.expect_nothing();
    CHECK(t.st.state(s) == tcp::state::established);
}
