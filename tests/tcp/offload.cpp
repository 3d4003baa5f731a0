// Scenario tests: a stack on a device with checksum and segmentation offload
// (tcpx::offload_device, concepts.hpp) — what the stack hands the device (partial
// checksums, segments of several MSS with segment_size), what it accepts from it
// (packet_info::checksum_valid, coalesced segments), and that a transfer through the
// offloaded path arrives byte-exact.
//
// Have open: RFC 9293 §3.1 (the checksum and its pseudo-header), §3.7.1 (MSS);
// RFC 1071 (the one's complement sum, partial sums); RFC 5681 §3.1 (cwnd, the loss
// window after an RTO), §4.2 (ACK generation); RFC 1122 §4.2.3.2 (delayed ACKs).
//
// The device here plays the kernel's part the way Linux does for TUN with virtio-net
// headers (tcpx/device/tun.hpp): a packet marked checksum_partial gets its checksum
// completed, one with segment_size is cut into pieces of that size behind copies of
// its headers. The tests either script the peer by hand or put a second, plain stack
// behind that emulated kernel.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "support/probe_device.hpp"
#include "support/scenario.hpp"
#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

using bytes = std::vector<std::uint8_t>;

constexpr std::uint16_t mss = 1460;  // an MTU of 1500 less 40 bytes of headers, both ends

/// An offload_device for tests: the test injects packets, each with the packet_info
/// the device reports for it, and inspects every packet the stack handed over with
/// the transmit_offload that came with it.
struct offload_probe {
    struct arrival {
        bytes packet;
        packet_info info;
    };
    struct departure {
        bytes packet;
        transmit_offload offload;
        bool offloaded = false;  ///< handed over by transmit(n, t, o), not transmit(n, t)
    };

    std::size_t mtu_ = 1500;
    device_offloads offloads_;
    std::deque<arrival> inbox;
    std::vector<departure> outbox;
    bytes scratch = bytes(65536);

    std::size_t mtu() const { return mtu_; }
    device_offloads offloads() const { return offloads_; }

    template <class F>
    std::size_t receive(instant, F&& f, std::size_t n)
    {
        std::size_t k = 0;
        for (; k < n && !inbox.empty(); ++k) {
            const arrival a = std::move(inbox.front());
            inbox.pop_front();
            f(std::span<const std::uint8_t>{a.packet}, a.info);
        }
        return k;
    }
    std::span<std::uint8_t> transmit_buffer(std::size_t n)
    {
        if (n > std::max(mtu_, offloads_.max_segment_bytes)) return {};
        return {scratch.data(), n};
    }
    void transmit(std::size_t n, instant) { outbox.push_back({first(n), transmit_offload{}, false}); }
    void transmit(std::size_t n, instant, const transmit_offload& o) { outbox.push_back({first(n), o, true}); }
    instant next_deadline() const { return inbox.empty() ? never : instant{}; }

    bytes first(std::size_t n) const { return {scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n)}; }
};
static_assert(tcpx::offload_device<offload_probe>);
using departure = offload_probe::departure;

offload_probe device_with(device_offloads o)
{
    offload_probe d;
    d.offloads_ = o;
    return d;
}

/// An IPv4 packet from `ip`'s addresses carrying `h` and `payload`, checksums complete.
bytes build_packet(wire::ipv4_header ip, const wire::tcp_header& h, std::span<const std::uint8_t> payload)
{
    bytes p(wire::ipv4_header::size + h.size() + payload.size());
    ip.payload_length = static_cast<std::uint16_t>(h.size() + payload.size());
    REQUIRE_FALSE(ip.emit(p));
    const auto seg = std::span{p}.subspan(wire::ipv4_header::size);
    REQUIRE_FALSE(h.emit(seg));
    std::copy(payload.begin(), payload.end(), seg.begin() + static_cast<std::ptrdiff_t>(h.size()));
    wire::fill_tcp_checksum(seg, ip.source, ip.destination);
    return p;
}

/// Finishes a partial checksum as the kernel does (virtio-net NEEDS_CSUM): the one's
/// complement sum from `start` to the end, the field at start + offset holding the
/// seed, complemented into that field.
void complete_checksum(std::span<std::uint8_t> packet, std::size_t start, std::size_t offset)
{
    REQUIRE(start + offset + 2 <= packet.size());
    wire::checksum_accumulator acc;
    acc.add(packet.subspan(start));
    const std::uint16_t sum = acc.finish();
    packet[start + offset] = static_cast<std::uint8_t>(sum >> 8);
    packet[start + offset + 1] = static_cast<std::uint8_t>(sum);
}

