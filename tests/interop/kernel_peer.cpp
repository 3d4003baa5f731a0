// tcpx against the Linux kernel's TCP over a TUN interface: data byte-exact both ways,
// every way of closing, refusals and resets as the kernel reports them, many
// connections at once, and impaired paths made by tcpx's own impairment decorator
// (the kernel's netem is not built into every kernel, and tcpx must not need it).
#include <tcpx/blocking.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstddef>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/netns.hpp"
#include "support/hostile_packets.hpp"
#include "support/raw_flood.hpp"

using namespace std::chrono_literals;
using interop::kernel_socket;
using interop::tcpx_on_tun;

namespace {

constexpr std::size_t tens_of_mib = std::size_t{24} << 20;

/// An echo server on tcpx: one thread per connection, until the listener closes.
struct tcpx_echo_server {
    tcpx::blocking::listener l;
    std::thread acceptor;
    std::vector<std::thread> workers;

    template <class OnTun>  // tcpx_on_tun or tcpx_on_tun_direct
    tcpx_echo_server(OnTun& t, std::uint16_t port) : l{t.rt.listen(port, 256)}
    {
        acceptor = std::thread{[this] {
            std::error_code ec;
            while (auto s = l.accept(ec)) {
                workers.emplace_back([s = std::move(s)]() mutable {
                    std::uint8_t buf[65536];
                    std::error_code e;
                    while (const std::size_t n = s.read(buf, e))
                        if (s.write({buf, n}, e) != n) return;
                    s.shutdown();
                    // Keep the stream until the peer has read everything and closed.
                    while (s.read(buf, e) != 0) {}
                });
            }
        }};
    }
    ~tcpx_echo_server()
    {
        l.close();
        acceptor.join();
        for (auto& w : workers) w.join();
    }
};

/// A kernel client connected to a tcpx listener, and tcpx's end of the connection.
struct kernel_to_tcpx {
    tcpx::blocking::listener l;
    kernel_socket k;
    tcpx::blocking::stream s;

    kernel_to_tcpx(tcpx_on_tun& t, std::uint16_t port) : l{t.rt.listen(port, 4)}
    {
        REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, port, k) == 0);
        s = l.accept();
    }
};

/// Sends `data` on a kernel socket while reading the echo back on another thread.
std::vector<std::uint8_t> kernel_echo_round_trip(const kernel_socket& k, const std::vector<std::uint8_t>& data)
{
    std::vector<std::uint8_t> back;
    std::thread reader{[&] { back = k.read_to_end(); }};
    const bool all_written = k.write_all(data);
    k.shutdown_write();
    reader.join();
    CHECK(all_written);
    return back;
}

/// A TcpExt counter of this network namespace (/proc/net/netstat: a line of names,
/// then a line of values), or -1 if it is not there.
long long tcp_ext_counter(const std::string& name)
{
    std::ifstream in{"/proc/net/netstat"};
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
        if (names.rfind("TcpExt:", 0) != 0) continue;
        std::istringstream n{names}, v{values};
        std::string key, value;
        while (n >> key && v >> value)
            if (key == name) return std::stoll(value);
    }
    return -1;
}

/// 2 % loss, 2 % reordering and 2 ms of delay in each direction, drawn from `seed`.
tcpx::devices::impairment_config lossy_both_ways(std::uint64_t seed)
{
    tcpx::devices::impairment path;
    path.loss = 0.02;
    path.reorder = 0.02;
    path.delay = 2ms;
    return {.transmit = path, .receive = path, .seed = seed};
}

/// TCP_INFO's options of a kernel socket (TCPI_OPT_SACK ...).
unsigned kernel_tcp_options(const kernel_socket& k)
{
    tcp_info info{};
    socklen_t len = sizeof info;
    REQUIRE(::getsockopt(k.fd(), IPPROTO_TCP, TCP_INFO, &info, &len) == 0);
    return info.tcpi_options;
}

/// A kernel client connects to tcpx on `port`: both ends use timestamps, SACK and
/// window scaling (the kernel's TCP_INFO and tcpx's info() agree).
void check_options_both_ends(tcpx_on_tun& t, std::uint16_t port)
{
    constexpr unsigned all = TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE;
    kernel_to_tcpx c{t, port};
    CHECK((kernel_tcp_options(c.k) & all) == all);
    const auto i = c.s.info();
    CHECK(i.timestamps);
    CHECK(i.sack);
    CHECK(i.wscale);
}

}  // namespace

