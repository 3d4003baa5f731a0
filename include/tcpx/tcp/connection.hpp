// tcpx/tcp/connection.hpp — one TCP connection: RFC 9293's transmission control block
// and the event processing of §3.10, independent of any device or clock type.
//
// Have open: RFC 9293 §3.3.1 (the variables), §3.8 (data communication), §3.10 (event
// processing); RFC 1122 §4.2.3 (ACK, SWS, Nagle, keep-alive); RFC 6298 (retransmission
// timer); RFC 5681 §2 (duplicate ACKs); RFC 5961 (blind reset and SYN attacks);
// RFC 7323 §2 (window scale); RFC 6691 (MSS).
//
// The connection is pure: it is handed a segment (or a user call, or a timer) and a
// `context` (the stack's data pool, config and the time), updates itself, and tells
// what it wants sent when asked (`next_segment`). It never sleeps, never calls user
// code, never names a device or a clock. Every stack with the same congestion
// control instantiates this same class.
#pragma once

#include <array>
#include <string_view>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include <tcpx/cc/events.hpp>
#include <tcpx/concepts.hpp>
#include <tcpx/config.hpp>
#include <tcpx/detail/block_pool.hpp>
#include <tcpx/error.hpp>
#include <tcpx/tcp/chunk_pool.hpp>
#include <tcpx/tcp/icmp_error.hpp>
#include <tcpx/tcp/rack.hpp>
#include <tcpx/tcp/recovery_state.hpp>
#include <tcpx/tcp/recv_buffer.hpp>
#include <tcpx/tcp/rtt_estimator.hpp>
#include <tcpx/tcp/sack_scoreboard.hpp>
#include <tcpx/tcp/segment.hpp>
#include <tcpx/tcp/send_buffer.hpp>
#include <tcpx/tcp/state.hpp>
#include <tcpx/time.hpp>
#include <tcpx/trace.hpp>
#include <tcpx/wire/checksum.hpp>
#include <tcpx/wire/seq32.hpp>
#include <tcpx/wire/tcp_options.hpp>