/// What the kernel puts on the wire for one packet the device was handed: a packet
/// with segment_size is cut into pieces of that size behind copies of its headers
/// (SEG.SEQ advanced, FIN and PSH on the last piece only), each checksummed in full;
/// otherwise a partial checksum is completed; a plain packet goes as it is.
std::vector<bytes> kernel_output(const departure& d)
{
    const std::size_t size = d.offload.segment_size;
    if (size == 0) {
        bytes p = d.packet;
        if (d.offload.checksum_partial) complete_checksum(p, d.offload.checksum_start, d.offload.checksum_offset);
        return {p};
    }
    const wire::ipv4_view ip{d.packet};
    REQUIRE_FALSE(ip.check());
    const wire::tcp_view tv{ip.payload()};
    REQUIRE_FALSE(tv.check());
    wire::tcp_header h;
    REQUIRE_FALSE(wire::tcp_header::parse(tv, h));
    const auto payload = tv.payload();
    const auto last_only = static_cast<std::uint8_t>(FIN | PSH);
    std::vector<bytes> pieces;
    for (std::size_t off = 0; off < payload.size(); off += size) {
        const std::size_t n = std::min(size, payload.size() - off);
        wire::tcp_header piece = h;
        piece.seq = h.seq + static_cast<std::uint32_t>(off);
        if (off + n < payload.size())
            piece.flags = static_cast<tcp_flags>(static_cast<std::uint8_t>(h.flags) & ~last_only);
        pieces.push_back(build_packet(wire::ipv4_header::from(ip), piece, payload.subspan(off, n)));
    }
    return pieces;
}

