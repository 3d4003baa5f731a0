// What a connection sends, and when (RFC 9293 §3.8, RFC 1122 §4.2.3), for
// tcpx/tcp/connection.hpp. Not to be included directly.
#pragma once

#include <algorithm>

namespace tcpx::tcp {

template <congestion_control CC>
bool connection<CC>::next_segment(context& ctx, outgoing& out) noexcept
{
    switch (state_) {
    case state::closed:
    case state::listen:
        return false;
    case state::syn_sent:
    case state::syn_received:
        return next_handshake_segment(ctx, out);
    case state::established:
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::close_wait:
    case state::closing:
    case state::last_ack:
    case state::time_wait:
        return next_data_segment(ctx, out);
    }
    return false;
}

template <congestion_control CC>
std::uint16_t connection<CC>::announced_mss(const config& cfg) const noexcept
{
    // The stack resolves cfg.mss from the device MTU before any connection exists.
    return cfg.mss != 0 ? cfg.mss : wire::default_mss;
}

// RFC 9293 §3.5: the SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED), first sent or again.
template <congestion_control CC>
bool connection<CC>::next_handshake_segment(context& ctx, outgoing& out) noexcept
{
    if (snd_.nxt != iss_) {
        if (state_ == state::syn_received && ack_now_) {
            // An unacceptable segment in SYN-RECEIVED is answered with an ACK (§3.10.7.4 first).
            fill_common(out, ctx);
            out.header.seq = snd_.nxt;
            record_sent(out, 0, ctx);
            return true;
        }
        ack_now_ = false;
        return false;
    }
    out = outgoing{};
    out.header.source_port = id_.local_port;
    out.header.destination_port = id_.remote_port;
    out.header.seq = iss_;
    out.header.flags = tcp_flags::syn;
    if (state_ == state::syn_received) {
        out.header.flags |= tcp_flags::ack;
        out.header.ack = rcv_.nxt;
    }
    // RFC 7323 §2.2: the window of a SYN is never scaled.
    out.header.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(rcv_.wnd, 0xffff));
    // RFC 9293 §3.7.1 (MUST-14 ... SHOULD send): announce our MSS in every SYN.
    out.header.options.mss = announced_mss(ctx.cfg);
    // RFC 7323 §2.2: offer scaling in a SYN; in a SYN,ACK only if the peer offered it.
    if (ctx.cfg.window_scaling && (state_ == state::syn_sent || peer_offered_scale_))
        out.header.options.window_scale = rcv_.scale;
    // RFC 2018 §2: likewise SACK-permitted.
    out.header.options.sack_permitted = ctx.cfg.sack && (state_ == state::syn_sent || sack_ok_);
    // RFC 7323 §3.2: TSopt in a SYN (TSecr 0: nothing to echo yet); in a SYN,ACK only if
    // the SYN carried it, echoing its TSval.
    if (state_ == state::syn_sent ? ctx.cfg.timestamps : ts_ok_)
        out.header.options.timestamp = wire::timestamps{ts_clock(ctx.now), state_ == state::syn_sent ? 0u : ts_recent_};
    record_sent(out, 1, ctx);
    return true;
}

template <congestion_control CC>
void connection<CC>::fill_common(outgoing& out, context& ctx) noexcept
{
    out = outgoing{};
    out.header.source_port = id_.local_port;
    out.header.destination_port = id_.remote_port;
    out.header.ack = rcv_.nxt;
    out.header.flags = tcp_flags::ack;
    out.header.window = advertise_window(ctx);
    // RFC 7323 §3.2: "the TSopt MUST be sent in every non-<RST> segment", TSecr = TS.Recent (§4.3).
    if (ts_ok_) out.header.options.timestamp = wire::timestamps{ts_clock(ctx.now), ts_recent_};
    if (const std::size_t n = sack_blocks_to_send(); n != 0) {
        fill_sack_blocks(out.header.options, n);
        // RFC 2883 §4: a D-SACK block is reported once ("in only one SACK option").
        if (dsack_pending_) ++stats_.dsacks_sent;
        dsack_pending_ = false;
    }
}

