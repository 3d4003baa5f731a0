// tcpx-perf: measures tcpx. Mode `loopback` (the in-memory demo): two stacks in one
// process joined by an in-memory link, optionally impaired, on a simulated clock that
// jumps straight to the next deadline — so a minute of traffic takes a moment and the
// same seed gives the same run. One connection sends --bytes to the other, which
// checks every byte (byte i of the stream is i % 251), then both close.
//
//   tcpx-perf loopback [--bytes N] [--mtu N] [--loss P] [--delay MS] [--reorder P]
//                      [--rate MBIT] [--queue PACKETS] [--seed N] [--json]
#include <tcpx/stack.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace tcpx;
using link_device = devices::impaired<devices::loopback&>;
using perf_stack = stack<link_device&, clocks::manual>;

struct options {
    std::uint64_t bytes = 64ull << 20;
    std::size_t mtu = 1500;
    double loss = 0;
    double reorder = 0;
    double delay_ms = 1;
    double rate_mbit = 1000;
    std::size_t queue = 1000;
    std::uint64_t seed = 1;
    bool json = false;
};

[[noreturn]] void usage(const char* why, int status = 2)
{
    std::fprintf(status == 0 ? stdout : stderr,
                 "tcpx-perf: %s\n"
                 "usage: tcpx-perf loopback [--bytes N] [--mtu N] [--loss P] [--delay MS] [--reorder P]\n"
                 "                          [--rate MBIT] [--queue PACKETS] [--seed N] [--json]\n"
                 "  --bytes N      bytes to transfer (default 64 MiB; suffixes k, M, G)\n"
                 "  --mtu N        link MTU, 576..65535 (default 1500)\n"
                 "  --loss P       random loss per packet and direction, a fraction (0.01 = 1%%)\n"
                 "  --delay MS     one-way delay in milliseconds (default 1)\n"
                 "  --reorder P    fraction of packets held back so later ones overtake them\n"
                 "  --rate MBIT    bottleneck rate in Mbit/s (default 1000; 0: unlimited)\n"
                 "  --queue N      drop-tail queue at the bottleneck, packets (default 1000)\n"
                 "  --seed N       seed of the impairments (default 1)\n"
                 "  --json         print one JSON object instead of the summary\n",
                 why);
    std::exit(status);
}

std::uint64_t parse_size(const char* text)
{
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || v < 0) usage("bad number");
    double scale = 1;
    if (*end == 'k' || *end == 'K') scale = 1024;
    else if (*end == 'M') scale = 1024.0 * 1024;
    else if (*end == 'G') scale = 1024.0 * 1024 * 1024;
    else if (*end != '\0') usage("bad number");
    return static_cast<std::uint64_t>(v * scale);
}

double parse_double(const char* text, double lo, double hi)
{
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || v < lo || v > hi) usage("number out of range");
    return v;
}

options parse(int argc, char** argv)
{
    if (argc < 2 || std::string_view{argv[1]} != "loopback") {
        if (argc >= 2 && std::string_view{argv[1]} == "tun") usage("mode tun is not built yet (see issue 5)");
        usage("the mode must be `loopback`");
    }
    options o;
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") usage("measures tcpx", 0);
        else if (a == "--bytes") o.bytes = parse_size(value());
        else if (a == "--mtu") o.mtu = static_cast<std::size_t>(parse_double(value(), 576, 65535));
        else if (a == "--loss") o.loss = parse_double(value(), 0, 0.9);
        else if (a == "--reorder") o.reorder = parse_double(value(), 0, 0.9);
        else if (a == "--delay") o.delay_ms = parse_double(value(), 0, 10000);
        else if (a == "--rate") o.rate_mbit = parse_double(value(), 0, 1e6);
        else if (a == "--queue") o.queue = static_cast<std::size_t>(parse_double(value(), 1, 1e6));
        else if (a == "--seed") o.seed = static_cast<std::uint64_t>(parse_double(value(), 0, 1e18));
        else if (a == "--json") o.json = true;
        else usage("unknown flag");
    }
    return o;
}

