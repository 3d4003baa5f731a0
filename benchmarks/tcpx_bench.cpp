// tcpx-bench: what tcpx costs, measured on the real clock, two stacks in one thread
// over the in-memory link (no impairments, default config: checksums computed and
// verified in software, Reno). benchmarks/run sets these beside lwIP and the kernel.
//
//   tcpx-bench bulk  --mtu N --bytes N [--verify]   one stream; the receiver copies every byte out
//   tcpx-bench rr    --seconds S                    1-byte request, 1-byte response, no-delay
//   tcpx-bench crr   --seconds S                    connect, request, response, close — repeated
//   tcpx-bench conns --count N                      N idle connections: memory, and what they cost
//                                                   bulk and crr (bulk_cost_ratio, crr_cost_ratio)
//   tcpx-bench floor                                memcpy, checksum and copy-with-checksum bandwidth
//                                                   at 1500 B and 64 KiB in cache, bit/s: the ceiling
//                                                   a stack that touches each byte once can reach
//   every mode: [--json]
//
// CRR keeps the default TIME-WAIT: the server closes first (as an HTTP server does) and
// holds TIME-WAIT for 2·MSL; the client's next SYN from a reused port reopens it only
// as RFC 9293 §3.10.7.4 and RFC 6191 allow (a higher ISN) — what the kernel relies on.
#include <tcpx/stack.hpp>
#include <tcpx/clock/tsc.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "../examples/common/size.hpp"

namespace {

using namespace tcpx;
// The stacks' clock: clocks::tsc (steady_clock's time carried forward by the
// time-stamp counter, clock/tsc.hpp), or with -DTCPX_BENCH_STEADY_CLOCK (the
// tcpx-bench-steady binary) clocks::steady, a steady_clock reading per poll().
#if defined(TCPX_BENCH_STEADY_CLOCK)
using bench_clock = clocks::steady;
#define TCPX_BENCH_CLOCK_NAME "steady"
#else
using bench_clock = clocks::tsc;
#define TCPX_BENCH_CLOCK_NAME "tsc"
#endif
using bench_stack = stack<devices::loopback&, bench_clock>;
constexpr std::uint16_t server_port = 5001;
const wire::ipv4_address client_address{10, 0, 0, 1};
const wire::ipv4_address server_address{10, 0, 0, 2};

struct options {
    std::string mode;
    std::size_t mtu = 1500;
    std::uint64_t bytes = 1ull << 30;
    double seconds = 2;
    std::size_t count = 100000;
    bool verify = false;
    bool json = false;
};

[[noreturn]] void usage(const char* why, int status = 2)
{
    std::fprintf(status == 0 ? stdout : stderr,
                 "tcpx-bench: %s\n"
                 "usage: tcpx-bench bulk --mtu N --bytes N [--verify] [--json]\n"
                 "       tcpx-bench rr --seconds S [--json]\n"
                 "       tcpx-bench crr --seconds S [--json]\n"
                 "       tcpx-bench conns --count N [--json]\n"
                 "       tcpx-bench floor [--json]\n",
                 why);
    std::exit(status);
}

[[noreturn]] void fail(const char* what, const std::error_code& ec)
{
    std::fprintf(stderr, "tcpx-bench: %s: %s\n", what, ec.message().c_str());
    std::exit(1);
}

std::uint64_t parse_size(const char* text)
{
    const auto n = example::parse_size(text);
    if (!n) usage("bad number");
    return *n;
}

options parse(int argc, char** argv)
{
    if (argc < 2) usage("which mode?");
    options o;
    o.mode = argv[1];
    if (o.mode != "bulk" && o.mode != "rr" && o.mode != "crr" && o.mode != "conns" && o.mode != "floor")
        usage("unknown mode");
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&] {
            if (i + 1 >= argc) usage("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--mtu") o.mtu = static_cast<std::size_t>(parse_size(value()));
        else if (a == "--bytes") o.bytes = parse_size(value());
        else if (a == "--seconds") o.seconds = std::strtod(value(), nullptr);
        else if (a == "--count") o.count = static_cast<std::size_t>(parse_size(value()));
        else if (a == "--verify") o.verify = true;
        else if (a == "--json") o.json = true;
        else if (a == "--help" || a == "-h") usage("measures tcpx", 0);
        else usage("unknown flag");
    }
    if (o.mtu < 576 || o.mtu > 65535) usage("--mtu must be 576..65535");
    return o;
}

