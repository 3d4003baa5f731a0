// tcpx/wire/icmp.hpp — ICMP messages: a checked view for parsing what arrives, the
// quoted datagram inside an error message, and writers for the two messages a host
// sends (echo reply, destination unreachable). Have open: RFC 792 (message formats),
// RFC 1122 §3.2.2 (what a host must do: when not to send an error, echo), RFC 1812
// §4.3.2.3 (how much of the datagram to quote), RFC 1191 §4 (next-hop MTU).
//
// Contract: construct an icmp_view over the IPv4 payload and call check(). Only if it
// returns no error may the other accessors be used; then none of them reads out of
// bounds, whatever the bytes were, quoted_transport() included. The writers take
// views that passed their own check(), write a whole IPv4 datagram into the caller's
// buffer with both checksums, and report in `written` exactly how many bytes they
// wrote; on an error they report 0. Each writes an atomic datagram (DF set,
// identification 0, TTL 64, no options), as tcpx's TCP segments are (RFC 6864 §4.1).
// Nothing here allocates, and nothing keeps state between calls.
//
//   icmp_view v{ip.payload()};  v.check()     then type(), code(), body() ...
//   v.quoted_transport()                      who an error message is about
//   may_send_icmp_error(offending)            RFC 1122 §3.2.2: may we answer it with one?
//   emit_echo_reply / emit_destination_unreachable / emit_time_exceeded
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include <boost/endian/conversion.hpp>

#include <tcpx/error.hpp>
#include <tcpx/wire/checksum.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/seq32.hpp>

namespace tcpx::wire {

/// The message types tcpx reads or writes (RFC 792; IANA "ICMP Type Numbers").
enum class icmp_type : std::uint8_t {
    echo_reply = 0,
    destination_unreachable = 3,
    source_quench = 4,  // deprecated by RFC 6633; still an error message
    redirect = 5,
    echo_request = 8,
    time_exceeded = 11,
    parameter_problem = 12,
};

/// An ICMP error message (RFC 1122 §3.2.2 lists them): one that quotes a datagram.
/// Every other type, known or not, is not.
constexpr bool is_icmp_error(icmp_type type) noexcept
{
    switch (type) {
    case icmp_type::destination_unreachable:
    case icmp_type::source_quench:
    case icmp_type::redirect:
    case icmp_type::time_exceeded:
    case icmp_type::parameter_problem:
        return true;
    case icmp_type::echo_reply:
    case icmp_type::echo_request:
        return false;
    }
    return false;  // a value outside the enum: a type tcpx does not know
}

/// Destination unreachable codes: 0-5 RFC 792, 6-12 RFC 1122 §3.2.2.1, 13-15 RFC 1812 §5.2.7.1.
enum class unreachable_code : std::uint8_t {
    network = 0,
    host = 1,
    protocol = 2,
    port = 3,
    fragmentation_needed = 4,  // and DF set; carries the next-hop MTU (RFC 1191 §4)
    source_route_failed = 5,
    network_unknown = 6,
    host_unknown = 7,
    source_host_isolated = 8,  // obsolete
    network_prohibited = 9,
    host_prohibited = 10,
    network_unreachable_for_tos = 11,
    host_unreachable_for_tos = 12,
    communication_prohibited = 13,
    host_precedence_violation = 14,
    precedence_cutoff = 15,
};

/// RFC 792: where each field sits in the 8-byte header. Bytes 4..7 depend on the type.
namespace icmp_field {
inline constexpr std::size_t type = 0;
inline constexpr std::size_t code = 1;
inline constexpr std::size_t checksum = 2;
inline constexpr std::size_t identifier = 4;    // echo request / reply
inline constexpr std::size_t sequence = 6;      // echo request / reply
inline constexpr std::size_t next_hop_mtu = 6;  // unreachable, fragmentation needed (RFC 1191 §4)
inline constexpr std::size_t fixed_size = 8;    // the body (data, or the quote) follows
}  // namespace icmp_field

/// RFC 792: an error quotes the datagram's header and at least its first 64 bits of data.
inline constexpr std::size_t icmp_quote_min_payload = 8;
/// RFC 1812 §4.3.2.3: an error datagram quotes as much as fits in 576 bytes, no more.
inline constexpr std::size_t icmp_error_max_size = 576;

/// What an error message says about the datagram it quotes: enough to find the
/// connection it concerns (RFC 1122 §3.2.2: the protocol number selects the transport;
/// RFC 792: "port numbers ... are assumed to be in the first 64 data bits").
struct icmp_quote {
    ipv4_address source;       ///< the quoted datagram's source: ours, if we sent it
    ipv4_address destination;
    std::uint8_t protocol = 0;
    std::uint16_t source_port = 0;       ///< bytes 0..1 of the quoted transport header
    std::uint16_t destination_port = 0;  ///< bytes 2..3
    /// Bytes 4..7: TCP's sequence number (RFC 9293 §3.1), which RFC 5927 §4.1 asks
    /// to check against the send window. Meaningless for other protocols.
    seq32 sequence;

    friend bool operator==(const icmp_quote&, const icmp_quote&) = default;
};

/// A read-only, bounds-checked view of one received ICMP message (the IPv4 payload).
class icmp_view {
public:
    constexpr explicit icmp_view(std::span<const std::uint8_t> message) noexcept : bytes_{message} {}

    /// At least the 8-byte header, and the RFC 792 checksum over the whole message.
    std::error_code check() const noexcept;

