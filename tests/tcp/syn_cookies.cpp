// SYN cookies, RFC 4987 §3.6: the cookie itself (tcp/syn_cookie.hpp) and a listener
// that answers with one when it may keep no more half-open connections
// (config::syn_cookies), then opens the connection from the ACK that returns it.
#include <tcpx/stack.hpp>
#include <tcpx/tcp/syn_cookie.hpp>
#include <doctest/doctest.h>

#include "support/handshake_helpers.hpp"
#include "support/scenario.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

const tcp::syn_cookie_generator::tuple a_tuple{0x0a000001, 80, 0x0a000002, 40000};

instant at(std::chrono::seconds s) { return instant{} + s; }

config cookie_config(syn_cookie_mode mode)
{
    config c = scenario_config();
    c.syn_cookies = mode;
    return c;
}

listener listen_on(scenario& t, std::size_t backlog = 8)
{
    std::error_code ec;
    const listener l = t.st.listen(t.local_port, backlog, ec);
    REQUIRE_FALSE(ec);
    return l;
}

/// The peer's SYN with ISN `isn` from its current port; returns the SYN-ACK.
captured syn(scenario& t, seq32 isn, const wire::tcp_options& options = {})
{
    wire::tcp_header h = t.segment(SYN, isn);
    h.options = options;
    t.inject(h);
    const captured synack = t.expect_one();
    REQUIRE(synack.flags() == (SYN | ACK));
    REQUIRE(synack.ack() == isn + 1);
    return synack;
}

/// Cookies always, window scaling on and a buffer that needs it (RFC 7323 §2.3).
config scaling_cookie_config()
{
    config c = cookie_config(syn_cookie_mode::always);
    c.window_scaling = true;
    c.receive_buffer = 1 << 20;
    return c;
}

/// A SYN's options: MSS `mss`, shift 7, SACK-permitted, and TSopt if `tsval` is given.
wire::tcp_options offered(std::uint16_t mss, std::optional<std::uint32_t> tsval)
{
    wire::tcp_options o;
    o.mss = mss;
    o.window_scale = 7;
    o.sack_permitted = true;
    if (tsval) o.timestamp = wire::timestamps{*tsval, 0};
    return o;
}

/// The connection waiting on `l`, which must be there.
socket accept_one(scenario& t, listener l)
{
    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    return s;
}

/// The peer's ACK of `synack`.
wire::tcp_header ack_of(const scenario& t, const captured& synack)
{
    return t.segment(ACK, synack.ack(), synack.seq() + 1);
}

}  // namespace

// ---- the cookie ----

TEST_CASE("syn_cookie_checks_for_its_own_syn_in_this_period_and_the_next_only")
{
    const tcp::syn_cookie_generator g{{1, 2}};
    const seq32 isn{123456};
    const seq32 cookie = g.make(a_tuple, isn, 5, at(std::chrono::seconds{1000}));
    CHECK(g.check(a_tuple, isn, cookie, at(std::chrono::seconds{1000})) == std::optional<std::uint8_t>{5});
    // RFC 4987 §3.6: t moves every 64 s; the previous t is still accepted.
    CHECK(g.check(a_tuple, isn, cookie, at(std::chrono::seconds{1000 + 64})) == std::optional<std::uint8_t>{5});
    CHECK_FALSE(g.check(a_tuple, isn, cookie, at(std::chrono::seconds{1000 + 192})));
    // Any other SYN, tuple or bit fails.
    CHECK_FALSE(g.check(a_tuple, isn + 1, cookie, at(std::chrono::seconds{1000})));
    auto other = a_tuple;
    other.remote_port = 40001;
    CHECK_FALSE(g.check(other, isn, cookie, at(std::chrono::seconds{1000})));
    for (unsigned bit = 0; bit < 32; ++bit) {
        CAPTURE(bit);
        CHECK_FALSE(g.check(a_tuple, isn, seq32{cookie.value() ^ (1u << bit)}, at(std::chrono::seconds{1000})));
    }
    // Another secret makes other cookies.
    const tcp::syn_cookie_generator h{{1, 3}};
    CHECK_FALSE(h.check(a_tuple, isn, cookie, at(std::chrono::seconds{1000})));
}

