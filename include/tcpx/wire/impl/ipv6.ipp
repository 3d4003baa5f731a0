// Bodies for tcpx/wire/ipv6.hpp. Not to be included directly.
#pragma once

#include <algorithm>
#include <charconv>

namespace tcpx::wire {

namespace detail {

constexpr int hex_digit_value(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 5952 §4.1 (no leading zeros) and §4.3 (lowercase): one group, at least one digit.
inline char* write_hex_group(char* p, std::uint16_t group) noexcept
{
    constexpr char digits[] = "0123456789abcdef";
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned digit = (group >> shift) & 0xfu;
        if (digit == 0 && !started && shift != 0) continue;
        *p++ = digits[digit];
        started = true;
    }
    return p;
}

// The whole length of the Hop-by-Hop, Destination Options or Routing header at `at`
// (RFC 8200 §4.3: 8 bytes and Hdr Ext Len more units of 8), or 0 if it does not fit.
inline std::size_t extension_length(std::span<const std::uint8_t> bytes, std::size_t at) noexcept
{
    if (at > bytes.size() || bytes.size() - at < 2) return 0;
    const std::size_t length = (std::size_t{bytes[at + ipv6_extension_field::length]} + 1) * ipv6_extension_field::unit;
    return length <= bytes.size() - at ? length : 0;
}

// RFC 8200 §4.5: the Fragment header at `at`, which the caller made sure is all there.
inline ipv6_fragment read_fragment(std::span<const std::uint8_t> bytes, std::size_t at) noexcept
{
    using boost::endian::load_big_u16;
    using boost::endian::load_big_u32;
    const std::uint16_t offset_flags = load_big_u16(bytes.data() + at + ipv6_extension_field::fragment_offset);
    ipv6_fragment f;
    f.next_header = bytes[at + ipv6_extension_field::next_header];
    f.offset = static_cast<std::size_t>(offset_flags >> 3) * ipv6_extension_field::unit;
    f.more_fragments = (offset_flags & 0x1u) != 0;  // the two reserved bits between are ignored
    f.identification = load_big_u32(bytes.data() + at + ipv6_extension_field::identification);
    f.header_at = at;
    return f;
}

// RFC 8200 §4.2: the options of the Hop-by-Hop or Destination Options header `header`,
// which starts at `header_at` in the packet. On an unrecognized option whose high bits
// say so, `problem` is the Parameter Problem (code 2, pointing at its type) to answer with.
inline std::error_code walk_options(std::span<const std::uint8_t> header, std::size_t header_at,
                                    bool multicast_destination,
                                    std::optional<ipv6_parameter_problem>& problem) noexcept
{
    constexpr auto code = icmpv6_parameter_problem_code::unrecognized_option;
    for (std::size_t i = 2; i < header.size();) {
        const std::uint8_t type = header[i];
        // RFC 8200 §4.2: "the format of the Pad1 option is a special case -- it does not
        // have length and value fields".
        if (type == ipv6_option_type::pad1) {
            ++i;
            continue;
        }
        if (header.size() - i < 2) return errc::ipv6_option_beyond_header;
        const std::size_t length = 2 + std::size_t{header[i + 1]};
        if (length > header.size() - i) return errc::ipv6_option_beyond_header;
        // RFC 8200 §4.2: PadN, and every option tcpx does not recognize, by its two high bits.
        if (type != ipv6_option_type::padn) {
            const auto pointer = static_cast<std::uint32_t>(header_at + i);
            switch (unrecognized_option_action(type)) {
            case ipv6_option_action::skip:
                break;
            case ipv6_option_action::discard:
                return errc::ipv6_unrecognized_option;
            case ipv6_option_action::discard_and_report:
                problem = ipv6_parameter_problem{code, pointer};
                return errc::ipv6_unrecognized_option;
            case ipv6_option_action::discard_and_report_unless_multicast:
                if (!multicast_destination) problem = ipv6_parameter_problem{code, pointer};
                return errc::ipv6_unrecognized_option;
            }
        }
        i += length;
    }
    return {};
}

// RFC 8200 §4.5, RFC 7112 §5: whether the first fragment's rest, from `at` where a
// header of type `next_header` starts, holds every extension header and the upper-layer
// header — as much of it as Linux's ipv6_frag_thdr_truncated asks: TCP's fixed 20
// bytes, UDP's 8, ICMPv6's 8, one byte of anything else, nothing after No Next Header.
inline bool header_chain_complete(std::span<const std::uint8_t> datagram, std::uint8_t next_header,
                                  std::size_t at) noexcept
{
    const std::optional<ipv6_upper_layer> upper = skip_extension_headers(datagram, next_header, at);
    if (!upper) return false;
    std::size_t needed = 1;
    switch (static_cast<ipv6_next_header>(upper->protocol)) {
    case ipv6_next_header::tcp: needed = 20; break;
    case ipv6_next_header::udp: needed = 8; break;
    case ipv6_next_header::icmpv6: needed = 8; break;
    case ipv6_next_header::no_next_header: needed = 0; break;
    case ipv6_next_header::hop_by_hop:
    case ipv6_next_header::routing:
    case ipv6_next_header::fragment:
    case ipv6_next_header::esp:
    case ipv6_next_header::ah:
    case ipv6_next_header::destination_options:
        break;  // skip_extension_headers went past the extension headers; ESP and AH: one byte
    }
    return datagram.size() - upper->offset >= needed;
}

}  // namespace detail

inline std::optional<ipv6_address> ipv6_address::parse(std::string_view text) noexcept
{
    // RFC 4291 §2.2: the groups as written, and where "::" stood among them.
    std::array<std::uint16_t, 8> groups{};
    std::size_t count = 0;
    std::optional<std::size_t> gap;
    std::size_t i = 0;
    const std::size_t n = text.size();
    if (n >= 2 && text[0] == ':' && text[1] == ':') {
        gap = 0;
        i = 2;
    } else if (n >= 1 && text[0] == ':') {
        return std::nullopt;  // one colon cannot open an address
    }
    while (i < n) {
        if (count == 8) return std::nullopt;
        std::size_t j = i;
        unsigned value = 0;
        for (; j < n && j - i < 5; ++j) {
            const int digit = detail::hex_digit_value(text[j]);
            if (digit < 0) break;
            value = value * 16 + static_cast<unsigned>(digit);
        }
        if (j < n && text[j] == '.') {
            // RFC 4291 §2.2 (3): the low-order 32 bits as a dotted quad, at the end only.
            if (count > 6) return std::nullopt;
            const std::optional<ipv4_address> v4 = ipv4_address::parse(text.substr(i));
            if (!v4) return std::nullopt;
            groups[count++] = static_cast<std::uint16_t>(v4->value >> 16);
            groups[count++] = static_cast<std::uint16_t>(v4->value & 0xffffu);
            break;
        }
        // RFC 4291 §2.2 (1): one to four hex digits.
        if (j == i || j - i > 4) return std::nullopt;
        groups[count++] = static_cast<std::uint16_t>(value);
        i = j;
        if (i == n) break;
        if (text[i] != ':') return std::nullopt;
        ++i;
        if (i < n && text[i] == ':') {
            // RFC 4291 §2.2 (2): "The '::' can only appear once in an address."
            if (gap) return std::nullopt;
            gap = count;
            ++i;
        } else if (i == n) {
            return std::nullopt;  // one colon cannot close an address
        }
    }
    if (gap) {
        // "::" stands for one or more zero groups, so at most seven were written.
        if (count == 8) return std::nullopt;
        const std::size_t zeros = 8 - count;
        std::move_backward(groups.begin() + static_cast<std::ptrdiff_t>(*gap),
                           groups.begin() + static_cast<std::ptrdiff_t>(count), groups.end());
        std::fill_n(groups.begin() + static_cast<std::ptrdiff_t>(*gap), zeros, std::uint16_t{0});
    } else if (count != 8) {
        return std::nullopt;
    }
    return ipv6_address{groups[0], groups[1], groups[2], groups[3], groups[4], groups[5], groups[6], groups[7]};
}

inline std::size_t ipv6_address::to_chars(std::span<char, text_capacity> out) const noexcept
{
    char* p = out.data();
    char* const end = out.data() + out.size();
    if (is_v4_mapped()) {
        // RFC 5952 §5: the IPv4 address of an IPv4-mapped address in dotted decimal.
        for (const char c : std::string_view{"::ffff:"}) *p++ = c;
        for (std::size_t i = 12; i < 16; ++i) {
            if (i != 12) *p++ = '.';
            p = std::to_chars(p, end, octets[i]).ptr;
        }
        return static_cast<std::size_t>(p - out.data());
    }
    // RFC 5952 §4.2.3: "::" for the longest run of zero groups, the first of equal runs;
    // §4.2.2: never for a single zero group.
    std::size_t best = 8;
    std::size_t best_length = 0;
    for (std::size_t i = 0; i < 8;) {
        if (group(i) != 0) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < 8 && group(j) == 0) ++j;
        if (j - i > best_length) {
            best = i;
            best_length = j - i;
        }
        i = j;
    }
    if (best_length < 2) {
        best = 8;
        best_length = 0;
    }
    for (std::size_t i = 0; i < 8;) {
        if (i == best) {
            *p++ = ':';
            *p++ = ':';
            i += best_length;
            continue;
        }
        if (i != 0 && i != best + best_length) *p++ = ':';
        p = detail::write_hex_group(p, group(i));
        ++i;
    }
    return static_cast<std::size_t>(p - out.data());
}

