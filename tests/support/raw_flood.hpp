// Floods through the kernel, for the tests and benchmarks that attack tcpx over TUN
// (tests/interop, benchmarks/flood_tun.cpp): a raw IPv4 socket that sends datagrams
// whole (IPPROTO_RAW implies IP_HDRINCL: the source is whatever the datagram says), and
// a thread that sends what a generator builds, as fast as the socket takes it, until
// stopped. Needs CAP_NET_RAW; run it only inside a network namespace of your own, where
// the only route to the target is the TUN interface.
#pragma once

#include <tcpx/wire/ipv4.hpp>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <span>
#include <thread>
#include <utility>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tcpx::test {

class raw_ipv4_socket {
public:
    raw_ipv4_socket() : fd_{::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)} {}
    raw_ipv4_socket(const raw_ipv4_socket&) = delete;
    raw_ipv4_socket& operator=(const raw_ipv4_socket&) = delete;
    ~raw_ipv4_socket()
    {
        if (fd_ >= 0) ::close(fd_);
    }
    bool ok() const { return fd_ >= 0; }

    /// Sends one whole datagram toward `to` (the route decides the interface). False
    /// when the kernel refused it (ENOBUFS: its queue toward the interface is full).
    bool send(std::span<const std::uint8_t> datagram, wire::ipv4_address to) const
    {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(to.value);
        return ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) ==
               static_cast<ssize_t>(datagram.size());
    }

private:
    int fd_ = -1;
};

/// Sends `build(buffer, n)`'s datagram for n = 0, 1, ... toward `to` from a thread of
/// its own until stop() (or the destructor), `per_second` of them a second (0: as fast
/// as the socket takes them); `build` returns the datagram's size.
class raw_flood {
public:
    template <class Build>
    raw_flood(wire::ipv4_address to, Build build, std::uint64_t per_second = 0)
    {
        thread_ = std::thread{[this, to, per_second, build = std::move(build)]() mutable {
            if (!socket_.ok()) return;
            std::uint8_t buffer[1500];
            const auto start = std::chrono::steady_clock::now();
            for (std::uint64_t n = 0; !stop_.load(std::memory_order_relaxed); ++n) {
                if (per_second != 0 && n % 64 == 0)  // paced in bursts of 64
                    std::this_thread::sleep_until(start + std::chrono::nanoseconds{n * 1'000'000'000 / per_second});
                const std::size_t size = build(std::span<std::uint8_t>{buffer}, n);
                if (size == 0) continue;
                if (socket_.send({buffer, size}, to)) sent_.fetch_add(1, std::memory_order_relaxed);
                else refused_.fetch_add(1, std::memory_order_relaxed);
            }
        }};
    }
    raw_flood(const raw_flood&) = delete;
    raw_flood& operator=(const raw_flood&) = delete;
    ~raw_flood() { stop(); }

    bool ok() const { return socket_.ok(); }
    void stop()
    {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::uint64_t sent() const { return sent_.load(); }
    std::uint64_t refused() const { return refused_.load(); }

private:
    raw_ipv4_socket socket_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> sent_{0}, refused_{0};
    std::thread thread_;
};

}  // namespace tcpx::test
