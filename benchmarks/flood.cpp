// tcpx-flood: floods and exhaustion against one tcpx server, in memory, on one
// simulated timeline (benchmarks/flood runs it; README "Floods").
//
// Three stacks on a loopback switch: the server S (10.0.0.1, default config), a client
// C (10.0.0.2) that runs one bulk flow to S through a 1 Gbit/s, 1 ms bottleneck and
// opens a new connection to S every millisecond (closing each once it is
// established), and a hostile host M (10.0.0.3) whose device also writes raw packets.
// Each phase lasts the same simulated time and measures the same things:
//
//   baseline  nothing hostile
//   syn       spoofed SYNs from random sources (198.18.0.0/15), evenly spread
//             (1,000,000 by default: one a microsecond)
//   ooo       M's own connection to S sends one-byte segments at random offsets
//             within S's window, never the byte at RCV.NXT
//   blind     RSTs, ACKs and FINs with random sequence and acknowledgment numbers and
//             timestamps, spoofed as the bulk flow's 4-tuple (RFC 5961 §3-§5)
//   icmp      ICMP errors about the bulk flow from spoofed routers, to both ends, with
//             random and with in-flight sequence numbers, and datagrams of a protocol
//             tcpx does not speak (send_icmp_flood_packet says which)
//
// Figures per phase: the bulk flow's goodput and its ratio to the baseline's, the
// legitimate connects completed and their p50/p99 connect time, S's peak pool bytes,
// connections and control-block memory against what its config allows, and the
// wall-clock time S's poll() took per simulated second (above 1.0 a real host would
// fall behind the flood), and the replies the flood provoked (challenge ACKs, ICMP
// errors), which rate limits hold. Every byte the bulk flow delivers is checked.
// TCPX_FLOOD_DEBUG=1 prints the server's drop counters and the hostile connection's
// tcp::info per phase.
#include <tcpx/stack.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../tests/support/hostile_packets.hpp"

namespace {

using namespace tcpx;
using namespace std::chrono_literals;
using wire::tcp_flags;

constexpr wire::ipv4_address server_address{10, 0, 0, 1};
constexpr wire::ipv4_address client_address{10, 0, 0, 2};
constexpr wire::ipv4_address hostile_address{10, 0, 0, 3};
constexpr std::uint16_t bulk_port = 5001, connect_port = 80;

struct options {
    std::string phase = "all";
    double seconds = 1.0;            // simulated, per phase
    std::uint64_t syns = 1'000'000;  // per syn phase
    std::uint64_t segments = 300'000;  // per ooo and blind phase
    bool json = false;
};

struct phase_result {
    std::string name;
    double goodput_bps = 0;
    std::uint64_t connects_tried = 0, connects_done = 0;
    double connect_p50_ms = 0, connect_p99_ms = 0;
    std::uint64_t hostile_packets = 0;
    std::size_t peak_pool = 0, peak_connections = 0, peak_control_bytes = 0;
    double server_wall_per_sim_second = 0;
    double seconds = 0;
    bool bulk_alive = true, verified = true;
    stack_counters server{};
    // The replies a flood provokes, each held by a rate limit: challenge ACKs on the
    // bulk flow (RFC 5961 §7) and protocol unreachables (RFC 1812 §4.3.2.8).
    std::uint64_t challenge_acks = 0, icmp_errors_sent = 0;
    std::uint64_t icmp_errors_acted = 0;  ///< by S and C together (RFC 5927 let them through)
};

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "tcpx-flood: %s\n", what);
    std::exit(1);
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

// Writes one hostile datagram out of `end` (M's device), built by `build` into the
// device's buffer (tests/support/hostile_packets.hpp), whatever its source says.
template <class Build>
void send_raw(devices::loopback& end, Build&& build)
{
    const auto buffer = end.transmit_buffer(1500);
    if (buffer.empty()) return;  // M's queue is full: counted by the switch end
    if (const std::size_t size = build(buffer); size != 0) end.transmit(size, instant{});
}

void send_raw(devices::loopback& end, wire::ipv4_address from, wire::ipv4_address to, const wire::tcp_header& h,
              std::span<const std::uint8_t> text = {})
{
    send_raw(end, [&](std::span<std::uint8_t> out) { return test::build_tcp_datagram(out, from, to, h, text); });
}