TEST_CASE("syn_cookie_mss_index_is_the_largest_table_value_not_above_the_peers")
{
    using g = tcp::syn_cookie_generator;
    CHECK(tcp::syn_cookie_mss_table[g::mss_index(1460)] == 1460);
    CHECK(tcp::syn_cookie_mss_table[g::mss_index(9000)] == 1460);
    CHECK(tcp::syn_cookie_mss_table[g::mss_index(1300)] == 1280);
    CHECK(tcp::syn_cookie_mss_table[g::mss_index(536)] == 536);
    CHECK(tcp::syn_cookie_mss_table[g::mss_index(100)] == 536);  // below the table: its least
}

TEST_CASE("syn_cookie_tsval_carries_the_options_and_never_runs_ahead_of_the_clock")
{
    const tcp::cookie_options cases[] = {{std::nullopt, false}, {std::uint8_t{7}, true}, {std::uint8_t{0}, false},
                                         {std::uint8_t{14}, true}};
    for (const auto& o : cases) {
        for (const std::uint32_t now : {0u, 1u, 63u, 64u, 1000u, 0xffffffc0u, 0xffffffffu}) {
            CAPTURE(now);
            const std::uint32_t ts = tcp::cookie_tsval(now, o);
            // RFC 7323 §5: later TSvals of the connection must not be older than this one.
            CHECK(seq_le(seq32{ts}, seq32{now}));
            CHECK(seq32{now} - seq32{ts} < 64);
            const auto back = tcp::cookie_options::decode(ts);
            REQUIRE(back);
            CHECK(back->window_scale == o.window_scale);
            CHECK(back->sack_permitted == o.sack_permitted);
        }
    }
    // Bit 5 clear: an echo that was never one of our TSvals.
    CHECK_FALSE(tcp::cookie_options::decode(0));
    CHECK_FALSE(tcp::cookie_options::decode(0x1f));
}

// ---- a listener with cookies ----

TEST_CASE("listen_syn_past_the_half_open_limit_is_answered_with_a_cookie_and_no_state")
{
    config c = cookie_config(syn_cookie_mode::when_full);
    c.max_half_open = 1;
    scenario t{c};
    const listener l = listen_on(t);
    t.peer_port = 40000;
    (void)syn(t, seq32{1000});  // the one half-open connection allowed
    REQUIRE(t.st.connection_count() == 1);
    t.peer_port = 40001;
    const captured synack = syn(t, seq32{7000});
    CHECK(t.st.connection_count() == 1);  // RFC 4987 §3.6: nothing kept
    CHECK(t.st.counters().syn_cookies_sent == 1);
    CHECK(t.st.counters().dropped(drop_reason::half_open_limit) == 0);
    // The ACK that returns the cookie opens the connection, data and all.
    t.inject(ack_of(t, synack), "hello");
    CHECK(t.st.counters().syn_cookies_validated == 1);
    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.st.state(s) == tcp::state::established);
    CHECK(t.st.connection(s)->id().remote_port == 40001);
    CHECK(t.receive(s) == "hello");
    REQUIRE(t.send(s, "world") == 5);
    const captured out = t.expect_one();
    CHECK(out.text() == "world");
    CHECK(out.seq() == synack.seq() + 1);
    CHECK(out.ack() == seq32{7001 + 5});
}

