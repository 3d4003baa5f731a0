// Helpers for the scenario tests of the opening states (tests/tcp/state_closed.cpp,
// state_listen.cpp, state_syn_sent.cpp, state_syn_received.cpp), on top of
// scenario.hpp: packets the fixture's build() cannot make (another destination,
// another protocol, damaged bytes), and SYNs from more than one peer port.
//
// Have open: RFC 791 §3.1 (IPv4 header), RFC 9293 §3.1 (TCP header and checksum).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <boost/endian/conversion.hpp>

#include "scenario.hpp"

namespace tcpx::test {

/// An IPv4 packet from the peer with any destination and protocol; the TCP checksum
/// is computed over (source, destination) as a real sender would.
inline std::vector<std::uint8_t> packet_to(const scenario& t, wire::ipv4_address destination,
                                           const wire::tcp_header& h, std::string_view payload = {},
                                           std::uint8_t protocol = static_cast<std::uint8_t>(wire::ip_protocol::tcp))
{
    std::vector<std::uint8_t> p(wire::ipv4_header::size + h.size() + payload.size());
    wire::ipv4_header ip;
    ip.source = t.peer_address;
    ip.destination = destination;
    ip.protocol = protocol;
    ip.payload_length = static_cast<std::uint16_t>(h.size() + payload.size());
    REQUIRE_FALSE(ip.emit(p));
    auto seg = std::span{p}.subspan(wire::ipv4_header::size);
    REQUIRE_FALSE(h.emit(seg));
    std::copy(payload.begin(), payload.end(), seg.begin() + static_cast<std::ptrdiff_t>(h.size()));
    wire::fill_tcp_checksum(seg, ip.source, ip.destination);
    return p;
}

/// The TCP segment inside a packet built by scenario::build or packet_to (no IPv4 options).
inline std::span<std::uint8_t> tcp_part(std::vector<std::uint8_t>& packet)
{
    return std::span{packet}.subspan(wire::ipv4_header::size);
}

/// Recomputes the TCP checksum after the test edited the segment's bytes.
inline void reseal_tcp(std::vector<std::uint8_t>& packet)
{
    const wire::ipv4_view ip{packet};
    wire::fill_tcp_checksum(tcp_part(packet), ip.source(), ip.destination());
}

/// Recomputes the IPv4 header checksum after the test edited the header (RFC 791 §3.1).
inline void reseal_ipv4(std::vector<std::uint8_t>& packet)
{
    boost::endian::store_big_u16(packet.data() + wire::ipv4_field::checksum, 0);
    wire::checksum_accumulator acc;
    acc.add(std::span<const std::uint8_t>{packet.data(), wire::ipv4_header::size});
    boost::endian::store_big_u16(packet.data() + wire::ipv4_field::checksum, acc.finish());
}

/// `h` as sent from another of the peer's ports.
inline wire::tcp_header from_port(wire::tcp_header h, std::uint16_t port)
{
    h.source_port = port;
    return h;
}

/// The number of drops under every reason but `r`: a drop test checks that the packet
/// was counted under its own reason and no other.
inline std::uint64_t dropped_other_than(const stack_counters& c, drop_reason r)
{
    return c.dropped_total() - c.dropped(r);
}

}  // namespace tcpx::test
