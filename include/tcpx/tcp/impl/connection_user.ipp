// User calls (RFC 9293 §3.10.1 - §3.10.6) for tcpx/tcp/connection.hpp. Not to be
// included directly.
#pragma once

#include <algorithm>
#include <cstring>
#include <bit>

namespace tcpx::tcp {

namespace detail {
/// RFC 7323 §2.3: the smallest shift that lets the 16-bit field carry the whole
/// buffer, at most 14.
inline std::uint8_t window_shift_for(std::size_t buffer) noexcept
{
    std::uint8_t shift = 0;
    while (shift < 14 && (buffer >> shift) > 0xffff) ++shift;
    return shift;
}
}  // namespace detail

template <congestion_control CC>
void connection<CC>::open_active(const four_tuple& id, seq32 iss, context& ctx, std::uint32_t ts_offset) noexcept
{
    assert(recovery_ == nullptr);  // free_buffers() gave it back before the slot was reused
    *this = connection{};
    id_ = id;
    iss_ = iss;
    cwnd_round_end_ = rack_round_end_ = iss;  // rounds count from the first sequence number
    ts_offset_ = ts_offset;
    snd_.una = snd_.nxt = snd_.max = iss;
    snd_.mss = announced_mss(ctx.cfg);
    rcv_.scale = ctx.cfg.window_scaling ? detail::window_shift_for(ctx.cfg.receive_buffer) : 0;
    // The window in a SYN is never scaled (RFC 7323 §2.2): RCV.WND starts at most 0xffff.
    rcv_.wnd = std::min<std::uint32_t>(receive_space(ctx.cfg), 0xffff);
    rtt_ = rtt_estimator{rto_bounds{ctx.cfg.initial_rto, ctx.cfg.min_rto, ctx.cfg.max_rto, ctx.cfg.clock_granularity}};
    nodelay_ = ctx.cfg.nodelay;
    keepalive_ = ctx.cfg.keepalive;
    oldest_unacked_sent_ = ctx.now;
    state_ = state::syn_sent;
}

template <congestion_control CC>
void connection<CC>::open_passive(const four_tuple& id, seq32 iss, const segment& syn, context& ctx,
                                   std::uint32_t ts_offset) noexcept
{
    open_active(id, iss, ctx, ts_offset);
    passive_ = true;
    ++stats_.segments_received;  // the SYN (Linux's segs_in counts it too)
    // RFC 9293 §3.10.7.2: "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ".
    irs_ = syn.seq();
    rcv_.nxt = irs_ + 1;
    learn_options(syn, ctx);  // may turn our window scaling off
    rcv_.wnd = std::min<std::uint32_t>(receive_space(ctx.cfg), 0xffff);
    rcv_.adv = rcv_.nxt + rcv_.wnd;
    snd_.wnd = syn.header.window;  // never scaled in a SYN (RFC 7323 §2.2)
    snd_.max_wnd = snd_.wnd;
    snd_.wl1 = syn.seq();
    state_ = state::syn_received;
    // Data carried by the SYN is not taken: the SYN,ACK does not acknowledge it and the
    // peer sends it again (RFC 9293 §3.10.7.2 allows either).
}

template <congestion_control CC>
void connection<CC>::open_from_cookie(const four_tuple& id, seq32 iss, const segment& syn, context& ctx,
                                      std::uint32_t ts_offset) noexcept
{
    open_passive(id, iss, syn, ctx, ts_offset);
    // The SYN-ACK left when the SYN came; the segment that acknowledges it is at hand,
    // so no retransmission timer and (Karn, RFC 6298 §3) no RTT sample from the handshake.
    snd_.nxt = snd_.max = iss_ + 1;
    last_ack_sent_ = rcv_.nxt;  // RFC 7323 §4.3 Last.ACK.sent: what that SYN-ACK acknowledged
    ++stats_.segments_sent;
}

template <congestion_control CC>
std::size_t connection<CC>::writable_bytes(const config& cfg) const noexcept
{
    switch (state_) {
    case state::syn_sent:
    case state::syn_received:
    case state::established:
    case state::close_wait:
        if (fin_queued_) return 0;
        return sndbuf_.size() >= cfg.send_buffer ? 0 : cfg.send_buffer - sndbuf_.size();
    case state::closed:
    case state::listen:
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::closing:
    case state::last_ack:
    case state::time_wait:
        return 0;
    }
    return 0;
}

// RFC 9293 §3.10.2 SEND.
template <congestion_control CC>
std::size_t connection<CC>::send(std::span<const std::uint8_t> data, context& ctx, std::error_code& ec) noexcept
{
    ec.clear();
    switch (state_) {
    case state::closed:
        ec = error_ ? error_ : std::error_code{errc::not_connected};
        return 0;
    case state::listen:
        ec = errc::not_connected;
        return 0;
    case state::syn_sent:
    case state::syn_received:
    case state::established:
    case state::close_wait:
        // Before ESTABLISHED, "queue the data for transmission after entering ESTABLISHED".
        if (fin_queued_) {
            ec = errc::connection_closing;
            return 0;
        }
        break;
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::closing:
    case state::last_ack:
    case state::time_wait:
        ec = errc::connection_closing;  // "error: connection closing"
        return 0;
    }
    const std::size_t taken = sndbuf_.append(ctx.pool, data, ctx.cfg.send_buffer);
    if (taken == 0 && !data.empty()) ec = errc::would_block;
    return taken;
}

// RFC 9293 §3.10.3 RECEIVE.
template <congestion_control CC>
std::size_t connection<CC>::receive(std::span<std::uint8_t> out, context& ctx, std::error_code& ec) noexcept
{
    // receive_in_place with a taker that copies into `out` until it is full.
    std::size_t done = 0;
    return receive_in_place([&](std::span<const std::uint8_t> run) {
        const std::size_t n = std::min(run.size(), out.size() - done);
        if (n != 0) std::memcpy(out.data() + done, run.data(), n);
        done += n;
        return n;
    }, ctx, ec);
}

template <congestion_control CC>
template <class Take>
std::size_t connection<CC>::receive_in_place(Take&& take, context& ctx, std::error_code& ec)
{
    ec.clear();
    if (rcvbuf_.readable() != 0) {
        std::size_t n = 0;
        rcvbuf_.peek_runs(ctx.pool, [&](std::span<const std::uint8_t> run) {
            const std::size_t took = std::min<std::size_t>(take(run), run.size());
            n += took;
            return took == run.size();
        });
        rcvbuf_.consume(ctx.pool, n);
        if (n != 0) after_read(ctx);
        return n;
    }
    ec = nothing_readable();
    return 0;
}

template <congestion_control CC>
void connection<CC>::after_read(context& ctx) noexcept
{
    // RFC 1122 §4.2.3.3: tell the sender when reading opened the window enough
    // (the same threshold advertise_window() applies).
    const seq32 right = rcv_.nxt + receive_space(ctx.cfg);
    const auto threshold = std::min<std::uint32_t>(static_cast<std::uint32_t>(ctx.cfg.receive_buffer / 2), snd_.mss);
    if (is_synchronized(state_) && !fin_received_ && seq_gt(right, rcv_.adv) &&
        static_cast<std::uint32_t>(right - rcv_.adv) >= threshold &&
        rcv_.wnd < std::max<std::uint32_t>(threshold, static_cast<std::uint32_t>(ctx.cfg.receive_buffer / 2)))
        ack_now_ = true;
}

template <congestion_control CC>
std::error_code connection<CC>::nothing_readable() const noexcept
{
    if (fin_received_) return errc::end_of_stream;
    if (state_ == state::closed) return error_ ? error_ : std::error_code{errc::not_connected};
    return errc::would_block;
}

// RFC 9293 §3.10.4 CLOSE, for the sending side.
template <congestion_control CC>
std::error_code connection<CC>::shutdown(context&) noexcept
{
    switch (state_) {
    case state::closed:
        return error_ ? error_ : std::error_code{errc::not_connected};
    case state::syn_sent:
        // §3.10.4 says "Delete the TCB" and answer queued SENDs with "closing" — but
        // send() here has already told the caller those bytes were taken, so deleting
        // them would lose accepted data with no error. With data queued, CLOSE is what
        // it is in SYN-RECEIVED: the FIN waits for ESTABLISHED, after the data.
        if (fin_queued_) return errc::connection_closing;
        if (sndbuf_.size() != 0) {
            fin_queued_ = true;
            fin_seq_ = data_start() + static_cast<std::uint32_t>(sndbuf_.size());
            return {};
        }
        enter_closed({});
        return {};
    case state::listen:
        enter_closed({});
        return {};
    case state::syn_received:
    case state::established:
    case state::close_wait:
        if (fin_queued_) return errc::connection_closing;
        fin_queued_ = true;
        fin_seq_ = data_start() + static_cast<std::uint32_t>(sndbuf_.size());
        // SYN-RECEIVED: the FIN waits for ESTABLISHED (§3.10.4); the state moves then.
        if (state_ == state::established) state_ = state::fin_wait_1;
        if (state_ == state::close_wait) state_ = state::last_ack;
        return {};
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::closing:
    case state::last_ack:
    case state::time_wait:
        return errc::connection_closing;
    }
    return {};
}

template <congestion_control CC>
void connection<CC>::release(context& ctx) noexcept
{
    released_ = true;
    (void)shutdown(ctx);
    // An orphan already in FIN-WAIT-2 waits for a FIN that may never come: bound it as
    // check_ack() does for one that enters FIN-WAIT-2 after the release.
    if (state_ == state::fin_wait_2 && !armed(timer::time_wait)) arm(timer::time_wait, ctx.now + ctx.cfg.msl * 2);
}

// RFC 9293 §3.10.5 ABORT.
template <congestion_control CC>
bool connection<CC>::abort(context&) noexcept
{
    bool reset = false;
    switch (state_) {
    case state::syn_received:
    case state::established:
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::close_wait:
        reset = true;  // "Send a reset segment: <SEQ=SND.NXT><CTL=RST>"
        break;
    case state::closed:
    case state::listen:
    case state::syn_sent:
    case state::closing:
    case state::last_ack:
    case state::time_wait:
        break;
    }
    released_ = true;
    enter_closed(errc::connection_aborted);
    return reset;
}

template <congestion_control CC>
void connection<CC>::end_time_wait() noexcept
{
    assert(state_ == state::time_wait);
    enter_closed({});
}

template <congestion_control CC>
wire::tcp_header connection<CC>::abort_reset() const noexcept
{
    wire::tcp_header rst;
    rst.source_port = id_.local_port;
    rst.destination_port = id_.remote_port;
    rst.seq = snd_.max;
    rst.flags = tcp_flags::rst;
    return rst;
}

template <congestion_control CC>
void connection<CC>::set_keepalive(bool on, context& ctx) noexcept
{
    keepalive_ = on;
    if (on && is_synchronized(state_) && state_ != state::time_wait) restart_keepalive(ctx);
    else disarm(timer::keepalive);
}

template <congestion_control CC>
void connection<CC>::free_buffers(context& ctx) noexcept
{
    sndbuf_.clear(ctx.pool);
    rcvbuf_.clear(ctx.pool);
    release_recovery_state(ctx);
}

}  // namespace tcpx::tcp
