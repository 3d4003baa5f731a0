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
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

/// The packets the interface dropped on its way to the server (the TUN queue full, or
/// the veth peer's), from /proc/net/dev: it shows this process's namespace, where
/// /sys/class/net shows the one /sys was mounted in.
std::uint64_t interface_tx_dropped()
{
    std::ifstream in{"/proc/net/dev"};
    const std::string prefix = std::string{interface_name} + ":";
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields{line};
        std::string name;
        fields >> name;
        if (name != prefix) continue;
        std::uint64_t v[12]{};  // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs drop
        for (auto& x : v) fields >> x;
        return v[11];
    }
    return 0;
}

double process_cpu_seconds()
{
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// The busy time of all cores so far, in seconds (/proc/stat's first line: every
/// column but idle and iowait).
double host_busy_seconds()
{
    std::ifstream in{"/proc/stat"};
    std::string cpu;
    in >> cpu;
    std::uint64_t v[10]{};
    for (auto& x : v) in >> x;
    const std::uint64_t busy = v[0] + v[1] + v[2] + v[5] + v[6];  // steal is not ours
    return static_cast<double>(busy) / static_cast<double>(::sysconf(_SC_CLK_TCK));
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
    std::uint64_t tun_dropped = 0, packets_read = 0, cookies = 0, challenge_acks = 0, icmp_errors_sent = 0, dropped = 0;
    double cpu_per_second = 0, host_cpu_per_second = 0;
    bool bulk_alive = true;
};

using runtime_type = blocking::runtime<devices::tun&>;

/// What run_phase reads of the server under attack, tcpx or the kernel.
struct server_view {
    struct totals {
        std::uint64_t cookies = 0, icmp_errors_sent = 0, dropped = 0, packets_read = 0;
    };
    const char* name;                                      // "tcpx" or "linux"
    std::function<std::pair<std::size_t, std::size_t>()> usage;  // pool bytes, connections (tcpx only)
    std::function<totals()> counters;
    std::function<std::uint64_t()> received;                // bytes the bulk flow delivered
    std::function<bool()> bulk_alive;
};

/// The legitimate client: a non-blocking connect every millisecond for `length`; each
/// is closed once established. A connect not done 3 s after the phase ends has failed.
/// Pending connects wait in an epoll set: a flood that slows the server piles them up,
/// and a client that polled them all on every wake would take the cores it is measuring.
void legitimate_connects(phase_result& r, steady::duration length)
{
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) fail("epoll_create1");
    std::unordered_map<int, steady::time_point> open;  // fd -> when its connect began
    std::vector<double> ms;
    const auto start = steady::now(), end = start + length;
    auto next = start;
    const sockaddr_in to = socket_address(tcpx_address, connect_port);
    std::array<epoll_event, 64> events;
    for (;;) {
        const auto now = steady::now();
        if (now >= next && now < end) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
            ++r.connects_tried;
            epoll_event e{};
            e.events = EPOLLOUT;
            e.data.fd = fd;
            if ((rc == 0 || errno == EINPROGRESS) && ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0) open.emplace(fd, now);
            else ::close(fd);
            next += 1ms;
        }
        if (now >= end && (open.empty() || now >= end + 3s)) break;
        // Sleep until the next connect is due (never spin: this thread shares the host's
        // cores with the server and the flood).
        const auto wait = std::clamp<steady::duration>(next - steady::now(), 0ms, 1ms);
        const timespec ts{0, static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count())};
        const int n = ::epoll_pwait2(ep, events.data(), static_cast<int>(events.size()), &ts, nullptr);
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err == 0) {
                ++r.connects_done;
                ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - open[fd]).count());
            }
            open.erase(fd);
            ::close(fd);  // also leaves the epoll set
        }
    }
    for (const auto& [fd, started] : open) ::close(fd);
    ::close(ep);
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

