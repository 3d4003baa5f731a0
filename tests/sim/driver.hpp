// The driver of the simulation harness (harness.hpp has the world's pieces): one
// run of a sim::scenario, from connect() to both connection tables empty.
//
// Each turn polls both stacks, then lets both applications act (accept, write their
// stream, read and check the peer's, shut down and close in the scenario's order).
// When neither did anything and no deadline is due, the clock jumps straight to the
// earliest deadline of the stacks, the devices and a paused reader. A run fails —
// with the reason in result::failure — on a broken promise (a wrong byte, an early
// end of stream, a connection error) or on a bound: simulated time ("simulated time
// limit"), loop turns while time moves ("livelock ... time still moving"), turns at
// one instant ("livelock ... without time moving"), or nothing left to happen before
// the end ("stalled").
//
// RFCs to have open: RFC 9293 §3.6 (closing), §3.10.4 (CLOSE), §3.10.7 (what the
// trace shows), RFC 6298 §5 (the timers the clock jumps to).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include "harness.hpp"

namespace tcpx::sim {

namespace detail {

inline void hash(std::uint64_t& h, const void* p, std::size_t n) noexcept
{
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;  // FNV-1a
}

/// One side's application: writes its stream, reads the other's, closes.
struct application {
    sim_stack& st;
    char name;
    byte_stream out;
    byte_stream in;
    std::uint64_t to_send;
    std::uint64_t to_receive;
    bool first_to_close;   ///< shuts down as soon as its data is queued
    bool use_close;        ///< closes without a shutdown() first
    socket s{};
    listener l{};
    side_result& r;
    instant wake{};        ///< a paused reader reads again from here
    bool shut = false;
    rng& pauses;
    duration pause;
    double pause_chance;
};

inline const char* state_name(tcp::state s) { return tcp::to_string(s).data(); }

/// One step of an application at `now`; true when it did something (so the
/// world must be polled again before time may move).
inline bool step(application& app, instant now, std::vector<std::uint8_t>& scratch, std::string& failure)
{
    sim_stack& st = app.st;
    side_result& r = app.r;
    const bool trace = trace_enabled();
    bool progress = false;
    std::error_code ec;
    if (r.closed) return false;
    if (!app.s) {
        if (!app.l) return false;
        app.s = st.accept(app.l, ec);
        if (!app.s) {
            if (ec != errc::would_block) failure = std::string{app.name} + ": accept failed: " + ec.message();
            return false;
        }
        if (trace) std::fprintf(stderr, "%12.6f %c accepted\n", seconds_of(now), app.name);
        progress = true;
    }
    const tcp::state state = st.state(app.s);
    if (state == tcp::state::closed && st.error(app.s)) {
        failure = std::string{app.name} + ": connection ended: " + st.error(app.s).message();
        return false;
    }

    // Write: as much of the stream as the send buffer takes now.
    if (r.sent < app.to_send && !app.shut) {
        std::size_t room = st.connection(app.s)->writable_bytes(st.configuration());
        while (room != 0 && r.sent < app.to_send) {
            const auto n = static_cast<std::size_t>(
                std::min<std::uint64_t>({room, app.to_send - r.sent, scratch.size()}));
            app.out.fill(r.sent, std::span<std::uint8_t>{scratch.data(), n});
            const std::size_t taken = st.send(app.s, std::span<const std::uint8_t>{scratch.data(), n}, ec);
            if (ec && ec != errc::would_block) {
                failure = std::string{app.name} + ": send failed: " + ec.message();
                return false;
            }
            if (taken == 0) break;
            r.sent += taken;
            room -= std::min(room, taken);
            progress = true;
        }
    }

    // Read: everything there is, each byte checked against the peer's stream.
    if (!r.end_of_stream && now >= app.wake) {
        for (;;) {
            const std::size_t n = st.receive(app.s, std::span<std::uint8_t>{scratch}, ec);
            if (n != 0) {
                const std::size_t bad = app.in.mismatch(r.received, std::span<const std::uint8_t>{scratch.data(), n});
                if (bad != n || r.received + n > app.to_receive) {
                    failure = std::string{app.name} + ": received byte " + std::to_string(r.received + bad) +
                              (bad != n ? " differs from the stream" : " beyond the stream's end");
                    return false;
                }
                r.received += n;
                progress = true;
                if (app.pause_chance > 0 && app.pauses.chance(app.pause_chance)) {
                    app.wake = now + app.pause;  // a slow reader lets the window close
                    break;
                }
                continue;
            }
            if (ec == errc::end_of_stream) {
                r.end_of_stream = true;
                progress = true;
                if (trace) std::fprintf(stderr, "%12.6f %c end of stream\n", seconds_of(now), app.name);
                if (r.received != app.to_receive) {
                    failure = std::string{app.name} + ": end of stream after " + std::to_string(r.received) +
                              " of " + std::to_string(app.to_receive) + " bytes";
                    return false;
                }
            } else if (ec != errc::would_block) {
                failure = std::string{app.name} + ": receive failed: " + ec.message();
                return false;
            }
            break;
        }
    }

    // Close (RFC 9293 §3.6): the first closer sends its FIN once its data is queued
    // (after the handshake: a CLOSE in SYN-SENT would delete the TCB, §3.10.4); every
    // side closes its socket once it has queued all and read the peer's FIN.
    const bool all_queued = r.sent == app.to_send;
    const bool opening = state == tcp::state::syn_sent || state == tcp::state::syn_received;
    if (!app.shut && all_queued && app.first_to_close && !opening) {
        if (const auto e = st.shutdown(app.s); e) {
            failure = std::string{app.name} + ": shutdown failed: " + e.message();
            return false;
        }
        app.shut = true;
        progress = true;
        if (trace) std::fprintf(stderr, "%12.6f %c shutdown in %s\n", seconds_of(now), app.name, state_name(state));
    }
    if (all_queued && r.end_of_stream) {
        if (!app.shut && !app.use_close) {
            if (const auto e = st.shutdown(app.s); e) {
                failure = std::string{app.name} + ": shutdown failed: " + e.message();
                return false;
            }
            app.shut = true;
        }
        if (trace)
            std::fprintf(stderr, "%12.6f %c close in %s\n", seconds_of(now), app.name, state_name(st.state(app.s)));
        if (const auto e = st.close(app.s); e) {
            failure = std::string{app.name} + ": close failed: " + e.message();
            return false;
        }
        r.closed = true;
        progress = true;
    }
    return progress;
}

/// Prints the control block of an application's connection (its RFC 9293 §3.3.1
/// variables and timers) when it differs from `last` (always, when last is null).
inline void trace_connection(const application& app, instant now, std::string* last)
{
    if (!app.s || app.r.closed) return;
    const auto* c = app.st.connection(app.s);
    if (c == nullptr) return;
    char buf[400];
    auto at = [&](tcp::timer t) { return c->deadline(t) == never ? -1.0 : seconds_of(c->deadline(t)); };
    std::snprintf(buf, sizeof buf,
                  "%s una=%u nxt=%u max=%u wnd=%u | rcv.nxt=%u rcv.wnd=%u | cwnd=%u ssthresh=%u rto=%lld | "
                  "free=%zu readable=%zu | rtx=%.6f persist=%.6f dack=%.6f tw=%.6f",
                  state_name(c->state()), c->snd().una.value(), c->snd().nxt.value(), c->snd().max.value(),
                  c->snd().wnd, c->rcv().nxt.value(), c->rcv().wnd, c->congestion().cwnd(),
                  c->congestion().ssthresh(), static_cast<long long>(c->rtt().rto().count()),
                  c->writable_bytes(app.st.configuration()), c->readable_bytes(), at(tcp::timer::retransmit),
                  at(tcp::timer::persist), at(tcp::timer::delayed_ack), at(tcp::timer::time_wait));
    if (last != nullptr) {
        if (*last == buf) return;
        *last = buf;
    }
    std::fprintf(stderr, "%12.6f %c: %s\n", seconds_of(now), app.name, buf);
}

inline void record(side_result& r, const sim_stack& st, const sim_device& dev)
{
    r.connections = st.connection_count();
    r.pool_bytes = st.pool().bytes_in_use();
    r.counters = st.counters();
    r.transmit = dev.impaired().transmit_counters();
    // Packets refused as malformed or misaddressed: not device_full (outgoing), and not
    // the well-formed segments a listener is told to ignore (RFC 9293 §3.10.7.2: a RST,
    // or a segment without SYN — a stray after its connection was reclaimed — and a RST
    // for a connection already gone, §3.10.7.1).
    r.input_drops = r.counters.dropped_total() - r.counters.dropped(drop_reason::device_full) -
                    r.counters.dropped(drop_reason::listen_rst) - r.counters.dropped(drop_reason::listen_not_syn) -
                    r.counters.dropped(drop_reason::listen_syn_fin) -
                    r.counters.dropped(drop_reason::reset_no_connection);
}

}  // namespace detail

/// Runs a scenario to its end (or to the first failure, or to a bound).
inline result run(const scenario& s)
{
    result res;
    const bool trace = trace_enabled();
    devices::loopback_config lc;
    lc.mtu = s.mtu;
    devices::loopback_link link{lc};
    clocks::manual_timeline world;
    devices::impairment_config ia;
    ia.transmit = s.a_to_b;
    ia.seed = splitmix64(s.seed * 2 + 1);
    devices::impairment_config ib;
    ib.transmit = s.b_to_a;
    ib.seed = splitmix64(s.seed * 2 + 2);
    sim_device dev_a{ia, link.end(0), 'A'};
    sim_device dev_b{ib, link.end(1), 'B'};
    config ca = s.base;
    ca.address = wire::ipv4_address{10, 0, 0, 1};
    ca.isn_secret = std::array<std::uint64_t, 2>{s.seed, 1};
    config cb = s.base;
    cb.address = wire::ipv4_address{10, 0, 0, 2};
    cb.isn_secret = std::array<std::uint64_t, 2>{s.seed, 2};
    sim_stack a{dev_a, clocks::manual{world}, ca};
    sim_stack b{dev_b, clocks::manual{world}, cb};

    const bool a_first = s.order != close_order::b_first;
    const bool b_first = s.order != close_order::a_first;
    rng pauses{splitmix64(s.seed ^ 0x5eed)};
    detail::application app_a{a, 'A', byte_stream{splitmix64(s.seed ^ 0xa)}, byte_stream{splitmix64(s.seed ^ 0xb)},
                              s.bytes_a_to_b, s.bytes_b_to_a, a_first, !a_first && s.second_uses_close,
                              {}, {}, res.side[0], {}, false, pauses, s.reader_pause, s.reader_pause_chance};
    detail::application app_b{b, 'B', byte_stream{splitmix64(s.seed ^ 0xb)}, byte_stream{splitmix64(s.seed ^ 0xa)},
                              s.bytes_b_to_a, s.bytes_a_to_b, b_first, !b_first && s.second_uses_close,
                              {}, {}, res.side[1], {}, false, pauses, s.reader_pause, s.reader_pause_chance};
    std::vector<std::uint8_t> scratch(64 * 1024);

    std::error_code ec;
    app_b.l = b.listen(80, 4, ec);
    if (ec) res.failure = "B: listen failed: " + ec.message();
    if (res.passed()) {
        app_a.s = a.connect(cb.address, 80, ec);
        if (ec) res.failure = "A: connect failed: " + ec.message();
    }
    if (trace) std::fprintf(stderr, "run: %s\n", describe_scenario(s).c_str());

    const std::uint64_t iteration_limit =
        s.iteration_limit != 0 ? s.iteration_limit : 200'000 + (s.bytes_a_to_b + s.bytes_b_to_a) / 16;
    std::uint64_t same_instant = 0;
    bool finished = false;
    std::string last_a, last_b;
    while (res.passed()) {
        if (++res.iterations > iteration_limit) {
            res.failure = "livelock: " + std::to_string(iteration_limit) + " loop iterations, time still moving";
            break;
        }
        const instant next_a = a.poll();
        const instant next_b = b.poll();
        const instant now = world.now();
        if (trace) {
            detail::trace_connection(app_a, now, &last_a);
            detail::trace_connection(app_b, now, &last_b);
        }
        bool progress = detail::step(app_a, now, scratch, res.failure);
        if (res.passed()) progress = detail::step(app_b, now, scratch, res.failure) || progress;
        if (!res.passed()) break;
        finished = finished || (res.side[0].closed && res.side[1].closed && a.connection_count() == 0 &&
                                b.connection_count() == 0);
        if (++same_instant > s.same_instant_limit) {
            res.failure = "livelock: " + std::to_string(s.same_instant_limit) + " iterations at t=" +
                          std::to_string(seconds_of(now)) + " s without time moving";
            break;
        }
        if (progress) continue;
        instant next = std::min({next_a, next_b, dev_a.next_deadline(), dev_b.next_deadline()});
        for (const auto* app : {&app_a, &app_b})
            if (app->wake > now && !app->r.end_of_stream && !app->r.closed) next = std::min(next, app->wake);
        if (next <= now) continue;
        if (next == never) {
            if (!finished) res.failure = "stalled: nothing left to happen before the run's end";
            break;
        }
        if (next - clocks::manual_timeline::start > s.time_limit) {
            res.failure = "simulated time limit of " + std::to_string(s.time_limit.count() / 1'000'000) +
                          " s reached";
            break;
        }
        world.advance_to(next);
        same_instant = 0;
    }
    if (!res.passed() && trace) {
        detail::trace_connection(app_a, world.now(), nullptr);
        detail::trace_connection(app_b, world.now(), nullptr);
        for (const auto* d : {&dev_a, &dev_b}) {
            const auto& c = d->impaired().transmit_counters();
            std::fprintf(stderr,
                         "%c transmit path: delivered=%llu lost=%llu duplicated=%llu reordered=%llu corrupted=%llu "
                         "dropped_queue=%llu dropped_store_full=%llu dropped_inner=%llu held_bytes=%zu\n",
                         d == &dev_a ? 'A' : 'B', static_cast<unsigned long long>(c.delivered),
                         static_cast<unsigned long long>(c.lost), static_cast<unsigned long long>(c.duplicated),
                         static_cast<unsigned long long>(c.reordered), static_cast<unsigned long long>(c.corrupted),
                         static_cast<unsigned long long>(c.dropped_queue),
                         static_cast<unsigned long long>(c.dropped_store_full),
                         static_cast<unsigned long long>(c.dropped_inner), d->impaired().held_bytes());
        }
    }
    res.end = world.now();
    detail::record(res.side[0], a, dev_a);
    detail::record(res.side[1], b, dev_b);
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const auto& side : res.side) {
        detail::hash(h, &side.counters, sizeof side.counters);
        detail::hash(h, &side.transmit, sizeof side.transmit);
        detail::hash(h, &side.sent, sizeof side.sent);
        detail::hash(h, &side.received, sizeof side.received);
    }
    const auto end = res.end.time_since_epoch().count();
    detail::hash(h, &end, sizeof end);
    detail::hash(h, &res.iterations, sizeof res.iterations);
    res.digest = h;
    return res;
}

}  // namespace tcpx::sim
