// pcap<D>: every packet, both directions, lands in a classic pcap file (magic
// 0xa1b2c3d4, version 2.4, snaplen 65535, LINKTYPE_RAW = 101), stamped with the
// instant the device was given, and tcpdump reads the file back. The packets are
// bare IPv4 (RFC 791 §3.1), which is what LINKTYPE_RAW means.
#include <tcpx/device/pcap.hpp>

#include <doctest/doctest.h>

#include <tcpx/device/impaired.hpp>
#include <tcpx/device/loopback.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using tcpx::duration;
using tcpx::instant;
using tcpx::devices::impaired;
using tcpx::devices::impairment_config;
using tcpx::devices::loopback;
using tcpx::devices::loopback_link;
using tcpx::devices::pcap;
using tcpx::devices::pcap_file;

using bytes = std::vector<std::uint8_t>;

static_assert(tcpx::device<pcap<loopback&>>);
static_assert(tcpx::device<pcap<impaired<loopback&>>>);
static_assert(tcpx::device<impaired<pcap<loopback&>>>);

constexpr instant at(std::int64_t us) { return instant{duration{us}}; }

// A unique file under /tmp, removed when the test is done with it.
struct temp_path {
    std::string path;
    explicit temp_path(const char* name)
        : path{"/tmp/tcpx_pcap_test_" + std::to_string(::getpid()) + "_" + name + ".pcap"}
    {
    }
    ~temp_path() { std::remove(path.c_str()); }
};

