// Support for the interop tests: a TUN interface with a fresh /24 per test, a tcpx
// stack on it (the blocking facade, on its own thread), and the kernel's own sockets,
// with timeouts so that a misbehaving stack fails a test instead of hanging it.
// main.cpp has already moved the process into a network namespace of its own.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tcpx/blocking.hpp>
#include <tcpx/device/impaired.hpp>
#include <tcpx/device/tun.hpp>
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

namespace interop {

/// `lo` starts down in a new namespace; some tests use 127.0.0.1.
inline void bring_loopback_up()
{
    const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    ifreq r{};
    std::strcpy(r.ifr_name, "lo");
    if (::ioctl(s, SIOCGIFFLAGS, &r) == 0) {
        r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP);
        ::ioctl(s, SIOCSIFFLAGS, &r);
    }
    ::close(s);
}

/// Each interface gets its own name and networks (10.77.N.0/24 and fd00:77:N::/64), so
/// tests never see one another's leftovers: tcpx is .1 and ::1, the kernel .2 and ::2.
struct addresses {
    unsigned n;
    std::string name;
    tcpx::wire::ipv4_address tcpx_side;
    tcpx::wire::ipv4_address kernel_side;
    tcpx::wire::ipv6_address tcpx_side6;
    tcpx::wire::ipv6_address kernel_side6;

    static addresses next()
    {
        static std::atomic<unsigned> counter{0};
        const unsigned n = 1 + counter.fetch_add(1) % 250;
        const auto net = static_cast<std::uint16_t>(n);
        return {n, "tcpxi" + std::to_string(n), tcpx::wire::ipv4_address{10, 77, static_cast<std::uint8_t>(n), 1},
                tcpx::wire::ipv4_address{10, 77, static_cast<std::uint8_t>(n), 2},
                tcpx::wire::ipv6_address{0xfd00, 0x77, net, 0, 0, 0, 0, 1},
                tcpx::wire::ipv6_address{0xfd00, 0x77, net, 0, 0, 0, 0, 2}};
    }
    /// The kernel side's addresses, as tun_config takes them.
    tcpx::devices::interface_address host() const { return {kernel_side, 24}; }
    tcpx::devices::interface_address6 host6() const { return {kernel_side6, 64}; }
};

/// A TUN interface configured for the kernel side, with impairments of tcpx's own
/// (none unless asked for) and a blocking runtime at the tcpx side's address.
struct tcpx_on_tun {
    using device_type = tcpx::devices::impaired<tcpx::devices::tun&>;

    addresses addr = addresses::next();
    std::error_code open_error;
    tcpx::devices::tun tun;
    device_type dev;
    tcpx::blocking::runtime<device_type&> rt;

    explicit tcpx_on_tun(tcpx::devices::impairment_config impair = {}, std::size_t mtu = 1500,
                         tcpx::config cfg = {})
        : tun{{.name = addr.name, .mtu = mtu, .host = addr.host(), .host6 = addr.host6()}, open_error},
          dev{impair, tun},
          rt{dev, with_address(cfg, addr)}
    {
        REQUIRE_MESSAGE(!open_error, "opening " << addr.name << ": " << open_error.message());
    }

    static tcpx::config with_address(tcpx::config c, const addresses& a)
    {
        c.address = a.tcpx_side;
        c.address6 = a.tcpx_side6;
        if (!c.isn_secret) c.isn_secret = std::array<std::uint64_t, 2>{1, 2};
        return c;
    }
};

/// The stack straight on the TUN device, no decorator: the device's offloads (virtio-net
/// headers: checksum offload both ways, large segments both ways) reach the stack.
struct tcpx_on_tun_direct {
    addresses addr = addresses::next();
    std::error_code open_error;
    tcpx::devices::tun tun;
    tcpx::blocking::runtime<tcpx::devices::tun&> rt;

    explicit tcpx_on_tun_direct(bool offload, std::size_t mtu = 1500, bool syn_queue = true)
        : tun{{.name = addr.name, .mtu = mtu, .host = addr.host(), .host6 = addr.host6(), .offload = offload,
               .syn_queue = syn_queue},
              open_error},
          rt{tun, tcpx_on_tun::with_address({}, addr)}
    {
        REQUIRE_MESSAGE(!open_error, "opening " << addr.name << ": " << open_error.message());
    }
};

