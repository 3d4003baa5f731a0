// Loss recovery by SACK (RFC 6675 §5, §5.1, §8) paced by PRR (RFC 6937), for
// tcpx/tcp/connection.hpp. Not to be included directly.
//
// Who does what: the scoreboard (sack_scoreboard.hpp) knows which octets the peer
// holds, which are lost and which are being retransmitted; PRR (prr.hpp) says how
// much may go out per ACK; the congestion policy is asked once, when recovery begins,
// how far ssthresh falls (cc::loss_event), and sees the ACK that ends it. Connections
// without SACK keep the policy's own RFC 5681 / RFC 6582 recovery.
#pragma once

#include <algorithm>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace tcpx::tcp {

namespace detail {
// A policy that does not handle cc::loss_event hears of the loss as the third
// duplicate ACK, which every policy answers by reducing (concepts.hpp).
template <class K>
concept handles_loss_event = requires(K& k, const cc::loss_event& e) {
    { k.on_loss(e) } -> std::same_as<void>;
};
}  // namespace detail

// A flight begins on a SACK connection: its recovery_state (recovery_state.hpp) from
// the stack's pool. None free: this flight goes without, recovered by the policy's
// RFC 5681 / RFC 6582 rules like a connection without SACK, and the next one asks again.
template <congestion_control CC>
void connection<CC>::begin_flight(context& ctx) noexcept
{
    static_assert(std::is_trivially_destructible_v<recovery_state<CC>>,
                  "a congestion policy holds numbers: its state is copied and dropped, never destroyed");
    if (!sack_ok_ || !syn_acked_ || !ctx.cfg.sack_recovery || ctx.recovery_blocks == nullptr) return;
    const tcpx::detail::block_pool::block b = ctx.recovery_blocks->acquire();
    if (b.storage == nullptr) {
        ++stats_.flights_without_recovery_state;
        return;
    }
    // Constructed once, in a fresh block; a used one (another flight's, or another
    // connection's) holds a recovery_state still: only the flight's part is reset.
    if (b.fresh) {
        recovery_ = ::new (b.storage) recovery_state<CC>{};
    } else {
        recovery_ = std::launder(static_cast<recovery_state<CC>*>(b.storage));
        recovery_->board.clear(ctx.pool);
        recovery_->rack.clear();
    }
    board().use_dupthresh_rule(!ctx.cfg.rack);  // RFC 8985 in charge of losses when on
}

// Everything sent is acknowledged. The scoreboard and RACK's log describe nothing now;
// what RACK learned of reordering stays (reordering_). The policy from before the last
// recovery stays as long as D-SACK may still undo that recovery (Linux, too, undoes on
// a D-SACK that arrives after the recovery): the late original of a retransmission is
// reported when it arrives, often after the ACK that took everything.
template <congestion_control CC>
void connection<CC>::end_flight(context& ctx) noexcept
{
    // Nothing is in flight: whatever recovery, probe or head retransmission was pending
    // has nothing left to act on (a probe that found everything taken may still learn
    // of a D-SACK: tlp_outstanding_ stays).
    sack_recovering_ = false;
    sndcnt_ = 0;
    retransmit_head_ = false;
    tlp_due_ = false;
    reorder_timer_ = false;
    if (undo_armed_) {
        // Kept two SRTTs (at least 10 ms, the probe timer's floor): the D-SACK of a late
        // original comes within a round trip of the ACK that took everything. Then the
        // loss-probe timer, idle otherwise between flights, gives the block back.
        recovery_->board.clear(ctx.pool);
        recovery_->rack.clear();
        arm(timer::loss_probe, ctx.now + std::max<duration>(2 * rtt_.srtt(), std::chrono::milliseconds{10}));
        return;
    }
    release_recovery_state(ctx);
}

template <congestion_control CC>
void connection<CC>::release_recovery_state(context& ctx) noexcept
{
    if (recovery_ == nullptr) return;
    recovery_->board.clear(ctx.pool);  // its chunks, if it held many ranges, go back
    ctx.recovery_blocks->release(recovery_);
    recovery_ = nullptr;
    // What only a recovery state gives meaning to goes with it.
    undo_armed_ = false;
    sack_recovering_ = false;
    sndcnt_ = 0;
    retransmit_head_ = false;
    tlp_due_ = false;
    reorder_timer_ = false;
}

