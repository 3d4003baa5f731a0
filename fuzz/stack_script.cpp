// libFuzzer target: the whole stack, driven by a script. The input is read as a
// sequence of steps — segments from a peer (built from the fuzzer's choices of flags,
// offsets from the sequence numbers it has seen, window, options and length), raw
// bytes as the TCP part of a datagram or as the whole datagram, IPv4 fragments (of
// fuzzer-chosen or patterned bytes, or of a whole peer segment or ping cut up and sent
// in a chosen order), advances of the manual clock, and the user's calls (listen,
// connect, send, receive, shutdown, close, abort, accept, options) — against a stack
// with a listener on port 80.
//
// Checked after every step (a violation calls abort(), which libFuzzer reports):
//   - no crash or undefined behaviour (ASan + UBSan; the pool poisons freed chunks);
//   - memory within config: the pool's bytes and its out-of-order share, the
//     connections (max_connections + max_time_wait), the recovery states, the
//     datagrams being reassembled (reassembly_datagrams);
//   - every packet the stack emits is well formed: IPv4 and TCP checks and checksums,
//     from our address, within the MTU;
//   - on every connection the script holds a socket for: each emitted segment lies in
//     [ISS, SND.MAX] and acknowledges no more than has arrived (RCV.NXT); its text is
//     the bytes send() accepted at that offset, and the FIN comes after all of them;
//   - what receive() returns is the peer's bytes, in order: every byte the script's
//     peer sends is a function of its sequence number, so any byte out of place shows
//     (connections that raw bytes may have reached are not judged by content);
// and at the end, once every socket is aborted and the clock has run on: no
// connection left, no chunk left in the pool, no datagram left half reassembled once
// the reassembly timeout has passed (RFC 1122 §3.3.2) — nothing leaked.
//
// Build by hand (meson builds it with -Dfuzz=true, clang only):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude
//           fuzz/stack_script.cpp -o /tmp/fuzz-stack-script
//   cp -r fuzz/corpus/stack_script /tmp/corpus
//   UBSAN_OPTIONS=halt_on_error=1 /tmp/fuzz-stack-script -max_total_time=60 /tmp/corpus
#include <tcpx/stack.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <utility>
#include <vector>

#include <boost/endian/conversion.hpp>

#include "../tests/support/probe_device.hpp"
#include "fuzz_assert.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace tcpx;
using namespace std::chrono_literals;
using wire::tcp_flags;

constexpr wire::ipv4_address ours{10, 0, 0, 1};
constexpr wire::ipv4_address peer{10, 0, 0, 2};
constexpr std::size_t link_mtu = 1500;
constexpr std::array<std::uint16_t, 4> peer_ports{40000, 40001, 40002, 40003};

// The script's input, read a byte at a time; zeros once it runs out.
using script = tcpx::fuzz::input;

// A byte of the peer's stream is a function of its sequence number, and a byte the
// user sends of its offset, so any byte out of place is seen where it lands.
std::uint8_t peer_byte(seq32 s) { return static_cast<std::uint8_t>((s.value() * 2654435761u) >> 24); }
std::uint8_t user_byte(std::uint64_t k) { return static_cast<std::uint8_t>((k * 40503u + 7) >> 3); }

// The scenario tests' device: injected packets wait in `inbox`, sent ones are kept in
// `outbox` (a packet beyond the MTU is refused, and the check below would see none).
using fuzz_device = test::probe_device;

using stack_type = stack<fuzz_device&, clocks::manual, cc::reno>;

config fuzz_config()
{
    config c;
    c.address = ours;
    c.isn_secret = std::array<std::uint64_t, 2>{0x1234, 0x5678};  // repeatable runs
    c.receive_buffer = 16 * 1024;
    c.send_buffer = 16 * 1024;
    c.pool_bytes = 48 * tcp::chunk_pool::chunk_size;
    c.max_connections = 6;
    c.max_time_wait = 3;
    c.max_half_open = 3;
    c.max_listen_backlog = 4;
    c.user_timeout = 30s;
    c.connect_timeout = 20s;
    c.msl = 5s;
    // Few slots, so fragments of more datagrams than fit evict the oldest; the 30 s
    // timeout as configured by default, which `advance` passes in one step.
    c.reassembly_datagrams = 3;
    return c;
}