double since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Resident memory of the process, bytes (/proc/self/statm).
std::size_t resident_bytes()
{
    std::ifstream statm{"/proc/self/statm"};
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// Two stacks joined by an in-memory link: the client at 10.0.0.1, the server at .2.
struct pair_of_stacks {
    devices::loopback_link link;
    bench_stack client;
    bench_stack server;

    explicit pair_of_stacks(std::size_t mtu, config base = {})
        : link{devices::loopback_config{.mtu = mtu, .queue_bytes = std::size_t{16} << 20}},
          client{link.end(0), {}, with_address(base, client_address)},
          server{link.end(1), {}, with_address(base, server_address)}
    {
    }
    static config with_address(config c, wire::ipv4_address a)
    {
        c.address = a;
        return c;
    }
    void poll()
    {
        client.poll();
        server.poll();
    }
    /// Polls until `done()` holds; fails after `limit` rounds without it.
    template <class Done>
    void run_until(Done&& done, const char* what, std::uint64_t limit = 10'000'000)
    {
        for (std::uint64_t i = 0; !done(); ++i) {
            if (i == limit) {
                std::fprintf(stderr, "tcpx-bench: stuck waiting for %s\n", what);
                std::exit(1);
            }
            poll();
        }
    }
    /// An established connection: the client's end and the server's.
    std::pair<socket, socket> connect(listener l, std::uint16_t port = server_port)
    {
        std::error_code ec;
        const socket c = client.connect(server_address, port, ec);
        if (ec) fail("connect", ec);
        socket s{};
        run_until([&] { return s = server.accept(l, ec), s.valid(); }, "accept");
        run_until([&] { return client.writable(c); }, "the handshake");
        return {c, s};
    }
};

/// The stream "byte i is i % 251", readable from any offset.
struct pattern {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(251 * 1045);
    pattern()
    {
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i % 251);
    }
    std::span<const std::uint8_t> at(std::uint64_t offset, std::uint64_t n) const
    {
        return std::span{bytes}.subspan(static_cast<std::size_t>(offset % 251),
                                         static_cast<std::size_t>(std::min<std::uint64_t>(n, bytes.size() - 251)));
    }
};

// ---------------------------------------------------------------------------- bulk

struct bulk_result {
    std::uint64_t bytes = 0;
    double seconds = 0;
    std::uint64_t segments = 0;
    bool verified = true;
};

/// One stream of `bytes` from client to server on an established pair; the receiver
/// copies every byte into its own buffer (and checks it if `verify`).
bulk_result bulk_on(pair_of_stacks& p, socket c, socket s, std::uint64_t bytes, bool verify)
{
    const pattern pat;
    std::vector<std::uint8_t> app(std::size_t{256} << 10);
    bulk_result r;
    const std::uint64_t segments_before = p.client.counters().segments_sent;
    std::uint64_t sent = 0;
    std::error_code ec;
    const auto t0 = std::chrono::steady_clock::now();
    while (r.bytes < bytes) {
        while (sent < bytes) {
            const std::size_t n = p.client.send(c, pat.at(sent, bytes - sent), ec);
            if (n == 0) break;
            sent += n;
        }
        p.poll();
        for (;;) {
            const std::size_t n = p.server.receive(s, app, ec);
            if (n == 0) break;
            if (verify && r.verified && std::memcmp(app.data(), pat.at(r.bytes, n).data(), n) != 0) {
                std::size_t i = 0;
                while (app[i] == pat.bytes[(r.bytes + i) % 251]) ++i;
                std::fprintf(stderr, "tcpx-bench: wrong byte at stream offset %llu\n",
                             static_cast<unsigned long long>(r.bytes + i));
                r.verified = false;
            }
            r.bytes += n;
        }
        if (p.client.state(c) == tcp::state::closed) fail("bulk: the connection ended", p.client.error(c));
    }
    r.seconds = since(t0);
    r.segments = p.client.counters().segments_sent - segments_before;
    return r;
}