inline sockaddr_in socket_address(tcpx::wire::ipv4_address a, std::uint16_t port)
{
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    s.sin_addr.s_addr = htonl(a.value);
    return s;
}

/// A kernel TCP socket; every blocking call gives up after `timeout` (SO_RCVTIMEO /
/// SO_SNDTIMEO), so a peer that stalls fails the test.
class kernel_socket {
public:
    static constexpr int timeout_s = 30;

    kernel_socket() = default;
    explicit kernel_socket(int fd) : fd_{fd} { set_timeouts(); }
    kernel_socket(kernel_socket&& o) noexcept : fd_{std::exchange(o.fd_, -1)} {}
    kernel_socket& operator=(kernel_socket&& o) noexcept
    {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~kernel_socket()
    {
        if (fd_ >= 0) ::close(fd_);
    }
    int fd() const { return fd_; }

    /// connect(2); returns the errno on failure (ECONNREFUSED ...), 0 on success.
    static int connect_to(tcpx::wire::ipv4_address a, std::uint16_t port, kernel_socket& out)
    {
        out = kernel_socket{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
        const sockaddr_in sa = socket_address(a, port);
        if (::connect(out.fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) return errno;
        return 0;
    }
    static kernel_socket listen_on(tcpx::wire::ipv4_address a, std::uint16_t port, int backlog = 128)
    {
        kernel_socket s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
        const int one = 1;
        ::setsockopt(s.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        const sockaddr_in sa = socket_address(a, port);
        REQUIRE(::bind(s.fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0);
        REQUIRE(::listen(s.fd_, backlog) == 0);
        return s;
    }
    kernel_socket accept() const
    {
        const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        return kernel_socket{fd};
    }
    /// True when every byte was written.
    bool write_all(std::span<const std::uint8_t> data) const
    {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data = data.subspan(static_cast<std::size_t>(n));
        }
        return true;
    }
    /// Reads until EOF (or an error: then `error` holds the errno).
    std::vector<std::uint8_t> read_to_end(int* error = nullptr) const
    {
        std::vector<std::uint8_t> out;
        std::uint8_t buf[65536];
        for (;;) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0) break;
            if (n < 0) {
                if (error != nullptr) *error = errno;
                break;
            }
            out.insert(out.end(), buf, buf + n);
        }
        return out;
    }
    /// Reads exactly n bytes; fewer if the stream ends or fails first.
    std::vector<std::uint8_t> read_exact(std::size_t n) const
    {
        std::vector<std::uint8_t> out(n);
        std::size_t got = 0;
        while (got < n) {
            const ssize_t r = ::recv(fd_, out.data() + got, n - got, 0);
            if (r <= 0) break;
            got += static_cast<std::size_t>(r);
        }
        out.resize(got);
        return out;
    }
    void shutdown_write() const { ::shutdown(fd_, SHUT_WR); }

private:
    void set_timeouts() const
    {
        if (fd_ < 0) return;
        const timeval tv{timeout_s, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    int fd_ = -1;
};

/// `n` pseudo-random bytes from `seed` (printed by the caller so a failure can be replayed).
inline std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed)
{
    std::vector<std::uint8_t> v(n);
    std::mt19937_64 rng{seed};
    for (std::size_t i = 0; i < n; i += 8) {
        const std::uint64_t r = rng();
        std::memcpy(v.data() + i, &r, std::min<std::size_t>(8, n - i));
    }
    return v;
}

/// Reads a tcpx stream to its end.
inline std::vector<std::uint8_t> read_to_end(tcpx::blocking::stream& s, std::error_code& ec)
{
    std::vector<std::uint8_t> out;
    std::uint8_t buf[65536];
    for (;;) {
        const std::size_t n = s.read(buf, ec);
        if (n == 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

/// The first index where a and b differ, for a failure message.
inline std::size_t first_difference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b)
{
    std::size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    return i;
}

}  // namespace interop
