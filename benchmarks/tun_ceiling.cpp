// tcpx-tun-ceiling: how many packets a trivial program can move through a TUN
// interface — the system-call ceiling a userspace stack over TUN lives under.
//
//   tcpx-tun-ceiling [--mtu N] [--seconds S] [--offload] [--json]      (root; run it in a namespace)
//
// A kernel thread sends a stream of UDP datagrams of the largest size the MTU allows
// through the interface; the program reads every packet the kernel hands the TUN device
// (read until EAGAIN, then ppoll, as devices::tun does), swaps source and destination,
// and writes it back, where a kernel UDP socket takes it in. Per packet that is one
// read(2) and one write(2) and nothing else: no TCP, no checksum, no copy but the
// kernel's. Reported as packets per second and as the payload bit rate a TCP stream with
// that packet size would have (MTU - 40 bytes per packet), comparable with tcpx-perf tun.
#include <tcpx/device/tun.hpp>
#include <tcpx/wait.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    std::size_t mtu = 1500;
    double seconds = 2;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--mtu" && i + 1 < argc) mtu = std::strtoul(argv[++i], nullptr, 10);
        else if (a == "--seconds" && i + 1 < argc) seconds = std::strtod(argv[++i], nullptr);
        else if (a == "--json") json = true;
        else {
            std::fprintf(stderr, "usage: tcpx-tun-ceiling [--mtu N] [--seconds S] [--json]\n");
            return 2;
        }
    }
    std::error_code ec;
    // 10.0.0.2/24 is the kernel's; the datagrams go to 10.0.0.1, i.e. into the TUN.
    tcpx::devices::tun dev{{.name = "tcpxceil0", .mtu = mtu,
                            .host = tcpx::devices::interface_address{tcpx::wire::ipv4_address{10, 0, 0, 2}, 24},
                            .offload = false},
                           ec};
    if (ec) {
        std::fprintf(stderr, "tcpx-tun-ceiling: %s\n", ec.message().c_str());
        return 1;
    }
    // The sink: what comes back is addressed to 10.0.0.2:9999.
    const int sink = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sink_addr{};
    sink_addr.sin_family = AF_INET;
    sink_addr.sin_port = htons(9999);
    sink_addr.sin_addr.s_addr = htonl(0x0a000002);
    const int big = 8 << 20;
    ::setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (::bind(sink, reinterpret_cast<const sockaddr*>(&sink_addr), sizeof sink_addr) != 0) {
        std::perror("bind");
        return 1;
    }
    std::atomic<bool> stop{false};
    std::thread drain{[&] {
        std::vector<char> buf(65536);
        while (!stop.load(std::memory_order_relaxed))
            if (::recv(sink, buf.data(), buf.size(), MSG_DONTWAIT) < 0) std::this_thread::yield();
    }};
    // The source: from 10.0.0.2:9999 to 10.0.0.1:7, as fast as the kernel takes them.
    std::thread source{[&] {
        const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(7);
        to.sin_addr.s_addr = htonl(0x0a000001);
        std::vector<char> payload(mtu - 28, 'x');
        while (!stop.load(std::memory_order_relaxed))
            ::sendto(s, payload.data(), payload.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        ::close(s);
    }};

    std::uint64_t moved = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const auto end = t0 + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        dev.receive(tcpx::instant{}, [&](std::span<const std::uint8_t> p) {
            auto out = dev.transmit_buffer(p.size());
            if (out.size() < p.size() || p.size() < 28) return;
            std::memcpy(out.data(), p.data(), p.size());
            std::uint8_t addr[4];  // swap the IPv4 addresses (the header checksum stays valid)
            std::memcpy(addr, out.data() + 12, 4);
            std::memcpy(out.data() + 12, out.data() + 16, 4);
            std::memcpy(out.data() + 16, addr, 4);
            std::uint8_t port[2];  // and the UDP ports (the UDP checksum stays valid too)
            std::memcpy(port, out.data() + 20, 2);
            std::memcpy(out.data() + 20, out.data() + 22, 2);
            std::memcpy(out.data() + 22, port, 2);
            dev.transmit(p.size(), tcpx::instant{});
            ++moved;
        }, 256);
        tcpx::wait_until(tcpx::never, tcpx::instant{}, dev.native_handle());
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stop = true;
    source.join();
    drain.join();
    const double pps = static_cast<double>(moved) / elapsed;
    const double tcp_bps = pps * static_cast<double>(mtu - 40) * 8;
    if (json)
        std::printf("{\"mode\":\"tun_ceiling\",\"mtu\":%zu,\"packets_per_s\":%.0f,\"tcp_payload_bps\":%.0f,"
                    "\"read_calls\":%llu}\n",
                    mtu, pps, tcp_bps, static_cast<unsigned long long>(dev.counters().read_calls));
    else
        std::printf("tcpx-tun-ceiling: MTU %zu: %.0f packets/s read and written back: %.2f Gbit/s of TCP payload "
                    "at that size\n",
                    mtu, pps, tcp_bps / 1e9);
    return 0;
}