namespace tcpx::tcp {

/// The two endpoints that name a connection (RFC 9293 §3.1, "socket pair").
struct four_tuple {
    wire::ipv4_address local_address;
    wire::ipv4_address remote_address;
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;
    friend bool operator==(const four_tuple&, const four_tuple&) = default;
};

/// What one call needs from the stack around it: shared resources and the time.
struct context {
    chunk_pool& pool;
    const config& cfg;
    instant now;
    /// The most payload one emitted segment may carry, when the device cuts large
    /// segments into MSS-sized ones itself (TCP segmentation offload); 0: the MSS.
    std::uint32_t burst = 0;
    /// Blocks of sizeof(recovery_state<CC>) for the flights of SACK connections.
    tcpx::detail::block_pool* recovery_blocks = nullptr;
    /// Set by the connection when received data was refused for want of pool chunks or
    /// of the out-of-order share: the stack then prunes (config::out_of_order_prune_after).
    bool pool_pressure = false;
    /// SYN,ACK retransmissions a passive opening may make now (config::syn_ack_retries,
    /// or syn_ack_retries_under_pressure while the half-open table or its listener's
    /// share fills: the stack sets it per connection before a timer fires).
    unsigned syn_ack_retries = 5;
};

/// What the stack should do after a segment was processed.
enum class input_result : std::uint8_t {
    done,        ///< nothing beyond what next_segment() will say
    send_reset,  ///< answer the segment with reset_for(segment) (§3.10.7.3, §3.10.7.4 fifth)
};

/// The timers of RFC 9293 §3.8 and RFC 1122 §4.2.3, as data: one deadline each.
/// loss_probe: RFC 8985's two timers in one — RACK's reordering timer (§6.2 step 5) when
/// a segment awaits its reordering window, else the Tail Loss Probe's PTO (§7.2).
enum class timer : std::uint8_t { retransmit, persist, delayed_ack, keepalive, time_wait, loss_probe, count };

/// Why a connection discarded a segment, or its text (RFC 9293 §3.10.7's "drop the
/// segment", each where it is said; connection_stats::discarded counts them).
enum class discard_reason : std::uint8_t {
    closed,                 ///< §3.10.7.1: to a CLOSED connection (answered with a reset unless one)
    syn_sent_bad_ack,       ///< §3.10.7.3 first: an ACK of nothing we sent (answered with a reset)
    syn_sent_reset,         ///< §3.10.7.3 second: a reset without an ACK of our SYN
    syn_sent_no_syn,        ///< §3.10.7.3 fifth: neither SYN nor RST
    unacceptable,           ///< §3.10.7.4 first: outside the window (ACKed, throttled when bare)
    zero_window_text,       ///< ... text at RCV.NXT into our zero window: its ACK taken, its text not
    reset_not_exact,        ///< RFC 5961 §3.2: a reset in the window but not at RCV.NXT (challenged)
    syn_synchronized,       ///< RFC 5961 §4.2: a SYN in a synchronized state (challenged)
    no_ack,                 ///< §3.10.7.4 fifth: no ACK bit
    bad_ack,                ///< RFC 5961 §5.2 / §3.10.7.4 fifth: an ACK of nothing sent, or too old
    text_after_fin,         ///< §3.10.7.4 seventh: text in CLOSE-WAIT, CLOSING, LAST-ACK (ignored)
    text_beyond_window,     ///< §3.10.7.4 first: the part of a segment's text beyond RCV.WND, trimmed
    count
};

constexpr std::string_view to_string(discard_reason r) noexcept
{
    switch (r) {
    case discard_reason::closed: return "closed";
    case discard_reason::syn_sent_bad_ack: return "syn_sent_bad_ack";
    case discard_reason::syn_sent_reset: return "syn_sent_reset";
    case discard_reason::syn_sent_no_syn: return "syn_sent_no_syn";
    case discard_reason::unacceptable: return "unacceptable";
    case discard_reason::zero_window_text: return "zero_window_text";
    case discard_reason::reset_not_exact: return "reset_not_exact";
    case discard_reason::syn_synchronized: return "syn_synchronized";
    case discard_reason::no_ack: return "no_ack";
    case discard_reason::bad_ack: return "bad_ack";
    case discard_reason::text_after_fin: return "text_after_fin";
    case discard_reason::text_beyond_window: return "text_beyond_window";
    case discard_reason::count: break;
    }
    return "?";
}

/// Per-connection counters (a subset of what Linux's tcp_info reports). Bytes and
/// segments count in 64 bits; events in 32, as tcp_info's do (tcpi_total_retrans,
/// tcpi_dsack_dups ...), wrapping modulo 2^32 — a kilobyte per idle connection is the
/// budget, and a connection that retransmits four billion times has other news.
struct connection_stats {
    std::uint64_t segments_sent = 0;
    std::uint64_t segments_received = 0;
    std::uint64_t bytes_sent = 0;          ///< payload bytes put on the wire, retransmissions included
    std::uint64_t bytes_acked = 0;         ///< data and FIN acknowledged (the SYN is not counted)
    std::uint64_t bytes_received = 0;      ///< in-order payload bytes delivered to the receive buffer
    std::uint64_t bytes_retransmitted = 0;  ///< payload bytes of the retransmitted segments
    std::uint64_t timestamp_rtt_samples = 0; ///< RFC 7323 §4: RTT samples taken from TSecr
    /// Not a counter: bytes per second acknowledged over the last round trip that gave an
    /// RTT sample (tcp/info.hpp says how), as Linux's tcpi_delivery_rate; 0 before one.
    std::uint64_t delivery_rate = 0;
    std::uint32_t retransmitted_segments = 0;
    std::uint32_t fast_retransmits = 0;
    std::uint32_t timeouts = 0;
    std::uint32_t duplicate_acks = 0;
    std::uint32_t out_of_order_dropped = 0;  ///< out-of-order data not stored: no range left, or the pool dry
    std::uint32_t out_of_order_over_share = 0;  ///< ... refused: the pool's out-of-order share taken (config::out_of_order_pool_percent)
    std::uint32_t out_of_order_pruned = 0;   ///< times held out-of-order data was dropped under pressure
    std::uint32_t in_order_dropped = 0;      ///< in-order data not stored: the pool dry
    std::uint32_t challenge_acks = 0;        ///< RFC 5961 challenge ACKs sent
    std::uint32_t sack_recoveries = 0;       ///< RFC 6675 loss recoveries entered
    std::uint32_t lost_retransmits = 0;      ///< retransmissions found lost again, without a timeout
    std::uint32_t rescue_retransmits = 0;    ///< RFC 6675 §4 NextSeg rule (4)
    std::uint32_t dsacks_received = 0;       ///< RFC 2883 D-SACK blocks from the peer
    std::uint32_t dsacks_sent = 0;           ///< RFC 2883 §4: duplicates reported to the peer
    std::uint32_t reductions_undone = 0;     ///< RFC 3708 / RFC 3522: recoveries found spurious and undone
    std::uint32_t timestamp_undos = 0;       ///< ... of them, by the timestamp echo at the recovery's end (RFC 3522)
    std::uint32_t sack_reneging = 0;         ///< RFC 6675 §8: SACKed data found dropped by the peer
    std::uint32_t sack_ranges_forgotten = 0; ///< SACKed islands not kept (sack_scoreboard::max_sacked, or no chunk)
    std::uint32_t orphans_aborted = 0;       ///< closed by the application, aborted behind a zero window (config::orphan_probes)
    std::uint32_t flights_without_recovery_state = 0;  ///< none free (config::max_recovery_states): recovered without SACK
    std::uint32_t rack_marked_lost = 0;      ///< RFC 8985 §6.2: times RACK declared data lost
    std::uint32_t loss_probes = 0;           ///< RFC 8985 §7.3: Tail Loss Probes sent (Linux TCPLossProbes)
    std::uint32_t loss_probe_recoveries = 0; ///< RFC 8985 §7.4: a probe repaired a loss (TCPLossProbeRecovery)
    std::uint32_t paws_rejected = 0;         ///< RFC 7323 §5.3 R1: an old timestamp, dropped (Linux PAWSEstab)
    std::uint32_t timestamp_missing = 0;     ///< RFC 7323 §3.2: no TSopt after negotiating it, dropped
    std::uint32_t acks_throttled = 0;        ///< RFC 5961 §7: an ACK owed to an unacceptable segment, not sent
    /// Segments (or their text) discarded, by reason.
    std::array<std::uint32_t, static_cast<std::size_t>(discard_reason::count)> discarded{};
    std::uint32_t discards(discard_reason r) const noexcept { return discarded[static_cast<std::size_t>(r)]; }
};

/// One TCP connection. `CC` is its congestion-control policy (concepts.hpp).
template <congestion_control CC>
class connection {
public:
    connection() noexcept = default;

