// SYN cookies (RFC 4987 §3.6) for tcpx/basic_stack.hpp: a listener that may not keep
// another half-open connection answers the SYN statelessly, and the ACK that returns
// the cookie opens the connection. The cookie itself is tcp/syn_cookie.hpp's. Not to be
// included directly.
#pragma once

namespace tcpx {

// The SYN-ACK is built by a connection, as for a stateful SYN, so it carries exactly the
// options one would: a slot is borrowed for it and handed back at once, never entering
// the connection table, the half-open count or the timers.
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_syn_cookie(const wire::ipv4_view& ip, const tcp::segment& seg, instant now)
{
    const tcp::four_tuple id{cfg_.address, ip.source(), seg.header.destination_port, seg.header.source_port};
    const tcp::syn_cookie_generator::tuple t{id.local_address.value, id.local_port, id.remote_address.value,
                                             id.remote_port};
    // RFC 9293 §3.7.1: a SYN without the MSS option means 536.
    const std::uint8_t mss = tcp::syn_cookie_generator::mss_index(seg.header.options.mss.value_or(wire::default_mss));
    const seq32 cookie = cookies_.make(t, seg.seq(), mss, now);
    auto opening = isn_.open(t.local_addr, t.local_port, t.remote_addr, t.remote_port, now);
    const auto& o = seg.header.options;
    if (o.timestamp && cfg_.timestamps) {
        // What the SYN negotiated and the cookie cannot hold rides in the TSval's low bits:
        // the offset is moved back so the SYN-ACK's TSval is the encoded one.
        tcp::cookie_options carried;
        if (cfg_.window_scaling) carried.window_scale = o.window_scale;
        carried.sack_permitted = cfg_.sack && o.sack_permitted;
        const std::uint32_t clock = tcp::connection<CC>::ts_clock(opening.ts_offset, now);
        opening.ts_offset -= clock - tcp::cookie_tsval(clock, carried);
    }
    const std::uint32_t index = allocate_slot();
    auto ctx = context_at(now);
    slots_[index].conn.open_passive(id, cookie, seg, ctx, opening.ts_offset);
    flush(index, now);
    release_slot(index);
    ++counters_.syn_cookies_sent;
    last_cookie_sent_ = now;
}

// RFC 4987 §3.6: cookies are looked for only while some may be outstanding — one made
// in this period or the last — so a listener never under attack accepts no forged ACK.
template <device Device, clock Clock, congestion_control CC>
bool stack<Device, Clock, CC>::cookies_outstanding(instant now) const noexcept
{
    if (cfg_.syn_cookies == syn_cookie_mode::never) return false;
    if (cfg_.syn_cookies == syn_cookie_mode::always) return true;
    return last_cookie_sent_ && now - *last_cookie_sent_ < 2 * tcp::syn_cookie_generator::period;
}

template <device Device, clock Clock, congestion_control CC>
bool stack<Device, Clock, CC>::accept_syn_cookie(const wire::ipv4_view& ip, const tcp::segment& seg,
                                                 std::uint32_t l, instant now)
{
    const tcp::four_tuple id{cfg_.address, ip.source(), seg.header.destination_port, seg.header.source_port};
    const tcp::syn_cookie_generator::tuple t{id.local_address.value, id.local_port, id.remote_address.value,
                                             id.remote_port};
    // The ACK of our SYN-ACK: SEG.ACK = cookie + 1, SEG.SEQ = the peer's ISN + 1.
    const seq32 peer_isn = seg.seq() - 1;
    const seq32 iss = seg.ack() - 1;
    const std::optional<std::uint8_t> mss = cookies_.check(t, peer_isn, iss, now);
    if (!mss) return false;
    // The SYN as far as the cookie remembers it.
    tcp::segment syn;
    syn.header.source_port = seg.header.source_port;
    syn.header.destination_port = seg.header.destination_port;
    syn.header.seq = peer_isn;
    syn.header.flags = tcp::tcp_flags::syn;
    syn.header.window = seg.header.window;
    syn.header.options.mss = tcp::syn_cookie_mss_table[*mss];
    if (const auto& ts = seg.header.options.timestamp; ts && cfg_.timestamps) {
        // RFC 7323 §4.3: TSecr echoes our SYN-ACK's TSval, and with it the options.
        const std::optional<tcp::cookie_options> carried = tcp::cookie_options::decode(ts->tsecr);
        if (!carried) return false;
        syn.header.options.timestamp = wire::timestamps{ts->tsval, 0};
        syn.header.options.window_scale = carried->window_scale;
        syn.header.options.sack_permitted = carried->sack_permitted;
    }
    ++counters_.syn_cookies_validated;
    listener_slot& lst = listeners_[l];
    if (lst.queued >= lst.backlog) {
        // Still no room: drop the ACK unanswered. The peer sends it again (or its data),
        // and the cookie stays good for another period.
        ++counters_.accept_queue_overflows;
        drop(drop_reason::listen_queue_full);
        return true;
    }
    if (at_connection_limit()) {
        drop(drop_reason::connection_limit);
        return true;
    }
    const std::uint32_t index = allocate_slot();
    slot& s = slots_[index];
    auto ctx = context_at(now);
    const auto opening = isn_.open(t.local_addr, t.local_port, t.remote_addr, t.remote_port, now);
    s.conn.open_from_cookie(id, iss, syn, ctx, opening.ts_offset);
    s.listener = l;
    table_.insert(key_of(id), index);
    s.in_table = true;
    // The ACK itself (and any data on it) as any segment for SYN-RECEIVED.
    if (s.conn.on_segment(seg, ctx) == tcp::input_result::send_reset)
        send_reset(ip.source(), tcp::reset_for(seg), now);
    after_input(index, tcp::state::syn_received, now);
    if (slots_[index].in_use && slots_[index].conn.ack_due()) flush(index, now);
    return true;
}

}  // namespace tcpx
