// The scenario fixture (DESIGN.md "Tests, in layers", 2): one tcpx stack on a probe
// device, a manual clock, and the test as the remote peer. Put the connection in a
// state, inject exact segments, expect exact segments out.
//
//     scenario t;                                  // stack at 10.0.0.1, peer 10.0.0.2
//     auto s = t.establish_active();               // SYN / SYN-ACK / ACK done
//     t.send(s, "hello");
//     auto out = t.expect_one();                   // the data segment
//     CHECK(out.flags() == (ACK | PSH));
//     t.inject(t.peer_ack(out.seq() + 5));         // the peer acknowledges it
//     t.expect_nothing();
//
// Sequence numbers: the peer's ISN is `peer_iss` (1000 unless set); the stack's ISN
// is read from its SYN or SYN-ACK into `iss`. `snd_nxt` / `rcv_nxt` below track
// what the peer has sent and what the stack has sent, as the helpers use them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include <tcpx/stack.hpp>

#include "probe_device.hpp"

// The congestion-control policy the scenario stack runs. The suite is built once per
// policy (tests/meson.build: test_scenario_newreno, test_scenario_cubic), so every
// state rule is checked under each; Reno unless the build says otherwise.
#ifndef TCPX_TEST_CC
#define TCPX_TEST_CC tcpx::cc::reno
#endif

namespace tcpx::test {

using wire::tcp_flags;
inline constexpr tcp_flags SYN = tcp_flags::syn;
inline constexpr tcp_flags ACK = tcp_flags::ack;
inline constexpr tcp_flags FIN = tcp_flags::fin;
inline constexpr tcp_flags RST = tcp_flags::rst;
inline constexpr tcp_flags PSH = tcp_flags::psh;
inline constexpr tcp_flags URG = tcp_flags::urg;

/// A segment the stack sent, parsed.
struct captured {
    wire::ipv4_header ip;
    wire::tcp_header tcp;
    std::vector<std::uint8_t> payload;
    bool checksum_ok = false;

    seq32 seq() const { return tcp.seq; }
    seq32 ack() const { return tcp.ack; }
    tcp_flags flags() const { return tcp.flags; }
    bool has(tcp_flags f) const { return wire::has(tcp.flags, f); }
    std::uint16_t window() const { return tcp.window; }
    std::string text() const { return {payload.begin(), payload.end()}; }
    /// SEG.LEN (RFC 9293 §3.4).
    std::uint32_t length() const
    {
        return static_cast<std::uint32_t>(payload.size()) + (has(SYN) ? 1 : 0) + (has(FIN) ? 1 : 0);
    }
};

inline std::string describe(const captured& c)
{
    return wire::to_string(c.tcp.flags) + " seq=" + std::to_string(c.seq().value()) +
           " ack=" + std::to_string(c.ack().value()) + " win=" + std::to_string(c.window()) +
           " len=" + std::to_string(c.payload.size());
}

inline config scenario_config()
{
    config c;
    c.address = wire::ipv4_address{10, 0, 0, 1};
    c.isn_secret = std::array<std::uint64_t, 2>{0x1234, 0x5678};  // repeatable ISNs
    c.receive_buffer = 64 * 1024;  // fits the 16-bit window: no scaling unless asked
    c.send_buffer = 64 * 1024;
    c.window_scaling = false;
    // The cases count segments from RFC 5681 §3.1's initial window (3 at this MSS);
    // those about RFC 6928's set 10.
    c.initial_window_segments = 0;
    return c;
}

class scenario {
public:
    using stack_type = stack<probe_device&, clocks::manual, TCPX_TEST_CC>;

    explicit scenario(config cfg = scenario_config())
        : st{dev, clocks::manual{time}, cfg}
    {
    }

    // ---- the world ----
    clocks::manual_timeline time;
    probe_device dev;
    stack_type st;
    wire::ipv4_address peer_address{10, 0, 0, 2};
    std::uint16_t peer_port = 40000;   ///< the peer's port
    std::uint16_t local_port = 80;     ///< the stack's port (listening or connected)

    // ---- sequence bookkeeping ----
    seq32 peer_iss{1000};  ///< the peer's ISN
    seq32 iss;             ///< the stack's ISN, learned from its SYN / SYN-ACK
    seq32 peer_nxt;        ///< next sequence number the peer will use
    seq32 stack_nxt;       ///< next sequence number expected from the stack (what the peer ACKs)
    std::uint16_t peer_window = 65535;