    // ---- opening (RFC 9293 §3.10.1) ----
    /// OPEN, active: CLOSED -> SYN-SENT. The SYN goes out at the next next_segment().
    /// `ts_offset`: RFC 7323 §7.1's offset of this connection's timestamp clock.
    void open_active(const four_tuple& id, seq32 iss, context& ctx, std::uint32_t ts_offset = 0) noexcept;
    /// A listener's SYN (§3.10.7.2): CLOSED -> SYN-RECEIVED, SYN-ACK to send.
    void open_passive(const four_tuple& id, seq32 iss, const segment& syn, context& ctx,
                      std::uint32_t ts_offset = 0) noexcept;
    /// A listener answered `syn` statelessly with a SYN cookie (RFC 4987 §3.6, iss the
    /// cookie) and its ACK came back: SYN-RECEIVED with the SYN-ACK already sent, `syn`
    /// rebuilt from the cookie. The ACK itself is then processed as any segment.
    void open_from_cookie(const four_tuple& id, seq32 iss, const segment& syn, context& ctx,
                          std::uint32_t ts_offset) noexcept;

    // ---- user calls (RFC 9293 §3.10.2 - §3.10.6) ----
    /// SEND: queues what fits; errc::would_block when nothing fits now.
    std::size_t send(std::span<const std::uint8_t> data, context& ctx, std::error_code& ec) noexcept;
    /// RECEIVE: copies in-order data; errc::end_of_stream after the peer's FIN, would_block when empty.
    std::size_t receive(std::span<std::uint8_t> out, context& ctx, std::error_code& ec) noexcept;
    /// RECEIVE without a copy: hands the in-order bytes to `take` in place, run by run
    /// (std::span<const std::uint8_t>); take returns how many of the run it consumed, and
    /// consuming less than the whole run stops. Returns the bytes consumed; errors as
    /// receive(). `take` must not call back into this connection; if it throws, nothing
    /// is consumed.
    template <class Take>
    std::size_t receive_in_place(Take&& take, context& ctx, std::error_code& ec);
    /// CLOSE of the sending side (§3.10.4): a FIN follows the queued data.
    std::error_code shutdown(context& ctx) noexcept;
    /// The user let go of the connection: no more reads. Unread or later data resets it
    /// (RFC 1122 §4.2.2.13, RFC 2525 §2.17). Implies shutdown().
    void release(context& ctx) noexcept;
    /// TIME-WAIT cut short (the stack's config::max_time_wait): CLOSED, with no error —
    /// both FINs were exchanged and acknowledged. Precondition: TIME-WAIT.
    void end_time_wait() noexcept;
    /// ABORT (§3.10.5): to CLOSED; true when a reset must be sent (take it from abort_reset()).
    bool abort(context& ctx) noexcept;
    /// The reset an abort sends: <SEQ=SND.NXT><CTL=RST> (§3.10.5).
    wire::tcp_header abort_reset() const noexcept;

    // ---- events ----
    /// SEGMENT ARRIVES (§3.10.7.3, §3.10.7.4), for a segment addressed to this connection.
    input_result on_segment(const segment& seg, context& ctx) noexcept;
    /// Before on_segment, for a segment whose checksum the stack has yet to verify:
    /// when its text is the next in sequence and will be taken whole (ESTABLISHED,
    /// FIN-WAIT-1/2, at RCV.NXT, inside the window, nothing held out of order), copies
    /// it into the receive buffer, unreadable, adding it to `sum` — the checksum folded
    /// into the copy the text needs anyway. True: set seg.placed to the payload size if
    /// the checksum is good, and call release_staged() after on_segment either way.
    /// False: nothing copied; the stack sums the payload itself.
    bool stage_text(const segment& seg, chunk_pool& pool, const config& cfg, wire::checksum_accumulator& sum) noexcept;
    /// Forgets staged text that was not committed (a bad checksum, or text on_segment
    /// did not take): its chunks go back to the pool.
    void release_staged(chunk_pool& pool) noexcept { rcvbuf_.release_unheld_chunks(pool); }
    /// An ICMP error quoting one of our segments, whose sequence number was
    /// `quoted_seq` (RFC 1122 §4.2.3.9, RFC 5927). Returns false when the quote does not
    /// match data in flight (a blind attack or a stale message), which changes nothing.
    bool on_icmp_error(const icmp_error& e, seq32 quoted_seq) noexcept;
    /// Fires every timer whose deadline is at or before ctx.now (§3.10.8).
    void on_timer(context& ctx) noexcept;
    /// The next segment to send now, if any: fills every field of `out` (whatever it
    /// held before) and records it as sent.
    bool next_segment(context& ctx, outgoing& out) noexcept;
    /// The earliest armed timer, or tcpx::never.
    instant next_deadline() const noexcept;

