// tcpx/cc/newreno.hpp — NewReno, RFC 6582: Reno (RFC 5681) whose fast recovery lasts
// until everything outstanding at its start is acknowledged, retransmitting one
// segment per partial acknowledgment, so several losses in one window are repaired
// without the retransmission timer. Have open: RFC 6582 §3.2 and §6, RFC 5681 §3.
//
//   cc::newreno_recovery  the loss-recovery state machine of RFC 6582 §3.2 on its own
//                         (the variable "recover", partial and full acknowledgments). It
//                         leaves open how far ssthresh falls, so cc::cubic reuses it with
//                         β_cubic (RFC 9438 §4.6: CUBIC keeps the sender's loss recovery).
//   cc::newreno           the policy: RFC 5681 growth (detail::reno_growth), eq. 4 for
//                         ssthresh, and newreno_recovery.
//
// Choices the RFC leaves open, and tcpx's:
//   - Full acknowledgment (§3.2 step 3): option (1), cwnd = min(ssthresh, max(FlightSize,
//     SMSS) + SMSS). The sender has no other burst limit, and with option (2) an ACK that
//     covers a large hole could release a whole window at once.
//   - The retransmission timer: the connection restarts it on every ACK of new data
//     (RFC 6298 §5.3), partial ACKs included — the "Slow-but-Steady" behaviour (RFC 6582
//     §3.2 step 3 asks for the first partial ACK at least).
//   - recover starts at the ISS (step 1), but the first fast retransmit is not held back:
//     read literally, "ack_number - 1 > recover" would refuse it for a loss of the very
//     first data segment (whose duplicates carry ISS + 1), though no recovery has begun
//     that could have caused those duplicates. FreeBSD reads it the same way (ack > iss).
//   - The heuristics of RFC 6582 §4 (ACK and timestamp) for duplicates after a timeout
//     are not used: after a timeout, the check of step 2 alone decides.
#pragma once

#include <algorithm>
#include <cstdint>

#include <tcpx/cc/detail/hystart.hpp>
#include <tcpx/cc/detail/window.hpp>
#include <tcpx/cc/events.hpp>
#include <tcpx/concepts.hpp>
#include <tcpx/wire/seq32.hpp>

namespace tcpx::cc {

/// RFC 6582 §3.2 fast recovery, without a view on ssthresh: the caller computes ssthresh
/// (RFC 5681 eq. 4, or RFC 9438 §4.6) and keeps cwnd; this keeps "recover" and says what
/// each event does to cwnd. SND.UNA is followed through note_ack().
class newreno_recovery {
public:
    /// RFC 6582 §3.2 step 1: "When the TCP protocol control block is initialized,
    /// recover is set to the initial send sequence number."
    explicit newreno_recovery(seq32 iss = seq32{}) noexcept : recover_{iss}, una_{iss + 1} {}

    /// Inside fast recovery (RFC 6582 §6 advises a flag of its own: the duplicate-ACK
    /// count is reset by window updates and reordering).
    bool active() const noexcept { return active_; }
    /// RFC 6582 "recover": the highest sequence number sent (inclusive) when fast
    /// retransmit was last entered, or when the retransmission timer last fired.
    seq32 recover() const noexcept { return recover_; }

    /// Every cumulative ACK, new or duplicate: SND.UNA, for recover at a timeout. Once an
    /// ACK covers more than recover, later ones do too (SND.UNA never goes back); keeping
    /// that as a flag keeps the answer across sequence wraparound (RFC 6582 §6).
    void note_ack(seq32 ack) noexcept
    {
        una_ = ack;
        if (!active_ && covers_more_than_recover(ack)) covered_ = true;
    }

    /// RFC 6582 §3.2 step 2: on the third duplicate ACK, fast retransmit only "if the
    /// Cumulative Acknowledgment field covers more than recover" — not for duplicates
    /// that the retransmissions of an earlier recovery or timeout may have caused.
    bool may_enter(seq32 ack) const noexcept { return covered_ || covers_more_than_recover(ack); }

