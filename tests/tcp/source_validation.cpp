// RFC 1122 §3.2.1.3 and §4.2.3.10: a datagram whose source is not one host is
// discarded before anything answers it — no SYN-ACK, RST or ICMP message may go to a
// broadcast, a multicast group or nobody — and so is one claiming to come from the
// stack itself (the "land" attack). One case per kind of source, each seen by a
// listener (which would answer with SYN-ACK) and a closed port (which would answer RST).
#include <tcpx/stack.hpp>
#include <doctest/doctest.h>

#include "support/handshake_helpers.hpp"
#include "support/scenario.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

struct bad_source {
    wire::ipv4_address address;
    drop_reason reason;
};

const bad_source bad_sources[] = {
    {{0, 0, 0, 0}, drop_reason::source_this_network},          // §3.2.1.3 (a)
    {{0, 1, 2, 3}, drop_reason::source_this_network},          // §3.2.1.3 (b)
    {{127, 0, 0, 1}, drop_reason::source_loopback},            // §3.2.1.3 (g)
    {{127, 9, 9, 9}, drop_reason::source_loopback},
    {{224, 0, 0, 1}, drop_reason::source_multicast},           // class D
    {{239, 255, 255, 250}, drop_reason::source_multicast},
    {{240, 0, 0, 1}, drop_reason::source_reserved},            // class E
    {{254, 1, 1, 1}, drop_reason::source_reserved},
    {{255, 255, 255, 255}, drop_reason::source_broadcast},     // §3.2.1.3 (c)
};

}  // namespace

TEST_CASE("listen_syn_from_a_source_that_is_not_one_host_is_dropped_unanswered")
{
    for (const bad_source& b : bad_sources) {
        CAPTURE(b.address.to_string());
        scenario t;
        std::error_code ec;
        (void)t.st.listen(t.local_port, 8, ec);
        REQUIRE_FALSE(ec);
        t.peer_address = b.address;
        t.inject(t.segment(SYN, t.peer_iss));
        t.expect_nothing();
        CHECK(t.st.counters().dropped(b.reason) == 1);
        CHECK(dropped_other_than(t.st.counters(), b.reason) == 0);
        CHECK(t.st.connection_count() == 0);
    }
}

TEST_CASE("closed_segment_from_a_source_that_is_not_one_host_gets_no_reset")
{
    // §3.10.7.1 would answer a segment to a closed port with RST: not to these sources.
    for (const bad_source& b : bad_sources) {
        CAPTURE(b.address.to_string());
        scenario t;
        t.peer_address = b.address;
        t.inject(t.segment(SYN, t.peer_iss));
        t.inject(t.segment(ACK, t.peer_iss, seq32{77}));
        t.expect_nothing();
        CHECK(t.st.counters().dropped(b.reason) == 2);
        CHECK(t.st.counters().resets_sent == 0);
    }
}

namespace {
/// A stack at `address` (with `prefix_length`) listening; a SYN from `peer`: whether a
/// SYN-ACK answered it.
bool syn_answered(wire::ipv4_address address, std::uint8_t prefix_length, wire::ipv4_address peer)
{
    config c = scenario_config();
    c.address = address;
    c.prefix_length = prefix_length;
    scenario t{c};
    std::error_code ec;
    (void)t.st.listen(t.local_port, 8, ec);
    REQUIRE_FALSE(ec);
    t.peer_address = peer;
    t.inject(t.segment(SYN, t.peer_iss));
    const auto out = t.sent();
    return out.size() == 1 && out.front().flags() == (SYN | ACK);
}
}  // namespace

TEST_CASE("listen_syn_from_the_subnet_directed_broadcast_is_dropped_when_the_prefix_is_known")
{
    // §3.2.1.3 (d)-(e): {<Network>, -1} is a broadcast, known only with the prefix.
    const wire::ipv4_address us{10, 0, 0, 1};
    CHECK_FALSE(syn_answered(us, 24, {10, 0, 0, 255}));
    // Another subnet's .255 is one host as far as we can tell; so is ours without a prefix.
    CHECK(syn_answered(us, 24, {10, 0, 1, 255}));
    CHECK(syn_answered(us, 0, {10, 0, 0, 255}));
    // RFC 3021: a /31 has two hosts and no broadcast.
    CHECK(syn_answered({10, 0, 0, 0}, 31, {10, 0, 0, 1}));
}

TEST_CASE("listen_syn_from_loopback_is_taken_by_a_stack_on_a_loopback_address")
{
    // 127/8 "MUST NOT appear outside a host": a stack that is itself on 127.0.0.1 is
    // that host's loopback, and its peers are too.
    CHECK(syn_answered({127, 0, 0, 1}, 0, {127, 0, 0, 2}));
    CHECK_FALSE(syn_answered({10, 0, 0, 1}, 0, {127, 0, 0, 2}));
}

TEST_CASE("listen_syn_from_our_own_address_and_port_is_dropped_but_another_port_is_answered")
{
    // The "land" attack: our address and port as the source of a SYN to that port.
    scenario t;
    std::error_code ec;
    (void)t.st.listen(t.local_port, 8, ec);
    t.peer_address = t.st.configuration().address;
    t.peer_port = t.local_port;
    t.inject(t.segment(SYN, t.peer_iss));
    t.expect_nothing();
    CHECK(t.st.counters().dropped(drop_reason::source_is_ours) == 1);
    // From our address but another port: a connection to ourselves, which is allowed.
    t.peer_port = 40000;
    t.inject(t.segment(SYN, t.peer_iss));
    CHECK(t.expect_one().flags() == (SYN | ACK));
}

TEST_CASE("kind_of_classifies_every_special_block")
{
    using wire::address_kind;
    using wire::ipv4_address;
    CHECK(wire::kind_of(ipv4_address{10, 0, 0, 2}) == address_kind::unicast);
    CHECK(wire::kind_of(ipv4_address{223, 255, 255, 255}) == address_kind::unicast);
    CHECK(wire::kind_of(ipv4_address{1, 0, 0, 0}) == address_kind::unicast);
    CHECK(wire::kind_of(ipv4_address{0, 255, 255, 255}) == address_kind::this_network);
    CHECK(wire::kind_of(ipv4_address{126, 255, 255, 255}) == address_kind::unicast);
    CHECK(wire::kind_of(ipv4_address{128, 0, 0, 0}) == address_kind::unicast);
    CHECK(wire::kind_of(ipv4_address{224, 0, 0, 0}) == address_kind::multicast);
    CHECK(wire::kind_of(ipv4_address{255, 255, 255, 254}) == address_kind::reserved);
    CHECK(wire::kind_of(ipv4_address{255, 255, 255, 255}) == address_kind::limited_broadcast);
    CHECK(wire::is_directed_broadcast(ipv4_address{192, 168, 3, 255}, ipv4_address{192, 168, 3, 7}, 24));
    CHECK_FALSE(wire::is_directed_broadcast(ipv4_address{192, 168, 3, 254}, ipv4_address{192, 168, 3, 7}, 24));
    CHECK(wire::is_directed_broadcast(ipv4_address{10, 0, 0, 3}, ipv4_address{10, 0, 0, 1}, 30));
    CHECK_FALSE(wire::is_directed_broadcast(ipv4_address{10, 0, 0, 1}, ipv4_address{10, 0, 0, 0}, 31));
    CHECK_FALSE(wire::is_directed_broadcast(ipv4_address{10, 0, 0, 255}, ipv4_address{10, 0, 0, 1}, 0));
}
