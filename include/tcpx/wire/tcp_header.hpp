// tcpx/wire/tcp_header.hpp — TCP segment headers: a checked view for parsing, a
// representation for writing, and the checksum over the IPv4 pseudo-header.
// Have open: RFC 9293 §3.1 (header format), §3.7.1 and RFC 6691 (MSS), RFC 7323
// (window scale, timestamps), RFC 2018 (SACK), RFC 3168 §6.1 (ECE, CWR).
//
// Contract: construct a tcp_view over the IPv4 payload and call check(). Only if it
// returns no error may the other accessors be used; none then reads out of bounds.
// tcp_header::emit writes exactly size() bytes. Nothing here allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

#include <boost/endian/conversion.hpp>

#include <tcpx/error.hpp>
#include <tcpx/wire/checksum.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/seq32.hpp>
#include <tcpx/wire/tcp_options.hpp>

namespace tcpx::wire {

/// The control bits (RFC 9293 §3.1; ECE and CWR from RFC 3168 §6.1), as their bit values.
enum class tcp_flags : std::uint8_t {
    none = 0,
    fin = 0x01,
    syn = 0x02,
    rst = 0x04,
    psh = 0x08,
    ack = 0x10,
    urg = 0x20,
    ece = 0x40,
    cwr = 0x80,
};

constexpr tcp_flags operator|(tcp_flags a, tcp_flags b) noexcept
{
    return static_cast<tcp_flags>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr tcp_flags operator&(tcp_flags a, tcp_flags b) noexcept
{
    return static_cast<tcp_flags>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
constexpr tcp_flags& operator|=(tcp_flags& a, tcp_flags b) noexcept { return a = a | b; }
/// Every bit of `wanted` is set in `flags`.
constexpr bool has(tcp_flags flags, tcp_flags wanted) noexcept { return (flags & wanted) == wanted; }

/// Text such as "ACK|SYN" for logs and tests: the set bits in header order, from the most
/// significant (CWR) down to FIN; "none" when no bit is set.
std::string to_string(tcp_flags flags);

/// RFC 9293 §3.1: where each field sits in the fixed 20-byte header.
namespace tcp_field {
inline constexpr std::size_t source_port = 0;
inline constexpr std::size_t destination_port = 2;
inline constexpr std::size_t seq = 4;
inline constexpr std::size_t ack = 8;
inline constexpr std::size_t data_offset = 12;  // high 4 bits; low 4 reserved
inline constexpr std::size_t flags = 13;
inline constexpr std::size_t window = 14;
inline constexpr std::size_t checksum = 16;
inline constexpr std::size_t urgent_pointer = 18;
inline constexpr std::size_t fixed_size = 20;
inline constexpr std::size_t max_size = 60;  // data offset is 4 bits of 32-bit words
}  // namespace tcp_field

/// A read-only, bounds-checked view of one received TCP segment (the IPv4 payload).
class tcp_view {
public:
    constexpr explicit tcp_view(std::span<const std::uint8_t> segment) noexcept : bytes_{segment} {}

    /// Structure only: at least 20 bytes and a data offset within [20, size].
    std::error_code check() const noexcept;
    /// RFC 9293 §3.1 / RFC 1122 §4.2.2.7: the checksum over the pseudo-header,
    /// header and data. Call after check().
    bool checksum_ok(ipv4_address source, ipv4_address destination) const noexcept;
    /// The pseudo-header and the header (options included) summed: add the payload —
    /// or copy it out with copy_and_add, summing on the way (RFC 1071 §2) — and the
    /// checksum is good if sum() == 0xffff. Call after check().
    checksum_accumulator header_sum(ipv4_address source, ipv4_address destination) const noexcept;

    std::uint16_t source_port() const noexcept { return load16(tcp_field::source_port); }
    std::uint16_t destination_port() const noexcept { return load16(tcp_field::destination_port); }
    seq32 seq() const noexcept { return seq32{load32(tcp_field::seq)}; }
    seq32 ack() const noexcept { return seq32{load32(tcp_field::ack)}; }
    std::size_t header_length() const noexcept { return static_cast<std::size_t>(bytes_[tcp_field::data_offset] >> 4) * 4; }
    tcp_flags flags() const noexcept { return static_cast<tcp_flags>(bytes_[tcp_field::flags]); }
    std::uint16_t window() const noexcept { return load16(tcp_field::window); }
    std::uint16_t checksum() const noexcept { return load16(tcp_field::checksum); }
    std::uint16_t urgent_pointer() const noexcept { return load16(tcp_field::urgent_pointer); }

    std::span<const std::uint8_t> options_area() const noexcept
    {
        return bytes_.subspan(tcp_field::fixed_size, header_length() - tcp_field::fixed_size);
    }
    std::span<const std::uint8_t> payload() const noexcept { return bytes_.subspan(header_length()); }
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

private:
    std::uint16_t load16(std::size_t at) const noexcept { return boost::endian::load_big_u16(bytes_.data() + at); }
    std::uint32_t load32(std::size_t at) const noexcept { return boost::endian::load_big_u32(bytes_.data() + at); }

    std::span<const std::uint8_t> bytes_;
};

/// A TCP header as tcpx reads and writes it: every field of RFC 9293 §3.1 plus the
/// options tcpx understands. The payload is not part of it.
struct tcp_header {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    seq32 seq;
    seq32 ack;
    tcp_flags flags = tcp_flags::none;
    std::uint16_t window = 0;
    std::uint16_t urgent_pointer = 0;
    tcp_options options;

    /// Header bytes emit() writes: 20 plus the padded options.
    std::size_t size() const noexcept { return tcp_field::fixed_size + options.wire_size(); }

    /// Reads a checked view's fields and options (errors from the options parser).
    static std::error_code parse(const tcp_view& view, tcp_header& out) noexcept;

    /// Writes the header into out[0, size()) with a zero checksum field; the
    /// checksum needs the payload, so the caller completes it (tcp_checksum_* below).
    std::error_code emit(std::span<std::uint8_t> out) const noexcept;

    friend bool operator==(const tcp_header&, const tcp_header&) = default;
};

/// Sums the IPv4 pseudo-header (RFC 9293 §3.1) for a segment of `segment_length` bytes.
void add_tcp_pseudo_header(checksum_accumulator& acc, ipv4_address source,
                           ipv4_address destination, std::size_t segment_length) noexcept;

/// Computes and stores the checksum of a complete segment (header and payload
/// already in place, checksum field zero). The simple path, for tests and control
/// segments; the data path folds the payload's sum into its copy instead and
/// finishes with store_tcp_checksum.
void fill_tcp_checksum(std::span<std::uint8_t> segment, ipv4_address source,
                       ipv4_address destination) noexcept;

/// Finishes a checksum: `payload` holds the sum of the payload alone (added from its
/// first byte); adds the pseudo-header and the header bytes (checksum field zero),
/// then stores the result into the header.
void store_tcp_checksum(std::span<std::uint8_t> header, checksum_accumulator payload,
                        ipv4_address source, ipv4_address destination,
                        std::size_t segment_length) noexcept;

/// For a device that finishes checksums itself (checksum offload, Linux's
/// CHECKSUM_PARTIAL): stores the pseudo-header's folded sum, not complemented, into the
/// checksum field of `segment` (the whole segment; its length goes into the sum). The
/// device then sums from the TCP header to the end and stores the complement.
void store_tcp_pseudo_header_sum(std::span<std::uint8_t> segment, ipv4_address source,
                                 ipv4_address destination) noexcept;

}  // namespace tcpx::wire

#include <tcpx/wire/impl/tcp_header.ipp>