    /// Compare with icmp_type values; a type outside the enum is one tcpx does not know.
    icmp_type type() const noexcept { return static_cast<icmp_type>(bytes_[icmp_field::type]); }
    std::uint8_t code() const noexcept { return bytes_[icmp_field::code]; }
    std::uint16_t checksum() const noexcept { return load16(icmp_field::checksum); }
    /// Echo request and reply (RFC 792): matches a reply to its request.
    std::uint16_t identifier() const noexcept { return load16(icmp_field::identifier); }
    std::uint16_t sequence() const noexcept { return load16(icmp_field::sequence); }
    /// Destination unreachable, fragmentation needed (RFC 1191 §4): the MTU of the hop
    /// that refused the datagram; 0 from a router older than RFC 1191 (its §5 then
    /// has the host guess from the quoted total length).
    std::uint16_t next_hop_mtu() const noexcept { return load16(icmp_field::next_hop_mtu); }

    /// Everything after the 8-byte header: an echo's data, an error's quote.
    std::span<const std::uint8_t> body() const noexcept { return bytes_.subspan(icmp_field::fixed_size); }
    /// An error message's quoted datagram, as received: its IPv4 header and the first
    /// bytes of its payload, possibly followed by an RFC 4884 extension, which the
    /// quote parser never reaches. Empty for a message that is not an error.
    std::span<const std::uint8_t> quoted() const noexcept
    {
        return is_icmp_error(type()) ? body() : std::span<const std::uint8_t>{};
    }
    /// The quoted datagram's addresses, protocol and first 8 transport bytes, if the
    /// quote is sane: version 4, IHL at least 5, the header and 8 more bytes present,
    /// and not a non-initial fragment (whose bytes after the header are not a
    /// transport header). The quoted total length and checksum are not checked: a
    /// router may have truncated the datagram, or changed it in flight (RFC 1812
    /// §4.3.2.3: TTL, options). nullopt otherwise, and for a message that is not an error.
    std::optional<icmp_quote> quoted_transport() const noexcept;

    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

private:
    std::uint16_t load16(std::size_t at) const noexcept { return boost::endian::load_big_u16(bytes_.data() + at); }

    std::span<const std::uint8_t> bytes_;
};

/// RFC 1122 §3.2.2 (and RFC 1812 §4.3.2.7): whether an ICMP error message may be sent
/// about `offending`. False for a datagram that fails ipv4_view::check(), a non-initial
/// fragment, one to the limited broadcast or a multicast address, one whose source is
/// not a single host (0/8, 127/8, multicast, 240/4 and the broadcast), and an ICMP
/// message other than an echo request or reply (an error, or a type tcpx silently
/// discards). Two conditions of the RFC's list need what a packet does not say, and
/// stay with the caller: a link-layer broadcast (a TUN device has none), and a
/// subnet-directed broadcast (the stack accepts only datagrams to its own address).
bool may_send_icmp_error(const ipv4_view& offending) noexcept;

/// Writes, from out[0], the IPv4 datagram answering an echo request (RFC 792): from
/// `our_address` to the request's source, the request's ICMP message with its type
/// changed to echo reply, its identifier, sequence number and data returned entirely
/// (RFC 1122 §3.2.2.6, MUST), and the checksum computed afresh.
///
/// `our_address` must be the request's destination: the reply's source MUST be it
/// (RFC 1122 §3.2.2.6); for a request to a broadcast or multicast address, the address
/// of the interface it came in on (its "specific-destination", §3.2.1.3). The
/// request's IPv4 options are not carried over: tcpx acts on no option (ipv4.hpp),
/// so §3.2.2.6's record-route update and source-route reversal are not done.
///
/// Precondition: request passed ipv4_view::check(), and its payload
/// icmp_view::check(); `out` does not overlap the request. Errors: invalid_argument if
/// the payload is not an 8-byte ICMP header or more of type echo request;
/// buffer_too_small if out cannot hold 20 + the request's ICMP length.
std::error_code emit_echo_reply(const ipv4_view& request, ipv4_address our_address,
                                std::span<std::uint8_t> out, std::size_t& written) noexcept;

/// Writes, from out[0], a destination unreachable datagram with `code` about
/// `offending` (RFC 792), from `our_address` to the offending source. It quotes the
/// offending datagram as received, header and options included, and as much of its
/// payload as fits in both 576 bytes (RFC 1812 §4.3.2.3) and `out`; the next-hop MTU
/// field is written 0, for a host forwards nothing and has no next hop to report.
///
/// Call may_send_icmp_error(offending) first: this function does not judge whether
/// the message may be sent. Precondition: offending passed ipv4_view::check(); `out`
/// does not overlap it. Errors: buffer_too_small if out cannot hold the minimum
/// (RFC 792): 28 bytes, the offending header, and the first 8 bytes of its payload
/// (all of it, when it is shorter).
std::error_code emit_destination_unreachable(unreachable_code code, const ipv4_view& offending,
                                             ipv4_address our_address, std::span<std::uint8_t> out,
                                             std::size_t& written) noexcept;

/// Time exceeded codes (RFC 792).
enum class time_exceeded_code : std::uint8_t {
    ttl = 0,                  ///< in transit: a router's to send
    fragment_reassembly = 1,  ///< a host gave up reassembling (RFC 1122 §3.3.2)
};

/// Writes, from out[0], a time exceeded datagram with `code` about `offending`, as
/// emit_destination_unreachable does (the same quote, the same preconditions). For
/// fragment_reassembly, `offending` is the first fragment of the datagram given up:
/// RFC 1122 §3.3.2 sends the message only when that fragment had come.
std::error_code emit_time_exceeded(time_exceeded_code code, const ipv4_view& offending, ipv4_address our_address,
                                   std::span<std::uint8_t> out, std::size_t& written) noexcept;

}  // namespace tcpx::wire

#include <tcpx/wire/impl/icmp.ipp>
