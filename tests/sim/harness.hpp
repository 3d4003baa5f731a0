// The simulation harness (DESIGN.md "Tests, in layers", 3): two tcpx stacks,
// 10.0.0.1 (A, the client) and 10.0.0.2 (B, the server), over one loopback_link
// whose ends are each wrapped in devices::impaired, on one manual timeline.
//
//     sim::scenario s = sim::draw_scenario(seed, a_to_b, b_to_a);
//     sim::result r = sim::run(s);           // connect, transfer both ways, close
//     CHECK(r.passed());                     // r.describe() says why not
//
// What a run does: A connects to B:80; each side writes its stream (a seeded
// pseudo-random byte stream, so the reader checks every byte against the same
// generator without keeping a copy) and reads the other's until end_of_stream;
// then both close, in the order the scenario says, and the run goes on until both
// connection tables are empty (TIME-WAIT included) and no packet is in flight.
//
// The driver loop polls both stacks, lets both applications act, and when nothing
// can happen at the current instant jumps the clock straight to the earliest
// deadline (stacks, devices, a paused reader). Bounds make a livelock fail instead
// of hang: simulated time, total loop iterations, and iterations at one instant.
//
// RFCs to have open: RFC 9293 §3.5 and §3.6 (opening and closing, TIME-WAIT's
// 2 MSL), §3.8 (retransmission, windows), RFC 5681 (loss recovery), RFC 9293 §3.1
// and RFC 791 §3.1 (the checksums that must catch corruption).
//
// Environment: TCPX_SIM_SEED=n runs only seed n of each loop (replay);
// TCPX_SIM_TRACE=1 prints every packet and application event of a run to stderr.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <tcpx/stack.hpp>

namespace tcpx::sim {

// ---- randomness: everything a run draws comes from its seed ----

constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/// A small deterministic generator (splitmix64 stream): same seed, same draws, on
/// every platform (no std:: distribution, whose results are implementation-defined).
class rng {
public:
    explicit rng(std::uint64_t seed) noexcept : state_{seed} {}
    std::uint64_t next() noexcept { return splitmix64(state_++ * 0x9e3779b97f4a7c15ull); }
    /// Uniform in [0, n); n > 0.
    std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
    /// Uniform in [lo, hi].
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept { return lo + below(hi - lo + 1); }
    bool chance(double p) noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

private:
    std::uint64_t state_;
};

/// One direction's payload: byte i depends only on (key, i), so the writer can
/// produce it and the reader check it at any offset, without a copy of the stream.
class byte_stream {
public:
    explicit byte_stream(std::uint64_t key) noexcept : key_{key} {}

    void fill(std::uint64_t position, std::span<std::uint8_t> out) const noexcept
    {
        std::size_t i = 0;
        while (i < out.size()) {
            const std::uint64_t at = position + i;
            const std::uint64_t word = splitmix64(key_ ^ (at / 8) * 0xd1342543de82ef95ull);
            for (unsigned b = static_cast<unsigned>(at % 8); b < 8 && i < out.size(); ++b, ++i)
                out[i] = static_cast<std::uint8_t>(word >> (8 * b));
        }
    }