// RFC 2883 §4 between flights: a first block wholly below the cumulative ACK reports a
// segment received twice — the path reorders (RFC 8985 §6.2 step 3), or a retransmission
// was needless. With no recovery state no reduction is waiting to be undone.
template <congestion_control CC>
void connection<CC>::take_dsack_between_flights(const segment& seg, context&) noexcept
{
    const auto blocks = seg.header.options.sack_blocks();
    if (blocks.empty() || !seq_lt(blocks[0].left, blocks[0].right) || !seq_le(blocks[0].right, seg.ack())) return;
    ++stats_.dsacks_received;
    reordering_.on_dsack();
    // RFC 8985 §7.4.1: a D-SACK for a probe that retransmitted: both copies arrived.
    if (tlp_outstanding_ && tlp_is_retrans_) tlp_outstanding_ = false;
}

// RFC 6675 §5: "Upon the receipt of any ACK containing SACK information, the
// scoreboard MUST be updated via the Update () routine." Before SND.UNA moves, so the
// change in SACKed bytes can be measured across the cumulative ACK.
template <congestion_control CC>
typename connection<CC>::sack_arrival connection<CC>::take_sack_blocks(const segment& seg, context& ctx) noexcept
{
    // The common ACK: no blocks, and none held from before — only RACK's steps 1-2, and
    // not even those when it takes everything (the flight ends: its RACK state goes).
    if (seg.header.options.sack_count == 0 && board().quiet()) {
        if (seq_gt(seg.ack(), snd_.una) && seg.ack() != snd_.max)
            rack_state().on_delivered(rack_state().sent_at(seg.ack() - 1), seg.ack(), ctx.now, payload_mss());
        return {};
    }
    const std::uint32_t before = board().sacked_bytes();
    const seq32 fack = board().highest_sacked(snd_.una);  // RACK.fack before this ACK
    const auto r = board().update(seg.ack(), snd_.max, seg.header.options.sack_blocks(), ctx.pool);
    stats_.sack_ranges_forgotten += r.forgotten;
    // RFC 8985 §6.2 step 3: an ACK that delivers never-retransmitted data below RACK.fack
    // shows reordering ("RACK.reordering_seen"): the hole at SND.UNA filled, or a block
    // below the highest one, with no retransmission of ours in flight to explain it.
    const bool filled_hole = seq_gt(seg.ack(), snd_.una) && seq_gt(fack, snd_.una);
    const bool sacked_below = r.sacked_new && seq_lt(r.highest_new, fack);
    if ((filled_hole || sacked_below) && !board().retransmissions_outstanding() && !sack_recovering_ && !rto_guard_)
        reordering_.note_reordering();
    if (r.dsack) {
        ++stats_.dsacks_received;
        reordering_.on_dsack();  // RFC 8985 §6.2 step 4: reordering, the window widens
        count_dsack_for_undo(r, ctx);
    }
    // RFC 8985 §6.2 steps 1-2: the most recently sent of what this ACK delivered.
    if (seq_gt(seg.ack(), snd_.una)) rack_state().on_delivered(rack_state().sent_at(seg.ack() - 1), seg.ack(), ctx.now, payload_mss());
    if (r.sacked_new) rack_state().on_delivered(rack_state().sent_at(r.highest_new - 1), r.highest_new, ctx.now, payload_mss());
    return {static_cast<std::int64_t>(board().sacked_bytes()) - before, r.sacked_new, r.dsack};
}

