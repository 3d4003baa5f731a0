// tcpx/device/tun.hpp — devices::tun: a Linux TUN interface, so a stack carries real
// traffic with the kernel's own IP stack on the other side of the interface.
//
// Have open: Linux Documentation/networking/tuntap.rst (IFF_TUN, IFF_NO_PI,
// TUNSETIFF), netdevice(7) (SIOCSIFMTU, SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFFLAGS).
//
//   std::error_code ec;
//   tcpx::devices::tun dev{{.name = "tcpx0", .mtu = 1500,
//                           .host = tcpx::devices::interface_address::parse("10.0.0.2/24")}, ec};
//   // the kernel now routes 10.0.0.0/24 to tcpx0; a stack at 10.0.0.1 answers there
//   tcpx::stack<tcpx::devices::tun&, tcpx::clocks::steady> s{dev, {}, cfg};
//
// One read(2) is one whole IPv4 packet (IFF_TUN | IFF_NO_PI: no link header, no
// packet-information prefix), one write(2) sends one. The descriptor is non-blocking:
// receive() reads until the kernel has nothing more (EAGAIN) or n packets were
// handed on, so a burst costs one wake-up of tcpx::wait_for_work, not one per packet.
// native_handle() is what wait_for_work sleeps on (tcpx::pollable_device).
//
// Configuration is done here with ioctl(2) on an AF_INET datagram socket — the same
// calls ifconfig makes — so a program needs no setup script and never shells out to
// ip(8). Creating an interface or changing its settings needs root or CAP_NET_ADMIN;
// attaching to a persistent interface made for this user (ip tuntap add ... user U)
// needs neither, if `host` is left empty and `mtu` is 0.
//
// Errors are tcpx::errc values that say what to do: device_unavailable (no
// /dev/net/tun), device_permission_denied (root or CAP_NET_ADMIN needed),
// interface_in_use, bad_address; anything else is the system's errno.
//
// Offloads (on by default, tun_config::offload): with IFF_VNET_HDR every packet
// carries a virtio-net header, and TUNSETOFFLOAD tells the kernel it may hand us
// segments of up to 64 KiB whose checksum it has not computed (it never left the host)
// — one read for what would be 44 packets at MTU 1500. The stack, seeing
// tcpx::offload_device, sends such segments too (TSO) and leaves the TCP checksum to
// the kernel. A visitor that cannot take a packet_info (a decorator such as impaired<>
// or pcap<>) gets every checksum completed by the device instead, so it sees ordinary
// packets; a decorator does not pass transmit offloads through either.
//
// A queue of its own for SYNs (on by default, tun_config::syn_queue): the interface is
// made multi-queue (IFF_MULTI_QUEUE) with two queues, and a steering program
// (TUNSETSTEERINGEBPF, a ten-instruction socket filter) puts every IPv4 TCP segment
// with SYN and not ACK on the second. receive() reads the first queue before the
// second, so when a SYN flood outruns the stack it is the SYN queue that fills and
// drops (the kernel counts tx_dropped) while the packets of established connections
// keep theirs; a legitimate SYN lost there is retransmitted by its sender. The second
// queue still gets a quarter of every batch, so connections keep opening during any
// other flood. Where the kernel, the interface (persistent, made single-queue) or the
// privileges (loading the program needs CAP_BPF or CAP_SYS_ADMIN) say no, one queue,
// silently: syn_queue() tells. native_handle() is then an epoll descriptor over both.
//
// Memory: two buffers of the largest packet (mtu, or 64 KiB with offloads), allocated once.
// Threads: one thread uses a tun at a time (the stack's).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <tcpx/concepts.hpp>
#include <tcpx/error.hpp>
#include <tcpx/time.hpp>
#include <tcpx/wire/checksum.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/ipv6.hpp>

