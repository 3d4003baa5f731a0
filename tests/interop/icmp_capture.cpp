// ping against tcpx (RFC 1122 §3.2.2.6), and a captured session that Wireshark's
// dissectors (tshark) find free of malformed packets and checksum errors.
#include <tcpx/blocking.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <netinet/ip_icmp.h>
#include <poll.h>

#include "support/netns.hpp"

using interop::kernel_socket;
using interop::tcpx_on_tun;

namespace {

/// Sends one echo request from a raw ICMP socket and waits up to 2 s for its reply.
/// Returns true if a reply with the same identifier, sequence and data came back.
bool ping_once(tcpx::wire::ipv4_address to, std::uint16_t id, std::uint16_t seq, std::size_t data_size)
{
    const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    REQUIRE(fd >= 0);
    std::vector<std::uint8_t> msg(8 + data_size);
    msg[0] = 8;  // echo request
    boost::endian::store_big_u16(msg.data() + 4, id);
    boost::endian::store_big_u16(msg.data() + 6, seq);
    for (std::size_t i = 0; i < data_size; ++i) msg[8 + i] = static_cast<std::uint8_t>(i * 7 + seq);
    boost::endian::store_big_u16(msg.data() + 2, tcpx::wire::internet_checksum(msg));
    const sockaddr_in sa = interop::socket_address(to, 0);
    REQUIRE(::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) ==
            static_cast<ssize_t>(msg.size()));
    bool answered = false;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{2};
    while (!answered && std::chrono::steady_clock::now() < give_up) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        std::uint8_t buf[70000];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);  // a raw socket hands over the IPv4 header too
        if (n <= 0) continue;
        const tcpx::wire::ipv4_view ip{{buf, static_cast<std::size_t>(n)}};
        if (ip.check() || ip.source() != to) continue;
        const tcpx::wire::icmp_view reply{ip.payload()};
        if (reply.check() || reply.type() != tcpx::wire::icmp_type::echo_reply) continue;
        answered = reply.identifier() == id && reply.sequence() == seq && reply.body().size() == data_size &&
                   std::equal(reply.body().begin(), reply.body().end(), msg.begin() + 8);
    }
    ::close(fd);
    return answered;
}

std::string run(const std::string& command)
{
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        char buf[4096];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

bool have(const char* program) { return std::system((std::string{"command -v "} + program + " >/dev/null 2>&1").c_str()) == 0; }

/// Under CI=true a missing tool is a failure; elsewhere the test says why it stops.
bool require_tool(const char* program)
{
    if (have(program)) return true;
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string{ci} == "true") FAIL(program << " is not installed (./run tests installs it as root)");
    MESSAGE("skipped: " << program << " is not installed");
    return false;
}

/// Runs ping(8) three times against `to` with `options`; every answer must come, and
/// its report name `expect` (the size of each reply).
void expect_ping_answers(const std::string& to, const std::string& options, const std::string& expect)
{
    const std::string cmd = "ping -n -c 3 -i 0.2 -W 2 " + options + to + " 2>&1";
    const std::string out = run(cmd);
    CHECK_MESSAGE(out.find(" 0% packet loss") != std::string::npos, cmd << "\n" << out);
    CHECK_MESSAGE(out.find(expect) != std::string::npos, cmd << "\n" << out);
}

}  // namespace

TEST_CASE("any_state_echo_request_from_kernel_gets_echo_reply")
{
    tcpx_on_tun t;
    CHECK(ping_once(t.addr.tcpx_side, 0x1234, 1, 56));
    CHECK(ping_once(t.addr.tcpx_side, 0x1234, 2, 0));
    CHECK(ping_once(t.addr.tcpx_side, 0x1234, 3, 1400));  // data returned entirely (MUST)
    CHECK(t.rt.with_stack([](auto& st) { return st.counters().icmp_echo_replies; }) == 3);
}

TEST_CASE("any_state_ping_program_gets_answers")
{
    if (!require_tool("ping")) return;
    tcpx_on_tun t;
    expect_ping_answers(t.addr.tcpx_side.to_string(), "", "64 bytes from");
}

TEST_CASE("any_state_echo_request_in_fragments_from_kernel_gets_whole_echo_reply")
{
    // RFC 791 §3.2: the kernel fragments a request above the MTU of 1500; tcpx puts it
    // together, answers with all the data (RFC 1122 §3.2.2.6) in fragments of its own,
    // and the kernel puts those together for the raw socket.
    tcpx_on_tun t;
    CHECK(ping_once(t.addr.tcpx_side, 0x4321, 1, 3000));
    CHECK(ping_once(t.addr.tcpx_side, 0x4321, 2, 20000));
    CHECK(ping_once(t.addr.tcpx_side, 0x4321, 3, 65507 - 8));  // the largest: 65,535 bytes of IPv4
    const auto c = t.rt.with_stack([](auto& st) { return st.counters(); });
    CHECK(c.datagrams_reassembled == 3);
    CHECK(c.icmp_echo_replies == 3);
    CHECK(c.fragments_sent == 3 + 14 + 45);
    for (std::size_t r = 0; r < c.drops.size(); ++r) {
        const auto reason = static_cast<tcpx::drop_reason>(r);
        CAPTURE(tcpx::to_string(reason));
        // The kernel's own chatter on a new interface (IPv6 router solicitations) is
        // no fragment; none of the fragments may be dropped.
        if (tcpx::to_string(reason).starts_with("fragment") || reason == tcpx::drop_reason::ipv4_fragment)
            CHECK(c.drops[r] == 0);
    }
}