    // ---- injecting (as the peer) ----
    /// A header from the peer to the stack with the given flags, seq, ack.
    wire::tcp_header segment(tcp_flags flags, seq32 seq, seq32 ack = seq32{0}) const
    {
        wire::tcp_header h;
        h.source_port = peer_port;
        h.destination_port = local_port;
        h.seq = seq;
        h.ack = ack;
        h.flags = flags;
        h.window = peer_window;
        return h;
    }
    /// A pure ACK from the peer at peer_nxt acknowledging `ack`.
    wire::tcp_header peer_ack(seq32 ack) const { return segment(ACK, peer_nxt, ack); }

    /// Builds the packet (valid checksums), queues it, polls the stack.
    void inject(const wire::tcp_header& h, std::string_view payload = {})
    {
        inject_raw(build(h, payload));
    }
    /// Queues bytes as they are and polls: for malformed packets.
    void inject_raw(std::vector<std::uint8_t> packet)
    {
        dev.inbox.push_back(std::move(packet));
        st.poll();
    }
    /// The packet inject() would send, for tests that damage it first.
    std::vector<std::uint8_t> build(const wire::tcp_header& h, std::string_view payload = {}) const
    {
        std::vector<std::uint8_t> p(wire::ipv4_header::size + h.size() + payload.size());
        wire::ipv4_header ip;
        ip.source = peer_address;
        ip.destination = st.configuration().address;
        ip.payload_length = static_cast<std::uint16_t>(h.size() + payload.size());
        REQUIRE_FALSE(ip.emit(p));
        auto seg = std::span{p}.subspan(wire::ipv4_header::size);
        REQUIRE_FALSE(h.emit(seg));
        std::copy(payload.begin(), payload.end(), seg.begin() + static_cast<std::ptrdiff_t>(h.size()));
        wire::fill_tcp_checksum(seg, ip.source, ip.destination);
        return p;
    }

    // ---- time ----
    /// Advances the clock by d and polls once.
    void advance(duration d)
    {
        time.advance(d);
        st.poll();
    }
    /// Advances to the stack's next deadline (if any, and at most `limit` ahead) and polls.
    bool advance_to_deadline(duration limit = std::chrono::hours(24))
    {
        const instant next = st.poll();
        if (next == never || next - time.now() > limit) return false;
        time.advance_to(next);
        st.poll();
        return true;
    }
    duration elapsed_since(instant t) const { return time.now() - t; }

    // ---- what the stack sent ----
    /// Every segment sent since the last call, parsed (polls first).
    std::vector<captured> sent()
    {
        st.poll();
        std::vector<captured> out;
        for (const auto& p : dev.outbox) out.push_back(parse(p));
        dev.outbox.clear();
        return out;
    }
    /// Every packet sent since the last call, as bytes (polls first): for what is not
    /// a TCP segment (ICMP, fragments, IPv6).
    std::vector<std::vector<std::uint8_t>> sent_packets()
    {
        st.poll();
        std::vector<std::vector<std::uint8_t>> out = std::move(dev.outbox);
        dev.outbox.clear();
        return out;
    }
    /// Exactly one segment was sent; returns it.
    captured expect_one()
    {
        auto all = sent();
        if (all.size() != 1) {
            std::string list;
            for (const auto& c : all) list += "\n  " + describe(c);
            FAIL_CHECK("expected exactly one segment, got " << all.size() << list);
            return all.empty() ? captured{} : all.front();
        }
        CHECK(all.front().checksum_ok);
        return all.front();
    }
    void expect_nothing()
    {
        auto all = sent();
        std::string list;
        for (const auto& c : all) list += "\n  " + describe(c);
        CHECK_MESSAGE(all.empty(), "expected no segment, got" << list);
    }

    static captured parse(const std::vector<std::uint8_t>& p)
    {
        captured c;
        const wire::ipv4_view ip{p};
        REQUIRE_FALSE(ip.check());
        c.ip = wire::ipv4_header::from(ip);
        const wire::tcp_view tv{ip.payload()};
        REQUIRE_FALSE(tv.check());
        REQUIRE_FALSE(wire::tcp_header::parse(tv, c.tcp));
        c.payload.assign(tv.payload().begin(), tv.payload().end());
        c.checksum_ok = tv.checksum_ok(ip.source(), ip.destination());
        return c;
    }

    // ---- user calls ----
    std::size_t send(socket s, std::string_view text)
    {
        std::error_code ec;
        const auto n = st.send(s, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, ec);
        return n;
    }
    std::string receive(socket s, std::size_t max = 1 << 20)
    {
        std::vector<std::uint8_t> buf(max);
        std::error_code ec;
        const auto n = st.receive(s, buf, ec);
        return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
    }

