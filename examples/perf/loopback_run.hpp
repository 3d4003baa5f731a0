// tcpx-perf loopback: the run itself. Two stacks, A (10.0.0.1) and B (10.0.0.2), on
// one manual timeline, joined by an in-memory link whose two ends are impaired the
// same way (each direction: loss, reordering, delay, and a rate-limited drop-tail
// bottleneck). N connections from A to B share A's outgoing bottleneck; each sends
// the stream "byte i is i % 251", which B checks byte for byte as it reads.
//
// Time jumps straight to the next deadline of either stack or device, so a minute
// of simulated traffic costs only the processing of its packets.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include <tcpx/stack.hpp>
#include <tcpx/trace.hpp>

#include "options.hpp"

namespace perf {

struct flow_result {
    std::uint64_t bytes = 0;          ///< received by B, every byte checked
    double seconds = 0;               ///< the interval its throughput is measured over (simulated)
    double throughput_bps = 0;        ///< goodput: bytes * 8 / seconds
    tcpx::tcp::connection_info info;  ///< A's side (the sender), at the end of the run
    bool verified = false;
};

struct run_result {
    std::vector<flow_result> flows;
    std::uint64_t bytes = 0;
    double seconds = 0;  ///< simulated
    double wall_seconds = 0;
    double throughput_bps = 0;
    double jain_index = 0;  ///< (sum x)^2 / (n * sum x^2) over the flows' throughputs; 1 is fair
    std::uint64_t segments_sent = 0, segments_received = 0;
    std::uint64_t retransmits = 0, fast_retransmits = 0, timeouts = 0;
    std::uint64_t lost = 0, dropped_queue = 0;
    tcpx::instant start{};  ///< when the connections were opened: time 0 of a trace plot
    tcpx::instant end{};
    bool verified = false;
};

/// Jain's fairness index of `x`: 1 when all are equal, 1/n when one has everything.
inline double jain_index(std::span<const double> x)
{
    double sum = 0, squares = 0;
    for (const double v : x) {
        sum += v;
        squares += v * v;
    }
    return squares > 0 ? sum * sum / (static_cast<double>(x.size()) * squares) : 1.0;
}

[[noreturn]] inline void fail(const char* what, const std::error_code& ec)
{
    std::fprintf(stderr, "tcpx-perf: %s: %s\n", what, ec.message().c_str());
    std::exit(1);
}

/// Runs the transfer with congestion control CC; flow 0's window changes go to `trace` if set.
template <class CC>
run_result run_loopback(const options& o, tcpx::cc_trace* trace)
{
    using namespace tcpx;
    using link_device = devices::impaired<devices::loopback&>;
    using perf_stack = stack<link_device&, clocks::manual, CC>;

    devices::loopback_link link{devices::loopback_config{.mtu = o.mtu, .queue_bytes = std::size_t{64} << 20}};
    devices::impairment path;
    path.loss = o.loss;
    path.reorder = o.reorder;
    path.delay = duration{static_cast<std::int64_t>(o.delay_ms * 1000)};
    path.rate_bps = static_cast<std::uint64_t>(o.rate_mbit * 1e6);
    path.queue_packets = o.queue;
    const std::size_t held = std::max<std::size_t>(std::size_t{16} << 20, (o.queue + 64) * (o.mtu + 32) * 2);
    link_device dev_a{devices::impairment_config{.transmit = path, .receive = {}, .seed = o.seed,
                                                 .max_held_bytes = held}, link.end(0)};
    link_device dev_b{devices::impairment_config{.transmit = path, .receive = {}, .seed = o.seed + 1,
                                                 .max_held_bytes = held}, link.end(1)};
    clocks::manual_timeline time;

    config ca;
    ca.address = wire::ipv4_address{10, 0, 0, 1};
    ca.isn_secret = std::array<std::uint64_t, 2>{o.seed, 1};
    ca.send_buffer = ca.receive_buffer = 4u << 20;  // room for a fast, long path
    ca.pool_bytes = std::max<std::size_t>(ca.pool_bytes, o.flows * (std::size_t{9} << 20));
    ca.sack = o.sack;
    ca.sack_recovery = o.sack_recovery;
    config cb = ca;
    cb.address = wire::ipv4_address{10, 0, 0, 2};
    cb.isn_secret = std::array<std::uint64_t, 2>{o.seed, 2};
    perf_stack a{dev_a, clocks::manual{time}, ca};
    perf_stack b{dev_b, clocks::manual{time}, cb};

    struct flow {
        socket s{};  // A's end
        socket t{};  // B's end, once accepted
        std::uint64_t sent = 0, received = 0;
        instant first_byte{}, last_byte{};
        bool shut = false, eof = false, ok = true;
    };
    std::vector<flow> flows(o.flows);
    std::error_code ec;
    const listener l = b.listen(5001, o.flows, ec);
    if (ec) fail("listen", ec);
    for (flow& f : flows) {
        f.s = a.connect(cb.address, 5001, ec);
        if (ec) fail("connect", ec);
    }
    if (trace != nullptr) a.set_trace(flows[0].s, trace);

    // The stream: byte i is i % 251. `pattern` holds it from any offset below 251.
    std::vector<std::uint8_t> pattern(251 * 1024);
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint8_t>(i % 251);
    const std::size_t chunk = pattern.size() - 251;
    std::vector<std::uint8_t> buffer(chunk);

    const bool timed = o.seconds > 0;
    const auto wall_start = std::chrono::steady_clock::now();
    const instant start = time.now();
    const instant stop = timed ? start + duration{static_cast<std::int64_t>(o.seconds * 1e6)} : never;
    std::size_t accepted = 0, finished = 0;
    std::uint64_t same_instant = 0;
    for (;;) {
        a.poll();
        b.poll();
        const instant now = time.now();
        while (accepted < flows.size()) {
            const socket t = b.accept(l, ec);
            if (!t) break;
            // The accepted connection's remote port names the flow it belongs to.
            const auto port = b.connection(t)->id().remote_port;
            for (flow& f : flows)
                if (!f.t && a.connection(f.s)->id().local_port == port) f.t = t;
            ++accepted;
        }
        for (flow& f : flows) {
            if (a.state(f.s) == tcp::state::closed && a.error(f.s)) fail("the connection failed", a.error(f.s));
            if ((timed || f.sent < o.bytes) && a.writable(f.s)) {
                const std::size_t want = timed ? chunk : static_cast<std::size_t>(std::min<std::uint64_t>(o.bytes - f.sent, chunk));
                f.sent += a.send(f.s, std::span{pattern}.subspan(static_cast<std::size_t>(f.sent % 251), want), ec);
            }
            if (!timed && f.sent == o.bytes && !f.shut) f.shut = !a.shutdown(f.s);
            if (!f.t || f.eof) continue;
            for (;;) {
                const std::size_t n = b.receive(f.t, buffer, ec);
                if (ec == errc::end_of_stream) {
                    f.eof = true;
                    ++finished;
                    break;
                }
                if (n == 0) break;
                if (f.received == 0) f.first_byte = now;
                f.last_byte = now;
                f.ok = f.ok && std::memcmp(buffer.data(), pattern.data() + f.received % 251, n) == 0;
                f.received += n;
            }
        }
        if (timed ? now >= stop : finished == flows.size()) break;
        // Nothing runnable now: jump to the next deadline (simulated time).
        const instant next = std::min({a.next_deadline(), b.next_deadline(), stop});
        if (next > now && next != never) {
            time.advance_to(next);
            same_instant = 0;
        } else if (++same_instant > 10'000'000) {
            std::fprintf(stderr, "tcpx-perf: stalled at t=%.6f s\n", std::chrono::duration<double>(now - start).count());
            std::exit(1);
        }
    }

    run_result r;
    r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    r.start = start;
    r.end = time.now();
    r.verified = true;
    instant first = never, last = start;
    std::vector<double> rates;
    for (flow& f : flows) {
        flow_result fr;
        fr.bytes = f.received;
        fr.verified = f.ok && (timed || f.received == o.bytes);
        // Goodput over the run (timed) or from the first byte to the end of the stream.
        fr.seconds = std::chrono::duration<double>(timed ? stop - start : f.last_byte - f.first_byte).count();
        fr.throughput_bps = fr.seconds > 0 ? static_cast<double>(fr.bytes) * 8 / fr.seconds : 0;
        fr.info = a.info(f.s);
        r.bytes += fr.bytes;
        r.retransmits += fr.info.retransmitted_segments;
        r.fast_retransmits += fr.info.fast_retransmits;
        r.timeouts += fr.info.timeouts;
        r.verified = r.verified && fr.verified;
        if (f.received != 0) first = std::min(first, f.first_byte);
        last = std::max(last, f.last_byte);
        rates.push_back(fr.throughput_bps);
        r.flows.push_back(fr);
    }
    r.seconds = timed ? o.seconds : first < last ? std::chrono::duration<double>(last - first).count() : 0;
    r.throughput_bps = r.seconds > 0 ? static_cast<double>(r.bytes) * 8 / r.seconds : 0;
    r.jain_index = jain_index(rates);
    r.segments_sent = a.counters().segments_sent;
    r.segments_received = b.counters().segments_received;
    r.lost = dev_a.transmit_counters().lost + dev_b.transmit_counters().lost;
    r.dropped_queue = dev_a.transmit_counters().dropped_queue + dev_b.transmit_counters().dropped_queue;
    for (flow& f : flows) {
        if (timed) {  // mid-stream: reset, nothing more to measure
            if (f.t) b.abort(f.t);
            a.abort(f.s);
        } else {
            b.close(f.t);
            a.close(f.s);
        }
    }
    return r;
}

}  // namespace perf