inline std::string ipv6_address::to_string() const
{
    std::array<char, text_capacity> text{};
    return std::string(text.data(), to_chars(text));
}

inline std::error_code ipv6_view::check() const noexcept
{
    if (bytes_.size() < ipv6_field::fixed_size) return errc::ipv6_truncated;
    // RFC 8200 §3: "Version: 4-bit Internet Protocol version number = 6."
    if (version() != 6) return errc::ipv6_bad_version;
    // RFC 8200 §3: the payload length counts the bytes after the fixed header; a device
    // may hand us trailing padding (more bytes is fine), never fewer.
    if (payload_length() > bytes_.size() - ipv6_field::fixed_size) return errc::ipv6_payload_length_beyond_packet;
    return {};
}

inline ipv6_header ipv6_header::from(const ipv6_view& view) noexcept
{
    ipv6_header h;
    h.source = view.source();
    h.destination = view.destination();
    h.next_header = view.next_header();
    h.hop_limit = view.hop_limit();
    h.traffic_class = view.traffic_class();
    h.flow_label = view.flow_label();
    h.payload_length = view.payload_length();
    return h;
}

inline std::error_code ipv6_header::emit(std::span<std::uint8_t> out) const noexcept
{
    if (out.size() < size) return errc::buffer_too_small;
    // RFC 6437 §2: the flow label is 20 bits.
    if (flow_label > 0xfffffu) return errc::invalid_argument;
    std::uint8_t* p = out.data();
    // RFC 8200 §3: version 6, traffic class, flow label in the first 32 bits.
    boost::endian::store_big_u32(p + ipv6_field::version_class_flow,
                                 std::uint32_t{6} << 28 | std::uint32_t{traffic_class} << 20 | flow_label);
    boost::endian::store_big_u16(p + ipv6_field::payload_length, payload_length);
    p[ipv6_field::next_header] = next_header;
    p[ipv6_field::hop_limit] = hop_limit;
    std::copy(source.octets.begin(), source.octets.end(), p + ipv6_field::source);
    std::copy(destination.octets.begin(), destination.octets.end(), p + ipv6_field::destination);
    return {};
}