int run_bulk(const options& o)
{
    pair_of_stacks p{o.mtu};
    std::error_code ec;
    const listener l = p.server.listen(server_port, 16, ec);
    if (ec) fail("listen", ec);
    const auto [c, s] = p.connect(l);
    const bulk_result r = bulk_on(p, c, s, o.bytes, o.verify);
    const double bps = static_cast<double>(r.bytes) * 8 / r.seconds;
    if (o.json)
        std::printf("{\"stack\":\"tcpx\",\"clock\":\"" TCPX_BENCH_CLOCK_NAME "\",\"mode\":\"bulk\",\"mtu\":%zu,\"throughput_bps\":%.0f,\"bytes\":%llu,"
                    "\"seconds\":%.6f,\"segments\":%llu,\"verified\":%s}\n",
                    o.mtu, bps, static_cast<unsigned long long>(r.bytes), r.seconds,
                    static_cast<unsigned long long>(r.segments), o.verify ? (r.verified ? "true" : "false") : "null");
    else
        std::printf("tcpx-bench bulk: %llu bytes at MTU %zu in %.3f s: %.2f Gbit/s, %llu segments%s\n",
                    static_cast<unsigned long long>(r.bytes), o.mtu, r.seconds, bps / 1e9,
                    static_cast<unsigned long long>(r.segments),
                    o.verify ? (r.verified ? ", every byte verified" : ", WRONG BYTES") : "");
    return r.verified ? 0 : 1;
}

// ---------------------------------------------------------------------------- rr

int run_rr(const options& o)
{
    pair_of_stacks p{o.mtu};
    std::error_code ec;
    const listener l = p.server.listen(server_port, 16, ec);
    if (ec) fail("listen", ec);
    const auto [c, s] = p.connect(l);
    p.client.set_nodelay(c, true);
    p.server.set_nodelay(s, true);
    std::uint8_t byte = 'q';
    std::uint64_t transactions = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (elapsed < o.seconds) {
        for (int batch = 0; batch < 1024; ++batch) {
            p.client.send(c, {&byte, 1}, ec);
            p.client.poll();
            p.server.poll();
            if (p.server.receive(s, {&byte, 1}, ec) != 1) fail("rr: no request", ec);
            p.server.send(s, {&byte, 1}, ec);
            p.server.poll();
            p.client.poll();
            if (p.client.receive(c, {&byte, 1}, ec) != 1) fail("rr: no response", ec);
            ++transactions;
        }
        elapsed = since(t0);
    }
    const double rate = static_cast<double>(transactions) / elapsed;
    if (o.json)
        std::printf("{\"stack\":\"tcpx\",\"clock\":\"" TCPX_BENCH_CLOCK_NAME "\",\"mode\":\"rr\",\"transactions_per_s\":%.0f,\"transactions\":%llu,\"seconds\":%.6f}\n",
                    rate, static_cast<unsigned long long>(transactions), elapsed);
    else
        std::printf("tcpx-bench rr: %llu transactions in %.3f s: %.0f per second (%.2f us each)\n",
                    static_cast<unsigned long long>(transactions), elapsed, rate, 1e6 / rate);
    return 0;
}

// ---------------------------------------------------------------------------- crr

/// `n` connections, each: connect, 1-byte request, 1-byte response, server closes,
/// client closes. Returns the seconds it took.
double crr_on(pair_of_stacks& p, listener l, std::uint64_t n, std::uint64_t* done_out = nullptr, double seconds = 0)
{
    std::error_code ec;
    std::uint8_t byte = 'q';
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t done = 0;
    for (; seconds > 0 ? (done % 256 != 0 || since(t0) < seconds) : done < n; ++done) {
        const socket c = p.client.connect(server_address, server_port, ec);
        if (ec) fail("crr: connect", ec);
        p.client.set_nodelay(c, true);
        socket s{};
        for (int i = 0; !s.valid(); ++i) {
            if (i == 1000) fail("crr: nothing to accept", ec);
            p.poll();
            s = p.server.accept(l, ec);
        }
        p.server.set_nodelay(s, true);  // accepted: both ends are ESTABLISHED
        if (p.client.send(c, {&byte, 1}, ec) != 1) fail("crr: request", ec);
        p.poll();
        if (p.server.receive(s, {&byte, 1}, ec) != 1) fail("crr: no request", ec);
        p.server.send(s, {&byte, 1}, ec);
        p.server.close(s);  // the server closes first: it holds TIME-WAIT
        p.server.poll();    // response and FIN out
        p.client.poll();
        if (p.client.receive(c, {&byte, 1}, ec) != 1) fail("crr: no response", ec);
        p.client.close(c);  // the client's FIN (LAST-ACK)
        p.poll();           // the server ACKs it: TIME-WAIT there, the client's end is released
        p.client.poll();
    }
    if (done_out != nullptr) *done_out = done;
    return since(t0);
}

