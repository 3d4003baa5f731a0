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
        case timer::count: break;
        }
    }
}

// RFC 6298 §5.4 - §5.7, and the user timeout of RFC 9293 §3.10.8.
template <congestion_control CC>
void connection<CC>::on_retransmit_timeout(context& ctx) noexcept
{
    if (snd_.una == snd_.max) return;  // nothing outstanding (§5.2 should have stopped it)
    const bool opening = state_ == state::syn_sent || state_ == state::syn_received;
    const duration limit = opening ? ctx.cfg.connect_timeout : ctx.cfg.user_timeout;
    if (ctx.now - oldest_unacked_sent_ >= limit) {
        enter_closed(errc::timed_out);
        return;
    }
    ++stats_.timeouts;
    if (!opening) cc_.on_timeout(flight_size(), ctx.now);  // RFC 5681 §3.1 eq. 4
    rtt_.backoff();                                          // §5.5
    rtt_start_ = instant{};                                  // Karn: the timing is void
    duplicate_acks_ = 0;
    // §5.4: retransmit the earliest segment not acknowledged. Going back to SND.UNA
    // resends it first; the loss window (one segment) keeps it to that one.
    snd_.nxt = opening ? iss_ : snd_.una;
    fast_retransmit_ = false;
    arm(timer::retransmit, ctx.now + rtt_.rto());            // §5.6
}

// RFC 9293 §3.8.6.1: probe the zero window, backing off like the retransmission timer.
template <congestion_control CC>
void connection<CC>::on_persist_timeout(context& ctx) noexcept
{
    if (snd_.wnd != 0 || sndbuf_.size() == 0) {
        persist_interval_ = duration{0};
        return;
    }
    probe_ = true;
    // A probe that is never acknowledged at all is a dead peer: the user timeout applies
    // to it as to data (RFC 1122 §4.2.2.17 keeps the connection while the peer answers).
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