namespace tcpx::devices {

namespace detail {
/// The virtio-net header (virtio spec §5.1.6, Linux's struct virtio_net_hdr, whose
/// header does not compile as C++), in host byte order as TUN uses it by default.
struct virtio_net_hdr {
    std::uint8_t flags;
    std::uint8_t gso_type;
    std::uint16_t hdr_len;      ///< IP + TCP header bytes repeated in every cut segment
    std::uint16_t gso_size;     ///< payload bytes per cut segment
    std::uint16_t csum_start;   ///< where the checksum's sum starts
    std::uint16_t csum_offset;  ///< where, from csum_start, it is stored
};
static_assert(sizeof(detail::virtio_net_hdr) == 10);
inline constexpr std::uint8_t vnet_needs_csum = 1;   // detail::vnet_needs_csum
inline constexpr std::uint8_t vnet_data_valid = 2;   // detail::vnet_data_valid
inline constexpr std::uint8_t vnet_gso_tcpv4 = 1;    // detail::vnet_gso_tcpv4
}  // namespace detail

namespace detail {
// The prefix length after the '/' at `slash` in "ADDR/N", in 0..max; no '/': max (a
// host route).
inline std::optional<unsigned> parse_prefix(std::string_view text, std::size_t slash, unsigned max) noexcept
{
    if (slash == std::string_view::npos) return max;
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    unsigned p = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        p = p * 10 + static_cast<unsigned>(c - '0');
    }
    if (p > max) return std::nullopt;
    return p;
}
}  // namespace detail

/// An address with its prefix length, "10.0.0.2/24": the kernel's side of the interface.
struct interface_address {
    wire::ipv4_address address;
    unsigned prefix = 24;

    /// Parses "A.B.C.D/N" (N in 0..32) or "A.B.C.D" (then /32); nullopt otherwise.
    static std::optional<interface_address> parse(std::string_view text) noexcept
    {
        const auto slash = text.find('/');
        const auto addr = wire::ipv4_address::parse(text.substr(0, slash));
        const auto prefix = detail::parse_prefix(text, slash, 32);
        if (!addr || !prefix) return std::nullopt;
        return interface_address{*addr, *prefix};
    }
    /// The network mask of `prefix`, host order.
    std::uint32_t netmask() const noexcept { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }
    /// True if `a` lies in this address's network.
    bool contains(wire::ipv4_address a) const noexcept { return ((a.value ^ address.value) & netmask()) == 0; }
};

/// An IPv6 address with its prefix length, "fd00::2/64": the kernel's side of the
/// interface, for IPv6.
struct interface_address6 {
    wire::ipv6_address address;
    unsigned prefix = 64;

    /// Parses "ADDR/N" (N in 0..128) or "ADDR" (then /128); nullopt otherwise.
    static std::optional<interface_address6> parse(std::string_view text) noexcept
    {
        const auto slash = text.find('/');
        const auto addr = wire::ipv6_address::parse(text.substr(0, slash));
        const auto prefix = detail::parse_prefix(text, slash, 128);
        if (!addr || !prefix) return std::nullopt;
        return interface_address6{*addr, *prefix};
    }
};

struct tun_config {
    /// Interface name (at most 15 characters); empty: the kernel picks "tunN".
    std::string name;
    /// The interface MTU to set; 0 leaves it as it is (1500 for a new interface).
    std::size_t mtu = 1500;
    /// The kernel side's address and prefix; nullopt leaves addresses alone.
    std::optional<interface_address> host;
    /// The kernel side's IPv6 address and prefix, added without duplicate address
    /// detection (there is no other node on a TUN link to collide with, and the address
    /// is usable at once); nullopt adds none.
    std::optional<interface_address6> host6{};
    /// Bring the link up (IFF_UP), as `ip link set NAME up` does.
    bool up = true;
    /// Packets the kernel may queue toward us before it drops (txqueuelen; 0: leave).
    /// Linux's default of 500 drops bursts a fast sender makes at a large window.
    unsigned queue_length = 4096;
    /// Checksum and segmentation offload through virtio-net headers (IFF_VNET_HDR,
    /// TUNSETOFFLOAD), where the kernel offers them (else plain packets, silently);
    /// false: plain packets only. offloads() tells which it got.
    bool offload = true;
    /// SYNs (SYN without ACK) on a queue of their own, read after the others, so a SYN
    /// flood that outruns the stack drops SYNs and not established connections'
    /// packets (see the file comment); where it cannot be had, one queue, silently.
    bool syn_queue = true;
};

