// IPv4 fragments for tcpx/basic_stack.hpp: reassembly of what arrives (ip/reassembly.hpp
// holds the datagrams), fragmentation of what we send above the MTU. Not to be
// included directly.
//
// Have open: RFC 791 §3.2 (fragmentation and reassembly), RFC 815, RFC 1122 §3.3.2
// (reassembly: a timeout, time exceeded), RFC 1858 §3 (tiny and overlapping fragment
// attacks), RFC 5722 (overlaps drop the datagram), RFC 6864 (the Identification).
#pragma once

namespace tcpx {

namespace detail {

// Bytes [offset, offset + n) of an ICMP message whose first 8 bytes are `head` instead
// of its own (the reply's type and checksum), for a fragment cut from it.
inline void copy_piece(std::uint8_t* to, std::span<const std::uint8_t, 8> head, std::span<const std::uint8_t> message,
                       std::size_t offset, std::size_t n) noexcept
{
    std::size_t from = offset;
    if (from < head.size()) {
        const std::size_t k = std::min(head.size() - from, n);
        std::memcpy(to, head.data() + from, k);
        to += k;
        from += k;
    }
    std::memcpy(to, message.data() + from, offset + n - from);
}

// RFC 1624: an ICMP or ICMPv6 echo request's first 8 bytes made the reply's: the type
// changed, the checksum updated for it (the rest of what the checksum covers, the IPv6
// pseudo-header included, is the same sum with source and destination swapped).
inline std::array<std::uint8_t, 8> echo_reply_head(std::span<const std::uint8_t> request, std::uint16_t checksum,
                                                   std::uint8_t reply_type) noexcept
{
    std::array<std::uint8_t, 8> head{};
    std::copy_n(request.begin(), head.size(), head.begin());
    const auto old_word = static_cast<std::uint16_t>(head[0] << 8 | head[1]);
    head[0] = reply_type;
    const auto new_word = static_cast<std::uint16_t>(head[0] << 8 | head[1]);
    boost::endian::store_big_u16(head.data() + 2, wire::checksum_update(checksum, old_word, new_word));
    return head;
}

}  // namespace detail

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_fragment(const wire::ipv4_view& ip, instant now)
{
    if (cfg_.reassembly_datagrams == 0) return drop(drop_reason::ipv4_fragment);
    ++counters_.fragments_received;
    const std::size_t offset = ip.fragment_offset();
    const std::span<const std::uint8_t> data = ip.payload();
    // RFC 1858 §3.1-§3.2: a first TCP fragment too short to hold the TCP header (its
    // flags could arrive in a second fragment a filter never looked at), or a fragment
    // at offset 8, which could only be meant to overwrite that header, is dropped.
    if (ip.protocol() == static_cast<std::uint8_t>(wire::ip_protocol::tcp) &&
        ((offset == 0 && data.size() < wire::tcp_field::fixed_size) || offset == ip::reassembler::unit))
        return drop(drop_reason::fragment_tiny);
    // RFC 791 §3.1: the total length is 16 bits, header included: a datagram whose
    // fragments reach past it (the "ping of death") can never be whole.
    if (ip.header_length() + offset + data.size() > 0xffff) return drop(drop_reason::fragment_malformed);

    ip::fragment_key key;
    key.family = 4;
    key.protocol = ip.protocol();  // RFC 791 §3.2: source, destination, protocol and identification
    key.identification = ip.identification();
    boost::endian::store_big_u32(key.source.data(), ip.source().value);
    boost::endian::store_big_u32(key.destination.data(), ip.destination().value);
    const std::size_t evicted = reassembly_.counters().evicted;
    const ip::fragment_outcome outcome = reassembly_.add(
        key, offset, ip.more_fragments(), offset == 0 ? ip.header_bytes() : std::span<const std::uint8_t>{}, data, now);
    counters_.reassembly_evictions += reassembly_.counters().evicted - evicted;
    switch (outcome) {
    case ip::fragment_outcome::incomplete: return;
    case ip::fragment_outcome::duplicate: return drop(drop_reason::fragment_duplicate);
    case ip::fragment_outcome::overlap: return drop(drop_reason::fragment_overlap);
    case ip::fragment_outcome::disabled: return drop(drop_reason::ipv4_fragment);
    case ip::fragment_outcome::too_large:
    case ip::fragment_outcome::bad_length:
    case ip::fragment_outcome::inconsistent:
    case ip::fragment_outcome::header_too_long: return drop(drop_reason::fragment_malformed);
    case ip::fragment_outcome::complete: break;
    }
    // RFC 791 §3.2: the whole datagram takes the first fragment's header, with the
    // total length of all of it and the fragment fields cleared.
    const std::span<std::uint8_t> whole = reassembly_.complete();
    const std::size_t header_length = reassembly_.complete_header_length();
    wire::rewrite_fragment_fields(whole.first(header_length), static_cast<std::uint16_t>(whole.size()), 0, false);
    ++counters_.datagrams_reassembled;
    const wire::ipv4_view datagram{whole};
    if (datagram.check()) {
        reassembly_.release_complete();
        return drop(drop_reason::fragment_malformed);
    }
    on_datagram(datagram, now, {});
    reassembly_.release_complete();
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::expire_fragments(instant now)
{
    const std::size_t before = reassembly_.counters().timed_out;
    reassembly_.expire(now, [this, now](const ip::fragment_key& key, std::span<const std::uint8_t> first) {
        // RFC 8200 §4.5: the same for IPv6, with ICMPv6's time exceeded.
        if (key.family == 6) return send_icmpv6_time_exceeded(first, now);
        // RFC 1122 §3.3.2: "if the fragment zero of the datagram is available", time
        // exceeded, code 1 (RFC 792), quoting it; rate-limited as every error we send.
        const wire::ipv4_view offending{first};
        if (!wire::may_send_icmp_error(offending)) return;
        if (!take_icmp_error_token(now)) {
            ++counters_.icmp_errors_limited;
            return;
        }
        const std::size_t room = std::min<std::size_t>(device_.mtu(), wire::icmp_error_max_size);
        const std::span<std::uint8_t> out = device_.transmit_buffer(room);
        std::size_t written = 0;
        if (out.empty()) return drop(drop_reason::device_full);
        if (wire::emit_time_exceeded(wire::time_exceeded_code::fragment_reassembly, offending, cfg_.address, out,
                                     written))
            return;
        device_.transmit(written, now);
        ++counters_.packets_sent;
        ++counters_.icmp_errors_sent;
    });
    counters_.reassembly_timeouts += reassembly_.counters().timed_out - before;
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_fragmented_icmp(wire::ipv4_header ip, std::span<const std::uint8_t, 8> head,
                                                    std::span<const std::uint8_t> message, instant now)
{
    // RFC 791 §3.2: every fragment but the last carries a multiple of 8 bytes, and all
    // share an Identification no other recent datagram from us to there has (RFC 6864
    // §4.1: the counter datagrams without DF take theirs from).
    const std::size_t piece = (device_.mtu() - wire::ipv4_header::size) / ip::reassembler::unit * ip::reassembler::unit;
    ip.dont_fragment = false;
    ip.identification = ++ip_identification_;
    for (std::size_t offset = 0; offset < message.size(); offset += piece) {
        const std::size_t n = std::min(piece, message.size() - offset);
        const std::span<std::uint8_t> out = device_.transmit_buffer(wire::ipv4_header::size + n);
        if (out.size() < wire::ipv4_header::size + n) return drop(drop_reason::device_full);
        ip.payload_length = static_cast<std::uint16_t>(n);
        (void)ip.emit(out);
        const bool more = offset + n < message.size();
        wire::rewrite_fragment_fields(out.first(wire::ipv4_header::size),
                                      static_cast<std::uint16_t>(wire::ipv4_header::size + n), offset, more);
        detail::copy_piece(out.data() + wire::ipv4_header::size, head, message, offset, n);
        device_.transmit(wire::ipv4_header::size + n, now);
        ++counters_.packets_sent;
        ++counters_.fragments_sent;
    }
}

}  // namespace tcpx
