// tcpx/wire/ipv6.hpp — IPv6 headers: addresses and their text, a checked view for
// parsing, a representation for writing, the extension-header chain, and the
// upper-layer checksum over the IPv6 pseudo-header. Have open:
//   RFC 8200  §3 (header format), §4 (extension headers: §4.1 order, §4.2 options,
//             §4.3 hop-by-hop, §4.4 routing, §4.5 fragment, §4.6 destination options),
//             §8.1 (upper-layer checksums)
//   RFC 4291  §2.2 (text form), §2.5 and §2.7 (which addresses are which)
//   RFC 5952  (the one text form to write)
//   RFC 5095  (routing header type 0 deprecated), RFC 6946 (atomic fragments),
//   RFC 7112  (the first fragment holds the whole header chain)
//   RFC 4443  §3.4 (the Parameter Problem a failed walk answers with)
//
// Contract: construct an ipv6_view over received bytes and call check(). Only if it
// returns no error may the other accessors be used, or the view be given to
// parse_header_chain; then none of them reads out of bounds, whatever the bytes were.
// ipv6_header::emit writes exactly `size` bytes. Nothing here allocates (but
// to_string, for people), and nothing keeps state between calls.
//
//   ipv6_view v{bytes};  v.check()              then version(), payload_length() ...
//   parse_header_chain(v, chain)                the upper-layer protocol and where it starts,
//                                               the fragment header, or which Parameter
//                                               Problem to answer with
//   skip_extension_headers(bytes, next, at)     the same chain by lengths alone (quotes)
//   ipv6_upper_layer_checksum(...)              RFC 8200 §8.1, for TCP and ICMPv6
//
// Jumbograms (RFC 2675) are not supported: a payload length of 0 is an empty payload,
// and the Jumbo Payload option is an unrecognized one (§4.2: the high bits 11 of its
// type 0xC2 say discard, and report unless the destination is multicast).
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
#include <tcpx/wire/ipv4.hpp>

namespace tcpx::wire {

/// An IPv6 address: its 16 bytes in network order, which is also the order its text
/// is written in, so it compares (and sorts) as the 128-bit number it is.
struct ipv6_address {
    std::array<std::uint8_t, 16> octets{};

    /// The longest text to_chars writes: eight groups of four digits and seven colons.
    static constexpr std::size_t text_capacity = 39;

