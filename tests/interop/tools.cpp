// The tools count a transfer as done only when the peer has acknowledged all of it,
// and report failure otherwise: send() taking the bytes says nothing of whether they
// arrived. tcpx-perf (the built binary) against the kernel, in this process's network
// namespace (main.cpp), on an interface of its own.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const std::string perf = std::string{TCPX_BUILD_ROOT} + "/examples/tcpx-perf";

struct run_result {
    int status = -1;
    std::string output;
};

run_result run(const std::string& args)
{
    run_result r;
    FILE* p = ::popen((perf + " " + args + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) r.output += buf.data();
    const int w = ::pclose(p);
    r.status = WIFEXITED(w) ? WEXITSTATUS(w) : -1;
    return r;
}

/// The number after "key": in tcpx-perf's one-line JSON; -1 when absent.
long long json_number(const std::string& json, const std::string& key)
{
    const auto at = json.find("\"" + key + "\":");
    if (at == std::string::npos) return -1;
    return std::stoll(json.substr(at + key.size() + 3));
}

/// A kernel socket listening on 0.0.0.0:port that reads one connection to its end.
struct kernel_sink {
    explicit kernel_sink(std::uint16_t port)
    {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 4) == 0);
        reader = std::thread{[this] {
            const int c = ::accept(fd, nullptr, nullptr);
            if (c < 0) return;
            std::array<char, 65536> buf{};
            for (;;) {
                const ssize_t n = ::read(c, buf.data(), buf.size());
                if (n <= 0) break;
                received += static_cast<long long>(n);
            }
            ::close(c);
        }};
    }
    ~kernel_sink()
    {
        ::shutdown(fd, SHUT_RDWR);
        reader.join();
        ::close(fd);
    }
    int fd = -1;
    std::atomic<long long> received{0};
    std::thread reader;
};

bool have_perf()
{
    if (::access(perf.c_str(), X_OK) == 0) return true;
    MESSAGE("skipped: " << perf << " is not built (examples off)");
    return false;
}

}  // namespace

TEST_CASE("tcpx_perf_send_to_a_closed_kernel_port_reports_failure_not_bytes_sent")
{
    // All 4 MiB fit the send buffer while the connection is still in SYN-SENT; the
    // kernel refuses it. The tool must say so and exit non-zero.
    if (!have_perf()) return;
    const run_result r =
        run("tun --tun tperf0 --addr 10.9.0.1 --host 10.9.0.2/24 --connect 10.9.0.2:5999 --mode send --bytes 4M --json");
    CAPTURE(r.output);
    CHECK(r.status == 1);
    CHECK(json_number(r.output, "bytes_acked") == 0);
    CHECK(r.output.find("\"error\":\"\"") == std::string::npos);
}

TEST_CASE("tcpx_perf_send_to_a_kernel_listener_reports_every_byte_acknowledged")
{
    if (!have_perf()) return;
    kernel_sink sink{5998};
    const run_result r =
        run("tun --tun tperf1 --addr 10.9.1.1 --host 10.9.1.2/24 --connect 10.9.1.2:5998 --mode send --bytes 4M --json");
    CAPTURE(r.output);
    CHECK(r.status == 0);
    CHECK(json_number(r.output, "bytes_sent") == 4 << 20);
    CHECK(json_number(r.output, "bytes_acked") == 4 << 20);
    CHECK(r.output.find("\"error\":\"\"") != std::string::npos);
    for (int i = 0; i < 200 && sink.received.load() < (4 << 20); ++i) ::usleep(10'000);
    CHECK(sink.received.load() == 4 << 20);
}

TEST_CASE("tcpx_perf_with_addr6_and_host6_answers_ping6_beside_ipv4")
{
    // --addr6/--host6 (every TUN example): the kernel side gets the IPv6 address, the
    // stack answers ping -6, small and in fragments, while IPv4 works as before.
    if (!have_perf()) return;
    if (std::system("command -v ping >/dev/null 2>&1") != 0) {
        MESSAGE("skipped: ping is not installed");
        return;
    }
    run_result served;
    std::thread server{[&] {
        served = run("tun --tun tperf2 --addr 10.9.2.1 --host 10.9.2.2/24 --addr6 fd00:9:2::1 --host6 fd00:9:2::2/64 "
                     "--listen 5996 --mode discard --count 1");
    }};
    std::string small;
    std::string large;
    for (int i = 0; i < 50; ++i) {  // until the interface is up and answering
        FILE* p = ::popen("ping -6 -n -c 1 -W 1 fd00:9:2::1 2>&1", "r");
        std::array<char, 512> buf{};
        std::string out;
        while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) out += buf.data();
        ::pclose(p);
        if (out.find(" 0% packet loss") != std::string::npos) {
            small = out;
            break;
        }
        ::usleep(100'000);
    }
    if (FILE* p = ::popen("ping -6 -n -c 2 -i 0.2 -W 2 -s 3000 fd00:9:2::1 2>&1", "r")) {
        std::array<char, 512> buf{};
        while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) large += buf.data();
        ::pclose(p);
    }
    // An IPv4 connection ends the run (--count 1).
    const int k = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(5996);
    ::inet_pton(AF_INET, "10.9.2.1", &a.sin_addr);
    const bool connected = ::connect(k, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (connected) CHECK(::write(k, "hello", 5) == 5);
    ::close(k);
    server.join();
    CHECK_MESSAGE(small.find(" 0% packet loss") != std::string::npos, small);
    CHECK_MESSAGE(large.find("3008 bytes from fd00:9:2::1") != std::string::npos, large);
    CHECK(connected);
    CAPTURE(served.output);
    CHECK(served.status == 0);
}