inline std::error_code parse_header_chain(const ipv6_view& packet, ipv6_header_chain& out) noexcept
{
    using icmpv6_parameter_problem_code::erroneous_header_field;
    out = ipv6_header_chain{};
    const std::span<const std::uint8_t> datagram = packet.datagram();
    const bool multicast_destination = packet.destination().is_multicast();
    std::uint8_t next = packet.next_header();
    std::size_t next_at = ipv6_field::next_header;  // the byte that named `next`
    std::size_t at = ipv6_field::fixed_size;        // where the header of type `next` starts
    // Every header is 8 bytes or more, so the walk ends within datagram.size() / 8 steps.
    for (;;) {
        std::size_t length = 0;
        switch (static_cast<ipv6_next_header>(next)) {
        case ipv6_next_header::hop_by_hop:
            // RFC 8200 §4.1 puts Hop-by-Hop right after the IPv6 header, and §4 answers it
            // anywhere else as an unrecognized Next Header: "The same action [Parameter
            // Problem code 1, pointing at the value] should be taken if a node encounters
            // a Next Header value of zero in any header other than an IPv6 header."
            if (at != ipv6_field::fixed_size) {
                out.problem = ipv6_parameter_problem{icmpv6_parameter_problem_code::unrecognized_next_header,
                                                     static_cast<std::uint32_t>(next_at)};
                return errc::ipv6_misplaced_hop_by_hop;
            }
            [[fallthrough]];
        case ipv6_next_header::destination_options:
            // RFC 8200 §4.3, §4.6: the same format, options processed by every node (§4.2).
            length = detail::extension_length(datagram, at);
            if (length == 0) return errc::ipv6_extension_truncated;
            if (const std::error_code ec = detail::walk_options(datagram.subspan(at, length), at,
                                                                multicast_destination, out.problem))
                return ec;
            break;
        case ipv6_next_header::routing: {
            length = detail::extension_length(datagram, at);
            if (length == 0) return errc::ipv6_extension_truncated;
            // RFC 8200 §4.4: a Routing header of a type the node does not recognize is
            // ignored when Segments Left is zero, and otherwise answered with Parameter
            // Problem code 0 at the Routing Type. A host executes none: RFC 5095 §3 has a
            // node treat type 0 as unrecognized, and tcpx implements no other (type 2 of
            // Mobile IPv6, 3 of RPL, 4 of segment routing).
            if (datagram[at + ipv6_extension_field::segments_left] == 0) break;
            out.problem = ipv6_parameter_problem{erroneous_header_field,
                                                 static_cast<std::uint32_t>(at + ipv6_extension_field::routing_type)};
            return datagram[at + ipv6_extension_field::routing_type] == 0 ? errc::ipv6_routing_type_0
                                                                          : errc::ipv6_unrecognized_routing_type;
        }
        case ipv6_next_header::fragment: {
            if (datagram.size() - at < ipv6_extension_field::fragment_size) return errc::ipv6_extension_truncated;
            ipv6_fragment f = detail::read_fragment(datagram, at);
            f.next_header_at = next_at;
            out.fragment = f;
            // RFC 6946 §4: an atomic fragment is processed in isolation: walk on.
            if (f.is_atomic()) {
                length = ipv6_extension_field::fragment_size;
                break;
            }
            const std::size_t data_length = datagram.size() - f.data_at();
            // RFC 8200 §4.5: "If the length of a fragment ... is not a multiple of 8 octets
            // and the M flag of that fragment is 1, then that fragment must be discarded
            // and an ICMP Parameter Problem, Code 0, message should be sent ... pointing
            // to the Payload Length field of the fragment packet."
            if (f.more_fragments && data_length % ipv6_extension_field::unit != 0) {
                out.problem = ipv6_parameter_problem{erroneous_header_field, ipv6_field::payload_length};
                return errc::ipv6_fragment_bad_length;
            }
            // RFC 8200 §4.5: a reassembled payload length above 65,535 discards the
            // fragment, Parameter Problem code 0 "pointing to the Fragment Offset field".
            if (at - ipv6_field::fixed_size + f.offset + data_length > 0xffffu) {
                out.problem = ipv6_parameter_problem{
                    erroneous_header_field, static_cast<std::uint32_t>(at + ipv6_extension_field::fragment_offset)};
                return errc::ipv6_fragment_too_large;
            }
            // RFC 8200 §4.5, RFC 7112 §5: "If the first fragment does not include all
            // headers through an Upper-Layer header, then that fragment should be
            // discarded and an ICMP Parameter Problem, Code 3, message should be sent ...
            // with the Pointer field set to zero."
            if (f.offset == 0 && !detail::header_chain_complete(datagram, f.next_header, f.data_at())) {
                out.problem = ipv6_parameter_problem{icmpv6_parameter_problem_code::incomplete_header_chain, 0};
                return errc::ipv6_incomplete_header_chain;
            }
            // RFC 8200 §4.5: the rest is reassembled first; the walk stops here.
            out.protocol = f.next_header;
            out.offset = f.data_at();
            out.next_header_at = at + ipv6_extension_field::next_header;
            out.upper_layer = datagram.subspan(out.offset);
            return {};
        }
        case ipv6_next_header::tcp:
        case ipv6_next_header::udp:
        case ipv6_next_header::esp:
        case ipv6_next_header::ah:
        case ipv6_next_header::icmpv6:
        case ipv6_next_header::no_next_header:
        default:  // a Next Header value is a byte: most are no name of ipv6_next_header
            // RFC 8200 §4: the upper layer; whether it is recognized is the caller's to say.
            out.protocol = next;
            out.offset = at;
            out.next_header_at = next_at;
            out.upper_layer = datagram.subspan(at);
            return {};
        }
        next_at = at + ipv6_extension_field::next_header;
        next = datagram[next_at];
        at += length;
    }
}

