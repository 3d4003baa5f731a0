// SEGMENT ARRIVES (RFC 9293 §3.10.7) for tcpx/tcp/connection.hpp. Not to be
// included directly. One function per case of the RFC; inside the synchronized
// case the checks run in the RFC's order, each opened by the RFC's step name.
#pragma once

#include <algorithm>

namespace tcpx::tcp {

template <congestion_control CC>
input_result connection<CC>::on_segment(const segment& seg, context& ctx) noexcept
{
    ++stats_.segments_received;
    switch (state_) {
    case state::closed:
        // §3.10.7.1: a closed connection answers everything but a reset with a reset.
        discard(discard_reason::closed);
        return seg.has(tcp_flags::rst) ? input_result::done : input_result::send_reset;
    case state::listen:
        // Listening is the stack's (listeners hold no connection); not reachable.
        return input_result::done;
    case state::syn_sent:
        return on_segment_syn_sent(seg, ctx);
    case state::syn_received:
    case state::established:
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::close_wait:
    case state::closing:
    case state::last_ack:
    case state::time_wait:
        return on_segment_synchronized(seg, ctx);
    }
    return input_result::done;
}

// RFC 9293 §3.10.7.3: SYN-SENT.
template <congestion_control CC>
input_result connection<CC>::on_segment_syn_sent(const segment& seg, context& ctx) noexcept
{
    // First, check the ACK bit: it must acknowledge our SYN and nothing beyond.
    const bool has_ack = seg.has(tcp_flags::ack);
    // (SND.NXT is the highest sent, snd_.max: a timeout moves snd_.nxt back to ISS until
    // the SYN leaves again, and an ACK of the first SYN is no reason for a reset.)
    if (has_ack && (seq_le(seg.ack(), iss_) || seq_gt(seg.ack(), snd_.max))) {
        // "send a reset (unless the RST bit is set) <SEQ=SEG.ACK><CTL=RST> and discard"
        discard(discard_reason::syn_sent_bad_ack);
        return seg.has(tcp_flags::rst) ? input_result::done : input_result::send_reset;
    }
    // Second, check the RST bit.
    if (seg.has(tcp_flags::rst)) {
        // RFC 5961 §3.2 / RFC 9293: only a reset whose ACK acknowledges our SYN counts;
        // one without an ACK is dropped.
        if (has_ack) enter_closed(errc::connection_refused);
        else discard(discard_reason::syn_sent_reset);
        return input_result::done;
    }
    // Third, the security check: tcpx does not implement compartments (RFC 9293 §3.10.7.3).
    // Fourth, check the SYN bit.
    if (!seg.has(tcp_flags::syn)) {  // fifth: neither SYN nor RST
        discard(discard_reason::syn_sent_no_syn);
        return input_result::done;
    }
    irs_ = seg.seq();
    rcv_.nxt = irs_ + 1;
    rcv_.adv = rcv_.nxt;
    learn_options(seg, ctx);
    // The window in a SYN is never scaled (RFC 7323 §2.2).
    snd_.wnd = seg.header.window;
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    snd_.wl1 = seg.seq();
    snd_.wl2 = seg.ack();
    if (has_ack) {
        snd_.una = seg.ack();
        if (seq_lt(snd_.nxt, snd_.una)) snd_.nxt = snd_.una;  // a timeout had moved it back to ISS
        if (rtt_start_ != instant{}) {
            // Karn (RFC 6298 §3): rtt_start_ is cleared when the SYN is retransmitted.
            rtt_.on_sample(ctx.now - rtt_start_);
            rtt_start_ = instant{};
        }
    }
    if (seq_gt(snd_.una, iss_)) {
        syn_acked_ = true;
        // Our SYN is acknowledged: "enter ESTABLISHED, form an ACK segment and send it".
        enter_established(ctx);
        ack_now_ = true;
        // Data in the SYN-ACK (rare, allowed) continues at step six (RFC 9293 §3.10.7.3).
        if (!seg.payload.empty()) process_text(seg, ctx);
        // Eighth step: the FIN counts only if all the text before it was taken.
        if (seg.has(tcp_flags::fin) && rcv_.nxt == irs_ + 1 + static_cast<std::uint32_t>(seg.payload.size()))
            process_fin(ctx);
        return input_result::done;
    }
    // Simultaneous open (RFC 9293 §3.5 figure 8): SYN-RECEIVED, answer with SYN,ACK.
    state_ = state::syn_received;
    snd_.nxt = iss_;  // resend our SYN, now with an ACK
    return input_result::done;
}

// RFC 9293 §3.10.7.4: SYN-RECEIVED and the synchronized states.
template <congestion_control CC>
input_result connection<CC>::on_segment_synchronized(const segment& seg, context& ctx) noexcept
{
    // First, check the sequence number.
    if (state_ == state::syn_received && seg.has(tcp_flags::syn) && !seg.has(tcp_flags::rst) && seg.seq() == irs_) {
        if (!seg.has(tcp_flags::ack)) {
            // The peer's SYN again: our SYN,ACK was lost. Send the SYN,ACK again; the bare
            // ACK an old segment gets below would be dropped by a peer in SYN-SENT
            // (§3.10.7.3 fifth), leaving both sides waiting for a timer.
            snd_.nxt = iss_;
            return input_result::done;
        }
        // RFC 9293 §3.5 figure 8, line 6 (simultaneous open): the peer's SYN,ACK repeats
        // the SYN we hold. "If a segment's contents straddle the boundary between old and
        // new, only the new parts are processed": the SYN is old, the ACK goes on.
        segment rest = seg;
        rest.header.flags = static_cast<tcp_flags>(static_cast<std::uint8_t>(seg.header.flags) &
                                                   ~static_cast<std::uint8_t>(tcp_flags::syn));
        rest.header.seq = seg.seq() + 1;
        rest.syn_window = true;
        return on_segment_synchronized(rest, ctx);
    }
    // RFC 7323 §5.3 R1: PAWS, before the sequence number is checked.
    if (paws_rejects(seg, ctx)) return input_result::done;
    // A reset numbered from the FIN the peer sent, one below the window: taken, as Linux
    // takes it (tcp_reset_check) — a peer that closed, then aborts, resets at its FIN.
    if (seg.has(tcp_flags::rst) && reset_at_peer_fin(seg)) {
        check_reset(seg, ctx);
        return input_result::done;
    }
    if (!acceptable(seg)) {
        // "If an incoming segment is not acceptable, an acknowledgment should be sent in
        // reply (unless the RST bit is set)" — throttled, as RFC 5961 §7 recommends: when
        // each side finds the other's bare ACKs unacceptable (one at the right edge of a
        // full window, say) the replies would answer each other forever. Half the minimum
        // RTO still answers every retransmission, zero-window probe and repeated FIN.
        // Text wholly below RCV.NXT is a duplicate (a spurious retransmission, or a copy
        // the network made): RFC 2883 §4 reports it, on an ACK sent at once, as Linux's
        // tcp_send_dupack does — a segment with text cannot be one of our own ACKs
        // echoed back, so the throttle's reason does not apply to it.
        if (!seg.payload.empty() && !seg.has(tcp_flags::rst) && !seg.has(tcp_flags::syn) &&
            seq_le(seg.seq() + static_cast<std::uint32_t>(seg.payload.size()), rcv_.nxt)) {
            note_duplicate(seg.seq(), seg.seq() + static_cast<std::uint32_t>(seg.payload.size()));
            schedule_ack(true, ctx);
        } else if (!seg.has(tcp_flags::rst) && !seg.has(tcp_flags::syn) && seg.length() != 0) {
            // Text or a FIN outside the window (a probe of our closed window, data the
            // window no longer has room for) is answered every time: RFC 5961 §7's
            // throttle is for challenge ACKs, and one that also covered these would let
            // anyone who knows the 4-tuple silence our answers to the peer's probes
            // (Linux's tcp_oow_rate_limited exempts them too).
            schedule_ack(true, ctx);
        } else if (!seg.has(tcp_flags::rst)) {
            throttled_ack(ctx);
        }
        // RFC 9293 §3.10.7.4 TIME-WAIT: "The only thing that can arrive in this state is a
        // retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
        // That FIN ends at RCV.NXT, so it fails this check and is recognised here.
        if (state_ == state::time_wait && seg.has(tcp_flags::fin) && !seg.has(tcp_flags::rst) &&
            seg.seq() + seg.length() == rcv_.nxt) {
            arm(timer::time_wait, ctx.now + 2 * ctx.cfg.msl);
            return input_result::done;  // answered, not discarded
        }
        // "If the RCV.WND is zero, no segments will be acceptable, but special allowance
        // should be made to accept valid ACKs": a segment at RCV.NXT (the peer's probe of
        // our zero window, say) still has its ACK field processed; its text is not taken.
        if (rcv_.wnd == 0 && seg.seq() == rcv_.nxt && seg.has(tcp_flags::ack) &&
            !seg.has(tcp_flags::rst) && !seg.has(tcp_flags::syn)) {
            if (seg.length() != 0) discard(discard_reason::zero_window_text);
            last_received_ = ctx.now;
            return check_ack(seg, ctx);
        }
        discard(discard_reason::unacceptable);
        return input_result::done;
    }
    update_ts_recent(seg, ctx);  // RFC 7323 §5.3 R3
    // Second, check the RST bit.
    if (seg.has(tcp_flags::rst)) {
        check_reset(seg, ctx);
        return input_result::done;
    }
    // Third, the security check: not implemented (no compartments).

    // Fourth, check the SYN bit.
    if (seg.has(tcp_flags::syn)) {
        if (state_ == state::syn_received && passive_) {
            // RFC 9293 §3.10.7.4 fourth: "If the connection was initiated with a passive
            // OPEN, then return this connection to the LISTEN state and return": for tcpx
            // the embryonic connection goes (the listener is untouched), and the peer's
            // next SYN finds the listener.
            enter_closed(errc::connection_reset);
            return input_result::done;
        }
        // RFC 5961 §4.2 / RFC 9293 §3.10.7.4 (MUST-60 ...): a SYN in a synchronized
        // state, in the window or not, gets a challenge ACK and is dropped.
        discard(discard_reason::syn_synchronized);
        if (throttled_ack(ctx)) ++stats_.challenge_acks;
        return input_result::done;
    }

    // Fifth, check the ACK field.
    if (!seg.has(tcp_flags::ack)) {  // "drop the segment and return"
        discard(discard_reason::no_ack);
        return input_result::done;
    }
    if (const auto r = check_ack(seg, ctx); r != input_result::done || state_ == state::closed)
        return r;
    // An ACK of something not yet sent (or too old): "send an ACK, drop the segment, and
    // return" — check_ack() queued the ACK; the text and the FIN go with the segment.
    if (!ack_acceptable(seg)) return input_result::done;
    // The peer is alive: only now, so a segment RFC 5961 drops cannot keep a dead
    // connection's keep-alive or user timeout at bay.
    last_received_ = ctx.now;
    keepalive_probes_sent_ = 0;
    if (keepalive_) restart_keepalive(ctx);
    if (state_ == state::time_wait) {
        // Only a retransmitted FIN can arrive: acknowledge it and restart the 2 MSL wait.
        if (seg.has(tcp_flags::fin)) {
            ack_now_ = true;
            arm(timer::time_wait, ctx.now + 2 * ctx.cfg.msl);
        }
        // Text is ignored (seventh step) but answered, as Linux's TIME-WAIT answers
        // what it does not take: the peer learns its FIN was taken and nothing more is.
        if (!seg.payload.empty()) ack_now_ = true;
        return input_result::done;
    }

    // Sixth, check the URG bit (RFC 9293 §3.8.5, §3.10.7.4): tcpx keeps urgent data
    // in band; the pointer is remembered but nothing is signalled (RFC 6093 §4).
    if (seg.has(tcp_flags::urg) && (state_ == state::established || state_ == state::fin_wait_1 ||
                                    state_ == state::fin_wait_2)) {
        const seq32 up = seg.seq() + seg.header.urgent_pointer;
        if (seq_gt(up, rcv_.up)) rcv_.up = up;
    }

    // Seventh, process the segment text.
    if (!seg.payload.empty()) {
        process_text(seg, ctx);
        // RFC 1122 §4.2.2.13: data after the user's CLOSE "SHOULD send a RST to show that
        // data was lost"; it answers this segment, <SEQ=SEG.ACK><CTL=RST>.
        if (state_ == state::closed) return input_result::send_reset;
    }

    // Eighth, check the FIN bit: it counts only where it sits in sequence.
    if (seg.has(tcp_flags::fin)) {
        const seq32 fin_at = seg.seq() + static_cast<std::uint32_t>(seg.payload.size());
        if (fin_at == rcv_.nxt) {
            process_fin(ctx);
        } else if (seq_gt(fin_at, rcv_.nxt) && !fin_received_) {
            // Out of order: hold the FIN's place until the data before it arrives, and
            // say so at once (RFC 5681 §4.2), as for any out-of-order segment.
            remote_fin_pending_ = true;
            remote_fin_seq_ = fin_at;
            if (seg.payload.empty()) note_sack_arrival(fin_at);  // its block leads (RFC 2018 §4)
            schedule_ack(true, ctx);
        }
    }
    return input_result::done;
}

template <congestion_control CC>
bool connection<CC>::stage_text(const segment& seg, chunk_pool& pool, const config& cfg,
                                wire::checksum_accumulator& sum) noexcept
{
    // The conditions under which process_text() (RFC 9293 §3.10.7.4, seventh: text in
    // ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2) takes the whole payload at RCV.NXT inside
    // RCV.WND; anything else takes the general path, checksum first.
    const bool takes_text =
        state_ == state::established || state_ == state::fin_wait_1 || state_ == state::fin_wait_2;
    if (!takes_text || released_ || seg.has(tcp_flags::syn) || seg.has(tcp_flags::rst) ||
        seg.seq() != rcv_.nxt || seg.payload.size() > rcv_.wnd)
        return false;
    return rcvbuf_.stage(pool, seg.payload, cfg.receive_buffer, sum);
}

// RFC 9293 §3.10.7.4 first: the four cases of segment acceptability (§3.4 table).
template <congestion_control CC>
bool connection<CC>::acceptable(const segment& seg) const noexcept
{
    const std::uint32_t len = seg.length();
    const std::uint32_t wnd = rcv_.wnd;
    if (len == 0) {
        if (wnd == 0) return seg.seq() == rcv_.nxt;
        return in_window(seg.seq(), rcv_.nxt, wnd);
    }
    // A bare FIN at RCV.NXT into a closed window takes no buffer space: taken, as Linux
    // takes it (tcp_data_queue), so the end of the stream does not wait on the reader.
    if (wnd == 0) return seg.payload.empty() && !seg.has(tcp_flags::syn) && seg.seq() == rcv_.nxt;
    return in_window(seg.seq(), rcv_.nxt, wnd) || in_window(seg.seq() + (len - 1), rcv_.nxt, wnd);
}

// RFC 9293 §3.10.7.4 fifth with RFC 5961 §5.2: the ACK is acceptable if
// SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT (SND.NXT's highest value: after a
// timeout moved the send point back, what was sent before may still be acknowledged).
template <congestion_control CC>
bool connection<CC>::ack_acceptable(const segment& seg) const noexcept
{
    const std::uint32_t max_wnd = std::max<std::uint32_t>(snd_.max_wnd, 1);
    return seq_le(seg.ack(), snd_.max) && seq_ge(seg.ack(), snd_.una - max_wnd);
}

// RFC 5961 §7: the ACKs that forged or unacceptable segments draw (challenge ACKs, ACKs
// to out-of-window segments) are rate-limited, so a flood of them cannot turn us into
// a reflector, and two sides that each find the other's ACKs unacceptable do not
// answer each other forever. Half the minimum RTO still answers every retransmission,
// zero-window probe and repeated FIN. True when the ACK goes out.
template <congestion_control CC>
bool connection<CC>::throttled_ack(context& ctx) noexcept
{
    if (ctx.now - last_unacceptable_ack_ < std::max(ctx.cfg.min_rto / 2, duration{1000})) {
        ++stats_.acks_throttled;
        return false;
    }
    ack_now_ = true;
    last_unacceptable_ack_ = ctx.now;
    return true;
}

// RFC 9293 §3.10.7.4 second, with RFC 5961 §3.2's protection against blind resets.
template <congestion_control CC>
bool connection<CC>::check_reset(const segment& seg, context& ctx) noexcept
{
    if (seg.seq() != rcv_.nxt && !reset_at_peer_fin(seg)) {
        // RFC 5961 §3.2: in the window but not exactly RCV.NXT — answer with a
        // challenge ACK; the true peer will reset again with the right number.
        discard(discard_reason::reset_not_exact);
        if (throttled_ack(ctx)) ++stats_.challenge_acks;
        return false;
    }
    switch (state_) {
    case state::syn_received:
        // A passive open returns to LISTEN: for tcpx the embryonic connection just goes
        // (the listener is untouched). An active one was refused.
        enter_closed(passive_ ? errc::connection_reset : errc::connection_refused);
        return true;
    case state::established:
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::close_wait:
        // "any outstanding RECEIVEs and SEND should receive 'reset' responses"
        enter_closed(errc::connection_reset);
        return true;
    case state::closing:
    case state::last_ack:
    case state::time_wait:
        enter_closed({});
        return true;
    case state::closed:
    case state::listen:
    case state::syn_sent:
        return false;
    }
    return false;
}

// RFC 9293 §3.10.7.4 fifth: the ACK field.
template <congestion_control CC>
input_result connection<CC>::check_ack(const segment& seg, context& ctx) noexcept
{
    if (state_ == state::syn_received) {
        // "If SND.UNA < SEG.ACK =< SND.NXT": the RFC's SND.NXT is the highest sent,
        // snd_.max here — snd_.nxt is back at ISS while a repeated SYN has a SYN,ACK
        // waiting to go again, and the ACK of the first one must still be taken.
        if (seq_gt(seg.ack(), snd_.una) && seq_le(seg.ack(), snd_.max)) {
            // "enter ESTABLISHED state and continue processing" with the window from
            // this segment (the variables SND.WND, SND.WL1, SND.WL2).
            snd_.wnd = seg.window(snd_.scale);
            snd_.wl1 = seg.seq();
            snd_.wl2 = seg.ack();
            enter_established(ctx);
        } else {
            // "<SEQ=SEG.ACK><CTL=RST>"
            return input_result::send_reset;
        }
    }
    if (!ack_acceptable(seg)) {
        // RFC 5961 §5.2: "discarded and an ACK sent back" — a challenge ACK, throttled.
        discard(discard_reason::bad_ack);
        if (throttled_ack(ctx)) ++stats_.challenge_acks;
        return input_result::done;
    }
    const bool acks_new_data = seq_gt(seg.ack(), snd_.una);
    const bool sack_recovery = sack_recovery_on();
    const seq32 una_before = snd_.una;
    cwnd_at_ack_ = cc_.cwnd();
    sack_arrival sacks;
    if (sack_recovery) sacks = take_sack_blocks(seg, ctx);
    else if (sack_ok_) take_dsack_between_flights(seg, ctx);
    if (acks_new_data) {
        process_new_ack(seg, ctx);
    } else if (seg.ack() == snd_.una) {
        process_duplicate_ack(seg, ctx);
    }
    if (sack_recovery && is_synchronized(state_))
        after_sack_ack(static_cast<std::uint32_t>(snd_.una - una_before), sacks, ctx);
    // RFC 9293 §3.10.7.4: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be
    // updated" when the segment is newer than the last update (WL1, WL2). A segment that
    // acknowledges new data is newer than any before it whatever its SEG.SEQ (the peer's
    // ACK never goes back): a retransmission from a peer that went back to its SND.UNA
    // carries a lower SEG.SEQ than its earlier bare ACKs, and skipping its window would
    // leave ours measured from the wrong SND.UNA, past the right edge the peer offered
    // (Linux's tcp_may_update_window makes the same exception).
    if (seq_le(seg.ack(), snd_.max) && seq_ge(seg.ack(), snd_.una) &&
        (acks_new_data || seq_lt(snd_.wl1, seg.seq()) ||
         (snd_.wl1 == seg.seq() && seq_le(snd_.wl2, seg.ack())))) {
        update_send_window(seg);
    }

    if (recovery_ != nullptr && snd_.una == snd_.max) end_flight(ctx);

    if (!fin_acked()) return input_result::done;
    // Our FIN is acknowledged: the closing states move on.
    switch (state_) {
    case state::fin_wait_1:
        state_ = state::fin_wait_2;
        if (released_) arm(timer::time_wait, ctx.now + ctx.cfg.msl * 2);  // orphan guard
        break;
    case state::closing:
        enter_time_wait(ctx);
        break;
    case state::last_ack:
        enter_closed({});
        break;
    case state::closed:
    case state::listen:
    case state::syn_sent:
    case state::syn_received:
    case state::established:
    case state::fin_wait_2:
    case state::close_wait:
    case state::time_wait:
        break;
    }
    return input_result::done;
}

// An ACK of new data: SND.UNA < SEG.ACK =< SND.NXT.
template <congestion_control CC>
void connection<CC>::process_new_ack(const segment& seg, context& ctx) noexcept
{
    const std::uint32_t flight_before = flight_size();
    const bool acks_syn = !syn_acked_;
    syn_acked_ = true;
    std::uint32_t acked = static_cast<std::uint32_t>(seg.ack() - snd_.una);
    stats_.bytes_acked += acks_syn ? acked - 1 : acked;  // data and FIN; the SYN does not count
    // SYN and FIN take a sequence number each but no byte of the send buffer.
    std::uint32_t data_acked = acked;
    if (acks_syn) --data_acked;
    if (fin_queued_ && seq_gt(seg.ack(), fin_seq_)) --data_acked;
    sndbuf_.consume(ctx.pool, std::min<std::size_t>(data_acked, sndbuf_.size()));
    snd_.una = seg.ack();
    if (seq_lt(snd_.nxt, snd_.una)) snd_.nxt = snd_.una;  // after a go-back, the ACK went past us
    duplicate_acks_ = 0;
    // RFC 1122 §4.2.3.9: a soft error explains a later timeout only while nothing got
    // through; new data acknowledged proves the path works again (Linux forgets it too).
    soft_error_ = errc{};

    // RFC 6298 §3 with Karn's algorithm: one timed segment at a time, never a retransmitted one.
    duration sample{0};
    if (rtt_start_ != instant{} && seq_ge(snd_.una, rtt_seq_)) {
        sample = ctx.now - rtt_start_;
        rtt_.on_sample(sample);
        rtt_start_ = instant{};
        // Delivery rate, one sample per round trip (as Linux's tcp_rate.c does per ACK):
        // the bytes acknowledged between sending the timed segment and this ACK, over
        // that interval. A zero-delay link gives no interval and keeps the last rate.
        if (sample > duration::zero())
            stats_.delivery_rate = (stats_.bytes_acked - rtt_delivered_) * 1'000'000 /
                                   static_cast<std::uint64_t>(sample.count());
    } else if (const duration ts = timestamp_rtt(seg, ctx); ts != duration::zero()) {
        // RFC 7323 §4: an RTT sample from every other ACK of new data, retransmissions
        // included (the echo names the transmission it answers).
        sample = ts;
        rtt_.on_sample(ts);
        ++stats_.timestamp_rtt_samples;
    }
    if (sample > duration::zero()) min_rtt_ = std::min(min_rtt_, sample);  // RACK.min_RTT
    // RFC 6298 §5 (note after 5.7) with Karn (§3): a backed-off RTO stays until a valid
    // sample collapses it (on_sample() does); the ACK of a retransmission gives none.
    oldest_unacked_sent_ = ctx.now;

    // RFC 6675 §5 (B): an ACK inside a SACK recovery is the connection's (the
    // scoreboard and PRR); (A) the one that covers RecoveryPoint ends it, and the
    // policy sees that one as the end of its recovery.
    if (sack_recovering_) note_head_echo(seg);  // RFC 3522 §2 (recovery_needless_by_timestamp)
    const bool inside_sack_recovery = sack_recovering_ && seq_lt(seg.ack(), recovery_point_);
    if (sack_recovering_ && !inside_sack_recovery) {
        sack_recovering_ = false;
        reordering_.on_recovery_end();
        if (recovery_needless_by_timestamp(seg)) {
            undo_reduction(ctx);
            ++stats_.timestamp_undos;
        }
    }
    // The handshake's ACK of our SYN is no congestion signal (RFC 5681 §3.1 counts data).
    if (!acks_syn && is_synchronized(state_) && !inside_sack_recovery) {
        const cc_values before = cc_now();
        const cc::action a = cc_.on_ack(cc::ack_event{seg.ack(), acked, flight_before, sample, ctx.now});
        trace_cc(before, !before.in_recovery   ? cc_cause::ack
                         : cc_.in_recovery()   ? cc_cause::partial_ack
                                               : cc_cause::recovery_exit, ctx.now);
        if (a == cc::action::retransmit && !sack_recovery_on()) fast_retransmit_ = true;
    }
    // RFC 6298 §5.2 / §5.3: stop the timer when everything is acknowledged, else restart it.
    if (snd_.una == snd_.max) disarm(timer::retransmit);
    else arm(timer::retransmit, ctx.now + rtt_.rto());
}

// RFC 5681 §2: the five conditions of a duplicate ACK (SEG.ACK == SND.UNA was checked).
template <congestion_control CC>
void connection<CC>::process_duplicate_ack(const segment& seg, context& ctx) noexcept
{
    // While the peer's window is zero the only thing outstanding is a probe (RFC 9293
    // §3.8.6.1): an ACK that keeps the window shut answers it and tells of no loss.
    const bool outstanding = snd_.max != snd_.una && snd_.wnd != 0;
    const bool no_data = seg.payload.empty() && !seg.has(tcp_flags::syn) && !seg.has(tcp_flags::fin);
    const bool same_window = seg.window(snd_.scale) == snd_.wnd;
    if (!(outstanding && no_data && same_window)) {
        // Only an ACK that moves SND.UNA ends a run of duplicates (RFC 5681 §3.2: "3
        // duplicate ACKs ... without any intervening ACKs which move SND.UNA"); one that
        // carries data or a new window does not count, but does not break the run.
        if (!outstanding) duplicate_acks_ = 0;
        return;
    }
    ++stats_.duplicate_acks;
    if (duplicate_acks_ < 255) ++duplicate_acks_;
    // With SACK the connection decides when recovery begins (after_sack_ack); the
    // policy hears only the first two duplicates (which it keeps for eq. 4's FlightSize).
    if (sack_recovery_on() && (sack_recovering_ || duplicate_acks_ >= 3)) return;
    const cc_values before = cc_now();
    const cc::action a = cc_.on_duplicate_ack(
        cc::duplicate_ack_event{seg.ack(), duplicate_acks_, flight_size(), snd_.max, ctx.now});
    trace_cc(before, a == cc::action::retransmit ? cc_cause::fast_retransmit : cc_cause::duplicate_ack, ctx.now);
    if (a == cc::action::retransmit) {
        fast_retransmit_ = true;
        ++stats_.fast_retransmits;
    }
}

template <congestion_control CC>
void connection<CC>::update_send_window(const segment& seg) noexcept
{
    snd_.wnd = seg.window(snd_.scale);
    snd_.wl1 = seg.seq();
    snd_.wl2 = seg.ack();
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    if (snd_.wnd != 0) {
        // The window opened: persisting is over (RFC 9293 §3.8.6.1).
        if (armed(timer::persist)) {
            disarm(timer::persist);
            persist_interval_ = duration{0};
            orphan_probes_sent_ = 0;
            // A probe byte this ACK does not cover was refused: it leaves again now, at
            // SND.UNA, with the data behind it.
            snd_.nxt = snd_.una;
        }
    }
}

// RFC 9293 §3.10.7.4 seventh: segment text, trimmed to the window and placed in order.
template <congestion_control CC>
void connection<CC>::process_text(const segment& seg, context& ctx) noexcept
{
    switch (state_) {
    case state::established:
    case state::fin_wait_1:
    case state::fin_wait_2:
        break;
    case state::close_wait:
    case state::closing:
    case state::last_ack:
    case state::time_wait:  // (not reached: on_segment_synchronized answers TIME-WAIT itself)
        // "This should not occur since a FIN has been received from the remote side.
        // Ignore the segment text."
        if (!seg.payload.empty()) discard(discard_reason::text_after_fin);
        return;
    case state::closed:
    case state::listen:
    case state::syn_sent:
    case state::syn_received:
        return;
    }
    if (released_) {
        // Nobody will read this: RFC 1122 §4.2.2.13 / RFC 2525 §2.17, reset instead.
        ack_now_ = false;
        enter_closed(errc::connection_aborted);
        return;
    }
    // Where the data starts, counted from RCV.NXT; bytes before RCV.NXT are old (§3.10.7.4
    // "trimmed"), and a SYN in front of data occupies one sequence number.
    seq32 first = seg.seq() + (seg.has(tcp_flags::syn) ? 1u : 0u);
    std::span<const std::uint8_t> data = seg.payload;
    if (seq_lt(first, rcv_.nxt)) {
        const auto old = static_cast<std::size_t>(rcv_.nxt - first);
        // RFC 2883 §4: the old part is a duplicate, reported in the ACK this text draws.
        note_duplicate(first, first + static_cast<std::uint32_t>(std::min(old, data.size())));
        if (old >= data.size()) {
            schedule_ack(true, ctx);  // a pure duplicate: re-acknowledge at once (RFC 5681 §4.2)
            return;
        }
        data = data.subspan(old);
        first = rcv_.nxt;
    }
    const auto offset = static_cast<std::size_t>(first - rcv_.nxt);
    // Trim what lies beyond the window we advertised.
    const std::size_t room = rcv_.wnd > offset ? rcv_.wnd - offset : 0;
    if (data.size() > room) {
        discard(discard_reason::text_beyond_window);
        data = data.first(room);
    }
    if (data.empty()) {
        schedule_ack(true, ctx);
        return;
    }
    const bool in_order = offset == 0;
    const bool had_gap = rcvbuf_.has_out_of_order();
    if (had_gap) note_held_duplicate(offset, data.size());
    // Text stage_text() placed is committed, not copied again: unless trimmed at the
    // front (it was staged at RCV.NXT, so it is not), it starts at data.data().
    const std::size_t placed = offset == 0 && data.data() == seg.payload.data() ? seg.placed : 0;
    assert(placed == 0 || data.size() == placed);  // stage_text() took only text that fits whole
    const auto r = rcvbuf_.write(ctx.pool, offset, data, ctx.cfg.receive_buffer, placed);
    if (!r.stored) note_refused(r.why, in_order, ctx);
    if (!in_order && r.stored) note_sack_arrival(first);
    if (r.delivered != 0) {
        rcv_.nxt += static_cast<std::uint32_t>(r.delivered);
        stats_.bytes_received += r.delivered;
    }
    // The hole at RCV.NXT is new, or moved: its age starts again (the stack prunes the oldest).
    if (rcvbuf_.has_out_of_order() && (!had_gap || r.delivered != 0)) out_of_order_since_ = ctx.now;
    // A FIN held out of order is honoured when the data before it is all in. Data that
    // went past its place proves it false (a forged or stale FIN): forget it, or it would
    // end the stream when the sequence space wraps back to it.
    if (remote_fin_pending_ && seq_gt(rcv_.nxt, remote_fin_seq_)) remote_fin_pending_ = false;
    if (remote_fin_pending_ && rcv_.nxt == remote_fin_seq_) {
        remote_fin_pending_ = false;
        process_fin(ctx);
        return;
    }
    // RFC 5681 §4.2: out-of-order data, or data that fills a gap, is acknowledged at
    // once; in-order data may wait (RFC 1122 §4.2.3.2): every second full segment.
    if (!in_order || had_gap) {
        schedule_ack(true, ctx);
        return;
    }
    // RFC 1122 §4.2.3.2 (SHOULD): an ACK for at least every second full-sized segment.
    // Full-sized is the size the peer is seen to send, which a narrower path (an ICMP
    // fragmentation needed at the sender) makes smaller than any MSS either end
    // announced; so, as Linux does, an ACK goes at once when more than one full
    // segment's worth has arrived since the last one. A coalesced segment (receive
    // offload) is two or more by itself.
    note_segment_size(data.size(), seg, ctx);
    schedule_ack(static_cast<std::uint32_t>(rcv_.nxt - last_ack_sent_) > rcv_mss_, ctx);
}

// The peer's full-sized segment, estimated from what arrives (Linux's rcv_mss): a
// segment larger than the estimate raises it, up to the MSS we announced; two
// consecutive segments of the same smaller size lower it, if they are no tinier than
// a full segment can be (536 bytes, RFC 9293 §3.7.1's default; or 88 without PSH,
// which a sender sets on the last segment of a write, not on full ones). Sizes count
// the options beyond the timestamps, whose SACK blocks come and go with losses.
template <congestion_control CC>
void connection<CC>::note_segment_size(std::size_t text, const segment& seg, const context& ctx) noexcept
{
    if (text >= rcv_mss_) {
        rcv_mss_ = static_cast<std::uint16_t>(std::min<std::size_t>(text, announced_mss(ctx.cfg)));
        return;
    }
    const auto& o = seg.header.options;
    const std::size_t timestamps = o.timestamp ? wire::tcp_option::timestamp_aligned : 0;
    const std::size_t size = text + o.wire_size() - std::min(o.wire_size(), timestamps);
    if (size < wire::default_mss && (size < 88 || wire::has(seg.header.flags, tcp_flags::psh))) return;
    if (size == last_seg_size_) rcv_mss_ = static_cast<std::uint16_t>(size);
    last_seg_size_ = static_cast<std::uint16_t>(std::min<std::size_t>(size, 0xffff));
}

// Text the receive buffer refused, counted by why; a refusal for memory tells the stack.
template <congestion_control CC>
void connection<CC>::note_refused(recv_buffer::refusal why, bool in_order, context& ctx) noexcept
{
    if (in_order) ++stats_.in_order_dropped;
    else if (why == recv_buffer::refusal::share) ++stats_.out_of_order_over_share;
    else ++stats_.out_of_order_dropped;
    if (why != recv_buffer::refusal::ranges) ctx.pool_pressure = true;
}

template <congestion_control CC>
std::size_t connection<CC>::prune_out_of_order(context& ctx) noexcept
{
    const std::size_t bytes = rcvbuf_.drop_out_of_order(ctx.pool);
    if (bytes == 0) return 0;
    ++stats_.out_of_order_pruned;
    // Nothing beyond RCV.NXT is held now: no block to report, no FIN to honour later
    // (it comes again after the data before it).
    sack_recent_count_ = 0;
    remote_fin_pending_ = false;
    return bytes;
}

// RFC 9293 §3.10.7.4 eighth: the FIN bit, once everything before it has arrived.
template <congestion_control CC>
void connection<CC>::process_fin(context& ctx) noexcept
{
    if (!fin_received_) {
        fin_received_ = true;
        rcv_.nxt += 1;  // "advance RCV.NXT over the FIN"
    }
    schedule_ack(true, ctx);
    switch (state_) {
    case state::syn_received:
    case state::established:
        state_ = state::close_wait;
        break;
    case state::fin_wait_1:
        // Our FIN acknowledged too (check_ack ran first, so state would be FIN-WAIT-2):
        // here it is not, so both sides are closing at once.
        state_ = state::closing;
        break;
    case state::fin_wait_2:
        enter_time_wait(ctx);
        break;
    case state::time_wait:
        arm(timer::time_wait, ctx.now + 2 * ctx.cfg.msl);
        break;
    case state::close_wait:
    case state::closing:
    case state::last_ack:
    case state::closed:
    case state::listen:
    case state::syn_sent:
        break;
    }
}

// RFC 9293 §3.7.1 (MSS), RFC 7323 §2.2 (window scale), from the peer's SYN.
template <congestion_control CC>
void connection<CC>::learn_options(const segment& syn, context& ctx) noexcept
{
    const auto& o = syn.header.options;
    // RFC 9293 §3.7.1 (MUST-15): without the option, assume 536 (IPv4).
    peer_mss_ = o.mss ? std::max<std::uint16_t>(*o.mss, 64) : wire::default_mss;
    // RFC 1191 §6.4: a path MTU learned from ICMP before the SYN-ACK still caps it.
    snd_.mss = std::min({peer_mss_, announced_mss(ctx.cfg), path_mss_});
    // The first guess at the peer's full segment (note_segment_size), as Linux's
    // tcp_initialize_rcv_mss: no more than either MSS or 536, no less than 88.
    rcv_mss_ = std::max<std::uint16_t>(std::min<std::uint16_t>({snd_.mss, wire::default_mss}), 88);
    // RFC 2018 §2: SACK blocks may be sent only if both SYNs carried SACK-permitted
    // (ours does whenever cfg.sack is on; a SYN,ACK answers with it only then).
    sack_ok_ = ctx.cfg.sack && o.sack_permitted;
    dsack_enabled_ = ctx.cfg.dsack;
    // RFC 7323 §3.2: timestamps are on only if both SYNs carried TSopt (ours does whenever
    // cfg.timestamps is on; a SYN,ACK answers with it only then). §4.3: the SYN's TSval
    // is the first TS.Recent.
    ts_ok_ = ctx.cfg.timestamps && o.timestamp.has_value();
    if (ts_ok_) {
        ts_recent_ = o.timestamp->tsval;
        ts_recent_stamp_ = ctx.now;
    }
    // RFC 7323 §2.2: scaling is on only if both SYNs carried the option.
    peer_offered_scale_ = o.window_scale.has_value();
    wscale_ok_ = peer_offered_scale_ && ctx.cfg.window_scaling;
    if (wscale_ok_) {
        snd_.scale = *o.window_scale;  // the parser clamped it to 14 (§2.3)
    } else {
        snd_.scale = 0;
        rcv_.scale = 0;
    }
}

template <congestion_control CC>
void connection<CC>::enter_established(context& ctx) noexcept
{
    state_ = state::established;
    std::uint32_t iw = 0;
    // RFC 5681's SMSS is the largest segment's data: the MSS less the options every
    // segment carries (timestamps), as Linux's mss_cache.
    const std::uint32_t smss = payload_mss();
    // RFC 6928 §2 for ten segments: min(10*MSS, max(2*MSS, 14600)); another count as asked.
    if (ctx.cfg.initial_window_segments == 10) iw = cc::rfc6928_initial_window(smss);
    else if (ctx.cfg.initial_window_segments != 0) iw = ctx.cfg.initial_window_segments * smss;
    // RFC 5681 §3.1: "if the SYN or SYN/ACK is lost", the IW is one segment. Lost means
    // our retransmission timer fired: a SYN-ACK sent again because the peer's SYN came
    // twice (a copy the network made, or the peer's own timer) shows no loss of ours.
    const bool handshake_timed_out = stats_.timeouts != 0;
    if (handshake_timed_out) iw = smss;
    cc_ = CC{cc::init{smss, iw, iss_, ctx.cfg.hystart}};
    if (trace_ != nullptr) trace_->record(cc_record{ctx.now, cc_.cwnd(), cc_.ssthresh(), cc_cause::established});
    if (handshake_timed_out) rtt_.restart_after_syn_timeout();  // RFC 6298 §5.7: "the timer expired"
    rtt_.reset_backoff();
    disarm(timer::retransmit);
    last_received_ = ctx.now;
    last_sent_ = ctx.now;
    if (keepalive_) restart_keepalive(ctx);
    // RFC 9293 §3.10.4: a CLOSE in SYN-RECEIVED queued the FIN "for processing after
    // entering ESTABLISHED"; with it queued, the state is FIN-WAIT-1 at once.
    if (fin_queued_) state_ = state::fin_wait_1;
}

template <congestion_control CC>
void connection<CC>::enter_time_wait(context& ctx) noexcept
{
    state_ = state::time_wait;
    // RFC 9293 §3.10.7.4: "Start the time-wait timer, turn off the other timers." A
    // keep-alive probe owed goes too: TIME-WAIT only answers the peer.
    for (auto& t : timers_) t = never;
    keepalive_probe_ = false;
    arm(timer::time_wait, ctx.now + 2 * ctx.cfg.msl);
}

// RFC 1122 §4.2.3.9 with RFC 5927's defences. The stack found this connection by the
// quoted 4-tuple; the quoted sequence number must also be one we sent and is not yet
// acknowledged (RFC 5927 §4.1), so a blind attacker must guess it as for a RST.
template <congestion_control CC>
bool connection<CC>::on_icmp_error(const icmp_error& e, seq32 quoted_seq) noexcept
{
    if (state_ == state::closed || state_ == state::listen || state_ == state::time_wait) return false;
    if (seq_lt(quoted_seq, snd_.una) || !seq_lt(quoted_seq, snd_.max)) return false;
    switch (e.severity) {
    case icmp_error::kind::ignored: return false;  // the stack drops these before asking
    case icmp_error::kind::hard:
        // RFC 5927 §4.2: a hard error aborts a connection only while it is being
        // opened (Linux does the same); later it is treated as soft, since aborting an
        // established connection on an unauthenticated message is the attack.
        if (state_ == state::syn_sent) {
            enter_closed(e.error);
            return true;
        }
        soft_error_ = e.error;
        return true;
    case icmp_error::kind::soft:
        soft_error_ = e.error;
        return true;
    case icmp_error::kind::fragmentation_needed: {
        // RFC 1191 §6.4: the router's MTU lowers the size of what we send; never below
        // 576 bytes of packet (RFC 1122 §3.3.3's minimum, as Linux's min_pmtu does), so a
        // forged message cannot shrink segments to nothing. A router that reports less
        // (RFC 1191 §3: the MTU may be lower) would drop 576-byte datagrams with DF set
        // for ever — a black hole — so from then on this connection's datagrams go
        // without DF, for such a router to fragment (Linux locks the path MTU and clears
        // DF the same way). A report of 0 is a router older than RFC 1191: no less than
        // 576 is known, and DF stays.
        constexpr std::uint16_t headers = 40;
        if (e.next_hop_mtu != 0 && e.next_hop_mtu < 576) may_fragment_ = true;
        const std::uint16_t mtu = e.next_hop_mtu >= 576 ? e.next_hop_mtu : 576;
        path_mss_ = std::min(path_mss_, static_cast<std::uint16_t>(mtu - headers));
        if (path_mss_ >= snd_.mss) return true;
        snd_.mss = path_mss_;
        // RFC 1191 §6.5: the router dropped what it could not forward; resend it now, at
        // the new size and for this connection only, rather than a retransmission
        // timeout later, once per step of a multi-step discovery (Linux does the same,
        // tcp_simple_retransmit). Going back to SND.UNA resends the flight within the
        // windows as they are; the congestion state stays, since the drop says the path
        // is narrower, not congested. Each resend is a retransmission to Karn's rule
        // (record_sent), so no RTT sample comes from it. A message that does
        // not lower the MSS resends nothing, so forged ones cannot make us repeat the
        // flight more than the few steps down to 536. (Into a zero window nothing goes:
        // the usable window decides, as for any send.)
        if (is_synchronized(state_) && snd_.una != snd_.max) {
            snd_.nxt = snd_.una;
            fast_retransmit_ = false;
        }
        return true;
    }
    }
    return false;
}

template <congestion_control CC>
void connection<CC>::enter_closed(std::error_code why) noexcept
{
    state_ = state::closed;
    if (why && !error_) error_ = why;
    for (auto& t : timers_) t = never;
    ack_now_ = false;
    fast_retransmit_ = false;
    probe_ = false;
    keepalive_probe_ = false;
}

template <congestion_control CC>
void connection<CC>::schedule_ack(bool immediately, context& ctx) noexcept
{
    if (immediately) {
        ack_now_ = true;
        return;
    }
    // RFC 1122 §4.2.3.2: delay, but never beyond the configured bound (< 0.5 s).
    if (!armed(timer::delayed_ack)) arm(timer::delayed_ack, ctx.now + ctx.cfg.delayed_ack);
}

}  // namespace tcpx::tcp
