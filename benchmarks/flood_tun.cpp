// tcpx-flood-tun: the floods of tcpx-flood (benchmarks/flood.cpp), over a real TUN
// interface with the Linux kernel as the legitimate peer (benchmarks/flood --tun runs
// it; README "Floods"). Needs root: it moves itself into a network namespace of its
// own, where the only route to tcpx is the TUN interface, and everything it makes goes
// with the process.
//
// tcpx (10.78.0.1) serves a discard port and a port that accepts and closes; in the
// same namespace a kernel socket writes one bulk flow to tcpx as fast as it can, and a
// kernel client opens a new connection every millisecond (closing each once it is
// established). A raw socket (IP_HDRINCL) sends the hostile traffic into the same TUN
// queue, from a thread of its own, as fast as the kernel takes it:
//
//   baseline  nothing hostile
//   syn       SYNs from random sources of 198.18.0.0/15
//   blind     RSTs, ACKs and FINs with random sequence and acknowledgment numbers and
//             timestamps, spoofed as the bulk flow's 4-tuple (RFC 5961 §3-§5)
//   icmp      ICMP errors from spoofed routers quoting tcpx's side of the bulk flow with
//             random sequence numbers, and datagrams of a protocol tcpx does not speak
//
// (The out-of-order flood, which needs a connection of the attacker's own, is measured
// in memory only.) Figures per phase, as tcpx-flood prints them: the bulk flow's
// goodput (paced at 1 Gbit/s, --bulk-gbps) and its ratio to the baseline's, the
// connects completed and their p50/p99, tcpx's peak pool and connections against its
// config; and here the flood's rate (--rate, default as fast as the kernel takes it),
// what the interface dropped (tx_dropped), and the CPU time of the whole process per
// second: on a small host the attacker's thread, the kernel and tcpx share the cores,
// and tcpx's thread pays a system call per packet read and per packet written.
#include <tcpx/blocking.hpp>
#include <tcpx/device/tun.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tests/support/hostile_packets.hpp"
#include "../tests/support/raw_flood.hpp"

namespace {

using namespace tcpx;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr wire::ipv4_address tcpx_address{10, 78, 0, 1};
constexpr wire::ipv4_address kernel_address{10, 78, 0, 2};
constexpr std::uint16_t bulk_port = 5001, connect_port = 80;
constexpr const char* interface_name = "tcpxflood";

[[noreturn]] void fail(const std::string& what)
{
    std::fprintf(stderr, "tcpx-flood-tun: %s\n", what.c_str());
    std::exit(1);
}

sockaddr_in socket_address(wire::ipv4_address a, std::uint16_t port)
{
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    s.sin_addr.s_addr = htonl(a.value);
    return s;
}

void bring_loopback_up()
{
    const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    ifreq r{};
    std::strncpy(r.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &r) == 0) {
        r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP);
        ::ioctl(s, SIOCSIFFLAGS, &r);
    }
    ::close(s);
}

std::uint64_t interface_counter(const char* name)
{
    std::ifstream in{std::string{"/sys/class/net/"} + interface_name + "/statistics/" + name};
    std::uint64_t v = 0;
    in >> v;
    return v;
}

double process_cpu_seconds()
{
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

struct phase_result {
    std::string name;
    double seconds = 0, goodput_bps = 0, hostile_per_second = 0;
    std::uint64_t hostile_packets = 0, connects_tried = 0, connects_done = 0;
    double connect_p50_ms = 0, connect_p99_ms = 0;
    std::size_t peak_pool = 0, peak_connections = 0;
    std::uint64_t tun_dropped = 0, cookies = 0, challenge_acks = 0, icmp_errors_sent = 0, dropped = 0;
    double cpu_per_second = 0;
    bool bulk_alive = true;
};

using runtime_type = blocking::runtime<devices::tun&>;

/// The legitimate client: a non-blocking connect every millisecond for `length`; each
/// is closed once established. A connect not done 3 s after the phase ends has failed.
void legitimate_connects(phase_result& r, steady::duration length)
{
    struct pending {
        int fd;
        steady::time_point started;
    };
    std::vector<pending> open;
    std::vector<double> ms;
    const auto start = steady::now(), end = start + length;
    auto next = start;
    const sockaddr_in to = socket_address(tcpx_address, connect_port);
    for (;;) {
        const auto now = steady::now();
        if (now >= next && now < end) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
            ++r.connects_tried;
            if (rc == 0 || errno == EINPROGRESS) open.push_back({fd, now});
            else ::close(fd);
            next += 1ms;
        }
        if (now >= end && (open.empty() || now >= end + 3s)) break;
        std::vector<pollfd> fds;
        for (const auto& p : open) fds.push_back({p.fd, POLLOUT, 0});
        // Sleep until the next connect is due (never spin: this thread shares the host's
        // cores with tcpx and the flood).
        const auto wait = std::clamp<steady::duration>(next - steady::now(), 20us, 1ms);
        const timespec ts{0, static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count())};
        ::ppoll(fds.data(), fds.size(), &ts, nullptr);
        for (std::size_t i = fds.size(); i-- > 0;) {
            if (fds[i].revents == 0) continue;
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(open[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err == 0) {
                ++r.connects_done;
                ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - open[i].started).count());
            }
            ::close(open[i].fd);
            open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    for (const auto& p : open) ::close(p.fd);
    r.connect_p50_ms = percentile(ms, 0.50);
    r.connect_p99_ms = percentile(ms, 0.99);
}