TEST_CASE("kernel_client_echoes_tens_of_mib_through_tcpx_server_byte_exact")
{
    tcpx_on_tun t;
    tcpx_echo_server server{t, 7};
    const std::uint64_t seed = 11;
    const auto data = interop::random_bytes(tens_of_mib, seed);
    kernel_socket k;
    REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 7, k) == 0);
    const auto back = kernel_echo_round_trip(k, data);
    CHECK_MESSAGE(back == data, "seed " << seed << ": " << back.size() << " of " << data.size()
                                        << " bytes back, first difference at " << interop::first_difference(back, data));
}

TEST_CASE("tcpx_client_echoes_tens_of_mib_through_kernel_server_byte_exact")
{
    tcpx_on_tun t;
    const kernel_socket l = kernel_socket::listen_on(t.addr.kernel_side, 7007);
    std::thread kernel_echo{[&] {
        const kernel_socket c = l.accept();
        std::uint8_t buf[65536];
        for (;;) {
            const ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
            if (n <= 0) break;
            if (!c.write_all({buf, static_cast<std::size_t>(n)})) break;
        }
        c.shutdown_write();
    }};
    const std::uint64_t seed = 12;
    const auto data = interop::random_bytes(tens_of_mib, seed);
    std::error_code ec;
    auto s = t.rt.connect(t.addr.kernel_side, 7007, ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    std::vector<std::uint8_t> back;
    std::error_code read_ec;
    std::thread reader{[&] { back = interop::read_to_end(s, read_ec); }};
    CHECK(s.write(data, ec) == data.size());
    CHECK(!s.shutdown());
    reader.join();
    kernel_echo.join();
    CHECK(read_ec == tcpx::errc::end_of_stream);
    CHECK_MESSAGE(back == data, "seed " << seed << ": first difference at " << interop::first_difference(back, data));
}

/// Both directions at once: the kernel sends `bytes` (seed a) while tcpx sends `bytes`
/// (seed b); each side half-closes after its last byte; every byte is checked.
static void both_directions_at_once(const kernel_socket& k, tcpx::blocking::stream& s, std::size_t bytes,
                             std::uint64_t seed_a, std::uint64_t seed_b)
{
    const auto to_tcpx = interop::random_bytes(bytes, seed_a);
    const auto to_kernel = interop::random_bytes(bytes, seed_b);
    std::vector<std::uint8_t> got_by_kernel, got_by_tcpx;
    std::error_code tcpx_read_ec, tcpx_write_ec;
    std::thread kernel_writer{[&] {
        CHECK(k.write_all(to_tcpx));
        k.shutdown_write();
    }};
    std::thread kernel_reader{[&] { got_by_kernel = k.read_to_end(); }};
    std::thread tcpx_reader{[&] { got_by_tcpx = interop::read_to_end(s, tcpx_read_ec); }};
    CHECK(s.write(to_kernel, tcpx_write_ec) == to_kernel.size());
    s.shutdown();
    kernel_writer.join();
    kernel_reader.join();
    tcpx_reader.join();
    CHECK_MESSAGE(got_by_tcpx == to_tcpx, "seed " << seed_a);
    CHECK_MESSAGE(got_by_kernel == to_kernel, "seed " << seed_b);
    CHECK(tcpx_read_ec == tcpx::errc::end_of_stream);
}

TEST_CASE("established_both_directions_at_once_arrive_byte_exact")
{
    tcpx_on_tun t;
    kernel_to_tcpx c{t, 9};
    both_directions_at_once(c.k, c.s, std::size_t{16} << 20, 21, 22);
}

TEST_CASE("established_kernel_half_closes_first_tcpx_still_sends_then_closes")
{
    // RFC 9293 §3.6: after the kernel's FIN, tcpx (CLOSE-WAIT) may still send.
    tcpx_on_tun t;
    kernel_to_tcpx c{t, 10};
    kernel_socket& k = c.k;
    tcpx::blocking::stream& s = c.s;
    const std::string hello = "request, then FIN";
    CHECK(k.write_all({reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()}));
    k.shutdown_write();
    std::error_code ec;
    const auto request = interop::read_to_end(s, ec);
    CHECK(ec == tcpx::errc::end_of_stream);
    CHECK(std::string(request.begin(), request.end()) == hello);
    CHECK(s.info().state == tcpx::tcp::state::close_wait);
    const auto reply = interop::random_bytes(std::size_t{1} << 20, 31);
    std::vector<std::uint8_t> got;
    std::thread reader{[&] { got = k.read_to_end(); }};  // the data, then EOF: tcpx's FIN
    CHECK(s.write(reply, ec) == reply.size());
    CHECK(!s.close());
    reader.join();
    CHECK(got == reply);
}

TEST_CASE("established_tcpx_half_closes_first_kernel_still_sends_then_closes")
{
    tcpx_on_tun t;
    kernel_to_tcpx c{t, 11};
    kernel_socket& k = c.k;
    tcpx::blocking::stream& s = c.s;
    const auto request = interop::random_bytes(std::size_t{1} << 20, 41);
    std::error_code ec;
    std::vector<std::uint8_t> seen;
    std::thread reader{[&] { seen = k.read_to_end(); }};  // the data, then EOF
    CHECK(s.write(request, ec) == request.size());
    CHECK(!s.shutdown());  // tcpx: FIN-WAIT-1, then FIN-WAIT-2
    reader.join();
    CHECK(seen == request);
    const auto reply = interop::random_bytes(std::size_t{1} << 20, 42);
    CHECK(k.write_all(reply));
    k.shutdown_write();
    const auto got = interop::read_to_end(s, ec);
    CHECK(ec == tcpx::errc::end_of_stream);
    CHECK(got == reply);
    // tcpx closed first, so tcpx holds TIME-WAIT (RFC 9293 §3.6).
    CHECK(s.info().state == tcpx::tcp::state::time_wait);
}

TEST_CASE("established_kernel_closes_first_tcpx_reads_eof_and_closes")
{
    tcpx_on_tun t;
    kernel_to_tcpx c{t, 12};
    kernel_socket& k = c.k;
    tcpx::blocking::stream& s = c.s;
    ::close(k.fd());
    k = kernel_socket{};
    std::uint8_t buf[16];
    std::error_code ec;
    CHECK(s.read(buf, ec) == 0);
    CHECK(ec == tcpx::errc::end_of_stream);
    CHECK(!s.close());
}

TEST_CASE("closed_port_kernel_connect_is_refused_by_tcpx_rst")
{
    // RFC 9293 §3.10.7.1: no listener: RST, which the kernel reports as ECONNREFUSED.
    tcpx_on_tun t;
    kernel_socket k;
    CHECK(kernel_socket::connect_to(t.addr.tcpx_side, 4444, k) == ECONNREFUSED);
}

TEST_CASE("closed_kernel_port_tcpx_connect_is_refused")
{
    tcpx_on_tun t;
    std::error_code ec;
    auto s = t.rt.connect(t.addr.kernel_side, 4445, ec);
    CHECK(ec == tcpx::errc::connection_refused);
    CHECK(!s);
}

TEST_CASE("established_tcpx_abort_kernel_sees_connection_reset")
{
    tcpx_on_tun t;
    kernel_to_tcpx c{t, 13};
    kernel_socket& k = c.k;
    tcpx::blocking::stream& s = c.s;
    CHECK(!s.abort());
    int error = 0;
    const auto got = k.read_to_end(&error);
    CHECK(got.empty());
    CHECK(error == ECONNRESET);
}

TEST_CASE("established_kernel_abort_tcpx_sees_connection_reset")
{
    tcpx_on_tun t;
    kernel_to_tcpx c{t, 14};
    kernel_socket& k = c.k;
    tcpx::blocking::stream& s = c.s;
    const linger hard{1, 0};  // SO_LINGER 0: close(2) sends RST
    ::setsockopt(k.fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    k = kernel_socket{};
    std::uint8_t buf[16];
    std::error_code ec;
    CHECK(s.read(buf, ec) == 0);
    CHECK(ec == tcpx::errc::connection_reset);
}

TEST_CASE("listen_a_hundred_concurrent_kernel_connections_all_echo_byte_exact")
{
    tcpx_on_tun t;
    tcpx_echo_server server{t, 15};
    constexpr int count = 100;
    std::vector<kernel_socket> socks(count);
    for (int i = 0; i < count; ++i) REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 15, socks[i]) == 0);
    std::vector<std::thread> clients;
    std::atomic<int> exact{0};
    for (int i = 0; i < count; ++i)
        clients.emplace_back([&, i] {
            const auto data = interop::random_bytes(std::size_t{128} << 10, 100 + static_cast<std::uint64_t>(i));
            if (kernel_echo_round_trip(socks[i], data) == data) ++exact;
        });
    for (auto& c : clients) c.join();
    CHECK(exact.load() == count);
}