// The rest of RFC 6675 §5 for one acceptable ACK, after the cumulative part is done.
template <congestion_control CC>
void connection<CC>::after_sack_ack(std::uint32_t acked, const sack_arrival& a, context& ctx) noexcept
{
    // §5: "If the incoming ACK is a cumulative acknowledgment, the TCP MUST reset
    // DupAcks to zero"; a DupAck (§2: it SACKs new data) outside recovery counts.
    if (acked != 0) sack_dupacks_ = 0;
    // The common ACK: it takes everything, and nothing was SACKed, lost or being
    // probed. No loss to find, no probe to arm; only the round trips move on.
    if (acked != 0 && snd_.una == snd_.max && !sack_recovering_ && !tlp_outstanding_ && board().quiet()) {
        rto_guard_ = false;  // §5.1: SND.UNA has passed any RecoveryPoint
        if (seq_ge(snd_.una, cwnd_round_end_)) {
            cwnd_limited_before_ = std::exchange(cwnd_limited_now_, false);
            cwnd_round_end_ = snd_.max;
        }
        if (seq_ge(snd_.una, rack_round_end_)) {
            reordering_.on_round();
            rack_round_end_ = snd_.max;
        }
        reorder_timer_ = false;
        disarm(timer::loss_probe);
        return;
    }
    if (acked == 0 && a.sacked_new && !sack_recovering_ && sack_dupacks_ < 255) {
        // (4.2)'s FlightSize leaves out what limited transmit (§5 (3)) sends from the
        // first DupAck on: SND.UNA stands still meanwhile, so it is the flight here.
        if (sack_dupacks_ == 0) flight_before_dupacks_ = flight_size();
        ++sack_dupacks_;
    }
    // §5.1: the RecoveryPoint of a timeout holds back a new recovery until it is reached.
    if (rto_guard_ && seq_ge(snd_.una, rto_recovery_point_)) rto_guard_ = false;

    // RFC 8985 §7.4: what became of an outstanding Tail Loss Probe.
    if (tlp_outstanding_) {
        if (tlp_is_retrans_ && a.dsack) {
            tlp_outstanding_ = false;  // original and probe both arrived: no loss
        } else if (seq_gt(snd_.una, tlp_end_seq_)) {
            // Data sent after the probe is acknowledged with no D-SACK for it: the probe
            // repaired a loss (Linux's tcp_process_tlp_ack reads it the same way) — the
            // congestion response of a recovery, with nothing left to retransmit.
            tlp_outstanding_ = false;
            if (tlp_is_retrans_ && !sack_recovering_) {
                ++stats_.loss_probe_recoveries;
                enter_sack_recovery(ctx);
                undo_armed_ = false;  // its one retransmission, the probe, is already behind SND.UNA
                retransmit_head_ = false;
                --stats_.fast_retransmits;
            }
        } else if (acked == 0 && !a.sacked_new && seq_ge(snd_.una, tlp_end_seq_)) {
            tlp_outstanding_ = false;  // a pure duplicate: the probe arrived as a duplicate
        }
    }
    // A new round trip for reduction_flight()'s question: was the window full?
    if (seq_ge(snd_.una, cwnd_round_end_)) {
        cwnd_limited_before_ = std::exchange(cwnd_limited_now_, false);
        cwnd_round_end_ = snd_.max;
    }
    // RFC 8985 §6.2 step 4: D-SACK steps of the reordering window, once per round trip.
    if (seq_ge(snd_.una, rack_round_end_)) {
        reordering_.on_round();
        rack_round_end_ = snd_.max;
    }
    // With nothing SACKed or retransmitted, everything in flight was sent after what was
    // just delivered (first transmissions go in sequence order): RACK has nothing to
    // mark and no timer to set, so the walk of the send log is skipped.
    const bool rack_armed = ctx.cfg.rack && (reorder_timer_ || !board().quiet()) && rack_detect(ctx);
    // Without RACK, a lost retransmission is still found by what was SACKed after it.
    if (!ctx.cfg.rack && board().detect_lost_retransmits(snd_.una, payload_mss()) != 0) ++stats_.lost_retransmits;
    rack_state().on_cumulative_ack(snd_.una);

    // With RACK on, time decides what is lost, as in Linux (RFC 8985 §6.2 step 4 sets the
    // window to 0 until reordering is seen, which then matches DupThresh); RFC 6675's
    // DupAck count is left to a peer that negotiated SACK but sends no blocks.
    const bool by_dupacks = ctx.cfg.rack ? board().empty() && duplicate_acks_ >= sack_scoreboard::dup_thresh
                                         : std::max(sack_dupacks_, duplicate_acks_) >= sack_scoreboard::dup_thresh;
    if (!sack_recovering_ && !rto_guard_ && snd_.una != snd_.max &&
        // §5 (1) DupAcks >= DupThresh, or (2) IsLost (HighACK + 1).
        (by_dupacks || board().is_lost(snd_.una, payload_mss()))) {
        enter_sack_recovery(ctx);
    }
    // RFC 8985 §7.2: "upon receiving an ACK that cumulatively acknowledges new data".
    if (acked != 0 && !rack_armed) arm_loss_probe(ctx);
    if (!sack_recovering_) return;
    // RFC 6937 §3, on every ACK during recovery: DeliveredData = change in snd.una +
    // change in SACKed (which falls when the cumulative ACK covers SACKed data).
    const std::int64_t delivered = std::max<std::int64_t>(acked + a.sacked_change, 0);
    const std::uint32_t pipe = board().pipe(snd_.una, snd_.max, payload_mss());
    sndcnt_ = ctx.cfg.proportional_rate_reduction
                  ? recovery_->prr.on_ack(static_cast<std::uint32_t>(delivered), pipe, cc_.ssthresh(), payload_mss())
                  : 0;
}