struct result {
    std::uint64_t bytes = 0;
    double seconds = 0;       // simulated
    double wall_seconds = 0;
    std::uint64_t segments_sent = 0, segments_received = 0, retransmits = 0, fast_retransmits = 0, timeouts = 0;
    std::uint64_t corrupt_dropped = 0, lost = 0;
    double srtt_ms = 0, rto_ms = 0;
    std::uint32_t cwnd = 0, ssthresh = 0;
    bool verified = false;
};

result run(const options& o)
{
    devices::loopback_link link{devices::loopback_config{.mtu = o.mtu, .queue_bytes = std::size_t{64} << 20}};
    devices::impairment path;
    path.loss = o.loss;
    path.reorder = o.reorder;
    path.delay = duration{static_cast<std::int64_t>(o.delay_ms * 1000)};
    path.rate_bps = static_cast<std::uint64_t>(o.rate_mbit * 1e6);
    path.queue_packets = o.queue;
    link_device dev_a{devices::impairment_config{.transmit = path, .receive = {}, .seed = o.seed}, link.end(0)};
    link_device dev_b{devices::impairment_config{.transmit = path, .receive = {}, .seed = o.seed + 1}, link.end(1)};
    clocks::manual_timeline time;

    config ca;
    ca.address = wire::ipv4_address{10, 0, 0, 1};
    ca.isn_secret = std::array<std::uint64_t, 2>{o.seed, 1};
    ca.send_buffer = ca.receive_buffer = 4u << 20;  // room for a fast, long path
    config cb = ca;
    cb.address = wire::ipv4_address{10, 0, 0, 2};
    cb.isn_secret = std::array<std::uint64_t, 2>{o.seed, 2};
    perf_stack a{dev_a, clocks::manual{time}, ca};
    perf_stack b{dev_b, clocks::manual{time}, cb};

    std::error_code ec;
    const listener l = b.listen(5001, 16, ec);
    if (ec) { std::fprintf(stderr, "listen: %s\n", ec.message().c_str()); std::exit(1); }
    const socket s = a.connect(cb.address, 5001, ec);
    if (ec) { std::fprintf(stderr, "connect: %s\n", ec.message().c_str()); std::exit(1); }

    std::vector<std::uint8_t> pattern(251 * 1024);
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint8_t>(i % 251);
    std::vector<std::uint8_t> buffer(1 << 20);

    result r;
    socket t{};
    std::uint64_t sent = 0, received = 0;
    bool shut = false, eof = false, ok = true;
    instant first_byte{};
    const auto wall_start = std::chrono::steady_clock::now();
    const instant start = time.now();
    while (!eof) {
        a.poll();
        b.poll();
        if (!t) t = b.accept(l, ec);
        if (sent < o.bytes && a.writable(s)) {
            const std::size_t offset = static_cast<std::size_t>(sent % 251);
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(o.bytes - sent, pattern.size() - 251));
            sent += a.send(s, std::span{pattern}.subspan(offset, want), ec);
        }
        if (sent == o.bytes && !shut) shut = !a.shutdown(s);
        if (t) {
            for (;;) {
                const std::size_t n = b.receive(t, buffer, ec);
                if (ec == errc::end_of_stream) { eof = true; break; }
                if (n == 0) break;
                if (received == 0) first_byte = time.now();
                for (std::size_t i = 0; i < n && ok; ++i)
                    ok = buffer[i] == static_cast<std::uint8_t>((received + i) % 251);
                received += n;
            }
        }
        if (a.state(s) == tcp::state::closed && a.error(s)) {
            std::fprintf(stderr, "tcpx-perf: the connection failed: %s\n", a.error(s).message().c_str());
            std::exit(1);
        }
        // Nothing runnable now: jump to the next deadline (simulated time).
        const instant next = std::min(a.next_deadline(), b.next_deadline());
        if (next > time.now() && next != never) time.advance_to(next);
    }
    const auto* c = a.connection(s);
    r.bytes = received;
    r.seconds = std::chrono::duration<double>(time.now() - (o.bytes > 0 ? first_byte : start)).count();
    r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    r.segments_sent = a.counters().segments_sent;
    r.segments_received = b.counters().segments_received;
    r.retransmits = a.counters().retransmitted_segments;
    r.fast_retransmits = c->stats().fast_retransmits;
    r.timeouts = c->stats().timeouts;
    r.corrupt_dropped = b.counters().dropped(drop_reason::tcp_bad_checksum);
    r.lost = dev_a.transmit_counters().lost + dev_b.transmit_counters().lost;
    r.srtt_ms = std::chrono::duration<double, std::milli>(c->rtt().srtt()).count();
    r.rto_ms = std::chrono::duration<double, std::milli>(c->rtt().rto()).count();
    r.cwnd = c->congestion().cwnd();
    r.ssthresh = c->congestion().ssthresh();
    r.verified = ok && received == o.bytes;
    b.close(t);
    a.close(s);
    return r;
}

}  // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    const result r = run(o);
    const double bps = r.seconds > 0 ? static_cast<double>(r.bytes) * 8 / r.seconds : 0;
    if (o.json) {
        std::printf("{\"mode\":\"loopback\",\"throughput_bps\":%.0f,\"bytes\":%llu,\"seconds\":%.6f,"
                    "\"wall_seconds\":%.3f,\"segments\":%llu,\"retransmits\":%llu,\"fast_retransmits\":%llu,"
                    "\"timeouts\":%llu,\"srtt_ms\":%.3f,\"verified\":%s,"
                    "\"flows\":[{\"throughput_bps\":%.0f}]}\n",
                    bps, static_cast<unsigned long long>(r.bytes), r.seconds, r.wall_seconds,
                    static_cast<unsigned long long>(r.segments_sent), static_cast<unsigned long long>(r.retransmits),
                    static_cast<unsigned long long>(r.fast_retransmits), static_cast<unsigned long long>(r.timeouts),
                    r.srtt_ms, r.verified ? "true" : "false", bps);
    } else {
        std::printf("tcpx-perf loopback: two tcpx stacks over an in-memory link (MTU %zu), simulated clock\n", o.mtu);
        std::printf("  path        loss %.2f%%  delay %.1f ms  reorder %.2f%%  rate %s  seed %llu\n", o.loss * 100,
                    o.delay_ms, o.reorder * 100,
                    o.rate_mbit > 0 ? (std::to_string(static_cast<long long>(o.rate_mbit)) + " Mbit/s").c_str() : "unlimited",
                    static_cast<unsigned long long>(o.seed));
        if (r.seconds > 0)
            std::printf("  transfer    %llu bytes in %.3f s simulated: %.1f Mbit/s goodput\n",
                        static_cast<unsigned long long>(r.bytes), r.seconds, bps / 1e6);
        else
            std::printf("  transfer    %llu bytes in no simulated time (no delay, no rate limit)\n",
                        static_cast<unsigned long long>(r.bytes));
        std::printf("  cpu         %.3f s wall for both stacks on one thread: %.0f Mbit/s of processing\n",
                    r.wall_seconds, r.wall_seconds > 0 ? static_cast<double>(r.bytes) * 8 / r.wall_seconds / 1e6 : 0);
        std::printf("  verified    %s (byte i == i %% 251 for every byte)\n", r.verified ? "yes" : "NO");
        std::printf("  segments    %llu sent, %llu received by the peer\n",
                    static_cast<unsigned long long>(r.segments_sent), static_cast<unsigned long long>(r.segments_received));
        std::printf("  recovery    %llu retransmitted (%llu fast retransmits, %llu timeouts); %llu packets lost on the path\n",
                    static_cast<unsigned long long>(r.retransmits), static_cast<unsigned long long>(r.fast_retransmits),
                    static_cast<unsigned long long>(r.timeouts), static_cast<unsigned long long>(r.lost));
        std::printf("  sender      srtt %.3f ms  rto %.1f ms  cwnd %u  ssthresh %s\n", r.srtt_ms, r.rto_ms, r.cwnd,
                    r.ssthresh == UINT32_MAX ? "unset" : std::to_string(r.ssthresh).c_str());
    }
    return r.verified ? 0 : 1;
}
