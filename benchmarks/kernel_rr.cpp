// tcpx-kernel-rr: the kernel's TCP doing what `tcpx-bench rr` and `tcpx-bench crr` do,
// over 127.0.0.1, so benchmarks/run can set the two side by side.
//
//   tcpx-kernel-rr rr  --threads 1|2 --seconds S [--port P] [--json]
//   tcpx-kernel-rr crr --threads 1|2 --seconds S [--port P] [--json]
//
// rr:  one connection; 1-byte request, 1-byte response, repeated. TCP_NODELAY on both ends.
// crr: connect, 1-byte request, 1-byte response, the server closes first (it holds
//      TIME-WAIT), then the client closes — repeated, each on a new connection.
//      SO_REUSEADDR on the listener; TIME-WAIT as the kernel has it (net.ipv4.tcp_tw_reuse
//      is left alone and reported in the JSON).
//
// --threads 1: both ends driven by one thread in strict alternation, as tcpx-bench drives
// its two stacks: client send, server receive and send, client receive. The connect is
// non-blocking and accepted by the same thread. Every call is a system call; the loopback
// device delivers in the caller's context (softirq on the way out of the call).
// --threads 2: a client thread and a server thread, blocking sockets: what a program
// talking to itself over the kernel would usually do. Each wake-up is a scheduler round trip.
//
// JSON keys are those of tcpx-bench: transactions_per_s (rr), connections_per_s (crr).
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

struct options {
    std::string mode;
    int threads = 1;
    double seconds = 2;
    std::uint16_t port = 5101;
    bool json = false;
};

[[noreturn]] void usage(const char* why, int status = 2)
{
    std::fprintf(status == 0 ? stdout : stderr,
                 "tcpx-kernel-rr: %s\n"
                 "usage: tcpx-kernel-rr rr|crr --threads 1|2 --seconds S [--port P] [--json]\n",
                 why);
    std::exit(status);
}

[[noreturn]] void die(const char* what)
{
    std::fprintf(stderr, "tcpx-kernel-rr: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

options parse(int argc, char** argv)
{
    if (argc < 2) usage("which mode?");
    options o;
    o.mode = argv[1];
    if (o.mode == "--help" || o.mode == "-h") usage("the kernel's rr and crr", 0);
    if (o.mode != "rr" && o.mode != "crr") usage("unknown mode");
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&] {
            if (i + 1 >= argc) usage("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--threads") o.threads = std::atoi(value());
        else if (a == "--seconds") o.seconds = std::strtod(value(), nullptr);
        else if (a == "--port") o.port = static_cast<std::uint16_t>(std::atoi(value()));
        else if (a == "--json") o.json = true;
        else if (a == "--help" || a == "-h") usage("the kernel's rr and crr", 0);
        else usage("unknown flag");
    }
    if (o.threads != 1 && o.threads != 2) usage("--threads must be 1 or 2");
    if (!(o.seconds > 0)) usage("--seconds must be positive");
    return o;
}

double since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

sockaddr_in server_address(std::uint16_t port)
{
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

void set_nodelay(int fd)
{
    const int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) die("TCP_NODELAY");
}

void set_nonblocking(int fd, bool on)
{
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) != 0) die("fcntl");
}

int make_listener(std::uint16_t port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    const int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) die("SO_REUSEADDR");
    const sockaddr_in sa = server_address(port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) die("bind");
    if (::listen(fd, 128) != 0) die("listen");
    return fd;
}

/// A blocking connect to the server.
int connect_blocking(std::uint16_t port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    const sockaddr_in sa = server_address(port);
    while (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
        if (errno != EINTR) die("connect");
    return fd;
}

/// Exactly one byte; the socket may be blocking or not (then it waits with poll()).
void send_byte(int fd, std::uint8_t b)
{
    for (;;) {
        const ssize_t n = ::send(fd, &b, 1, MSG_NOSIGNAL);
        if (n == 1) return;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, -1);
            continue;
        }
        die("send");
    }
}

/// One byte, or 0 at the end of the stream.
int receive_byte(int fd, std::uint8_t& b)
{
    for (;;) {
        const ssize_t n = ::recv(fd, &b, 1, 0);
        if (n >= 0) return static_cast<int>(n);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            pollfd p{fd, POLLIN, 0};
            ::poll(&p, 1, -1);
            continue;
        }
        die("recv");
    }
}

void expect_byte(int fd, const char* what)
{
    std::uint8_t b = 0;
    if (receive_byte(fd, b) != 1) {
        std::fprintf(stderr, "tcpx-kernel-rr: %s: the connection ended\n", what);
        std::exit(1);
    }
}

// ---------------------------------------------------------------------------- one thread

/// rr, one thread: blocking sockets in strict alternation (a receive never waits on this
/// thread's own next step, so blocking cannot deadlock).
std::uint64_t rr_one_thread(const options& o, double& elapsed)
{
    const int l = make_listener(o.port);
    const int c = connect_blocking(o.port);
    const int s = ::accept(l, nullptr, nullptr);
    if (s < 0) die("accept");
    set_nodelay(c);
    set_nodelay(s);
    std::uint64_t transactions = 0;
    const auto t0 = std::chrono::steady_clock::now();
    elapsed = 0;
    while (elapsed < o.seconds) {
        for (int batch = 0; batch < 256; ++batch) {
            send_byte(c, 'q');
            expect_byte(s, "rr: request");
            send_byte(s, 'r');
            expect_byte(c, "rr: response");
            ++transactions;
        }
        elapsed = since(t0);
    }
    ::close(c);
    ::close(s);
    ::close(l);
    return transactions;
}

