// tcpx-perf tun: one tcpx stack on a TUN interface, measured against the kernel's TCP
// on the other side. The stack runs on the real clock in one thread and sleeps on the
// interface until a packet or its next deadline (tcpx::wait_for_work).
//
// Roles (RFC 863 discard, a source, RFC 862 echo; or the same as a client):
//   --listen PORT --mode discard|source|echo      serve every connection that arrives
//   --connect A.B.C.D:PORT --mode send|receive    one connection to a kernel server
// Byte i of every stream is i % 251, so either end can check every byte (--verify).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tcpx/device/tun.hpp>
#include <tcpx/stack.hpp>
#include <tcpx/trace.hpp>
#include <tcpx/trace_writer.hpp>
#include <tcpx/wait.hpp>
#include <tcpx/wakeup.hpp>

#include "../common/interface.hpp"
#include "options.hpp"

namespace perf {

enum class tun_app { discard, source, echo, send, receive };

struct tun_options {
    example::interface_options net;
    congestion cc = congestion::reno;
    std::optional<std::uint16_t> listen_port;
    tcpx::wire::ipv4_address connect_addr;
    std::uint16_t connect_port = 0;
    tun_app app = tun_app::discard;
    std::uint64_t bytes = 64ull << 20;
    std::uint64_t count = 0;  ///< connections to serve before exiting; 0: until Ctrl-C
    bool verify = false;
    bool json = false;
    std::uint32_t initial_window = 0;  ///< segments; 0: config's default (RFC 6928's 10)
    bool hystart = true;
    std::string trace_csv;  ///< the connection's cwnd/ssthresh changes as CSV (--connect only)
};

[[noreturn]] inline void tun_usage(const char* why, int status = 2)
{
    std::fprintf(status == 0 ? stdout : stderr,
                 "tcpx-perf: %s\n"
                 "usage: tcpx-perf tun (--listen PORT --mode discard|source|echo | --connect A.B.C.D:PORT --mode send|receive)\n"
                 "                     [--bytes N] [--count N] [--verify] [--json] [--cc reno|newreno|cubic] [--iw N] [--no-hystart]\n"
                 "                     [--tun NAME] [--addr A.B.C.D] [--host A.B.C.D/N] [--mtu N]\n"
                 "                     [--loss P] [--delay MS] [--reorder P] [--seed N] [--trace FILE.csv]\n"
                 "  --listen PORT   serve connections from the kernel side:\n"
                 "                  discard: read to EOF, then close (RFC 863); source: send --bytes, then close;\n"
                 "                  echo: send back what arrives (RFC 862)\n"
                 "  --connect A:P   connect to a kernel server; send: send --bytes, then close; receive: read to EOF\n"
                 "  --bytes N       bytes to send per connection (default 64 MiB; suffixes k, M, G)\n"
                 "  --count N       exit after serving N connections (default: run until Ctrl-C)\n"
                 "  --no-hystart    slow start without HyStart++ (RFC 9406)\n"
                 "  --iw N          initial window in segments (default 10, RFC 6928's, as Linux)\n"
                 "  --verify        check that byte i of what arrives is i %% 251; fail on the first wrong byte\n"
                 "  --json          one JSON object per connection instead of a summary line\n"
                 "  --trace FILE    with --connect: every change of cwnd and ssthresh as CSV (time_s,cwnd,ssthresh,cause)\n"
                 "%s"
                 "Needs root or CAP_NET_ADMIN (it creates and configures the interface).\n",
                 why, example::interface_usage);
    std::exit(status);
}

inline tun_options parse_tun(int argc, char** argv)
{
    tun_options o;
    std::string_view mode;
    bool connect = false;
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&]() -> const char* {
            if (i + 1 >= argc) tun_usage("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") tun_usage("measures tcpx against the kernel over TUN", 0);
        else if (example::parse_interface_flag("tcpx-perf", a, value, o.net)) {}
        else if (a == "--listen") o.listen_port = static_cast<std::uint16_t>(example::number("tcpx-perf", value(), 1, 65535));
        else if (a == "--connect") {
            const std::string_view v = value();
            const auto colon = v.rfind(':');
            const auto addr = tcpx::wire::ipv4_address::parse(v.substr(0, colon));
            if (colon == std::string_view::npos || !addr) tun_usage("--connect takes A.B.C.D:PORT");
            o.connect_addr = *addr;
            o.connect_port = static_cast<std::uint16_t>(
                example::number("tcpx-perf", std::string{v.substr(colon + 1)}.c_str(), 1, 65535));
            connect = true;
        }
        else if (a == "--mode") mode = value();
        else if (a == "--bytes") o.bytes = parse_size(value());
        else if (a == "--count") o.count = static_cast<std::uint64_t>(example::number("tcpx-perf", value(), 0, 1e12));
        else if (a == "--verify") o.verify = true;
        else if (a == "--json") o.json = true;
        else if (a == "--no-hystart") o.hystart = false;
        else if (a == "--trace") o.trace_csv = value();
        else if (a == "--iw") o.initial_window = static_cast<std::uint32_t>(example::number("tcpx-perf", value(), 1, 1000));
        else if (a == "--cc") {
            const std::string_view v = value();
            if (v == "reno") o.cc = congestion::reno;
            else if (v == "newreno") o.cc = congestion::newreno;
            else if (v == "cubic") o.cc = congestion::cubic;
            else tun_usage("--cc takes reno, newreno or cubic");
        }
        else tun_usage("unknown flag");
    }
    if (connect == o.listen_port.has_value()) tun_usage("give exactly one of --listen and --connect");
    if (o.listen_port) {
        if (mode == "discard" || mode.empty()) o.app = tun_app::discard;
        else if (mode == "source") o.app = tun_app::source;
        else if (mode == "echo") o.app = tun_app::echo;
        else tun_usage("--listen takes --mode discard, source or echo");
    } else {
        if (mode == "send" || mode.empty()) o.app = tun_app::send;
        else if (mode == "receive") o.app = tun_app::receive;
        else tun_usage("--connect takes --mode send or receive");
        o.count = 1;
    }
    return o;
}