    // ---- queries ----
    tcp::state state() const noexcept { return state_; }
    const four_tuple& id() const noexcept { return id_; }
    /// Why the connection ended, if it ended abnormally (refused, reset, timed out ...).
    std::error_code error() const noexcept { return error_; }
    std::size_t readable_bytes() const noexcept { return rcvbuf_.readable(); }
    /// Bytes send() would take now.
    std::size_t writable_bytes(const config& cfg) const noexcept;
    /// The peer's FIN has been received (all data before it is in the receive buffer).
    bool peer_closed() const noexcept { return fin_received_; }
    /// Out-of-order data is held; since when its hole at RCV.NXT has stood (the first
    /// out-of-order arrival, or RCV.NXT's last advance while some stayed beyond it).
    bool holds_out_of_order() const noexcept { return rcvbuf_.has_out_of_order(); }
    instant out_of_order_since() const noexcept { return out_of_order_since_; }
    /// Forgets the out-of-order data held, and a FIN beyond it (the stack prunes under
    /// pressure; RFC 2018 §8: the peer keeps SACKed data until it is acknowledged, and
    /// resends it). Returns the bytes forgotten.
    std::size_t prune_out_of_order(context& ctx) noexcept;
    bool released() const noexcept { return released_; }
    /// The Don't Fragment bit of this connection's datagrams: set, unless the path
    /// reported an MTU below RFC 1122's 576 (RFC 1191 §3; on_icmp_error).
    bool dont_fragment() const noexcept { return !may_fragment_; }
    /// An ACK is due at once (RFC 5681 §4.2: one per out-of-order segment, so the
    /// stack sends it before taking in the next packet rather than coalescing).
    bool ack_due() const noexcept { return ack_now_; }
    /// SYN-RECEIVED, and `seg` is an acceptable ACK of our SYN (§3.10.7.4 first and fifth)
    /// that would complete the handshake: the stack's test before an accept queue is full.
    bool completes_handshake(const segment& seg) const noexcept
    {
        return state_ == state::syn_received && seg.has(tcp_flags::ack) && !seg.has(tcp_flags::rst) &&
               !seg.has(tcp_flags::syn) && seq_gt(seg.ack(), snd_.una) && seq_le(seg.ack(), snd_.max) &&
               acceptable(seg);
    }
    /// True while this connection came from a listener and has not been accepted.
    bool passive() const noexcept { return passive_; }
    void set_nodelay(bool on) noexcept { nodelay_ = on; }
    bool nodelay() const noexcept { return nodelay_; }
    void set_keepalive(bool on, context& ctx) noexcept;
    const connection_stats& stats() const noexcept { return stats_; }
    const rtt_estimator& rtt() const noexcept { return rtt_; }
    const CC& congestion() const noexcept { return cc_; }
    /// Attaches a congestion-window trace (trace.hpp), or detaches it with nullptr. On a
    /// synchronized connection the values at `now` are recorded first, as the baseline.
    void set_trace(cc_trace* t, instant now) noexcept
    {
        trace_ = t;
        if (trace_ != nullptr && is_synchronized(state_))
            trace_->record(cc_record{now, cc_.cwnd(), cc_.ssthresh(), cc_cause::established});
    }
    cc_trace* trace() const noexcept { return trace_; }
    std::uint16_t send_mss() const noexcept { return snd_.mss; }
    /// The peer's full-sized segment as seen (RFC 1122 §4.2.3.2; note_segment_size).
    std::uint16_t receive_mss() const noexcept { return rcv_mss_; }
    /// Times black-hole detection made the segments smaller (config::mtu_black_hole_detection).
    unsigned black_hole_reductions() const noexcept { return black_hole_reductions_; }
    /// RFC 2018 §2: both SYNs carried SACK-permitted.
    bool sack_permitted() const noexcept { return sack_ok_; }
    /// The peer's window scale and ours, when both SYNs offered it (RFC 7323 §2.2).
    bool window_scaled() const noexcept { return wscale_ok_; }
    /// What the peer has SACKed and what is being retransmitted (RFC 6675); empty
    /// between flights.
    const sack_scoreboard& scoreboard() const noexcept
    {
        static const sack_scoreboard between_flights{};
        return recovery_ != nullptr ? recovery_->board : between_flights;
    }
    /// This flight is recovered by SACK: it holds a recovery_state (recovery_state.hpp).
    bool has_recovery_state() const noexcept { return recovery_ != nullptr; }
    /// RFC 7323 §3.2: both SYNs carried the Timestamps option.
    bool timestamps_on() const noexcept { return ts_ok_; }
    /// RFC 7323 §4.3 TS.Recent: the timestamp echoed to the peer.
    std::uint32_t ts_recent() const noexcept { return ts_recent_; }
    /// Our timestamp clock at `now` (RFC 7323 §5.4: 1 ms ticks, plus §7.1's offset).
    std::uint32_t ts_clock(instant now) const noexcept { return ts_clock(ts_offset_, now); }
    /// The same for a connection whose offset is `ts_offset` (a SYN cookie's, before any exists).
    static std::uint32_t ts_clock(std::uint32_t ts_offset, instant now) noexcept
    {
        return ts_offset + static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.time_since_epoch().count()) / 1000);
    }
    /// Whether a SYN may reopen this connection from TIME-WAIT (RFC 6191 §2). `timestamps`:
    /// the new incarnation would use them (config::timestamps).
    bool may_reopen(const segment& syn, bool timestamps) const noexcept
    {
        const bool higher_seq = seq_gt(syn.seq(), rcv_.nxt);
        const auto& ts = syn.header.options.timestamp;
        // (b) the old incarnation had no timestamps, or (a) the new one would not:
        // the sequence number decides.
        if (!ts_ok_ || !timestamps || !ts) return higher_seq;
        // (a): a newer timestamp; an equal one with a higher sequence number.
        const auto d = static_cast<std::int32_t>(ts->tsval - ts_recent_);
        return d > 0 || (d == 0 && higher_seq);
    }
    /// Inside an RFC 6675 loss recovery.
    bool in_sack_recovery() const noexcept { return sack_recovering_; }
    /// Calls f(std::span<const std::uint8_t>) for the runs of send-buffer bytes that
    /// `out` carries, in order: how the stack copies a payload into a packet.
    template <class F>
    void for_each_payload_run(chunk_pool& pool, const outgoing& out, F&& f)
    {
        if (out.payload_length != 0)
            sndbuf_.for_each_run(pool, out.payload_offset, out.payload_length, static_cast<F&&>(f));
    }
    /// Returns every chunk and the recovery state to their pools (the connection is
    /// being reclaimed).
    void free_buffers(context& ctx) noexcept;

    // RFC 9293 §3.3.1, grouped as the RFC groups them.
    struct send_sequence {
        seq32 una;                  ///< SND.UNA: oldest unacknowledged
        seq32 nxt;                  ///< SND.NXT: next to send
        std::uint32_t wnd = 0;      ///< SND.WND, already scaled (RFC 7323 §2.3)
        seq32 up;                   ///< SND.UP
        seq32 wl1;                  ///< SND.WL1: SEG.SEQ of the last window update
        seq32 wl2;                  ///< SND.WL2: SEG.ACK of the last window update
        seq32 max;                  ///< highest SND.NXT so far (BSD's snd_max): what is in flight
        std::uint32_t max_wnd = 0;  ///< largest SND.WND seen (RFC 5961 §5.2 MAX.SND.WND; SWS)
        std::uint16_t mss = wire::default_mss;    ///< effective send MSS (RFC 9293 §3.7.1, RFC 6691)
        std::uint8_t scale = 0;     ///< Snd.Wind.Shift (RFC 7323 §2.3)
    };
    struct receive_sequence {
        seq32 nxt;                  ///< RCV.NXT
        std::uint32_t wnd = 0;      ///< RCV.WND as last advertised
        seq32 up;                   ///< RCV.UP
        seq32 adv;                  ///< right edge last advertised, RCV.NXT + RCV.WND (never moves left)
        std::uint8_t scale = 0;     ///< Rcv.Wind.Shift
    };
    const send_sequence& snd() const noexcept { return snd_; }
    const receive_sequence& rcv() const noexcept { return rcv_; }
    seq32 iss() const noexcept { return iss_; }
    seq32 irs() const noexcept { return irs_; }
    instant deadline(timer t) const noexcept { return timers_[static_cast<std::size_t>(t)]; }