// RFC 6675 §5 step (4): "Invoke fast retransmit and enter loss recovery".
template <congestion_control CC>
void connection<CC>::enter_sack_recovery(context& ctx) noexcept
{
    // (4.1) "RecoveryPoint = HighData": recovery ends when all of it is acknowledged.
    recovery_point_ = snd_.max;
    // (4.2) ssthresh (and cwnd) from the policy: RFC 5681 eq. 4, or RFC 9438's β.
    // RFC 3708 §3: remember what this recovery reduces, to undo it if every retransmission
    // it makes turns out needless (RFC 9438 §4.9 restores the "_prior" state).
    undo_armed_ = ctx.cfg.undo_spurious_reductions && std::is_copy_assignable_v<CC>;
    if constexpr (std::is_copy_assignable_v<CC>) recovery_->cc_before_loss = cc_;
    undo_marker_ = snd_.una;
    undo_end_ = snd_.max;
    undo_retransmits_ = 0;
    recovery_->head_echo_seen = recovery_->head_echo_original = false;
    const std::uint32_t flight = reduction_flight();
    const cc_values before = cc_now();
    if constexpr (detail::handles_loss_event<CC>) {
        cc_.on_loss(cc::loss_event{snd_.una, flight, snd_.max, ctx.now});
    } else {
        (void)cc_.on_duplicate_ack(cc::duplicate_ack_event{snd_.una, 3, flight, snd_.max, ctx.now});
    }
    trace_cc(before, cc_cause::fast_retransmit, ctx.now);
    // RFC 6937 §3: RecoverFS = snd.nxt - snd.una, the RFC's snd.nxt being the highest sent.
    recovery_->prr.start(flight_size());
    sndcnt_ = 0;
    sack_recovering_ = true;
    rescue_sent_ = false;
    // (4.3) "Retransmit the first data segment presumed dropped".
    retransmit_head_ = true;
    ++stats_.sack_recoveries;
    ++stats_.fast_retransmits;
}

// RFC 5681 §3.2 step 2 (eq. 4), RFC 6675 §5 (4.2), RFC 9438 §4.6: the FlightSize a
// reduction starts from. "any segments sent as part of the Limited Transmit mechanism
// [are] not counted". Measured at the ACK that reveals the loss, FlightSize falls short
// of what the network carried whenever a window's ACKs arrive together — a receiver
// that acknowledges a burst in two or three ACKs (Linux's does), taken by the stack in
// one batch from the device before it sends again: the earlier ACKs have taken their
// data off and nothing refilled the window in between. Reducing that flight left
// ssthresh at about 0.6 of Linux's on a lossy path. So when sending was held back by cwnd in this
// round trip or the last, the window was full and cwnd is what the network carried —
// what Linux reduces from; RFC 9438 §4.6 allows cwnd where it cannot outgrow the
// flight, which is what the condition checks. cwnd as the ACK arrived: the policy has
// just grown it by what that ACK acknowledged, which no flight ever carried (Linux, too,
// grows no window on the ACK that starts a recovery). An application-limited flow keeps
// its measured flight.
template <congestion_control CC>
std::uint32_t connection<CC>::reduction_flight() const noexcept
{
    const std::uint32_t measured =
        sack_dupacks_ != 0 ? std::min(flight_before_dupacks_, flight_size()) : flight_size();
    return cwnd_limited_now_ || cwnd_limited_before_ ? std::max(measured, cwnd_at_ack_) : measured;
}