constexpr std::string_view to_string(tun_app a) noexcept
{
    switch (a) {
    case tun_app::discard: return "discard";
    case tun_app::source: return "source";
    case tun_app::echo: return "echo";
    case tun_app::send: return "send";
    case tun_app::receive: return "receive";
    }
    return "?";
}

/// The stream pattern, long enough that any offset mod 251 starts a 64 KiB slice of it.
class pattern {
public:
    pattern() : bytes_(251 * 263)
    {
        for (std::size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<std::uint8_t>(i % 251);
    }
    /// The bytes of the stream from `offset`, at most `n` of them (and at most 64 KiB).
    std::span<const std::uint8_t> at(std::uint64_t offset, std::uint64_t n) const noexcept
    {
        const std::size_t start = static_cast<std::size_t>(offset % 251);
        return std::span<const std::uint8_t>{bytes_}.subspan(start, static_cast<std::size_t>(
                                                                 std::min<std::uint64_t>(n, bytes_.size() - 251)));
    }
    /// True if `got` is the stream from `offset`; else the index of the first wrong byte in `bad`.
    bool check(std::uint64_t offset, std::span<const std::uint8_t> got, std::size_t& bad) const noexcept
    {
        for (std::size_t done = 0; done < got.size();) {
            const auto want = at(offset + done, got.size() - done);
            if (std::memcmp(want.data(), got.data() + done, want.size()) != 0) {
                for (bad = done; want[bad - done] == got[bad]; ++bad) {}
                return false;
            }
            done += want.size();
        }
        return true;
    }

private:
    std::vector<std::uint8_t> bytes_;
};

struct tun_flow {
    tcpx::socket s{};
    tun_app app{};
    std::uint64_t sent = 0;      ///< queued into the stack
    std::uint64_t received = 0;  ///< read by us
    tcpx::instant start{}, end{};
    std::vector<std::uint8_t> echo;  ///< echo: read but not yet queued back
    std::size_t echo_done = 0;
    bool shut = false;
    bool finished = false;
    bool verified = true;
    std::error_code error;
};

/// Runs the roles over `dev` (the TUN device itself, or a decorator around it);
/// returns the process's exit status.
template <class CC, class Device>
int run_tun_on(const tun_options& o, tcpx::devices::tun& tun_dev, Device& dev)
{
    using namespace tcpx;
    using perf_device = Device;
    config cfg;
    cfg.address = o.net.addr;
    cfg.address6 = o.net.addr6;
    cfg.prefix_length = o.net.host.prefix;  // its directed broadcast is no source (RFC 1122 §3.2.1.3)
    cfg.send_buffer = cfg.receive_buffer = std::size_t{4} << 20;  // a window for 10 Gbit/s at 3 ms
    if (o.initial_window != 0) cfg.initial_window_segments = o.initial_window;
    cfg.hystart = o.hystart;
    stack<perf_device&, clocks::steady, CC> st{dev, {}, cfg};

    wakeup wake;
    example::stop_signal::install(wake);
    const pattern pat;
    std::vector<tun_flow> flows;
    std::uint64_t served = 0;
    int status = 0;

    std::error_code ec;
    std::optional<tcpx::cc_trace> trace;
    const tcpx::instant trace_origin = st.clock().now();
    if (!o.trace_csv.empty()) trace.emplace(std::size_t{1} << 18);
    tcpx::listener lst{};
    if (o.listen_port) {
        lst = st.listen(*o.listen_port, 128, ec);
        if (ec) example::die("tcpx-perf", "listen: " + ec.message(), 1);
        if (!o.json)
            std::printf("tcpx-perf tun: %s on %s:%u (interface %s, host side %s/%u, MTU %zu)\n",
                        std::string{to_string(o.app)}.c_str(), o.net.addr.to_string().c_str(), *o.listen_port,
                        tun_dev.name().c_str(), o.net.host.address.to_string().c_str(), o.net.host.prefix,
                        tun_dev.mtu());
    } else {
        tun_flow f;
        f.s = st.connect(o.connect_addr, o.connect_port, ec);
        if (ec) example::die("tcpx-perf", "connect: " + ec.message(), 1);
        f.app = o.app;
        f.start = st.clock().now();
        if (trace && st.set_trace(f.s, &*trace)) example::die("tcpx-perf", "--trace: the connection has gone", 1);
        flows.push_back(std::move(f));
    }
    std::fflush(stdout);

    const auto report = [&](tun_flow& f) {
        const auto info = st.info(f.s);
        const double seconds = std::chrono::duration<double>(f.end - f.start).count();
        // Data acknowledged by the peer (the FIN, counted in bytes_acked, taken off).
        const std::uint64_t acked = std::min<std::uint64_t>(info.bytes_acked, f.sent);
        // What was delivered: what the peer acknowledged of ours, or what we read.
        const std::uint64_t bytes = std::max(acked, f.received);
        const double bps = seconds > 0 ? static_cast<double>(bytes) * 8 / seconds : 0;
        const bool ok = !f.error && f.verified;
        if (!ok) status = 1;
        if (o.json)
            std::printf("{\"mode\":\"tun\",\"role\":\"%s\",\"mtu\":%zu,\"throughput_bps\":%.0f,\"bytes\":%llu,"
                        "\"bytes_sent\":%llu,\"bytes_acked\":%llu,\"bytes_received\":%llu,\"seconds\":%.6f,\"segments\":%llu,\"segments_received\":%llu,"
                        "\"retransmits\":%llu,\"fast_retransmits\":%llu,\"timeouts\":%llu,\"sack_recoveries\":%llu,"
                        "\"rack_marked_lost\":%llu,\"loss_probes\":%llu,\"loss_probe_recoveries\":%llu,\"lost_retransmits\":%llu,"
                        "\"dsacks_received\":%llu,\"reductions_undone\":%llu,\"timestamp_undos\":%llu,\"srtt_us\":%lld,\"verified\":%s,"
                        "\"error\":\"%s\"}\n",
                        std::string{to_string(f.app)}.c_str(), tun_dev.mtu(), bps,
                        static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(f.sent),
                        static_cast<unsigned long long>(acked), static_cast<unsigned long long>(f.received), seconds,
                        static_cast<unsigned long long>(info.segments_sent),
                        static_cast<unsigned long long>(info.segments_received),
                        static_cast<unsigned long long>(info.retransmitted_segments),
                        static_cast<unsigned long long>(info.fast_retransmits),
                        static_cast<unsigned long long>(info.timeouts),
                        static_cast<unsigned long long>(info.sack_recoveries),
                        static_cast<unsigned long long>(info.rack_marked_lost),
                        static_cast<unsigned long long>(info.loss_probes),
                        static_cast<unsigned long long>(info.loss_probe_recoveries),
                        static_cast<unsigned long long>(info.lost_retransmits),
                        static_cast<unsigned long long>(info.dsacks_received),
                        static_cast<unsigned long long>(info.reductions_undone),
                        static_cast<unsigned long long>(info.timestamp_undos),
                        static_cast<long long>(info.srtt.count()), f.verified ? "true" : "false",
                        f.error ? f.error.message().c_str() : "");
        else
            std::printf("  %-8s %llu bytes sent (%llu acknowledged), %llu received in %.3f s: %.1f Mbit/s, "
                        "%llu retransmitted%s%s%s\n",
                        std::string{to_string(f.app)}.c_str(), static_cast<unsigned long long>(f.sent),
                        static_cast<unsigned long long>(acked),
                        static_cast<unsigned long long>(f.received), seconds, bps / 1e6,
                        static_cast<unsigned long long>(info.retransmitted_segments),
                        o.verify ? (f.verified ? ", verified" : ", WRONG BYTES") : "", f.error ? ", error: " : "",
                        f.error ? f.error.message().c_str() : "");
        std::fflush(stdout);
    };

    // One pass over a flow: move what can move now, without blocking.
    std::vector<std::uint8_t> buffer(std::size_t{256} << 10);
    const auto step = [&](tun_flow& f) {
        std::error_code e;
        const bool reads = f.app == tun_app::discard || f.app == tun_app::receive || f.app == tun_app::echo;
        const bool writes = f.app == tun_app::source || f.app == tun_app::send;
        if (f.app == tun_app::echo) {
            for (;;) {
                while (f.echo_done < f.echo.size()) {
                    const std::size_t n = st.send(f.s, std::span{f.echo}.subspan(f.echo_done), e);
                    if (n == 0) break;
                    f.echo_done += n;
                    f.sent += n;
                }
                if (f.echo_done < f.echo.size() || f.shut) break;
                f.echo.resize(buffer.size());
                const std::size_t n = st.receive(f.s, f.echo, e);
                f.echo.resize(n);
                f.echo_done = 0;
                if (n == 0) {
                    if (e == errc::end_of_stream) {
                        st.shutdown(f.s);
                        f.shut = true;
                    } else if (e != errc::would_block) f.error = e;
                    break;
                }
                if (o.verify && f.verified) {
                    std::size_t bad = 0;
                    if (!pat.check(f.received, f.echo, bad)) {
                        std::fprintf(stderr, "tcpx-perf: wrong byte at stream offset %llu\n",
                                     static_cast<unsigned long long>(f.received + bad));
                        f.verified = false;
                    }
                }
                f.received += n;
            }
        } else if (reads) {
            // Discard and receive read in place (stack::receive_in_place): the bytes are
            // looked at (with --verify) where the stack holds them, never copied out.
            for (;;) {
                const std::size_t n = st.receive_in_place(f.s, [&](std::span<const std::uint8_t> run) {
                    if (o.verify && f.verified) {
                        std::size_t bad = 0;
                        if (!pat.check(f.received, run, bad)) {
                            std::fprintf(stderr, "tcpx-perf: wrong byte at stream offset %llu\n",
                                         static_cast<unsigned long long>(f.received + bad));
                            f.verified = false;
                        }
                    }
                    f.received += run.size();
                    return run.size();
                }, e);
                if (n == 0) {
                    if (e == errc::end_of_stream) f.shut = true;
                    else if (e != errc::would_block) f.error = e;
                    break;
                }
            }
            // The end of the peer's stream ends the measurement; the flow is done when
            // our FIN, sent now, is acknowledged too (below): leaving before that, on a
            // lossy path, would leave the peer waiting for a FIN no one resends.
            if (f.shut && f.end == tcpx::instant{}) {
                f.end = st.clock().now();
                st.shutdown(f.s);
            }
        } else if (writes) {
            while (f.sent < o.bytes) {
                const std::size_t n = st.send(f.s, pat.at(f.sent, o.bytes - f.sent), e);
                if (n == 0) {
                    if (e != errc::would_block) f.error = e;
                    break;
                }
                f.sent += n;
            }
            if (f.sent >= o.bytes && !f.shut) {
                st.shutdown(f.s);
                f.shut = true;
            }
        }
        // Done sending when our FIN is acknowledged (FIN-WAIT-2, TIME-WAIT) or the
        // connection ended; a closed or reset connection ends a flow whatever its role.
        const tcp::state s = st.state(f.s);
        const bool fin_acked = s == tcp::state::fin_wait_2 || s == tcp::state::time_wait;
        if (reads && f.app != tun_app::echo && !f.finished && f.shut && (s == tcp::state::closed || fin_acked)) {
            f.finished = true;  // read to the end, and our FIN taken (LAST-ACK passed)
            if (st.error(f.s)) f.error = st.error(f.s);
            return;
        }
        if (!f.finished && ((f.shut && (writes || f.app == tun_app::echo) && (fin_acked || s == tcp::state::closed)) ||
                            s == tcp::state::closed)) {
            if (s == tcp::state::closed && !f.error && st.error(f.s)) f.error = st.error(f.s);
            if (s == tcp::state::closed && !f.error && !(f.shut && (writes || f.app == tun_app::echo)))
                f.error = errc::not_connected;
            // A transfer is done only when the peer has acknowledged every byte queued and
            // the FIN after them (bytes_acked counts both): send() taking the bytes says
            // nothing of whether they arrived, and a connection that never opened took
            // them too.
            if (!f.error && f.shut && (writes || f.app == tun_app::echo) && st.info(f.s).bytes_acked < f.sent + 1)
                f.error = errc::not_connected;
            f.end = st.clock().now();
            f.finished = true;
        }
    };

    while (!example::stop_signal::requested.load()) {
        st.poll();
        if (o.listen_port) {
            for (;;) {
                tun_flow f;
                f.s = st.accept(lst, ec);
                if (ec) break;
                f.app = o.app;
                f.start = st.clock().now();
                flows.push_back(std::move(f));
            }
        }
        for (auto it = flows.begin(); it != flows.end();) {
            step(*it);
            if (it->finished) {
                report(*it);
                st.close(it->s);
                ++served;
                it = flows.erase(it);
            } else ++it;
        }
        if (o.count != 0 && served >= o.count) break;
        wait_for_work(st, wake.native_handle());
        wake.drain();
    }
    // Let the last FINs and ACKs leave before the interface goes away.
    const instant linger = st.clock().now() + std::chrono::milliseconds{200};
    while (st.clock().now() < linger && st.connection_count() != 0) {
        st.poll();
        wait_until(std::min(st.next_deadline(), linger), st.clock().now(), tun_dev.native_handle());
    }
    if (trace) {
        std::ofstream csv{o.trace_csv};
        tcpx::write_csv(csv, trace->records(), trace_origin);
        if (!csv) example::die("tcpx-perf", "--trace: cannot write " + o.trace_csv, 1);
    }
    return status;
}

/// Opens the interface and runs: on the TUN device itself when the path is not
/// impaired (so its offloads reach the stack), through devices::impaired otherwise.
template <class CC>
int run_tun(const tun_options& o)
{
    tcpx::devices::tun tun_dev = example::open_interface("tcpx-perf", o.net);
    if (o.net.loss == 0 && o.net.delay_ms == 0 && o.net.reorder == 0) return run_tun_on<CC>(o, tun_dev, tun_dev);
    tcpx::devices::impaired<tcpx::devices::tun&> dev{example::impairments(o.net), tun_dev};
    return run_tun_on<CC>(o, tun_dev, dev);
}

}  // namespace perf
