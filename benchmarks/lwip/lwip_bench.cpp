// lwip-bench: the same work as tcpx-bench (bulk, rr, crr), done by lwIP 2.1.3 as Debian
// ships it (liblwip-dev), so that benchmarks/run can set the two side by side.
// Everything lwIP-specific — Debian's lwipopts.h, what it means for fairness, how this
// program drives a NO_SYS=0 build from one thread — is in benchmarks/lwip/README.md.
//
//   lwip-bench bulk   --mtu N --bytes N [--verify]   one stream; the receiver copies every byte out
//   lwip-bench rr     --seconds S                    1-byte request, 1-byte response, no-delay
//   lwip-bench crr    --seconds S [--time-wait-max N]
//                                                    connect, request, response, close — repeated
//   lwip-bench config                                the lwIP options this program was compiled with
//   every mode: [--mtu N] [--json]
//
// Build (Debian 12, liblwip-dev 2.1.3+dfsg1-2; the library's pkg-config name is "lwip"):
//
//   c++ -std=c++20 -O2 benchmarks/lwip/lwip_bench.cpp $(pkg-config --cflags --libs lwip) -o lwip-bench
//
// or in benchmarks/meson.build:
//
//   lwip_dep = dependency('lwip', required: false)
//   if lwip_dep.found()
//     executable('lwip-bench', 'lwip/lwip_bench.cpp', dependencies: lwip_dep)
//   endif
//
// How it runs: one lwIP instance (lwIP keeps its state in globals, so there is exactly
// one per process) with two network interfaces, 10.0.0.1/24 (the client) and
// 10.0.0.2/24 (the server). Each interface's IPv4 output callback copies the packet into
// a fresh pbuf and queues it for the other interface; the main loop delivers the queues
// through netif->input (ip_input) and calls sys_check_timeouts() on the real clock.
// tcpip_init() is never called: no tcpip_thread, no mailbox, no core lock is taken. The
// raw API's core-locking assertion (LWIP_ASSERT_CORE_LOCKED) checks nothing until a
// thread has been marked as the tcpip thread, and none ever is.
//
// CRR: the server closes first (as tcpx-bench's does) and so holds TIME-WAIT, 2·TCP_MSL =
// 120 s in lwIP. Debian's build allocates PCBs with malloc (MEMP_MEM_MALLOC), so lwIP's own
// "kill the oldest TIME-WAIT PCB when the PCB pool is empty" never happens and the list
// would grow without bound; and lwIP answers a SYN that meets a TIME-WAIT PCB with a RST
// (it has no RFC 6191 reopening), so the run would break as soon as the client's 16384
// ephemeral ports wrap. --time-wait-max N (default 3) keeps the list short the way a
// static pool would: before each connection the oldest TIME-WAIT PCBs beyond N are
// aborted, exactly what tcp_kill_timewait() does (tcp_abort on a TIME-WAIT PCB frees it
// without a segment). 3 is what lwIP's stock MEMP_NUM_TCP_PCB = 5 leaves once a
// connection's two PCBs are taken. --time-wait-max -1 leaves lwIP as it is.

#include <lwip/init.h>
#include <lwip/ip.h>
#include <lwip/ip4_addr.h>
#include <lwip/memp.h>
#include <lwip/netif.h>
#include <lwip/opt.h>
#include <lwip/pbuf.h>
#include <lwip/priv/memp_priv.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <time.h>

#include "../../examples/common/size.hpp"

namespace {

constexpr std::uint16_t server_port = 5001;

struct options {
    std::string mode;
    std::size_t mtu = 1500;
    std::uint64_t bytes = 1ull << 30;
    double seconds = 2;
    long time_wait_max = 3;
    bool verify = false;
    bool json = false;
};

[[noreturn]] void usage(const char* why, int status = 2)
{
    std::fprintf(status == 0 ? stdout : stderr,
                 "lwip-bench: %s\n"
                 "usage: lwip-bench bulk --mtu N --bytes N [--verify] [--json]\n"
                 "       lwip-bench rr --seconds S [--json]\n"
                 "       lwip-bench crr --seconds S [--time-wait-max N] [--json]\n"
                 "       lwip-bench config [--json]\n",
                 why);
    std::exit(status);
}

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "lwip-bench: %s\n", what);
    std::exit(1);
}