TEST_CASE("impaired_loss_reordering_delay_both_ways_transfers_byte_exact")
{
    // tcpx's own decorator impairs both directions: what the kernel sends is lost,
    // reordered and delayed on its way in, what tcpx sends on its way out.
    const std::uint64_t seed = 7;
    tcpx_on_tun t{lossy_both_ways(seed)};
    tcpx_echo_server server{t, 16};
    const auto data = interop::random_bytes(std::size_t{4} << 20, seed);
    kernel_socket k;
    REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 16, k) == 0);
    const long long sack_recoveries_before = tcp_ext_counter("TCPSackRecovery");
    const long long sack_discards_before = tcp_ext_counter("TCPSACKDiscard");
    const long long paws_before = tcp_ext_counter("PAWSEstab");
    const auto back = kernel_echo_round_trip(k, data);
    CHECK_MESSAGE(back == data, "seed " << seed << ": first difference at " << interop::first_difference(back, data));
    const auto lost = t.dev.transmit_counters().lost + t.dev.receive_counters().lost;
    CHECK(lost > 0);  // the path really was impaired
    // RFC 2018: both SYNs carried SACK-permitted, and the kernel, sending into losses,
    // recovered with the blocks tcpx reported (its fast recoveries were SACK-based).
    CHECK((kernel_tcp_options(k) & TCPI_OPT_SACK) != 0);
    CHECK(tcp_ext_counter("TCPSackRecovery") > sack_recoveries_before);
    CHECK(tcp_ext_counter("TCPSACKDiscard") == sack_discards_before);  // no block it found invalid
    CHECK(tcp_ext_counter("PAWSEstab") == paws_before);  // RFC 7323 §5: no segment of ours looked old
}