// A socket the script holds, and what was sent and read on it.
struct held {
    socket s;
    std::uint64_t accepted = 0;  // bytes send() took
    std::uint64_t read = 0;      // bytes receive() gave
    bool shut = false;           // shutdown() returned no error: the FIN follows `accepted`
};

// What the script's peer has said on one of its ports: the sequence numbers its
// segments are built from, and what it learned of the stack's.
struct peer_side {
    seq32 iss{0};
    seq32 nxt{0};        // the next sequence number the peer sends
    seq32 stack_max{0};  // one past the highest the stack sent to this port
    bool raw = false;    // raw bytes may have reached a connection on this port
};

class run {
public:
    run() : st_{dev_, clocks::manual{time_}, fuzz_config()} { dev_.mtu_ = link_mtu; }

    void step(script& in)
    {
        switch (in.u8() % 14) {
        case 0: peer_segment(in); break;
        case 1: raw_tcp(in); break;
        case 2: raw_datagram(in); break;
        case 3: advance(in); break;
        case 4: connect(in); break;
        case 5: send(in); break;
        case 6: receive(in); break;
        case 7: if (auto* h = pick(in)) h->shut = !st_.shutdown(h->s) || h->shut; break;
        case 8: if (auto* h = pick(in)) { (void)st_.close(h->s); forget(h); } break;
        case 9: if (auto* h = pick(in)) { (void)st_.abort(h->s); forget(h); } break;
        case 10: accept(); break;
        case 12: fragment(in); break;
        case 13: ping(in); break;
        default: options(in); break;
        }
        poll_and_check();
    }

    // Every socket aborted, the clock run on: nothing may be left.
    void finish()
    {
        for (held& h : sockets_) (void)st_.abort(h.s);
        sockets_.clear();
        if (listening_) (void)st_.close(listener_);
        for (int i = 0; i < 20000 && st_.connection_count() != 0; ++i) {
            const instant next = st_.poll();
            time_.advance_to(next == never ? time_.now() + 1h : std::max(next, time_.now() + 1ms));
            poll_and_check();
        }
        FUZZ_ASSERT(st_.connection_count() == 0);
        FUZZ_ASSERT(st_.pool().bytes_in_use() == 0);
        FUZZ_ASSERT(st_.pool().out_of_order_in_use() == 0);
        FUZZ_ASSERT(st_.recovery_states().in_use() == 0);
        // RFC 1122 §3.3.2: a datagram not whole within the timeout is dropped.
        time_.advance(st_.configuration().reassembly_timeout + 1s);
        poll_and_check();
        FUZZ_ASSERT(st_.reassembly().datagrams_held() == 0);
    }

    void listen()
    {
        std::error_code ec;
        listener_ = st_.listen(80, 4, ec);
        listening_ = !ec;
    }

private:
    peer_side& side(std::uint16_t port) { return peers_[port - peer_ports[0]]; }

