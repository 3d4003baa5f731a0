// A scenario fixture for any congestion-control policy: tests/support/scenario.hpp's
// world (one stack on a probe device, a manual clock, the test as the peer) with the
// policy as a template argument, plus a receiving peer that loses chosen segments — so
// one scenario can run under cc::reno, cc::newreno and cc::cubic (TEST_CASE_TEMPLATE).
//
//     cc_scenario<cc::newreno> t;
//     const socket s = t.establish();              // MSS 1460, 100 ms handshake
//     peer_receiver peer{t.stack_nxt};
//     peer.lose({10, 13});                         // segments 10 and 13, first copies
//     const auto r = run_transfer(t, s, peer, pattern(58400));
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include <tcpx/stack.hpp>

#include "probe_device.hpp"
#include "scenario.hpp"

namespace tcpx::test {

template <congestion_control CC>
class cc_scenario {
public:
    using stack_type = stack<probe_device&, clocks::manual, CC>;

    explicit cc_scenario(config cfg = scenario_config()) : st{dev, clocks::manual{time}, cfg} {}

    clocks::manual_timeline time;
    probe_device dev;
    stack_type st;
    wire::ipv4_address peer_address{10, 0, 0, 2};
    std::uint16_t peer_port = 40000;
    std::uint16_t local_port = 0;
    seq32 peer_iss{1000};
    seq32 iss;        ///< the stack's ISN
    seq32 peer_nxt;   ///< the peer's next sequence number
    seq32 stack_nxt;  ///< the stack's first data byte after establish()
    std::uint16_t peer_window = 65535;

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
    wire::tcp_header peer_ack(seq32 ack) const { return segment(ACK, peer_nxt, ack); }

    void inject(const wire::tcp_header& h, std::string_view payload = {})
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
        dev.inbox.push_back(std::move(p));
        st.poll();
    }

    /// Every segment sent since the last call, parsed (polls first).
    std::vector<captured> sent()
    {
        st.poll();
        std::vector<captured> out;
        for (const auto& p : dev.outbox) out.push_back(scenario::parse(p));
        dev.outbox.clear();
        return out;
    }
    captured expect_one()
    {
        auto all = sent();
        REQUIRE_MESSAGE(all.size() == 1, "expected one segment, got " << all.size());
        return all.front();
    }
    void advance(duration d)
    {
        time.advance(d);
        st.poll();
    }
    /// Advances to the stack's next deadline and polls; false if there is none.
    bool advance_to_deadline()
    {
        const instant next = st.poll();
        if (next == never) return false;
        time.advance_to(next);
        st.poll();
        return true;
    }

    std::size_t send(socket s, std::string_view text)
    {
        std::error_code ec;
        return st.send(s, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, ec);
    }
    const typename stack_type::connection_type& conn(socket s) const
    {
        const auto* c = st.connection(s);
        REQUIRE(c != nullptr);
        return *c;
    }

    /// Active open; the SYN-ACK carries MSS `mss` and arrives `rtt` after the SYN, so
    /// RFC 6298 §2.2 gives RTO = 3 * rtt (above min_rto for rtt >= 67 ms).
    socket establish(std::uint16_t mss = 1460, duration rtt = std::chrono::milliseconds{100})
    {
        std::error_code ec;
        const socket s = st.connect(peer_address, peer_port, ec);
        REQUIRE_FALSE(ec);
        const captured syn = expect_one();
        REQUIRE(syn.flags() == SYN);
        iss = syn.seq();
        local_port = syn.tcp.source_port;
        advance(rtt);
        wire::tcp_header synack = segment(SYN | ACK, peer_iss, iss + 1);
        synack.options.mss = mss;
        inject(synack);
        peer_nxt = peer_iss + 1;
        stack_nxt = iss + 1;
        const captured ack = expect_one();
        REQUIRE(ack.flags() == ACK);
        REQUIRE(st.state(s) == tcp::state::established);
        return s;
    }
};

/// The receiving end of a bulk transfer, played by the test: it loses the first copy of
/// chosen segments, keeps out-of-order data, and answers every segment that arrives with
/// an immediate cumulative ACK (RFC 5681 §4.2 asks that at once for out-of-order data;
/// doing it always makes the sender's ACK clock exact).
class peer_receiver {
public:
    explicit peer_receiver(seq32 first, std::uint32_t mss = 1460) : first_{first}, rcv_nxt_{first}, mss_{mss} {}

