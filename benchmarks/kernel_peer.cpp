// tcpx-kernel-peer: the kernel's TCP doing exactly what `tcpx-perf tun` does, so the
// two can face each other over TUN, and the kernel can face itself over a veth pair as
// the reference measured in the same run (benchmarks/tun-vs-kernel).
//
//   tcpx-kernel-peer --listen A.B.C.D:PORT --mode discard|source [--bytes N] [--count N]
//   tcpx-kernel-peer --connect A.B.C.D:PORT --mode send|receive [--bytes N]
//   ... [--cc NAME]: the socket's congestion control (TCP_CONGESTION), e.g. cubic; the
//   default is the namespace's net.ipv4.tcp_congestion_control (often bbr).
//
// Byte i of every stream is i % 251 (checked with --verify). One JSON object per
// connection on stdout, with the keys of tcpx-perf --json: throughput_bps, bytes, seconds.
// Plain POSIX sockets, blocking, default buffer sizes: the kernel as a user gets it.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../examples/common/size.hpp"

namespace {

[[noreturn]] void die(const std::string& why)
{
    std::fprintf(stderr, "tcpx-kernel-peer: %s\n", why.c_str());
    std::exit(1);
}

sockaddr_in endpoint(std::string_view text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) die("expected A.B.C.D:PORT");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(std::string{text.substr(colon + 1)}.c_str())));
    if (inet_pton(AF_INET, std::string{text.substr(0, colon)}.c_str(), &sa.sin_addr) != 1) die("bad address");
    return sa;
}

std::uint64_t parse_size(const char* text)
{
    const auto n = example::parse_size(text);
    if (!n) die("bad number");
    return *n;
}

struct pattern {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(251 * 1045);  // ~256 KiB
    pattern()
    {
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i % 251);
    }
};

struct result {
    std::uint64_t bytes = 0;
    double seconds = 0;
    bool verified = true;
};

result send_stream(int fd, std::uint64_t total, const pattern& p)
{
    result r;
    const auto t0 = std::chrono::steady_clock::now();
    while (r.bytes < total) {
        const std::size_t off = static_cast<std::size_t>(r.bytes % 251);
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(total - r.bytes, p.bytes.size() - 251));
        const ssize_t put = ::send(fd, p.bytes.data() + off, n, MSG_NOSIGNAL);
        if (put <= 0) die(std::string{"send: "} + std::strerror(errno));
        r.bytes += static_cast<std::uint64_t>(put);
    }
    ::shutdown(fd, SHUT_WR);
    char c;
    while (::recv(fd, &c, 1, 0) > 0) {}  // the peer's close: everything arrived
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

result receive_stream(int fd, bool verify, const pattern& p)
{
    result r;
    std::vector<std::uint8_t> buf(std::size_t{256} << 10);
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0) die(std::string{"recv: "} + std::strerror(errno));
        if (n == 0) break;
        if (verify && r.verified) {
            for (ssize_t i = 0; i < n; ++i)
                if (buf[static_cast<std::size_t>(i)] != p.bytes[(r.bytes + static_cast<std::uint64_t>(i)) % 251]) {
                    std::fprintf(stderr, "tcpx-kernel-peer: wrong byte at stream offset %llu\n",
                                 static_cast<unsigned long long>(r.bytes + static_cast<std::uint64_t>(i)));
                    r.verified = false;
                    break;
                }
        }
        r.bytes += static_cast<std::uint64_t>(n);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

void report(std::string_view role, const result& r)
{
    std::printf("{\"mode\":\"kernel\",\"role\":\"%.*s\",\"throughput_bps\":%.0f,\"bytes\":%llu,\"seconds\":%.6f,"
                "\"verified\":%s}\n",
                static_cast<int>(role.size()), role.data(), r.seconds > 0 ? static_cast<double>(r.bytes) * 8 / r.seconds : 0,
                static_cast<unsigned long long>(r.bytes), r.seconds, r.verified ? "true" : "false");
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv)
{
    std::string listen_at, connect_to, mode;
    std::uint64_t bytes = 256ull << 20, count = 1;
    bool verify = false;
    std::string cc;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&] {
            if (i + 1 >= argc) die("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--listen") listen_at = value();
        else if (a == "--connect") connect_to = value();
        else if (a == "--mode") mode = value();
        else if (a == "--bytes") bytes = parse_size(value());
        else if (a == "--count") count = std::strtoull(value(), nullptr, 10);
        else if (a == "--verify") verify = true;
        else if (a == "--cc") cc = value();
        else die("usage: tcpx-kernel-peer (--listen A:P --mode discard|source | --connect A:P --mode send|receive) "
                 "[--bytes N] [--count N] [--verify] [--cc NAME]");
    }
    // Accepted sockets inherit the listener's choice.
    const auto choose_cc = [&](int fd) {
        if (!cc.empty() && ::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc.data(), static_cast<socklen_t>(cc.size())) != 0)
            die("TCP_CONGESTION " + cc + ": " + std::strerror(errno));
    };
    const pattern p;
    const bool sends = mode == "source" || mode == "send";
    if (!listen_at.empty()) {
        const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        choose_cc(l);
        const sockaddr_in sa = endpoint(listen_at);
        if (::bind(l, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 || ::listen(l, 128) != 0)
            die(std::string{"listen: "} + std::strerror(errno));
        std::printf("{\"listening\":true}\n");
        std::fflush(stdout);
        for (std::uint64_t served = 0; count == 0 || served < count; ++served) {
            const int c = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) die(std::string{"accept: "} + std::strerror(errno));
            report(mode, sends ? send_stream(c, bytes, p) : receive_stream(c, verify, p));
            ::close(c);
        }
        ::close(l);
    } else if (!connect_to.empty()) {
        const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        choose_cc(c);
        const sockaddr_in sa = endpoint(connect_to);
        if (::connect(c, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
            die(std::string{"connect: "} + std::strerror(errno));
        report(mode, sends ? send_stream(c, bytes, p) : receive_stream(c, verify, p));
        ::close(c);
    } else {
        die("give --listen or --connect");
    }
    return 0;
}