TEST_CASE("listen_ack_with_a_wrong_cookie_is_reset_and_counted")
{
    scenario t{cookie_config(syn_cookie_mode::always)};
    listen_on(t);
    const captured synack = syn(t, seq32{1000});
    CHECK(t.st.connection_count() == 0);
    wire::tcp_header h = ack_of(t, synack);
    h.ack = h.ack + 1;
    t.inject(h);
    const captured rst = t.expect_one();
    CHECK(rst.flags() == RST);
    CHECK(rst.seq() == h.ack);  // RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST>
    CHECK(t.st.counters().syn_cookies_failed == 1);
    CHECK(t.st.counters().syn_cookies_validated == 0);
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("listen_cookie_segment_past_a_lost_first_ack_is_dropped_not_reset_the_resent_first_opens")
{
    // The network lost the client's ACK and first segment; its second arrives, SEG.SEQ - 1
    // not its ISN, so the cookie cannot check. A reset would kill a connection the
    // client's retransmission from its first byte opens: dropped and counted instead.
    scenario t{cookie_config(syn_cookie_mode::always)};
    const listener l = listen_on(t);
    const captured synack = syn(t, seq32{1000});
    wire::tcp_header second = ack_of(t, synack);
    second.seq = second.seq + 5;
    t.inject(second, "world");
    t.expect_nothing();
    CHECK(t.st.counters().syn_cookies_failed == 1);
    CHECK(t.st.counters().dropped(drop_reason::listen_cookie_text) == 1);
    CHECK(t.st.connection_count() == 0);
    // The client's retransmission timer fires: its first unacknowledged byte, ISN + 1.
    t.inject(ack_of(t, synack), "hello");
    CHECK(t.st.counters().syn_cookies_validated == 1);
    std::error_code ec;
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    t.inject(second, "world");
    CHECK(t.receive(s) == "helloworld");
}

TEST_CASE("listen_cookie_older_than_two_periods_is_refused")
{
    scenario t{cookie_config(syn_cookie_mode::always)};
    listen_on(t);
    const captured synack = syn(t, seq32{1000});
    t.advance(2 * tcp::syn_cookie_generator::period + std::chrono::seconds{1});
    t.inject(ack_of(t, synack));
    CHECK(t.expect_one().flags() == RST);
    CHECK(t.st.counters().syn_cookies_failed == 1);
    CHECK(t.st.connection_count() == 0);
}

TEST_CASE("listen_ack_is_not_taken_for_a_cookie_when_none_was_sent")
{
    // when_full and nothing full: an ACK to the listener is §3.10.7.2's bad ACK, even one
    // that happens to match (the check is not even made, so forging needs a flood first).
    scenario t{cookie_config(syn_cookie_mode::when_full)};
    listen_on(t);
    t.inject(t.segment(ACK, seq32{1001}, seq32{5000}));
    CHECK(t.expect_one().flags() == RST);
    CHECK(t.st.counters().syn_cookies_failed == 0);
    CHECK(t.st.counters().syn_cookies_sent == 0);
}

TEST_CASE("listen_never_mode_sends_no_cookie")
{
    config c = cookie_config(syn_cookie_mode::never);
    c.max_half_open = 0;
    scenario t{c};
    listen_on(t);
    t.inject(t.segment(SYN, seq32{1000}));
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::half_open_limit) == 1);
    CHECK(t.st.counters().syn_cookies_sent == 0);
}

TEST_CASE("listen_cookie_with_timestamps_keeps_window_scale_and_sack")
{
    // RFC 7323 §4.3: the ACK's TSecr echoes the SYN-ACK's TSval, whose low bits hold the
    // shift and SACK-permitted the SYN offered.
    scenario t{scaling_cookie_config()};
    const listener l = listen_on(t);
    const captured synack = syn(t, seq32{1000}, offered(1460, 5000));
    REQUIRE(synack.tcp.options.timestamp);
    CHECK(synack.tcp.options.timestamp->tsecr == 5000);
    CHECK(synack.tcp.options.window_scale);
    CHECK(synack.tcp.options.sack_permitted);
    CHECK(synack.tcp.options.mss);
    wire::tcp_header h = ack_of(t, synack);
    h.options.timestamp = wire::timestamps{5001, synack.tcp.options.timestamp->tsval};
    t.inject(h);
    t.expect_nothing();
    const socket s = accept_one(t, l);
    const tcp::connection_info i = t.st.info(s);
    CHECK(i.timestamps);
    CHECK(i.sack);
    CHECK(i.wscale);
    CHECK(i.snd_wscale == 7);
    CHECK(i.rcv_wscale == synack.tcp.options.window_scale.value());
    CHECK(t.st.connection(s)->send_mss() == 1460);
    // Its segments carry TSvals no older than the SYN-ACK's (the peer's PAWS, §5).
    REQUIRE(t.send(s, "x") == 1);
    const captured out = t.expect_one();
    REQUIRE(out.tcp.options.timestamp);
    CHECK(seq_ge(seq32{out.tcp.options.timestamp->tsval}, seq32{synack.tcp.options.timestamp->tsval}));
    CHECK(out.tcp.options.timestamp->tsecr == 5001);
}