    constexpr ipv6_address() noexcept = default;
    constexpr explicit ipv6_address(const std::array<std::uint8_t, 16>& network_order) noexcept
        : octets{network_order} {}
    /// The eight 16-bit groups in the order text writes them (RFC 4291 §2.2):
    /// ipv6_address{0xfe80, 0, 0, 0, 0, 0, 0, 1} is fe80::1.
    constexpr ipv6_address(std::uint16_t g0, std::uint16_t g1, std::uint16_t g2, std::uint16_t g3,
                           std::uint16_t g4, std::uint16_t g5, std::uint16_t g6, std::uint16_t g7) noexcept
    {
        const std::uint16_t groups[8] = {g0, g1, g2, g3, g4, g5, g6, g7};
        for (std::size_t i = 0; i < 8; ++i) {
            octets[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
            octets[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xffu);
        }
    }

    /// Reads 16 bytes as they stand in a header.
    static constexpr ipv6_address from_bytes(std::span<const std::uint8_t, 16> wire) noexcept
    {
        ipv6_address a;
        for (std::size_t i = 0; i < 16; ++i) a.octets[i] = wire[i];
        return a;
    }
    /// RFC 4291 §2.5.5.2: ::ffff:a.b.c.d, an IPv4 node's address as IPv6 names it.
    static constexpr ipv6_address v4_mapped(ipv4_address v4) noexcept
    {
        return ipv6_address{0, 0, 0, 0, 0, 0xffff, static_cast<std::uint16_t>(v4.value >> 16),
                            static_cast<std::uint16_t>(v4.value & 0xffffu)};
    }

    /// Group i (0..7) as a number: group(0) is the first in the text.
    constexpr std::uint16_t group(std::size_t i) const noexcept
    {
        return static_cast<std::uint16_t>(octets[2 * i] << 8 | octets[2 * i + 1]);
    }
    /// The low 32 bits as an IPv4 address: the one an IPv4-mapped address names.
    constexpr ipv4_address to_v4() const noexcept
    {
        return ipv4_address{octets[12], octets[13], octets[14], octets[15]};
    }

    /// RFC 4291 §2.5.2: :: , "never assigned to any node", a source only while it has none.
    constexpr bool is_unspecified() const noexcept { return *this == ipv6_address{}; }
    /// RFC 4291 §2.5.3: ::1.
    constexpr bool is_loopback() const noexcept { return *this == ipv6_address{0, 0, 0, 0, 0, 0, 0, 1}; }
    /// RFC 4291 §2.7: ff00::/8.
    constexpr bool is_multicast() const noexcept { return octets[0] == 0xff; }
    /// RFC 4291 §2.5.6: fe80::/10.
    constexpr bool is_link_local() const noexcept { return octets[0] == 0xfe && (octets[1] & 0xc0u) == 0x80; }
    /// RFC 4291 §2.5.5.2: ::ffff:0:0/96.
    constexpr bool is_v4_mapped() const noexcept
    {
        for (std::size_t i = 0; i < 10; ++i)
            if (octets[i] != 0) return false;
        return octets[10] == 0xff && octets[11] == 0xff;
    }

    /// Parses RFC 4291 §2.2 text: x:x:x:x:x:x:x:x with one to four hex digits a group
    /// (either case), one "::" for one or more zero groups, and the last 32 bits
    /// optionally as a dotted quad (read as ipv4_address::parse does, no leading
    /// zeros). nullopt for anything else: zone indices ("%eth0"), brackets, prefix
    /// lengths, and a "::" with all eight groups besides (as inet_pton).
    static std::optional<ipv6_address> parse(std::string_view text) noexcept;

    /// Writes the RFC 5952 text into out and returns its length: no leading zeros
    /// (§4.1), "::" for the longest run of two or more zero groups, the first of equal
    /// runs (§4.2), lowercase (§4.3); an IPv4-mapped address as ::ffff:a.b.c.d (§5).
    std::size_t to_chars(std::span<char, text_capacity> out) const noexcept;
    std::string to_string() const;

    friend constexpr bool operator==(const ipv6_address&, const ipv6_address&) noexcept = default;
    friend constexpr auto operator<=>(const ipv6_address&, const ipv6_address&) noexcept = default;
};

/// RFC 8200 §5: every link carries 1280 bytes; no IPv6 path MTU is below it.
inline constexpr std::size_t ipv6_minimum_mtu = 1280;

/// Next Header values (RFC 8200 §4, IANA "Assigned Internet Protocol Numbers"): the
/// extension headers the chain walk knows, and the upper layers tcpx names.
enum class ipv6_next_header : std::uint8_t {
    hop_by_hop = 0,             ///< §4.3, only right after the IPv6 header (§4.1)
    tcp = 6,
    udp = 17,
    routing = 43,               ///< §4.4
    fragment = 44,              ///< §4.5
    esp = 50,                   ///< RFC 4303: an upper layer to the walk; tcpx has no IPsec
    ah = 51,                    ///< RFC 4302: likewise
    icmpv6 = 58,                ///< RFC 4443
    no_next_header = 59,        ///< §4.7: nothing follows; any bytes after are ignored
    destination_options = 60,   ///< §4.6
};

/// RFC 8200 §3: where each field sits in the fixed 40-byte header.
namespace ipv6_field {
inline constexpr std::size_t version_class_flow = 0;  // version 4 bits, traffic class 8, flow label 20
inline constexpr std::size_t payload_length = 4;
inline constexpr std::size_t next_header = 6;
inline constexpr std::size_t hop_limit = 7;
inline constexpr std::size_t source = 8;
inline constexpr std::size_t destination = 24;
inline constexpr std::size_t fixed_size = 40;
}  // namespace ipv6_field

/// RFC 8200 §4.3-§4.6: where each field sits in an extension header.
namespace ipv6_extension_field {
inline constexpr std::size_t next_header = 0;     // every extension header
inline constexpr std::size_t length = 1;          // Hdr Ext Len: 8-byte units after the first 8
inline constexpr std::size_t routing_type = 2;    // routing (§4.4)
inline constexpr std::size_t segments_left = 3;   // routing (§4.4)
inline constexpr std::size_t fragment_offset = 2; // fragment (§4.5): 13 bits offset, 2 reserved, M
inline constexpr std::size_t identification = 4;  // fragment (§4.5)
inline constexpr std::size_t unit = 8;            // Hdr Ext Len and Fragment Offset count 8 bytes
inline constexpr std::size_t fragment_size = 8;   // the fragment header's fixed size
}  // namespace ipv6_extension_field

/// RFC 8200 §4.2: the Option Types the option walk acts on itself.
namespace ipv6_option_type {
inline constexpr std::uint8_t pad1 = 0;              ///< one byte of padding, no length
inline constexpr std::uint8_t padn = 1;              ///< two or more bytes of padding
inline constexpr std::uint8_t jumbo_payload = 0xc2;  ///< RFC 2675, unsupported: discard, report unless multicast
}  // namespace ipv6_option_type

/// RFC 8200 §4.2: what the two high-order bits of an Option Type ask of a node that
/// does not recognize the option.
enum class ipv6_option_action : std::uint8_t {
    skip = 0,                                 ///< 00: skip it, go on with the header
    discard = 1,                              ///< 01: discard the packet, silently
    discard_and_report = 2,                   ///< 10: discard; Parameter Problem code 2, even to multicast
    discard_and_report_unless_multicast = 3,  ///< 11: discard; Parameter Problem code 2 unless to multicast
};

constexpr ipv6_option_action unrecognized_option_action(std::uint8_t option_type) noexcept
{
    return static_cast<ipv6_option_action>(option_type >> 6);
}

/// RFC 8200 §4.2: the third-highest bit says the option's data may change en route.
constexpr bool option_data_may_change(std::uint8_t option_type) noexcept { return (option_type & 0x20u) != 0; }

/// RFC 4443 §3.4 (codes 0-2) and RFC 7112 §5 (code 3): why a Parameter Problem is
/// sent. Declared here, where parse_header_chain reports it; icmpv6.hpp writes it.
enum class icmpv6_parameter_problem_code : std::uint8_t {
    erroneous_header_field = 0,
    unrecognized_next_header = 1,
    unrecognized_option = 2,
    incomplete_header_chain = 3,
};

/// The Parameter Problem a packet is to be answered with (RFC 4443 §3.4).
struct ipv6_parameter_problem {
    icmpv6_parameter_problem_code code = icmpv6_parameter_problem_code::erroneous_header_field;
    /// The offset of the offending byte, counted from the first byte of the IPv6 header.
    std::uint32_t pointer = 0;

