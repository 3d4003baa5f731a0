// The flags every TUN example shares — which interface, which addresses, how the path
// is impaired — and opening the interface from them, with errors a user can act on.
//
//   --tun NAME         interface to create or attach (default tcpx0)
//   --addr A.B.C.D     the stack's own address (default 10.0.0.1)
//   --host A.B.C.D/N   the kernel's side, configured on the interface (default 10.0.0.2/24)
//   --addr6 ADDR --host6 ADDR/N
//                      the same for IPv6 (none by default): ping -6 then reaches the stack
//   --mtu N            interface MTU (default 1500)
//   --loss P --delay MS --reorder P --seed N
//                      tcpx's own seeded impairments, both directions (devices::impaired)
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <tcpx/device/impaired.hpp>
#include <tcpx/device/tun.hpp>
#include <tcpx/wakeup.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/ipv6.hpp>

namespace example {

inline constexpr const char* interface_usage =
    "  --tun NAME         TUN interface to create or attach (default tcpx0)\n"
    "  --addr A.B.C.D     the tcpx stack's own address (default 10.0.0.1)\n"
    "  --host A.B.C.D/N   the kernel's address on the interface, set by this program (default 10.0.0.2/24)\n"
    "  --addr6 ADDR       the stack's own IPv6 address, e.g. fd00::1 (with --host6; none by default;\n"
    "                     ping -6 is answered, TCP over IPv6 is not carried yet)\n"
    "  --host6 ADDR/N     the kernel's IPv6 address on the interface, e.g. fd00::2/64\n"
    "  --mtu N            interface MTU, 576..65535 (default 1500)\n"
    "  --loss P           drop a fraction P of packets, each direction (tcpx's impairment, not netem)\n"
    "  --delay MS         add MS milliseconds of one-way delay, each direction\n"
    "  --reorder P        hold back a fraction P of packets so later ones overtake them\n"
    "  --seed N           seed of the impairments (default 1)\n"
    "  --no-offload       plain packets only: no virtio-net headers, checksum or segmentation offload\n";

struct interface_options {
    std::string tun = "tcpx0";
    tcpx::wire::ipv4_address addr{10, 0, 0, 1};
    tcpx::devices::interface_address host{tcpx::wire::ipv4_address{10, 0, 0, 2}, 24};
    std::optional<tcpx::wire::ipv6_address> addr6;
    std::optional<tcpx::devices::interface_address6> host6;
    std::size_t mtu = 1500;
    double loss = 0;
    double delay_ms = 0;
    double reorder = 0;
    std::uint64_t seed = 1;
    bool offload = true;
};

[[noreturn]] inline void die(const char* program, const std::string& why, int status = 2)
{
    std::fprintf(stderr, "%s: %s\n", program, why.c_str());
    std::exit(status);
}

inline double number(const char* program, const char* text, double lo, double hi)
{
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= lo && v <= hi))
        die(program, std::string{"number out of range: "} + text);
    return v;
}

/// Takes `flag` if it is one of the interface flags (reading its value with `value()`);
/// false if it is not one of them.
template <class Value>
bool parse_interface_flag(const char* program, std::string_view flag, Value&& value, interface_options& o)
{
    if (flag == "--tun") o.tun = value();
    else if (flag == "--addr") {
        const auto a = tcpx::wire::ipv4_address::parse(value());
        if (!a) die(program, "--addr takes A.B.C.D");
        o.addr = *a;
    }
    else if (flag == "--host") {
        const auto h = tcpx::devices::interface_address::parse(value());
        if (!h) die(program, "--host takes A.B.C.D/PREFIX");
        o.host = *h;
    }
    else if (flag == "--addr6") {
        const auto a = tcpx::wire::ipv6_address::parse(value());
        if (!a) die(program, "--addr6 takes an IPv6 address (fd00::1)");
        o.addr6 = *a;
    }
    else if (flag == "--host6") {
        const auto h = tcpx::devices::interface_address6::parse(value());
        if (!h) die(program, "--host6 takes an IPv6 address and prefix (fd00::2/64)");
        o.host6 = *h;
    }
    else if (flag == "--mtu") o.mtu = static_cast<std::size_t>(number(program, value(), 576, 65535));
    else if (flag == "--loss") o.loss = number(program, value(), 0, 0.9);
    else if (flag == "--delay") o.delay_ms = number(program, value(), 0, 10000);
    else if (flag == "--reorder") o.reorder = number(program, value(), 0, 0.9);
    else if (flag == "--seed") o.seed = static_cast<std::uint64_t>(number(program, value(), 0, 1e18));
    else if (flag == "--no-offload") o.offload = false;
    else return false;
    return true;
}

/// The same impairment in both directions (none at all when every flag is 0).
inline tcpx::devices::impairment_config impairments(const interface_options& o)
{
    tcpx::devices::impairment path;
    path.loss = o.loss;
    path.reorder = o.reorder;
    path.delay = tcpx::duration{static_cast<std::int64_t>(o.delay_ms * 1000)};
    tcpx::devices::impairment_config c;
    c.transmit = path;
    c.receive = path;
    c.seed = o.seed;
    return c;
}

/// Opens the interface or exits with a message that says what to do.
inline tcpx::devices::tun open_interface(const char* program, const interface_options& o)
{
    // RFC 1122 §3.3.1: the stack's address must be on the host's network (the kernel
    // routes that network to the interface) and must not be the host's own.
    if (!o.host.contains(o.addr) || o.host.address == o.addr || o.host.prefix > 30)
        die(program, "--addr " + o.addr.to_string() + " must lie inside --host " + o.host.address.to_string() + "/" +
                         std::to_string(o.host.prefix) + " and differ from it (prefix at most /30)");
    if (o.addr6.has_value() != o.host6.has_value()) die(program, "--addr6 and --host6 go together");
    if (o.addr6 && (*o.addr6 == o.host6->address || o.addr6->is_multicast() || o.addr6->is_unspecified()))
        die(program, "--addr6 must be a unicast address other than --host6's");
    std::error_code ec;
    tcpx::devices::tun dev{{.name = o.tun, .mtu = o.mtu, .host = o.host, .host6 = o.host6, .offload = o.offload}, ec};
    if (ec) die(program, "cannot open TUN interface " + o.tun + ": " + ec.message(), 1);
    return dev;
}

/// Ctrl-C and SIGTERM set the flag and wake the thread sleeping on `w`.
struct stop_signal {
    static inline std::atomic<bool> requested{false};
    static inline const tcpx::wakeup* wake = nullptr;

    static void install(const tcpx::wakeup& w)
    {
        wake = &w;
        struct sigaction sa{};
        sa.sa_handler = [](int) {
            requested.store(true);
            if (wake != nullptr) wake->notify();
        };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, nullptr);
        sigaction(SIGTERM, &sa, nullptr);
    }
};

}  // namespace example
