// Bodies for tcpx/wire/ipv4.hpp. Not to be included directly.
#pragma once

#include <charconv>

namespace tcpx::wire {

inline std::optional<ipv4_address> ipv4_address::parse(std::string_view text) noexcept
{
    std::uint32_t value = 0;
    const char* p = text.data();
    const char* const end = text.data() + text.size();
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (p == end || *p != '.') return std::nullopt;
            ++p;
        }
        unsigned octet = 0;
        const auto [next, ec] = std::from_chars(p, end, octet);
        // At most three digits per octet: "0001" is not an address.
        if (ec != std::errc{} || octet > 255 || next - p > 3) return std::nullopt;
        // No leading zeros, as inet_pton: inet_aton reads "010" as octal 8, so accepting
        // it as decimal 10 would let one text name two hosts (cf. CVE-2021-29921).
        if (next - p > 1 && *p == '0') return std::nullopt;
        value = value << 8 | octet;
        p = next;
    }
    if (p != end) return std::nullopt;
    return ipv4_address{value};
}

inline std::string ipv4_address::to_string() const
{
    std::string s;
    for (int shift = 24; shift >= 0; shift -= 8) {
        if (shift != 24) s += '.';
        s += std::to_string((value >> shift) & 0xffu);
    }
    return s;
}

inline std::error_code ipv4_view::check() const noexcept
{
    if (bytes_.size() < ipv4_field::fixed_size) return errc::ipv4_truncated;
    // RFC 1122 §3.2.1.1: a datagram whose version is not 4 MUST be silently discarded.
    if (version() != 4) return errc::ipv4_bad_version;
    if (header_length() < ipv4_field::fixed_size) return errc::ipv4_bad_header_length;
    if (header_length() > bytes_.size()) return errc::ipv4_header_beyond_packet;
    // RFC 791 §3.1: total length counts header and data; a device may hand us
    // trailing padding (so more bytes than total_length is fine), never fewer.
    if (total_length() < header_length() || total_length() > bytes_.size())
        return errc::ipv4_total_length_mismatch;
    // RFC 1122 §3.2.1.2: a host MUST verify the header checksum and silently
    // discard a datagram that fails. A correct header sums to 0xffff.
    if (internet_checksum(header_bytes()) != 0) return errc::ipv4_bad_header_checksum;
    return {};
}

inline ipv4_header ipv4_header::from(const ipv4_view& view) noexcept
{
    ipv4_header h;
    h.source = view.source();
    h.destination = view.destination();
    h.protocol = view.protocol();
    h.ttl = view.ttl();
    h.tos = view.tos();
    h.identification = view.identification();
    h.dont_fragment = view.dont_fragment();
    h.payload_length = static_cast<std::uint16_t>(view.total_length() - view.header_length());
    return h;
}

inline std::error_code ipv4_header::emit(std::span<std::uint8_t> out) const noexcept
{
    using boost::endian::store_big_u16;
    using boost::endian::store_big_u32;
    if (out.size() < size) return errc::buffer_too_small;
    if (payload_length > 0xffffu - size) return errc::message_too_long;
    std::uint8_t* p = out.data();
    p[ipv4_field::version_ihl] = 0x45;  // version 4, IHL 5: tcpx sends no options
    p[ipv4_field::tos] = tos;
    store_big_u16(p + ipv4_field::total_length, static_cast<std::uint16_t>(size + payload_length));
    store_big_u16(p + ipv4_field::identification, identification);
    store_big_u16(p + ipv4_field::flags_fragment, dont_fragment ? 0x4000 : 0);
    p[ipv4_field::ttl] = ttl;
    p[ipv4_field::protocol] = protocol;
    store_big_u32(p + ipv4_field::source, source.value);
    store_big_u32(p + ipv4_field::destination, destination.value);
    // RFC 791 §3.1 / RFC 1071: the one's complement of the one's complement sum of the
    // header's ten 16-bit words, the checksum word counted as zero — summed from the
    // fields themselves rather than read back from memory (this runs once per packet).
    std::uint32_t sum = (0x4500u | tos) + size + payload_length + identification + (dont_fragment ? 0x4000u : 0u) +
                        (std::uint32_t{ttl} << 8 | protocol) + (source.value >> 16) + (source.value & 0xffffu) +
                        (destination.value >> 16) + (destination.value & 0xffffu);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    store_big_u16(p + ipv4_field::checksum, static_cast<std::uint16_t>(~sum & 0xffffu));
    return {};
}

inline void rewrite_fragment_fields(std::span<std::uint8_t> header, std::uint16_t total_length, std::size_t offset,
                                    bool more_fragments) noexcept
{
    using boost::endian::load_big_u16;
    using boost::endian::store_big_u16;
    std::uint8_t* p = header.data();
    store_big_u16(p + ipv4_field::total_length, total_length);
    // Flags (DF 0x4000, MF 0x2000) and the offset in 8-byte units in the low 13 bits.
    const std::uint16_t dont_fragment = load_big_u16(p + ipv4_field::flags_fragment) & 0x4000u;
    store_big_u16(p + ipv4_field::flags_fragment,
                  static_cast<std::uint16_t>(dont_fragment | (more_fragments ? 0x2000u : 0u) | ((offset / 8) & 0x1fffu)));
    store_big_u16(p + ipv4_field::checksum, 0);
    store_big_u16(p + ipv4_field::checksum, internet_checksum(header));
}

}  // namespace tcpx::wire