    friend bool operator==(const ipv6_parameter_problem&, const ipv6_parameter_problem&) = default;
};

/// A read-only, bounds-checked view of one received IPv6 packet.
class ipv6_view {
public:
    constexpr explicit ipv6_view(std::span<const std::uint8_t> packet) noexcept : bytes_{packet} {}

    /// Structure: the fixed header present, version 6, the payload within the bytes.
    /// On success the accessors are safe to use.
    std::error_code check() const noexcept;

    std::uint8_t version() const noexcept { return bytes_[ipv6_field::version_class_flow] >> 4; }
    /// RFC 8200 §7: DSCP (high 6 bits) and ECN (low 2), as RFC 2474 and RFC 3168 define them.
    std::uint8_t traffic_class() const noexcept
    {
        return static_cast<std::uint8_t>(load32(ipv6_field::version_class_flow) >> 20);
    }
    /// RFC 8200 §6, RFC 6437: 20 bits; 0 when the source labels no flow.
    std::uint32_t flow_label() const noexcept { return load32(ipv6_field::version_class_flow) & 0xfffffu; }
    /// RFC 8200 §3: the bytes after the fixed header, extension headers included.
    std::uint16_t payload_length() const noexcept { return load16(ipv6_field::payload_length); }
    std::uint8_t next_header() const noexcept { return bytes_[ipv6_field::next_header]; }
    std::uint8_t hop_limit() const noexcept { return bytes_[ipv6_field::hop_limit]; }
    ipv6_address source() const noexcept
    {
        return ipv6_address::from_bytes(bytes_.subspan(ipv6_field::source).first<16>());
    }
    ipv6_address destination() const noexcept
    {
        return ipv6_address::from_bytes(bytes_.subspan(ipv6_field::destination).first<16>());
    }

