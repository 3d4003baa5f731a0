// tcpx/wire/icmpv6.hpp — ICMPv6 messages: a checked view for parsing what arrives, the
// quoted packet inside an error message, and writers for what a host sends (echo
// reply, and the four error messages). Have open: RFC 4443 §2 (general format, §2.1
// types, §2.2 source address, §2.3 checksum, §2.4 processing rules), §3 (error
// messages), §4 (echo); RFC 8200 §8.1 (the pseudo-header), RFC 7112 §5 (Parameter
// Problem code 3), RFC 4291 §2.5.3 and §2.7 (addresses that name no single node).
//
// Contract: construct an icmpv6_view over the upper-layer bytes parse_header_chain
// found (ipv6_header_chain::upper_layer) and call check() with the packet's addresses.
// Only if it returns no error may the other accessors be used; then none of them reads
// out of bounds, whatever the bytes were, quoted_transport() included. The writers take
// views that passed their own check(), write a whole IPv6 packet (the fixed header, no
// extension headers, then the ICMPv6 message with its checksum) into the caller's
// buffer, and report in `written` exactly how many bytes they wrote; on an error they
// report 0. Nothing here allocates, and nothing keeps state between calls (the rate
// limit of RFC 4443 §2.4(f) is the stack's).
//
//   icmpv6_view v{chain.upper_layer};  v.check(src, dst)   then type(), code(), body() ...
//   v.quoted_transport()                                   who an error message is about
//   may_send_icmpv6_error(error, offending, chain)         RFC 4443 §2.4(e): may we send it?
//   emit_icmpv6_echo_reply / emit_icmpv6_error
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include <boost/endian/conversion.hpp>

#include <tcpx/error.hpp>
#include <tcpx/wire/checksum.hpp>
#include <tcpx/wire/ipv6.hpp>
#include <tcpx/wire/seq32.hpp>

namespace tcpx::wire {

/// The message types tcpx reads or writes (RFC 4443 §2.1; IANA "ICMPv6 Parameters").
enum class icmpv6_type : std::uint8_t {
    destination_unreachable = 1,  ///< §3.1
    packet_too_big = 2,           ///< §3.2: carries the next hop's MTU
    time_exceeded = 3,            ///< §3.3
    parameter_problem = 4,        ///< §3.4: carries a pointer into the invoking packet
    echo_request = 128,           ///< §4.1
    echo_reply = 129,             ///< §4.2
    redirect = 137,               ///< RFC 4861 §4.5: never answered with an error (RFC 4443 §2.4(e.2))
};

/// RFC 4443 §2.1: "error messages are identified as such by a zero in the high-order
/// bit of their message Type field values" — types 0 to 127, known to tcpx or not.
constexpr bool is_icmpv6_error(std::uint8_t type) noexcept { return type < 128; }

/// Destination Unreachable codes (RFC 4443 §3.1).
enum class icmpv6_unreachable_code : std::uint8_t {
    no_route = 0,
    administratively_prohibited = 1,
    beyond_scope_of_source = 2,
    address_unreachable = 3,
    port_unreachable = 4,  ///< what a host answers a transport with no listener (§3.1)
    source_address_failed_policy = 5,
    reject_route = 6,
};

/// Time Exceeded codes (RFC 4443 §3.3).
enum class icmpv6_time_exceeded_code : std::uint8_t {
    hop_limit_exceeded = 0,
    fragment_reassembly = 1,  ///< RFC 8200 §4.5: reassembly timed out after the first fragment came
};

/// RFC 4443 §2.1, §3, §4: where each field sits in the 8-byte header. Bytes 4..7
/// depend on the type.
namespace icmpv6_field {
inline constexpr std::size_t type = 0;
inline constexpr std::size_t code = 1;
inline constexpr std::size_t checksum = 2;
inline constexpr std::size_t parameter = 4;   // the 32 bits after the checksum, named below
inline constexpr std::size_t mtu = 4;         // packet too big (§3.2), 32 bits
inline constexpr std::size_t pointer = 4;     // parameter problem (§3.4), 32 bits
inline constexpr std::size_t identifier = 4;  // echo request / reply (§4.1), 16 bits
inline constexpr std::size_t sequence = 6;    // echo request / reply (§4.1), 16 bits
inline constexpr std::size_t fixed_size = 8;  // the body (data, or the quote) follows
}  // namespace icmpv6_field

/// RFC 4443 §2.4(c): an error quotes as much of the invoking packet as fits without the
/// ICMPv6 packet exceeding the minimum IPv6 MTU (RFC 8200 §5), IPv6 header included.
inline constexpr std::size_t icmpv6_error_max_size = ipv6_minimum_mtu;

/// The first bytes of a transport header an error must quote to name a connection:
/// ports and, for TCP, the sequence number (as icmp_quote_min_payload for IPv4).
inline constexpr std::size_t icmpv6_quote_min_transport = 8;

/// What an error message says about the packet it quotes: enough to find the
/// connection it concerns (RFC 4443 §2.4(d): the upper-layer protocol is found in the
/// quote, and the upper layer finds its own process from there).
struct icmpv6_quote {
    ipv6_address source;       ///< the quoted packet's source: ours, if we sent it
    ipv6_address destination;  ///< as sent (tcpx sends no Routing header, so the final one)
    std::uint8_t protocol = 0; ///< the upper layer, past any extension headers
    std::uint16_t source_port = 0;       ///< bytes 0..1 of the quoted transport header
    std::uint16_t destination_port = 0;  ///< bytes 2..3
    /// Bytes 4..7: TCP's sequence number (RFC 9293 §3.1), which RFC 5927 §4.1 asks to
    /// check against the send window. Meaningless for other protocols.
    seq32 sequence;

