// Bodies for tcpx/wire/icmpv6.hpp. Not to be included directly.
#pragma once

#include <algorithm>
#include <array>

namespace tcpx::wire {

namespace detail {

// The IPv6 header every packet here carries: no extension headers, hop limit 64 as
// tcpx's TCP segments. A message is no larger than the packet it answers or than 1280
// bytes, so it never needs fragmenting on the way back.
inline ipv6_header icmpv6_ip_header(const ipv6_address& source, const ipv6_address& destination,
                                    std::uint8_t traffic_class, std::size_t icmpv6_length) noexcept
{
    ipv6_header h;
    h.source = source;
    h.destination = destination;
    h.next_header = static_cast<std::uint8_t>(ipv6_next_header::icmpv6);
    h.traffic_class = traffic_class;
    h.flow_label = 0;
    h.payload_length = static_cast<std::uint16_t>(icmpv6_length);
    return h;
}

// Writes the IPv6 header `ip` and then the ICMPv6 message `header` (8 bytes) + `body`
// at out[0], with the RFC 4443 §2.3 checksum: the pseudo-header of `ip` (RFC 8200
// §8.1, Next Header 58), then the message, the body summed as it is copied (RFC 1071
// §2). out holds all of it, and the length fits the payload length field.
inline void write_icmpv6_packet(const ipv6_header& ip, std::span<const std::uint8_t, icmpv6_field::fixed_size> header,
                                std::span<const std::uint8_t> body, std::span<std::uint8_t> out) noexcept
{
    (void)ip.emit(out);  // cannot fail: out holds 40 bytes, and the flow label is 0
    const std::span<std::uint8_t> message = out.subspan(ipv6_header::size);
    std::copy(header.begin(), header.end(), message.begin());
    boost::endian::store_big_u16(message.data() + icmpv6_field::checksum, 0);
    checksum_accumulator acc;
    add_ipv6_pseudo_header(acc, ip.source, ip.destination, ip.next_header,
                           static_cast<std::uint32_t>(icmpv6_field::fixed_size + body.size()));
    acc.add(message.first(icmpv6_field::fixed_size));
    copy_and_add(acc, message.subspan(icmpv6_field::fixed_size), body);
    boost::endian::store_big_u16(message.data() + icmpv6_field::checksum, acc.finish());
}

}  // namespace detail

inline std::error_code icmpv6_view::check(const ipv6_address& source, const ipv6_address& destination) const noexcept
{
    if (bytes_.size() < icmpv6_field::fixed_size) return errc::icmpv6_truncated;
    // RFC 4443 §2.3: the checksum covers the pseudo-header (RFC 8200 §8.1, Next Header
    // 58, the message's length) and the whole message; a correct one sums to 0xffff.
    if (ipv6_upper_layer_checksum(source, destination, static_cast<std::uint8_t>(ipv6_next_header::icmpv6),
                                  bytes_) != 0)
        return errc::icmpv6_bad_checksum;
    return {};
}

inline std::optional<icmpv6_quote> icmpv6_view::quoted_transport() const noexcept
{
    using boost::endian::load_big_u16;
    using boost::endian::load_big_u32;
    const std::span<const std::uint8_t> q = quoted();
    if (q.size() < ipv6_field::fixed_size) return std::nullopt;
    if (q[ipv6_field::version_class_flow] >> 4 != 6) return std::nullopt;
    // RFC 4443 §2.4(d): the upper layer is found past the quoted extension headers; the
    // walk stops at a non-first fragment, after which no transport header stands.
    const std::optional<ipv6_upper_layer> upper =
        skip_extension_headers(q, q[ipv6_field::next_header], ipv6_field::fixed_size);
    if (!upper || q.size() - upper->offset < icmpv6_quote_min_transport) return std::nullopt;

    const std::uint8_t* transport = q.data() + upper->offset;
    icmpv6_quote quote;
    quote.source = ipv6_address::from_bytes(q.subspan(ipv6_field::source).first<16>());
    quote.destination = ipv6_address::from_bytes(q.subspan(ipv6_field::destination).first<16>());
    quote.protocol = upper->protocol;
    quote.source_port = load_big_u16(transport);
    quote.destination_port = load_big_u16(transport + 2);
    quote.sequence = seq32{load_big_u32(transport + 4)};
    return quote;
}

inline bool may_send_icmpv6_error(const icmpv6_error& error, const ipv6_view& offending,
                                  const ipv6_header_chain& chain) noexcept
{
    // A packet that fails the header checks is dropped silently; this also makes the
    // view safe to read.
    if (offending.check()) return false;
    // RFC 4443 §2.4(e.6): not about a packet whose source does not uniquely identify a
    // single node: the unspecified address (RFC 4291 §2.5.2) or a multicast one (§2.7).
    // Loopback (§2.5.3) never comes from outside the node: it names nobody out there.
    const ipv6_address source = offending.source();
    if (source.is_unspecified() || source.is_multicast() || source.is_loopback()) return false;
    // RFC 4443 §2.4(e.3): not about a packet to a multicast address, with two exceptions:
    // Packet Too Big (path MTU discovery for multicast), and Parameter Problem code 2
    // about an option whose two high bits are 10 (RFC 8200 §4.2).
    if (offending.destination().is_multicast()) {
        const bool too_big = error.type == static_cast<std::uint8_t>(icmpv6_type::packet_too_big);
        const bool option = error.type == static_cast<std::uint8_t>(icmpv6_type::parameter_problem) &&
                            error.code == static_cast<std::uint8_t>(icmpv6_parameter_problem_code::unrecognized_option);
        if (!too_big && !option) return false;
    }
    // RFC 4443 §2.4(e.1-2): not about an ICMPv6 error message, nor a Redirect. The type
    // is known only where the walk reached an ICMPv6 header: not past a failure before
    // it, nor in a non-first fragment (whose upper layer bytes are data).
    const bool icmpv6 = chain.protocol == static_cast<std::uint8_t>(ipv6_next_header::icmpv6) &&
                        !chain.upper_layer.empty() && (!chain.fragment || chain.fragment->offset == 0);
    if (icmpv6) {
        const std::uint8_t type = chain.upper_layer[icmpv6_field::type];
        if (is_icmpv6_error(type) || type == static_cast<std::uint8_t>(icmpv6_type::redirect)) return false;
    }
    return true;
}

inline std::error_code emit_icmpv6_echo_reply(const ipv6_view& request, const icmpv6_view& message,
                                              const ipv6_address& our_address, std::span<std::uint8_t> out,
                                              std::size_t& written) noexcept
{
    written = 0;
    const std::span<const std::uint8_t> m = message.bytes();
    if (m.size() < icmpv6_field::fixed_size ||
        m[icmpv6_field::type] != static_cast<std::uint8_t>(icmpv6_type::echo_request))
        return errc::invalid_argument;
    if (m.size() > 0xffffu) return errc::message_too_long;
    const std::size_t length = ipv6_header::size + m.size();
    if (out.size() < length) return errc::buffer_too_small;

    // The request's DSCP, not its ECN field: ICMPv6 is no ECN-capable transport (RFC
    // 3168 §5), so the reply is Not-ECT — as the IPv4 reply (icmp.ipp).
    const std::uint8_t traffic_class = request.traffic_class() & 0xfcu;
    // RFC 4443 §4.2: type 129; identifier, sequence number and data from the request,
    // "returned entirely and unmodified"; the code stays as it came.
    std::array<std::uint8_t, icmpv6_field::fixed_size> header{};
    std::copy_n(m.begin(), header.size(), header.begin());
    header[icmpv6_field::type] = static_cast<std::uint8_t>(icmpv6_type::echo_reply);
    detail::write_icmpv6_packet(detail::icmpv6_ip_header(our_address, request.source(), traffic_class, m.size()),
                                header, m.subspan(icmpv6_field::fixed_size), out);
    written = length;
    return {};
}

inline std::error_code emit_icmpv6_error(const icmpv6_error& error, const ipv6_view& offending,
                                         const ipv6_address& our_address, std::span<std::uint8_t> out,
                                         std::size_t& written) noexcept
{
    written = 0;
    // RFC 4443 §2.1: types 128 and above are informational, never a quote's carrier.
    if (!is_icmpv6_error(error.type)) return errc::invalid_argument;
    constexpr std::size_t overhead = ipv6_header::size + icmpv6_field::fixed_size;
    // The quote is the packet as received, not the link's padding after its payload length.
    const std::span<const std::uint8_t> packet = offending.datagram();
    // The floor: the IPv6 header and the first 8 bytes after it, enough to name the flow
    // when no extension header stands in between (all of the packet if it is shorter).
    const std::size_t minimum = std::min(packet.size(), ipv6_field::fixed_size + icmpv6_quote_min_transport);
    if (out.size() < overhead + minimum) return errc::buffer_too_small;
    // RFC 4443 §2.4(c): "as much of invoking packet as possible without the ICMPv6
    // packet exceeding the minimum IPv6 MTU" — 1280 bytes, our IPv6 header included.
    const std::size_t quote = std::min({packet.size(), icmpv6_error_max_size - overhead, out.size() - overhead});

    // RFC 4443 §3: type, code, checksum, then the 32 bits each type defines: the MTU
    // (§3.2), the pointer (§3.4), or unused and zero (§3.1, §3.3).
    std::array<std::uint8_t, icmpv6_field::fixed_size> header{};
    header[icmpv6_field::type] = error.type;
    header[icmpv6_field::code] = error.code;
    boost::endian::store_big_u32(header.data() + icmpv6_field::parameter, error.parameter);
    detail::write_icmpv6_packet(
        detail::icmpv6_ip_header(our_address, offending.source(), 0, icmpv6_field::fixed_size + quote), header,
        packet.first(quote), out);
    written = overhead + quote;
    return {};
}

}  // namespace tcpx::wire