    /// Step 2 then RFC 5681 §3.2 steps 2–3: "the value of recover is incremented to the
    /// value of the highest sequence number transmitted by the TCP so far"; the caller
    /// has set ssthresh and retransmits. Returns cwnd = ssthresh + 3*SMSS.
    /// `paced`: the sender runs this recovery itself, paced by PRR (cc::loss_event).
    std::uint32_t enter(seq32 highest_sent, std::uint32_t ssthresh, std::uint32_t smss, bool paced = false) noexcept
    {
        recover_ = highest_sent - 1;
        covered_ = false;
        active_ = true;
        paced_ = paced;
        return detail::saturating_add(ssthresh, 3 * smss);
    }

    /// A duplicate ACK inside recovery: RFC 5681 §3.2 step 4, cwnd += SMSS ("if any
    /// duplicate ACKs subsequently arrive, execute step 4", RFC 6582 §3.2 step 3).
    static std::uint32_t inflate(std::uint32_t cwnd, std::uint32_t smss) noexcept
    {
        return detail::saturating_add(cwnd, smss);
    }

    struct outcome {
        std::uint32_t cwnd;  ///< the new cwnd
        action act;          ///< retransmit for a partial ACK
    };

    /// RFC 6582 §3.2 step 3, for an ACK of new data while active().
    outcome on_ack(const ack_event& e, std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t smss) noexcept
    {
        note_ack(e.ack);
        if (seq_gt(e.ack, recover_)) {
            // Full acknowledgment: "acknowledges all of the data up to and including
            // recover". Option (1): "min (ssthresh, max(FlightSize, SMSS) + SMSS)", with
            // FlightSize "the amount of data presently outstanding". "Exit the fast
            // recovery procedure."
            active_ = false;
            if (covers_more_than_recover(e.ack)) covered_ = true;
            // Option (2), "ssthresh", after a recovery PRR paced (RFC 6937: it brings the
            // flight to ssthresh by the end; Linux's tcp_end_cwnd_reduction). Option (1)
            // guards against a burst where the window was inflated, as PRR's never is; and
            // where the peer's window held the flight back during recovery (a hole pins its
            // left edge), the full ACK covers nearly all of it, and (1) would leave a
            // window of two segments to slow-start from.
            if (paced_) return {ssthresh, action::none};
            return {std::min(ssthresh, detail::saturating_add(std::max(e.flight_after(), smss), smss)), action::none};
        }
        // Partial acknowledgment: "retransmit the first unacknowledged segment. Deflate
        // the congestion window by the amount of new data acknowledged ... If the partial
        // ACK acknowledges at least one SMSS of new data, then add back SMSS bytes."
        std::uint32_t w = cwnd > e.bytes_acked ? cwnd - e.bytes_acked : 0;
        if (e.bytes_acked >= smss) w = detail::saturating_add(w, smss);
        // Not below one segment: the ACKs this recovery still waits for are what clocks
        // it, and a window the accounting drove to nothing would leave only the timer.
        return {std::max(w, smss), action::retransmit};
    }

    /// RFC 6582 §3.2 step 4: "After a retransmit timeout, record the highest sequence
    /// number transmitted in the variable recover, and exit the fast recovery procedure
    /// if applicable." That is SND.UNA + FlightSize - 1.
    void on_timeout(std::uint32_t flight_size) noexcept
    {
        recover_ = una_ + flight_size - 1;
        covered_ = false;
        active_ = false;
    }

private:
    /// "ack_number - 1 > recover; i.e., at least one byte more of data is acknowledged
    /// beyond the highest byte that was outstanding when fast retransmit was last entered."
    bool covers_more_than_recover(seq32 ack) const noexcept { return seq_gt(ack - 1, recover_); }

    seq32 recover_;
    seq32 una_;
    bool covered_ = true;  // see the header: the ISS holds back no first fast retransmit
    bool active_ = false;
    bool paced_ = false;
};

/// RFC 6582 NewReno. Models tcpx::congestion_control.
class newreno {
public:
    explicit newreno(init i) noexcept
        : smss_{std::max<std::uint32_t>(i.smss, 1)}, iw_{cc::initial_window(i)}, cwnd_{iw_}, recovery_{i.iss},
          hystart_{i.hystart}
    {
    }