phase_result run_phase(const std::string& phase, const server_view& server, double seconds, std::uint64_t rate,
                       std::uint16_t bulk_kernel_port)
{
    phase_result r;
    r.name = phase;
    r.seconds = seconds;
    const auto counters_before = server.counters();
    const std::uint64_t dropped_before = interface_tx_dropped();
    const std::uint64_t received_before = server.received();
    const double cpu_before = process_cpu_seconds(), host_before = host_busy_seconds();
    std::atomic<bool> sampling{true};
    std::thread sampler{[&] {
        while (sampling) {
            const auto [pool, conns] = server.usage();
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
    r.goodput_bps = static_cast<double>(server.received() - received_before) * 8 / elapsed;
    if (flood) {
        flood->stop();
        r.hostile_packets = flood->sent();
        r.hostile_per_second = static_cast<double>(r.hostile_packets) / std::chrono::duration<double>(steady::now() - start).count();
    }
    sampling = false;
    sampler.join();
    r.cpu_per_second = (process_cpu_seconds() - cpu_before) / elapsed;
    r.host_cpu_per_second = (host_busy_seconds() - host_before) / elapsed;
    r.tun_dropped = interface_tx_dropped() - dropped_before;
    const auto c = server.counters();
    r.cookies = c.cookies - counters_before.cookies;
    r.icmp_errors_sent = c.icmp_errors_sent - counters_before.icmp_errors_sent;
    r.dropped = c.dropped - counters_before.dropped;
    r.packets_read = c.packets_read - counters_before.packets_read;
    r.bulk_alive = server.bulk_alive();
    return r;
}

void print(const char* server, const phase_result& r, const phase_result& base, const config& c, bool json)
{
    const double ratio = base.goodput_bps > 0 ? r.goodput_bps / base.goodput_bps : 0;
    if (json) {
        std::printf("{\"server\":\"%s\",\"phase\":\"%s\",\"path\":\"tun\",\"seconds\":%.3f,\"hostile_packets\":%llu,\"hostile_per_second\":%.0f,"
                    "\"goodput_mbps\":%.1f,\"goodput_ratio\":%.3f,\"connects_tried\":%llu,\"connects_done\":%llu,"
                    "\"connect_p50_ms\":%.2f,\"connect_p99_ms\":%.2f,\"peak_pool_bytes\":%zu,\"pool_bytes\":%zu,"
                    "\"peak_connections\":%zu,\"max_connections\":%zu,\"tun_dropped\":%llu,\"syn_cookies_sent\":%llu,"
                    "\"icmp_errors_sent\":%llu,\"dropped\":%llu,\"cpu_per_second\":%.3f,\"host_cpu_per_second\":%.3f,\"bulk_alive\":%s,\"verified\":true}\n",
                    server, r.name.c_str(), r.seconds, static_cast<unsigned long long>(r.hostile_packets),
                    r.hostile_per_second, r.goodput_bps / 1e6, ratio,
                    static_cast<unsigned long long>(r.connects_tried), static_cast<unsigned long long>(r.connects_done),
                    r.connect_p50_ms, r.connect_p99_ms, r.peak_pool, c.pool_bytes, r.peak_connections, c.max_connections,
                    static_cast<unsigned long long>(r.tun_dropped), static_cast<unsigned long long>(r.cookies),
                    static_cast<unsigned long long>(r.icmp_errors_sent), static_cast<unsigned long long>(r.dropped),
                    r.cpu_per_second, r.host_cpu_per_second, r.bulk_alive ? "true" : "false");
        return;
    }
    const double done = r.connects_tried != 0 ? 100.0 * static_cast<double>(r.connects_done) / static_cast<double>(r.connects_tried) : 0;
    std::printf("%-5s %-8s %10llu hostile (%.0f/s)  goodput %7.1f Mbit/s (%5.3f of baseline)  connects %llu/%llu (%.2f %%) "
                "p50 %.2f ms p99 %.2f ms  peak pool %.1f/%.0f MiB  conns %zu/%zu  TUN dropped %llu  cookies %llu  "
                "ICMP sent %llu  read %llu  dropped %llu  CPU %.2f s per s (host %.2f)  bulk %s\n",
                server, r.name.c_str(), static_cast<unsigned long long>(r.hostile_packets),
                r.hostile_per_second, r.goodput_bps / 1e6, ratio,
                static_cast<unsigned long long>(r.connects_done), static_cast<unsigned long long>(r.connects_tried), done,
                r.connect_p50_ms, r.connect_p99_ms, static_cast<double>(r.peak_pool) / (1 << 20),
                static_cast<double>(c.pool_bytes) / (1 << 20), r.peak_connections, c.max_connections,
                static_cast<unsigned long long>(r.tun_dropped), static_cast<unsigned long long>(r.cookies),
                static_cast<unsigned long long>(r.icmp_errors_sent), static_cast<unsigned long long>(r.packets_read),
                static_cast<unsigned long long>(r.dropped), r.cpu_per_second, r.host_cpu_per_second,
                r.bulk_alive ? "alive" : "DEAD");
}

/// The kernel reference's servers, in a child process in a namespace of its own: what
/// they count is shared with the parent through this page.
struct kernel_shared {
    std::atomic<std::uint64_t> received{0}, syncookies_sent{0};
    std::atomic<bool> bulk_alive{true}, stop{false};
};

/// TcpExt SyncookiesSent of the calling process's namespace.
std::uint64_t kernel_syncookies_sent()
{
    std::ifstream in{"/proc/net/netstat"};
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
        if (names.rfind("TcpExt:", 0) != 0) continue;
        std::istringstream n{names}, v{values};
        std::string name, value;
        while (n >> name && v >> value)
            if (name == "SyncookiesSent") return std::stoull(value);
    }
    return 0;
}

void run(const char* command)
{
    if (std::system(command) != 0) fail(std::string{"failed: "} + command);
}

/// Forks the kernel's servers into a namespace behind a veth pair whose near end,
/// interface_name, has kernel_address; they listen on tcpx_address as tcpx would.
pid_t start_kernel_servers(kernel_shared& shared)
{
    int up[2], go[2];
    if (::pipe(up) != 0 || ::pipe(go) != 0) fail("pipe");
    const pid_t pid = ::fork();
    if (pid < 0) fail("fork");
    char byte = 0;
    if (pid == 0) {
        if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
        bring_loopback_up();
        (void)!::write(up[1], "n", 1);
        if (::read(go[0], &byte, 1) != 1) ::_exit(1);
        // A default route back, as a server has: its answers to spoofed sources leave
        // (and die in the near namespace, which does not forward) as tcpx's do.
        run("ip addr add 10.78.0.1/24 dev tcpxpeer && ip link set tcpxpeer up && ip route add default via 10.78.0.2");
        const auto listen_on = [](std::uint16_t port, int backlog) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            const sockaddr_in a = socket_address(tcpx_address, port);
            if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, backlog) != 0) ::_exit(1);
            return fd;
        };
        const int bulk_l = listen_on(bulk_port, 8), conn_l = listen_on(connect_port, 1024);
        std::thread bulk_reader{[&] {
            const int s = ::accept(bulk_l, nullptr, nullptr);
            std::vector<std::uint8_t> buf(1 << 16);
            ssize_t n;
            while (s >= 0 && (n = ::read(s, buf.data(), buf.size())) > 0) shared.received += static_cast<std::uint64_t>(n);
            shared.bulk_alive = false;
        }};
        std::thread acceptor{[&] {
            for (int s; (s = ::accept(conn_l, nullptr, nullptr)) >= 0;) ::close(s);
        }};
        bulk_reader.detach();
        acceptor.detach();
        (void)!::write(up[1], "r", 1);
        while (!shared.stop) {
            shared.syncookies_sent = kernel_syncookies_sent();
            std::this_thread::sleep_for(10ms);
        }
        ::_exit(0);
    }
    if (::read(up[0], &byte, 1) != 1) fail("the kernel servers' namespace");
    run(("ip link add " + std::string{interface_name} + " type veth peer name tcpxpeer netns " + std::to_string(pid)).c_str());
    run(("ip addr add 10.78.0.2/24 dev " + std::string{interface_name} + " && ip link set " + interface_name + " up").c_str());
    (void)!::write(go[1], "g", 1);
    if (::read(up[0], &byte, 1) != 1) fail("the kernel servers");
    return pid;
}

}  // namespace