// One packet of the ICMP flood, in a cycle of five: an error to S quoting its side of
// the bulk flow with a random sequence number; the same to C; two to C quoting a
// sequence number C has in flight (an attacker who sees the flow: destination
// unreachable of every code RFC 5927 §4.2 calls hard, time exceeded, fragmentation
// needed down to any MTU); and a datagram of a protocol tcpx does not speak, from a
// random source, which S answers with a protocol unreachable, rate-limited.
template <class Connection>
void send_icmp_flood_packet(devices::loopback& end, const Connection& c, std::uint64_t n, std::mt19937_64& rng)
{
    test::icmp_error_spec e;
    const wire::ipv4_address router{192, 0, 2, static_cast<std::uint8_t>(1 + rng() % 250)};
    const auto flight = static_cast<std::uint32_t>(c.snd().max - c.snd().una);
    static constexpr std::array<std::uint8_t, 5> hard{1, 2, 3, 4, 13};
    e.type = wire::icmp_type::destination_unreachable;
    e.code = hard[rng() % hard.size()];
    e.next_hop_mtu = static_cast<std::uint16_t>(rng() % 1501);
    e.quoted_seq = static_cast<std::uint32_t>(rng());
    wire::ipv4_address victim = client_address;
    switch (n % 5) {
    case 0:  // about S's ACKs to C
        victim = server_address;
        e.quoted_source = server_address;
        e.quoted_destination = client_address;
        e.quoted_source_port = bulk_port;
        e.quoted_destination_port = c.id().local_port;
        break;
    case 3:
        e.type = wire::icmp_type::time_exceeded;
        e.code = 0;
        [[fallthrough]];
    case 2:
        e.quoted_seq = (c.snd().una + (flight != 0 ? static_cast<std::uint32_t>(rng() % flight) : 0)).value();
        [[fallthrough]];
    case 1:
        e.quoted_source = client_address;
        e.quoted_destination = server_address;
        e.quoted_source_port = c.id().local_port;
        e.quoted_destination_port = bulk_port;
        break;
    default: {
        const wire::ipv4_address from{0xc6120000u | static_cast<std::uint32_t>(rng() & 0x1ffff)};
        send_raw(end, [&](std::span<std::uint8_t> out) {
            return test::build_other_datagram(out, from, server_address,
                                              static_cast<std::uint8_t>(wire::ip_protocol::udp), 8);
        });
        return;
    }
    }
    send_raw(end, [&](std::span<std::uint8_t> out) { return test::build_icmp_error(out, router, victim, e); });
}