[[noreturn]] void fail_err(const char* what, err_t err)
{
    std::fprintf(stderr, "lwip-bench: %s: lwIP error %d\n", what, static_cast<int>(err));
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
    if (o.mode == "--help" || o.mode == "-h") usage("measures lwIP", 0);
    if (o.mode != "bulk" && o.mode != "rr" && o.mode != "crr" && o.mode != "config") usage("unknown mode");
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&] {
            if (i + 1 >= argc) usage("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--mtu") o.mtu = static_cast<std::size_t>(parse_size(value()));
        else if (a == "--bytes") o.bytes = parse_size(value());
        else if (a == "--seconds") o.seconds = std::strtod(value(), nullptr);
        else if (a == "--time-wait-max") o.time_wait_max = std::strtol(value(), nullptr, 10);
        else if (a == "--verify") o.verify = true;
        else if (a == "--json") o.json = true;
        else if (a == "--help" || a == "-h") usage("measures lwIP", 0);
        else usage("unknown flag");
    }
    if (o.mtu < 576 || o.mtu > 65535) usage("--mtu must be 576..65535");
    return o;
}

double now_seconds()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// ---------------------------------------------------------------------------- the link

/// Packets in flight towards one interface: a ring of pbufs, each a private copy.
struct packet_queue {
    std::vector<pbuf*> ring = std::vector<pbuf*>(std::size_t{1} << 16);
    std::size_t head = 0, tail = 0;  // head: next to deliver; tail: next free slot
    bool empty() const { return head == tail; }
    void push(pbuf* p)
    {
        if (tail - head == ring.size()) fail("link queue full");
        ring[tail++ & (ring.size() - 1)] = p;
    }
    pbuf* pop() { return ring[head++ & (ring.size() - 1)]; }
};

struct link_end {
    netif nif{};
    link_end* peer = nullptr;
    packet_queue inbound;            // packets the peer sent to this interface
    std::uint64_t packets_sent = 0;  // what this interface put on the link
    std::size_t mtu = 1500;
};

link_end client_end, server_end;

/// netif->output for IPv4: the "wire". No ARP, no Ethernet: the IP packet is copied
/// into one pbuf (lwIP keeps its own for retransmission) and queued for the peer.
err_t link_output(netif* nif, pbuf* p, const ip4_addr_t* /*next hop*/)
{
    auto* self = static_cast<link_end*>(nif->state);
    pbuf* copy = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (copy == nullptr) return ERR_MEM;
    if (pbuf_copy(copy, p) != ERR_OK) fail("pbuf_copy");
    self->peer->inbound.push(copy);
    ++self->packets_sent;
    return ERR_OK;
}

err_t link_init(netif* nif)
{
    auto* self = static_cast<link_end*>(nif->state);
    nif->name[0] = 'm';
    nif->name[1] = 'l';
    nif->output = link_output;
    nif->mtu = static_cast<u16_t>(self->mtu);
    nif->flags = NETIF_FLAG_LINK_UP;  // no ARP, no broadcast: a point-to-point wire
    return ERR_OK;
}

/// Delivers every queued packet, both ways, until the link is quiet; the handlers
/// this runs (lwIP's input, the applications' callbacks) may queue more. Then lwIP's
/// timers, on the real clock. Returns how many packets moved.
std::uint64_t pump()
{
    std::uint64_t moved = 0;
    for (;;) {
        std::uint64_t round = 0;
        for (link_end* e : {&server_end, &client_end}) {
            // Only what was queued before this pass: replies wait for the next pass,
            // as with one poll() of each tcpx stack.
            for (std::size_t n = e->inbound.tail - e->inbound.head; n > 0; --n, ++round) {
                pbuf* p = e->inbound.pop();
                if (e->nif.input(p, &e->nif) != ERR_OK) pbuf_free(p);
            }
        }
        if (round == 0) break;
        moved += round;
    }
    sys_check_timeouts();
    return moved;
}