    /// The offset of the first byte of `got` that differs from the stream at
    /// `position`, or got.size() when all agree.
    std::size_t mismatch(std::uint64_t position, std::span<const std::uint8_t> got) const noexcept
    {
        std::array<std::uint8_t, 4096> want;
        for (std::size_t done = 0; done < got.size(); done += want.size()) {
            const std::size_t n = std::min(want.size(), got.size() - done);
            fill(position + done, std::span<std::uint8_t>{want.data(), n});
            if (std::memcmp(want.data(), got.data() + done, n) != 0) {
                for (std::size_t k = 0; k < n; ++k)
                    if (want[k] != got[done + k]) return done + k;
            }
        }
        return got.size();
    }

private:
    std::uint64_t key_;
};

// ---- the device: impaired<loopback&>, with an optional packet trace ----

inline bool trace_enabled()
{
    static const bool on = [] {
        const char* v = std::getenv("TCPX_SIM_TRACE");
        return v != nullptr && *v != '\0' && *v != '0';
    }();
    return on;
}

/// The seed TCPX_SIM_SEED asks to replay, if any.
inline std::optional<std::uint64_t> replay_seed()
{
    const char* v = std::getenv("TCPX_SIM_SEED");
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::strtoull(v, nullptr, 0);
}

inline double seconds_of(instant t) noexcept
{
    return static_cast<double>((t - clocks::manual_timeline::start).count()) / 1e6;
}

/// Prints one IPv4/TCP packet in one line: time, direction, flags, seq, ack, window, length.
inline void trace_packet(instant t, const char* what, std::span<const std::uint8_t> p)
{
    const wire::ipv4_view ip{p};
    if (ip.check()) {
        std::fprintf(stderr, "%12.6f %s (%zu bytes, bad IPv4)\n", seconds_of(t), what, p.size());
        return;
    }
    const wire::tcp_view tv{ip.payload()};
    if (tv.check()) {
        std::fprintf(stderr, "%12.6f %s (bad TCP header)\n", seconds_of(t), what);
        return;
    }
    const bool ok = tv.checksum_ok(ip.source(), ip.destination());
    const auto f = static_cast<unsigned>(tv.flags());
    std::fprintf(stderr, "%12.6f %s %c%c%c%c%c seq=%u ack=%u win=%u len=%zu%s\n", seconds_of(t), what,
                 f & 0x02 ? 'S' : '.', f & 0x10 ? 'A' : '.', f & 0x01 ? 'F' : '.', f & 0x04 ? 'R' : '.',
                 f & 0x08 ? 'P' : '.', tv.seq().value(), tv.ack().value(), tv.window(), tv.payload().size(),
                 ok ? "" : " BAD-CHECKSUM");
}

/// A device for one stack of the world: its loopback end behind impaired<>, and,
/// when tracing, a line per packet sent ("A>") and received ("A<").
class sim_device {
public:
    sim_device(const devices::impairment_config& c, devices::loopback& end, char name)
        : dev_{c, end}, out_{name, '>', ' ', '\0'}, in_{name, '<', ' ', '\0'}, trace_{trace_enabled()}
    {
    }
    sim_device(const sim_device&) = delete;
    sim_device& operator=(const sim_device&) = delete;

    std::size_t mtu() const { return dev_.mtu(); }
    template <class F>
    std::size_t receive(instant t, F&& f, std::size_t n)
    {
        if (!trace_) return dev_.receive(t, static_cast<F&&>(f), n);
        return dev_.receive(
            t,
            [&](std::span<const std::uint8_t> p) {
                trace_packet(t, in_, p);
                f(p);
            },
            n);
    }
    std::span<std::uint8_t> transmit_buffer(std::size_t n) { return last_ = dev_.transmit_buffer(n); }
    void transmit(std::size_t n, instant t)
    {
        if (trace_ && n <= last_.size()) trace_packet(t, out_, last_.first(n));
        dev_.transmit(n, t);
    }
    instant next_deadline() const { return dev_.next_deadline(); }

    devices::impaired<devices::loopback&>& impaired() noexcept { return dev_; }
    const devices::impaired<devices::loopback&>& impaired() const noexcept { return dev_; }

private:
    devices::impaired<devices::loopback&> dev_;
    std::span<std::uint8_t> last_;
    char out_[4];
    char in_[4];
    bool trace_;
};

static_assert(tcpx::device<sim_device>);

using sim_stack = stack<sim_device&, clocks::manual>;

// ---- a scenario and its result ----

/// Who closes first (RFC 9293 §3.6 cases 1 and 2).
enum class close_order : std::uint8_t {
    a_first,       ///< A shuts down once its data is queued; B closes after A's FIN
    b_first,       ///< the same with the roles swapped
    simultaneous,  ///< each shuts down as soon as its own data is queued
};

struct scenario {
    std::uint64_t seed = 1;
    devices::impairment a_to_b{};
    devices::impairment b_to_a{};
    std::uint64_t bytes_a_to_b = 0;
    std::uint64_t bytes_b_to_a = 0;
    close_order order = close_order::a_first;
    /// The side that closes second calls close() at once (which implies the FIN)
    /// instead of shutdown() then close().
    bool second_uses_close = false;
    std::size_t mtu = 1500;
    config base{};  ///< knobs shared by both stacks (address and ISN secret are set per side)
    /// A slow reader: after a read it pauses this long with probability reader_pause_chance.
    duration reader_pause{0};
    double reader_pause_chance = 0;
    duration time_limit = std::chrono::hours{2};
    std::uint64_t iteration_limit = 20'000'000;
    std::uint64_t same_instant_limit = 1'000'000;
};

struct side_result {
    std::uint64_t sent = 0;       ///< bytes the application handed to send()
    std::uint64_t received = 0;   ///< bytes read, every one checked against the stream
    bool end_of_stream = false;   ///< receive() said errc::end_of_stream
    bool closed = false;          ///< the application closed its socket
    std::size_t connections = 0;  ///< connection_count() at the end
    std::size_t pool_bytes = 0;   ///< pool().bytes_in_use() at the end
    stack_counters counters;
    devices::impairment_counters transmit;  ///< this side's outgoing direction
    std::uint64_t input_drops = 0;  ///< dropped received packets (every reason but device_full)
};

struct result {
    std::string failure;  ///< empty when the run reached its end; else what went wrong
    std::array<side_result, 2> side;
    instant end{};
    std::uint64_t iterations = 0;
    std::uint64_t digest = 0;  ///< of counters, times and iterations: equal runs, equal digests