phase_result run_phase(const std::string& phase, const options& o)
{
    using client_device = devices::impaired<devices::loopback&>;
    devices::loopback_switch sw{devices::loopback_config{.mtu = 1500, .queue_bytes = std::size_t{16} << 20}};
    devices::loopback& s_end = sw.add_end(server_address.value);
    devices::loopback& c_end = sw.add_end(client_address.value);
    devices::loopback& m_end = sw.add_end(hostile_address.value);
    devices::impairment bottleneck;
    bottleneck.rate_bps = 1'000'000'000;
    bottleneck.delay = 1ms;
    bottleneck.queue_packets = 1000;
    client_device c_dev{devices::impairment_config{.transmit = bottleneck, .receive = {}, .seed = 7}, c_end};
    clocks::manual_timeline time;

    config cs;  // the server: the defaults, whose bounds the figures are held to
    cs.address = server_address;
    cs.isn_secret = std::array<std::uint64_t, 2>{1, 1};
    config cc = cs;
    cc.address = client_address;
    cc.isn_secret = std::array<std::uint64_t, 2>{2, 2};
    cc.send_buffer = 4u << 20;
    config cm = cs;
    cm.address = hostile_address;
    cm.isn_secret = std::array<std::uint64_t, 2>{3, 3};
    stack<devices::loopback&, clocks::manual> server{s_end, clocks::manual{time}, cs};
    stack<client_device&, clocks::manual> client{c_dev, clocks::manual{time}, cc};
    stack<devices::loopback&, clocks::manual> hostile{m_end, clocks::manual{time}, cm};

    std::error_code ec;
    const listener bulk_l = server.listen(bulk_port, 64, ec);
    const listener conn_l = server.listen(connect_port, 1024, ec);
    if (ec) fail("listen");
    const socket bulk = client.connect(server_address, bulk_port, ec);
    const socket mal = hostile.connect(server_address, bulk_port, ec);
    if (ec) fail("connect");

    std::vector<std::uint8_t> pattern(251 * 256);
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint8_t>(i % 251);
    // No read runs past the pattern, wherever in its 251-byte cycle it starts.
    std::vector<std::uint8_t> buffer(pattern.size() - 251);
    std::mt19937_64 rng{42};

    socket bulk_t{}, mal_t{};
    std::uint64_t sent = 0, received = 0;
    bool verified = true;
    struct pending_connect {
        socket s;
        instant started;
    };
    std::vector<pending_connect> connecting;
    std::vector<double> connect_ms;
    std::vector<socket> server_side;
    phase_result r;
    r.name = phase;

    // A second to settle (handshakes, slow start), then the measured phase.
    const instant warm_end = time.now() + 1s;
    const instant end = warm_end + std::chrono::duration_cast<duration>(std::chrono::duration<double>(o.seconds));
    const bool hostile_phase = phase != "baseline";
    const std::uint64_t attacks = phase == "syn" ? o.syns : o.segments;
    const duration attack_gap = hostile_phase && attacks > 0
        ? std::max<duration>(duration{1}, (end - warm_end) / static_cast<std::int64_t>(attacks))
        : duration::max();
    instant next_attack = warm_end, next_connect = warm_end;
    std::uint64_t received_at_start = 0;
    double server_wall = 0;
    std::uint64_t same_instant = 0;

    for (;;) {
        const instant now = time.now();
        const bool measuring = now >= warm_end;
        if (measuring && received_at_start == 0) received_at_start = std::max<std::uint64_t>(received, 1);
        // Hostile traffic due by now.
        while (hostile_phase && now >= next_attack && now < end && r.hostile_packets < attacks) {
            wire::tcp_header h;
            h.window = 65535;
            if (phase == "syn") {
                send_raw(m_end, [&](std::span<std::uint8_t> out) {
                    return test::build_spoofed_syn(out, rng, server_address, connect_port);
                });
            } else if (phase == "ooo" && mal_t) {
                const auto* c = hostile.connection(mal);
                const auto* sc = server.connection(mal_t);
                if (c != nullptr && sc != nullptr) {
                    h.source_port = c->id().local_port;
                    h.destination_port = bulk_port;
                    const std::uint32_t wnd = std::max<std::uint32_t>(sc->rcv().wnd, 2);
                    h.seq = sc->rcv().nxt + 1 + static_cast<std::uint32_t>(rng() % (wnd - 1));
                    h.ack = c->rcv().nxt;
                    h.flags = tcp_flags::ack;
                    // A timestamp that passes PAWS (RFC 7323 §5): without one, the
                    // segment is dropped before its text is looked at (§3.2).
                    h.options.timestamp = wire::timestamps{0x40000000u + static_cast<std::uint32_t>(r.hostile_packets), 0};
                    const std::uint8_t byte = 'x';
                    send_raw(m_end, hostile_address, server_address, h, std::span{&byte, 1});
                }
            } else if (phase == "blind") {
                const auto* c = client.connection(bulk);
                if (c != nullptr) {
                    h.source_port = c->id().local_port;
                    h.destination_port = bulk_port;
                    h.seq = seq32{static_cast<std::uint32_t>(rng())};
                    h.ack = seq32{static_cast<std::uint32_t>(rng())};
                    static constexpr std::array<tcp_flags, 3> kinds{tcp_flags::rst, tcp_flags::ack, tcp_flags::fin | tcp_flags::ack};
                    h.flags = kinds[r.hostile_packets % kinds.size()];
                    // A random timestamp: half pass PAWS (RFC 7323 §5) and meet RFC 5961's checks.
                    h.options.timestamp = wire::timestamps{static_cast<std::uint32_t>(rng()), 0};
                    send_raw(m_end, client_address, server_address, h);
                }
            } else if (phase == "icmp") {
                const auto* c = client.connection(bulk);
                if (c != nullptr) send_icmp_flood_packet(m_end, *c, r.hostile_packets, rng);
            }
            ++r.hostile_packets;
            next_attack += attack_gap;
        }
        // A legitimate client every millisecond.
        if (measuring && now >= next_connect && now < end) {
            const socket s = client.connect(server_address, connect_port, ec);
            if (!ec) connecting.push_back({s, now});
            ++r.connects_tried;
            next_connect += 1ms;
        }

        const auto wall_start = std::chrono::steady_clock::now();
        server.poll();
        server_wall += measuring ? std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count() : 0;
        if (measuring) r.peak_pool = std::max(r.peak_pool, server.pool().bytes_in_use());
        client.poll();
        hostile.poll();

        // The server's side: accept, read, and close the legitimate connections.
        for (;;) {
            const socket t = server.accept(bulk_l, ec);
            if (!t) break;
            const auto* c = server.connection(t);
            if (c->id().remote_address == client_address) bulk_t = t;
            else mal_t = t;
        }
        for (;;) {
            const socket t = server.accept(conn_l, ec);
            if (!t) break;
            (void)server.close(t);
        }
        if (bulk_t) {
            for (;;) {
                const std::size_t n = server.receive(bulk_t, buffer, ec);
                if (n == 0) break;
                verified = verified && std::memcmp(buffer.data(), pattern.data() + received % 251, n) == 0;
                received += n;
            }
        }
        if (mal_t) while (server.receive(mal_t, buffer, ec) != 0) {}
        // The client's side: keep the bulk flow's buffer full; finish connects.
        if (client.writable(bulk)) {
            const std::size_t off = static_cast<std::size_t>(sent % 251);
            sent += client.send(bulk, std::span{pattern}.subspan(off, pattern.size() - 251), ec);
        }
        for (std::size_t i = 0; i < connecting.size();) {
            const auto st = client.state(connecting[i].s);
            if (st == tcp::state::established || st == tcp::state::closed) {
                if (st == tcp::state::established) {
                    ++r.connects_done;
                    connect_ms.push_back(std::chrono::duration<double, std::milli>(now - connecting[i].started).count());
                }
                (void)client.close(connecting[i].s);
                connecting[i] = connecting.back();
                connecting.pop_back();
            } else {
                ++i;
            }
        }

        if (measuring) {
            r.peak_pool = std::max(r.peak_pool, server.pool().bytes_in_use());
            r.peak_connections = std::max(r.peak_connections, server.connection_count());
            r.peak_control_bytes = std::max(r.peak_control_bytes, server.table_memory_bytes());
        }
        // Connects still open at the end get a grace of 3 s (one SYN retransmission).
        if (now >= end && (connecting.empty() || now >= end + 3s)) break;

        instant next = std::min({server.next_deadline(), client.next_deadline(), hostile.next_deadline()});
        if (hostile_phase && r.hostile_packets < attacks) next = std::min(next, next_attack);
        if (now < end) next = std::min({next, next_connect, end});
        if (next > now && next != never) {
            time.advance_to(next);
            same_instant = 0;
        } else if (next == never) {
            time.advance_to(now + 1ms);
        } else if (++same_instant > 1'000'000) {
            std::fprintf(stderr, "tcpx-flood: stalled at t=%.6f s (server %lld, client %lld, hostile %lld us ahead)\n",
                         std::chrono::duration<double>(now.time_since_epoch()).count(),
                         static_cast<long long>((server.next_deadline() - now).count()),
                         static_cast<long long>((client.next_deadline() - now).count()),
                         static_cast<long long>((hostile.next_deadline() - now).count()));
            std::exit(1);
        }
    }

    const double seconds = o.seconds;
    r.seconds = seconds;
    r.goodput_bps = static_cast<double>(received - std::min(received, received_at_start)) * 8 / seconds;
    r.connect_p50_ms = percentile(connect_ms, 0.50);
    r.connect_p99_ms = percentile(connect_ms, 0.99);
    r.server_wall_per_sim_second = server_wall / seconds;
    r.bulk_alive = server.state(bulk_t) == tcp::state::established && client.state(bulk) == tcp::state::established;
    r.verified = verified;
    r.server = server.counters();
    r.challenge_acks = server.info(bulk_t).challenge_acks;
    r.icmp_errors_sent = r.server.icmp_errors_sent;
    r.icmp_errors_acted = r.server.icmp_errors_received + client.counters().icmp_errors_received;
    if (std::getenv("TCPX_FLOOD_DEBUG") != nullptr)
        for (std::size_t k = 0; k < r.server.drops.size(); ++k)
            if (r.server.drops[k] != 0)
                std::fprintf(stderr, "%s: dropped %s %llu\n", phase.c_str(), std::string{to_string(static_cast<drop_reason>(k))}.c_str(),
                             static_cast<unsigned long long>(r.server.drops[k]));
    if (std::getenv("TCPX_FLOOD_DEBUG") != nullptr)
        std::fprintf(stderr, "hostile: %s; at the server: %s\nbulk flow's sender: %s\n", tcp::to_string(hostile.info(mal)).c_str(),
                     tcp::to_string(server.info(mal_t)).c_str(), tcp::to_string(client.info(bulk)).c_str());
    return r;
}