int run_crr(const options& o)
{
    pair_of_stacks p{o.mtu};
    std::error_code ec;
    const listener l = p.server.listen(server_port, 128, ec);
    if (ec) fail("listen", ec);
    std::uint64_t done = 0;
    const double elapsed = crr_on(p, l, 0, &done, o.seconds);
    const double rate = static_cast<double>(done) / elapsed;
    const auto& sc = p.server.counters();
    if (o.json)
        std::printf("{\"stack\":\"tcpx\",\"clock\":\"" TCPX_BENCH_CLOCK_NAME "\",\"mode\":\"crr\",\"connections_per_s\":%.0f,\"connections\":%llu,\"seconds\":%.6f,"
                    "\"time_wait_reopened\":%llu,\"server_connections_at_end\":%zu}\n",
                    rate, static_cast<unsigned long long>(done), elapsed,
                    static_cast<unsigned long long>(sc.time_wait_reopened), p.server.connection_count());
    else
        std::printf("tcpx-bench crr: %llu connections in %.3f s: %.0f per second (%.2f us each); "
                    "%llu reopened from TIME-WAIT, %zu in the server's table at the end\n",
                    static_cast<unsigned long long>(done), elapsed, rate, 1e6 / rate,
                    static_cast<unsigned long long>(sc.time_wait_reopened), p.server.connection_count());
    return 0;
}

// ---------------------------------------------------------------------------- conns

int run_conns(const options& o)
{
    // Enough 4-tuples: one client port range (16384 ports) per listening port.
    const std::size_t per_port = 16000;
    const std::size_t ports = (o.count + per_port - 1) / per_port + 1;
    config cfg;
    cfg.max_connections = o.count + 70000;
    cfg.max_half_open = o.count + 1024;

    // The reference: bulk and crr on a fresh pair with nothing else.
    const std::uint64_t bulk_bytes = std::uint64_t{256} << 20;
    const std::uint64_t crr_count = 20000;
    double bulk_alone = 0, crr_alone = 0;
    {
        pair_of_stacks p{o.mtu, cfg};
        std::error_code ec;
        const listener l = p.server.listen(server_port, 128, ec);
        const auto [c, s] = p.connect(l);
        bulk_alone = bulk_on(p, c, s, bulk_bytes, false).seconds;
        crr_alone = crr_on(p, l, crr_count);
    }

    const std::size_t rss_before = resident_bytes();
    pair_of_stacks p{o.mtu, cfg};
    std::error_code ec;
    std::vector<listener> listeners;
    for (std::size_t i = 0; i < ports; ++i) {
        listeners.push_back(p.server.listen(static_cast<std::uint16_t>(server_port + 1 + i), 4096, ec));
        if (ec) fail("listen", ec);
    }
    const listener main_listener = p.server.listen(server_port, 128, ec);
    const std::size_t rss_empty = resident_bytes();
    const std::size_t table_empty = p.client.table_memory_bytes() + p.server.table_memory_bytes();

    // N connections, each having exchanged one byte each way, then idle.
    std::vector<std::pair<socket, socket>> idle;
    idle.reserve(o.count);
    std::uint8_t byte = 'x';
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < o.count; ++i) {
        const std::uint16_t port = static_cast<std::uint16_t>(server_port + 1 + i / per_port);
        const socket c = p.client.connect(server_address, port, ec);
        if (ec) fail("conns: connect", ec);
        socket s{};
        while (!s.valid()) {
            p.poll();
            s = p.server.accept(listeners[i / per_port], ec);
        }
        p.client.send(c, {&byte, 1}, ec);
        p.server.send(s, {&byte, 1}, ec);
        p.poll();
        p.poll();
        p.server.receive(s, {&byte, 1}, ec);
        p.client.receive(c, {&byte, 1}, ec);
        idle.emplace_back(c, s);
    }
    const auto settled = [&](bench_stack& st) { return st.next_deadline() > st.clock().now() + std::chrono::milliseconds{50}; };
    p.run_until([&] { return settled(p.client) && settled(p.server); }, "the idle connections to settle");
    const double setup_seconds = since(t0);
    const std::size_t rss_full = resident_bytes();
    const std::size_t table_full = p.client.table_memory_bytes() + p.server.table_memory_bytes();
    const double endpoints = 2.0 * static_cast<double>(o.count);
    const double rss_per = static_cast<double>(rss_full - rss_empty) / endpoints;
    const double table_per = static_cast<double>(table_full - table_empty) / endpoints;

    const auto [c, s] = p.connect(main_listener);
    const double bulk_busy = bulk_on(p, c, s, bulk_bytes, false).seconds;
    const double crr_busy = crr_on(p, main_listener, crr_count);
    const double bulk_ratio = bulk_busy / bulk_alone;
    const double crr_ratio = crr_busy / crr_alone;
    if (o.json)
        std::printf("{\"stack\":\"tcpx\",\"clock\":\"" TCPX_BENCH_CLOCK_NAME "\",\"mode\":\"conns\",\"count\":%zu,\"bytes_per_idle_connection\":%.1f,"
                    "\"bytes_per_idle_connection_stack\":%.1f,\"bytes_per_idle_connection_rss\":%.1f,"
                    "\"bulk_cost_ratio\":%.3f,\"crr_cost_ratio\":%.3f,\"setup_seconds\":%.3f,"
                    "\"rss_before\":%zu}\n",
                    o.count, std::max(rss_per, table_per), table_per, rss_per, bulk_ratio, crr_ratio, setup_seconds,
                    rss_before);
    else
        std::printf("tcpx-bench conns: %zu idle connections (set up in %.2f s)\n"
                    "  memory per idle endpoint: %.0f bytes by the stack's accounting, %.0f bytes of resident memory\n"
                    "  with them present: bulk costs %.3f x, connect-request-response-close %.3f x what it does alone\n",
                    o.count, setup_seconds, table_per, rss_per, bulk_ratio, crr_ratio);
    for (auto& [ic, is] : idle) {
        p.client.abort(ic);
        p.server.abort(is);
    }
    return 0;
}