TEST_CASE("any_state_ping_program_with_3000_bytes_gets_answers")
{
    // What a user tries first: ping -s 3000 (the "unanswered" ping).
    if (!require_tool("ping")) return;
    tcpx_on_tun t;
    expect_ping_answers(t.addr.tcpx_side.to_string(), "-s 3000 ", "3008 bytes from");
}

TEST_CASE("ipv6_ping_program_gets_answers_small_and_in_fragments")
{
    // RFC 4443 §4.2 over a TUN the kernel has an IPv6 address on (tun_config::host6):
    // ping -6 reaches tcpx with no setup; with -s 3000 both ways go in fragments (RFC
    // 8200 §4.5), the kernel's reassembled by tcpx and tcpx's by the kernel.
    if (!require_tool("ping")) return;
    tcpx_on_tun t;
    const std::string to = t.addr.tcpx_side6.to_string();
    expect_ping_answers(to, "-6 ", "64 bytes from");
    expect_ping_answers(to, "-6 -s 3000 ", "3008 bytes from");
    const auto c = t.rt.with_stack([](auto& st) { return st.counters(); });
    CHECK(c.icmp_echo_replies == 6);
    CHECK(c.datagrams_reassembled == 3);
}

TEST_CASE("capture_of_a_session_has_no_malformed_packets_and_no_checksum_errors")
{
    if (!require_tool("tshark")) return;
    const auto path = std::filesystem::temp_directory_path() / ("tcpx-interop-" + std::to_string(::getpid()) + ".pcap");
    const interop::addresses addr = interop::addresses::next();
    {
        std::error_code ec, pcap_ec;
        tcpx::devices::tun tun{{.name = addr.name, .mtu = 1500,
                                .host = tcpx::devices::interface_address{addr.kernel_side, 24}}, ec};
        REQUIRE_MESSAGE(!ec, ec.message());
        using captured = tcpx::devices::pcap<tcpx::devices::tun&>;
        captured dev{path.string(), pcap_ec, tun};
        REQUIRE_MESSAGE(!pcap_ec, pcap_ec.message());
        tcpx::config cfg;
        cfg.address = addr.tcpx_side;
        tcpx::blocking::runtime<captured&> rt{dev, cfg};

        // A session with a bit of everything: handshake, bulk both ways, ping, a
        // refused connection, an orderly close from each side.
        auto l = rt.listen(24601, 4);
        kernel_socket k;
        REQUIRE(kernel_socket::connect_to(addr.tcpx_side, 24601, k) == 0);
        auto s = l.accept();
        const auto data = interop::random_bytes(std::size_t{2} << 20, 61);
        std::thread writer{[&] {
            CHECK(k.write_all(data));
            k.shutdown_write();
        }};
        const auto got = interop::read_to_end(s, ec);
        writer.join();
        CHECK(got == data);
        std::vector<std::uint8_t> echoed;
        std::thread reader{[&] { echoed = k.read_to_end(); }};
        CHECK(s.write(data, ec) == data.size());
        s.close();
        reader.join();
        CHECK(echoed == data);
        CHECK(ping_once(addr.tcpx_side, 7, 1, 100));
        kernel_socket refused;
        CHECK(kernel_socket::connect_to(addr.tcpx_side, 81, refused) == ECONNREFUSED);
        std::this_thread::sleep_for(std::chrono::milliseconds{100});  // the last ACKs
        rt.stop();
    }
    // The payload is random bytes: decoded as plain data, or some application
    // dissector would call it malformed. Only IPv4, ICMP and TCP are judged.
    const std::string base = "tshark -n -r " + path.string() +
                             " -d tcp.port==24601,data -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE";
    const std::string all = run(base + " 2>/dev/null");
    const std::string bad = run(base + " -Y '_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0"
                                       " || tcp.checksum.status == 0 || icmp.checksum.status == 0' 2>/dev/null");
    std::size_t lines = 0;
    for (const char c : all) lines += c == '\n';
    CHECK_MESSAGE(lines > 100, "tshark read only " << lines << " packets:\n" << all.substr(0, 2000));
    CHECK_MESSAGE(bad.empty(), "tshark flags these packets:\n" << bad.substr(0, 4000));
    std::filesystem::remove(path);
}
