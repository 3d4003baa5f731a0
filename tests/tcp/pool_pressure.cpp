// Scenario tests: the data pool under out-of-order pressure — the out-of-order share
// (config::out_of_order_pool_percent) and pruning of holes that have stood too long
// (config::out_of_order_prune_after).
//
// Have open: RFC 1122 §4.2.2.20 (queueing out of order is a SHOULD); RFC 2018 §8 (a
// receiver may discard data it SACKed; the sender keeps it until it is acknowledged).
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include "support/scenario.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

constexpr std::size_t chunk = tcp::chunk_pool::chunk_size;

/// One of several connections the scenario's peer opened to the stack.
struct peer_connection {
    socket s;
    std::uint16_t local_port;
    seq32 peer_nxt;
    seq32 stack_nxt;
};

/// An active open whose SYN-ACK permits SACK (so the stack's ACKs carry blocks).
peer_connection open_one(scenario& t)
{
    const socket s = t.open_active();
    wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
    synack.options.mss = 1460;
    synack.options.sack_permitted = true;
    t.inject(synack);
    t.peer_nxt = t.peer_iss + 1;
    REQUIRE(t.st.state(s) == tcp::state::established);
    (void)t.sent();
    return {s, t.local_port, t.peer_nxt, t.stack_nxt};
}

/// Text from the peer on `c`, `offset` bytes past its RCV.NXT.
void send_on(scenario& t, const peer_connection& c, std::size_t offset, std::string_view text)
{
    t.local_port = c.local_port;
    inject_data(t, c.peer_nxt + static_cast<std::uint32_t>(offset), c.stack_nxt, text);
}

/// The pool: 16 chunks (256 KiB); the share a quarter of it, one 64 KiB window's worth.
config pressure_config()
{
    config c = scenario_config();
    c.pool_bytes = 16 * chunk;
    return c;
}

}  // namespace

TEST_CASE("established_far_out_of_order_bytes_cannot_take_the_pool_from_in_order_data")
{
    // One byte near the far edge of each window pins the whole window (four chunks).
    // Four such peers would hold all sixteen chunks, and a healthy connection's
    // in-order text would then be refused; the share stops them at four chunks.
    scenario t{pressure_config()};
    std::vector<peer_connection> holders;
    for (int k = 0; k < 4; ++k) holders.push_back(open_one(t));
    const peer_connection healthy = open_one(t);
    for (const peer_connection& h : holders) send_on(t, h, 60 * 1024, "x");
    (void)t.sent();
    CHECK(t.st.pool().out_of_order_in_use() == 4 * chunk);
    std::uint64_t over_share = 0;
    for (const peer_connection& h : holders) over_share += conn(t, h.s).stats().out_of_order_over_share;
    CHECK(over_share == 3);
    // The healthy peer fills its 64 KiB window in order, twice over as the application reads.
    const std::string text = pattern(128 * 1024);
    std::string got;
    for (std::size_t at = 0; at < text.size(); at += 1024) {
        send_on(t, healthy, at, std::string_view{text}.substr(at, 1024));
        (void)t.sent();
        if ((at + 1024) % (32 * 1024) == 0) got += t.receive(healthy.s);
    }
    got += t.receive(healthy.s);
    CHECK(conn(t, healthy.s).stats().in_order_dropped == 0);
    CHECK(got == text);
}

TEST_CASE("established_out_of_order_refused_for_the_share_prunes_holes_older_than_the_limit")
{
    // RFC 2018 §8: SACKed data may be discarded. Under pressure, a hole that has stood
    // config::out_of_order_prune_after is given up (its peer resends); a younger one is
    // kept, and the newcomer's text is refused instead.
    config c = pressure_config();
    c.out_of_order_pool_percent = 50;  // eight chunks: two windows' worth
    scenario t{c};
    const peer_connection old_hole = open_one(t);
    const peer_connection young_hole = open_one(t);
    const peer_connection newcomer = open_one(t);
    send_on(t, old_hole, 60 * 1024, "o");
    (void)t.sent();
    t.advance(c.out_of_order_prune_after);
    send_on(t, young_hole, 60 * 1024, "y");
    (void)t.sent();
    CHECK(t.st.pool().out_of_order_in_use() == 8 * chunk);

    send_on(t, newcomer, 60 * 1024, "n");
    (void)t.sent();
    CHECK(conn(t, newcomer.s).stats().out_of_order_over_share == 1);
    CHECK(t.st.counters().out_of_order_prunes == 1);
    CHECK(t.st.counters().out_of_order_bytes_pruned == 1);
    CHECK(conn(t, old_hole.s).stats().out_of_order_pruned == 1);
    CHECK_FALSE(conn(t, old_hole.s).holds_out_of_order());
    CHECK(conn(t, young_hole.s).holds_out_of_order());
    CHECK(t.st.pool().out_of_order_in_use() == 4 * chunk);

    // The newcomer's resent text now fits; the pruned connection's peer resends its
    // byte with the hole before it, and every byte arrives once, in order.
    send_on(t, newcomer, 60 * 1024, "n");
    (void)t.sent();
    CHECK(conn(t, newcomer.s).holds_out_of_order());
    const std::string text = pattern(60 * 1024);
    send_on(t, old_hole, 0, text);
    (void)t.sent();
    CHECK(conn(t, old_hole.s).rcv().nxt == old_hole.peer_nxt + static_cast<std::uint32_t>(text.size()));
    send_on(t, old_hole, 60 * 1024, "o");
    (void)t.sent();
    CHECK(t.receive(old_hole.s) == text + "o");
}

TEST_CASE("established_held_out_of_order_data_is_not_reported_after_pruning")
{
    // After the prune, no SACK block names the forgotten bytes (the sender must not
    // count them delivered), and the ACK is the plain cumulative one.
    config c = pressure_config();
    scenario t{c};
    const peer_connection holder = open_one(t);
    const peer_connection newcomer = open_one(t);
    send_on(t, holder, 60 * 1024, "h");
    (void)t.sent();
    t.advance(c.out_of_order_prune_after);
    (void)t.sent();
    send_on(t, newcomer, 60 * 1024, "n");
    (void)t.sent();
    REQUIRE(conn(t, holder.s).stats().out_of_order_pruned == 1);
    send_on(t, holder, 10, "z");  // a new island: the ACK reports only it
    const captured ack = t.expect_one();
    CHECK(ack.ack() == holder.peer_nxt);
    REQUIRE(ack.tcp.options.sack_count == 1);
    CHECK(ack.tcp.options.sack[0].left == holder.peer_nxt + 10);
    CHECK(ack.tcp.options.sack[0].right == holder.peer_nxt + 11);
}