private:
    // input, by RFC 9293 §3.10.7 case (impl/connection_input.ipp)
    input_result on_segment_syn_sent(const segment& seg, context& ctx) noexcept;
    input_result on_segment_synchronized(const segment& seg, context& ctx) noexcept;
    bool acceptable(const segment& seg) const noexcept;
    bool ack_acceptable(const segment& seg) const noexcept;
    bool check_reset(const segment& seg, context& ctx) noexcept;
    bool throttled_ack(context& ctx) noexcept;
    input_result check_ack(const segment& seg, context& ctx) noexcept;
    void process_new_ack(const segment& seg, context& ctx) noexcept;
    void process_duplicate_ack(const segment& seg, context& ctx) noexcept;
    void update_send_window(const segment& seg) noexcept;
    void process_text(const segment& seg, context& ctx) noexcept;
    void process_fin(context& ctx) noexcept;
    void learn_options(const segment& syn, context& ctx) noexcept;
    void enter_established(context& ctx) noexcept;
    void enter_time_wait(context& ctx) noexcept;
    void enter_closed(std::error_code why) noexcept;
    void schedule_ack(bool immediately, context& ctx) noexcept;
    // RFC 7323 timestamps (impl/connection_timestamps.ipp)
    bool paws_rejects(const segment& seg, context& ctx) noexcept;
    void update_ts_recent(const segment& seg, context& ctx) noexcept;
    duration timestamp_rtt(const segment& seg, context& ctx) const noexcept;
    /// The most payload a segment carries beside the options every segment has
    /// (timestamps), before SACK blocks (RFC 6691: options come out of the MSS).
    std::uint16_t payload_mss() const noexcept
    {
        return static_cast<std::uint16_t>(snd_.mss - (ts_ok_ ? wire::tcp_option::timestamp_aligned : 0));
    }

    // SACK-based loss recovery, RFC 6675 with PRR (impl/connection_recovery.ipp)
    bool sack_recovery_on() const noexcept { return recovery_ != nullptr; }
    sack_scoreboard& board() noexcept { return recovery_->board; }
    const sack_scoreboard& board() const noexcept { return recovery_->board; }
    tcp::rack& rack_state() noexcept { return recovery_->rack; }
    const tcp::rack& rack_state() const noexcept { return recovery_->rack; }
    /// Nothing SACKed, lost or retransmitted (sack_scoreboard::quiet), or no flight state.
    bool scoreboard_quiet() const noexcept { return recovery_ == nullptr || recovery_->board.quiet(); }
    /// A flight begins (nothing was in flight): its recovery_state, if one is free.
    void begin_flight(context& ctx) noexcept;
    /// Everything is acknowledged: the recovery_state goes back, or stays for an undo.
    void end_flight(context& ctx) noexcept;
    void release_recovery_state(context& ctx) noexcept;
    /// RFC 2883 §4 with no flight state: a first block below SND.UNA is a duplicate.
    void take_dsack_between_flights(const segment& seg, context& ctx) noexcept;
    struct sack_arrival {
        std::int64_t sacked_change = 0;  ///< change in SACKed bytes (RFC 6937 DeliveredData)
        bool sacked_new = false;         ///< RFC 6675 §2 DupAck: new data SACKed
        bool dsack = false;              ///< the first block was a D-SACK (RFC 2883)
    };
    sack_arrival take_sack_blocks(const segment& seg, context& ctx) noexcept;
    void after_sack_ack(std::uint32_t acked, const sack_arrival& a, context& ctx) noexcept;
    void enter_sack_recovery(context& ctx) noexcept;
    void sack_on_timeout(context& ctx) noexcept;
    /// A RST at RCV.NXT - 1 after the peer's FIN (CLOSE-WAIT, CLOSING, LAST-ACK): the
    /// FIN's own number, which RFC 5961 §3.2's exact match refuses and Linux accepts.
    bool reset_at_peer_fin(const segment& seg) const noexcept
    {
        return (state_ == state::close_wait || state_ == state::closing || state_ == state::last_ack) &&
               seg.seq() == rcv_.nxt - 1;
    }
    std::uint32_t sack_send_budget(const config& cfg) const noexcept;
    bool next_sack_retransmission(context& ctx, outgoing& out, std::size_t avail) noexcept;
    void send_range(seq32 begin, std::uint32_t length, context& ctx, outgoing& out) noexcept;
    bool rack_detect(context& ctx) noexcept;
    void arm_loss_probe(context& ctx) noexcept;
    void on_loss_probe_timeout(context& ctx) noexcept;
    bool send_loss_probe(context& ctx, outgoing& out, std::size_t avail) noexcept;

    // output (impl/connection_output.ipp)
    bool next_handshake_segment(context& ctx, outgoing& out) noexcept;
    bool next_data_segment(context& ctx, outgoing& out) noexcept;
    void fill_common(outgoing& out, context& ctx) noexcept;
    void fill_sack_blocks(wire::tcp_options& options, std::size_t count) const noexcept;
    /// RFC 2018 §3-§4: how many SACK blocks our segments carry now. Asked for every
    /// segment: the common answer, nothing held out of order, stays here.
    std::size_t sack_blocks_to_send() const noexcept
    {
        if (!sack_ok_ || fin_received_ || (!dsack_pending_ && !remote_fin_pending_ && !rcvbuf_.has_out_of_order()))
            return 0;
        return sack_blocks_held();
    }
    std::size_t sack_blocks_held() const noexcept;
    bool fin_adjoins_held_range() const noexcept;
    seq32 held_seq(std::size_t position) const noexcept;
    /// RFC 9293 §3.7.1, RFC 6691: options come out of the MSS, which counts only the
    /// fixed headers. After the handshake SACK blocks are the only option beside
    /// timestamps: while they are on every segment (sack_blocks_to_send), data segments
    /// are that much shorter, as Linux's tcp_current_mss makes them, so none exceeds the
    /// path's MTU. The blocks take at most half of snd_.mss: what is left is at least 1.
    std::uint16_t data_mss() const noexcept
    {
        return static_cast<std::uint16_t>(payload_mss() - wire::tcp_option::sack_aligned(sack_blocks_to_send()));
    }
    void note_sack_arrival(seq32 first) noexcept;
    void note_refused(recv_buffer::refusal why, bool in_order, context& ctx) noexcept;
    void note_segment_size(std::size_t text, const segment& seg, const context& ctx) noexcept;
    void shrink_for_black_hole(const context& ctx) noexcept;
    void discard(discard_reason r) noexcept { ++stats_.discarded[static_cast<std::size_t>(r)]; }
    void note_duplicate(seq32 left, seq32 right) noexcept;
    void count_dsack_for_undo(const sack_scoreboard::update_result& r, context& ctx) noexcept;
    bool recovery_needless_by_timestamp(const segment& seg) const noexcept;
    bool echo_predates_retransmission(const segment& seg) const noexcept;
    void note_head_echo(const segment& seg) noexcept;
    void undo_reduction(context& ctx) noexcept;
    void note_held_duplicate(std::size_t offset, std::size_t length) noexcept;
    std::uint16_t advertise_window(context& ctx) noexcept;
    std::uint32_t receive_space(const config& cfg) const noexcept;
    /// After the application read: a window update if reading opened the window enough.
    void after_read(context& ctx) noexcept;
    /// receive()'s answer when nothing is readable: end of stream, closed, or not yet.
    std::error_code nothing_readable() const noexcept;
    std::uint32_t flight_size() const noexcept { return static_cast<std::uint32_t>(snd_.max - snd_.una); }
    std::uint32_t reduction_flight() const noexcept;
    std::size_t send_data_offset() const noexcept { return static_cast<std::size_t>(snd_.nxt - data_start()); }
    // The SYN takes ISS; data starts after it. A flag, not `SND.UNA == ISS`: after 2^32
    // bytes SND.UNA meets ISS again (RFC 9293 §3.4 arithmetic is modular).
    seq32 data_start() const noexcept { return syn_acked_ ? snd_.una : iss_ + 1; }
    bool fin_acked() const noexcept { return fin_queued_ && seq_gt(snd_.una, fin_seq_); }
    /// Only our FIN is left to deliver: every byte acknowledged, the FIN not (sent or not).
    bool only_fin_left() const noexcept { return fin_queued_ && sndbuf_.size() == 0 && snd_.una == fin_seq_; }
    void record_sent(const outgoing& out, std::uint32_t seq_length, context& ctx) noexcept;
    std::uint16_t announced_mss(const config& cfg) const noexcept;

    // timers (impl/connection_timers.ipp)
    void arm(timer t, instant at) noexcept { timers_[static_cast<std::size_t>(t)] = at; }
    void disarm(timer t) noexcept { timers_[static_cast<std::size_t>(t)] = never; }
    bool armed(timer t) const noexcept { return deadline(t) != never; }
    void on_retransmit_timeout(context& ctx) noexcept;
    void on_persist_timeout(context& ctx) noexcept;
    void on_keepalive_timeout(context& ctx) noexcept;
    void restart_keepalive(context& ctx) noexcept;
    void update_retransmit_timer(context& ctx) noexcept;

    // The congestion-window trace: compared before and after each call into the policy.
    struct cc_values {
        std::uint32_t cwnd;
        std::uint32_t ssthresh;
        bool in_recovery;
    };
    cc_values cc_now() const noexcept { return {cc_.cwnd(), cc_.ssthresh(), cc_.in_recovery()}; }
    void trace_cc(const cc_values& before, cc_cause why, instant now) noexcept
    {
        if (trace_ != nullptr && (cc_.cwnd() != before.cwnd || cc_.ssthresh() != before.ssthresh))
            trace_->record(cc_record{now, cc_.cwnd(), cc_.ssthresh(), why});
    }

    four_tuple id_;
    tcp::state state_ = tcp::state::closed;
    send_sequence snd_;
    seq32 iss_;
    receive_sequence rcv_;
    seq32 irs_;

    send_buffer sndbuf_;
    recv_buffer rcvbuf_;
    rtt_estimator rtt_;
    CC cc_{cc::init{}};
    /// The flight's SACK recovery state, from ctx.recovery_blocks; nullptr between
    /// flights, and for a flight that found none free.
    recovery_state<CC>* recovery_ = nullptr;
    std::array<instant, static_cast<std::size_t>(timer::count)> timers_{never, never, never, never, never, never};

    // The sender's bookkeeping beyond §3.3.1.
    seq32 fin_seq_;               ///< sequence number of our FIN, once queued
    seq32 rtt_seq_;               ///< RFC 6298 §3 / Karn: the segment being timed ends here
    instant rtt_start_{};         ///< when it was sent; instant{} when nothing is timed
    std::uint64_t rtt_delivered_ = 0;  ///< stats_.bytes_acked then: the delivery-rate sample's start
    instant oldest_unacked_sent_{};  ///< for the user timeout (RFC 9293 §3.10.8)
    instant last_received_{};     ///< for keep-alive (RFC 1122 §4.2.3.6)
    instant out_of_order_since_{};  ///< see out_of_order_since()
    instant last_sent_{};         ///< for restart after idle (RFC 5681 §4.1)
    instant last_unacceptable_ack_{};  ///< RFC 5961 §7 throttle of ACKs to unacceptable segments
    duration persist_interval_{0};
    seq32 remote_fin_seq_;        ///< where the peer's FIN sits, when it arrived out of order
    std::error_code error_;
    errc soft_error_{};           ///< RFC 1122 §4.2.3.9: reported if the connection times out
    connection_stats stats_;
    cc_trace* trace_ = nullptr;   ///< stack::set_trace; not owned
    std::uint16_t peer_mss_ = wire::default_mss;
    std::uint16_t path_mss_ = 0xffff;  ///< RFC 1191: the largest segment the path takes, from ICMP
    std::uint16_t rcv_mss_ = wire::default_mss;      ///< the peer's full-sized segment as seen (note_segment_size)
    std::uint16_t last_seg_size_ = 0;  ///< ... and the last smaller one, to follow it down
    bool may_fragment_ = false;        ///< the path reported an MTU below 576: DF is cleared (on_icmp_error)
    std::uint8_t duplicate_acks_ = 0;
    std::uint8_t black_hole_reductions_ = 0;  ///< steps down by shrink_for_black_hole (at most a handful)
    std::uint8_t keepalive_probes_sent_ = 0;
    std::uint8_t orphan_probes_sent_ = 0;  ///< zero-window probes since the application let go

    bool passive_ = false;
    bool syn_acked_ = false;        ///< our SYN is acknowledged (SND.UNA passed ISS once)
    bool nodelay_ = false;
    bool keepalive_ = false;
    bool released_ = false;
    bool fin_queued_ = false;        ///< the user closed the sending side: FIN at fin_seq_
    bool fin_received_ = false;
    bool remote_fin_pending_ = false;  ///< a FIN arrived beyond RCV.NXT
    bool ack_now_ = false;
    bool fast_retransmit_ = false;
    bool probe_ = false;             ///< persist: send one byte beyond the window
    bool keepalive_probe_ = false;
    bool peer_offered_scale_ = false;
    bool wscale_ok_ = false;         ///< RFC 7323 §2.2: both SYNs carried Window Scale
    bool sack_ok_ = false;           ///< RFC 2018 §2: both SYNs carried SACK-permitted
    // RFC 6675 / RFC 6937 sender state beside recovery_, used while sack_recovery_on().
    seq32 recovery_point_;        ///< RFC 6675 RecoveryPoint (exclusive: SND.MAX at entry)
    seq32 rto_recovery_point_;    ///< RFC 6675 §5.1: no new recovery until SND.UNA reaches it
    std::uint32_t sndcnt_ = 0;    ///< RFC 6937 sndcnt left from the last ACK
    std::uint32_t flight_before_dupacks_ = 0;  ///< FlightSize at the first DupAck, before limited transmit
    // Sending held back by cwnd in this round trip, or in the last (Linux's
    // is_cwnd_limited): then a full window is what the network carried (reduction_flight()).
    bool cwnd_limited_now_ = false;
    bool cwnd_limited_before_ = false;
    seq32 cwnd_round_end_;
    std::uint32_t cwnd_at_ack_ = 0;  ///< cwnd as the ACK being processed arrived, before it grew
    // RFC 3708 §3: a recovery's retransmissions [undo_marker_, undo_end_) not yet D-SACKed.
    seq32 undo_marker_;
    seq32 undo_end_;
    std::uint32_t undo_retransmits_ = 0;
    bool undo_armed_ = false;
    std::uint8_t sack_dupacks_ = 0;  ///< RFC 6675 §5 DupAcks
    bool sack_recovering_ = false;   ///< inside an RFC 6675 loss recovery
    bool rto_guard_ = false;         ///< a timeout's RecoveryPoint holds back a new recovery
    bool rescue_sent_ = false;       ///< RFC 6675 RescueRxt: rule (4) used in this recovery
    bool retransmit_head_ = false;   ///< RFC 6675 §5 (4.3) / RFC 6298 §5.4: resend at SND.UNA first
    // RFC 8985 RACK-TLP state.
    rack_reordering reordering_;
    duration min_rtt_ = duration::max();  ///< RACK.min_RTT: the least RTT sample seen
    seq32 rack_round_end_;        ///< a round trip ends when this is acknowledged (D-SACK steps)
    seq32 tlp_end_seq_;           ///< §7.3 TLP.end_seq
    bool tlp_outstanding_ = false;   ///< a probe is out and unanswered (one per episode)
    bool tlp_is_retrans_ = false;    ///< §7.3 TLP.is_retrans
    bool tlp_due_ = false;           ///< the PTO fired: the next segment is the probe
    bool reorder_timer_ = false;     ///< timer::loss_probe is RACK's reordering timer now
    // RFC 7323 §3-§5 state.
    std::uint32_t ts_offset_ = 0;  ///< §7.1: added to the 1 ms clock
    std::uint32_t ts_recent_ = 0;  ///< §4.3 TS.Recent
    instant ts_recent_stamp_{};    ///< when TS.Recent was last set (§5.5: invalid after 24 days idle)
    seq32 last_ack_sent_;          ///< §4.3 Last.ACK.sent
    bool ts_ok_ = false;           ///< §3.2: both SYNs carried TSopt
    std::uint8_t sack_recent_count_ = 0;
    bool dsack_pending_ = false;     ///< RFC 2883 §4: dsack_ leads the next SACK option
    bool dsack_enabled_ = false;     ///< config::dsack, as the connection opened
    wire::sack_block dsack_{};       ///< the latest duplicate received, to report once
    /// RFC 2018 §4: the first byte of the latest out-of-order arrivals, newest first;
    /// their blocks lead the SACK option.
    std::array<seq32, wire::tcp_options::max_sack_blocks> sack_recent_{};
};

}  // namespace tcpx::tcp

#include <tcpx/tcp/impl/connection_input.ipp>
#include <tcpx/tcp/impl/connection_output.ipp>
#include <tcpx/tcp/impl/connection_recovery.ipp>
#include <tcpx/tcp/impl/connection_timestamps.ipp>
#include <tcpx/tcp/impl/connection_timers.ipp>
#include <tcpx/tcp/impl/connection_user.ipp>
