// Timeouts (RFC 9293 §3.10.8; RFC 6298 §5; RFC 9293 §3.8.6.1; RFC 1122 §4.2.3.2,
// §4.2.3.6) for tcpx/tcp/connection.hpp. Not to be included directly.
#pragma once

#include <algorithm>

namespace tcpx::tcp {

template <congestion_control CC>
instant connection<CC>::next_deadline() const noexcept
{
    return *std::min_element(timers_.begin(), timers_.end());
}

template <congestion_control CC>
void connection<CC>::on_timer(context& ctx) noexcept
{
    for (std::size_t i = 0; i < timers_.size(); ++i) {
        if (timers_[i] > ctx.now || state_ == state::closed) continue;
        timers_[i] = never;
        switch (static_cast<timer>(i)) {
        case timer::retransmit: on_retransmit_timeout(ctx); break;
        case timer::persist: on_persist_timeout(ctx); break;
        case timer::delayed_ack: ack_now_ = true; break;  // RFC 1122 §4.2.3.2
        case timer::keepalive: on_keepalive_timeout(ctx); break;
        case timer::time_wait:
            // RFC 9293 §3.10.8: "If the time-wait timeout expires on a connection, delete
            // the TCB". The same timer bounds an orphaned FIN-WAIT-2 (as Linux's
            // tcp_fin_timeout does), so a vanished peer cannot hold it forever.
            enter_closed(state_ == state::fin_wait_2 ? std::error_code{errc::timed_out} : std::error_code{});
            break;
        case timer::loss_probe: on_loss_probe_timeout(ctx); break;
        case timer::count: break;
        }
    }
}

// RFC 4821 §7.7 (as Linux's tcp_mtu_probing=1): the third timeout in a row may be a
// path that silently drops segments of this size (an MTU black hole: a router whose
// fragmentation-needed messages are filtered). Fall back to the base MSS, and halve at
// each further timeout down to 536; at 536 the datagrams go without DF too, for a
// router whose MTU is smaller still to fragment them (as on_icmp_error does below 576).
// The retransmission that follows is cut at the new size.
template <congestion_control CC>
void connection<CC>::shrink_for_black_hole(const context& ctx) noexcept
{
    constexpr std::uint16_t floor = wire::default_mss;
    const std::uint16_t base = std::max(ctx.cfg.black_hole_base_mss, floor);
    const std::uint16_t target =
        snd_.mss > base ? base : std::max<std::uint16_t>(static_cast<std::uint16_t>(snd_.mss / 2), floor);
    if (target >= snd_.mss) {
        may_fragment_ = true;
        return;
    }
    path_mss_ = target;
    snd_.mss = target;
    ++black_hole_reductions_;  // 1024 -> 536 is two steps: never near 255
}

// RFC 6298 §5.4 - §5.7, and the user timeout of RFC 9293 §3.10.8.
template <congestion_control CC>
void connection<CC>::on_retransmit_timeout(context& ctx) noexcept
{
    if (snd_.una == snd_.max) return;  // nothing outstanding (§5.2 should have stopped it)
    // RFC 9293 §3.8.6.1 / RFC 1122 §4.2.2.17: while the window is zero the persist timer
    // owns the probe byte; its loss is no congestion signal and no reason to give up.
    if (armed(timer::persist)) return;
    const bool opening = state_ == state::syn_sent || state_ == state::syn_received;
    const duration limit = opening ? ctx.cfg.connect_timeout : ctx.cfg.user_timeout;
    if (ctx.now - oldest_unacked_sent_ >= limit) {
        // RFC 1122 §4.2.3.9: a soft ICMP error seen meanwhile is the better explanation.
        enter_closed(soft_error_ != errc{} ? soft_error_ : errc::timed_out);
        return;
    }
    // A passive opening gives up after ctx.syn_ack_retries SYN,ACKs (Linux's
    // tcp_synack_retries; fewer under pressure: the stack decides), so a spoofed SYN's
    // slot is not held for the whole connect_timeout.
    if (state_ == state::syn_received && passive_ && stats_.timeouts >= ctx.syn_ack_retries) {
        enter_closed(errc::timed_out);
        return;
    }
    ++stats_.timeouts;
    if (!opening) {
        const cc_values before = cc_now();
        cc_.on_timeout(flight_size(), ctx.now);  // RFC 5681 §3.1 eq. 4
        trace_cc(before, cc_cause::timeout, ctx.now);
    }
    if (!opening && ctx.cfg.mtu_black_hole_detection && rtt_.backoff_count() >= 2) shrink_for_black_hole(ctx);
    rtt_.backoff();                                          // §5.5
    rtt_start_ = instant{};                                  // Karn: the timing is void
    duplicate_acks_ = 0;
    // §5.4: retransmit the earliest segment not acknowledged. Going back to SND.UNA
    // resends it first; the loss window (one segment) keeps it to that one.
    fast_retransmit_ = false;
    if (!opening && sack_recovery_on()) {
        // RFC 6675 §5.1: the scoreboard says what to resend; SND.NXT stays.
        sack_on_timeout(ctx);
        disarm(timer::loss_probe);  // RFC 8985 §7: RTO recovery sends no probe
    } else {
        snd_.nxt = opening ? iss_ : snd_.una;
    }
    // §5.6, but never past the user timeout (RFC 9293 §3.8.3): that is a limit of its own.
    arm(timer::retransmit, std::min(ctx.now + rtt_.rto(), oldest_unacked_sent_ + limit));
}

// RFC 9293 §3.8.6.1: probe the zero window, backing off like the retransmission timer.
template <congestion_control CC>
void connection<CC>::on_persist_timeout(context& ctx) noexcept
{
    if (sndbuf_.size() == 0 && !only_fin_left()) {
        persist_interval_ = duration{0};
        return;
    }
    if (snd_.wnd != 0) {
        // RFC 1122 §4.2.3.4 (4) / RFC 9293 §3.8.6.2.1: the window is open but too small for
        // SWS avoidance, and nothing in flight will bring an update (the one that opened it
        // may be lost): the override timeout sends what it allows. The retransmission
        // timer then covers that data, so persisting stops here.
        probe_ = true;
        persist_interval_ = duration{0};
        return;
    }
    // A probe that is never acknowledged at all is a dead peer: the user timeout applies
    // to it as to data (RFC 1122 §4.2.2.17 keeps the connection while the peer answers).
    // It is counted from the last segment the peer sent, once our last probe (the last
    // thing we sent) went unanswered.
    if (last_received_ < last_sent_ && ctx.now - last_received_ >= ctx.cfg.user_timeout) {
        enter_closed(errc::timed_out);
        return;
    }
    // An orphan the peer keeps behind a zero window, answering every probe, would live
    // as long as the peer likes: it gets config::orphan_probes of them (RFC 6429 §2
    // allows aborting a connection stuck in persist; Linux's tcp_orphan_retries).
    if (released_ && orphan_probes_sent_++ >= ctx.cfg.orphan_probes) {
        ++stats_.orphans_aborted;
        enter_closed(errc::timed_out);
        return;
    }
    probe_ = true;
    persist_interval_ = std::min(persist_interval_ * 2, ctx.cfg.max_rto);
    arm(timer::persist, ctx.now + persist_interval_);
}

// RFC 1122 §4.2.3.6: after keepalive_idle without a segment from the peer, probe every
// keepalive_interval; give up after keepalive_probes unanswered probes.
template <congestion_control CC>
void connection<CC>::on_keepalive_timeout(context& ctx) noexcept
{
    if (!keepalive_ || !is_synchronized(state_) || state_ == state::time_wait) return;
    if (ctx.now - last_received_ < ctx.cfg.keepalive_idle) {
        restart_keepalive(ctx);
        return;
    }
    // Data in flight or waiting: the retransmission or persist timer watches the peer
    // already, and a probe would only add a segment (Linux's tcp_keepalive_timer waits
    // another idle period then too).
    if (snd_.max != snd_.una || sndbuf_.size() != 0) {
        arm(timer::keepalive, ctx.now + ctx.cfg.keepalive_idle);
        return;
    }
    if (keepalive_probes_sent_ >= ctx.cfg.keepalive_probes) {
        enter_closed(errc::timed_out);
        return;
    }
    ++keepalive_probes_sent_;
    keepalive_probe_ = true;
    arm(timer::keepalive, ctx.now + ctx.cfg.keepalive_interval);
}

template <congestion_control CC>
void connection<CC>::restart_keepalive(context& ctx) noexcept
{
    arm(timer::keepalive, last_received_ + ctx.cfg.keepalive_idle);
}

}  // namespace tcpx::tcp