    /// The payload: extension headers and upper layer. Bytes after payload_length
    /// (link-layer padding) are not part of it.
    std::span<const std::uint8_t> payload() const noexcept
    {
        return bytes_.subspan(ipv6_field::fixed_size, payload_length());
    }
    /// Header and payload: the datagram without link padding.
    std::span<const std::uint8_t> datagram() const noexcept
    {
        return bytes_.first(ipv6_field::fixed_size + payload_length());
    }
    std::span<const std::uint8_t> header_bytes() const noexcept { return bytes_.first(ipv6_field::fixed_size); }
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

private:
    std::uint16_t load16(std::size_t at) const noexcept { return boost::endian::load_big_u16(bytes_.data() + at); }
    std::uint32_t load32(std::size_t at) const noexcept { return boost::endian::load_big_u32(bytes_.data() + at); }

    std::span<const std::uint8_t> bytes_;
};

/// What tcpx writes into an IPv6 header: the fixed header; extension headers, if any,
/// are the caller's to put after it, with `next_header` naming the first.
struct ipv6_header {
    static constexpr std::size_t size = ipv6_field::fixed_size;

    ipv6_address source;
    ipv6_address destination;
    std::uint8_t next_header = static_cast<std::uint8_t>(ipv6_next_header::tcp);
    std::uint8_t hop_limit = 64;  // RFC 8200 §3 leaves it to the node; 64 as Linux does
    std::uint8_t traffic_class = 0;
    std::uint32_t flow_label = 0;  // RFC 6437: 20 bits, 0 for no flow
    std::uint16_t payload_length = 0;

    /// Reads the fields of a checked view.
    static ipv6_header from(const ipv6_view& view) noexcept;

    /// Writes the 40-byte header into out[0, 40). errc::buffer_too_small if out is
    /// shorter; errc::invalid_argument if the flow label does not fit in 20 bits.
    std::error_code emit(std::span<std::uint8_t> out) const noexcept;
};

/// RFC 8200 §4.5: a Fragment header, as the chain walk read it.
struct ipv6_fragment {
    std::uint8_t next_header = 0;     ///< of the fragmentable part (the first fragment's counts)
    std::size_t offset = 0;           ///< in bytes (the field counts 8-byte units)
    bool more_fragments = false;      ///< the M flag
    std::uint32_t identification = 0;
    /// Where the Fragment header starts: the length of the IPv6 header and the
    /// per-fragment headers before it (RFC 8200 §4.5, "Per-Fragment headers").
    std::size_t header_at = 0;
    /// Where the Next Header byte that names the Fragment header is: reassembly writes
    /// the first fragment's Next Header there (RFC 8200 §4.5).
    std::size_t next_header_at = ipv6_field::next_header;

    /// RFC 6946: offset 0 and no M, a whole datagram; processed in isolation.
    bool is_atomic() const noexcept { return offset == 0 && !more_fragments; }
    /// Where the fragment's data (the fragmentable part) begins.
    std::size_t data_at() const noexcept { return header_at + ipv6_extension_field::fragment_size; }

    friend bool operator==(const ipv6_fragment&, const ipv6_fragment&) = default;
};

/// What parse_header_chain found. Offsets count from the first byte of the IPv6 header.
struct ipv6_header_chain {
    /// The upper-layer protocol (a Next Header value the walk does not take for an
    /// extension header: TCP, ICMPv6, No Next Header, ESP ... anything). For a
    /// fragment that is not atomic, the Fragment header's Next Header: the walk stops
    /// there, and the rest of the chain is walked after reassembly.
    std::uint8_t protocol = 0;
    /// Where that protocol's header starts (for a fragment: where its data starts).
    std::size_t offset = 0;
    /// Where the Next Header byte that names `protocol` is.
    std::size_t next_header_at = ipv6_field::next_header;
    /// Bytes [offset, 40 + payload length): the upper-layer header and data.
    std::span<const std::uint8_t> upper_layer;
    /// The last Fragment header read: atomic ones the walk went past, or the fragment
    /// it stopped at.
    std::optional<ipv6_fragment> fragment;
    /// After an error: the Parameter Problem to answer with, or nullopt to drop the
    /// packet silently. Empty on success.
    std::optional<ipv6_parameter_problem> problem;