    friend bool operator==(const icmpv6_quote&, const icmpv6_quote&) = default;
};

/// A read-only, bounds-checked view of one received ICMPv6 message (the upper layer of
/// an IPv6 packet whose header chain ended in Next Header 58).
class icmpv6_view {
public:
    constexpr explicit icmpv6_view(std::span<const std::uint8_t> message) noexcept : bytes_{message} {}

    /// At least the 8-byte header, and the RFC 4443 §2.3 checksum over the pseudo-header
    /// of the packet it came in (its source and destination) and the whole message.
    std::error_code check(const ipv6_address& source, const ipv6_address& destination) const noexcept;

    /// The raw type: compare with icmpv6_type values; most bytes name no type tcpx knows.
    std::uint8_t type() const noexcept { return bytes_[icmpv6_field::type]; }
    std::uint8_t code() const noexcept { return bytes_[icmpv6_field::code]; }
    std::uint16_t checksum() const noexcept { return load16(icmpv6_field::checksum); }
    /// RFC 4443 §2.1: an error message (type below 128), known or not.
    bool is_error() const noexcept { return is_icmpv6_error(type()); }
    /// Echo request and reply (§4.1-§4.2): matches a reply to its request.
    std::uint16_t identifier() const noexcept { return load16(icmpv6_field::identifier); }
    std::uint16_t sequence() const noexcept { return load16(icmpv6_field::sequence); }
    /// Packet Too Big (§3.2): the MTU of the next-hop link. RFC 8201 §4 has a node
    /// never take a path MTU below 1280 from it, whatever it says.
    std::uint32_t mtu() const noexcept { return load32(icmpv6_field::mtu); }
    /// Parameter Problem (§3.4): the offset in the invoking packet of the byte at fault.
    std::uint32_t pointer() const noexcept { return load32(icmpv6_field::pointer); }

    /// Everything after the 8-byte header: an echo's data, an error's quote.
    std::span<const std::uint8_t> body() const noexcept { return bytes_.subspan(icmpv6_field::fixed_size); }
    /// An error message's quote of its invoking packet, as received: the IPv6 header and
    /// as much more as fit (§2.4(c)), possibly followed by an RFC 4884 extension, which
    /// the quote parser never reaches. Empty for a message that is not an error.
    std::span<const std::uint8_t> quoted() const noexcept
    {
        return is_error() ? body() : std::span<const std::uint8_t>{};
    }
    /// The quoted packet's addresses, upper-layer protocol and first 8 transport bytes, if
    /// the quote is sane: version 6, the 40-byte header, its extension headers (walked by
    /// their lengths, skip_extension_headers) and 8 more bytes present, and not a
    /// non-first fragment (whose bytes after the Fragment header are no transport
    /// header). The quoted payload length is not believed: the quote is cut short by
    /// design. nullopt otherwise, and for a message that is not an error.
    std::optional<icmpv6_quote> quoted_transport() const noexcept;

    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

private:
    std::uint16_t load16(std::size_t at) const noexcept { return boost::endian::load_big_u16(bytes_.data() + at); }
    std::uint32_t load32(std::size_t at) const noexcept { return boost::endian::load_big_u32(bytes_.data() + at); }

    std::span<const std::uint8_t> bytes_;
};

/// One error message to send (RFC 4443 §3): its type, code and the 32 bits after the
/// checksum (the MTU of §3.2, the pointer of §3.4, zero — "unused" — otherwise). Built
/// by the named constructors, so each type gets only its own codes and parameter.
struct icmpv6_error {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t parameter = 0;