    bool passed() const noexcept { return failure.empty(); }
    double simulated_seconds() const noexcept { return seconds_of(end); }
};

// ---- drawing a scenario from a seed ----

/// A payload size, biased small so thousands of seeds stay quick: an empty stream
/// now and then, mostly up to 16 KiB, some up to 256 KiB, an eighth up to `largest`.
inline std::uint64_t draw_size(rng& r, std::uint64_t largest)
{
    const auto bucket = r.below(16);
    if (bucket == 0) return 0;
    if (bucket < 8) return r.between(1, std::min<std::uint64_t>(16 * 1024, largest));
    if (bucket < 14) return r.between(1, std::min<std::uint64_t>(256 * 1024, largest));
    return r.between(1, largest);
}

/// Everything but the impairments, from the seed: sizes, close order, buffers, MTU,
/// Nagle, initial window, a slow reader.
inline scenario draw_scenario(std::uint64_t seed, const devices::impairment& a_to_b,
                              const devices::impairment& b_to_a, std::uint64_t largest = 3 << 20)
{
    rng r{splitmix64(seed)};
    scenario s;
    s.seed = seed;
    s.a_to_b = a_to_b;
    s.b_to_a = b_to_a;
    s.bytes_a_to_b = draw_size(r, largest);
    s.bytes_b_to_a = draw_size(r, largest);
    s.order = static_cast<close_order>(r.below(3));
    s.second_uses_close = r.chance(0.5);
    const std::size_t mtus[] = {1500, 1500, 1500, 576, 9000};
    s.mtu = mtus[r.below(5)];
    const std::size_t buffers[] = {256 * 1024, 64 * 1024, 16 * 1024};
    s.base.receive_buffer = buffers[r.below(3)];
    s.base.send_buffer = buffers[r.below(3)];
    s.base.nodelay = r.chance(0.25);
    s.base.initial_window_segments = r.chance(0.5) ? 10 : 0;
    // RFC 9293 §3.4.2: TIME-WAIT lasts 2 MSL; a short MSL keeps runs short.
    s.base.msl = std::chrono::seconds{1};
    if (r.chance(0.25)) {
        s.reader_pause = duration{static_cast<duration::rep>(r.between(1'000, 300'000))};
        s.reader_pause_chance = 0.1;
    }
    return s;
}

// ---- running it ----

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

}  // namespace detail

inline std::string describe_scenario(const scenario& s)
{
    static const char* orders[] = {"A closes first", "B closes first", "simultaneous close"};
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "seed=%llu A->B %llu bytes, B->A %llu bytes, %s%s, mtu %zu, rcvbuf %zu, sndbuf %zu, "
                  "nodelay %d, IW %u, reader pause %lld us",
                  static_cast<unsigned long long>(s.seed), static_cast<unsigned long long>(s.bytes_a_to_b),
                  static_cast<unsigned long long>(s.bytes_b_to_a), orders[static_cast<int>(s.order)],
                  s.second_uses_close ? " (second by close())" : "", s.mtu, s.base.receive_buffer,
                  s.base.send_buffer, s.base.nodelay ? 1 : 0, s.base.initial_window_segments,
                  static_cast<long long>(s.reader_pause.count()));
    return buf;
}

namespace detail {

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
    r.input_drops = r.counters.dropped_total() - r.counters.dropped(drop_reason::device_full);
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

    std::uint64_t same_instant = 0;
    bool finished = false;
    std::string last_a, last_b;
    while (res.passed()) {
        if (++res.iterations > s.iteration_limit) {
            res.failure = "livelock: " + std::to_string(s.iteration_limit) + " loop iterations";
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