TEST_CASE("handshake_kernel_and_tcpx_negotiate_timestamps_sack_wscale_both_ways")
{
    // RFC 7323 §2.2/§3.2 and RFC 2018 §2: each option is in use when both SYNs carried it,
    // whichever side opens; the kernel's TCP_INFO and tcpx's info() must agree.
    constexpr unsigned all = TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE;
    tcpx_on_tun t;
    check_options_both_ends(t, 22);
    const kernel_socket l = kernel_socket::listen_on(t.addr.kernel_side, 7022);
    std::error_code ec;
    auto s = t.rt.connect(t.addr.kernel_side, 7022, ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    const kernel_socket k = l.accept();
    CHECK((kernel_tcp_options(k) & all) == all);
    const auto i = s.info();
    CHECK(i.timestamps);
    CHECK(i.sack);
    CHECK(i.wscale);
    CHECK(i.rcv_wscale > 0);  // tcpx's own shift: its buffers exceed 64 KiB
}

TEST_CASE("impaired_tcpx_sends_into_loss_kernel_takes_every_segment_recovery_by_sack")
{
    // tcpx sends 4 MiB through 2 % loss and 2 % reordering each way: the kernel drops
    // none of tcpx's segments as old (PAWS, RFC 7323 §5), tcpx recovers from the kernel's
    // SACK blocks and RACK's timing (RFC 6675, RFC 8985) with RTT samples from the
    // kernel's timestamp echoes (RFC 7323 §4), and every byte arrives.
    const std::uint64_t seed = 23;
    tcpx_on_tun t{lossy_both_ways(seed)};
    const kernel_socket l = kernel_socket::listen_on(t.addr.kernel_side, 7023);
    const long long paws_before = tcp_ext_counter("PAWSEstab");
    std::error_code ec;
    auto s = t.rt.connect(t.addr.kernel_side, 7023, ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    const kernel_socket k = l.accept();
    const auto data = interop::random_bytes(std::size_t{4} << 20, seed);
    std::vector<std::uint8_t> got;
    std::thread reader{[&] { got = k.read_to_end(); }};
    CHECK(s.write(data, ec) == data.size());
    CHECK(!s.shutdown());
    reader.join();
    CHECK_MESSAGE(got == data, "seed " << seed << ": first difference at " << interop::first_difference(got, data));
    CHECK(tcp_ext_counter("PAWSEstab") == paws_before);
    const auto i = s.info();
    CHECK(t.dev.transmit_counters().lost > 0);
    CHECK(i.sack_recoveries > 0);
    CHECK(i.rack_marked_lost > 0);
    // RFC 7323 §4: the ACKs of new data give RTT samples by their echoes (the one timed
    // segment per round trip counts apart, duplicates give none).
    CHECK(i.timestamp_rtt_samples * 4 > i.segments_received);
    CHECK(i.timestamp_missing == 0);  // every kernel segment carried TSopt
    // (Kernel ACKs that the reordering put behind newer ones carry an older TSval and
    // are dropped by PAWS, §5.3 R1, as the RFC says: i.paws_rejected is not 0 here.)
}

TEST_CASE("large_mtu_65000_transfers_byte_exact_both_ways")
{
    tcpx_on_tun t{{}, 65000};
    tcpx_echo_server server{t, 17};
    const auto data = interop::random_bytes(std::size_t{16} << 20, 51);
    kernel_socket k;
    REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 17, k) == 0);
    CHECK(kernel_echo_round_trip(k, data) == data);
}