struct tun_counters {
    std::uint64_t packets_received = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t packets_sent = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t read_calls = 0;        ///< read(2) calls, the EAGAIN that ends a batch included
    std::uint64_t write_errors = 0;      ///< packets write(2) did not take (counted, dropped)
    std::uint64_t read_errors = 0;       ///< read(2) failures other than EAGAIN
    std::uint64_t large_received = 0;    ///< packets above the MTU the kernel handed over (receive offload)
    std::uint64_t large_sent = 0;        ///< packets above the MTU the kernel cut for us (TSO)
    std::uint64_t checksums_completed = 0;  ///< partial checksums the device finished for a plain visitor
    std::uint64_t syn_queue_received = 0;   ///< packets read from the SYN queue (in packets_received too)
};

class tun {
public:
    /// Opens /dev/net/tun, creates or attaches `cfg.name`, configures it. On failure
    /// ec says why and the object holds no descriptor (receive delivers nothing).
    tun(const tun_config& cfg, std::error_code& ec)
    {
        ec = open(cfg);
        if (ec) close_fd();
    }
    tun(tun&& other) noexcept
        : fd_{std::exchange(other.fd_, -1)}, syn_fd_{std::exchange(other.syn_fd_, -1)},
          epoll_fd_{std::exchange(other.epoll_fd_, -1)}, vnet_{other.vnet_}, mtu_{other.mtu_}, name_{std::move(other.name_)},
          rx_{std::move(other.rx_)}, tx_{std::move(other.tx_)}, counters_{other.counters_}
    {
    }
    tun& operator=(tun&&) = delete;
    tun(const tun&) = delete;
    ~tun() { close_fd(); }

    // ---- tcpx::device ----
    std::size_t mtu() const noexcept { return mtu_; }

    /// Hands on up to n packets. With a SYN queue: the main queue until it is empty
    /// (or has had three quarters of n), then at most syn_chunk SYNs, and again, so a
    /// segment of an established connection waits behind no more than syn_chunk SYNs.
    template <class F>
    std::size_t receive(instant, F&& f, std::size_t n)
    {
        if (syn_fd_ < 0) return read_queue(fd_, f, n);
        constexpr std::size_t syn_chunk = 16;
        std::size_t delivered = 0, main = 0;
        while (delivered < n) {
            const std::size_t got = read_queue(fd_, f, std::min(n - delivered, (n - n / 4) - std::min(main, n - n / 4)));
            main += got;
            delivered += got;
            const std::size_t syns = read_queue(syn_fd_, f, std::min(n - delivered, syn_chunk));
            counters_.syn_queue_received += syns;
            delivered += syns;
            if (syns == 0 && (got == 0 || main >= n - n / 4)) break;  // both empty, or the main queue's share spent
        }
        return delivered;
    }

    std::span<std::uint8_t> transmit_buffer(std::size_t n) noexcept
    {
        if (n > max_packet() || fd_ < 0) return {};
        return {tx_.get() + header_size(), n};
    }

    void transmit(std::size_t n, instant t) { transmit(n, t, transmit_offload{}); }

    // ---- tcpx::offload_device ----
    device_offloads offloads() const noexcept
    {
        if (!vnet_) return {};
        return {.checksum = true, .max_segment_bytes = 65535};
    }

    /// Sends the last transmit_buffer's first n bytes, finished by the kernel as `o` says.
    void transmit(std::size_t n, instant, const transmit_offload& o)
    {
        if (vnet_) {
            detail::virtio_net_hdr h{};
            if (o.checksum_partial) {
                h.flags = detail::vnet_needs_csum;
                h.csum_start = o.checksum_start;
                h.csum_offset = o.checksum_offset;
            }
            if (o.segment_size != 0) {
                // TSO: the kernel cuts the payload into segment_size pieces behind copies
                // of the headers (hdr_len: IPv4 + TCP header, data offset from the packet).
                const std::uint8_t* p = tx_.get() + sizeof h;
                const std::size_t ip_len = std::size_t{p[0] & 0x0fu} * 4;
                h.gso_type = detail::vnet_gso_tcpv4;
                h.gso_size = o.segment_size;
                h.hdr_len = static_cast<std::uint16_t>(ip_len + static_cast<std::size_t>(p[ip_len + 12] >> 4) * 4);
                ++counters_.large_sent;
            }
            std::memcpy(tx_.get(), &h, sizeof h);
        }
        const std::size_t total = header_size() + n;
        for (;;) {
            const ssize_t put = ::write(fd_, tx_.get(), total);
            if (put == static_cast<ssize_t>(total)) break;
            if (put < 0 && errno == EINTR) continue;
            ++counters_.write_errors;  // EAGAIN (queue full) or the interface went down: a lost packet
            return;
        }
        ++counters_.packets_sent;
        counters_.bytes_sent += n;
    }