// RFC 2018 §3-§4, sack_blocks_to_send() when something is held or due: one block per
// held out-of-order range, and one for a FIN held beyond them alone; none once our side
// has taken the peer's FIN (nothing can follow it, and anything held beyond it is not
// data). At most four fit beside no other option (§3), and no more than half the MSS
// goes to them, so a tiny configured MSS still leaves room for data.
template <congestion_control CC>
std::size_t connection<CC>::sack_blocks_held() const noexcept
{
    std::size_t wanted = rcvbuf_.out_of_order_ranges().size() + (dsack_pending_ ? 1 : 0);
    if (remote_fin_pending_ && !fin_adjoins_held_range()) ++wanted;
    // RFC 2018 §3 / RFC 7323: three blocks fit beside timestamps.
    const std::size_t room = wire::tcp_options::max_sack_blocks - (ts_ok_ ? 1 : 0);
    return std::min({wanted, wire::tcp_option::sack_blocks_within(snd_.mss / 2), room});
}

// The sequence number of a receive-buffer position: positions count from the first
// unread byte, and RCV.NXT is position readable().
template <congestion_control CC>
seq32 connection<CC>::held_seq(std::size_t position) const noexcept
{
    return rcv_.nxt + static_cast<std::uint32_t>(position - rcvbuf_.readable());
}

// A FIN held out of order right after the last held range: its block is that range's,
// one longer.
template <congestion_control CC>
bool connection<CC>::fin_adjoins_held_range() const noexcept
{
    const auto ranges = rcvbuf_.out_of_order_ranges();
    return remote_fin_pending_ && !ranges.empty() && held_seq(ranges.back().end) == remote_fin_seq_;
}

// RFC 2018 §4: every ACK sent while out-of-order data is held reports it. The first
// block holds the latest arrival (the segment that triggered this ACK, unless that one
// advanced RCV.NXT), the next ones the arrivals before it, newest first — so a block
// reported once is repeated in the next ACKs and survives a lost ACK — then the other
// held ranges, highest first, `count` in all. Every block lies above RCV.NXT: the ranges
// are what recv_buffer holds beyond the hole. A FIN held out of order is part of the
// block that ends at it, or a block of its own: a sender whose last segment carried
// data and FIN (Linux) counts it SACKed only if the block covers the FIN too.
template <congestion_control CC>
void connection<CC>::fill_sack_blocks(wire::tcp_options& options, std::size_t count) const noexcept
{
    // Candidates: the held ranges in order, then a FIN alone beyond them; the last
    // range reaches one further when the FIN adjoins it.
    const auto ranges = rcvbuf_.out_of_order_ranges();
    const bool fin_adjoins = fin_adjoins_held_range();
    const std::size_t candidate_count = ranges.size() + (remote_fin_pending_ && !fin_adjoins ? 1 : 0);
    const auto candidate = [&](std::size_t i) -> wire::sack_block {
        if (i == ranges.size()) return {remote_fin_seq_, remote_fin_seq_ + 1};
        const recv_buffer::range r = ranges[i];
        const seq32 right = held_seq(r.end);
        return {held_seq(r.begin), fin_adjoins && i + 1 == ranges.size() ? right + 1 : right};
    };
    std::array<std::size_t, wire::tcp_options::max_sack_blocks> used{};
    std::size_t used_count = 0;
    std::size_t n = 0;
    // RFC 2883 §4: "the first block ... MUST specify the contiguous sequence space that
    // triggered this ACK" when it was a duplicate; the held blocks follow as ever, so a
    // duplicate inside one is followed by that block (§4 (2)), as the arrival leads them.
    if (dsack_pending_) options.sack[n++] = dsack_;
    const auto add = [&](std::size_t i) {
        if (n == count || std::find(used.begin(), used.begin() + used_count, i) != used.begin() + used_count) return;
        used[used_count++] = i;
        options.sack[n++] = candidate(i);
    };
    for (std::size_t k = 0; k < sack_recent_count_; ++k) {
        // The range holding that arrival; a FIN alone is its own candidate.
        const seq32 s = sack_recent_[k];
        if (seq_lt(s, rcv_.nxt)) continue;
        const std::size_t i = ranges.find(rcvbuf_.readable() + static_cast<std::size_t>(s - rcv_.nxt));
        if (i != ranges.size()) add(i);
        else if (remote_fin_pending_ && s == remote_fin_seq_) add(fin_adjoins ? ranges.size() - 1 : ranges.size());
    }
    // The rest, highest first: the newest data is likeliest to be what the sender
    // has not heard about.
    for (std::size_t i = candidate_count; i-- > 0 && n < count;) add(i);
    options.sack_count = static_cast<std::uint8_t>(n);
}