void print(const phase_result& r, const phase_result& base, const config& c, bool json)
{
    const double ratio = base.goodput_bps > 0 ? r.goodput_bps / base.goodput_bps : 0;
    const double done = r.connects_tried != 0 ? 100.0 * static_cast<double>(r.connects_done) / static_cast<double>(r.connects_tried) : 0;
    if (json) {
        std::printf("{\"phase\":\"%s\",\"hostile_packets\":%llu,\"goodput_mbps\":%.1f,\"goodput_ratio\":%.3f,"
                    "\"connects_tried\":%llu,\"connects_done\":%llu,\"connect_p50_ms\":%.2f,\"connect_p99_ms\":%.2f,"
                    "\"peak_pool_bytes\":%zu,\"pool_bytes\":%zu,\"peak_connections\":%zu,\"max_connections\":%zu,"
                    "\"peak_control_bytes\":%zu,\"server_wall_per_sim_second\":%.3f,\"syn_cookies_sent\":%llu,"
                    "\"challenge_or_dropped\":%llu,\"challenge_acks\":%llu,\"icmp_errors_sent\":%llu,"
                    "\"icmp_errors_acted\":%llu,\"seconds\":%.3f,\"bulk_alive\":%s,\"verified\":%s}\n",
                    r.name.c_str(), static_cast<unsigned long long>(r.hostile_packets), r.goodput_bps / 1e6, ratio,
                    static_cast<unsigned long long>(r.connects_tried), static_cast<unsigned long long>(r.connects_done),
                    r.connect_p50_ms, r.connect_p99_ms, r.peak_pool, c.pool_bytes, r.peak_connections, c.max_connections,
                    r.peak_control_bytes, r.server_wall_per_sim_second,
                    static_cast<unsigned long long>(r.server.syn_cookies_sent),
                    static_cast<unsigned long long>(r.server.dropped_total()),
                    static_cast<unsigned long long>(r.challenge_acks), static_cast<unsigned long long>(r.icmp_errors_sent),
                    static_cast<unsigned long long>(r.icmp_errors_acted), r.seconds, r.bulk_alive ? "true" : "false",
                    r.verified ? "true" : "false");
        return;
    }
    std::printf("%-8s %9llu hostile  goodput %7.1f Mbit/s (%5.3f of baseline)  connects %llu/%llu (%.2f %%) "
                "p50 %.2f ms p99 %.2f ms  peak pool %.1f/%.0f MiB  conns %zu/%zu  control %.1f MiB  "
                "server CPU %.3f s per s  cookies %llu  challenge ACKs %llu  ICMP sent %llu acted on %llu  bulk %s%s\n",
                r.name.c_str(), static_cast<unsigned long long>(r.hostile_packets), r.goodput_bps / 1e6, ratio,
                static_cast<unsigned long long>(r.connects_done), static_cast<unsigned long long>(r.connects_tried), done,
                r.connect_p50_ms, r.connect_p99_ms, static_cast<double>(r.peak_pool) / (1 << 20),
                static_cast<double>(c.pool_bytes) / (1 << 20), r.peak_connections, c.max_connections,
                static_cast<double>(r.peak_control_bytes) / (1 << 20), r.server_wall_per_sim_second,
                static_cast<unsigned long long>(r.server.syn_cookies_sent), static_cast<unsigned long long>(r.challenge_acks),
                static_cast<unsigned long long>(r.icmp_errors_sent), static_cast<unsigned long long>(r.icmp_errors_acted),
                r.bulk_alive ? "alive" : "DEAD",
                r.verified ? "" : "  DATA CORRUPTED");
}

}  // namespace

int main(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&] {
            if (i + 1 >= argc) fail("missing value");
            return std::string{argv[++i]};
        };
        if (a == "--phase") o.phase = value();
        else if (a == "--seconds") o.seconds = std::stod(value());
        else if (a == "--syns") o.syns = std::stoull(value());
        else if (a == "--segments") o.segments = std::stoull(value());
        else if (a == "--json") o.json = true;
        else {
            std::fprintf(stderr, "usage: tcpx-flood [--phase all|syn|ooo|blind|icmp] [--seconds S] [--syns N] "
                                 "[--segments N] [--json]\n");
            return 2;
        }
    }
    const config defaults;
    const phase_result base = run_phase("baseline", o);
    print(base, base, defaults, o.json);
    bool ok = base.verified && base.bulk_alive;
    for (const char* p : {"syn", "ooo", "blind", "icmp"}) {
        if (o.phase != "all" && o.phase != p) continue;
        const phase_result r = run_phase(p, o);
        print(r, base, defaults, o.json);
        ok = ok && r.verified && r.bulk_alive;
    }
    return ok ? 0 : 1;
}