    std::uint32_t cwnd() const noexcept { return cwnd_; }
    std::uint32_t ssthresh() const noexcept { return ssthresh_; }
    bool in_recovery() const noexcept { return recovery_.active(); }
    seq32 recover() const noexcept { return recovery_.recover(); }
    std::uint32_t smss() const noexcept { return smss_; }
    std::uint32_t initial_window() const noexcept { return iw_; }
    detail::hystart_pp::phase hystart_phase() const noexcept { return hystart_.current(); }

    action on_ack(const ack_event& e) noexcept
    {
        timeouts_.on_ack();
        if (recovery_.active()) {
            const auto o = recovery_.on_ack(e, cwnd_, ssthresh_, smss_);
            cwnd_ = o.cwnd;
            if (!recovery_.active()) growth_.restart();
            return o.act;
        }
        recovery_.note_ack(e.ack);
        // RFC 5681 §3.1: slow start (with RFC 9406 HyStart++) or congestion avoidance, as Reno.
        cwnd_ = cwnd_ < ssthresh_ ? detail::hystart_slow_start(hystart_, growth_, e, cwnd_, ssthresh_, smss_)
                                  : growth_.on_ack(cwnd_, ssthresh_, e.bytes_acked, smss_);
        return action::none;
    }

    action on_duplicate_ack(const duplicate_ack_event& e) noexcept
    {
        recovery_.note_ack(e.ack);
        const std::uint32_t flight = flight_.observe(e);
        if (recovery_.active()) {
            cwnd_ = newreno_recovery::inflate(cwnd_, smss_);
            return action::none;
        }
        // RFC 5681 §3.2 step 1: limited transmit is the sender's; cwnd waits for the third.
        if (e.count != 3) return action::none;
        // RFC 6582 §3.2 step 2: "If not, the TCP does not enter fast retransmit and does
        // not reset ssthresh."
        if (!recovery_.may_enter(e.ack)) return action::none;
        ssthresh_ = detail::halved_flight(flight, smss_);  // RFC 5681 §3.2 step 2, eq. 4
        cwnd_ = recovery_.enter(e.highest_sent, ssthresh_, smss_);
        growth_.restart();
        hystart_.on_loss();
        return action::retransmit;
    }

    /// The sender found a loss by SACK or time and runs the recovery (events.hpp):
    /// eq. 4, cwnd = ssthresh (RFC 6675 §5 step 4.2), recover = the highest sent, so
    /// the ACK that ends it is a full acknowledgment (RFC 6582 §3.2 step 3).
    void on_loss(const loss_event& e) noexcept
    {
        recovery_.note_ack(e.una);
        ssthresh_ = detail::halved_flight(e.flight_size, smss_);
        recovery_.enter(e.highest_sent, ssthresh_, smss_, true);
        cwnd_ = ssthresh_;
        growth_.restart();
        hystart_.on_loss();
    }

    void on_timeout(std::uint32_t flight_size, instant) noexcept
    {
        // RFC 5681 §3.1: eq. 4 (held on repeated timeouts of one segment) and LW.
        if (timeouts_.first_timeout()) ssthresh_ = detail::halved_flight(flight_size, smss_);
        cwnd_ = smss_;
        recovery_.on_timeout(flight_size);
        growth_.on_timeout();
        hystart_.restart();
    }

    void on_idle(instant) noexcept
    {
        cwnd_ = std::min(cwnd_, iw_);  // RFC 5681 §4.1: RW = min(IW, cwnd)
        growth_.restart();
        hystart_.restart();
    }

private:
    std::uint32_t smss_;
    std::uint32_t iw_;
    std::uint32_t cwnd_;
    std::uint32_t ssthresh_ = UINT32_MAX;  // RFC 5681 §3.1: "arbitrarily high"
    newreno_recovery recovery_;
    detail::reno_growth growth_;
    detail::flight_before_limited_transmit flight_;
    detail::timeout_series timeouts_;
    detail::hystart_pp hystart_;
};

static_assert(congestion_control<newreno>);

}  // namespace tcpx::cc
