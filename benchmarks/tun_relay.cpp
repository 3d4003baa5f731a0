// tcpx-tun-relay: two kernels joined by two TUN interfaces and this program, which moves
// every packet from one to the other through tcpx's own impairment (devices::impaired,
// the decorator `tcpx-perf tun --loss/--delay/--reorder` uses). So Linux can talk to
// Linux over exactly the impairment process tcpx meets, with no netem: the reference
// of benchmarks/lossy-path.
//
//   ip netns exec A tcpx-tun-relay --netns-b B [--host-a 10.7.0.1/24] [--host-b 10.7.0.2/24]
//                  [--loss P] [--delay MS] [--reorder P] [--seed N] [--mtu N] [--impair a|b]
//
// Interface relay-a is made in the namespace the program starts in, with the kernel
// address --host-a; then the program enters namespace B (/run/netns/B) and makes relay-b
// there with --host-b. Both addresses in one prefix: each kernel reaches the other as a
// neighbour on its TUN link, and no route is needed. Plain packets (no offloads), so each
// is impaired on its own. The impairment wraps relay-b (or relay-a, --impair a), each
// direction with --loss, --delay and --reorder, as tcpx-perf's does. Runs until SIGTERM.
#include <tcpx/clock/steady.hpp>
#include <tcpx/device/impaired.hpp>
#include <tcpx/device/tun.hpp>
#include <tcpx/wait.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

namespace {

std::atomic<bool> stop{false};

[[noreturn]] void die(const std::string& why)
{
    std::fprintf(stderr, "tcpx-tun-relay: %s\n", why.c_str());
    std::exit(2);
}

tcpx::devices::interface_address address(std::string_view text)
{
    const auto a = tcpx::devices::interface_address::parse(text);
    if (!a) die("not an address with a prefix: " + std::string{text});
    return *a;
}

/// Copies one packet into `to`'s transmit buffer and sends it (dropped, as a full
/// interface queue would, when there is no room).
template <class To>
void forward(To& to, std::span<const std::uint8_t> p, tcpx::instant now)
{
    const auto room = to.transmit_buffer(p.size());
    if (room.size() < p.size()) return;
    std::memcpy(room.data(), p.data(), p.size());
    to.transmit(p.size(), now);
}

}  // namespace

int main(int argc, char** argv)
{
    std::string netns_b, host_a = "10.7.0.1/24", host_b = "10.7.0.2/24";
    double loss = 0, reorder = 0, delay_ms = 0;
    std::uint64_t seed = 1;
    std::size_t mtu = 1500;
    bool impair_a = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&] {
            if (i + 1 >= argc) die("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--netns-b") netns_b = value();
        else if (a == "--host-a") host_a = value();
        else if (a == "--host-b") host_b = value();
        else if (a == "--loss") loss = std::strtod(value(), nullptr);
        else if (a == "--reorder") reorder = std::strtod(value(), nullptr);
        else if (a == "--delay") delay_ms = std::strtod(value(), nullptr);
        else if (a == "--seed") seed = std::strtoull(value(), nullptr, 10);
        else if (a == "--mtu") mtu = std::strtoul(value(), nullptr, 10);
        else if (a == "--impair") impair_a = std::string_view{value()} == "a";
        else die("usage: tcpx-tun-relay --netns-b NAME [--host-a A/N] [--host-b B/N] [--loss P] [--delay MS] "
                 "[--reorder P] [--seed N] [--mtu N] [--impair a|b]");
    }
    if (netns_b.empty()) die("--netns-b NAME is required (a namespace made by `ip netns add`)");

    std::error_code ec;
    tcpx::devices::tun a{{.name = "relay-a", .mtu = mtu, .host = address(host_a), .offload = false}, ec};
    if (ec) die("relay-a: " + ec.message());
    const int ns = ::open(("/run/netns/" + netns_b).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) die("cannot enter namespace " + netns_b + ": " + std::strerror(errno));
    ::close(ns);
    tcpx::devices::tun b{{.name = "relay-b", .mtu = mtu, .host = address(host_b), .offload = false}, ec};
    if (ec) die("relay-b: " + ec.message());

    tcpx::devices::impairment path;
    path.loss = loss;
    path.reorder = reorder;
    path.delay = tcpx::duration{static_cast<std::int64_t>(delay_ms * 1000)};
    tcpx::devices::impairment_config config;
    config.transmit = path;
    config.receive = path;
    config.seed = seed;
    // Which interface the decorator wraps decides which of its two seeded streams each
    // direction draws from (transmit: stream 0, receive: stream 1). --impair b: data from
    // A meets the transmit stream, as tcpx-perf's when tcpx sends; --impair a: the receive
    // stream, as tcpx-perf's when the kernel sends to tcpx. Packet i of a direction then
    // meets the same fate in the relay as in tcpx-perf's run with the same seed.
    tcpx::devices::impaired<tcpx::devices::tun&> impaired_a{config, a};
    tcpx::devices::impaired<tcpx::devices::tun&> impaired_b{config, b};

    struct sigaction sa{};
    sa.sa_handler = [](int) { stop.store(true); };
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::printf("{\"relay\":\"up\"}\n");
    std::fflush(stdout);

    const tcpx::clocks::steady clock;
    constexpr std::size_t batch = 64;
    while (!stop.load()) {
        const tcpx::instant now = clock.now();
        std::size_t from_a = 0, from_b = 0;
        if (impair_a) {
            from_a = impaired_a.receive(now, [&](std::span<const std::uint8_t> p) { forward(b, p, now); }, batch);
            from_b = b.receive(now, [&](std::span<const std::uint8_t> p) { forward(impaired_a, p, now); }, batch);
        } else {
            from_a = a.receive(now, [&](std::span<const std::uint8_t> p) { forward(impaired_b, p, now); }, batch);
            from_b = impaired_b.receive(now, [&](std::span<const std::uint8_t> p) { forward(a, p, now); }, batch);
        }
        if (from_a == batch || from_b == batch) continue;
        // Sleep until either interface has a packet or a held one falls due.
        pollfd fds[2] = {{a.native_handle(), POLLIN, 0}, {b.native_handle(), POLLIN, 0}};
        const tcpx::instant due = impair_a ? impaired_a.next_deadline() : impaired_b.next_deadline();
        int timeout_ms = 100;
        if (due != tcpx::never) {
            const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(due - clock.now()).count();
            timeout_ms = static_cast<int>(std::clamp<long long>((wait + 999) / 1000, 0, 100));
        }
        ::poll(fds, 2, timeout_ms);
    }
    return 0;
}