    // A segment from the peer, its fields chosen by the script around what it knows.
    void peer_segment(script& in)
    {
        const std::uint16_t port = peer_ports[in.u8() % peer_ports.size()];
        peer_side& p = side(port);
        const std::uint8_t f = in.u8();
        const auto flags = static_cast<tcp_flags>(f & 0x3f);
        const auto dseq = static_cast<std::int8_t>(in.u8());
        const auto dack = static_cast<std::int8_t>(in.u8());
        const std::uint16_t window = in.u16();
        const std::uint8_t opts = in.u8();
        std::size_t length = in.u16() % 1600;
        const std::uint16_t local = (f & 0x40) ? last_local_port_ : 80;
        split_ = (f & 0x80) ? in.u8() : 0;  // sent in fragments, to be reassembled

        wire::tcp_header h;
        h.source_port = port;
        h.destination_port = local;
        if (wire::has(flags, tcp_flags::syn) && !wire::has(flags, tcp_flags::ack) && dseq == 0) {
            const bool raw = p.raw;  // raw bytes may still reach an older connection
            p = peer_side{};         // a new connection from this port
            p.raw = raw;
            p.iss = seq32{std::uint32_t{in.u16()} << 16 | in.u16()};
            p.nxt = p.iss;
        }
        h.seq = p.nxt + static_cast<std::uint32_t>(static_cast<std::int32_t>(dseq) * 512);
        h.ack = p.stack_max + static_cast<std::uint32_t>(static_cast<std::int32_t>(dack));
        h.flags = flags;
        h.window = window;
        if (opts & 1) h.options.mss = static_cast<std::uint16_t>(in.u16() % 9000);
        if (opts & 2) h.options.window_scale = static_cast<std::uint8_t>(in.u8() % 16);
        if (opts & 4) h.options.sack_permitted = true;
        if (opts & 8) h.options.timestamp = wire::timestamps{std::uint32_t{in.u16()} * 1000u + stamp_++, last_tsval_};
        if (opts & 0x30) {
            const std::size_t n = std::min<std::size_t>((opts >> 4) & 3, h.options.timestamp ? 3 : 4);
            for (std::size_t k = 0; k < n; ++k) {
                const seq32 left = p.stack_max - static_cast<std::uint32_t>(in.u16());
                h.options.sack[k] = {left, left + static_cast<std::uint32_t>(in.u16() % 4096)};
            }
            h.options.sack_count = static_cast<std::uint8_t>(n);
        }
        length = std::min(length, link_mtu - wire::ipv4_header::size - h.size());
        std::vector<std::uint8_t> text(length);
        const seq32 first = h.seq + (wire::has(flags, tcp_flags::syn) ? 1u : 0u);
        for (std::size_t k = 0; k < length; ++k) text[k] = peer_byte(first + static_cast<std::uint32_t>(k));
        inject(h, text);
        // What the peer has now sent: in sequence, the next segment follows it.
        const seq32 end = first + static_cast<std::uint32_t>(length) + (wire::has(flags, tcp_flags::fin) ? 1u : 0u);
        if (dseq == 0 && !wire::has(flags, tcp_flags::rst)) p.nxt = end;
    }

    // Raw bytes as the TCP part of a datagram from the peer, checksum made right or not.
    void raw_tcp(script& in)
    {
        const std::uint8_t how = in.u8();
        const auto body = in.take(in.u8());
        std::vector<std::uint8_t> packet(wire::ipv4_header::size + body.size());
        wire::ipv4_header ip;
        ip.source = peer;
        ip.destination = ours;
        ip.payload_length = static_cast<std::uint16_t>(body.size());
        FUZZ_ASSERT(!ip.emit(packet));
        std::copy(body.begin(), body.end(), packet.begin() + wire::ipv4_header::size);
        auto seg = std::span{packet}.subspan(wire::ipv4_header::size);
        if ((how & 1) && seg.size() >= 20) wire::fill_tcp_checksum(seg, ip.source, ip.destination);
        if (seg.size() >= 4) {  // it may reach a connection: judge none there by content
            const std::uint16_t from = static_cast<std::uint16_t>(seg[0] << 8 | seg[1]);
            if (from >= peer_ports.front() && from <= peer_ports.back()) side(from).raw = true;
        }
        dev_.inbox.push_back(std::move(packet));
    }

    // Raw bytes as a whole datagram.
    void raw_datagram(script& in)
    {
        const auto bytes = in.take(in.u16() % 1600);
        for (peer_side& p : peers_) p.raw = true;
        dev_.inbox.emplace_back(bytes.begin(), bytes.end());
    }

    // One IPv4 fragment with a correct header checksum (random bytes would almost never
    // have one, and never reach reassembly): an Identification among four and a
    // protocol among three, so fragments of one datagram meet; offset, MF and length
    // the script's; data the script's own bytes, or a pattern that is a function of the
    // datagram and the offset, so the same fragment sent twice is an exact duplicate
    // and two that overlap carry the same bytes where they do (RFC 5722 drops both).
    void fragment(script& in)
    {
        static constexpr std::array<std::uint8_t, 3> protocols{static_cast<std::uint8_t>(wire::ip_protocol::tcp),
                                                               static_cast<std::uint8_t>(wire::ip_protocol::icmp),
                                                               static_cast<std::uint8_t>(wire::ip_protocol::udp)};
        const std::uint8_t how = in.u8();
        wire::ipv4_header ip;
        ip.source = peer;
        ip.destination = ours;
        ip.identification = static_cast<std::uint16_t>(0x100 + (how & 3));
        ip.protocol = protocols[(how >> 2) % protocols.size()];
        const bool more = (how & 0x10) != 0;
        // Mostly small offsets, where fragments meet; now and then any 13-bit one, up to
        // past the 65,535 bytes a datagram may have (RFC 791 §3.1, the ping of death).
        const std::size_t offset = ((how & 0x20) ? (in.u16() & 0x1fffu) : in.u8()) * std::size_t{8};
        const std::size_t length = in.u16() % (link_mtu - wire::ipv4_header::size + 1);
        std::vector<std::uint8_t> data(length);
        if (how & 0x40) {
            const auto bytes = in.take(length);
            std::copy(bytes.begin(), bytes.end(), data.begin());
            data.resize(bytes.size());
        } else {
            for (std::size_t k = 0; k < length; ++k)
                data[k] = static_cast<std::uint8_t>(((offset + k) * 2654435761u + ip.identification) >> 13);
        }
        // Once whole, a TCP datagram may reach any connection with bytes of no peer's stream.
        if (ip.protocol == static_cast<std::uint8_t>(wire::ip_protocol::tcp))
            for (peer_side& p : peers_) p.raw = true;
        push_fragment(ip, offset, more, data);
    }