/// The hostile datagram number n of `phase`, into `out`.
std::size_t hostile_packet(const std::string& phase, std::span<std::uint8_t> out, std::uint64_t n,
                           std::mt19937_64& rng, std::uint16_t bulk_kernel_port)
{
    if (phase == "syn") return test::build_spoofed_syn(out, rng, tcpx_address, connect_port);
    if (phase == "blind") {
        wire::tcp_header h;
        h.source_port = bulk_kernel_port;
        h.destination_port = bulk_port;
        h.seq = seq32{static_cast<std::uint32_t>(rng())};
        h.ack = seq32{static_cast<std::uint32_t>(rng())};
        h.window = 65535;
        static constexpr std::array<wire::tcp_flags, 3> kinds{wire::tcp_flags::rst, wire::tcp_flags::ack,
                                                              wire::tcp_flags::fin | wire::tcp_flags::ack};
        h.flags = kinds[n % kinds.size()];
        h.options.timestamp = wire::timestamps{static_cast<std::uint32_t>(rng()), 0};
        return test::build_tcp_datagram(out, kernel_address, tcpx_address, h);
    }
    if (n % 4 == 3)  // protocol unreachable, rate-limited (RFC 1812 §4.3.2.8)
        return test::build_other_datagram(out, wire::ipv4_address{0xc6120000u | static_cast<std::uint32_t>(rng() & 0x1ffff)},
                                          tcpx_address, static_cast<std::uint8_t>(wire::ip_protocol::udp), 8);
    static constexpr std::array<std::uint8_t, 5> codes{1, 2, 3, 4, 13};
    test::icmp_error_spec e;
    e.type = n % 4 == 2 ? wire::icmp_type::time_exceeded : wire::icmp_type::destination_unreachable;
    e.code = n % 4 == 2 ? 0 : codes[rng() % codes.size()];
    e.next_hop_mtu = static_cast<std::uint16_t>(rng() % 1501);
    e.quoted_source = tcpx_address;
    e.quoted_destination = kernel_address;
    e.quoted_source_port = bulk_port;
    e.quoted_destination_port = bulk_kernel_port;
    e.quoted_seq = static_cast<std::uint32_t>(rng());
    const wire::ipv4_address router{192, 0, 2, static_cast<std::uint8_t>(1 + rng() % 250)};
    return test::build_icmp_error(out, router, tcpx_address, e);
}

phase_result run_phase(const std::string& phase, runtime_type& rt, double seconds, std::uint64_t rate,
                       std::atomic<std::uint64_t>& received, std::uint16_t bulk_kernel_port,
                       const std::atomic<bool>& bulk_alive)
{
    phase_result r;
    r.name = phase;
    r.seconds = seconds;
    const auto counters_before = rt.with_stack([](auto& st) { return st.counters(); });
    const std::uint64_t dropped_before = interface_counter("tx_dropped");
    const std::uint64_t received_before = received.load();
    const double cpu_before = process_cpu_seconds();
    std::atomic<bool> sampling{true};
    std::thread sampler{[&] {
        while (sampling) {
            const auto [pool, conns] = rt.with_stack([](auto& st) {
                return std::pair{st.pool().bytes_in_use(), st.connection_count()};
            });
            r.peak_pool = std::max(r.peak_pool, pool);
            r.peak_connections = std::max(r.peak_connections, conns);
            std::this_thread::sleep_for(10ms);
        }
    }};
    std::mt19937_64 rng{42};
    std::optional<test::raw_flood> flood;
    if (phase != "baseline") {
        flood.emplace(tcpx_address, [&phase, &rng, bulk_kernel_port](std::span<std::uint8_t> out, std::uint64_t n) {
            return hostile_packet(phase, out, n, rng, bulk_kernel_port);
        }, rate);
        if (!flood->ok()) fail("no raw socket (CAP_NET_RAW)");
    }
    const auto start = steady::now();
    const auto length = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
    legitimate_connects(r, length);
    const double elapsed = std::chrono::duration<double>(steady::now() - start).count();
    // Goodput over the phase proper; the connects' grace after it is not counted.
    r.goodput_bps = static_cast<double>(received.load() - received_before) * 8 / elapsed;
    if (flood) {
        flood->stop();
        r.hostile_packets = flood->sent();
        r.hostile_per_second = static_cast<double>(r.hostile_packets) / std::chrono::duration<double>(steady::now() - start).count();
    }
    sampling = false;
    sampler.join();
    r.cpu_per_second = (process_cpu_seconds() - cpu_before) / elapsed;
    r.tun_dropped = interface_counter("tx_dropped") - dropped_before;
    const auto c = rt.with_stack([](auto& st) { return st.counters(); });
    r.cookies = c.syn_cookies_sent - counters_before.syn_cookies_sent;
    r.icmp_errors_sent = c.icmp_errors_sent - counters_before.icmp_errors_sent;
    r.dropped = c.dropped_total() - counters_before.dropped_total();
    r.bulk_alive = bulk_alive.load();
    return r;
}