// RFC 2018 §4: remember where the latest out-of-order arrival starts (newest first,
// no repeats), so that its block leads the next SACK option.
template <congestion_control CC>
void connection<CC>::note_sack_arrival(seq32 first) noexcept
{
    if (!sack_ok_) return;
    // Keep the earlier arrivals not yet delivered (below RCV.NXT) and not this one, in
    // order, one place further down; the oldest falls off a full list.
    std::size_t kept = 0;
    for (std::size_t k = 0; k < sack_recent_count_; ++k)
        if (!seq_lt(sack_recent_[k], rcv_.nxt) && sack_recent_[k] != first) sack_recent_[kept++] = sack_recent_[k];
    kept = std::min(kept, sack_recent_.size() - 1);
    for (std::size_t k = kept; k > 0; --k) sack_recent_[k] = sack_recent_[k - 1];
    sack_recent_count_ = static_cast<std::uint8_t>(kept + 1);
    sack_recent_[0] = first;
}

// RFC 2883 §4: a segment brought [left, right) again — below RCV.NXT, or inside a held
// range. The latest duplicate is the one to report: it triggered the ACK that goes next.
template <congestion_control CC>
void connection<CC>::note_duplicate(seq32 left, seq32 right) noexcept
{
    if (!sack_ok_ || !dsack_enabled_ || !seq_lt(left, right)) return;
    dsack_ = {left, right};
    dsack_pending_ = true;
}

// RFC 2883 §4 (2): the first part of out-of-order text at `offset` from RCV.NXT that a
// held range already has, reported as a duplicate.
template <congestion_control CC>
void connection<CC>::note_held_duplicate(std::size_t offset, std::size_t length) noexcept
{
    const std::size_t begin = rcvbuf_.readable() + offset;
    const std::size_t end = begin + length;
    const auto ranges = rcvbuf_.out_of_order_ranges();
    const std::size_t i = ranges.first_ending_after(begin);
    if (i == ranges.size()) return;
    const recv_buffer::range r = ranges[i];
    if (r.begin >= end) return;
    note_duplicate(held_seq(std::max<std::size_t>(begin, r.begin)), held_seq(std::min<std::size_t>(end, r.end)));
}

// RFC 9293 §3.8.6.2.2 receiver-side SWS avoidance: the right edge moves only by at least
// min(half the buffer, one MSS), and never moves left (§3.8.6.2.2, RFC 7323 §2.4).
template <congestion_control CC>
std::uint16_t connection<CC>::advertise_window(context& ctx) noexcept
{
    // RFC 7323 §2.3: the field carries at most 0xffff << Rcv.Wind.Shift. The window the
    // sequence test uses (§3.10.7.4 first) must be the one we said, so it stops there.
    const std::uint32_t space = std::min(receive_space(ctx.cfg), std::uint32_t{0xffff} << rcv_.scale);
    const seq32 right = rcv_.nxt + space;
    if (seq_lt(rcv_.adv, rcv_.nxt)) rcv_.adv = rcv_.nxt;
    if (seq_gt(right, rcv_.adv)) {
        const auto grow = static_cast<std::uint32_t>(right - rcv_.adv);
        const auto threshold = std::min<std::uint32_t>(
            static_cast<std::uint32_t>(ctx.cfg.receive_buffer / 2), snd_.mss);
        // A zero window too stays shut until the opening reaches the threshold: a small
        // read must not invite a small segment (§3.8.6.2.2, "keep RCV.NXT+RCV.WND fixed").
        if (grow >= threshold) rcv_.adv = right;
    }
    rcv_.wnd = static_cast<std::uint32_t>(rcv_.adv - rcv_.nxt);
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(rcv_.wnd >> rcv_.scale, 0xffff));
}

template <congestion_control CC>
std::uint32_t connection<CC>::receive_space(const config& cfg) const noexcept
{
    // RFC 7323 §2.3: the window field carries at most 0xffff << Rcv.Wind.Shift; a larger
    // buffer is not offered, so RCV.WND never exceeds what the peer was told.
    const std::size_t used = rcvbuf_.readable();
    const std::size_t free = used >= cfg.receive_buffer ? 0 : cfg.receive_buffer - used;
    return static_cast<std::uint32_t>(std::min<std::size_t>(free, std::size_t{0xffff} << rcv_.scale));
}