/// RFC 9293 §3.1: the folded (not complemented) sum of the IPv4 pseudo-header,
/// worked out here word by word rather than with the library's accumulator.
std::uint16_t pseudo_header_sum(wire::ipv4_address source, wire::ipv4_address destination, std::size_t tcp_length)
{
    std::uint32_t sum = (source.value >> 16) + (source.value & 0xffff) + (destination.value >> 16) +
                        (destination.value & 0xffff) + 6 + static_cast<std::uint32_t>(tcp_length);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

std::size_t send_text(auto& st, socket s, std::string_view text)
{
    std::error_code ec;
    return st.send(s, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, ec);
}

std::span<const std::uint8_t> as_bytes(std::string_view text)
{
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

/// A stack at 10.0.0.1 on an offload_probe, a manual clock, and the test as the peer
/// at 10.0.0.2 (the offloaded cousin of tests/support/scenario.hpp).
class offload_scenario {
public:
    using stack_type = stack<offload_probe&, clocks::manual>;

    explicit offload_scenario(device_offloads o, config cfg = scenario_config())
        : dev{device_with(o)}, st{dev, clocks::manual{time}, cfg}
    {
    }

    clocks::manual_timeline time;
    offload_probe dev;
    stack_type st;
    wire::ipv4_address peer_address{10, 0, 0, 2};
    std::uint16_t peer_port = 40000;
    std::uint16_t local_port = 0;    ///< the stack's ephemeral port, from its SYN
    std::uint16_t peer_window = 65535;
    seq32 peer_nxt{1001};            ///< the peer's next sequence number (its ISN is 1000)
    seq32 stack_nxt;                 ///< the stack's first unsent byte after the handshake

    /// connect(); the SYN; a SYN-ACK announcing `peer_mss`; the ACK: ESTABLISHED.
    socket establish(std::uint16_t peer_mss = mss)
    {
        std::error_code ec;
        const socket s = st.connect(peer_address, peer_port, ec);
        REQUIRE_FALSE(ec);
        const auto syn = take_on_wire();
        REQUIRE(syn.size() == 1);
        REQUIRE(syn[0].flags() == SYN);
        CHECK(syn[0].checksum_ok);
        local_port = syn[0].tcp.source_port;
        stack_nxt = syn[0].seq() + 1;
        wire::tcp_header synack = segment(SYN | ACK, peer_nxt - 1, stack_nxt);
        synack.options.mss = peer_mss;
        inject(synack);
        const auto ack = take_on_wire();
        REQUIRE(ack.size() == 1);
        REQUIRE(ack[0].flags() == ACK);
        CHECK(ack[0].checksum_ok);
        REQUIRE(st.state(s) == tcp::state::established);
        return s;
    }

    wire::tcp_header segment(tcp_flags flags, seq32 seq, seq32 ack) const
    {
        return {.source_port = peer_port, .destination_port = local_port, .seq = seq, .ack = ack, .flags = flags,
                .window = peer_window, .urgent_pointer = 0, .options = {}};
    }
    wire::tcp_header peer_ack(seq32 ack) const { return segment(ACK, peer_nxt, ack); }

    /// The packet, with valid checksums, from the peer.
    bytes build(const wire::tcp_header& h, std::span<const std::uint8_t> payload = {}) const
    {
        wire::ipv4_header ip;
        ip.source = peer_address;
        ip.destination = st.configuration().address;
        return build_packet(ip, h, payload);
    }
    /// Queues a packet the device will deliver with `info`; nothing is polled.
    void queue(bytes packet, packet_info info = {}) { dev.inbox.push_back({std::move(packet), info}); }
    void queue(const wire::tcp_header& h, std::span<const std::uint8_t> payload = {}, packet_info info = {})
    {
        queue(build(h, payload), info);
    }
    /// Queues and polls.
    void inject(const wire::tcp_header& h, std::span<const std::uint8_t> payload = {}, packet_info info = {})
    {
        queue(h, payload, info);
        st.poll();
    }

    /// Polls once; every packet handed to the device since the last call, as handed.
    std::vector<departure> take()
    {
        st.poll();
        return std::exchange(dev.outbox, {});
    }
    /// take(), then what the kernel put on the wire for them, parsed.
    std::vector<captured> take_on_wire()
    {
        std::vector<captured> out;
        for (const departure& d : take())
            for (const bytes& p : kernel_output(d)) out.push_back(scenario::parse(p));
        return out;
    }
    /// Advances to the stack's next deadline and polls there.
    void advance_to_deadline()
    {
        const instant next = st.poll();
        REQUIRE(next != never);
        time.advance_to(next);
        st.poll();
    }

    const stack_type::connection_type& conn(socket s) const
    {
        const auto* c = st.connection(s);
        REQUIRE(c != nullptr);
        return *c;
    }
};

}  // namespace

// ---- sending with offloads ----

TEST_CASE("established_send_with_tso_emits_segments_of_whole_mss_multiples")
{
    // With TSO one emitted segment carries several MSS and tells the device the MSS to
    // cut it by; only whole MSS unless it ends the queued data, so the device cuts no
    // runt; and never past cwnd (RFC 5681 §3.1) nor the peer's window (RFC 9293 §3.8.6).
    // A window of 50000 (not a multiple of the MSS) is the limit once cwnd has grown.
    config cfg = scenario_config();
    cfg.send_buffer = 256 * 1024;
    offload_scenario t{{.checksum = true, .max_segment_bytes = 65535}, cfg};
    t.peer_window = 50000;
    const socket s = t.establish();
    const std::size_t total = 200'000;
    REQUIRE(send_text(t.st, s, pattern(total)) == total);
    const seq32 end = t.stack_nxt + static_cast<std::uint32_t>(total);
    seq32 acked = t.stack_nxt;
    std::size_t largest = 0;
    for (int round = 0; round < 100 && acked != end; ++round) {
        const auto out = t.take();
        REQUIRE_FALSE(out.empty());
        const std::uint32_t cwnd = t.conn(s).congestion().cwnd();  // what this poll's output saw
        seq32 received = acked;
        for (const departure& d : out) {
            const captured c = scenario::parse(d.packet);
            INFO("round " << round << ": " << describe(c) << " segment_size=" << d.offload.segment_size
                          << " cwnd=" << cwnd);
            const std::size_t len = c.payload.size();
            CHECK(d.offloaded);
            CHECK(d.offload.checksum_partial);
            CHECK(d.packet.size() <= 65535);
            CHECK(d.offload.segment_size == (len > mss ? mss : 0));
            CHECK((len % mss == 0 || c.seq() + static_cast<std::uint32_t>(len) == end));
            CHECK(c.seq() == received);
            received = c.seq() + static_cast<std::uint32_t>(len);
            const auto reach = static_cast<std::uint32_t>(received - acked);
            CHECK(reach <= t.peer_window);
            CHECK(reach <= cwnd);
            largest = std::max(largest, len);
        }
        // The peer ACKs every second MSS the kernel put on the wire, the ACKs read in one poll.
        for (seq32 a = acked; a != received;) {
            a = a + std::min<std::uint32_t>(2 * mss, static_cast<std::uint32_t>(received - a));
            t.queue(t.peer_ack(a));
        }
        acked = received;
    }
    CHECK(acked == end);
    CHECK(largest == 34 * mss);  // the whole MSS within the 50000-byte window
}

TEST_CASE("established_send_with_small_tso_limit_keeps_packets_within_it")
{
    // device_offloads::max_segment_bytes is the largest packet the device cuts: 9000
    // leaves 8920 bytes for payload after 80 of headers, whole MSS: 6 * 1460 = 8760.
    offload_scenario t{{.checksum = true, .max_segment_bytes = 9000}};
    const socket s = t.establish();
    REQUIRE(send_text(t.st, s, pattern(60'000)) == 60'000);
    std::size_t largest = 0;
    seq32 acked = t.stack_nxt;
    for (int round = 0; round < 20; ++round) {
        for (const departure& d : t.take()) {
            const captured c = scenario::parse(d.packet);
            INFO(describe(c));
            CHECK(d.packet.size() <= 9000);
            largest = std::max(largest, c.payload.size());
            acked = c.seq() + static_cast<std::uint32_t>(c.payload.size());
        }
        t.queue(t.peer_ack(acked));
    }
    CHECK(largest == 6 * mss);
}

TEST_CASE("established_send_with_checksum_offload_leaves_pseudo_header_sum")
{
    // RFC 9293 §3.1 / RFC 1071: with checksum offload the field holds the folded sum of
    // the pseudo-header only (src, dst, protocol 6, TCP length); the device sums the TCP
    // header and payload from checksum_start (the IPv4 header's 20 bytes) onto it and
    // stores the complement at checksum_offset 16 — and then the segment verifies.
    offload_scenario t{{.checksum = true, .max_segment_bytes = 0}};
    const socket s = t.establish();
    REQUIRE(send_text(t.st, s, "hello") == 5);
    const auto out = t.take();
    REQUIRE(out.size() == 1);
    const departure& d = out[0];
    CHECK(d.offloaded);
    CHECK(d.offload.checksum_partial);
    CHECK(d.offload.checksum_start == 20);
    CHECK(d.offload.checksum_offset == 16);
    CHECK(d.offload.segment_size == 0);
    const std::size_t tcp_length = d.packet.size() - 20;
    const auto field = static_cast<std::uint16_t>(d.packet[20 + 16] << 8 | d.packet[20 + 17]);
    CHECK(field == pseudo_header_sum(t.st.configuration().address, t.peer_address, tcp_length));
    const captured sent = scenario::parse(d.packet);
    CHECK(sent.text() == "hello");  // the payload is copied, whatever happens to the sum
    bytes finished = d.packet;
    complete_checksum(finished, d.offload.checksum_start, d.offload.checksum_offset);
    const wire::ipv4_view ip{finished};
    REQUIRE_FALSE(ip.check());
    CHECK(wire::tcp_view{ip.payload()}.checksum_ok(ip.source(), ip.destination()));
}

TEST_CASE("established_send_with_checksum_offload_only_emits_mss_segments")
{
    // Checksum offload without TSO (max_segment_bytes 0): segments stay within the MSS
    // and the MTU, each with a partial checksum the device completes, none to be cut.
    offload_scenario t{{.checksum = true, .max_segment_bytes = 0}};
    const socket s = t.establish();
    REQUIRE(send_text(t.st, s, pattern(4 * mss)) == 4 * mss);
    const auto out = t.take();
    REQUIRE(out.size() == 3);  // RFC 5681 §3.1: IW = 3 * 1460
    for (const departure& d : out) {
        CHECK(d.packet.size() <= t.dev.mtu());
        CHECK(d.offload.checksum_partial);
        CHECK(d.offload.segment_size == 0);
        const auto on_wire = kernel_output(d);
        REQUIRE(on_wire.size() == 1);
        const captured c = scenario::parse(on_wire[0]);
        CHECK(c.payload.size() == mss);
        CHECK(c.checksum_ok);
    }
}

TEST_CASE("no_offload_device_sends_complete_checksums_and_mss_segments")
{
    // A plain device (no offload_device): every segment within the MSS, its checksum
    // complete (RFC 9293 §3.1), the payload whole, as before offloads existed.
    scenario t;
    const socket s = establish(t);
    const std::size_t total = 40'000;
    REQUIRE(t.send(s, pattern(total)) == total);
    std::string got;
    for (int round = 0; round < 20 && got.size() < total; ++round) {
        const auto out = t.sent();
        REQUIRE_FALSE(out.empty());
        for (const captured& c : out) {
            INFO(describe(c));
            CHECK(c.checksum_ok);
            CHECK(c.payload.size() <= mss);
            got += c.text();
        }
        t.dev.inbox.push_back(t.build(t.peer_ack(t.stack_nxt + static_cast<std::uint32_t>(got.size()))));
    }
    CHECK(got == pattern(total));
    for (const auto& p : t.dev.outbox) CHECK(p.size() <= t.dev.mtu());
}

TEST_CASE("established_send_on_offload_device_with_offloads_off_uses_plain_transmit")
{
    // An offload_device that offers nothing (TUN without IFF_VNET_HDR): the stack uses
    // the plain transmit(n, t) with complete checksums and MSS-sized segments.
    offload_scenario t{device_offloads{}};
    const socket s = t.establish();
    REQUIRE(send_text(t.st, s, pattern(3 * mss)) == 3 * mss);
    const auto out = t.take();
    REQUIRE(out.size() == 3);
    for (const departure& d : out) {
        CHECK_FALSE(d.offloaded);
        CHECK(d.packet.size() <= t.dev.mtu());
        const captured c = scenario::parse(d.packet);
        CHECK(c.payload.size() == mss);
        CHECK(c.checksum_ok);
    }
}

TEST_CASE("established_send_with_tso_without_checksum_offload_marks_segment_size")
{
    // concepts.hpp: max_segment_bytes is what the device cuts into MSS-sized segments,
    // and transmit_offload::segment_size is how it learns the MSS. A device that cuts
    // but leaves checksums to the stack must still be told to cut a packet above the
    // MSS — handed over plainly, it would go out as one packet beyond the MTU.
    offload_scenario t{{.checksum = false, .max_segment_bytes = 65535}};
    const socket s = t.establish();
    REQUIRE(send_text(t.st, s, pattern(10 * mss)) == 10 * mss);
    const auto out = t.take();
    REQUIRE_FALSE(out.empty());
    for (const departure& d : out) {
        const captured c = scenario::parse(d.packet);
        INFO(describe(c) << " offloaded=" << d.offloaded << " segment_size=" << d.offload.segment_size);
        CHECK(c.checksum_ok);  // no checksum offload: the stack's own, complete
        if (c.payload.size() > mss) {
            CHECK(d.offloaded);
            CHECK(d.offload.segment_size == mss);
        } else {
            CHECK(d.packet.size() <= t.dev.mtu());
        }
    }
}

// ---- receiving with offloads ----

TEST_CASE("established_receive_checksum_valid_info_skips_verification")
{
    // RFC 1122 §4.2.2.7 (MUST) is met by whoever verified: a segment the device reports
    // checksum_valid is taken with whatever its field holds (the kernel leaves it
    // partial for a packet that never left the host); the same damage without the flag
    // is dropped and counted as tcp_bad_checksum.
    offload_scenario t{{.checksum = true, .max_segment_bytes = 65535}};
    const socket s = t.establish();
    const auto bad_checksum = [&](seq32 seq, std::string_view text) {
        bytes p = t.build(t.segment(ACK | PSH, seq, t.stack_nxt), as_bytes(text));
        p[20 + 16] ^= 0x5a;  // the TCP checksum field
        return p;
    };
    const auto drops_before = t.st.counters().dropped(drop_reason::tcp_bad_checksum);

    t.queue(bad_checksum(t.peer_nxt, "abc"), packet_info{.checksum_valid = true});
    t.st.poll();
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == drops_before);
    CHECK(t.conn(s).rcv().nxt == t.peer_nxt + 3);
    std::vector<std::uint8_t> buf(16);
    std::error_code ec;
    CHECK(t.st.receive(s, buf, ec) == 3);
    CHECK(std::string_view{reinterpret_cast<const char*>(buf.data()), 3} == "abc");
    t.peer_nxt = t.peer_nxt + 3;

    t.queue(bad_checksum(t.peer_nxt, "def"));
    t.st.poll();
    CHECK(t.st.counters().dropped(drop_reason::tcp_bad_checksum) == drops_before + 1);
    CHECK(t.conn(s).rcv().nxt == t.peer_nxt);
    CHECK_FALSE(t.st.readable(s));
}

TEST_CASE("established_receive_coalesced_segment_is_acked_at_once")
{
    // Receive offload hands over several MSS as one segment. RFC 1122 §4.2.3.2 / RFC 5681
    // §4.2 want an ACK for at least every second full segment: 10 MSS in one is ACKed in
    // the same poll, with no delayed-ACK wait. One MSS alone still waits (the contrast).
    offload_scenario t{{.checksum = true, .max_segment_bytes = 65535}};
    const socket s = t.establish();

    const std::string one = pattern(mss);
    t.queue(t.segment(ACK, t.peer_nxt, t.stack_nxt), as_bytes(one), {.checksum_valid = true});
    CHECK(t.take_on_wire().empty());  // a single full segment: the delayed ACK
    t.peer_nxt = t.peer_nxt + mss;
    t.advance_to_deadline();          // the delayed ACK leaves; nothing owed afterwards
    const auto delayed = t.take_on_wire();
    REQUIRE(delayed.size() == 1);
    CHECK(delayed[0].ack() == t.peer_nxt);

    const std::string ten = pattern(10 * mss, mss);
    t.queue(t.segment(ACK, t.peer_nxt, t.stack_nxt), as_bytes(ten), {.checksum_valid = true});
    const auto out = t.take_on_wire();  // same instant: no timer has run
    REQUIRE(out.size() == 1);
    CHECK(out[0].flags() == ACK);
    CHECK(out[0].ack() == t.peer_nxt + 10 * mss);
    CHECK(t.conn(s).rcv().nxt == t.peer_nxt + 10 * mss);
}

// ---- retransmission with TSO ----

TEST_CASE("established_rto_with_tso_resends_one_mss_first")
{
    // RFC 5681 §3.1: after a retransmission timeout cwnd is the loss window, one segment,
    // and RFC 6298 §5.4 resends the earliest unacknowledged one — one MSS, however many
    // the lost TSO segment carried; the next ACK lets two go (slow start from LW).
    offload_scenario t{{.checksum = true, .max_segment_bytes = 65535}};
    const socket s = t.establish();
    REQUIRE(send_text(t.st, s, pattern(20 * mss)) == 20 * mss);
    const auto first = t.take();
    REQUIRE(first.size() == 1);
    CHECK(scenario::parse(first[0].packet).payload.size() == 3 * mss);  // IW, as one TSO segment
    CHECK(first[0].offload.segment_size == mss);

    t.advance_to_deadline();  // the retransmission timer; nothing was acknowledged
    CHECK(t.conn(s).stats().timeouts == 1);
    const auto resent = t.take();
    REQUIRE(resent.size() == 1);
    const captured r = scenario::parse(resent[0].packet);
    CHECK(r.seq() == t.stack_nxt);
    CHECK(r.payload.size() == mss);
    CHECK(resent[0].offload.segment_size == 0);
    CHECK(r.text() == pattern(mss));

    t.inject(t.peer_ack(t.stack_nxt + mss));
    const auto next = t.take();
    std::size_t bytes_next = 0;
    for (const departure& d : next) bytes_next += scenario::parse(d.packet).payload.size();
    CHECK(bytes_next == 2 * mss);
}

// ---- end to end ----

namespace {

/// Stack A (10.0.0.1) on an offload_probe, stack B (10.0.0.2) on a plain probe_device;
/// A's packets reach B through kernel_output(), B's reach A as they are.
class tso_link {
public:
    static config config_for(wire::ipv4_address address)
    {
        config c;
        c.address = address;
        c.isn_secret = std::array<std::uint64_t, 2>{0x1234, 0x5678};
        return c;
    }

    explicit tso_link(device_offloads o)
        : a_dev{device_with(o)}, a{a_dev, clocks::manual{time}, config_for({10, 0, 0, 1})},
          b{b_dev, clocks::manual{time}, config_for({10, 0, 0, 2})}
    {
    }

    clocks::manual_timeline time;
    offload_probe a_dev;
    probe_device b_dev;
    stack<offload_probe&, clocks::manual> a;
    stack<probe_device&, clocks::manual> b;
    std::size_t large_packets = 0;  ///< A's packets above the MTU (cut by the "kernel")

    /// Polls both, then moves every packet one hop; false when nothing moved.
    bool step()
    {
        a.poll();
        b.poll();
        bool moved = false;
        for (const departure& d : std::exchange(a_dev.outbox, {})) {
            if (d.packet.size() > a_dev.mtu()) ++large_packets;
            for (bytes& p : kernel_output(d)) b_dev.inbox.push_back(std::move(p));
            moved = true;
        }
        for (bytes& p : std::exchange(b_dev.outbox, {})) {
            a_dev.inbox.push_back({std::move(p), packet_info{}});
            moved = true;
        }
        return moved;
    }
    /// step(), or when nothing moved, time to the next deadline of either stack.
    void run_once()
    {
        if (step()) return;
        const instant next = std::min(a.next_deadline(), b.next_deadline());
        if (next != never) time.advance_to(next);
    }
};

std::uint8_t byte_at(std::size_t i)
{
    return static_cast<std::uint8_t>((i * 2654435761u) >> 13 ^ i / 4093);
}

}  // namespace

TEST_CASE("established_tso_transfer_end_to_end_is_byte_exact")
{
    // 4 MiB from A (TSO and checksum offload) to B through the emulated kernel, which
    // cuts and checksums as Linux does: every byte arrives, in order, with no drop at B
    // (every completed checksum verifies) and no retransmission at A.
    tso_link link{{.checksum = true, .max_segment_bytes = 65535}};
    std::error_code ec;
    const listener l = link.b.listen(80, 8, ec);
    REQUIRE_FALSE(ec);
    const socket sa = link.a.connect({10, 0, 0, 2}, 80, ec);
    REQUIRE_FALSE(ec);
    socket sb{};
    bool accepted = false;
    for (int i = 0; i < 100 && !accepted; ++i) {
        link.run_once();
        sb = link.b.accept(l, ec);
        accepted = !ec;
    }
    REQUIRE(accepted);
    REQUIRE(link.a.state(sa) == tcp::state::established);

    const std::size_t total = 4 * 1024 * 1024;
    std::vector<std::uint8_t> data(total);
    for (std::size_t i = 0; i < total; ++i) data[i] = byte_at(i);
    std::vector<std::uint8_t> got;
    got.reserve(total);
    std::vector<std::uint8_t> buf(256 * 1024);
    std::size_t queued = 0;
    for (int i = 0; i < 200'000 && got.size() < total; ++i) {
        if (queued < total) {
            std::error_code sec;
            queued += link.a.send(sa, std::span{data}.subspan(queued), sec);
        }
        link.run_once();
        std::error_code rec;
        const std::size_t n = link.b.receive(sb, buf, rec);
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    REQUIRE(got.size() == total);
    CHECK(std::mismatch(got.begin(), got.end(), data.begin()).first == got.end());
    CHECK(link.large_packets > 0);
    CHECK(link.a.counters().retransmitted_segments == 0);
    CHECK(link.b.counters().dropped_total() == 0);
    CHECK(link.a.counters().dropped_total() == 0);
}

TEST_CASE("established_tso_nagle_holds_the_runt_tail_while_data_is_unacknowledged")
{
    // RFC 1122 §4.2.3.4 with TSO: with data in flight and Nagle on, 1.5 MSS queued go out
    // as one whole MSS; the half-MSS tail waits for the ACK, as it would without TSO
    // (Linux's tcp_mss_split_point). Once everything is acknowledged it leaves.
    offload_scenario t{{.checksum = true, .max_segment_bytes = 65535}};
    const socket s = t.establish();
    REQUIRE(send_text(t.st, s, pattern(mss)) == mss);  // one MSS in flight
    const auto first = t.take_on_wire();
    REQUIRE(first.size() == 1);
    REQUIRE(send_text(t.st, s, pattern(mss + mss / 2)) == mss + mss / 2);
    const auto second = t.take_on_wire();
    REQUIRE(second.size() == 1);
    CHECK(second[0].payload.size() == mss);  // whole MSS only: the runt is held
    t.inject(t.peer_ack(t.stack_nxt + static_cast<std::uint32_t>(2 * mss)));
    const auto tail = t.take_on_wire();
    REQUIRE(tail.size() == 1);
    CHECK(tail[0].payload.size() == mss / 2);
}
