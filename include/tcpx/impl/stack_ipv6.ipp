// The IPv6 receive path of tcpx/basic_stack.hpp: the header and its extension headers,
// source validation, fragments (ip/reassembly.hpp, as for IPv4), ICMPv6 echo and the
// errors a host sends. TCP over IPv6 is not carried yet. Not to be included directly.
//
// Have open: RFC 8200 §3-§4 (header, extension headers, §4.5 fragments), RFC 4291
// §2.5-§2.7 (which addresses are which), RFC 4443 (ICMPv6: §2.4 when to send an error,
// §4 echo), RFC 7739 (fragment identifications).
#pragma once

namespace tcpx {

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_ipv6(std::span<const std::uint8_t> packet, instant now, bool reassembled)
{
    const wire::ipv6_view ip{packet};
    if (ip.check()) return drop(drop_reason::ipv6_malformed);
    // Multicast destinations (the kernel's router solicitations and MLD reports on a
    // new interface) are for groups tcpx does not join.
    if (!cfg_.address6 || ip.destination() != *cfg_.address6) return drop(drop_reason::not_our_address);
    if (const auto r = source6_rejected(ip.source()); r) return drop(*r);

    wire::ipv6_header_chain chain;
    if (wire::parse_header_chain(ip, chain)) {
        // RFC 8200 §4, §4.2, §4.4, §4.5: the walk says when to answer, and with what.
        if (chain.problem) send_icmpv6_error(wire::icmpv6_error::parameter_problem(*chain.problem), ip, chain, now);
        return drop(drop_reason::ipv6_bad_extension_header);
    }
    if (chain.fragment && !chain.fragment->is_atomic()) {
        // A packet put together holds no further fragment (it would be a fragment of a
        // fragment, which no sender makes).
        if (reassembled) return drop(drop_reason::fragment_malformed);
        return on_ipv6_fragment(ip, *chain.fragment, now);
    }
    switch (static_cast<wire::ipv6_next_header>(chain.protocol)) {
    case wire::ipv6_next_header::icmpv6: return on_icmpv6(ip, chain, now);
    case wire::ipv6_next_header::tcp: return drop(drop_reason::ipv6_tcp_not_yet);
    case wire::ipv6_next_header::no_next_header: return;  // RFC 8200 §4.7: nothing follows
    default:
        // RFC 8200 §4: "If ... the Next Header value in the current header is
        // unrecognized by the node, it should discard the packet and send an ICMP
        // Parameter Problem message to the source of the packet, with an ICMP Code
        // value of 1".
        send_icmpv6_error(wire::icmpv6_error::parameter_problem(chain.unrecognized_next_header()), ip, chain, now);
        return drop(drop_reason::ipv6_unknown_next_header);
    }
}

// A source that names no single node is never answered (RFC 4443 §2.4(e.6) for errors;
// nor echo): the unspecified address, a multicast group, the loopback address (RFC 4291
// §2.5.3: never sent outside a node), and an IPv4-mapped address, which names an IPv4
// node and does not appear in IPv6 headers (RFC 4291 §2.5.5.2; Linux drops it too).
template <device Device, clock Clock, congestion_control CC>
std::optional<drop_reason> stack<Device, Clock, CC>::source6_rejected(const wire::ipv6_address& source) const noexcept
{
    if (source.is_unspecified()) return drop_reason::source_this_network;
    if (source.is_multicast()) return drop_reason::source_multicast;
    if (source.is_loopback()) return drop_reason::source_loopback;
    if (source.is_v4_mapped()) return drop_reason::source_reserved;
    return std::nullopt;
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_ipv6_fragment(const wire::ipv6_view& ip, const wire::ipv6_fragment& f, instant now)
{
    if (cfg_.reassembly_datagrams == 0) return drop(drop_reason::ipv6_fragment);
    ++counters_.fragments_received;
    // RFC 8200 §4.5: the fragments of one packet share source, destination and
    // Identification.
    ip::fragment_key key;
    key.family = 6;
    key.identification = f.identification;
    key.source = ip.source().octets;
    key.destination = ip.destination().octets;
    const std::span<const std::uint8_t> datagram = ip.datagram();
    // The first fragment's headers up to and with its Fragment header go in front (the
    // Fragment header is taken out once whole, below; kept until then, the first
    // fragment is there as it came for a time exceeded to quote).
    const std::size_t evicted = reassembly_.counters().evicted;
    const ip::fragment_outcome outcome =
        reassembly_.add(key, f.offset, f.more_fragments,
                        f.offset == 0 ? datagram.first(f.data_at()) : std::span<const std::uint8_t>{},
                        datagram.subspan(f.data_at()), now);
    counters_.reassembly_evictions += reassembly_.counters().evicted - evicted;
    switch (outcome) {
    case ip::fragment_outcome::incomplete: return;
    case ip::fragment_outcome::duplicate: return drop(drop_reason::fragment_duplicate);
    case ip::fragment_outcome::overlap: return drop(drop_reason::fragment_overlap);  // RFC 8200 §4.5, RFC 5722
    case ip::fragment_outcome::disabled: return drop(drop_reason::ipv6_fragment);
    case ip::fragment_outcome::too_large:
    case ip::fragment_outcome::bad_length:
    case ip::fragment_outcome::inconsistent:
    case ip::fragment_outcome::header_too_long: return drop(drop_reason::fragment_malformed);
    case ip::fragment_outcome::complete: break;
    }
    // RFC 8200 §4.5: the reassembled packet is the first fragment's unfragmentable part,
    // with the Next Header of its last header set to the Fragment header's and the
    // payload length counted anew, then the fragmentable part.
    const std::span<std::uint8_t> whole = reassembly_.complete();
    const std::size_t fragment_at = reassembly_.complete_header_length() - wire::ipv6_extension_field::fragment_size;
    // Find the byte that names the Fragment header: the unfragmentable part was walked
    // already (the first fragment passed parse_header_chain), so its lengths are sound.
    std::size_t names_fragment = wire::ipv6_field::next_header;
    for (std::size_t at = wire::ipv6_field::fixed_size; at < fragment_at;
         at += (std::size_t{whole[at + wire::ipv6_extension_field::length]} + 1) * wire::ipv6_extension_field::unit)
        names_fragment = at + wire::ipv6_extension_field::next_header;
    whole[names_fragment] = whole[fragment_at + wire::ipv6_extension_field::next_header];
    std::memmove(whole.data() + wire::ipv6_extension_field::fragment_size, whole.data(), fragment_at);
    const std::span<std::uint8_t> packet = whole.subspan(wire::ipv6_extension_field::fragment_size);
    if (packet.size() - wire::ipv6_field::fixed_size > 0xffff) {
        reassembly_.release_complete();
        return drop(drop_reason::fragment_malformed);
    }
    boost::endian::store_big_u16(packet.data() + wire::ipv6_field::payload_length,
                                 static_cast<std::uint16_t>(packet.size() - wire::ipv6_field::fixed_size));
    ++counters_.datagrams_reassembled;
    on_ipv6(packet, now, true);
    reassembly_.release_complete();
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_icmpv6(const wire::ipv6_view& ip, const wire::ipv6_header_chain& chain, instant now)
{
    const wire::icmpv6_view msg{chain.upper_layer};
    if (msg.check(ip.source(), ip.destination())) return drop(drop_reason::icmpv6_malformed);
    if (msg.type() != static_cast<std::uint8_t>(wire::icmpv6_type::echo_request)) {
        // Errors would go to the connection they quote: there is none over IPv6 yet.
        // Neighbour Discovery (RFC 4861) has nothing to do on a TUN link, which has no
        // link-layer addresses to resolve.
        return drop(drop_reason::icmp_unhandled);
    }
    // RFC 4443 §4.2 (MUST): "Every node MUST implement an ICMPv6 Echo responder function".
    if (!cfg_.answer_ping) return drop(drop_reason::icmp_unhandled);
    const std::size_t length = wire::ipv6_header::size + chain.upper_layer.size();
    if (length > device_.mtu()) return send_large_icmpv6_echo_reply(ip, msg, chain.upper_layer, now);
    const std::span<std::uint8_t> out = device_.transmit_buffer(length);
    if (out.size() < length) return drop(drop_reason::device_full);
    std::size_t written = 0;
    if (wire::emit_icmpv6_echo_reply(ip, msg, *cfg_.address6, out, written)) return drop(drop_reason::icmp_unhandled);
    device_.transmit(written, now);
    ++counters_.packets_sent;
    ++counters_.icmp_echo_replies;
}

// RFC 4443 §4.2: the reply returns the data entirely; above the MTU, in fragments of
// our own (RFC 8200 §4.5: a source fragments what its path does not carry).
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_large_icmpv6_echo_reply(const wire::ipv6_view& ip, const wire::icmpv6_view& msg,
                                                            std::span<const std::uint8_t> message, instant now)
{
    const auto head =
        detail::echo_reply_head(message, msg.checksum(), static_cast<std::uint8_t>(wire::icmpv6_type::echo_reply));
    wire::ipv6_header h;
    h.source = *cfg_.address6;
    h.destination = ip.source();
    h.next_header = static_cast<std::uint8_t>(wire::ipv6_next_header::fragment);
    h.traffic_class = ip.traffic_class() & 0xfcu;  // the DSCP, not the ECN field (as emit_icmpv6_echo_reply)
    constexpr std::size_t overhead = wire::ipv6_header::size + wire::ipv6_extension_field::fragment_size;
    // RFC 8200 §4.5: each fragment but the last a multiple of 8 bytes, within the MTU.
    const std::size_t piece = (device_.mtu() - overhead) / ip::reassembler::unit * ip::reassembler::unit;
    // RFC 8200 §4.5: an Identification no other recent fragmented packet from us to
    // there has; RFC 7739 §5 asks that it not be predictable: a keyed hash of a counter.
    std::array<std::uint8_t, 24> input{};
    boost::endian::store_big_u64(input.data(), ++ipv6_fragmented_packets_);
    std::copy(h.destination.octets.begin(), h.destination.octets.end(), input.begin() + 8);
    const auto identification = static_cast<std::uint32_t>(tcp::siphash24(isn_.secret(), input.data(), input.size()));
    for (std::size_t offset = 0; offset < message.size(); offset += piece) {
        const std::size_t n = std::min(piece, message.size() - offset);
        const std::span<std::uint8_t> out = device_.transmit_buffer(overhead + n);
        if (out.size() < overhead + n) return drop(drop_reason::device_full);
        h.payload_length = static_cast<std::uint16_t>(wire::ipv6_extension_field::fragment_size + n);
        (void)h.emit(out);
        std::uint8_t* frag = out.data() + wire::ipv6_header::size;
        frag[wire::ipv6_extension_field::next_header] = static_cast<std::uint8_t>(wire::ipv6_next_header::icmpv6);
        frag[wire::ipv6_extension_field::length] = 0;  // reserved
        const bool more = offset + n < message.size();
        boost::endian::store_big_u16(frag + wire::ipv6_extension_field::fragment_offset,
                                     static_cast<std::uint16_t>(offset / 8 << 3 | (more ? 1u : 0u)));
        boost::endian::store_big_u32(frag + wire::ipv6_extension_field::identification, identification);
        detail::copy_piece(out.data() + overhead, head, message, offset, n);
        device_.transmit(overhead + n, now);
        ++counters_.packets_sent;
        ++counters_.fragments_sent;
    }
    ++counters_.icmp_echo_replies;
}

// RFC 4443 §2.4(e)-(f): never about an error, a multicast packet (with §2.4(e.3)'s
// exceptions) or a source that names no node; rate-limited, by the bucket IPv4's errors
// share (config::icmp_errors_per_second).
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_icmpv6_error(const wire::icmpv6_error& error, const wire::ipv6_view& ip,
                                                 const wire::ipv6_header_chain& chain, instant now)
{
    if (!wire::may_send_icmpv6_error(error, ip, chain)) return;
    if (!take_icmp_error_token(now)) {
        ++counters_.icmp_errors_limited;
        return;
    }
    const std::size_t room = std::min<std::size_t>(device_.mtu(), wire::icmpv6_error_max_size);
    const std::span<std::uint8_t> out = device_.transmit_buffer(room);
    if (out.empty()) return drop(drop_reason::device_full);
    std::size_t written = 0;
    if (wire::emit_icmpv6_error(error, ip, *cfg_.address6, out, written)) return;
    device_.transmit(written, now);
    ++counters_.packets_sent;
    ++counters_.icmp_errors_sent;
}

// RFC 8200 §4.5: "If insufficient fragments are received to complete reassembly of a
// packet within 60 seconds of the reception of the first-arriving fragment of that
// packet ... If the first fragment (i.e., the one with a Fragment Offset of zero) has
// been received, an ICMP Time Exceeded -- Fragment Reassembly Time Exceeded message
// should be sent to the source of that fragment."
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_icmpv6_time_exceeded(std::span<const std::uint8_t> first, instant now)
{
    const wire::ipv6_view offending{first};
    if (offending.check()) return;
    wire::ipv6_header_chain chain;
    (void)wire::parse_header_chain(offending, chain);
    send_icmpv6_error(wire::icmpv6_error::time_exceeded(wire::icmpv6_time_exceeded_code::fragment_reassembly),
                      offending, chain, now);
}

}  // namespace tcpx
