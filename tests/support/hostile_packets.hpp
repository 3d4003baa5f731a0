// Whole IPv4 datagrams as an attacker writes them, for the flood benchmarks
// (benchmarks/flood.cpp in memory, benchmarks/flood_tun.cpp through a raw socket) and
// the interop test that floods a listener over TUN: a TCP segment from any source, an
// ICMP error quoting a segment of ours, a datagram of a protocol tcpx does not speak.
// Each writes into `out` and returns the datagram's size, 0 if it does not fit.
#pragma once

#include <tcpx/wire/checksum.hpp>
#include <tcpx/wire/icmp.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/tcp_header.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpx::test {

/// A TCP segment `h` (its checksum filled) with `text`, from `from` to `to`.
inline std::size_t build_tcp_datagram(std::span<std::uint8_t> out, wire::ipv4_address from, wire::ipv4_address to,
                                      const wire::tcp_header& h, std::span<const std::uint8_t> text = {})
{
    const std::size_t size = wire::ipv4_header::size + h.size() + text.size();
    if (out.size() < size) return 0;
    wire::ipv4_header ip;
    ip.source = from;
    ip.destination = to;
    ip.payload_length = static_cast<std::uint16_t>(h.size() + text.size());
    if (ip.emit(out)) return 0;
    const auto seg = out.subspan(wire::ipv4_header::size, size - wire::ipv4_header::size);
    if (h.emit(seg)) return 0;
    std::copy(text.begin(), text.end(), seg.begin() + static_cast<std::ptrdiff_t>(h.size()));
    wire::fill_tcp_checksum(seg, ip.source, ip.destination);
    return size;
}

/// A SYN to `to`:`port` from a random host of 198.18.0.0/15 (RFC 2544's benchmarking
/// range, routed nowhere) and a random port, as a SYN flood sends them.
template <class Rng>
std::size_t build_spoofed_syn(std::span<std::uint8_t> out, Rng& rng, wire::ipv4_address to, std::uint16_t port)
{
    wire::tcp_header h;
    h.source_port = static_cast<std::uint16_t>(1024 + rng() % 60000);
    h.destination_port = port;
    h.seq = seq32{static_cast<std::uint32_t>(rng())};
    h.flags = wire::tcp_flags::syn;
    h.window = 65535;
    h.options.mss = 1460;
    const wire::ipv4_address from{0xc6120000u | static_cast<std::uint32_t>(rng() & 0x1ffff)};
    return build_tcp_datagram(out, from, to, h);
}

/// What an ICMP error (RFC 792) says and about which segment: `quoted` as the victim
/// sent it (source = victim, destination = its peer), 8 bytes of its TCP header quoted.
struct icmp_error_spec {
    wire::icmp_type type = wire::icmp_type::destination_unreachable;
    std::uint8_t code = 0;
    std::uint16_t next_hop_mtu = 0;  ///< fragmentation needed (RFC 1191 §4)
    wire::ipv4_address quoted_source, quoted_destination;
    std::uint16_t quoted_source_port = 0, quoted_destination_port = 0;
    std::uint32_t quoted_seq = 0;
};

/// An ICMP error from `router` to `victim` as `e` describes.
inline std::size_t build_icmp_error(std::span<std::uint8_t> out, wire::ipv4_address router, wire::ipv4_address victim,
                                    const icmp_error_spec& e)
{
    constexpr std::size_t quote = wire::ipv4_header::size + wire::icmp_quote_min_payload;
    constexpr std::size_t size = wire::ipv4_header::size + wire::icmp_field::fixed_size + quote;
    if (out.size() < size) return 0;
    std::fill_n(out.begin(), size, std::uint8_t{0});
    wire::ipv4_header ip;
    ip.source = router;
    ip.destination = victim;
    ip.protocol = static_cast<std::uint8_t>(wire::ip_protocol::icmp);
    ip.payload_length = static_cast<std::uint16_t>(size - wire::ipv4_header::size);
    if (ip.emit(out)) return 0;
    const auto msg = out.subspan(wire::ipv4_header::size, size - wire::ipv4_header::size);
    msg[wire::icmp_field::type] = static_cast<std::uint8_t>(e.type);
    msg[wire::icmp_field::code] = e.code;
    msg[wire::icmp_field::next_hop_mtu] = static_cast<std::uint8_t>(e.next_hop_mtu >> 8);
    msg[wire::icmp_field::next_hop_mtu + 1] = static_cast<std::uint8_t>(e.next_hop_mtu);
    wire::ipv4_header q;  // the victim's datagram, as it left: DF set, 40 bytes of TCP
    q.source = e.quoted_source;
    q.destination = e.quoted_destination;
    q.payload_length = 40;
    const auto body = msg.subspan(wire::icmp_field::fixed_size);
    if (q.emit(body)) return 0;
    const auto tcp = body.subspan(wire::ipv4_header::size);
    const auto put16 = [&](std::size_t at, std::uint16_t v) {
        tcp[at] = static_cast<std::uint8_t>(v >> 8);
        tcp[at + 1] = static_cast<std::uint8_t>(v);
    };
    put16(0, e.quoted_source_port);
    put16(2, e.quoted_destination_port);
    put16(4, static_cast<std::uint16_t>(e.quoted_seq >> 16));
    put16(6, static_cast<std::uint16_t>(e.quoted_seq));
    const std::uint16_t sum = wire::internet_checksum(msg);
    msg[wire::icmp_field::checksum] = static_cast<std::uint8_t>(sum >> 8);
    msg[wire::icmp_field::checksum + 1] = static_cast<std::uint8_t>(sum);
    return size;
}

/// A datagram of `protocol` with `payload` zero bytes: for tcpx, protocol unreachable.
inline std::size_t build_other_datagram(std::span<std::uint8_t> out, wire::ipv4_address from, wire::ipv4_address to,
                                        std::uint8_t protocol, std::size_t payload)
{
    const std::size_t size = wire::ipv4_header::size + payload;
    if (out.size() < size) return 0;
    std::fill_n(out.begin(), size, std::uint8_t{0});
    wire::ipv4_header ip;
    ip.source = from;
    ip.destination = to;
    ip.protocol = protocol;
    ip.payload_length = static_cast<std::uint16_t>(payload);
    return ip.emit(out) ? 0 : size;
}

}  // namespace tcpx::test
