// The send path of tcpx/basic_stack.hpp: connection -> TCP header and payload (the
// checksum folded into the payload copy) -> IPv4 -> device. Not to be included directly.
#pragma once

namespace tcpx {

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::flush(std::uint32_t index, instant now)
{
    slot& s = slots_[index];
    s.dirty = false;
    if (!s.in_use) return;
    auto ctx = context_at(now);
    tcp::outgoing& out = outgoing_;
    // Ask for a segment only when the device has room for one: a segment the
    // connection has recorded as sent must not be thrown away here.
    // next_segment() counts a retransmission as it hands the segment out, so the
    // connection's count is read before it is asked.
    const std::uint32_t retransmitted = s.conn.stats().retransmitted_segments;
    bool device_refused = false;
    for (;;) {
        // Room for the largest segment first (the device sends the first n bytes of it,
        // concepts.hpp), so that a segment the connection hands out always leaves.
        const std::span<std::uint8_t> room = device_.transmit_buffer(largest_packet());
        if (room.empty()) {
            device_refused = true;
            break;
        }
        if (!s.conn.next_segment(ctx, out)) break;
        transmit(index, out, room, now);
    }
    counters_.retransmitted_segments += static_cast<std::uint32_t>(s.conn.stats().retransmitted_segments - retransmitted);
    if (s.conn.state() == tcp::state::closed && !s.user_owned && !s.queued) {
        reclaim(index);
        return;
    }
    if (s.conn.state() == tcp::state::closed) forget_tuple(s);
    instant next = s.conn.next_deadline();
    if (device_refused) {
        // Output deferred (counted once per refused pass). Nothing else may wake this
        // connection — new data has no retransmission timer yet — so it tries again
        // after one RTO, what a lost segment would cost (RFC 6298 §5; Linux arms its
        // probe timer for the same case).
        drop(drop_reason::device_full);
        next = std::min(next, now + s.conn.rtt().rto());
    }
    timers_.set(index, next);
}

template <device Device, clock Clock, congestion_control CC>
bool stack<Device, Clock, CC>::transmit(std::uint32_t index, const tcp::outgoing& out,
                                        std::span<std::uint8_t> buffer, instant now)
{
    slot& s = slots_[index];
    const tcp::four_tuple& id = s.conn.id();
    const std::size_t header_length = out.header.size();
    const std::size_t length = wire::ipv4_header::size + header_length + out.payload_length;
    // The room was for the largest packet, and options come out of the MSS
    // (connection::data_mss); only an MSS configured above the MTU gets here, and the
    // segment is then lost like any other.
    if (buffer.size() < length) {
        drop(drop_reason::device_full);
        return false;
    }
    wire::ipv4_header ip;
    ip.source = id.local_address;
    ip.destination = id.remote_address;
    ip.payload_length = static_cast<std::uint16_t>(header_length + out.payload_length);
    // A segment above the MSS exists only with segmentation offload: the device cuts it,
    // each piece with this header's options, which come out of the MSS (RFC 6691).
    const std::size_t piece = s.conn.snd().mss - (header_length - wire::tcp_field::fixed_size);
    if (!s.conn.dont_fragment()) {
        // A datagram a router may fragment needs an Identification its fragments share
        // and no other recent one from us has (RFC 791 §3.2, RFC 6864 §4.1). Cut by the
        // device, the pieces take this one and the next ones in turn (Linux's
        // inet_gso_segment), so the counter moves past all of them (ip_select_ident_segs).
        ip.dont_fragment = false;
        ip.identification = static_cast<std::uint16_t>(ip_identification_ + 1);
        const std::size_t pieces = out.payload_length > piece ? (out.payload_length + piece - 1) / piece : 1;
        ip_identification_ = static_cast<std::uint16_t>(ip_identification_ + pieces);
    }
    (void)ip.emit(buffer);
    const auto segment = buffer.subspan(wire::ipv4_header::size, header_length + out.payload_length);
    (void)out.header.emit(segment);
    std::uint8_t* to = segment.data() + header_length;
    transmit_offload offload;
    if (offloads_.checksum) {
        // The device finishes the checksum: the payload is only copied, and the field
        // holds the pseudo-header sum the device starts from (RFC 1071's partial sum,
        // as Linux's CHECKSUM_PARTIAL). Large segments are cut by the device (TSO).
        s.conn.for_each_payload_run(pool_, out, [&](std::span<const std::uint8_t> run) {
            std::memcpy(to, run.data(), run.size());
            to += run.size();
        });
        wire::store_tcp_pseudo_header_sum(segment, ip.source, ip.destination);
        offload.checksum_partial = true;
        offload.checksum_start = wire::ipv4_header::size;
        offload.checksum_offset = 16;  // RFC 9293 §3.1: the checksum field
    } else {
        // The payload is copied from the send buffer once, its checksum summed on the way.
        wire::checksum_accumulator payload_sum;
        s.conn.for_each_payload_run(pool_, out, [&](std::span<const std::uint8_t> run) {
            wire::copy_and_add(payload_sum, std::span<std::uint8_t>{to, run.size()}, run);
            to += run.size();
        });
        wire::store_tcp_checksum(segment.first(header_length), payload_sum, ip.source, ip.destination, segment.size());
    }
    if (out.payload_length > piece) offload.segment_size = static_cast<std::uint16_t>(piece);
    send_packet(length, now, offload);
    ++counters_.packets_sent;
    ++counters_.segments_sent;
    if (wire::has(out.header.flags, wire::tcp_flags::rst)) ++counters_.resets_sent;
    return true;
}

// The device's plain transmit, or its offloading one when the packet needs the device
// to finish it.
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_packet(std::size_t length, instant now, const transmit_offload& offload)
{
    if constexpr (offload_device<std::remove_reference_t<Device>>) {
        if (offload.checksum_partial || offload.segment_size != 0) return device_.transmit(length, now, offload);
    }
    device_.transmit(length, now);
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_reset(wire::ipv4_address to, const wire::tcp_header& rst, instant now)
{
    const std::size_t length = wire::ipv4_header::size + rst.size();
    const std::span<std::uint8_t> buffer = device_.transmit_buffer(length);
    if (buffer.size() < length) return drop(drop_reason::device_full);
    wire::ipv4_header ip;
    ip.source = cfg_.address;
    ip.destination = to;
    ip.payload_length = static_cast<std::uint16_t>(rst.size());
    (void)ip.emit(buffer);
    const auto segment = buffer.subspan(wire::ipv4_header::size, rst.size());
    (void)rst.emit(segment);
    wire::fill_tcp_checksum(segment, ip.source, ip.destination);
    device_.transmit(length, now);
    ++counters_.packets_sent;
    ++counters_.segments_sent;
    ++counters_.resets_sent;
}

}  // namespace tcpx