// RFC 6675 §5.1 for a retransmission timeout on a SACK connection; the policy has
// already cut cwnd to the loss window.
template <congestion_control CC>
void connection<CC>::sack_on_timeout(context& ctx) noexcept
{
    // §8 and RFC 2018 §8: the receiver may have dropped data it SACKed ("reneging").
    // A block that starts at SND.UNA shows it: the peer holds that data, yet its
    // cumulative ACK does not cover it. Then nothing it SACKed can be trusted.
    if (board().is_sacked(snd_.una)) {
        board().clear(ctx.pool);
        ++stats_.sack_reneging;
    }
    // §5.1: "RecoveryPoint MUST be set to HighData ... the loss recovery algorithm ...
    // MUST be terminated", and no new one "until HighACK is greater than or equal to the
    // new value of RecoveryPoint". Everything unSACKed is lost (the retransmissions
    // too); the slow start that follows fills in the holes the scoreboard shows, not
    // data the peer already holds.
    sack_recovering_ = false;
    sndcnt_ = 0;
    undo_armed_ = false;  // the timeout's reduction is not one D-SACK can undo here
    board().forget_retransmits();
    board().mark_lost_upto(snd_.max);
    rto_recovery_point_ = snd_.max;
    rto_guard_ = true;
    sack_dupacks_ = 0;
    retransmit_head_ = true;  // RFC 6298 §5.4: the earliest unacknowledged segment first
    tlp_outstanding_ = false;
    tlp_due_ = false;
    reorder_timer_ = false;
}

// Bytes the congestion state lets out now: PRR's sndcnt in recovery (RFC 6937), else
// cwnd - pipe (RFC 6675 §5 (C)), pipe standing in for FlightSize.
template <congestion_control CC>
std::uint32_t connection<CC>::sack_send_budget(const config& cfg) const noexcept
{
    if (sack_recovering_ && cfg.proportional_rate_reduction) return sndcnt_;
    const std::uint32_t pipe = board().pipe(snd_.una, snd_.max, payload_mss());
    const std::uint32_t cwnd = cc_.cwnd();
    return cwnd > pipe ? cwnd - pipe : 0;
}

// RFC 6675 §4 NextSeg() and §5 (C): the retransmission to send now, if any. Rule (2),
// new data, is next_data_segment's; this answers false when it should go first.
template <congestion_control CC>
bool connection<CC>::next_sack_retransmission(context& ctx, outgoing& out, std::size_t avail) noexcept
{
    const std::uint32_t smss = payload_mss();
    // Not when it is already on its way again: RACK's timer may have found it lost, and
    // NextSeg (1) sent it, before the ACK or the timer that began this recovery.
    if (retransmit_head_ && board().retransmitting(snd_.una)) retransmit_head_ = false;
    if (retransmit_head_) {
        // (4.3), or after a timeout RFC 6298 §5.4: the segment at SND.UNA, whatever the window.
        // Cut at the first SACKed range; without any (a peer that negotiated SACK but
        // sends no blocks) it is a plain fast retransmission.
        retransmit_head_ = false;
        seq32 end = seq_min(snd_.max, snd_.una + smss);
        if (!board().empty() && seq_lt(board().sacked().front().begin, end))
            end = seq_max(snd_.una, board().sacked().front().begin);
        if (seq_lt(snd_.una, end)) {
            send_range(snd_.una, static_cast<std::uint32_t>(end - snd_.una), ctx, out);
            return true;
        }
    }
    const std::uint32_t budget = sack_send_budget(ctx.cfg);
    if (budget == 0 || (!sack_recovering_ && budget < smss)) return false;
    // Rule (1): the first lost octet not yet retransmitted.
    if (const auto n = board().next_retransmission(snd_.una, snd_.max, smss, false)) {
        send_range(n->seq, n->length, ctx, out);
        return true;
    }
    if (!sack_recovering_) return false;
    // Rule (2): new data, when there is a segment's worth the peer's window takes.
    const std::uint32_t in_window = snd_.wnd > static_cast<std::uint32_t>(snd_.nxt - snd_.una)
                                        ? snd_.wnd - static_cast<std::uint32_t>(snd_.nxt - snd_.una)
                                        : 0;
    if (avail != 0 && in_window != 0 && (avail >= smss || nodelay_ || fin_queued_)) return false;
    // Rule (3): unSACKed data below the highest SACK, though not yet deemed lost.
    if (const auto n = board().next_retransmission(snd_.una, snd_.max, smss, true)) {
        send_range(n->seq, n->length, ctx, out);
        return true;
    }
    // Rule (4), the rescue retransmission, once per recovery ("HighACK > RescueRxt":
    // RescueRxt = RecoveryPoint, which HighACK passes only when recovery ends). It is for
    // a tail no SACK can show lost; when "the highest outstanding unSACKed sequence
    // number" is already in a retransmission of this recovery (a hole just below a SACKed
    // tail), the rescue would send those octets twice in a row — every short flow that
    // lost one segment near its end did, and the second copy came back D-SACKed.
    // With RACK on, not before RACK itself could call those octets lost (RFC 8985 §6.2:
    // RACK.rtt after they were sent): sooner, their ACK may simply still be on its way —
    // at the end of a transfer the last segment, sent a moment after the ones whose SACK
    // began the recovery, always is. A later ACK (the one for this recovery's
    // retransmissions) asks again.
    const auto too_soon = [&](seq32 last) {
        if (!ctx.cfg.rack || !rack_state().has_delivery()) return false;
        const instant sent = rack_state().sent_at(last);
        // At RACK.rtt exactly too: sent in the same burst as what set RACK.rtt, and after it.
        return sent != never && ctx.now - sent <= rack_state().rtt();
    };
    if (!rescue_sent_) {
        const auto n = board().rescue(snd_.una, snd_.max, smss);
        if (n && !board().retransmitting(n->seq + (n->length - 1)) && !too_soon(n->seq + (n->length - 1))) {
            rescue_sent_ = true;
            ++stats_.rescue_retransmits;
            send_range(n->seq, n->length, ctx, out);
            return true;
        }
    }
    return false;
}