bytes read_file(const std::string& path)
{
    std::ifstream in{path, std::ios::binary};
    return bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

// The expected bytes of a field as this machine writes it (the format is in the
// writer's byte order; the magic number tells a reader which).
void append32(bytes& b, std::uint32_t v)
{
    std::uint8_t raw[4];
    std::memcpy(raw, &v, 4);
    b.insert(b.end(), raw, raw + 4);
}
void append16(bytes& b, std::uint16_t v)
{
    std::uint8_t raw[2];
    std::memcpy(raw, &v, 2);
    b.insert(b.end(), raw, raw + 2);
}

bytes file_header()
{
    bytes b;
    append32(b, 0xa1b2c3d4);  // microsecond timestamps
    append16(b, 2);           // version 2.4
    append16(b, 4);
    append32(b, 0);           // thiszone
    append32(b, 0);           // sigfigs
    append32(b, 65535);       // snaplen
    append32(b, 101);         // LINKTYPE_RAW
    return b;
}

void append_record(bytes& b, std::uint32_t sec, std::uint32_t usec, const bytes& packet)
{
    append32(b, sec);
    append32(b, usec);
    append32(b, static_cast<std::uint32_t>(packet.size()));
    append32(b, static_cast<std::uint32_t>(packet.size()));
    b.insert(b.end(), packet.begin(), packet.end());
}

// RFC 791 §3.1: a minimal IPv4 header (protocol 253: RFC 3692 experimentation)
// with a valid RFC 1071 checksum, so tcpdump decodes it cleanly.
bytes make_packet(std::size_t size, std::uint8_t src_host, std::uint8_t dst_host, std::uint8_t fill)
{
    bytes p(size, fill);
    std::memset(p.data(), 0, 20);
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(size >> 8);
    p[3] = static_cast<std::uint8_t>(size);
    p[8] = 64;
    p[9] = 253;
    const std::uint8_t src[4] = {10, 0, 0, src_host};
    const std::uint8_t dst[4] = {10, 0, 0, dst_host};
    std::memcpy(&p[12], src, 4);
    std::memcpy(&p[16], dst, 4);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) {
        sum += std::uint32_t{p[i]} << 8 | p[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    p[10] = static_cast<std::uint8_t>(~sum >> 8);
    p[11] = static_cast<std::uint8_t>(~sum);
    return p;
}

template <class D>
void send(D& d, const bytes& p, instant t)
{
    const auto room = d.transmit_buffer(p.size());
    REQUIRE(room.size() == p.size());
    std::memcpy(room.data(), p.data(), p.size());
    d.transmit(p.size(), t);
}

bool installed(const char* tool)
{
    const std::string probe = std::string{"command -v "} + tool + " >/dev/null 2>&1";
    return std::system(probe.c_str()) == 0;
}

}  // namespace

// pcap(5): the 24-byte file header, field by field.
TEST_CASE("pcap_file_header_is_classic_microsecond_version_2_4_linktype_raw")
{
    temp_path tmp{"header"};
    std::error_code ec;
    {
        pcap_file file{tmp.path, ec};
        REQUIRE_FALSE(ec);
        CHECK(file.is_open());
    }
    CHECK(read_file(tmp.path) == file_header());
}

// Both directions are recorded, in call order, each stamped with the t given to
// transmit() or receive(): seconds and microseconds since the instant epoch.
TEST_CASE("pcap_records_both_directions_with_the_instant_as_timestamp")
{
    temp_path tmp{"records"};
    loopback_link link;
    std::error_code ec;
    pcap dev{tmp.path, ec, link.end(0)};
    static_assert(std::is_same_v<decltype(dev), pcap<loopback&>>);
    REQUIRE_FALSE(ec);

    const bytes out1 = make_packet(40, 1, 2, 0xaa);
    const bytes out2 = make_packet(1500, 1, 2, 0xbb);
    const bytes in1 = make_packet(60, 2, 1, 0xcc);
    send(dev, out1, at(1'500'000));
    send(dev, out2, at(2'000'001));
    send(link.end(1), in1, at(2'999'999));
    bytes seen;
    CHECK(dev.receive(at(3'000'000), [&](std::span<const std::uint8_t> p) { seen.assign(p.begin(), p.end()); }, 8) == 1);
    CHECK(seen == in1);
    // The packets still reach the far end unchanged.
    std::size_t arrived = 0;
    link.end(1).receive(at(3'000'000), [&](std::span<const std::uint8_t>) { ++arrived; }, 8);
    CHECK(arrived == 2);

    dev.flush();
    CHECK(dev.file().packets() == 3);
    bytes expect = file_header();
    append_record(expect, 1, 500'000, out1);
    append_record(expect, 2, 1, out2);
    append_record(expect, 3, 0, in1);
    const bytes got = read_file(tmp.path);
    REQUIRE(got.size() == expect.size());
    for (std::size_t i = 0; i < expect.size(); ++i) {  // byte by byte, to say where
        if (got[i] != expect[i]) {
            FAIL_CHECK("first difference at byte " << i);
            break;
        }
    }
    CHECK_FALSE(dev.error());
}

// concepts.hpp: a transmit_buffer the caller did not send is not a packet, so
// nothing is recorded for it; a transmit of n bytes records exactly n.
TEST_CASE("pcap_records_only_the_n_bytes_transmitted")
{
    temp_path tmp{"partial"};
    loopback_link link;
    std::error_code ec;
    pcap dev{tmp.path, ec, link.end(0)};
    const bytes p = make_packet(100, 1, 2, 0x11);
    auto room = dev.transmit_buffer(1500);
    REQUIRE(room.size() == 1500);
    std::memcpy(room.data(), p.data(), p.size());
    dev.transmit(p.size(), at(1'000'000));
    dev.transmit(p.size(), at(1'000'001));  // no buffer open: nothing sent or recorded
    dev.flush();
    bytes expect = file_header();
    append_record(expect, 1, 0, p);
    CHECK(read_file(tmp.path) == expect);
}

// File errors are std::error_code from errno; the device keeps working unrecorded.
TEST_CASE("pcap_open_failure_reports_errno_and_the_device_still_carries_packets")
{
    loopback_link link;
    std::error_code ec;
    pcap dev{"/nonexistent-tcpx-dir/x.pcap", ec, link.end(0)};
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK_FALSE(dev.file().is_open());
    send(dev, make_packet(40, 1, 2, 0), at(1'000'000));
    CHECK(link.end(1).waiting() == 1);
    CHECK(dev.file().packets() == 0);
}

// A write error (here: a full device) is kept, reported by flush(), and ends
// recording; it is not thrown from the packet path.
TEST_CASE("pcap_write_error_is_sticky_and_never_thrown_per_packet")
{
    std::error_code ec;
    pcap_file file{"/dev/full", ec};
    if (ec) {
        MESSAGE("skipped: /dev/full cannot be opened here (" << ec.message() << ")");
        return;
    }
    const bytes p = make_packet(1500, 1, 2, 0);
    for (int i = 0; i < 1000; ++i) {  // more than the stdio buffer
        file.write(at(1'000'000 + i), p);
    }
    file.flush(ec);
    CHECK(ec == std::errc::no_space_on_device);
    CHECK(file.error() == std::errc::no_space_on_device);
    CHECK_THROWS_AS(file.flush(), std::system_error);
}

// The decorators compose: pcap inside impaired records what crossed the impaired
// "wire", at the instants the packets left it.
TEST_CASE("pcap_inside_impaired_records_the_delayed_departure_time")
{
    temp_path tmp{"impaired"};
    loopback_link link;
    std::error_code ec;
    impaired<pcap<loopback&>> dev{impairment_config{.transmit = {.delay = std::chrono::milliseconds{5}}},
                                  tmp.path, ec, link.end(0)};
    REQUIRE_FALSE(ec);
    const bytes p = make_packet(64, 1, 2, 0x5a);
    send(dev, p, at(1'000'000));
    dev.receive(at(1'010'000), [](std::span<const std::uint8_t>) {}, 8);  // a poll after the due time
    dev.inner().flush();
    bytes expect = file_header();
    append_record(expect, 1, 5'000, p);  // due at 1.005 s, not the poll's 1.010 s
    CHECK(read_file(tmp.path) == expect);
}

// The file is what tcpdump expects: it reads it without error and decodes the
// IPv4 addresses. Skipped when tcpdump is not installed.
TEST_CASE("pcap_file_is_read_by_tcpdump")
{
    if (!installed("tcpdump")) {
        MESSAGE("skipped: tcpdump is not installed");
        return;
    }
    temp_path tmp{"tcpdump"};
    const std::string out = tmp.path + ".txt";
    {
        loopback_link link;
        std::error_code ec;
        pcap dev{tmp.path, ec, link.end(0)};
        REQUIRE_FALSE(ec);
        send(dev, make_packet(100, 1, 2, 0x42), at(1'000'000));
        send(dev, make_packet(200, 1, 2, 0x43), at(1'000'100));
    }  // the destructor closes the file
    const std::string cmd = "tcpdump -r " + tmp.path + " -n > " + out + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in{out};
    std::stringstream text;
    text << in.rdbuf();
    std::remove(out.c_str());
    INFO("tcpdump said: " << text.str());
    CHECK(rc == 0);
    CHECK(text.str().find("10.0.0.1 > 10.0.0.2") != std::string::npos);
    CHECK(text.str().find("RAW") != std::string::npos);  // "link-type RAW (Raw IP)"
}
