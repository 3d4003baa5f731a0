// tcpx/error.hpp — every failure tcpx reports, as a std::error_code.
//
// One enum, `tcpx::errc`, covers both what the socket API returns (refused, reset,
// timed out ...) and why the wire layer rejected bytes (each parse failure is its
// own value, so the stack can count drops by reason). Values that have a POSIX
// equivalent compare equal to it: `ec == std::errc::connection_refused` holds for
// `tcpx::errc::connection_refused`, as with Asio and Beast.
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace tcpx {

enum class errc : int {
    // 0 is success, as for every error_code.

    // -- socket API (RFC 9293 §3.10 "user calls" error responses) --
    would_block = 1,         ///< no data / no buffer space now; try after poll()
    connection_refused,      ///< the peer answered our SYN with RST
    connection_reset,        ///< the peer reset an established connection
    connection_aborted,      ///< aborted locally (abort(), or a hard ICMP error)
    timed_out,               ///< the user timeout or the retransmission limit expired
    not_connected,           ///< the connection is not (or no longer) synchronized
    connection_closing,      ///< send after shutdown/close ("connection closing", §3.10.2)
    already_connected,       ///< connect on a socket that is not closed
    address_in_use,          ///< listen on a port already listened on, or no free 4-tuple
    bad_handle,              ///< a stale or never-valid socket or listener handle
    no_buffer_space,         ///< a configured limit (connections, pool) is exhausted
    invalid_argument,        ///< an argument outside its documented range
    host_unreachable,        ///< ICMP host/network unreachable, hard error (RFC 1122 §4.2.3.9)
    protocol_unreachable,    ///< ICMP protocol/port unreachable, hard error
    message_too_long,        ///< a packet does not fit the device MTU
    end_of_stream,           ///< receive: the peer closed its sending side and all data was read
    stack_stopped,           ///< blocking.hpp: the runtime stopped (or was destroyed) during or before the call

    // -- IPv4 parsing (RFC 791) --
    ipv4_truncated = 100,            ///< fewer than 20 bytes
    ipv4_bad_version,                ///< version field is not 4
    ipv4_bad_header_length,          ///< IHL below 5 words
    ipv4_header_beyond_packet,       ///< IHL points past the received bytes
    ipv4_total_length_mismatch,      ///< total length below IHL or above the received bytes
    ipv4_bad_header_checksum,        ///< RFC 791 header checksum does not verify
    ipv4_fragment,                   ///< a fragment (MF set or offset non-zero); not reassembled
    ipv4_bad_option,                 ///< an IPv4 option runs past the header

    // -- TCP parsing (RFC 9293 §3.1) --
    tcp_truncated = 200,             ///< fewer than 20 bytes
    tcp_bad_data_offset,             ///< data offset below 5 words
    tcp_data_offset_beyond_segment,  ///< data offset points past the segment
    tcp_bad_checksum,                ///< checksum with pseudo-header does not verify
    tcp_option_bad_length,           ///< an option's length byte is 0 or 1
    tcp_option_beyond_header,        ///< an option runs past the end of the header
    tcp_option_bad_size,             ///< a known option with the wrong length (e.g. MSS not 4)
    tcp_bad_port,                    ///< source or destination port 0

    // -- ICMP parsing (RFC 792) --
    icmp_truncated = 300,            ///< fewer than 8 bytes
    icmp_bad_checksum,               ///< RFC 792 checksum does not verify

    // -- devices (device/tun.hpp): opening and configuring an interface --
    device_unavailable = 500,        ///< /dev/net/tun is missing (no tun module / not Linux)
    device_permission_denied,        ///< creating or configuring an interface needs root or CAP_NET_ADMIN
    interface_in_use,                ///< the interface name is taken (another process, or another kind of device)
    bad_address,                     ///< an address or prefix the interface cannot take
    device_io_error,                 ///< reading or writing the device failed

    // -- emitting --
    buffer_too_small = 400,          ///< an emit target is smaller than the header needs
    options_too_long,                ///< TCP options exceed 40 bytes

    // -- IPv6 parsing (RFC 8200) --
    ipv6_truncated = 600,              ///< fewer than 40 bytes
    ipv6_bad_version,                  ///< version field is not 6
    ipv6_payload_length_beyond_packet, ///< payload length points past the received bytes
    ipv6_extension_truncated,          ///< an extension header runs past the payload
    ipv6_misplaced_hop_by_hop,         ///< a Hop-by-Hop Options header not right after the IPv6 header (§4.1)
    ipv6_option_beyond_header,         ///< an option runs past its extension header
    ipv6_unrecognized_option,          ///< an unknown option whose type says discard (§4.2)
    ipv6_routing_type_0,               ///< a type 0 Routing header with segments left (RFC 5095)
    ipv6_unrecognized_routing_type,    ///< another Routing header with segments left (§4.4)
    ipv6_fragment_bad_length,          ///< a fragment with M set not a multiple of 8 bytes (§4.5)
    ipv6_fragment_too_large,           ///< a fragment that ends past 65,535 bytes of payload (§4.5)
    ipv6_incomplete_header_chain,      ///< a first fragment without the whole header chain (RFC 7112)
    ipv6_unrecognized_next_header,     ///< the chain ends in an upper layer the node does not handle (§4)

    // -- ICMPv6 parsing (RFC 4443) --
    icmpv6_truncated = 700,          ///< fewer than 8 bytes
    icmpv6_bad_checksum,             ///< checksum with the IPv6 pseudo-header does not verify
};

/// The tcpx error category; its name is "tcpx".
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

}  // namespace tcpx

template <>
struct std::is_error_code_enum<tcpx::errc> : std::true_type {};

#include <tcpx/impl/error.ipp>