// RFC 9293 §3.8.6.2.1 sender-side SWS avoidance and RFC 1122 §4.2.3.4 Nagle: the data
// segment to send now, or the FIN, or a bare ACK, or nothing.
template <congestion_control CC>
bool connection<CC>::next_data_segment(context& ctx, outgoing& out) noexcept
{
    const bool may_send_data = state_ == state::established || state_ == state::close_wait ||
                               state_ == state::fin_wait_1 || state_ == state::closing ||
                               state_ == state::last_ack;
    if (keepalive_probe_) {
        // RFC 1122 §4.2.3.6: a segment with SEG.SEQ = SND.NXT-1 draws an ACK from a live peer.
        keepalive_probe_ = false;
        fill_common(out, ctx);
        out.header.seq = snd_.nxt - 1;
        record_sent(out, 0, ctx);
        return true;
    }
    // The common last call of a flush: nothing unsent, nothing owed to the peer, nothing
    // to retransmit or probe — no segment, and none of the window arithmetic below.
    if (!ack_now_ && !probe_ && !fast_retransmit_ && !tlp_due_ && !retransmit_head_ && !fin_queued_ &&
        !sack_recovering_ && scoreboard_quiet() && sndbuf_.size() <= send_data_offset())
        return false;
    const bool sack_recovery = may_send_data && sack_recovery_on();
    if (sack_recovery) {
        // RFC 6675: retransmissions come from the scoreboard, not from SND.UNA.
        fast_retransmit_ = false;
        const std::size_t offset = send_data_offset();
        const std::size_t avail = sndbuf_.size() > offset ? sndbuf_.size() - offset : 0;
        if (tlp_due_) {
            tlp_due_ = false;
            if (send_loss_probe(ctx, out, avail)) return true;
        }
        // Outside recovery only NextSeg rule (1) applies, and with nothing SACKed or
        // lost it has nothing: the common case skips the scoreboard.
        const bool may_retransmit = retransmit_head_ || sack_recovering_ || !scoreboard_quiet();
        if (may_retransmit && next_sack_retransmission(ctx, out, avail)) return true;
    }
    if (fast_retransmit_ && may_send_data) {
        // RFC 5681 §3.2 step 2 (and RFC 6582 partial ACKs): the segment at SND.UNA, now.
        fast_retransmit_ = false;
        fill_common(out, ctx);
        out.header.seq = snd_.una;
        const auto in_flight_data = std::min<std::size_t>(sndbuf_.size(), flight_size());
        out.payload_offset = 0;
        // The segment as it was first sent, up to a full MSS: SACK blocks give way to
        // it (RFC 2018 §4 asks for them, but a shorter retransmission would leave the
        // end of the lost segment for another recovery).
        out.payload_length = std::min<std::size_t>(in_flight_data, payload_mss());
        const std::size_t fit = wire::tcp_option::sack_blocks_within(payload_mss() - out.payload_length);
        if (out.header.options.sack_count > fit) out.header.options.sack_count = static_cast<std::uint8_t>(fit);
        std::uint32_t seq_length = static_cast<std::uint32_t>(out.payload_length);
        if (fin_queued_ && seq_gt(snd_.max, fin_seq_) && snd_.una + seq_length == fin_seq_) {
            out.header.flags |= tcp_flags::fin;
            ++seq_length;
        }
        if (seq_length != 0) {
            record_sent(out, seq_length, ctx);
            return true;
        }
    }
    if (probe_ && may_send_data && snd_.wnd == 0) {
        // RFC 9293 §3.8.6.1 (MUST-36): probe a zero window with one byte of new data.
        probe_ = false;
        if (sndbuf_.size() != 0) {
            fill_common(out, ctx);
            out.header.seq = snd_.una;
            out.payload_offset = 0;
            out.payload_length = 1;
            record_sent(out, 1, ctx);
            return true;
        }
        // With no data left the FIN is the probe (its one sequence number in place of
        // the byte): a receiver that takes a bare FIN into a closed window (Linux, tcpx)
        // ends the stream; one that does not answers with its window.
        if (only_fin_left()) {
            fill_common(out, ctx);
            out.header.seq = snd_.una;
            out.header.flags |= tcp_flags::fin;
            record_sent(out, 1, ctx);
            return true;
        }
    }
    if (may_send_data) {
        const std::size_t offset = send_data_offset();
        const std::size_t avail = sndbuf_.size() > offset ? sndbuf_.size() - offset : 0;
        const std::uint32_t in_flight = static_cast<std::uint32_t>(snd_.nxt - snd_.una);
        const bool resending = seq_lt(snd_.nxt, snd_.max);
        if (!resending && snd_.una == snd_.max && avail != 0 &&
            ctx.now - last_sent_ > rtt_.rto()) {
            const cc_values before = cc_now();
            cc_.on_idle(ctx.now);  // RFC 5681 §4.1: restart after idle
            trace_cc(before, cc_cause::idle_restart, ctx.now);
        }
        // RFC 3042 §2 (RFC 5681 §3.2 step 1), limited transmit: on the first and second
        // duplicate ACK outside recovery, one new segment each beyond cwnd — FlightSize up
        // to cwnd + 2*SMSS, within the peer's window. cwnd itself "MUST NOT be changed".
        const std::uint32_t limited_transmit =
            !resending && !cc_.in_recovery() && duplicate_acks_ < 3 ? duplicate_acks_ * std::uint32_t{snd_.mss} : 0;
        const std::uint32_t cwnd = cc_.cwnd();
        const std::uint32_t wnd =
            std::min(snd_.wnd, cwnd > UINT32_MAX - limited_transmit ? UINT32_MAX : cwnd + limited_transmit);
        std::uint32_t usable = wnd > in_flight ? wnd - in_flight : 0;
        // With segmentation offload one emitted segment may carry several MSS; the device
        // cuts it. Whole MSS only, unless it ends the queued data, so no runt is cut.
        const std::uint32_t mss = data_mss();
        if (sack_recovery) {
            // RFC 6675 §5 (C): pipe, not FlightSize, against cwnd (data the peer SACKed
            // has left the network: limited transmit falls out of it, RFC 6675 §5 (3)),
            // or PRR's sndcnt in recovery, a started segment sent whole; and the peer's
            // window, from SND.UNA, as ever.
            const std::uint32_t room = snd_.wnd > in_flight ? snd_.wnd - in_flight : 0;
            std::uint32_t budget = sack_send_budget(ctx.cfg);
            if (sack_recovering_ && budget != 0) budget = (budget + mss - 1) / mss * mss;
            usable = std::min(room, budget);
            // A segment ready, the peer's window open, and cwnd says no: the window is full.
            if (!sack_recovering_ && budget < mss && room >= mss && avail >= mss) cwnd_limited_now_ = true;
        }
        const std::uint32_t segment_limit = ctx.burst > mss ? ctx.burst / mss * mss : mss;
        std::size_t len = std::min<std::size_t>({avail, usable, segment_limit});
        // Nagle still holds the runt back while data is unacknowledged (RFC 1122 §4.2.3.4),
        // as Linux's tcp_mss_split_point does.
        const bool nagle_holds = !(nodelay_ || snd_.una == snd_.max || fin_queued_);
        if (len > mss && (len < avail || nagle_holds)) len -= len % mss;
        const bool all_queued = len == avail;
        const bool nothing_unacked = snd_.una == snd_.max;
        // RFC 1122 §4.2.3.4: send a full segment; or everything queued when nothing is
        // unacknowledged (Nagle) or Nagle is off; or at least half the largest window
        // the peer has offered (SWS); retransmissions go as they are.
        const bool send_data =
            len != 0 && (len >= mss || resending ||
                         (all_queued && (nodelay_ || nothing_unacked || fin_queued_)) ||
                         (snd_.max_wnd != 0 && len >= snd_.max_wnd / 2 && (nodelay_ || nothing_unacked)) ||
                         probe_);  // RFC 1122 §4.2.3.4 (4): the override timeout fired (persist)
        probe_ = false;
        // The FIN, too, goes only inside the peer's window (its sequence number is one
        // the peer must have room for, as Linux's tcp_snd_wnd_test counts it); beyond it,
        // it waits for the window or is the persist timer's probe.
        const bool fin_fits = seq_le(snd_.nxt + static_cast<std::uint32_t>(len) + 1, snd_.una + snd_.wnd);
        const bool send_fin = fin_queued_ && all_queued && (snd_.nxt + static_cast<std::uint32_t>(len)) == fin_seq_ &&
                              fin_fits && (len != 0 ? send_data : true);
        if (send_data || send_fin) {
            fill_common(out, ctx);
            out.header.seq = snd_.nxt;
            out.payload_offset = offset;
            out.payload_length = send_data ? len : 0;
            std::uint32_t seq_length = static_cast<std::uint32_t>(out.payload_length);
            if (out.payload_length != 0 && out.payload_length == avail) out.header.flags |= tcp_flags::psh;
            if (send_fin) {
                out.header.flags |= tcp_flags::fin;
                ++seq_length;
            }
            record_sent(out, seq_length, ctx);
            return true;
        }
        // RFC 9293 §3.8.6.1: data waits behind a zero window and nothing is in flight to
        // bring an update — start probing. The same holds for a window too small for SWS
        // avoidance (§3.8.6.2.1): its update may be lost too, and the override timeout of
        // RFC 1122 §4.2.3.4 (4) is this timer. A zero window with data in flight probes
        // too: the ACKs for that data may all be lost (or a reordered old ACK may have
        // shut the window after a newer one opened it), and a retransmission timeout
        // cannot send into a zero window — only a probe still asks (as BSD's tcp_output
        // enters persist when nothing fits the window).
        const bool fin_waits = fin_queued_ && avail == 0 && snd_.nxt == fin_seq_ && snd_.wnd == 0;
        if ((avail != 0 || fin_waits) && (snd_.una == snd_.max || snd_.wnd == 0) && !armed(timer::persist)) {
            persist_interval_ = std::max(rtt_.rto(), ctx.cfg.persist_timeout);
            arm(timer::persist, ctx.now + persist_interval_);
        }
    }
    if (ack_now_) {
        fill_common(out, ctx);
        // RFC 9293 §3.10.7.4 <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, where the RFC's SND.NXT is
        // the highest number sent: snd_.max here, since snd_.nxt goes back to SND.UNA to
        // retransmit (RFC 6298 §5.4). Below it the ACK may fall before the peer's RCV.NXT
        // (it received what we resend) and be dropped as an old duplicate, its ACK field
        // unread; when both sides went back, neither would take the other's ACK again.
        // While persisting, the probe byte is not the peer's (§3.8.6.1): SND.UNA is.
        out.header.seq = armed(timer::persist) ? snd_.una : snd_.max;
        record_sent(out, 0, ctx);
        return true;
    }
    return false;
}

