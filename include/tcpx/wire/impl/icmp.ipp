// Bodies for tcpx/wire/icmp.hpp. Not to be included directly.
#pragma once

#include <algorithm>
#include <array>

namespace tcpx::wire {

namespace detail {

// The IPv4 header every datagram here carries. DF set and identification 0, as on
// tcpx's TCP segments: tcpx keeps no identification counter, and RFC 6864 §4.1 lets
// only an atomic datagram (DF set, not a fragment) carry a repeated identification.
// Either message is no larger than the datagram it answers, or than 576 bytes, and
// that datagram crossed the path the other way whole (tcpx reassembles nothing).
inline ipv4_header icmp_ip_header(ipv4_address source, ipv4_address destination,
                                  std::uint8_t tos, std::size_t icmp_length) noexcept
{
    ipv4_header h;
    h.source = source;
    h.destination = destination;
    h.protocol = static_cast<std::uint8_t>(ip_protocol::icmp);
    h.tos = tos;
    h.identification = 0;
    h.dont_fragment = true;
    h.payload_length = static_cast<std::uint16_t>(icmp_length);
    return h;
}

// Writes the ICMP message `header` (8 bytes) + `body` at out[0], with its RFC 792
// checksum, summing the body as it is copied (RFC 1071 §2). out holds both.
inline void write_icmp_message(std::span<const std::uint8_t, icmp_field::fixed_size> header,
                               std::span<const std::uint8_t> body, std::span<std::uint8_t> out) noexcept
{
    std::copy(header.begin(), header.end(), out.begin());
    boost::endian::store_big_u16(out.data() + icmp_field::checksum, 0);
    checksum_accumulator acc;
    acc.add(out.first(icmp_field::fixed_size));
    copy_and_add(acc, out.subspan(icmp_field::fixed_size), body);
    boost::endian::store_big_u16(out.data() + icmp_field::checksum, acc.finish());
}

}  // namespace detail

inline std::error_code icmp_view::check() const noexcept
{
    if (bytes_.size() < icmp_field::fixed_size) return errc::icmp_truncated;
    // RFC 792: the checksum covers the whole message, from the type on; a correct
    // message sums to 0xffff.
    if (internet_checksum(bytes_) != 0) return errc::icmp_bad_checksum;
    return {};
}

inline std::optional<icmp_quote> icmp_view::quoted_transport() const noexcept
{
    using boost::endian::load_big_u16;
    using boost::endian::load_big_u32;
    const std::span<const std::uint8_t> q = quoted();
    if (q.size() < ipv4_field::fixed_size) return std::nullopt;
    if (q[ipv4_field::version_ihl] >> 4 != 4) return std::nullopt;
    const std::size_t header_length = std::size_t{q[ipv4_field::version_ihl] & 0x0fu} * 4;
    if (header_length < ipv4_field::fixed_size) return std::nullopt;
    // RFC 792: the header and at least 64 bits of data; fewer cannot name a connection.
    if (q.size() < header_length + icmp_quote_min_payload) return std::nullopt;
    // RFC 1122 §3.2.2: no error is sent about a non-initial fragment, whose first
    // bytes after the header are not a transport header.
    if ((load_big_u16(q.data() + ipv4_field::flags_fragment) & 0x1fffu) != 0) return std::nullopt;

    const std::uint8_t* transport = q.data() + header_length;
    icmp_quote quote;
    quote.source = ipv4_address{load_big_u32(q.data() + ipv4_field::source)};
    quote.destination = ipv4_address{load_big_u32(q.data() + ipv4_field::destination)};
    quote.protocol = q[ipv4_field::protocol];
    quote.source_port = load_big_u16(transport);
    quote.destination_port = load_big_u16(transport + 2);
    quote.sequence = seq32{load_big_u32(transport + 4)};
    return quote;
}

inline bool may_send_icmp_error(const ipv4_view& offending) noexcept
{
    // RFC 1812 §4.3.2.7: not about a packet that fails the IP header validation
    // (RFC 1122 §3.2.1.1-2 discard it silently); this also makes the view safe to read.
    if (offending.check()) return false;
    // RFC 1122 §3.2.2 (MUST NOT): not about a non-initial fragment.
    if (offending.fragment_offset() != 0) return false;
    // RFC 1122 §3.2.2 (MUST NOT): not about a datagram destined to an IP broadcast or
    // IP multicast address (the broadcast storms of its DISCUSSION).
    const address_kind to = kind_of(offending.destination());
    if (to == address_kind::limited_broadcast || to == address_kind::multicast)
        return false;
    // RFC 1122 §3.2.2 (MUST NOT): not about a datagram whose source address does not
    // define a single host; the answer would go to nobody, or to everybody.
    // RFC 1122 §3.2.2 names "a zero address, a loopback address, a broadcast address, a
    // multicast address, or a Class E address" (kind_of, wire/ipv4.hpp).
    if (kind_of(offending.source()) != address_kind::unicast) return false;
    // RFC 1122 §3.2.2 (MUST NOT): not about an ICMP error message. Nor about a type
    // tcpx does not know: those it silently discards (§3.2.2), and RFC 1812 §4.3.2.7
    // sends no error where a packet is silently discarded. An empty ICMP payload has
    // no type to judge by.
    if (offending.protocol() == static_cast<std::uint8_t>(ip_protocol::icmp)) {
        const std::span<const std::uint8_t> icmp = offending.payload();
        if (icmp.empty()) return false;
        const auto type = static_cast<icmp_type>(icmp[icmp_field::type]);
        return type == icmp_type::echo_request || type == icmp_type::echo_reply;
    }
    return true;
}

inline std::error_code emit_echo_reply(const ipv4_view& request, ipv4_address our_address,
                                       std::span<std::uint8_t> out, std::size_t& written) noexcept
{
    written = 0;
    const std::span<const std::uint8_t> message = request.payload();
    if (message.size() < icmp_field::fixed_size ||
        static_cast<icmp_type>(message[icmp_field::type]) != icmp_type::echo_request)
        return errc::invalid_argument;
    const std::size_t length = ipv4_header::size + message.size();
    if (out.size() < length) return errc::buffer_too_small;

    // RFC 1349 §5.1: a reply carries the request's TOS. Its ECN field (RFC 3168 §5)
    // is not echoed: ICMP is no ECN-capable transport, so the reply is Not-ECT.
    const std::uint8_t tos = request.tos() & 0xfcu;
    if (const std::error_code ec =
            detail::icmp_ip_header(our_address, request.source(), tos, message.size()).emit(out))
        return ec;

    // RFC 792: "the source and destination addresses are simply reversed, the type
    // code changed to 0, and the checksum recomputed". Code, identifier and sequence
    // number stay as they came, and the data is returned entirely (RFC 1122 §3.2.2.6).
    // A reply is never longer than its request, which arrived over this interface,
    // so the truncation §3.2.2.6 allows for it is never needed.
    std::array<std::uint8_t, icmp_field::fixed_size> header{};
    std::copy_n(message.begin(), header.size(), header.begin());
    header[icmp_field::type] = static_cast<std::uint8_t>(icmp_type::echo_reply);
    detail::write_icmp_message(header, message.subspan(icmp_field::fixed_size),
                               out.subspan(ipv4_header::size));
    written = length;
    return {};
}

namespace detail {

// RFC 792's error messages (destination unreachable, time exceeded): type, code, the
// checksum, 32 bits unused (zero), then the quote of the offending datagram.
inline std::error_code emit_icmp_error(icmp_type type, std::uint8_t code, const ipv4_view& offending,
                                       ipv4_address our_address, std::span<std::uint8_t> out,
                                       std::size_t& written) noexcept
{
    written = 0;
    constexpr std::size_t overhead = ipv4_header::size + icmp_field::fixed_size;
    // RFC 1122 §3.2.2: the quote is the datagram as received (header unchanged, options
    // included), not the link's padding after its total length.
    const std::span<const std::uint8_t> datagram = offending.bytes().first(offending.total_length());
    // RFC 792: at least the header and 64 bits of data (all the data, if it is shorter).
    const std::size_t minimum =
        offending.header_length() + std::min(offending.payload().size(), icmp_quote_min_payload);
    if (out.size() < overhead + minimum) return errc::buffer_too_small;
    // RFC 1812 §4.3.2.3: as much more as fits in 576 bytes, and in `out`.
    const std::size_t quote = std::min({datagram.size(), icmp_error_max_size - overhead, out.size() - overhead});

    // RFC 1122 §3.2.2: an ICMP error message SHOULD be sent with normal (zero) TOS.
    if (const std::error_code ec =
            icmp_ip_header(our_address, offending.source(), 0, icmp_field::fixed_size + quote).emit(out))
        return ec;

    // For fragmentation needed, RFC 1191 §4 puts the next-hop MTU in the unused field's
    // low 16 bits; 0 says "unknown" (its §5), which is all a host, forwarding nothing,
    // can say.
    std::array<std::uint8_t, icmp_field::fixed_size> header{};
    header[icmp_field::type] = static_cast<std::uint8_t>(type);
    header[icmp_field::code] = code;
    write_icmp_message(header, datagram.first(quote), out.subspan(ipv4_header::size));
    written = overhead + quote;
    return {};
}

}  // namespace detail

inline std::error_code emit_destination_unreachable(unreachable_code code, const ipv4_view& offending,
                                                    ipv4_address our_address, std::span<std::uint8_t> out,
                                                    std::size_t& written) noexcept
{
    return detail::emit_icmp_error(icmp_type::destination_unreachable, static_cast<std::uint8_t>(code), offending,
                                   our_address, out, written);
}

inline std::error_code emit_time_exceeded(time_exceeded_code code, const ipv4_view& offending,
                                          ipv4_address our_address, std::span<std::uint8_t> out,
                                          std::size_t& written) noexcept
{
    return detail::emit_icmp_error(icmp_type::time_exceeded, static_cast<std::uint8_t>(code), offending,
                                   our_address, out, written);
}

}  // namespace tcpx::wire