void start_lwip(std::size_t mtu)
{
    lwip_init();  // not tcpip_init(): no thread, no mailbox
    client_end.peer = &server_end;
    server_end.peer = &client_end;
    client_end.mtu = server_end.mtu = mtu;
    ip4_addr_t client_ip, server_ip, mask, gw;
    IP4_ADDR(&client_ip, 10, 0, 0, 1);
    IP4_ADDR(&server_ip, 10, 0, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_set_zero(&gw);
    // The client's interface first: netif_add puts each new one at the head of the list,
    // so routing (which takes the first interface whose subnet matches) sends the
    // server's packets out of the server's interface. The client's PCBs are bound to
    // their interface (tcp_bind_netif): routing 10.0.0.2 would otherwise pick the
    // server's interface and lwIP would loop the packet back to itself.
    if (netif_add(&client_end.nif, &client_ip, &mask, &gw, &client_end, link_init, ip_input) == nullptr ||
        netif_add(&server_end.nif, &server_ip, &mask, &gw, &server_end, link_init, ip_input) == nullptr)
        fail("netif_add");
    netif_set_up(&client_end.nif);
    netif_set_up(&server_end.nif);

    // Our headers must describe the library as Debian built it: compare the sizes of the
    // structures lwIP allocates with the sizes the library's pool descriptors hold.
    if (memp_pools[MEMP_TCP_PCB]->size != LWIP_MEM_ALIGN_SIZE(sizeof(tcp_pcb)) ||
        memp_pools[MEMP_TCP_SEG]->size != LWIP_MEM_ALIGN_SIZE(sizeof(tcp_seg)) ||
        memp_pools[MEMP_TCP_PCB_LISTEN]->size != LWIP_MEM_ALIGN_SIZE(sizeof(tcp_pcb_listen)))
        fail("the lwIP headers do not match the library (struct sizes differ)");
}

// ---------------------------------------------------------------------------- endpoints

/// The stream "byte i is i % 251", readable from any offset.
struct pattern {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(251 * 1045);
    pattern()
    {
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i % 251);
    }
    const std::uint8_t* at(std::uint64_t offset) const { return bytes.data() + offset % 251; }
};

/// One application end of a connection: what its callbacks saw.
struct endpoint {
    tcp_pcb* pcb = nullptr;
    bool connected = false;
    bool fin = false;
    err_t error = ERR_OK;
    bool errored = false;
    std::uint64_t received = 0;
    // The application's own receive buffer: every byte is copied here.
    std::vector<std::uint8_t> app = std::vector<std::uint8_t>(std::size_t{256} << 10);
    std::size_t app_pos = 0;
    const pattern* verify = nullptr;
    bool verified = true;
};