    // An ICMP echo request of up to 4000 bytes (RFC 792), whole or cut into fragments:
    // one above the MTU is answered in fragments.
    void ping(script& in)
    {
        const std::size_t length = wire::icmp_field::fixed_size + in.u16() % 4000;
        const std::uint16_t sequence = in.u16();
        std::vector<std::uint8_t> message(length);
        message[wire::icmp_field::type] = static_cast<std::uint8_t>(wire::icmp_type::echo_request);
        boost::endian::store_big_u16(message.data() + wire::icmp_field::identifier, 0x7a7a);
        boost::endian::store_big_u16(message.data() + wire::icmp_field::sequence, sequence);
        for (std::size_t k = wire::icmp_field::fixed_size; k < length; ++k)
            message[k] = static_cast<std::uint8_t>(k * 31 + sequence);
        boost::endian::store_big_u16(message.data() + wire::icmp_field::checksum, wire::internet_checksum(message));
        wire::ipv4_header ip;
        ip.source = peer;
        ip.destination = ours;
        ip.protocol = static_cast<std::uint8_t>(wire::ip_protocol::icmp);
        ip.identification = static_cast<std::uint16_t>(0x100 + (sequence & 3));  // among fragment()'s
        split_ = in.u8();
        if (split_ == 0 && length + wire::ipv4_header::size > link_mtu) split_ = 63;  // 512-byte pieces
        push_datagram(ip, message);
    }

    void advance(script& in)
    {
        static constexpr std::array<duration, 4> unit{1ms, 10ms, 1s, 60s};
        const std::uint8_t n = in.u8();
        time_.advance(n * unit[in.u8() % unit.size()]);
    }

    void connect(script& in)
    {
        if (sockets_.size() >= 8) return;
        std::error_code ec;
        const std::uint16_t port = peer_ports[in.u8() % peer_ports.size()];
        const socket s = st_.connect(peer, port, ec);
        if (!ec) sockets_.push_back({s});
    }

    void accept()
    {
        if (!listening_ || sockets_.size() >= 8) return;
        std::error_code ec;
        const socket s = st_.accept(listener_, ec);
        if (!ec) sockets_.push_back({s});
    }

    void send(script& in)
    {
        held* h = pick(in);
        const std::size_t n = in.u16() % 20000;
        if (h == nullptr) return;
        std::vector<std::uint8_t> data(n);
        for (std::size_t k = 0; k < n; ++k) data[k] = user_byte(h->accepted + k);
        std::error_code ec;
        const std::size_t took = st_.send(h->s, data, ec);
        FUZZ_ASSERT(took <= n);
        FUZZ_ASSERT(!h->shut || took == 0);  // nothing is taken after shutdown()
        h->accepted += took;
    }

    void receive(script& in)
    {
        held* h = pick(in);
        std::vector<std::uint8_t> out(in.u16() % 20000 + 1);
        if (h == nullptr) return;
        const auto* c = st_.connection(h->s);
        std::error_code ec;
        const std::size_t n = st_.receive(h->s, out, ec);
        FUZZ_ASSERT(n <= out.size());
        if (c != nullptr && !judged_by_content(*c)) {
            h->read += n;
            return;
        }
        if (c != nullptr)
            for (std::size_t k = 0; k < n; ++k)
                FUZZ_ASSERT(out[k] == peer_byte(c->irs() + 1 + static_cast<std::uint32_t>(h->read + k)));
        h->read += n;
    }