// RFC 8985 §6.2 step 5 for first transmissions and retransmissions alike: marks what
// time says is lost on the scoreboard, and arms the reordering timer for what is not yet
// old enough. Returns whether that timer is armed.
template <congestion_control CC>
bool connection<CC>::rack_detect(context& ctx) noexcept
{
    if (!rack_state().has_delivery() || snd_.una == snd_.max) return false;
    const duration min_rtt = min_rtt_ == duration::max() ? rtt_.srtt() : min_rtt_;
    const bool dupthresh_sacked = board().sacked_bytes() >= sack_scoreboard::dup_thresh * payload_mss();
    const duration reo_wnd = reordering_.reo_wnd(sack_recovering_, dupthresh_sacked, min_rtt, rtt_.srtt());
    const auto v = rack_state().detect(snd_.una, ctx.now, reo_wnd);
    const seq32 before = board().lost_frontier(snd_.una, payload_mss());
    if (seq_gt(v.lost_below, before)) {
        board().mark_lost_upto(v.lost_below);
        ++stats_.rack_marked_lost;
    }
    if (board().detect_lost_retransmits(snd_.una, payload_mss(), [&](instant sent) {
            return rack_state().retransmission_lost(sent, ctx.now, reo_wnd);
        }) != 0)
        ++stats_.lost_retransmits;
    reorder_timer_ = v.timer != never;
    if (reorder_timer_) arm(timer::loss_probe, v.timer);
    return reorder_timer_;
}

// RFC 8985 §7.2: the probe timeout, PTO = 2*SRTT (plus the worst-case delayed ACK when
// one segment is in flight, whose ACK the peer may hold), never beyond the RTO.
template <congestion_control CC>
void connection<CC>::arm_loss_probe(context& ctx) noexcept
{
    if (reorder_timer_ && armed(timer::loss_probe)) return;  // RACK's timer comes first
    const bool eligible = ctx.cfg.tail_loss_probe && sack_recovery_on() && !sack_recovering_ &&
                          !rto_guard_ && !tlp_outstanding_ && snd_.una != snd_.max && rtt_.has_sample() &&
                          state_ != state::syn_received;
    if (!eligible) {
        disarm(timer::loss_probe);
        return;
    }
    duration pto = 2 * rtt_.srtt();
    // "If FlightSize is equal to one segment ... PTO += WCDelAckT" (200 ms, RECOMMENDED).
    if (flight_size() <= payload_mss()) pto += std::chrono::milliseconds{200};
    pto = std::max<duration>(pto, std::chrono::milliseconds{10});  // Linux's floor: timer slack
    const instant at = ctx.now + pto;
    if (armed(timer::retransmit) && at >= deadline(timer::retransmit)) {
        disarm(timer::loss_probe);  // the RTO comes first: no probe (§7.2 "PTO = min(PTO, RTO)")
        return;
    }
    arm(timer::loss_probe, at);
}