TEST_CASE("offload_large_segments_and_partial_checksums_both_ways_byte_exact")
{
    // IFF_VNET_HDR + TUNSETOFFLOAD: the kernel hands tcpx 64 KiB segments with checksums
    // left partial, and tcpx sends it segments of many MSS for the kernel to cut (TSO),
    // leaving the TCP checksum to it. Both directions at once, every byte checked.
    interop::tcpx_on_tun_direct t{true};
    auto l = t.rt.listen(18, 4);
    kernel_socket k;
    REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 18, k) == 0);
    auto s = l.accept();
    both_directions_at_once(k, s, std::size_t{24} << 20, 81, 82);
    const auto c = t.rt.with_stack([](auto& st) { return st.device().counters(); });
    CHECK(c.large_received > 0);  // the kernel used receive offload
    CHECK(c.large_sent > 0);      // and took our large segments
    CHECK(t.rt.with_stack([](auto& st) { return st.counters().dropped(tcpx::drop_reason::tcp_bad_checksum); }) == 0);
}

TEST_CASE("offload_off_plain_packets_only_transfer_byte_exact")
{
    interop::tcpx_on_tun_direct t{false};
    auto l = t.rt.listen(19, 4);
    kernel_socket k;
    REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 19, k) == 0);
    auto s = l.accept();
    const auto data = interop::random_bytes(std::size_t{8} << 20, 91);
    std::vector<std::uint8_t> echoed;
    std::thread kernel_writer{[&] {
        CHECK(k.write_all(data));
        k.shutdown_write();
    }};
    std::error_code ec;
    const auto got = interop::read_to_end(s, ec);
    kernel_writer.join();
    CHECK(got == data);
    std::thread kernel_reader{[&] { echoed = k.read_to_end(); }};
    CHECK(s.write(got, ec) == got.size());
    s.close();
    kernel_reader.join();
    CHECK(echoed == data);
    const auto c = t.rt.with_stack([](auto& st) { return st.device().counters(); });
    CHECK(c.large_received == 0);
    CHECK(c.large_sent == 0);
}

TEST_CASE("listen_syn_cookies_kernel_clients_connect_and_echo_with_options_intact")
{
    // RFC 4987 §3.6 with config::syn_cookies = always: no SYN leaves state behind, every
    // connection is rebuilt from the kernel's ACK, timestamps carrying the window scale
    // and SACK-permitted; the kernel sees all three options in use and the data is exact.
    tcpx::config cfg;
    cfg.syn_cookies = tcpx::syn_cookie_mode::always;
    tcpx_on_tun t{{}, 1500, cfg};
    check_options_both_ends(t, 23);
    tcpx_echo_server server{t, 7};
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        const auto data = interop::random_bytes(std::size_t{1} << 20, seed);
        kernel_socket k;
        REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 7, k) == 0);
        const auto back = kernel_echo_round_trip(k, data);
        CHECK_MESSAGE(back == data, "seed " << seed << ": " << back.size() << " of " << data.size() << " bytes back");
    }
    const auto c = t.rt.with_stack([](auto& st) { return st.counters(); });
    CHECK(c.syn_cookies_sent >= 9);
    CHECK(c.syn_cookies_validated >= 9);
    CHECK(c.syn_cookies_failed == 0);
}