    void options(script& in)
    {
        held* h = pick(in);
        const std::uint8_t which = in.u8();
        if (h == nullptr) return;
        if (which & 1) (void)st_.set_nodelay(h->s, (which & 2) != 0);
        else (void)st_.set_keepalive(h->s, (which & 2) != 0);
    }

    held* pick(script& in)
    {
        const std::uint8_t k = in.u8();
        return sockets_.empty() ? nullptr : &sockets_[k % sockets_.size()];
    }
    void forget(held* h) { sockets_.erase(sockets_.begin() + (h - sockets_.data())); }

    bool judged_by_content(const stack_type::connection_type& c)
    {
        const std::uint16_t port = c.id().remote_port;
        return port >= peer_ports.front() && port <= peer_ports.back() && !side(port).raw;
    }

    void inject(const wire::tcp_header& h, std::span<const std::uint8_t> text)
    {
        std::vector<std::uint8_t> seg(h.size() + text.size());
        wire::ipv4_header ip;
        ip.source = peer;
        ip.destination = ours;
        ip.identification = static_cast<std::uint16_t>(++identification_);
        FUZZ_ASSERT(!h.emit(seg));
        std::copy(text.begin(), text.end(), seg.begin() + static_cast<std::ptrdiff_t>(h.size()));
        wire::fill_tcp_checksum(seg, ip.source, ip.destination);
        push_datagram(ip, seg);
    }

    // A datagram from the peer, whole, or (split_ not 0) in fragments of
    // 8 * (1 + split_ % 64) bytes (RFC 791 §3.2: all but the last a multiple of 8),
    // sent in order, in reverse, or with one sent twice (an exact duplicate, dropped
    // alone) as split_'s high bits say. Reassembled, it must act as the whole would.
    void push_datagram(wire::ipv4_header ip, std::span<const std::uint8_t> payload)
    {
        const std::uint8_t split = std::exchange(split_, 0);
        if (split == 0) {
            std::vector<std::uint8_t> packet(wire::ipv4_header::size + payload.size());
            ip.payload_length = static_cast<std::uint16_t>(payload.size());
            FUZZ_ASSERT(!ip.emit(packet));
            std::copy(payload.begin(), payload.end(), packet.begin() + wire::ipv4_header::size);
            dev_.inbox.push_back(std::move(packet));
            return;
        }
        const std::size_t piece = 8 * (1 + std::size_t{split} % 64);
        std::vector<std::size_t> offsets;
        for (std::size_t at = 0; at < payload.size(); at += piece) offsets.push_back(at);
        if (offsets.empty()) offsets.push_back(0);
        if (split & 0x40) std::reverse(offsets.begin(), offsets.end());
        if (split & 0x80) offsets.push_back(offsets[offsets.size() / 2]);
        for (const std::size_t at : offsets) {
            const std::size_t n = std::min(piece, payload.size() - at);
            push_fragment(ip, at, at + n < payload.size(), payload.subspan(at, n));
        }
    }

    void push_fragment(wire::ipv4_header ip, std::size_t offset, bool more, std::span<const std::uint8_t> data)
    {
        std::vector<std::uint8_t> packet(wire::ipv4_header::size + data.size());
        ip.dont_fragment = false;
        ip.payload_length = static_cast<std::uint16_t>(data.size());
        FUZZ_ASSERT(!ip.emit(packet));
        wire::rewrite_fragment_fields(std::span{packet}.first(wire::ipv4_header::size),
                                      static_cast<std::uint16_t>(packet.size()), offset, more);
        std::copy(data.begin(), data.end(), packet.begin() + wire::ipv4_header::size);
        FUZZ_ASSERT(!wire::ipv4_view{packet}.check());
        dev_.inbox.push_back(std::move(packet));
    }

    void poll_and_check()
    {
        for (int i = 0; i < 64 && st_.poll() == time_.now() && !dev_.inbox.empty(); ++i) {}
        for (const auto& p : dev_.outbox) check_emitted(p);
        dev_.outbox.clear();
        check_bounds();
    }