void print(const phase_result& r, const phase_result& base, const config& c, bool json)
{
    const double ratio = base.goodput_bps > 0 ? r.goodput_bps / base.goodput_bps : 0;
    if (json) {
        std::printf("{\"phase\":\"%s\",\"path\":\"tun\",\"seconds\":%.3f,\"hostile_packets\":%llu,\"hostile_per_second\":%.0f,"
                    "\"goodput_mbps\":%.1f,\"goodput_ratio\":%.3f,\"connects_tried\":%llu,\"connects_done\":%llu,"
                    "\"connect_p50_ms\":%.2f,\"connect_p99_ms\":%.2f,\"peak_pool_bytes\":%zu,\"pool_bytes\":%zu,"
                    "\"peak_connections\":%zu,\"max_connections\":%zu,\"tun_dropped\":%llu,\"syn_cookies_sent\":%llu,"
                    "\"icmp_errors_sent\":%llu,\"dropped\":%llu,\"cpu_per_second\":%.3f,\"bulk_alive\":%s,\"verified\":true}\n",
                    r.name.c_str(), r.seconds, static_cast<unsigned long long>(r.hostile_packets),
                    r.hostile_per_second, r.goodput_bps / 1e6, ratio,
                    static_cast<unsigned long long>(r.connects_tried), static_cast<unsigned long long>(r.connects_done),
                    r.connect_p50_ms, r.connect_p99_ms, r.peak_pool, c.pool_bytes, r.peak_connections, c.max_connections,
                    static_cast<unsigned long long>(r.tun_dropped), static_cast<unsigned long long>(r.cookies),
                    static_cast<unsigned long long>(r.icmp_errors_sent), static_cast<unsigned long long>(r.dropped),
                    r.cpu_per_second, r.bulk_alive ? "true" : "false");
        return;
    }
    const double done = r.connects_tried != 0 ? 100.0 * static_cast<double>(r.connects_done) / static_cast<double>(r.connects_tried) : 0;
    std::printf("%-8s %10llu hostile (%.0f/s)  goodput %7.1f Mbit/s (%5.3f of baseline)  connects %llu/%llu (%.2f %%) "
                "p50 %.2f ms p99 %.2f ms  peak pool %.1f/%.0f MiB  conns %zu/%zu  TUN dropped %llu  cookies %llu  "
                "ICMP sent %llu  CPU %.2f s per s  bulk %s\n",
                r.name.c_str(), static_cast<unsigned long long>(r.hostile_packets),
                r.hostile_per_second, r.goodput_bps / 1e6, ratio,
                static_cast<unsigned long long>(r.connects_done), static_cast<unsigned long long>(r.connects_tried), done,
                r.connect_p50_ms, r.connect_p99_ms, static_cast<double>(r.peak_pool) / (1 << 20),
                static_cast<double>(c.pool_bytes) / (1 << 20), r.peak_connections, c.max_connections,
                static_cast<unsigned long long>(r.tun_dropped), static_cast<unsigned long long>(r.cookies),
                static_cast<unsigned long long>(r.icmp_errors_sent), r.cpu_per_second, r.bulk_alive ? "alive" : "DEAD");
}

}  // namespace

