// tcpx/wire/ipv4.hpp — IPv4 headers: a checked view for parsing, a representation
// for writing. Have open: RFC 791 §3.1 (header format), RFC 1122 §3.2.1 (what a
// host must check), RFC 2873 (the TOS/precedence byte must not cause a reset).
//
// Contract: construct an ipv4_view over received bytes and call check(). Only if it
// returns no error may the other accessors be used; then none of them reads out of
// bounds, whatever the bytes were. ipv4_header::emit writes exactly `size` bytes.
// Nothing here allocates, and nothing keeps state between calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/endian/conversion.hpp>

#include <tcpx/error.hpp>
#include <tcpx/wire/checksum.hpp>

namespace tcpx::wire {

/// An IPv4 address, held in host byte order so it compares and hashes as a number.
struct ipv4_address {
    std::uint32_t value = 0;

    constexpr ipv4_address() noexcept = default;
    constexpr explicit ipv4_address(std::uint32_t host_order) noexcept : value{host_order} {}
    constexpr ipv4_address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept
        : value{std::uint32_t{a} << 24 | std::uint32_t{b} << 16 | std::uint32_t{c} << 8 | d} {}

    /// Parses dotted-quad text ("10.0.0.1"); nullopt for anything else, leading zeros
    /// ("010.0.0.1") included, as inet_pton.
    static std::optional<ipv4_address> parse(std::string_view text) noexcept;
    std::string to_string() const;