TEST_CASE("listen_cookie_without_timestamps_has_no_window_scale_or_sack")
{
    scenario t{scaling_cookie_config()};
    const listener l = listen_on(t);
    const captured synack = syn(t, seq32{1000}, offered(1300, std::nullopt));
    t.inject(ack_of(t, synack));
    t.expect_nothing();
    const socket s = accept_one(t, l);
    const tcp::connection_info i = t.st.info(s);
    CHECK_FALSE(i.timestamps);
    CHECK_FALSE(i.sack);
    CHECK_FALSE(i.wscale);
    // The MSS is the table's largest not above the peer's 1300.
    CHECK(t.st.connection(s)->send_mss() == 1280);
}

TEST_CASE("listen_cookie_ack_into_a_full_accept_queue_is_dropped_then_taken_when_retried")
{
    // The accept queue is full when the SYN comes: a cookie answers, and its ACK is
    // dropped unanswered while the queue stays full; once accept() makes room, the
    // peer's retransmission opens the connection.
    scenario t{cookie_config(syn_cookie_mode::when_full)};
    const listener l = listen_on(t, 1);
    t.peer_port = 40000;
    const captured first = syn(t, seq32{1000});
    t.inject(ack_of(t, first));
    t.expect_nothing();
    t.peer_port = 40001;
    const captured synack = syn(t, seq32{7000});
    CHECK(t.st.counters().syn_cookies_sent == 1);
    t.inject(ack_of(t, synack), "req");
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::listen_queue_full) == 1);
    CHECK(t.st.connection_count() == 1);
    std::error_code ec;
    (void)t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    t.advance(std::chrono::seconds{1});
    t.inject(ack_of(t, synack), "req");
    CHECK(t.st.counters().syn_cookies_validated == 2);
    const socket s = t.st.accept(l, ec);
    REQUIRE_FALSE(ec);
    CHECK(t.receive(s) == "req");
}

TEST_CASE("listen_many_syns_under_cookies_keep_no_memory")
{
    // A flood past the half-open limit: every SYN is answered, none is kept.
    config c = cookie_config(syn_cookie_mode::when_full);
    c.max_half_open = 4;
    scenario t{c};
    listen_on(t);
    for (std::uint16_t p = 0; p < 1000; ++p) {
        t.peer_port = static_cast<std::uint16_t>(20000 + p);
        t.inject(t.segment(SYN, seq32{p * 7919u}));
    }
    CHECK(t.sent().size() == 1000);
    CHECK(t.st.connection_count() == 4);
    CHECK(t.st.counters().syn_cookies_sent == 996);
}

TEST_CASE("listen_flood_of_spoofed_syns_lets_every_legitimate_client_in")
{
    // RFC 4987 §3.6's purpose: 20,000 SYNs from spoofed sources that never answer fill
    // the half-open table at once; a hundred real clients, one every 200 flood SYNs,
    // each complete their handshake from a cookie and are accepted. Nothing is kept for
    // the flood beyond the table's bound.
    config c = cookie_config(syn_cookie_mode::when_full);
    c.max_half_open = 16;
    scenario t{c};
    const listener l = listen_on(t, 128);
    std::uint32_t rng = 12345;
    auto next = [&rng] { return rng = rng * 1664525u + 1013904223u; };
    std::size_t accepted = 0;
    for (int i = 0; i < 20'000; ++i) {
        t.peer_address = wire::ipv4_address{10, 9, static_cast<std::uint8_t>(next() >> 24), static_cast<std::uint8_t>(1 + next() % 250)};
        t.peer_port = static_cast<std::uint16_t>(1024 + next() % 60000);
        t.inject(t.segment(SYN, seq32{next()}));
        (void)t.sent();
        if (i % 200 == 199) {
            t.peer_address = wire::ipv4_address{10, 0, 0, 2};
            t.peer_port = static_cast<std::uint16_t>(40000 + i / 200);
            const captured synack = syn(t, seq32{next()});
            t.inject(ack_of(t, synack));
            t.expect_nothing();
            std::error_code ec;
            const socket s = t.st.accept(l, ec);
            REQUIRE_MESSAGE(!ec, "client " << i / 200);
            CHECK(t.st.state(s) == tcp::state::established);
            ++accepted;
        }
    }
    CHECK(accepted == 100);
    CHECK(t.st.connection_count() == 16 + 100);
    CHECK(t.st.counters().syn_cookies_validated == 100);
    CHECK(t.st.counters().syn_cookies_sent == 20'100 - 16);
}