    instant next_deadline() const noexcept { return never; }

    // ---- tcpx::pollable_device ----
    int native_handle() const noexcept { return epoll_fd_ >= 0 ? epoll_fd_ : fd_; }

    /// True if SYNs have a queue of their own (tun_config::syn_queue, where it could be had).
    bool syn_queue() const noexcept { return syn_fd_ >= 0; }

    /// The interface's name, as the kernel gave it (e.g. the "tunN" it picked).
    const std::string& name() const noexcept { return name_; }
    const tun_counters& counters() const noexcept { return counters_; }

private:
    std::error_code open(const tun_config& cfg)
    {
        if (cfg.name.size() >= IFNAMSIZ) return errc::invalid_argument;
        if (cfg.mtu != 0 && (cfg.mtu < 68 || cfg.mtu > 65535)) return errc::invalid_argument;  // RFC 791: every host takes 68

        fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd_ < 0) return errno == ENOENT || errno == ENODEV || errno == ENXIO ? errc::device_unavailable : open_error(errno);

        ifreq ifr{};
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
        std::memcpy(ifr.ifr_name, cfg.name.data(), cfg.name.size());
        if (cfg.offload) ifr.ifr_flags |= IFF_VNET_HDR;
        if (cfg.syn_queue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
        if (::ioctl(fd_, TUNSETIFF, &ifr) < 0) {
            if (cfg.syn_queue && errno == EINVAL) {
                // A persistent interface made single-queue, or a kernel without queues: one.
                close_fd();
                tun_config single = cfg;
                single.syn_queue = false;
                return open(single);
            }
            if (cfg.offload && errno == EINVAL) {
                // Perhaps a kernel without IFF_VNET_HDR, or a persistent interface made
                // without it: try plain packets before calling the name taken.
                close_fd();
                tun_config plain = cfg;
                plain.offload = false;
                return open(plain);
            }
            // EBUSY: attached by another process; EINVAL: the name is a device of another kind.
            if (errno == EBUSY || errno == EINVAL) return errc::interface_in_use;
            return open_error(errno);
        }
        name_.assign(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));