TEST_CASE("listen_raw_socket_syn_flood_over_tun_kernel_clients_still_connect_and_echo")
{
    // RFC 4987 §3.6 with the default config (cookies when full): a thread floods the
    // listener with 50,000 SYNs a second from spoofed sources through a raw socket,
    // into the same TUN queue the kernel clients use (benchmarks/flood_tun.cpp floods
    // at full speed, which outruns tcpx's reads of the TUN and makes the queue drop
    // about half of what enters it, clients' segments included). The
    // listener's half-open slots fill at once; every kernel client still gets in
    // (through a cookie, or its SYN's retransmission if the flood crowded the queue)
    // and echoes byte-exact, with its options intact — also the clients whose ACK and
    // first segments the crowded queue lost (their later segments, whose cookie cannot
    // check, are dropped, not reset, until the client resends its first byte).
    tcpx_on_tun t{};
    tcpx_echo_server server{t, 7};
    std::mt19937_64 rng{11};
    tcpx::test::raw_flood flood{t.addr.tcpx_side, [&](std::span<std::uint8_t> out, std::uint64_t) {
                                    return tcpx::test::build_spoofed_syn(out, rng, t.addr.tcpx_side, 7);
                                }, 50'000};
    REQUIRE_MESSAGE(flood.ok(), "no raw socket (CAP_NET_RAW)");
    while (flood.sent() < 5'000) std::this_thread::sleep_for(1ms);
    constexpr int clients = 50;  // one each 20 ms: a second of flood
    int echoed = 0;
    for (int i = 0; i < clients; ++i) {
        const auto data = interop::random_bytes(std::size_t{16} << 10, static_cast<std::uint64_t>(i));
        kernel_socket k;
        const int err = kernel_socket::connect_to(t.addr.tcpx_side, 7, k);
        CHECK_MESSAGE(err == 0, "client " << i << ": connect failed, errno " << err);
        if (err != 0) continue;
        CHECK((kernel_tcp_options(k) & (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE)) ==
              (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE));
        const auto back = kernel_echo_round_trip(k, data);
        if (back == data) ++echoed;
        else MESSAGE("client " << i << ": " << back.size() << " of " << data.size() << " bytes echoed");
        std::this_thread::sleep_for(20ms);
    }
    flood.stop();
    CHECK(echoed == clients);
    const auto c = t.rt.with_stack([](auto& st) { return st.counters(); });
    MESSAGE("flood: " << flood.sent() << " SYNs sent (" << flood.refused() << " refused by the kernel), "
                      << c.syn_cookies_sent << " cookies, " << c.syn_cookies_validated << " validated");
    CHECK(c.syn_cookies_sent > 20'000);  // the flood reached tcpx and filled the half-open slots
    CHECK(c.syn_cookies_failed == c.dropped(tcpx::drop_reason::listen_cookie_text));  // none reset
    CHECK(c.connections_accepted >= clients);
}

TEST_CASE("tun_syn_queue_syns_alone_arrive_on_their_own_queue_everything_else_on_the_main")
{
    // tun_config::syn_queue (the default): a multi-queue interface whose steering
    // program puts a SYN without ACK on the second queue. Three kernel clients: their
    // three SYNs come from that queue, the rest of each connection from the main one.
    interop::tcpx_on_tun_direct t{true};
    REQUIRE(t.tun.syn_queue());
    tcpx_echo_server server{t, 7};
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const auto data = interop::random_bytes(std::size_t{256} << 10, seed);
        kernel_socket k;
        REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 7, k) == 0);
        CHECK(kernel_echo_round_trip(k, data) == data);
    }
    // An IPv6 SYN is steered too (tcpx drops it: TCP over IPv6 is not carried yet).
    const int k6 = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(k6 >= 0);
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(7);
    std::memcpy(&to.sin6_addr, t.addr.tcpx_side6.octets.data(), 16);
    CHECK(::connect(k6, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0);
    CHECK(errno == EINPROGRESS);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds{500};
    while (std::chrono::steady_clock::now() < until &&
           t.rt.with_stack([](auto& st) { return st.device().counters().syn_queue_received; }) < 4)
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    ::close(k6);
    const auto c = t.rt.with_stack([](auto& st) { return st.device().counters(); });
    CHECK(c.syn_queue_received == 4);
    CHECK(c.packets_received > 3 * 4);
}

TEST_CASE("tun_syn_queue_off_one_queue_transfers_byte_exact")
{
    interop::tcpx_on_tun_direct t{true, 1500, false};
    CHECK_FALSE(t.tun.syn_queue());
    tcpx_echo_server server{t, 7};
    const auto data = interop::random_bytes(std::size_t{1} << 20, 5);
    kernel_socket k;
    REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 7, k) == 0);
    CHECK(kernel_echo_round_trip(k, data) == data);
    CHECK(t.rt.with_stack([](auto& st) { return st.device().counters().syn_queue_received; }) == 0);
}