    static constexpr icmpv6_error destination_unreachable(icmpv6_unreachable_code c) noexcept
    {
        return {static_cast<std::uint8_t>(icmpv6_type::destination_unreachable), static_cast<std::uint8_t>(c), 0};
    }
    static constexpr icmpv6_error packet_too_big(std::uint32_t mtu) noexcept
    {
        return {static_cast<std::uint8_t>(icmpv6_type::packet_too_big), 0, mtu};
    }
    static constexpr icmpv6_error time_exceeded(icmpv6_time_exceeded_code c) noexcept
    {
        return {static_cast<std::uint8_t>(icmpv6_type::time_exceeded), static_cast<std::uint8_t>(c), 0};
    }
    /// What parse_header_chain (ipv6.hpp) reports, or unrecognized_next_header() gives.
    static constexpr icmpv6_error parameter_problem(ipv6_parameter_problem p) noexcept
    {
        return {static_cast<std::uint8_t>(icmpv6_type::parameter_problem), static_cast<std::uint8_t>(p.code),
                p.pointer};
    }

    friend bool operator==(const icmpv6_error&, const icmpv6_error&) = default;
};

/// RFC 4443 §2.4(e): whether `error` may be sent about `offending`, whose header chain
/// parse_header_chain walked into `chain` (successfully or not). False for a packet that
/// fails ipv6_view::check(); one whose source names no single node (§2.4(e.6): the
/// unspecified address, a multicast address; and loopback, which RFC 4291 §2.5.3 keeps
/// inside a node); one to a multicast address (§2.4(e.3)) unless the error is Packet
/// Too Big or Parameter Problem code 2 (parse_header_chain reports code 2 about a
/// multicast packet only when the option's high bits are 10, as §2.4(e.3) asks); and an
/// ICMPv6 error message or a Redirect (§2.4(e.1-2)). A non-first fragment's ICMPv6
/// type is not in it, so it does not stop an error: RFC 8200 §4.5 answers a bad
/// fragment with Parameter Problem whichever it is.
/// §2.4(e.4-5), link-layer multicast and broadcast, need what a TUN device never has;
/// §2.4(f)'s rate limit is the stack's; and whether the packet was ours to answer
/// (its destination one of our addresses) is the caller's.
bool may_send_icmpv6_error(const icmpv6_error& error, const ipv6_view& offending,
                           const ipv6_header_chain& chain) noexcept;

/// Writes, from out[0], the IPv6 packet answering an echo request (RFC 4443 §4.2): from
/// `our_address` to the request's source, type 129, the request's code, identifier,
/// sequence number and data returned "entirely and unmodified", and the checksum
/// computed afresh over the new pseudo-header (§2.3).
///
/// `our_address` must be the request's destination when that was unicast (§4.2, MUST);
/// for a request to a multicast or anycast address, a unicast address of the interface
/// it came in on. The reply carries the request's DSCP, not its ECN field (as
/// emit_echo_reply does for IPv4), flow label 0, hop limit 64, and none of the
/// request's extension headers (they were addressed to us, not to the requester).
///
/// Precondition: request passed ipv6_view::check(), `message` (its upper layer)
/// icmpv6_view::check(); `out` does not overlap either. Errors: invalid_argument if
/// message is not an echo request; buffer_too_small if out cannot hold 40 + the
/// request's ICMPv6 length; message_too_long if that length does not fit the 16-bit
/// payload length (a reassembled request of nearly 64 KiB behind extension headers).
std::error_code emit_icmpv6_echo_reply(const ipv6_view& request, const icmpv6_view& message,
                                       const ipv6_address& our_address, std::span<std::uint8_t> out,
                                       std::size_t& written) noexcept;

/// Writes, from out[0], the error message `error` about `offending` (RFC 4443 §3), from
/// `our_address` to the offending source: the 8-byte header, then the offending packet
/// as received (its IPv6 header and extension headers unchanged, not its link padding),
/// as much of it as fits without the whole packet exceeding 1280 bytes (§2.4(c)) or
/// `out`. Traffic class and flow label 0, hop limit 64.
///
/// Call may_send_icmpv6_error first: this function does not judge whether the message
/// may be sent. `our_address` must be a unicast address of ours (§2.2); for a packet
/// that was addressed to one, that one. Precondition: offending passed
/// ipv6_view::check(); `out` does not overlap it. Errors: invalid_argument if
/// error.type is not an error type (128 and above, §2.1); buffer_too_small if out
/// cannot hold 48 bytes and the quote's floor: the offending IPv6 header and 8 bytes
/// more (all of the packet, if it is shorter).
std::error_code emit_icmpv6_error(const icmpv6_error& error, const ipv6_view& offending,
                                  const ipv6_address& our_address, std::span<std::uint8_t> out,
                                  std::size_t& written) noexcept;

}  // namespace tcpx::wire

#include <tcpx/wire/impl/icmpv6.ipp>