    // ---- reaching states ----
    /// connect(); expects the SYN; records iss. Leaves the stack in SYN-SENT.
    socket open_active()
    {
        std::error_code ec;
        const socket s = st.connect(peer_address, peer_port, ec);
        REQUIRE_FALSE(ec);
        const captured syn = expect_one();
        REQUIRE(syn.flags() == SYN);
        iss = syn.seq();
        local_port = syn.tcp.source_port;
        stack_nxt = iss + 1;
        peer_nxt = peer_iss;
        return s;
    }
    /// open_active(), then SYN-ACK from the peer and the stack's ACK: ESTABLISHED.
    socket establish_active()
    {
        const socket s = open_active();
        inject(segment(SYN | ACK, peer_iss, stack_nxt));
        peer_nxt = peer_iss + 1;
        const captured ack = expect_one();
        REQUIRE(ack.flags() == ACK);
        REQUIRE(ack.ack() == peer_nxt);
        REQUIRE(st.state(s) == tcp::state::established);
        return s;
    }
    /// listen(local_port); SYN from the peer; expects the SYN-ACK: SYN-RECEIVED.
    listener open_passive(std::size_t backlog = 8)
    {
        std::error_code ec;
        const listener l = st.listen(local_port, backlog, ec);
        REQUIRE_FALSE(ec);
        inject(segment(SYN, peer_iss));
        peer_nxt = peer_iss + 1;
        const captured synack = expect_one();
        REQUIRE(synack.flags() == (SYN | ACK));
        REQUIRE(synack.ack() == peer_nxt);
        iss = synack.seq();
        stack_nxt = iss + 1;
        return l;
    }
    /// open_passive(), then the peer's ACK and accept(): ESTABLISHED.
    socket establish_passive()
    {
        const listener l = open_passive();
        inject(peer_ack(stack_nxt));
        expect_nothing();
        std::error_code ec;
        const socket s = st.accept(l, ec);
        REQUIRE_FALSE(ec);
        REQUIRE(st.state(s) == tcp::state::established);
        return s;
    }
    /// ESTABLISHED, then shutdown(): the FIN leaves; FIN-WAIT-1.
    socket establish_then_fin_wait_1()
    {
        const socket s = establish_active();
        REQUIRE_FALSE(st.shutdown(s));
        const captured fin = expect_one();
        REQUIRE(fin.flags() == (FIN | ACK));
        stack_nxt = stack_nxt + 1;
        REQUIRE(st.state(s) == tcp::state::fin_wait_1);
        return s;
    }
    /// FIN-WAIT-1, then the peer ACKs the FIN: FIN-WAIT-2.
    socket establish_then_fin_wait_2()
    {
        const socket s = establish_then_fin_wait_1();
        inject(peer_ack(stack_nxt));
        expect_nothing();
        REQUIRE(st.state(s) == tcp::state::fin_wait_2);
        return s;
    }
    /// FIN-WAIT-2, then the peer's FIN: the stack ACKs it; TIME-WAIT.
    socket establish_then_time_wait()
    {
        const socket s = establish_then_fin_wait_2();
        inject(segment(FIN | ACK, peer_nxt, stack_nxt));
        peer_nxt = peer_nxt + 1;
        const captured ack = expect_one();
        REQUIRE(ack.flags() == ACK);
        REQUIRE(ack.ack() == peer_nxt);
        REQUIRE(st.state(s) == tcp::state::time_wait);
        return s;
    }
    /// ESTABLISHED, then the peer's FIN: CLOSE-WAIT (the stack ACKs the FIN).
    socket establish_then_close_wait()
    {
        const socket s = establish_active();
        inject(segment(FIN | ACK, peer_nxt, stack_nxt));
        peer_nxt = peer_nxt + 1;
        const captured ack = expect_one();
        REQUIRE(ack.flags() == ACK);
        REQUIRE(st.state(s) == tcp::state::close_wait);
        return s;
    }
    /// CLOSE-WAIT, then shutdown(): the FIN leaves; LAST-ACK.
    socket establish_then_last_ack()
    {
        const socket s = establish_then_close_wait();
        REQUIRE_FALSE(st.shutdown(s));
        const captured fin = expect_one();
        REQUIRE(fin.flags() == (FIN | ACK));
        stack_nxt = stack_nxt + 1;
        REQUIRE(st.state(s) == tcp::state::last_ack);
        return s;
    }
    /// FIN-WAIT-1, then the peer's FIN without an ACK of ours: CLOSING.
    socket establish_then_closing()
    {
        const socket s = establish_then_fin_wait_1();
        inject(segment(FIN | ACK, peer_nxt, stack_nxt - 1));  // does not ACK our FIN
        peer_nxt = peer_nxt + 1;
        const captured ack = expect_one();
        REQUIRE(ack.has(ACK));
        REQUIRE(st.state(s) == tcp::state::closing);
        return s;
    }
};

}  // namespace tcpx::test