int main(int argc, char** argv)
{
    std::string only = "all";
    double seconds = 3;
    bool json = false, kernel = false;
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
        else if (a == "--kernel") kernel = true;
        else if (a == "--json") json = true;
        else {
            std::fprintf(stderr, "usage: tcpx-flood-tun [--kernel] [--phase all|syn|blind|icmp] [--seconds S] [--rate N] "
                                 "[--bulk-gbps G (0: unpaced)] [--json]  (root)\n");
            return 2;
        }
    }
    if (::geteuid() != 0) fail("needs root (a network namespace, a TUN interface, a raw socket)");
    if (::unshare(CLONE_NEWNET) != 0) fail(std::string{"unshare(CLONE_NEWNET): "} + std::strerror(errno));
    bring_loopback_up();

    config cfg;  // the defaults, whose bounds the figures are held to
    cfg.address = tcpx_address;
    std::optional<devices::tun> tun;
    std::optional<runtime_type> rt;
    std::optional<blocking::listener> bulk_l, conn_l;
    std::thread bulk_reader, acceptor;
    std::atomic<std::uint64_t> received{0};
    std::atomic<bool> bulk_alive{true};
    kernel_shared* shared = nullptr;
    pid_t child = -1;
    server_view server;
    if (kernel) {
        void* page = ::mmap(nullptr, sizeof(kernel_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) fail("mmap");
        shared = new (page) kernel_shared;
        child = start_kernel_servers(*shared);
        server = {"linux", [] { return std::pair<std::size_t, std::size_t>{0, 0}; },
                  [shared] { return server_view::totals{shared->syncookies_sent.load(), 0, 0}; },
                  [shared] { return shared->received.load(); }, [shared] { return shared->bulk_alive.load(); }};
    } else {
        std::error_code ec;
        tun.emplace(devices::tun_config{.name = interface_name, .mtu = 1500,
                                          .host = devices::interface_address{kernel_address, 24}}, ec);
        if (ec) fail("opening the TUN interface: " + ec.message());
        rt.emplace(*tun, cfg);
        // tcpx's side: a discard port for the bulk flow, and a port that accepts and closes.
        bulk_l.emplace(rt->listen(bulk_port, 8));
        conn_l.emplace(rt->listen(connect_port, 1024));
        bulk_reader = std::thread{[&] {
            std::error_code e;
            blocking::stream s = bulk_l->accept(e);
            std::vector<std::uint8_t> buf(1 << 16);
            while (const std::size_t n = s.read(buf, e)) received += n;
            bulk_alive = false;
        }};
        acceptor = std::thread{[&] {
            std::error_code e;
            while (auto s = conn_l->accept(e)) s.close();
        }};
        server = {"tcpx",
                  [&rt] { return rt->with_stack([](auto& st) { return std::pair{st.pool().bytes_in_use(), st.connection_count()}; }); },
                  [&rt, &tun] {
                      return rt->with_stack([&tun](auto& st) {
                          const auto& c = st.counters();
                          return server_view::totals{c.syn_cookies_sent, c.icmp_errors_sent, c.dropped_total(),
                                                     tun->counters().packets_received};
                      });
                  },
                  [&received] { return received.load(); }, [&bulk_alive] { return bulk_alive.load(); }};
    }

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

    const phase_result base = run_phase("baseline", server, seconds, rate, bulk_kernel_port);
    print(server.name, base, base, cfg, json);
    bool ok = base.bulk_alive;
    for (const char* p : {"syn", "blind", "icmp"}) {
        if (only != "all" && only != p) continue;
        // A flood that outran the server leaves the kernel's bulk flow in retransmission
        // backoff: each phase starts once it is back to 0.9 of the baseline (10 s at most).
        for (int i = 0; i < 20; ++i) {
            const std::uint64_t before = server.received();
            std::this_thread::sleep_for(500ms);
            if (static_cast<double>(server.received() - before) * 16 >= 0.9 * base.goodput_bps) break;
        }
        const phase_result r = run_phase(p, server, seconds, rate, bulk_kernel_port);
        print(server.name, r, base, cfg, json);
        ok = ok && r.bulk_alive;
    }
    writing = false;
    ::shutdown(bulk, SHUT_WR);
    writer.join();
    if (kernel) {
        shared->stop = true;
        ::waitpid(child, nullptr, 0);
    } else {
        bulk_reader.join();
        conn_l->close();
        acceptor.join();
    }
    ::close(bulk);
    return ok ? 0 : 1;
}