// timer::loss_probe fired: RACK's reordering timer (§6.2 step 5) or the PTO (§7.3).
template <congestion_control CC>
void connection<CC>::on_loss_probe_timeout(context& ctx) noexcept
{
    // Between flights the timer can only be end_flight()'s: the wait for a late D-SACK is over.
    if (snd_.una == snd_.max) {
        release_recovery_state(ctx);
        return;
    }
    if (!sack_recovery_on()) return;
    if (reorder_timer_) {
        reorder_timer_ = false;
        // RFC 8985 §6.2 step 5: what the timer found lost starts a recovery (RFC 6675 §5
        // (2), IsLost(HighACK + 1)) at once, even while later segments still wait on
        // the timer; else NextSeg would resend the head outside recovery, and the
        // recovery's own first retransmission (4.3) send it again.
        const bool waiting = ctx.cfg.rack && rack_detect(ctx);
        cwnd_at_ack_ = cc_.cwnd();  // no ACK: the window is as it stands
        if (!sack_recovering_ && !rto_guard_ && board().is_lost(snd_.una, payload_mss())) {
            enter_sack_recovery(ctx);
            return;
        }
        if (!waiting) arm_loss_probe(ctx);
        return;
    }
    // §7.3: "If the PTO timer expires ...", one probe per episode.
    if (sack_recovering_ || rto_guard_ || tlp_outstanding_) return;
    tlp_due_ = true;
}

// RFC 8985 §7.3: the probe itself — a new segment if the peer's window allows one, else
// the last segment sent (the highest unSACKed); then the RTO is armed again.
template <congestion_control CC>
bool connection<CC>::send_loss_probe(context& ctx, outgoing& out, std::size_t avail) noexcept
{
    const std::uint32_t in_flight = static_cast<std::uint32_t>(snd_.nxt - snd_.una);
    const std::uint32_t room = snd_.wnd > in_flight ? snd_.wnd - in_flight : 0;
    if (avail != 0 && room != 0) {
        const std::size_t len = std::min<std::size_t>({avail, data_mss(), room});
        fill_common(out, ctx);
        out.header.seq = snd_.nxt;
        out.payload_offset = send_data_offset();
        out.payload_length = len;
        std::uint32_t seq_length = static_cast<std::uint32_t>(len);
        if (fin_queued_ && len == avail && snd_.nxt + seq_length == fin_seq_) {
            out.header.flags |= tcp_flags::fin;
            ++seq_length;
        }
        tlp_is_retrans_ = false;
        tlp_outstanding_ = true;  // before record_sent: a probe arms no further probe
        record_sent(out, seq_length, ctx);
    } else if (const auto n = board().rescue(snd_.una, snd_.max, payload_mss())) {
        tlp_is_retrans_ = true;
        tlp_outstanding_ = true;
        send_range(n->seq, n->length, ctx, out);
    } else {
        return false;
    }
    tlp_end_seq_ = snd_.max;  // "TLP.end_seq = SND.NXT"
    ++stats_.loss_probes;
    arm(timer::retransmit, ctx.now + rtt_.rto());  // "the sender MUST ... arm the RTO timer"
    return true;
}

// Sends [begin, begin + length) of the flight again (the FIN with it when it lies there)
// and notes it on the scoreboard (RFC 6675 §5 (C.2)).
template <congestion_control CC>
void connection<CC>::send_range(seq32 begin, std::uint32_t length, context& ctx, outgoing& out) noexcept
{
    fill_common(out, ctx);
    out.header.seq = begin;
    out.payload_offset = static_cast<std::size_t>(begin - data_start());
    std::uint32_t seq_length = length;
    std::size_t payload = length;
    if (fin_queued_ && seq_gt(snd_.max, fin_seq_) && seq_gt(begin + length, fin_seq_)) {
        out.header.flags |= tcp_flags::fin;
        payload = static_cast<std::size_t>(fin_seq_ - begin);
    }
    out.payload_length = payload;
    // The segment as it was first sent: SACK blocks give way to it (as for a fast
    // retransmission, next_data_segment).
    const std::size_t fit = wire::tcp_option::sack_blocks_within(payload_mss() > payload ? payload_mss() - payload : 0);
    if (out.header.options.sack_count > fit) out.header.options.sack_count = static_cast<std::uint8_t>(fit);
    record_sent(out, seq_length, ctx);
    board().record_retransmit(begin, begin + length, snd_.max, ctx.now);
    if (undo_armed_ && sack_recovering_ && seq_lt(begin, undo_end_)) {
        // RFC 3522 §2 RetransmitTS: the TSval of the recovery's first retransmission.
        if (undo_retransmits_ == 0) recovery_->first_retransmit_tsval = ts_clock(ctx.now);
        undo_retransmits_ += (length + payload_mss() - 1) / payload_mss();
    }
}