int main(int argc, char** argv)
{
    std::string only = "all";
    double seconds = 3;
    bool json = false;
    std::uint64_t rate = 0;  // hostile packets a second; 0: as fast as the kernel takes them
    // The bulk flow's pace, as tcpx-flood's 1 Gbit/s bottleneck: unpaced, it takes both
    // of a small host's cores by itself (8.5 Gbit/s on this project's 2-core VM), and
    // its goodput during a flood would measure how the host shares its CPU with the
    // attacker's thread, not what the flood does to tcpx.
    double bulk_gbps = 1.0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--phase" && i + 1 < argc) only = argv[++i];
        else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
        else if (a == "--rate" && i + 1 < argc) rate = std::stoull(argv[++i]);
        else if (a == "--bulk-gbps" && i + 1 < argc) bulk_gbps = std::stod(argv[++i]);
        else if (a == "--json") json = true;
        else {
            std::fprintf(stderr, "usage: tcpx-flood-tun [--phase all|syn|blind|icmp] [--seconds S] [--rate N] [--bulk-gbps G (0: unpaced)] [--json]  (root)\n");
            return 2;
        }
    }
    if (::geteuid() != 0) fail("needs root (a network namespace, a TUN interface, a raw socket)");
    if (::unshare(CLONE_NEWNET) != 0) fail(std::string{"unshare(CLONE_NEWNET): "} + std::strerror(errno));
    bring_loopback_up();

    std::error_code ec;
    devices::tun tun{{.name = interface_name, .mtu = 1500, .host = devices::interface_address{kernel_address, 24}}, ec};
    if (ec) fail("opening the TUN interface: " + ec.message());
    config cfg;  // the defaults, whose bounds the figures are held to
    cfg.address = tcpx_address;
    runtime_type rt{tun, cfg};

    // tcpx's side: a discard port for the bulk flow, and a port that accepts and closes.
    std::atomic<std::uint64_t> received{0};
    std::atomic<bool> bulk_alive{true};
    blocking::listener bulk_l = rt.listen(bulk_port, 8);
    blocking::listener conn_l = rt.listen(connect_port, 1024);
    std::thread bulk_reader{[&] {
        std::error_code e;
        blocking::stream s = bulk_l.accept(e);
        std::vector<std::uint8_t> buf(1 << 16);
        while (const std::size_t n = s.read(buf, e)) received += n;
        bulk_alive = false;
    }};
    std::thread acceptor{[&] {
        std::error_code e;
        while (auto s = conn_l.accept(e)) s.close();
    }};

    // The kernel's bulk flow.
    const int bulk = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (bulk_gbps > 0) {  // TCP's own pacing (Linux 4.13 on), no qdisc needed
        const auto pace = static_cast<std::uint64_t>(bulk_gbps * 1e9 / 8);
        if (::setsockopt(bulk, SOL_SOCKET, SO_MAX_PACING_RATE, &pace, sizeof pace) != 0) fail("SO_MAX_PACING_RATE");
    }
    const sockaddr_in to = socket_address(tcpx_address, bulk_port);
    if (::connect(bulk, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) fail("the bulk flow's connect");
    sockaddr_in local{};
    socklen_t local_len = sizeof local;
    ::getsockname(bulk, reinterpret_cast<sockaddr*>(&local), &local_len);
    const std::uint16_t bulk_kernel_port = ntohs(local.sin_port);
    std::atomic<bool> writing{true};
    std::thread writer{[&] {
        std::vector<std::uint8_t> data(1 << 16, 'x');
        while (writing && ::send(bulk, data.data(), data.size(), MSG_NOSIGNAL) > 0) {}
    }};
    std::this_thread::sleep_for(1s);  // slow start done

    const phase_result base = run_phase("baseline", rt, seconds, rate, received, bulk_kernel_port, bulk_alive);
    print(base, base, cfg, json);
    bool ok = base.bulk_alive;
    for (const char* p : {"syn", "blind", "icmp"}) {
        if (only != "all" && only != p) continue;
        // A flood that outran tcpx leaves the kernel's bulk flow in retransmission
        // backoff: each phase starts once it is back to 0.9 of the baseline (10 s at most).
        for (int i = 0; i < 20; ++i) {
            const std::uint64_t before = received.load();
            std::this_thread::sleep_for(500ms);
            if (static_cast<double>(received.load() - before) * 16 >= 0.9 * base.goodput_bps) break;
        }
        const phase_result r = run_phase(p, rt, seconds, rate, received, bulk_kernel_port, bulk_alive);
        print(r, base, cfg, json);
        ok = ok && r.bulk_alive;
    }
    writing = false;
    ::shutdown(bulk, SHUT_WR);
    writer.join();
    bulk_reader.join();
    ::close(bulk);
    conn_l.close();
    acceptor.join();
    return ok ? 0 : 1;
}