/// The kernel's struct tcp_info (<linux/tcp.h>) as far as tcpi_dsack_dups: glibc's
/// <netinet/tcp.h> ends at tcpi_total_retrans, and the two headers do not mix.
struct kernel_tcp_info {
    tcp_info base{};
    std::uint64_t pacing_rate = 0, max_pacing_rate = 0, bytes_acked = 0, bytes_received = 0;
    std::uint32_t segs_out = 0, segs_in = 0, notsent_bytes = 0, min_rtt = 0, data_segs_in = 0, data_segs_out = 0;
    std::uint64_t delivery_rate = 0, busy_time = 0, rwnd_limited = 0, sndbuf_limited = 0;
    std::uint32_t delivered = 0, delivered_ce = 0;
    std::uint64_t bytes_sent = 0, bytes_retrans = 0;
    std::uint32_t dsack_dups = 0;  ///< retransmissions the peer reported as duplicates (D-SACK)
    std::uint32_t reord_seen = 0;

    static kernel_tcp_info of(int fd)
    {
        kernel_tcp_info i;
        socklen_t len = sizeof i;
        REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &i, &len) == 0);
        REQUIRE(len >= offsetof(kernel_tcp_info, reord_seen));  // a kernel of 5.0 or later
        return i;
    }
};
static_assert(offsetof(kernel_tcp_info, dsack_dups) == 216, "struct tcp_info of <linux/tcp.h>");

TEST_CASE("listen_full_speed_syn_flood_over_tun_established_connection_loses_no_packet")
{
    // A raw socket floods the listener with spoofed SYNs as fast as the kernel takes
    // them — faster than tcpx reads them on a small host, so the TUN queue overflows
    // (benchmarks/flood_tun.cpp measures it). With the SYN queue it is the SYN queue
    // that drops: a kernel client connected before the flood echoes 4 MiB through it
    // byte-exact and the kernel retransmits none of its segments.
    interop::tcpx_on_tun_direct t{true};
    REQUIRE(t.tun.syn_queue());
    tcpx_echo_server server{t, 7};
    kernel_socket k;
    REQUIRE(kernel_socket::connect_to(t.addr.tcpx_side, 7, k) == 0);
    std::mt19937_64 rng{12};
    tcpx::test::raw_flood flood{t.addr.tcpx_side, [&](std::span<std::uint8_t> out, std::uint64_t) {
                                    return tcpx::test::build_spoofed_syn(out, rng, t.addr.tcpx_side, 7);
                                }};
    REQUIRE_MESSAGE(flood.ok(), "no raw socket (CAP_NET_RAW)");
    while (flood.sent() < 20'000) std::this_thread::sleep_for(1ms);
    const auto data = interop::random_bytes(std::size_t{4} << 20, 13);
    const auto back = kernel_echo_round_trip(k, data);
    const auto syns = t.rt.with_stack([](auto& st) { return st.device().counters().syn_queue_received; });
    flood.stop();
    CHECK(back == data);
    // Lost, to the kernel, is what it retransmitted and tcpx did not report as a
    // duplicate (D-SACK, RFC 2883): a retransmission timer fired while a starved CI host
    // kept tcpx's thread off the CPU resends segments that had arrived.
    const kernel_tcp_info info = kernel_tcp_info::of(k.fd());
    MESSAGE("flood: " << flood.sent() << " SYNs sent, " << syns << " read by tcpx; the kernel retransmitted "
                      << info.base.tcpi_total_retrans << " segments, " << info.dsack_dups << " of them duplicates");
    CHECK(info.base.tcpi_total_retrans - info.dsack_dups == 0);
    CHECK(syns > 10'000);
}
