// The receive path of tcpx/basic_stack.hpp: device -> IPv4 -> TCP -> connection, and
// RFC 9293 §3.10.7.1 (no connection) and §3.10.7.2 (LISTEN). Not to be included directly.
#pragma once

namespace tcpx {

template <device Device, clock Clock, congestion_control CC>
instant stack<Device, Clock, CC>::poll()
{
    const instant now = clock_.now();
    last_poll_ = now;
    const std::size_t received = device_.receive(
        now,
        [this, now](std::span<const std::uint8_t> packet, packet_info info = {}) { on_packet(packet, now, info); },
        cfg_.max_packets_per_poll);

    // Timers: only connections whose deadline has come are touched (deadline heap).
    auto ctx = context_at(now);
    while (!timers_.empty() && timers_.top_deadline() <= now) {
        const std::uint32_t index = static_cast<std::uint32_t>(timers_.top_id());
        timers_.pop();
        slot& s = slots_[index];
        const tcp::state before = s.conn.state();
        ctx.syn_ack_retries = s.half_open ? syn_ack_retries_for(s) : cfg_.syn_ack_retries;
        s.conn.on_timer(ctx);
        after_input(index, before, now);
    }

    if (reassembly_.next_deadline() <= now) expire_fragments(now);

    // Output: every connection that input, a timer or a user call touched.
    for (std::size_t i = 0; i < dirty_.size(); ++i) flush(dirty_[i], now);
    dirty_.clear();

    if (received == cfg_.max_packets_per_poll) return now;  // more may be waiting
    return std::min({timers_.top_deadline(), device_.next_deadline(), reassembly_.next_deadline()});
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_packet(std::span<const std::uint8_t> packet, instant now, packet_info info)
{
    ++counters_.packets_received;
    // RFC 8200 §3: the version nibble tells the families apart (TUN carries no ethertype).
    if (!packet.empty() && packet[0] >> 4 == 6) return on_ipv6(packet, now, false);
    // RFC 1122 §3.2.1: check the IPv4 header; a failure is dropped silently, and counted.
    const wire::ipv4_view ip{packet};
    if (const auto ec = ip.check(); ec) return drop(drop_reason_for(static_cast<errc>(ec.value())));
    if (ip.destination() != cfg_.address) return drop(drop_reason::not_our_address);
    if (const auto r = source_rejected(ip.source()); r) return drop(*r);
    if (ip.is_fragment()) return on_fragment(ip, now);
    on_datagram(ip, now, info);
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_datagram(const wire::ipv4_view& ip, instant now, packet_info info)
{
    // RFC 2873: the TOS/precedence byte is never looked at, so it cannot cause a drop or a reset.
    if (ip.protocol() == static_cast<std::uint8_t>(wire::ip_protocol::icmp)) return on_icmp(ip, now);
    if (ip.protocol() != static_cast<std::uint8_t>(wire::ip_protocol::tcp)) {
        drop(drop_reason::protocol_unsupported);
        return send_protocol_unreachable(ip, now);
    }

    const wire::tcp_view tv{ip.payload()};
    if (const auto ec = tv.check(); ec) return drop(drop_reason_for(static_cast<errc>(ec.value())));
    // RFC 9293 §3.1 / RFC 1122 §4.2.2.7 (MUST): verify the checksum, pseudo-header included.
    // A device with receive offload may have verified it already (packet_info). A segment
    // with text enough to matter is verified on the copy of its text into the receive
    // buffer instead (on_tcp, connection::stage_text), so its bytes are read once, not
    // twice (RFC 1071 §2); until then only the header is summed, and the segment changes
    // nothing (staged text stays unreadable and is released if the sum fails).
    std::optional<wire::checksum_accumulator> unverified;
    if (!info.checksum_valid) {
        if (tv.payload().size() >= checksum_on_copy_from) {
            unverified = tv.header_sum(ip.source(), ip.destination());
        } else if (!tv.checksum_ok(ip.source(), ip.destination())) {
            return drop(drop_reason::tcp_bad_checksum);
        }
    }
    // A malformed header in a segment not verified yet is a bad checksum if it is one.
    const auto malformed = [&](drop_reason r) {
        if (unverified && !tv.checksum_ok(ip.source(), ip.destination())) r = drop_reason::tcp_bad_checksum;
        drop(r);
    };
    tcp::segment seg;
    if (const auto ec = wire::tcp_header::parse(tv, seg.header); ec) return malformed(drop_reason::tcp_bad_option);
    if (seg.header.source_port == 0 || seg.header.destination_port == 0) return malformed(drop_reason::tcp_bad_port);
    // The "land" attack: a SYN from our own address and port to itself would be answered
    // to itself, in a loop (RFC 4987 §2's survey of SYN attacks; Linux drops it as a
    // segment with source equal to destination).
    if (ip.source() == cfg_.address && seg.header.source_port == seg.header.destination_port)
        return malformed(drop_reason::source_is_ours);
    seg.payload = tv.payload();
    on_tcp(ip, seg, now, unverified ? &*unverified : nullptr);
}

// RFC 1122 §3.2.1.3 and §4.2.3.10 (MUST): a datagram whose source is not one host is
// discarded — no SYN-ACK, reset or ICMP message may go to a broadcast, a multicast
// group or nobody. A loopback source is taken only by a stack whose own address is a
// loopback one. (A segment from our own address and to its own port, the "land"
// attack, is on_packet's: a connection to ourselves on other ports is legitimate.)
template <device Device, clock Clock, congestion_control CC>
std::optional<drop_reason> stack<Device, Clock, CC>::source_rejected(wire::ipv4_address source) const noexcept
{
    switch (wire::kind_of(source)) {
    case wire::address_kind::unicast: break;
    case wire::address_kind::this_network: return drop_reason::source_this_network;
    case wire::address_kind::loopback:
        if (wire::kind_of(cfg_.address) == wire::address_kind::loopback) return std::nullopt;
        return drop_reason::source_loopback;
    case wire::address_kind::multicast: return drop_reason::source_multicast;
    case wire::address_kind::reserved: return drop_reason::source_reserved;
    case wire::address_kind::limited_broadcast: return drop_reason::source_broadcast;
    }
    if (wire::is_directed_broadcast(source, cfg_.address, cfg_.prefix_length)) return drop_reason::source_broadcast;
    return std::nullopt;
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_tcp(const wire::ipv4_view& ip, tcp::segment& seg, instant now,
                                     wire::checksum_accumulator* unverified)
{
    const std::uint32_t* found = table_.find(key_of(ip.source(), seg.header.source_port, seg.header.destination_port));
    // The checksum, if on_packet left it: summed on the copy of the text into the
    // receive buffer when the connection can take it whole, else over the payload here.
    // Either way it is verified before anything acts on the segment.
    bool staged = false;
    if (unverified != nullptr) {
        staged = found != nullptr && slots_[*found].conn.stage_text(seg, pool_, cfg_, *unverified);
        if (!staged) unverified->add(seg.payload);
        if (unverified->sum() != 0xffff) {
            if (staged) slots_[*found].conn.release_staged(pool_);
            return drop(drop_reason::tcp_bad_checksum);
        }
        if (staged) {
            seg.placed = seg.payload.size();
            ++counters_.checksums_on_copy;
        }
    }
    ++counters_.segments_received;
    if (found != nullptr) {
        const std::uint32_t index = *found;
        slot& s = slots_[index];
        // RFC 9293 §3.10.7.4 and RFC 6191 (RFC 1122 §4.2.2.13): a new SYN for a 4-tuple in
        // TIME-WAIT may reopen it when its sequence number is beyond the old connection's.
        if (s.conn.state() == tcp::state::time_wait && seg.has(tcp::tcp_flags::syn) &&
            !seg.has(tcp::tcp_flags::ack) && !seg.has(tcp::tcp_flags::rst) &&
            s.conn.may_reopen(seg, cfg_.timestamps)) {
            if (const std::uint32_t* listening = listening_.find(seg.header.destination_port)) {
                const std::uint32_t l = *listening;
                const seq32 old_highest = s.conn.snd().max;
                reclaim(index);
                ++counters_.time_wait_reopened;
                return on_listen(ip, seg, l, now, old_highest);
            }
        }
        // An ACK that would complete a handshake into a full accept queue is dropped, as
        // Linux drops it (tcp_abort_on_overflow = 0): SYN-RECEIVED stays, its SYN,ACK
        // timer sends again, and the peer's answer gets in once accept() made room — a
        // reset would end a connect() that only had to wait. (Text or a FIN on it goes
        // with it, and comes again.) Any other segment meets the RFC's rules as ever.
        if (s.listener != none && listeners_[s.listener].queued >= listeners_[s.listener].backlog &&
            s.conn.completes_handshake(seg)) {
            if (staged) s.conn.release_staged(pool_);
            ++counters_.accept_queue_overflows;
            return drop(drop_reason::listen_queue_full);
        }
        const tcp::state before = s.conn.state();
        auto ctx = context_at(now);
        if (s.conn.on_segment(seg, ctx) == tcp::input_result::send_reset)
            send_reset(ip.source(), tcp::reset_for(seg), now);
        if (staged) s.conn.release_staged(pool_);  // what the text step did not commit
        if (ctx.pool_pressure) prune_out_of_order(now);
        after_input(index, before, now);
        // RFC 5681 §4.2 / RFC 1122 §4.2.3.2: an ACK due at once leaves before the next
        // packet is read, so duplicate ACKs are not merged away.
        if (slots_[index].in_use && slots_[index].conn.ack_due()) flush(index, now);
        return;
    }
    if (const std::uint32_t* listening = listening_.find(seg.header.destination_port))
        return on_listen(ip, seg, *listening, now);
    // RFC 9293 §3.10.7.1: no connection and no listener: reset, unless it is a reset.
    if (!seg.has(tcp::tcp_flags::rst)) {
        ++counters_.no_listener_resets;
        send_reset(ip.source(), tcp::reset_for(seg), now);
    } else {
        drop(drop_reason::reset_no_connection);
    }
}

// RFC 9293 §3.10.7.2: a segment for a listening port with no connection yet.
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_listen(const wire::ipv4_view& ip, const tcp::segment& seg, std::uint32_t l,
                                         instant now, std::optional<seq32> iss_after)
{
    // "First, check for a RST": an incoming RST is ignored.
    if (seg.has(tcp::tcp_flags::rst)) return drop(drop_reason::listen_rst);
    // "Second, check for an ACK": any ACK is bad here, <SEQ=SEG.ACK><CTL=RST> — unless it
    // returns a SYN cookie (RFC 4987 §3.6), when it opens the connection.
    if (seg.has(tcp::tcp_flags::ack)) {
        if (!seg.has(tcp::tcp_flags::syn) && cookies_outstanding(now)) {
            if (accept_syn_cookie(ip, seg, l, now)) return;
            ++counters_.syn_cookies_failed;
            // The cookie is checked against SEG.SEQ - 1, the peer's ISN, so only the
            // peer's first segment can return it. A segment past that, with text or a
            // FIN, is what a client sends when the network lost its first ACK and first
            // segments (a flood's full queue does): a reset would kill a connection
            // that the peer's retransmission from its first byte would open. Dropped
            // instead (Linux resets it); a bare ACK whose cookie fails is reset below.
            if (!seg.payload.empty() || seg.has(tcp::tcp_flags::fin)) return drop(drop_reason::listen_cookie_text);
        }
        return send_reset(ip.source(), tcp::reset_for(seg), now);
    }
    // "Third, check for a SYN" (anything else: "drop the segment and return").
    if (!seg.has(tcp::tcp_flags::syn)) return drop(drop_reason::listen_not_syn);
    // SYN with FIN: RFC 9293 would open a connection and take the FIN at once; no TCP
    // sends it, scanners do (it slips past filters that match SYN alone). Discarded, as
    // Linux's tcp_rcv_state_process does.
    if (seg.has(tcp::tcp_flags::fin)) return drop(drop_reason::listen_syn_fin);
    // Text in a SYN is not kept (RFC 9293 §3.10.7.2 lets it be queued, a SHOULD; without
    // TCP Fast Open no peer expects it taken, and it is sent again after the handshake,
    // as Linux does): counted, whatever answers the SYN.
    if (!seg.payload.empty()) ++counters_.syn_text_discarded;
    listener_slot& lst = listeners_[l];
    const bool queue_full = lst.queued >= lst.backlog;
    // RFC 4987 §3.3/§3.6: the half-open bound is the stack's and each listener's own (its
    // backlog, as Linux's SYN queue), so a flood at one port leaves the others their share.
    const bool table_full = half_open_ >= cfg_.max_half_open || lst.half_open >= lst.backlog;
    // RFC 4987 §3.6: where a half-open connection would be refused, a cookie answers
    // instead. A SYN reopening TIME-WAIT keeps its ISN rule (iss_after) when it can.
    const bool full = queue_full || table_full;
    bool cookie = false;
    switch (cfg_.syn_cookies) {
    case syn_cookie_mode::never: break;
    case syn_cookie_mode::when_full: cookie = full; break;
    case syn_cookie_mode::always: cookie = full || !iss_after; break;
    }
    if (cookie) return send_syn_cookie(ip, seg, now);
    if (queue_full) {
        // The accept queue is full: dropped, as Linux drops it (LISTENOVERFLOWS). The
        // peer's SYN timer retries, and gets in once accept() has made room; a reset
        // would end a connect() that only had to wait.
        ++counters_.accept_queue_overflows;
        return drop(drop_reason::listen_queue_full);
    }
    if (table_full) return drop(drop_reason::half_open_limit);
    if (at_connection_limit()) return drop(drop_reason::connection_limit);

    const std::uint32_t index = allocate_slot();
    slot& s = slots_[index];
    const tcp::four_tuple id{cfg_.address, ip.source(), seg.header.destination_port, seg.header.source_port};
    auto ctx = context_at(now);
    const auto opening = isn_.open(id.local_address.value, id.local_port, id.remote_address.value, id.remote_port, now);
    seq32 iss = opening.iss;
    // RFC 6191 §2 / RFC 1122 §4.2.2.13: a connection reopened from TIME-WAIT starts its
    // sequence numbers beyond the old incarnation's, so old duplicates cannot land in it.
    // A full window (2^16, the largest unscaled one) of headroom on top.
    if (iss_after && seq_le(iss, *iss_after)) iss = *iss_after + 65536;
    s.conn.open_passive(id, iss, seg, ctx, opening.ts_offset);
    s.listener = l;
    s.half_open = true;
    ++half_open_;
    ++lst.half_open;
    table_.insert(key_of(id), index);
    s.in_table = true;
    mark_dirty(index);
}

// After a segment or a timer: queue finished handshakes for accept(), release what ended.
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::after_input(std::uint32_t index, tcp::state before, instant now)
{
    slot& s = slots_[index];
    const tcp::state st = s.conn.state();
    if (s.half_open && st != tcp::state::syn_received) {
        s.half_open = false;
        --half_open_;
        --listeners_[s.listener].half_open;
    }
    if (s.time_wait != (st == tcp::state::time_wait) && !enter_time_wait(index, now)) return;
    if (before == tcp::state::syn_received && st != tcp::state::syn_received && st != tcp::state::closed &&
        s.listener != none && !s.queued) {
        enqueue_accepted(index, now);
        if (!s.in_use) return;
    }
    if (st == tcp::state::closed && !s.user_owned && !s.queued) {
        reclaim(index);
        return;
    }
    if (st == tcp::state::closed) forget_tuple(s);
    mark_dirty(index);
}

// A connection entered or left TIME-WAIT: counted, within config::max_time_wait. Past
// the bound it sends what it owes (the ACK of the peer's FIN) and closes at once, as
// Linux does at tcp_max_tw_buckets; false when that reclaimed the slot.
template <device Device, clock Clock, congestion_control CC>
bool stack<Device, Clock, CC>::enter_time_wait(std::uint32_t index, instant now)
{
    slot& s = slots_[index];
    if (s.time_wait) {  // left it
        s.time_wait = false;
        --time_wait_;
        return true;
    }
    if (time_wait_ < cfg_.max_time_wait) {
        s.time_wait = true;
        ++time_wait_;
        return true;
    }
    ++counters_.time_wait_overflows;
    flush(index, now);
    s.conn.end_time_wait();
    if (s.user_owned || s.queued) {
        forget_tuple(s);
        return true;
    }
    reclaim(index);
    return false;
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::enqueue_accepted(std::uint32_t index, instant now)
{
    slot& s = slots_[index];
    listener_slot& l = listeners_[s.listener];
    if (!l.in_use || l.queued >= l.backlog) {
        ++counters_.accept_queue_overflows;
        drop(drop_reason::listen_queue_full);
        auto ctx = context_at(now);
        if (s.conn.abort(ctx)) send_reset(s.conn.id().remote_address, s.conn.abort_reset(), now);
        reclaim(index);
        return;
    }
    ++counters_.connections_accepted;
    s.queued = true;
    s.next_queued = none;
    if (l.tail == none) l.head = index;
    else slots_[l.tail].next_queued = index;
    l.tail = index;
    ++l.queued;
}

// Received data was refused for memory (connection::note_refused): the out-of-order
// data whose hole has stood config::out_of_order_prune_after goes — a hole that old
// waits for a retransmission timeout or for nothing, and its peer resends what it
// SACKed (RFC 2018 §8). As Linux's tcp_prune_ofo_queue, what goes is out-of-order data
// only: nothing in order, nothing acknowledged. A walk over the connections, at most
// once per millisecond.
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::prune_out_of_order(instant now)
{
    if (last_prune_ && now - *last_prune_ < std::chrono::milliseconds{1}) return;
    last_prune_ = now;
    ++counters_.out_of_order_prunes;
    auto ctx = context_at(now);
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
        slot& s = slots_[i];
        if (s.in_use && s.conn.holds_out_of_order() &&
            now - s.conn.out_of_order_since() >= cfg_.out_of_order_prune_after)
            counters_.out_of_order_bytes_pruned += s.conn.prune_out_of_order(ctx);
    }
}

}  // namespace tcpx
