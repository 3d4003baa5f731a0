// Bodies for tcpx/error.hpp. Not to be included directly.
#pragma once

namespace tcpx {
namespace detail {

// One row per errc value: its message, and the std::errc it corresponds to, if any.
// Keeping both in one switch means a new value cannot get a message but no mapping.
struct errc_info {
    const char* message;
    std::errc posix;  // std::errc{} (0) when there is no POSIX equivalent
};

constexpr errc_info describe(errc e) noexcept
{
    switch (e) {
    case errc::would_block: return {"operation would block", std::errc::operation_would_block};
    case errc::connection_refused: return {"connection refused", std::errc::connection_refused};
    case errc::connection_reset: return {"connection reset by peer", std::errc::connection_reset};
    case errc::connection_aborted: return {"connection aborted", std::errc::connection_aborted};
    case errc::timed_out: return {"connection timed out", std::errc::timed_out};
    case errc::not_connected: return {"socket is not connected", std::errc::not_connected};
    case errc::connection_closing: return {"connection closing: sending side already shut down", std::errc::broken_pipe};
    case errc::already_connected: return {"socket is already connected", std::errc::already_connected};
    case errc::address_in_use: return {"address already in use", std::errc::address_in_use};
    case errc::bad_handle: return {"stale or invalid socket handle", std::errc::bad_file_descriptor};
    case errc::no_buffer_space: return {"a configured limit is exhausted", std::errc::no_buffer_space};
    case errc::invalid_argument: return {"invalid argument", std::errc::invalid_argument};
    case errc::host_unreachable: return {"host unreachable", std::errc::host_unreachable};
    case errc::protocol_unreachable: return {"protocol or port unreachable", std::errc::connection_refused};
    case errc::message_too_long: return {"packet does not fit the device MTU", std::errc::message_size};
    case errc::end_of_stream: return {"end of stream: the peer closed its sending side", {}};
    case errc::stack_stopped: return {"the blocking runtime has stopped", std::errc::operation_canceled};

    case errc::ipv4_truncated: return {"ipv4 packet shorter than 20 bytes", {}};
    case errc::ipv4_bad_version: return {"ipv4 version field is not 4", {}};
    case errc::ipv4_bad_header_length: return {"ipv4 header length below 20 bytes", {}};
    case errc::ipv4_header_beyond_packet: return {"ipv4 header length beyond packet", {}};
    case errc::ipv4_total_length_mismatch: return {"ipv4 total length inconsistent with packet", {}};
    case errc::ipv4_bad_header_checksum: return {"ipv4 header checksum mismatch", {}};
    case errc::ipv4_fragment: return {"ipv4 fragment (reassembly not supported)", {}};
    case errc::ipv4_bad_option: return {"ipv4 option beyond header", {}};

    case errc::tcp_truncated: return {"tcp segment shorter than 20 bytes", {}};
    case errc::tcp_bad_data_offset: return {"tcp data offset below 20 bytes", {}};
    case errc::tcp_data_offset_beyond_segment: return {"tcp data offset beyond segment", {}};
    case errc::tcp_bad_checksum: return {"tcp checksum mismatch", {}};
    case errc::tcp_option_bad_length: return {"tcp option length below 2", {}};
    case errc::tcp_option_beyond_header: return {"tcp option beyond header", {}};
    case errc::tcp_option_bad_size: return {"tcp option has the wrong length for its kind", {}};
    case errc::tcp_bad_port: return {"tcp port 0", {}};

    case errc::icmp_truncated: return {"icmp message shorter than 8 bytes", {}};
    case errc::icmp_bad_checksum: return {"icmp checksum mismatch", {}};

    case errc::device_unavailable: return {"/dev/net/tun not available: load the tun module (modprobe tun)", std::errc::no_such_device};
    case errc::device_permission_denied: return {"permission denied: a TUN interface needs root or CAP_NET_ADMIN", std::errc::operation_not_permitted};
    case errc::interface_in_use: return {"interface name in use by another process or another kind of device", std::errc::device_or_resource_busy};
    case errc::bad_address: return {"address or prefix not accepted for the interface", std::errc::address_not_available};
    case errc::device_io_error: return {"reading or writing the device failed", std::errc::io_error};

    case errc::buffer_too_small: return {"buffer too small for the header", {}};
    case errc::options_too_long: return {"tcp options longer than 40 bytes", {}};

    case errc::ipv6_truncated: return {"ipv6 packet shorter than 40 bytes", {}};
    case errc::ipv6_bad_version: return {"ipv6 version field is not 6", {}};
    case errc::ipv6_payload_length_beyond_packet: return {"ipv6 payload length beyond packet", {}};
    case errc::ipv6_extension_truncated: return {"ipv6 extension header beyond payload", {}};
    case errc::ipv6_misplaced_hop_by_hop: return {"ipv6 hop-by-hop options header not first", {}};
    case errc::ipv6_option_beyond_header: return {"ipv6 option beyond its extension header", {}};
    case errc::ipv6_unrecognized_option: return {"ipv6 unrecognized option that asks for a discard", {}};
    case errc::ipv6_routing_type_0: return {"ipv6 routing header type 0 with segments left (RFC 5095)", {}};
    case errc::ipv6_unrecognized_routing_type: return {"ipv6 routing header of an unrecognized type with segments left", {}};
    case errc::ipv6_fragment_bad_length: return {"ipv6 fragment with more to come not a multiple of 8 bytes", {}};
    case errc::ipv6_fragment_too_large: return {"ipv6 fragment beyond 65535 bytes of payload", {}};
    case errc::ipv6_incomplete_header_chain: return {"ipv6 first fragment without the whole header chain", {}};
    case errc::ipv6_unrecognized_next_header: return {"ipv6 next header of an unrecognized upper layer", {}};

    case errc::icmpv6_truncated: return {"icmpv6 message shorter than 8 bytes", {}};
    case errc::icmpv6_bad_checksum: return {"icmpv6 checksum mismatch", {}};
    }
    return {"unknown tcpx error", {}};
}

class tcpx_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "tcpx"; }

    std::string message(int value) const override
    {
        return describe(static_cast<errc>(value)).message;
    }

    std::error_condition default_error_condition(int value) const noexcept override
    {
        const auto posix = describe(static_cast<errc>(value)).posix;
        if (posix != std::errc{}) return std::make_error_condition(posix);
        return {value, *this};
    }
};

}  // namespace detail

inline const std::error_category& error_category() noexcept
{
    static const detail::tcpx_category category;
    return category;
}

}  // namespace tcpx