        if (cfg.offload) {
            // The kernel may now hand us unchecksummed and large TCP segments; if it will
            // not (an old kernel), the headers stay and carry nothing.
            int header = sizeof(detail::virtio_net_hdr);
            vnet_ = ::ioctl(fd_, TUNSETVNETHDRSZ, &header) == 0 &&
                    ::ioctl(fd_, TUNSETOFFLOAD, static_cast<unsigned long>(TUN_F_CSUM | TUN_F_TSO4)) == 0;
            if (!vnet_) {
                // The kernel does not offer them: plain packets, as with offload = false.
                close_fd();
                tun_config plain = cfg;
                plain.offload = false;
                return open(plain);
            }
        }
        if (cfg.syn_queue) open_syn_queue(ifr);
        if (auto ec = configure(cfg); ec) return ec;
        if (mtu_ == 0) mtu_ = 1500;
        rx_ = std::make_unique<std::uint8_t[]>(rx_size());
        tx_ = std::make_unique<std::uint8_t[]>(header_size() + max_packet());
        return {};
    }

    /// Attaches a second queue to the interface `ifr` names and steers SYNs to it; on
    /// any failure, one queue (the caller carries on without).
    void open_syn_queue(ifreq ifr) noexcept
    {
        const auto give_up = [this] {
            for (int* fd : {&syn_fd_, &epoll_fd_}) {
                if (*fd >= 0) ::close(*fd);
                *fd = -1;
            }
        };
        syn_fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (syn_fd_ < 0 || ::ioctl(syn_fd_, TUNSETIFF, &ifr) < 0) return give_up();
        if (vnet_) {
            int header = sizeof(detail::virtio_net_hdr);
            if (::ioctl(syn_fd_, TUNSETVNETHDRSZ, &header) < 0) return give_up();
        }
        const int program = load_syn_steering();
        if (program < 0) return give_up();
        const int steered = ::ioctl(fd_, TUNSETSTEERINGEBPF, &program);
        ::close(program);  // the interface holds its own reference
        if (steered < 0) return give_up();
        epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0) return give_up();
        for (const int fd : {fd_, syn_fd_}) {
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.fd = fd;
            if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &e) < 0) return give_up();
        }
    }

    /// The steering program: the queue for a packet the kernel hands the interface,
    /// whose bytes start at the IP header (TUN has no link header). 1 for a TCP
    /// segment with SYN and not ACK, over IPv4 not a fragment, over IPv6 right after
    /// the fixed header; else 0. A load beyond the
    /// packet ends the program with 0. Returns the program's descriptor, or -1.
    static int load_syn_steering() noexcept
    {
        constexpr auto op = [](std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
            bpf_insn i{};
            i.code = code;
            i.dst_reg = dst & 0xf;
            i.src_reg = src & 0xf;
            i.off = off;
            i.imm = imm;
            return i;
        };
        constexpr std::uint8_t r0 = 0, r1 = 1, r6 = 6, r7 = 7;
        const bpf_insn program[] = {
            op(BPF_ALU64 | BPF_MOV | BPF_X, r6, r1, 0, 0),            // r6 = the packet (LD_ABS reads it)
            op(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 0),                 // r0 = version and IHL
            op(BPF_ALU64 | BPF_MOV | BPF_X, r7, r0, 0, 0),
            op(BPF_ALU64 | BPF_AND | BPF_K, r0, 0, 0, 0xf0),
            op(BPF_JMP | BPF_JEQ | BPF_K, r0, 0, 12, 0x60),           // IPv6: below
            op(BPF_JMP | BPF_JNE | BPF_K, r0, 0, 9, 0x40),            // neither: queue 0
            op(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 9),                 // r0 = protocol
            op(BPF_JMP | BPF_JNE | BPF_K, r0, 0, 7, IPPROTO_TCP),
            op(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 6),                 // r0 = flags and fragment offset
            op(BPF_JMP | BPF_JSET | BPF_K, r0, 0, 5, 0x3fff),         // a fragment: queue 0
            op(BPF_ALU64 | BPF_AND | BPF_K, r7, 0, 0, 0x0f),
            op(BPF_ALU64 | BPF_LSH | BPF_K, r7, 0, 0, 2),             // r7 = IPv4 header length
            op(BPF_LD | BPF_IND | BPF_B, 0, r7, 0, 13),               // r0 = TCP flags
            op(BPF_ALU64 | BPF_AND | BPF_K, r0, 0, 0, 0x12),          // SYN | ACK
            op(BPF_JMP | BPF_JEQ | BPF_K, r0, 0, 8, 0x02),            // SYN alone: queue 1
            op(BPF_ALU64 | BPF_MOV | BPF_K, r0, 0, 0, 0),             // queue 0
            op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
            // IPv6 (RFC 8200 §3): TCP right after the fixed header (a SYN behind
            // extension headers keeps to queue 0), its flags at 40 + 13.
            op(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 6),                 // r0 = next header
            op(BPF_JMP | BPF_JNE | BPF_K, r0, 0, -4, IPPROTO_TCP),
            op(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 53),                // r0 = TCP flags
            op(BPF_ALU64 | BPF_AND | BPF_K, r0, 0, 0, 0x12),
            op(BPF_JMP | BPF_JEQ | BPF_K, r0, 0, 1, 0x02),            // SYN alone: queue 1
            op(BPF_JMP | BPF_JA, 0, 0, -8, 0),                        // queue 0
            op(BPF_ALU64 | BPF_MOV | BPF_K, r0, 0, 0, 1),             // queue 1
            op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        };
        static constexpr char license[] = "GPL";
        bpf_attr attr{};
        attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
        attr.insns = reinterpret_cast<std::uintptr_t>(program);
        attr.insn_cnt = sizeof program / sizeof program[0];
        attr.license = reinterpret_cast<std::uintptr_t>(license);
        return static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
    }

    std::error_code configure(const tun_config& cfg)
    {
        const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0) return {errno, std::system_category()};
        const auto done = [sock](std::error_code ec) {
            ::close(sock);
            return ec;
        };
        const auto request = [this] {
            ifreq r{};
            std::memcpy(r.ifr_name, name_.data(), name_.size());
            return r;
        };
        if (cfg.mtu != 0) {
            ifreq r = request();
            r.ifr_mtu = static_cast<int>(cfg.mtu);
            if (::ioctl(sock, SIOCSIFMTU, &r) < 0) return done(open_error(errno));
        }
        {
            ifreq r = request();
            if (::ioctl(sock, SIOCGIFMTU, &r) < 0) return done(open_error(errno));
            mtu_ = static_cast<std::size_t>(r.ifr_mtu);
        }
        if (cfg.queue_length != 0) {
            // Set only when it differs, so attaching without privileges to an interface
            // already configured does not fail on a no-op.
            ifreq r = request();
            if (::ioctl(sock, SIOCGIFTXQLEN, &r) < 0 || r.ifr_qlen != static_cast<int>(cfg.queue_length)) {
                r = request();
                r.ifr_qlen = static_cast<int>(cfg.queue_length);
                if (::ioctl(sock, SIOCSIFTXQLEN, &r) < 0) return done(open_error(errno));
            }
        }
        if (cfg.host) {
            if (cfg.host->prefix > 32) return done(errc::bad_address);
            ifreq r = request();
            set_in_addr(r.ifr_addr, cfg.host->address.value);
            if (::ioctl(sock, SIOCSIFADDR, &r) < 0) return done(address_error(errno));
            r = request();
            set_in_addr(r.ifr_netmask, cfg.host->netmask());
            if (::ioctl(sock, SIOCSIFNETMASK, &r) < 0) return done(address_error(errno));
        }
        if (cfg.host6) {
            if (std::error_code ec = add_address6(*cfg.host6)) return done(ec);
        }
        if (cfg.up) {
            ifreq r = request();
            if (::ioctl(sock, SIOCGIFFLAGS, &r) < 0) return done(open_error(errno));
            if ((r.ifr_flags & IFF_UP) == 0) {
                r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP);
                if (::ioctl(sock, SIOCSIFFLAGS, &r) < 0) return done(open_error(errno));
            }
        }
        return done({});
    }

    // netdevice(7) for IPv6 (SIOCSIFADDR on an AF_INET6 socket takes an in6_ifreq).
    // Duplicate address detection is turned off for the interface first (its
    // accept_dad sysctl, in this network namespace): the kernel would otherwise keep
    // the address "tentative", unusable, for a second or more.
    std::error_code add_address6(const interface_address6& a)
    {
        if (a.prefix > 128) return errc::bad_address;
        const std::string dad = "/proc/sys/net/ipv6/conf/" + name_ + "/accept_dad";
        if (FILE* f = std::fopen(dad.c_str(), "w")) {
            std::fputs("0", f);
            std::fclose(f);
        }
        const int sock6 = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock6 < 0) return address_error(errno);
        // struct in6_ifreq of <linux/ipv6.h>, which does not mix with glibc's <netinet/in.h>.
        struct {
            in6_addr ifr6_addr;
            std::uint32_t ifr6_prefixlen;
            int ifr6_ifindex;
        } r{};
        std::memcpy(&r.ifr6_addr, a.address.octets.data(), 16);
        r.ifr6_prefixlen = a.prefix;
        r.ifr6_ifindex = static_cast<int>(::if_nametoindex(name_.c_str()));
        const int rc = ::ioctl(sock6, SIOCSIFADDR, &r);
        const int err = errno;
        ::close(sock6);
        return rc < 0 && err != EEXIST ? address_error(err) : std::error_code{};
    }

    /// Reads up to n packets from one queue's descriptor and hands each to f.
    template <class F>
    std::size_t read_queue(int fd, F& f, std::size_t n)
    {
        std::size_t delivered = 0;
        while (delivered < n && fd >= 0) {
            ++counters_.read_calls;
            const ssize_t got = ::read(fd, rx_.get(), rx_size());
            if (got < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN) ++counters_.read_errors;
                break;
            }
            std::span<std::uint8_t> packet{rx_.get(), static_cast<std::size_t>(got)};
            packet_info info;
            if (vnet_) {
                if (packet.size() < sizeof(detail::virtio_net_hdr)) continue;  // cannot happen; never trust it
                detail::virtio_net_hdr h;
                std::memcpy(&h, packet.data(), sizeof h);
                packet = packet.subspan(sizeof h);
                if (packet.size() > mtu_) ++counters_.large_received;
                if (h.flags & detail::vnet_needs_csum) {
                    // The kernel left the transport checksum to the receiver: the packet
                    // never left this host, so there is nothing to verify — only, for a
                    // visitor that will verify, a sum to complete.
                    info.checksum_valid = true;
                    if constexpr (!std::is_invocable_v<F&, std::span<const std::uint8_t>, packet_info>)
                        complete_checksum(packet, h.csum_start, h.csum_offset);
                } else if (h.flags & detail::vnet_data_valid) {
                    info.checksum_valid = true;
                }
            }
            ++counters_.packets_received;
            counters_.bytes_received += packet.size();
            ++delivered;
            if constexpr (std::is_invocable_v<F&, std::span<const std::uint8_t>, packet_info>)
                f(std::span<const std::uint8_t>{packet}, info);
            else
                f(std::span<const std::uint8_t>{packet});
        }
        return delivered;
    }

    std::size_t header_size() const noexcept { return vnet_ ? sizeof(detail::virtio_net_hdr) : 0; }
    /// The largest packet either way: 64 KiB with offloads, else the MTU.
    std::size_t max_packet() const noexcept { return vnet_ ? std::max<std::size_t>(mtu_, 65535) : mtu_; }
    std::size_t rx_size() const noexcept { return header_size() + max_packet(); }

    /// Finishes a partial checksum (virtio-net NEEDS_CSUM): the one's complement sum
    /// from `start` to the end, the field at start + offset holding the seed, stored
    /// complemented into that field.
    void complete_checksum(std::span<std::uint8_t> packet, std::size_t start, std::size_t offset) noexcept
    {
        if (start + offset + 2 > packet.size()) return;  // malformed: leave it to be dropped
        wire::checksum_accumulator acc;
        acc.add(packet.subspan(start));
        boost::endian::store_big_u16(packet.data() + start + offset, acc.finish());
        ++counters_.checksums_completed;
    }

    static void set_in_addr(sockaddr& sa, std::uint32_t host_order) noexcept
    {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(host_order);
        std::memcpy(&sa, &in, sizeof in);
    }
    static std::error_code open_error(int e) noexcept
    {
        if (e == EPERM || e == EACCES) return errc::device_permission_denied;
        return {e, std::system_category()};
    }
    static std::error_code address_error(int e) noexcept
    {
        if (e == EINVAL || e == EADDRNOTAVAIL) return errc::bad_address;
        return open_error(e);
    }
    void close_fd() noexcept
    {
        for (int* fd : {&fd_, &syn_fd_, &epoll_fd_}) {
            if (*fd >= 0) ::close(*fd);
            *fd = -1;
        }
    }

    int fd_ = -1;
    int syn_fd_ = -1;    ///< the SYN queue's descriptor (tun_config::syn_queue), or -1
    int epoll_fd_ = -1;  ///< readable when either queue is, with a SYN queue
    bool vnet_ = false;  ///< every packet carries a virtio_net_hdr (offloads on)
    std::size_t mtu_ = 0;
    std::string name_;
    std::unique_ptr<std::uint8_t[]> rx_;
    std::unique_ptr<std::uint8_t[]> tx_;
    tun_counters counters_;
};

static_assert(tcpx::pollable_device<tun>);
static_assert(tcpx::offload_device<tun>);

}  // namespace tcpx::devices