    /// Segments are numbered from 0 by where they start: (SEG.SEQ - first) / MSS.
    void lose(std::initializer_list<std::uint32_t> segments) { lose_.insert(segments.begin(), segments.end()); }

    /// Takes one segment from the stack; returns the ACK to answer with, if it arrived.
    std::optional<seq32> receive(const captured& c)
    {
        if (c.payload.empty()) return std::nullopt;
        const auto offset = static_cast<std::uint32_t>(c.seq() - first_);
        if (offset % mss_ == 0 && lose_.erase(offset / mss_) != 0) {
            ++lost_;
            return std::nullopt;
        }
        if (seq_gt(c.seq(), rcv_nxt_)) {
            held_.emplace(offset, c.text());  // out of order: keep (first copy wins)
        } else if (seq_gt(c.seq() + static_cast<std::uint32_t>(c.payload.size()), rcv_nxt_)) {
            const auto old = static_cast<std::size_t>(rcv_nxt_ - c.seq());
            take(c.text().substr(old));
        }
        // Fill from what was held.
        for (auto it = held_.begin(); it != held_.end();) {
            const seq32 at = first_ + it->first;
            if (seq_gt(at, rcv_nxt_)) break;
            const seq32 end = at + static_cast<std::uint32_t>(it->second.size());
            if (seq_gt(end, rcv_nxt_)) take(it->second.substr(static_cast<std::size_t>(rcv_nxt_ - at)));
            it = held_.erase(it);
        }
        return rcv_nxt_;
    }

    const std::string& delivered() const { return delivered_; }
    seq32 rcv_nxt() const { return rcv_nxt_; }
    std::size_t lost() const { return lost_; }
    std::size_t still_to_lose() const { return lose_.size(); }

private:
    void take(const std::string& bytes)
    {
        delivered_ += bytes;
        rcv_nxt_ += static_cast<std::uint32_t>(bytes.size());
    }

    seq32 first_;
    seq32 rcv_nxt_;
    std::uint32_t mss_;
    std::set<std::uint32_t> lose_;
    std::map<std::uint32_t, std::string> held_;
    std::string delivered_;
    std::size_t lost_ = 0;
};

/// What a transfer took.
struct transfer_record {
    std::size_t rounds = 0;
    std::size_t timer_waits = 0;  ///< rounds in which nothing was sent and time ran to a deadline
    std::uint32_t min_cwnd = UINT32_MAX;
    std::uint32_t max_cwnd = 0;
};

/// Sends `data` on `s` and plays the peer until it has received all of it: each round
/// the segments the stack sent travel one RTT (the ACKs come back `rtt` later, one per
/// arriving segment); when nothing is in flight the clock runs to the next deadline
/// (the retransmission timer).
template <congestion_control CC>
transfer_record run_transfer(cc_scenario<CC>& t, socket s, peer_receiver& peer, const std::string& data,
                             duration rtt = std::chrono::milliseconds{100})
{
    transfer_record r;
    std::size_t queued = t.send(s, data);
    const seq32 end = t.stack_nxt + static_cast<std::uint32_t>(data.size());
    std::vector<captured> out = t.sent();
    while (peer.rcv_nxt() != end && r.rounds < 10'000) {
        ++r.rounds;
        if (out.empty()) {
            ++r.timer_waits;
            REQUIRE(t.advance_to_deadline());
            const std::uint32_t w = t.conn(s).congestion().cwnd();
            r.min_cwnd = std::min(r.min_cwnd, w);
        } else {
            t.time.advance(rtt);
            for (const captured& c : out) {
                if (const auto a = peer.receive(c)) t.inject(t.peer_ack(*a));
                const std::uint32_t w = t.conn(s).congestion().cwnd();
                r.min_cwnd = std::min(r.min_cwnd, w);
                r.max_cwnd = std::max(r.max_cwnd, w);
            }
        }
        if (queued < data.size()) queued += t.send(s, std::string_view{data}.substr(queued));
        out = t.sent();
    }
    REQUIRE(peer.rcv_nxt() == end);
    // The last ACKs reach the stack; nothing is left to send.
    t.time.advance(rtt);
    for (const captured& c : out)
        if (const auto a = peer.receive(c)) t.inject(t.peer_ack(*a));
    return r;
}

}  // namespace tcpx::test