    /// RFC 8200 §4, RFC 4443 §3.4 code 1: what to answer when `protocol` is one the
    /// node does not recognize; the pointer names the Next Header byte.
    ipv6_parameter_problem unrecognized_next_header() const noexcept
    {
        return {icmpv6_parameter_problem_code::unrecognized_next_header, static_cast<std::uint32_t>(next_header_at)};
    }
};

/// Walks the extension headers of a checked packet (RFC 8200 §4) up to the upper
/// layer, processing each as a destination must:
///  - Hop-by-Hop Options only right after the IPv6 header (§4.1); elsewhere it is an
///    unrecognized Next Header: ipv6_misplaced_hop_by_hop, Parameter Problem code 1.
///  - Hop-by-Hop and Destination Options: Pad1 and PadN skipped, every other option
///    unrecognized and handled by its two high bits (§4.2): ipv6_unrecognized_option,
///    with Parameter Problem code 2 pointing at its type when the bits ask for one.
///  - Routing (§4.4): with Segments Left 0, ignored; otherwise no type is one a host
///    executes: type 0 is ipv6_routing_type_0 (RFC 5095 §3), any other
///    ipv6_unrecognized_routing_type, both Parameter Problem code 0 at the type.
///  - Fragment (§4.5): an atomic fragment is walked past (RFC 6946); at any other the
///    walk stops, after §4.5's checks: a length not a multiple of 8 with M set
///    (ipv6_fragment_bad_length, code 0 at the payload length), a datagram beyond
///    65,535 bytes (ipv6_fragment_too_large, code 0 at the offset), and a first
///    fragment without the whole header chain (ipv6_incomplete_header_chain, code 3,
///    pointer 0: RFC 7112 §5).
///  - A header or option that runs past the payload: ipv6_extension_truncated or
///    ipv6_option_beyond_header, dropped silently (as Linux).
/// Which upper layers tcpx handles is the caller's to say; for one it does not, it
/// counts errc::ipv6_unrecognized_next_header, and unrecognized_next_header() gives the
/// answer. The walk is linear in the packet's length,
/// however many headers it holds. Precondition: packet.check() passed.
std::error_code parse_header_chain(const ipv6_view& packet, ipv6_header_chain& out) noexcept;

/// An upper-layer header found by skip_extension_headers.
struct ipv6_upper_layer {
    std::uint8_t protocol = 0;
    std::size_t offset = 0;

    friend bool operator==(const ipv6_upper_layer&, const ipv6_upper_layer&) = default;
};

/// Skips the extension headers in `bytes` from `offset`, where a header of type
/// `next_header` starts, by their lengths alone (as Linux's ipv6_skip_exthdr): no
/// option processed, Hop-by-Hop accepted anywhere, a first or atomic Fragment header
/// walked past. For bytes that are not a packet to process: an ICMPv6 error's quote
/// (cut short, its payload length not to be believed) or a fragment's rest.
/// nullopt if a header runs past the end, or at a non-first fragment (what follows
/// it is no header). The offset returned may equal bytes.size().
std::optional<ipv6_upper_layer> skip_extension_headers(std::span<const std::uint8_t> bytes,
                                                       std::uint8_t next_header, std::size_t offset) noexcept;

/// Adds the RFC 8200 §8.1 pseudo-header: source, destination (the final one, if a
/// routing header is present), the upper-layer packet length as 32 bits, three zero
/// bytes and the Next Header value of the upper layer. Same sum as adding those 40 bytes.
void add_ipv6_pseudo_header(checksum_accumulator& acc, const ipv6_address& source,
                            const ipv6_address& destination, std::uint8_t next_header,
                            std::uint32_t length) noexcept;

/// RFC 8200 §8.1: the checksum of an upper-layer packet (TCP, ICMPv6) over the
/// pseudo-header and `upper_layer` (header and data, the length taken from it). With
/// the checksum field zero, the value to store there; over a packet whose checksum is
/// correct, 0.
std::uint16_t ipv6_upper_layer_checksum(const ipv6_address& source, const ipv6_address& destination,
                                        std::uint8_t next_header,
                                        std::span<const std::uint8_t> upper_layer) noexcept;

}  // namespace tcpx::wire

#include <tcpx/wire/impl/ipv6.ipp>