/// crr, one thread: a non-blocking connect accepted by the same thread, then the
/// exchange and the closes in tcpx-bench crr's order.
std::uint64_t crr_one_thread(const options& o, double& elapsed)
{
    const int l = make_listener(o.port);
    set_nonblocking(l, true);
    const sockaddr_in sa = server_address(o.port);
    std::uint64_t connections = 0;
    const auto t0 = std::chrono::steady_clock::now();
    elapsed = 0;
    while (elapsed < o.seconds) {
        for (int batch = 0; batch < 64; ++batch) {
            const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (c < 0) die("socket");
            set_nodelay(c);
            if (::connect(c, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS)
                die("connect");
            int s = -1;
            while ((s = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK)) < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) die("accept");
                pollfd p{l, POLLIN, 0};
                ::poll(&p, 1, -1);
            }
            set_nodelay(s);
            {  // the client's end is established (SYN-ACK seen) once it is writable
                pollfd p{c, POLLOUT, 0};
                while (::poll(&p, 1, -1) < 0)
                    if (errno != EINTR) die("poll");
                int err = 0;
                socklen_t len = sizeof err;
                ::getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                    errno = err;
                    die("crr: connect");
                }
            }
            send_byte(c, 'q');
            expect_byte(s, "crr: request");
            send_byte(s, 'r');
            ::close(s);  // the server closes first: it holds TIME-WAIT
            expect_byte(c, "crr: response");
            ::close(c);  // the client's FIN (LAST-ACK); the server's ACK releases it
            ++connections;
        }
        elapsed = since(t0);
    }
    ::close(l);
    return connections;
}

// ---------------------------------------------------------------------------- two threads

std::uint64_t rr_two_threads(const options& o, double& elapsed)
{
    const int l = make_listener(o.port);
    std::thread server{[&] {
        const int s = ::accept(l, nullptr, nullptr);
        if (s < 0) die("accept");
        set_nodelay(s);
        std::uint8_t b = 0;
        while (receive_byte(s, b) == 1) send_byte(s, b);
        ::close(s);
    }};
    const int c = connect_blocking(o.port);
    set_nodelay(c);
    std::uint64_t transactions = 0;
    const auto t0 = std::chrono::steady_clock::now();
    elapsed = 0;
    while (elapsed < o.seconds) {
        for (int batch = 0; batch < 256; ++batch) {
            send_byte(c, 'q');
            expect_byte(c, "rr: response");
            ++transactions;
        }
        elapsed = since(t0);
    }
    ::close(c);  // the server sees the end of the stream and stops
    server.join();
    ::close(l);
    return transactions;
}

std::uint64_t crr_two_threads(const options& o, double& elapsed)
{
    const int l = make_listener(o.port);
    std::atomic<bool> stop{false};
    std::thread server{[&] {
        for (;;) {
            const int s = ::accept(l, nullptr, nullptr);
            if (s < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                die("accept");
            }
            set_nodelay(s);
            std::uint8_t b = 0;
            if (receive_byte(s, b) == 1) send_byte(s, b);
            ::close(s);  // the server closes first: it holds TIME-WAIT
            if (stop.load(std::memory_order_acquire)) return;
        }
    }};
    std::uint64_t connections = 0;
    const auto t0 = std::chrono::steady_clock::now();
    elapsed = 0;
    while (elapsed < o.seconds) {
        for (int batch = 0; batch < 64; ++batch) {
            const int c = connect_blocking(o.port);
            set_nodelay(c);
            send_byte(c, 'q');
            expect_byte(c, "crr: response");
            ::close(c);
            ++connections;
        }
        elapsed = since(t0);
    }
    // One last connection with no request tells the server to stop.
    stop.store(true, std::memory_order_release);
    ::close(connect_blocking(o.port));
    server.join();
    ::close(l);
    return connections;
}

/// net.ipv4.tcp_tw_reuse of this network namespace (-1 if unreadable).
int tw_reuse()
{
    std::ifstream f{"/proc/sys/net/ipv4/tcp_tw_reuse"};
    int v = -1;
    f >> v;
    return v;
}

}  // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    double elapsed = 0;
    const bool rr = o.mode == "rr";
    const std::uint64_t n = rr ? (o.threads == 1 ? rr_one_thread(o, elapsed) : rr_two_threads(o, elapsed))
                               : (o.threads == 1 ? crr_one_thread(o, elapsed) : crr_two_threads(o, elapsed));
    const double rate = static_cast<double>(n) / elapsed;
    if (o.json) {
        if (rr)
            std::printf("{\"stack\":\"kernel\",\"mode\":\"rr\",\"threads\":%d,\"transactions_per_s\":%.0f,"
                        "\"transactions\":%llu,\"seconds\":%.6f}\n",
                        o.threads, rate, static_cast<unsigned long long>(n), elapsed);
        else
            std::printf("{\"stack\":\"kernel\",\"mode\":\"crr\",\"threads\":%d,\"connections_per_s\":%.0f,"
                        "\"connections\":%llu,\"seconds\":%.6f,\"tcp_tw_reuse\":%d}\n",
                        o.threads, rate, static_cast<unsigned long long>(n), elapsed, tw_reuse());
    } else {
        std::printf("tcpx-kernel-rr %s, %d thread%s: %llu %s in %.3f s: %.0f per second (%.2f us each)\n",
                    o.mode.c_str(), o.threads, o.threads == 1 ? "" : "s", static_cast<unsigned long long>(n),
                    rr ? "transactions" : "connections", elapsed, rate, 1e6 / rate);
    }
    return 0;
}