    void check_bounds()
    {
        const config& c = st_.configuration();
        const auto& pool = st_.pool();
        FUZZ_ASSERT(pool.bytes_in_use() <= pool.max_bytes());
        FUZZ_ASSERT(pool.out_of_order_in_use() <= pool.out_of_order_limit());
        FUZZ_ASSERT(st_.connection_count() <= c.max_connections + c.max_time_wait);
        FUZZ_ASSERT(st_.time_wait_count() <= c.max_time_wait);
        FUZZ_ASSERT(st_.recovery_states().in_use() <= st_.recovery_states().max_blocks());
        FUZZ_ASSERT(st_.reassembly().datagrams_held() <= c.reassembly_datagrams);
    }

    void check_emitted(const std::vector<std::uint8_t>& p)
    {
        FUZZ_ASSERT(p.size() <= link_mtu);
        const wire::ipv4_view ip{p};
        FUZZ_ASSERT(!ip.check());
        FUZZ_ASSERT(ip.source() == ours);
        if (ip.protocol() != static_cast<std::uint8_t>(wire::ip_protocol::tcp)) return;  // ICMP
        const wire::tcp_view tv{ip.payload()};
        FUZZ_ASSERT(!tv.check());
        FUZZ_ASSERT(tv.checksum_ok(ip.source(), ip.destination()));
        wire::tcp_header h;
        FUZZ_ASSERT(!wire::tcp_header::parse(tv, h));
        const bool syn = wire::has(h.flags, tcp_flags::syn), fin = wire::has(h.flags, tcp_flags::fin);
        const seq32 end = h.seq + static_cast<std::uint32_t>(tv.payload().size()) + (syn ? 1u : 0u) + (fin ? 1u : 0u);
        if (syn) last_local_port_ = h.source_port;
        if (h.options.timestamp) last_tsval_ = h.options.timestamp->tsval;
        if (h.destination_port >= peer_ports.front() && h.destination_port <= peer_ports.back()) {
            peer_side& side_of = side(h.destination_port);
            if (syn || seq_gt(end, side_of.stack_max)) side_of.stack_max = end;
        }
        if (wire::has(h.flags, tcp_flags::rst)) return;
        // The connections the script holds a socket for: sequence, acknowledgment, text.
        for (const held& s : sockets_) {
            const auto* c = st_.connection(s.s);
            // (A CLOSED connection has given its 4-tuple up: a new one may use it.)
            if (c == nullptr || c->state() == tcp::state::closed || c->id().remote_port != h.destination_port ||
                c->id().local_port != h.source_port)
                continue;
            const seq32 iss = c->iss();
            FUZZ_ASSERT(!seq_lt(h.seq, iss));
            FUZZ_ASSERT(!seq_gt(end, c->snd().max));
            if (wire::has(h.flags, tcp_flags::ack) && c->state() != tcp::state::syn_sent)
                FUZZ_ASSERT(!seq_gt(h.ack, c->rcv().nxt));
            const auto text = tv.payload();
            const std::int32_t from = h.seq + (syn ? 1u : 0u) - (iss + 1);
            if (from < 0) {  // the SYN, or a keep-alive probe at SND.NXT-1 before any data
                FUZZ_ASSERT(text.empty());
                continue;
            }
            const auto offset = static_cast<std::uint64_t>(from);
            if (!text.empty()) FUZZ_ASSERT(offset + text.size() <= s.accepted);
            FUZZ_ASSERT(offset <= s.accepted + (s.shut ? 1 : 0));  // past the FIN, once it is sent
            for (std::size_t k = 0; k < text.size(); ++k) FUZZ_ASSERT(text[k] == user_byte(offset + k));
            if (fin) FUZZ_ASSERT(offset + text.size() == s.accepted);
        }
    }

    clocks::manual_timeline time_;
    fuzz_device dev_;
    stack_type st_;
    listener listener_{};
    bool listening_ = false;
    std::vector<held> sockets_;
    std::array<peer_side, peer_ports.size()> peers_{};
    std::uint16_t last_local_port_ = 80;
    std::uint32_t last_tsval_ = 0;
    std::uint32_t stamp_ = 0;
    std::uint8_t split_ = 0;           // how the next datagram is cut up (push_datagram)
    std::uint32_t identification_ = 0;  // a fresh one for each datagram the peer sends
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    script in{{data, size}};
    run r;
    r.listen();
    for (int steps = 0; !in.done() && steps < 400; ++steps) r.step(in);
    r.finish();
    return 0;
}