    friend constexpr bool operator==(ipv4_address, ipv4_address) noexcept = default;
    friend constexpr auto operator<=>(ipv4_address, ipv4_address) noexcept = default;
};

/// What an address names, as far as a host must tell (RFC 1122 §3.2.1.3, RFC 1112 §4,
/// RFC 6890). Only `unicast` names one host.
enum class address_kind : std::uint8_t {
    unicast,
    this_network,       ///< 0.0.0.0/8: {0, 0} and {0, host}, sources only during initialization (§3.2.1.3 (a)-(b))
    loopback,           ///< 127.0.0.0/8: "MUST NOT appear outside a host" (§3.2.1.3 (g))
    multicast,          ///< 224.0.0.0/4, class D (RFC 1112 §4)
    reserved,           ///< 240.0.0.0/4 but the limited broadcast: class E (RFC 1112 §4, RFC 6890)
    limited_broadcast,  ///< 255.255.255.255 (§3.2.1.3 (c))
};

constexpr address_kind kind_of(ipv4_address a) noexcept
{
    const std::uint32_t first_octet = a.value >> 24;
    if (a.value == 0xffff'ffffu) return address_kind::limited_broadcast;
    if (first_octet == 0) return address_kind::this_network;
    if (first_octet == 127) return address_kind::loopback;
    if (first_octet >= 240) return address_kind::reserved;
    if (first_octet >= 224) return address_kind::multicast;
    return address_kind::unicast;
}

/// RFC 1122 §3.2.1.3 (d)-(e), RFC 922: the directed broadcast of the subnet `ours`
/// belongs to with a prefix of `prefix_length` bits — every host bit set. A /31 (RFC
/// 3021) and a /32 have none, nor has an unknown prefix (0).
constexpr bool is_directed_broadcast(ipv4_address a, ipv4_address ours, std::uint8_t prefix_length) noexcept
{
    if (prefix_length == 0 || prefix_length > 30) return false;
    const std::uint32_t host_bits = 0xffff'ffffu >> prefix_length;
    return (a.value & ~host_bits) == (ours.value & ~host_bits) && (a.value & host_bits) == host_bits;
}

/// IP protocol numbers tcpx handles (IANA "Assigned Internet Protocol Numbers").
enum class ip_protocol : std::uint8_t { icmp = 1, tcp = 6, udp = 17 };

/// RFC 791 §3.1: where each field sits in the fixed 20-byte header.
namespace ipv4_field {
inline constexpr std::size_t version_ihl = 0;
inline constexpr std::size_t tos = 1;
inline constexpr std::size_t total_length = 2;
inline constexpr std::size_t identification = 4;
inline constexpr std::size_t flags_fragment = 6;
inline constexpr std::size_t ttl = 8;
inline constexpr std::size_t protocol = 9;
inline constexpr std::size_t checksum = 10;
inline constexpr std::size_t source = 12;
inline constexpr std::size_t destination = 16;
inline constexpr std::size_t fixed_size = 20;
}  // namespace ipv4_field

/// A read-only, bounds-checked view of one received IPv4 packet.
class ipv4_view {
public:
    constexpr explicit ipv4_view(std::span<const std::uint8_t> packet) noexcept : bytes_{packet} {}

    /// Structure and header checksum. On success the accessors are safe to use.
    std::error_code check() const noexcept;

    std::uint8_t version() const noexcept { return bytes_[ipv4_field::version_ihl] >> 4; }
    std::size_t header_length() const noexcept { return std::size_t{bytes_[ipv4_field::version_ihl] & 0x0fu} * 4; }
    /// RFC 2873: read so it can be reported, never used to reject or reset anything.
    std::uint8_t tos() const noexcept { return bytes_[ipv4_field::tos]; }
    std::uint16_t total_length() const noexcept { return load16(ipv4_field::total_length); }
    std::uint16_t identification() const noexcept { return load16(ipv4_field::identification); }
    bool dont_fragment() const noexcept { return (load16(ipv4_field::flags_fragment) & 0x4000u) != 0; }
    bool more_fragments() const noexcept { return (load16(ipv4_field::flags_fragment) & 0x2000u) != 0; }
    /// In bytes (the field counts 8-byte units).
    std::size_t fragment_offset() const noexcept { return std::size_t{load16(ipv4_field::flags_fragment) & 0x1fffu} * 8; }
    /// A fragment of a larger datagram (RFC 791 §3.2): MF set or a non-zero offset.
    bool is_fragment() const noexcept { return more_fragments() || fragment_offset() != 0; }
    std::uint8_t ttl() const noexcept { return bytes_[ipv4_field::ttl]; }
    std::uint8_t protocol() const noexcept { return bytes_[ipv4_field::protocol]; }
    std::uint16_t header_checksum() const noexcept { return load16(ipv4_field::checksum); }
    ipv4_address source() const noexcept { return ipv4_address{load32(ipv4_field::source)}; }
    ipv4_address destination() const noexcept { return ipv4_address{load32(ipv4_field::destination)}; }

    /// The options area (RFC 791 §3.1), skipped by length: tcpx acts on no IPv4 option.
    std::span<const std::uint8_t> options() const noexcept
    {
        return bytes_.subspan(ipv4_field::fixed_size, header_length() - ipv4_field::fixed_size);
    }
    /// The datagram's payload. Bytes after total_length (link-layer padding) are not part of it.
    std::span<const std::uint8_t> payload() const noexcept
    {
        return bytes_.subspan(header_length(), total_length() - header_length());
    }
    std::span<const std::uint8_t> header_bytes() const noexcept { return bytes_.first(header_length()); }
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

private:
    std::uint16_t load16(std::size_t at) const noexcept { return boost::endian::load_big_u16(bytes_.data() + at); }
    std::uint32_t load32(std::size_t at) const noexcept { return boost::endian::load_big_u32(bytes_.data() + at); }

    std::span<const std::uint8_t> bytes_;
};

/// What tcpx writes into an IPv4 header: no options, never a fragment.
struct ipv4_header {
    static constexpr std::size_t size = ipv4_field::fixed_size;

    ipv4_address source;
    ipv4_address destination;
    std::uint8_t protocol = static_cast<std::uint8_t>(ip_protocol::tcp);
    std::uint8_t ttl = 64;  // RFC 1122 §3.2.1.7 leaves it to the host; 64 as Linux does
    std::uint8_t tos = 0;
    std::uint16_t identification = 0;
    // Path MTU discovery (RFC 1191) wants DF set on every TCP segment, as Linux does.
    bool dont_fragment = true;
    std::uint16_t payload_length = 0;

    /// Reads the fields of a checked view (options and fragment fields are dropped).
    static ipv4_header from(const ipv4_view& view) noexcept;

    /// Writes the 20-byte header with its checksum into out[0, 20).
    /// errc::buffer_too_small if out is shorter; errc::message_too_long if the
    /// total length would not fit the 16-bit field.
    std::error_code emit(std::span<std::uint8_t> out) const noexcept;
};

/// RFC 791 §3.1-§3.2: rewrites the total length, the fragment offset (in bytes, a
/// multiple of 8) and MF of the IPv4 header `header` (its whole length, options
/// included; DF kept), then its checksum. For the header of a datagram reassembled
/// from fragments (offset 0, no MF) and for each fragment cut from one.
void rewrite_fragment_fields(std::span<std::uint8_t> header, std::uint16_t total_length, std::size_t offset,
                             bool more_fragments) noexcept;

}  // namespace tcpx::wire

#include <tcpx/wire/impl/ipv4.ipp>