// RFC 3708 §3 (D-SACK detection of a spurious recovery): "if the TCP data sender
// receives a D-SACK for each of the retransmitted segments" of a recovery, none was
// lost — reordering, or a delay, set it off. Counted per segment of the recovery's
// range, as Linux's undo_retrans; undo_reduction() is the response.
template <congestion_control CC>
void connection<CC>::count_dsack_for_undo(const sack_scoreboard::update_result& r, context& ctx) noexcept
{
    if (!undo_armed_ || undo_retransmits_ == 0) return;
    const auto& d = r.dsack_range;
    if (seq_lt(d.begin, undo_marker_) || seq_gt(d.end, undo_end_)) return;
    const std::uint32_t segments = (d.size() + payload_mss() - 1) / payload_mss();
    undo_retransmits_ -= std::min(undo_retransmits_, segments);
    if (undo_retransmits_ != 0) return;
    undo_reduction(ctx);
}

// RFC 3522 §2, the Eifel detection algorithm, where Linux applies it (tcp_packet_delayed,
// at the end of a recovery): the ACK that ends the recovery echoes a timestamp older than
// the recovery's first retransmission, so it was sent for an original transmission — the
// originals all arrived, late (reordering, or a delay), and every retransmission was
// needless. RFC 7323 §4.3 makes the echo that of the segment that filled the hole: the
// retransmission's own TSval if it was the retransmission, an older one if the original.
// The same 1 ms clock stamps both: an original sent in the same millisecond as the
// retransmission cannot be told apart, and is not taken as one.
template <congestion_control CC>
bool connection<CC>::echo_predates_retransmission(const segment& seg) const noexcept
{
    if (!ts_ok_ || !undo_armed_ || undo_retransmits_ == 0 || !seg.header.options.timestamp) return false;
    const std::uint32_t tsecr = seg.header.options.timestamp->tsecr;
    return tsecr != 0 && static_cast<std::int32_t>(tsecr - recovery_->first_retransmit_tsval) < 0;
}

// RFC 3522 §2 judges by "the first acceptable ACK" after the retransmission, the one
// that acknowledges the first retransmitted segment; Linux by the ACK that ends the
// recovery. Each alone can undo a recovery that repaired a loss — the head only late but
// a later hole lost (RFC 3522's ACK echoes an original), or the head lost and the last
// hole only late (Linux's does) — so both must echo an original: every hole was filled
// by its first transmission. Called for each ACK of new data inside a recovery.
template <congestion_control CC>
void connection<CC>::note_head_echo(const segment& seg) noexcept
{
    if (recovery_ == nullptr || recovery_->head_echo_seen || undo_retransmits_ == 0 || !seq_gt(seg.ack(), undo_marker_))
        return;
    recovery_->head_echo_seen = true;
    recovery_->head_echo_original = echo_predates_retransmission(seg);
}

template <congestion_control CC>
bool connection<CC>::recovery_needless_by_timestamp(const segment& seg) const noexcept
{
    return recovery_ != nullptr && recovery_->head_echo_seen && recovery_->head_echo_original &&
           echo_predates_retransmission(seg);
}

// The response to a needless recovery, RFC 9438 §4.9 for CUBIC and the same for every
// policy: the state from before the reduction comes back (never a smaller window than the
// one that has grown since), and a recovery still running ends.
template <congestion_control CC>
void connection<CC>::undo_reduction(context& ctx) noexcept
{
    undo_armed_ = false;
    if constexpr (std::is_copy_assignable_v<CC>) {
        const cc_values before = cc_now();
        if (recovery_->cc_before_loss.cwnd() > cc_.cwnd()) cc_ = recovery_->cc_before_loss;
        trace_cc(before, cc_cause::undo, ctx.now);
    }
    if (sack_recovering_) {
        sack_recovering_ = false;
        sndcnt_ = 0;
        reordering_.on_recovery_end();
    }
    ++stats_.reductions_undone;
}

}  // namespace tcpx::tcp
