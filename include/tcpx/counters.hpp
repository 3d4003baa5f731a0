// tcpx/counters.hpp — the stack-wide counters: every dropped packet under a named
// reason, and every protocol event a test or an operator wants to see move.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include <tcpx/error.hpp>

namespace tcpx {

/// Why the stack dropped a received packet (or could not send one).
enum class drop_reason : std::uint8_t {
    ipv4_truncated,
    ipv4_bad_version,
    ipv4_bad_header_length,
    ipv4_header_beyond_packet,
    ipv4_total_length_mismatch,
    ipv4_bad_header_checksum,
    ipv4_fragment,          ///< a fragment, and reassembly is off (config::reassembly_datagrams 0)
    not_our_address,        ///< destination is not the stack's address
    source_this_network,    ///< source in 0.0.0.0/8 (RFC 1122 §3.2.1.3 (a)-(b)), or IPv6's :: (RFC 4291 §2.5.2): no host to answer
    source_loopback,        ///< source in 127.0.0.0/8 from a device (§3.2.1.3 (g)), or IPv6's ::1 (RFC 4291 §2.5.3)
    source_multicast,       ///< source in 224.0.0.0/4 (§3.2.1.3, RFC 1112 §4), or IPv6's ff00::/8 (RFC 4291 §2.7)
    source_reserved,        ///< source in 240.0.0.0/4, class E (RFC 1112 §4), or IPv4-mapped IPv6 (RFC 4291 §2.5.5.2)
    source_broadcast,       ///< source a limited or directed broadcast (§3.2.1.3 (c)-(e), §4.2.3.10)
    source_is_ours,         ///< from the stack's own address and port to that port: the "land" attack
    protocol_unsupported,   ///< neither TCP nor ICMP (answered with protocol unreachable)
    tcp_truncated,
    tcp_bad_data_offset,
    tcp_data_offset_beyond_segment,
    tcp_bad_checksum,
    tcp_bad_option,
    tcp_bad_port,
    icmp_truncated,
    icmp_bad_checksum,
    icmp_unhandled,         ///< a type the stack does not act on (echo reply, redirect, unknown)
    icmp_unmatched,         ///< an error quoting no connection of ours, or data not in flight (RFC 5927)
    listen_queue_full,      ///< a SYN for a listener whose accept queue is full (the peer retries)
    listen_rst,             ///< a RST to a listener (RFC 9293 §3.10.7.2 first: ignored)
    listen_not_syn,         ///< neither SYN, RST nor ACK to a listener (§3.10.7.2 fourth)
    listen_syn_fin,         ///< SYN and FIN together to a listener: no peer sends it; discarded, as Linux
    listen_cookie_text,     ///< text or FIN to a listener, cookies out, no valid cookie: maybe past a lost first ACK (not reset)
    reset_no_connection,    ///< a RST for no connection and no listener (RFC 9293 §3.10.7.1: discarded)
    half_open_limit,        ///< config::max_half_open connections already in SYN-RECEIVED
    connection_limit,       ///< config::max_connections reached
    device_full,            ///< the device had no room for an outgoing packet
    fragment_malformed,     ///< a fragment past 65,535 bytes, of a bad length, or contradicting its datagram's end
    fragment_overlap,       ///< a fragment overlapping received bytes: its whole datagram dropped (RFC 5722)
    fragment_duplicate,     ///< an exact copy of a fragment already held
    fragment_tiny,          ///< a first TCP fragment without the whole TCP header, or one at offset 8 (RFC 1858 §3)
    ipv6_malformed,         ///< shorter than 40 bytes, not version 6, or a payload length past the packet (RFC 8200 §3)
    ipv6_bad_extension_header,  ///< an extension header chain the walk refused (RFC 8200 §4; answered with Parameter Problem where §4 asks)
    ipv6_unknown_next_header,   ///< an upper layer tcpx does not speak (answered with Parameter Problem code 1, RFC 8200 §4)
    ipv6_tcp_not_yet,       ///< TCP over IPv6: not carried yet (issue 16)
    ipv6_fragment,          ///< an IPv6 fragment, and reassembly is off (config::reassembly_datagrams 0)
    icmpv6_malformed,       ///< shorter than 8 bytes, or a checksum that does not verify (RFC 4443 §2.3)
    count
};

constexpr std::string_view to_string(drop_reason r) noexcept
{
    switch (r) {
    case drop_reason::ipv4_truncated: return "ipv4_truncated";
    case drop_reason::ipv4_bad_version: return "ipv4_bad_version";
    case drop_reason::ipv4_bad_header_length: return "ipv4_bad_header_length";
    case drop_reason::ipv4_header_beyond_packet: return "ipv4_header_beyond_packet";
    case drop_reason::ipv4_total_length_mismatch: return "ipv4_total_length_mismatch";
    case drop_reason::ipv4_bad_header_checksum: return "ipv4_bad_header_checksum";
    case drop_reason::ipv4_fragment: return "ipv4_fragment";
    case drop_reason::not_our_address: return "not_our_address";
    case drop_reason::source_this_network: return "source_this_network";
    case drop_reason::source_loopback: return "source_loopback";
    case drop_reason::source_multicast: return "source_multicast";
    case drop_reason::source_reserved: return "source_reserved";
    case drop_reason::source_broadcast: return "source_broadcast";
    case drop_reason::source_is_ours: return "source_is_ours";
    case drop_reason::protocol_unsupported: return "protocol_unsupported";
    case drop_reason::tcp_truncated: return "tcp_truncated";
    case drop_reason::tcp_bad_data_offset: return "tcp_bad_data_offset";
    case drop_reason::tcp_data_offset_beyond_segment: return "tcp_data_offset_beyond_segment";
    case drop_reason::tcp_bad_checksum: return "tcp_bad_checksum";
    case drop_reason::tcp_bad_option: return "tcp_bad_option";
    case drop_reason::tcp_bad_port: return "tcp_bad_port";
    case drop_reason::icmp_truncated: return "icmp_truncated";
    case drop_reason::icmp_bad_checksum: return "icmp_bad_checksum";
    case drop_reason::icmp_unhandled: return "icmp_unhandled";
    case drop_reason::icmp_unmatched: return "icmp_unmatched";
    case drop_reason::listen_queue_full: return "listen_queue_full";
    case drop_reason::listen_rst: return "listen_rst";
    case drop_reason::listen_not_syn: return "listen_not_syn";
    case drop_reason::listen_syn_fin: return "listen_syn_fin";
    case drop_reason::listen_cookie_text: return "listen_cookie_text";
    case drop_reason::reset_no_connection: return "reset_no_connection";
    case drop_reason::half_open_limit: return "half_open_limit";
    case drop_reason::connection_limit: return "connection_limit";
    case drop_reason::device_full: return "device_full";
    case drop_reason::fragment_malformed: return "fragment_malformed";
    case drop_reason::fragment_overlap: return "fragment_overlap";
    case drop_reason::fragment_duplicate: return "fragment_duplicate";
    case drop_reason::fragment_tiny: return "fragment_tiny";
    case drop_reason::ipv6_malformed: return "ipv6_malformed";
    case drop_reason::ipv6_bad_extension_header: return "ipv6_bad_extension_header";
    case drop_reason::ipv6_unknown_next_header: return "ipv6_unknown_next_header";
    case drop_reason::ipv6_tcp_not_yet: return "ipv6_tcp_not_yet";
    case drop_reason::ipv6_fragment: return "ipv6_fragment";
    case drop_reason::icmpv6_malformed: return "icmpv6_malformed";
    case drop_reason::count: break;
    }
    return "?";
}

/// The drop reason for a wire-layer parse error.
constexpr drop_reason drop_reason_for(errc e) noexcept
{
    switch (e) {
    case errc::ipv4_truncated: return drop_reason::ipv4_truncated;
    case errc::ipv4_bad_version: return drop_reason::ipv4_bad_version;
    case errc::ipv4_bad_header_length: return drop_reason::ipv4_bad_header_length;
    case errc::ipv4_header_beyond_packet: return drop_reason::ipv4_header_beyond_packet;
    case errc::ipv4_total_length_mismatch: return drop_reason::ipv4_total_length_mismatch;
    case errc::ipv4_bad_header_checksum: return drop_reason::ipv4_bad_header_checksum;
    case errc::ipv4_fragment: return drop_reason::ipv4_fragment;
    case errc::tcp_truncated: return drop_reason::tcp_truncated;
    case errc::tcp_bad_data_offset: return drop_reason::tcp_bad_data_offset;
    case errc::tcp_data_offset_beyond_segment: return drop_reason::tcp_data_offset_beyond_segment;
    case errc::tcp_bad_checksum: return drop_reason::tcp_bad_checksum;
    case errc::tcp_bad_port: return drop_reason::tcp_bad_port;
    case errc::icmp_truncated: return drop_reason::icmp_truncated;
    case errc::icmp_bad_checksum: return drop_reason::icmp_bad_checksum;
    default: return drop_reason::tcp_bad_option;  // the tcp_option_* family
    }
}

struct stack_counters {
    std::uint64_t packets_received = 0;
    std::uint64_t packets_sent = 0;
    std::uint64_t segments_received = 0;     ///< TCP segments that passed every wire check
    std::uint64_t checksums_on_copy = 0;     ///< ... whose checksum was verified on the copy of their text into the receive buffer
    std::uint64_t segments_sent = 0;
    std::uint64_t retransmitted_segments = 0;
    std::uint64_t resets_sent = 0;           ///< every RST we sent
    std::uint64_t no_listener_resets = 0;    ///< RSTs for segments to closed ports (§3.10.7.1)
    std::uint64_t accept_queue_overflows = 0;
    std::uint64_t connections_opened = 0;    ///< connect() calls that sent a SYN
    std::uint64_t connections_accepted = 0;  ///< passive opens that reached ESTABLISHED
    std::uint64_t connections_reclaimed = 0; ///< control blocks freed
    std::uint64_t time_wait_reopened = 0;    ///< SYNs that ended a TIME-WAIT (RFC 6191)
    std::uint64_t syn_text_discarded = 0;    ///< SYNs to a listener whose text was not kept (no TCP Fast Open: the peer resends it)
    std::uint64_t time_wait_overflows = 0;   ///< closed at once past config::max_time_wait (Linux TCPTimeWaitOverflow)
    std::uint64_t syn_cookies_sent = 0;      ///< SYN-ACKs sent with a cookie and no state (RFC 4987 §3.6)
    std::uint64_t syn_cookies_validated = 0; ///< ACKs whose cookie checked (each opens a connection if the accept queue has room)
    std::uint64_t syn_cookies_failed = 0;    ///< ACKs to a listener, while cookies were in use, whose cookie did not check
    std::uint64_t icmp_echo_replies = 0;     ///< pings answered (RFC 1122 §3.2.2.6)
    std::uint64_t fragments_received = 0;    ///< IPv4 fragments offered to reassembly (RFC 791 §3.2)
    std::uint64_t datagrams_reassembled = 0; ///< ... datagrams they completed
    std::uint64_t reassembly_timeouts = 0;   ///< datagrams dropped incomplete after config::reassembly_timeout
    std::uint64_t reassembly_evictions = 0;  ///< datagrams dropped incomplete for a newer one (config::reassembly_datagrams)
    std::uint64_t fragments_sent = 0;        ///< fragments of datagrams above the MTU we sent (echo replies)
    std::uint64_t icmp_errors_sent = 0;      ///< protocol unreachables sent (RFC 1122 §3.2.2.1)
    std::uint64_t icmp_errors_limited = 0;   ///< ... not sent: over config::icmp_errors_per_second
    std::uint64_t icmp_errors_received = 0;  ///< errors that matched a connection and were acted on
    std::uint64_t out_of_order_prunes = 0;   ///< walks over the connections under pool pressure (config::out_of_order_prune_after)
    std::uint64_t out_of_order_bytes_pruned = 0;  ///< ... and the bytes they forgot (the peers resend them)
    std::array<std::uint64_t, static_cast<std::size_t>(drop_reason::count)> drops{};

    std::uint64_t dropped(drop_reason r) const noexcept { return drops[static_cast<std::size_t>(r)]; }
    std::uint64_t dropped_total() const noexcept
    {
        std::uint64_t n = 0;
        for (auto d : drops) n += d;
        return n;
    }
};

}  // namespace tcpx
