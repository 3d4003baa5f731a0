// tcpx-echo: an echo server (RFC 862) on a TUN interface, one thread per connection,
// written on the blocking facade (tcpx/blocking.hpp). With it running:
//
//   sudo tcpx-echo --tun tcpx0 --addr 10.0.0.1 --host 10.0.0.2/24 --port 7
//   nc 10.0.0.1 7        # what you type comes back
//   ping 10.0.0.1        # tcpx answers (RFC 1122 §3.2.2.6)
//
// Ctrl-C or SIGTERM closes the listener, lets the connections finish, and exits.
#include <tcpx/blocking.hpp>
#include <tcpx/device/impaired.hpp>
#include <tcpx/device/tun.hpp>

#include <cstdio>
#include <list>
#include <string>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "common/interface.hpp"

namespace {

[[noreturn]] void usage(const char* why, int status = 2)
{
    std::fprintf(status == 0 ? stdout : stderr,
                 "tcpx-echo: %s\n"
                 "usage: tcpx-echo [--port N] [--tun NAME] [--addr A.B.C.D] [--host A.B.C.D/N] [--mtu N]\n"
                 "                 [--loss P] [--delay MS] [--reorder P] [--seed N]\n"
                 "  --port N           port to echo on (default 7, RFC 862)\n"
                 "%s"
                 "Needs root or CAP_NET_ADMIN (it creates and configures the interface).\n",
                 why, example::interface_usage);
    std::exit(status);
}

}  // namespace

int main(int argc, char** argv)
{
    example::interface_options net;
    std::uint16_t port = 7;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") usage("an echo server on a TUN interface", 0);
        else if (example::parse_interface_flag("tcpx-echo", a, value, net)) {}
        else if (a == "--port") port = static_cast<std::uint16_t>(example::number("tcpx-echo", value(), 1, 65535));
        else usage("unknown flag");
    }

    // Signals are taken by a thread of our own (sigwait), so no other thread is ever
    // interrupted: block them here, before any thread starts, and every thread inherits it.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    tcpx::devices::tun tun = example::open_interface("tcpx-echo", net);
    using device = tcpx::devices::impaired<tcpx::devices::tun&>;
    device dev{example::impairments(net), tun};
    tcpx::config cfg;
    cfg.address = net.addr;
    cfg.address6 = net.addr6;
    cfg.prefix_length = net.host.prefix;  // its directed broadcast is no source (RFC 1122 §3.2.1.3)
    tcpx::blocking::runtime<device&> rt{dev, cfg};

    std::error_code ec;
    tcpx::blocking::listener l = rt.listen(port, 128, ec);
    if (ec) example::die("tcpx-echo", "listen: " + ec.message(), 1);
    std::printf("tcpx-echo: listening on %s:%u (interface %s; the kernel side is %s/%u)\n"
                "  try:  nc %s %u     ping %s\n",
                net.addr.to_string().c_str(), port, tun.name().c_str(), net.host.address.to_string().c_str(),
                net.host.prefix, net.addr.to_string().c_str(), port, net.addr.to_string().c_str());
    std::fflush(stdout);

    std::thread stopper{[&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        std::printf("tcpx-echo: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
        l.close();  // wakes the accept below
    }};

    // The server: one thread per connection, each echoing until its peer closes.
    std::list<std::jthread> workers;
    while (auto s = l.accept(ec)) {
        workers.emplace_back([s = std::move(s)]() mutable {
            std::uint8_t buf[16384];
            std::error_code e;
            while (std::size_t n = s.read(buf, e))
                if (s.write({buf, n}, e) != n) return;
            s.close();
        });
    }
    // Connections still open are reset when the runtime stops: a server that was told
    // to stop does not wait for clients that may never close.
    if (ec != tcpx::errc::bad_handle) std::fprintf(stderr, "tcpx-echo: accept: %s\n", ec.message().c_str());
    rt.stop();
    workers.clear();  // joins: every blocked call returned errc::stack_stopped
    if (ec != tcpx::errc::bad_handle) ::kill(::getpid(), SIGTERM);  // accept failed on its own: end sigwait
    stopper.join();
    return 0;
}
