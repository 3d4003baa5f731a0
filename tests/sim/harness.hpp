// The simulation harness (DESIGN.md "Tests, in layers", 3): two tcpx stacks,
// 10.0.0.1 (A, the client) and 10.0.0.2 (B, the server), over one loopback_link
// whose ends are each wrapped in devices::impaired, on one manual timeline.
//
//     sim::scenario s = sim::draw_scenario(seed, a_to_b, b_to_a);
//     sim::result r = sim::run(s);           // driver.hpp: connect, transfer both ways, close
//     CHECK(r.passed());                     // r.failure says why not
//
// What a run does: A connects to B:80; each side writes its stream (a seeded
// pseudo-random byte stream, so the reader checks every byte against the same
// generator without keeping a copy) and reads the other's until end_of_stream;
// then both close, in the order the scenario says, and the run goes on until both
// connection tables are empty (TIME-WAIT included) and no packet is in flight.
//
// Here: the pieces (seeded randomness, the byte streams, the traced device, the
// scenario and result types, drawing a scenario from a seed). driver.hpp: the loop
// that runs one, jumping the clock from deadline to deadline, with bounds that make
// a livelock fail instead of hang.
//
// RFCs to have open: RFC 9293 §3.5 and §3.6 (opening and closing, TIME-WAIT's
// 2 MSL), §3.8 (retransmission, windows), RFC 5681 (loss recovery), RFC 9293 §3.1
// and RFC 791 §3.1 (the checksums that must catch corruption).
//
// Environment: TCPX_SIM_SEED=n runs only seed n (replay); TCPX_SIM_TRACE=1 prints
// every packet, control-block change and application event of a run to stderr.
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
    /// Loop turns allowed: a healthy run takes about one per segment, so this is room
    /// for ten times the worst seen, and a livelock fails in seconds, not hours.
    std::uint64_t iteration_limit = 0;  ///< 0: 200 000 plus one per 16 bytes transferred
    std::uint64_t same_instant_limit = 100'000;
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
    std::uint64_t input_drops = 0;  ///< received packets refused as malformed or misaddressed (driver.hpp)
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

}  // namespace tcpx::sim