// Book-keeping for a segment handed to the stack: sequence space, timers, RTT timing.
template <congestion_control CC>
void connection<CC>::record_sent(const outgoing& out, std::uint32_t seq_length, context& ctx) noexcept
{
    ++stats_.segments_sent;
    stats_.bytes_sent += out.payload_length;
    const seq32 seq = out.header.seq;
    if (seq_length != 0) {
        if (seq_lt(seq, snd_.max)) {
            ++stats_.retransmitted_segments;
            stats_.bytes_retransmitted += out.payload_length;
            rtt_start_ = instant{};  // Karn (RFC 6298 §3): no sample from a retransmission
        } else if (rtt_start_ == instant{}) {
            rtt_start_ = ctx.now;
            rtt_seq_ = seq + seq_length;
            rtt_delivered_ = stats_.bytes_acked;
        }
        if (snd_.una == snd_.max) {
            oldest_unacked_sent_ = ctx.now;
            if (recovery_ == nullptr) begin_flight(ctx);
        }
        if (sack_recovering_) {
            // RFC 6937 §3: "prr_out += (data sent)"; what sndcnt allowed is spent.
            recovery_->prr.on_sent(seq_length);
            sndcnt_ = sndcnt_ > seq_length ? sndcnt_ - seq_length : 0;
        }
        if (seq_lt(snd_.nxt, seq + seq_length)) snd_.nxt = seq + seq_length;
        const bool new_data = seq_gt(snd_.nxt, snd_.max);
        snd_.max = seq_max(snd_.max, snd_.nxt);
        if (new_data && sack_recovery_on()) {
            rack_state().on_new_data_sent(snd_.max, ctx.now);  // RFC 8985 §6.1
            if (!tlp_outstanding_) arm_loss_probe(ctx);  // §7.2: after new data
        }
        // RFC 6298 §5.1: start the timer if it is not running.
        if (!armed(timer::retransmit)) arm(timer::retransmit, ctx.now + rtt_.rto());
        last_sent_ = ctx.now;
    }
    if (wire::has(out.header.flags, tcp_flags::ack)) {
        last_ack_sent_ = out.header.ack;  // RFC 7323 §4.3 Last.ACK.sent
        // Any segment carrying our ACK satisfies a pending or delayed one.
        ack_now_ = false;
        disarm(timer::delayed_ack);
    }
}

}  // namespace tcpx::tcp