err_t on_recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t err)
{
    auto* e = static_cast<endpoint*>(arg);
    if (p == nullptr) {
        e->fin = true;
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    const u16_t total = p->tot_len;
    for (pbuf* q = p; q != nullptr; q = q->next) {
        const auto* src = static_cast<const std::uint8_t*>(q->payload);
        std::size_t off = 0;
        while (off < q->len) {
            const std::size_t n = std::min<std::size_t>(q->len - off, e->app.size() - e->app_pos);
            std::uint8_t* dst = e->app.data() + e->app_pos;
            std::memcpy(dst, src + off, n);
            if (e->verify != nullptr && e->verified && std::memcmp(dst, e->verify->at(e->received), n) != 0) {
                std::size_t i = 0;
                while (dst[i] == *e->verify->at(e->received + i)) ++i;
                std::fprintf(stderr, "lwip-bench: wrong byte at stream offset %llu\n",
                             static_cast<unsigned long long>(e->received + i));
                e->verified = false;
            }
            e->app_pos = (e->app_pos + n) % e->app.size();
            e->received += n;
            off += n;
        }
    }
    tcp_recved(pcb, total);
    pbuf_free(p);
    return ERR_OK;
}

void on_err(void* arg, err_t err)
{
    auto* e = static_cast<endpoint*>(arg);
    if (e == nullptr) return;
    e->errored = true;
    e->error = err;
    e->pcb = nullptr;  // lwIP has freed it
}

err_t on_connected(void* arg, tcp_pcb* /*pcb*/, err_t err)
{
    auto* e = static_cast<endpoint*>(arg);
    if (err != ERR_OK) fail_err("connect", err);
    e->connected = true;
    return ERR_OK;
}

void attach(endpoint& e, tcp_pcb* pcb)
{
    e.pcb = pcb;
    e.fin = false;
    e.errored = false;
    tcp_arg(pcb, &e);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
}

/// Closes an end the way an application that is done with it does: no more callbacks.
void close_end(endpoint& e)
{
    tcp_arg(e.pcb, nullptr);
    tcp_recv(e.pcb, nullptr);
    tcp_err(e.pcb, nullptr);
    const err_t err = tcp_close(e.pcb);
    if (err != ERR_OK) fail_err("tcp_close", err);
    e.pcb = nullptr;
}

endpoint* accept_into = nullptr;  // the server endpoint the next accepted connection fills
bool accept_nodelay = false;

err_t on_accept(void* /*arg*/, tcp_pcb* pcb, err_t err)
{
    if (err != ERR_OK || pcb == nullptr) fail_err("accept", err);
    if (accept_into == nullptr || accept_into->pcb != nullptr) fail("accept: nobody waiting");
    if (accept_nodelay) tcp_nagle_disable(pcb);
    attach(*accept_into, pcb);
    accept_into->connected = true;
    return ERR_OK;
}

tcp_pcb* listen_on_server()
{
    tcp_pcb* pcb = tcp_new();
    if (pcb == nullptr) fail("tcp_new");
    tcp_bind_netif(pcb, &server_end.nif);
    err_t err = tcp_bind(pcb, netif_ip_addr4(&server_end.nif), server_port);
    if (err != ERR_OK) fail_err("tcp_bind", err);
    tcp_pcb* l = tcp_listen_with_backlog_and_err(pcb, 128, &err);
    if (l == nullptr) fail_err("tcp_listen", err);
    tcp_accept(l, on_accept);
    return l;
}

/// Starts a connection from the client's interface to the server.
void connect_from_client(endpoint& c, bool nodelay)
{
    tcp_pcb* pcb = tcp_new();
    if (pcb == nullptr) fail("tcp_new");
    tcp_bind_netif(pcb, &client_end.nif);
    if (nodelay) tcp_nagle_disable(pcb);
    attach(c, pcb);
    c.connected = false;
    const err_t err = tcp_connect(pcb, netif_ip_addr4(&server_end.nif), server_port, on_connected);
    if (err != ERR_OK) fail_err("tcp_connect", err);
}

/// An established connection: the client's end and the server's.
void connect_pair(endpoint& c, endpoint& s, bool nodelay)
{
    accept_into = &s;
    accept_nodelay = nodelay;
    s.pcb = nullptr;
    s.connected = false;
    connect_from_client(c, nodelay);
    const double t0 = now_seconds();
    while (!(c.connected && s.connected)) {
        if (c.errored) fail_err("connect", c.error);
        if (pump() == 0 && now_seconds() - t0 > 10) fail("stuck waiting for the handshake");
    }
}

void write_all(endpoint& e, const void* data, u16_t n)
{
    const err_t err = tcp_write(e.pcb, data, n, TCP_WRITE_FLAG_COPY);
    if (err != ERR_OK) fail_err("tcp_write", err);
    tcp_output(e.pcb);
}

// ---------------------------------------------------------------------------- bulk

int run_bulk(const options& o)
{
    start_lwip(o.mtu);
    listen_on_server();
    const pattern pat;
    endpoint c, s;
    s.verify = o.verify ? &pat : nullptr;
    connect_pair(c, s, false);  // Nagle on, as tcpx's default config

    const std::uint64_t segments_before = client_end.packets_sent;
    std::uint64_t sent = 0;
    const double t0 = now_seconds();
    double last_progress = t0;
    while (s.received < o.bytes) {
        // Fill the send buffer: TCP_SND_BUF (65535 in Debian's build) is the most lwIP takes.
        bool wrote = false;
        while (sent < o.bytes) {
            const u32_t room = tcp_sndbuf(c.pcb);
            if (room == 0 || tcp_sndqueuelen(c.pcb) >= TCP_SND_QUEUELEN) break;
            const u16_t n = static_cast<u16_t>(std::min<std::uint64_t>({room, o.bytes - sent, 0xffff}));
            const err_t err = tcp_write(c.pcb, pat.at(sent), n, TCP_WRITE_FLAG_COPY);
            if (err == ERR_MEM) break;
            if (err != ERR_OK) fail_err("bulk: tcp_write", err);
            sent += n;
            wrote = true;
        }
        // The last bytes: an application would push them (Nagle would otherwise hold a
        // short last segment until the delayed ACK timer, up to 250 ms in lwIP).
        if (sent == o.bytes) tcp_nagle_disable(c.pcb);
        if (wrote) tcp_output(c.pcb);
        const std::uint64_t before = s.received;
        pump();
        if (c.errored || s.errored) fail_err("bulk: the connection ended", c.errored ? c.error : s.error);
        const double t = now_seconds();
        if (s.received != before || wrote) last_progress = t;
        else if (t - last_progress > 10) fail("bulk: stuck");
    }
    const double seconds = now_seconds() - t0;
    const std::uint64_t segments = client_end.packets_sent - segments_before;
    const double bps = static_cast<double>(s.received) * 8 / seconds;
    const unsigned mss = tcp_mss(c.pcb);
    if (o.json)
        std::printf("{\"stack\":\"lwip\",\"mode\":\"bulk\",\"mtu\":%zu,\"throughput_bps\":%.0f,\"bytes\":%llu,"
                    "\"seconds\":%.6f,\"segments\":%llu,\"mss\":%u,\"verified\":%s}\n",
                    o.mtu, bps, static_cast<unsigned long long>(s.received), seconds,
                    static_cast<unsigned long long>(segments), mss,
                    o.verify ? (s.verified ? "true" : "false") : "null");
    else
        std::printf("lwip-bench bulk: %llu bytes at MTU %zu in %.3f s: %.2f Gbit/s, %llu segments of at most %u bytes%s\n",
                    static_cast<unsigned long long>(s.received), o.mtu, seconds, bps / 1e9,
                    static_cast<unsigned long long>(segments), mss,
                    o.verify ? (s.verified ? ", every byte verified" : ", WRONG BYTES") : "");
    return s.verified ? 0 : 1;
}

// ---------------------------------------------------------------------------- rr

int run_rr(const options& o)
{
    start_lwip(o.mtu);
    listen_on_server();
    endpoint c, s;
    connect_pair(c, s, true);  // no-delay on both ends
    std::uint8_t byte = 'q';
    std::uint64_t transactions = 0;
    const double t0 = now_seconds();
    double elapsed = 0;
    while (elapsed < o.seconds) {
        for (int batch = 0; batch < 1024; ++batch) {
            write_all(c, &byte, 1);
            pump();
            if (s.received != transactions + 1) fail("rr: no request");
            write_all(s, &byte, 1);
            pump();
            if (c.received != transactions + 1) fail("rr: no response");
            ++transactions;
        }
        elapsed = now_seconds() - t0;
    }
    const double rate = static_cast<double>(transactions) / elapsed;
    if (o.json)
        std::printf("{\"stack\":\"lwip\",\"mode\":\"rr\",\"mtu\":%zu,\"transactions_per_s\":%.0f,\"transactions\":%llu,"
                    "\"seconds\":%.6f}\n",
                    o.mtu, rate, static_cast<unsigned long long>(transactions), elapsed);
    else
        std::printf("lwip-bench rr: %llu transactions in %.3f s: %.0f per second (%.2f us each)\n",
                    static_cast<unsigned long long>(transactions), elapsed, rate, 1e6 / rate);
    return 0;
}

// ---------------------------------------------------------------------------- crr

std::size_t time_wait_count()
{
    std::size_t n = 0;
    for (tcp_pcb* p = tcp_tw_pcbs; p != nullptr; p = p->next) ++n;
    return n;
}

/// What tcp_alloc() does when the PCB pool is empty (tcp_kill_timewait): abort the
/// oldest TIME-WAIT PCBs, here until at most `keep` remain. TIME-WAIT PCBs enter at the
/// head of tcp_tw_pcbs, so the oldest are at its tail. Returns how many went.
std::uint64_t trim_time_wait(long keep)
{
    if (keep < 0) return 0;
    tcp_pcb* p = tcp_tw_pcbs;
    for (long i = 1; p != nullptr && i < keep; ++i) p = p->next;
    if (p == nullptr) return 0;
    tcp_pcb* victim = keep == 0 ? tcp_tw_pcbs : p->next;
    std::uint64_t killed = 0;
    while (victim != nullptr) {
        tcp_pcb* next = victim->next;
        tcp_abort(victim);  // TIME-WAIT: unlinked and freed, no segment sent
        victim = next;
        ++killed;
    }
    return killed;
}

int run_crr(const options& o)
{
    start_lwip(o.mtu);
    listen_on_server();
    endpoint c, s;
    accept_into = &s;
    accept_nodelay = true;
    std::uint8_t byte = 'q';
    std::uint64_t done = 0, killed = 0;
    const double t0 = now_seconds();
    for (; done % 256 != 0 || now_seconds() - t0 < o.seconds; ++done) {
        killed += trim_time_wait(o.time_wait_max);
        s.pcb = nullptr;
        s.connected = false;
        c.received = s.received = 0;
        connect_from_client(c, true);
        pump();  // SYN, SYN-ACK, ACK: established on both ends, the server has accepted
        if (c.errored) {
            std::fprintf(stderr, "lwip-bench: crr: connection %llu %s; %zu PCBs in TIME-WAIT\n",
                         static_cast<unsigned long long>(done + 1),
                         c.error == ERR_RST ? "reset: its SYN met one of the server's TIME-WAIT PCBs"
                                            : "failed",
                         time_wait_count());
            return 1;
        }
        if (!c.connected || !s.connected) fail("crr: nothing to accept");
        write_all(c, &byte, 1);
        pump();
        if (s.received != 1) fail("crr: no request");
        write_all(s, &byte, 1);
        close_end(s);  // the server closes first: it holds TIME-WAIT
        pump();        // response and FIN to the client, which ACKs them
        if (c.received != 1 || !c.fin) fail("crr: no response");
        close_end(c);  // the client's FIN (LAST-ACK)
        pump();        // the server ACKs it: TIME-WAIT there, the client's PCB is freed
    }
    const double elapsed = now_seconds() - t0;
    const double rate = static_cast<double>(done) / elapsed;
    const std::size_t tw = time_wait_count();
    if (o.json)
        std::printf("{\"stack\":\"lwip\",\"mode\":\"crr\",\"mtu\":%zu,\"connections_per_s\":%.0f,\"connections\":%llu,"
                    "\"seconds\":%.6f,\"time_wait_max\":%ld,\"time_wait_killed\":%llu,\"time_wait_at_end\":%zu}\n",
                    o.mtu, rate, static_cast<unsigned long long>(done), elapsed, o.time_wait_max,
                    static_cast<unsigned long long>(killed), tw);
    else
        std::printf("lwip-bench crr: %llu connections in %.3f s: %.0f per second (%.2f us each); "
                    "TIME-WAIT kept to %ld (%llu killed), %zu in TIME-WAIT at the end\n",
                    static_cast<unsigned long long>(done), elapsed, rate, 1e6 / rate, o.time_wait_max,
                    static_cast<unsigned long long>(killed), tw);
    return 0;
}

// ---------------------------------------------------------------------------- config

int run_config(const options& o)
{
    struct item {
        const char* name;
        long long value;
    };
    const item items[] = {
        {"NO_SYS", NO_SYS},
        {"LWIP_TCPIP_CORE_LOCKING", LWIP_TCPIP_CORE_LOCKING},
        {"SYS_LIGHTWEIGHT_PROT", SYS_LIGHTWEIGHT_PROT},
        {"MEM_LIBC_MALLOC", MEM_LIBC_MALLOC},
        {"MEMP_MEM_MALLOC", MEMP_MEM_MALLOC},
        {"MEM_SIZE", MEM_SIZE},
        {"MEMP_NUM_TCP_PCB", MEMP_NUM_TCP_PCB},
        {"MEMP_NUM_TCP_SEG", MEMP_NUM_TCP_SEG},
        {"PBUF_POOL_SIZE", PBUF_POOL_SIZE},
        {"TCP_MSS", TCP_MSS},
        {"TCP_WND", TCP_WND},
        {"LWIP_WND_SCALE", LWIP_WND_SCALE},
        {"TCP_RCV_SCALE", TCP_RCV_SCALE},
        {"TCP_SND_BUF", TCP_SND_BUF},
        {"TCP_SND_QUEUELEN", TCP_SND_QUEUELEN},
        {"TCP_OVERSIZE", TCP_OVERSIZE},
        {"TCP_QUEUE_OOSEQ", TCP_QUEUE_OOSEQ},
        {"LWIP_TCP_SACK_OUT", LWIP_TCP_SACK_OUT},
        {"LWIP_TCP_TIMESTAMPS", LWIP_TCP_TIMESTAMPS},
        {"TCP_CALCULATE_EFF_SEND_MSS", TCP_CALCULATE_EFF_SEND_MSS},
        {"TCP_TMR_INTERVAL", TCP_TMR_INTERVAL},
        {"TCP_MSL", static_cast<long long>(TCP_MSL)},
        {"TCP_WND_UPDATE_THRESHOLD", TCP_WND_UPDATE_THRESHOLD},
        {"LWIP_CHECKSUM_ON_COPY", LWIP_CHECKSUM_ON_COPY},
        {"LWIP_CHECKSUM_CTRL_PER_NETIF", LWIP_CHECKSUM_CTRL_PER_NETIF},
        {"CHECKSUM_GEN_IP", CHECKSUM_GEN_IP},
        {"CHECKSUM_GEN_TCP", CHECKSUM_GEN_TCP},
        {"CHECKSUM_CHECK_IP", CHECKSUM_CHECK_IP},
        {"CHECKSUM_CHECK_TCP", CHECKSUM_CHECK_TCP},
        {"LWIP_NETIF_TX_SINGLE_PBUF", LWIP_NETIF_TX_SINGLE_PBUF},
        {"LWIP_NETIF_LOOPBACK", LWIP_NETIF_LOOPBACK},
        {"LWIP_STATS", LWIP_STATS},
        {"IP_FORWARD", IP_FORWARD},
        {"LWIP_IPV6", LWIP_IPV6},
    };
    if (o.json) {
        std::printf("{\"stack\":\"lwip\",\"mode\":\"config\",\"version\":\"%s\"", LWIP_VERSION_STRING);
        for (const item& i : items) std::printf(",\"%s\":%lld", i.name, i.value);
        std::printf("}\n");
    } else {
        std::printf("lwIP %s, as compiled from Debian's headers (lwipopts.h + opt.h defaults):\n", LWIP_VERSION_STRING);
        for (const item& i : items) std::printf("  %-30s %lld\n", i.name, i.value);
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
    return run_config(o);
}