inline std::optional<ipv6_upper_layer> skip_extension_headers(std::span<const std::uint8_t> bytes,
                                                              std::uint8_t next_header, std::size_t offset) noexcept
{
    if (offset > bytes.size()) return std::nullopt;
    for (;;) {
        std::size_t length = 0;
        switch (static_cast<ipv6_next_header>(next_header)) {
        case ipv6_next_header::hop_by_hop:
        case ipv6_next_header::routing:
        case ipv6_next_header::destination_options:
            length = detail::extension_length(bytes, offset);
            if (length == 0) return std::nullopt;
            break;
        case ipv6_next_header::fragment:
            if (bytes.size() - offset < ipv6_extension_field::fragment_size) return std::nullopt;
            // RFC 8200 §4.5: after a non-first fragment's header come data, not headers.
            if (detail::read_fragment(bytes, offset).offset != 0) return std::nullopt;
            length = ipv6_extension_field::fragment_size;
            break;
        case ipv6_next_header::tcp:
        case ipv6_next_header::udp:
        case ipv6_next_header::esp:
        case ipv6_next_header::ah:
        case ipv6_next_header::icmpv6:
        case ipv6_next_header::no_next_header:
        default:  // a Next Header value is a byte: most are no name of ipv6_next_header
            return ipv6_upper_layer{next_header, offset};
        }
        next_header = bytes[offset + ipv6_extension_field::next_header];
        offset += length;
    }
}

inline void add_ipv6_pseudo_header(checksum_accumulator& acc, const ipv6_address& source,
                                   const ipv6_address& destination, std::uint8_t next_header,
                                   std::uint32_t length) noexcept
{
    // RFC 8200 §8.1: source, destination, the 32-bit upper-layer packet length, then
    // three zero bytes and the Next Header byte (together the 32-bit value next_header).
    acc.add(source.octets);
    acc.add(destination.octets);
    acc.add_u32(length);
    acc.add_u32(next_header);
}

inline std::uint16_t ipv6_upper_layer_checksum(const ipv6_address& source, const ipv6_address& destination,
                                               std::uint8_t next_header,
                                               std::span<const std::uint8_t> upper_layer) noexcept
{
    checksum_accumulator acc;
    add_ipv6_pseudo_header(acc, source, destination, next_header, static_cast<std::uint32_t>(upper_layer.size()));
    acc.add(upper_layer);
    return acc.finish();
}

}  // namespace tcpx::wire