// ---------------------------------------------------------------------------- floor

/// Bytes per second of `f` over a buffer of `size` bytes kept in cache, best of 5 runs
/// of ~50 ms each.
template <class F>
double bandwidth(std::size_t size, F&& f)
{
    double best = 0;
    for (int run = 0; run < 5; ++run) {
        std::uint64_t bytes = 0;
        const auto t0 = std::chrono::steady_clock::now();
        double elapsed = 0;
        while (elapsed < 0.05) {
            for (int i = 0; i < 256; ++i) f();
            bytes += 256 * size;
            elapsed = since(t0);
        }
        best = std::max(best, static_cast<double>(bytes) / elapsed);
    }
    return best;
}

int run_floor(const options& o)
{
    struct row {
        const char* what;
        std::size_t size;
        double bps;
    };
    std::vector<row> rows;
    // One page-aligned block: the source at its start, the destination half a page past
    // the source's last page. Where dst - src modulo 4096 is a little above 0, each store
    // looks (to the CPU's 4K-aliasing check) like it may feed a load issued just after it,
    // and copy-with-checksum ran at 350 instead of 640 Gbit/s here; separate vectors put
    // the two wherever the heap did, which moved the figure by a third between builds.
    alignas(4096) static std::uint8_t block[2 * 65536 + 8192];
    for (const std::size_t size : {std::size_t{1500}, std::size_t{65536}}) {
        const std::span<std::uint8_t> src{block, size};
        const std::span<std::uint8_t> dst{block + (size + 4095) / 4096 * 4096 + 2048, size};
        for (std::size_t i = 0; i < size; ++i) src[i] = static_cast<std::uint8_t>(i * 131 + 7);
        volatile std::uint16_t sink = 0;
        rows.push_back({"memcpy", size, 8 * bandwidth(size, [&] {
                            std::memcpy(dst.data(), src.data(), size);
                            asm volatile("" : : "r"(dst.data()) : "memory");
                        })});
        rows.push_back({"checksum", size, 8 * bandwidth(size, [&] { sink = wire::internet_checksum(src); })});
        rows.push_back({"copy_and_checksum", size, 8 * bandwidth(size, [&] {
                            wire::checksum_accumulator acc;
                            wire::copy_and_add(acc, dst, src);
                            sink = acc.finish();
                        })});
        (void)sink;
    }
    if (o.json) {
        std::printf("{\"stack\":\"floor\",\"mode\":\"floor\"");
        for (const row& r : rows) std::printf(",\"%s_%zu_bps\":%.0f", r.what, r.size, r.bps);
        std::printf("}\n");
    } else {
        for (const row& r : rows) std::printf("  %-18s %6zu B in cache: %7.1f Gbit/s\n", r.what, r.size, r.bps / 1e9);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    if (o.mode == "bulk") return run_bulk(o);
    if (o.mode == "rr") return run_rr(o);
    if (o.mode == "crr") return run_crr(o);
    if (o.mode == "floor") return run_floor(o);
    return run_conns(o);
}
