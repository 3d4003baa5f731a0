// tcpx/tcp/rtt_estimator.hpp — the retransmission timeout of one connection.
//
// Have open: RFC 6298 (Computing TCP's Retransmission Timer); RFC 9293 §3.8.1.
//
// This class is the arithmetic of RFC 6298 and nothing else:
//   §2.1-2.3  SRTT, RTTVAR and RTO from round-trip-time samples,
//   §2.4-2.5  the lower and upper bounds on RTO,
//   §5.5      exponential backoff when the retransmission timer expires,
//   §5.7      the 3-second restart after a retransmitted SYN.
//
// The caller (the sender) keeps what needs knowledge of segments:
//   - Which samples are valid. RFC 6298 §3 (Karn's algorithm): an ACK for a
//     segment that was retransmitted is ambiguous and MUST NOT give a sample,
//     unless timestamps (RFC 7323 §4) say which transmission it answers. The
//     estimator trusts every sample it is handed.
//   - The timer itself (§5.1-5.6: start, restart, stop, what to retransmit) and
//     when it expired, i.e. when to call backoff().
//   - Counting retransmissions and giving up (RFC 9293 §3.8.3, R1/R2).
//
// Precision. The RFC's gains are 1/8 and 1/4, so holding SRTT and RTTVAR in
// whole microseconds would round away up to a microsecond per sample, and the
// rounding error would settle into the averages (a constant 37 µs RTT need not
// converge to 37). Both are held in fixed point, in units of 1/256 µs: the RFC
// formulas are then integer operations whose rounding stays below 1/50 µs, and
// the accessors and rto() round to the nearest microsecond once, at the end.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include <tcpx/time.hpp>

namespace tcpx::tcp {

/// The configurable constants of RFC 6298. tcpx's config carries one of these.
struct rto_bounds {
    /// RFC 6298 §2.1: RTO before any sample (and §5.7's value once a SYN is retransmitted
    /// is the larger of this and 3 s).
    duration initial = 1s;
    /// RFC 6298 §2.4 says RTO SHOULD be rounded up to 1 s. Linux uses 200 ms
    /// (TCP_RTO_MIN), as do most stacks since; 1 s makes every tail loss on a
    /// LAN cost a second. Set 1s here for the RFC's conservative value.
    duration min = 200ms;
    /// RFC 6298 §2.5: a maximum MAY be placed on RTO provided it is at least 60 s.
    /// 120 s is Linux's TCP_RTO_MAX.
    duration max = 120s;
    /// G, the clock granularity of RFC 6298 §2.3 and §4: the floor on the variance term.
    duration granularity = 1ms;
};

class rtt_estimator {
public:
    /// RFC 6298 §5.7: the RTO data transmission starts with after a SYN timed out.
    static constexpr duration syn_timeout_restart = 3s;
    /// Samples longer than this (about 71 minutes) are taken as this long. No real
    /// RTT comes near it; the limit keeps every intermediate below 2^44, far from overflow.
    static constexpr duration sample_limit = duration{std::int64_t{1} << 32};

    /// Bounds are used as given, except that they are made consistent:
    /// 1 µs <= min <= max, 0 <= granularity <= sample_limit.
    explicit rtt_estimator(rto_bounds bounds = {}) noexcept : bounds_{normalised(bounds)},
                                                              initial_{bounds_.initial}
    {
    }

    /// Feeds one RTT measurement R (a valid one: see Karn's algorithm above).
    /// Negative samples are taken as 0.
    void on_sample(duration r) noexcept
    {
        const std::int64_t rtt = std::clamp(r.count(), std::int64_t{0}, sample_limit.count()) * scale;
        if (!has_sample_) {
            // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2 (exact: scale is even).
            srtt_ = rtt;
            rttvar_ = rtt / 2;
            has_sample_ = true;
        } else {
            // RFC 6298 §2.3, in its order: RTTVAR is updated with the SRTT from
            // before this sample. Each division rounds to the nearest unit.
            //   RTTVAR <- (1 - beta)·RTTVAR + beta·|SRTT - R'|,  beta = 1/4
            const std::int64_t err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
            rttvar_ = (3 * rttvar_ + err + 2) / 4;
            //   SRTT <- (1 - alpha)·SRTT + alpha·R',  alpha = 1/8
            srtt_ = (7 * srtt_ + rtt + 4) / 8;
        }
        // RFC 6298 §5, note after rule 5.7: a new measurement recomputes RTO from
        // §2, "collapsing" an RTO that was backed off under rule 5.5.
        backoff_ = 0;
    }

    /// The retransmission timeout to arm the timer with now: RTO from §2, clamped
    /// to [min, max], times 2^backoff_count(), capped at max.
    duration rto() const noexcept
    {
        std::int64_t base = initial_.count();  // RFC 6298 §2.1 (or §5.7's restart)
        if (has_sample_) {
            // RFC 6298 §2.3: RTO <- SRTT + max(G, K·RTTVAR), K = 4.
            const std::int64_t g = bounds_.granularity.count() * scale;
            base = to_us(srtt_ + std::max(g, 4 * rttvar_));
        }
        // RFC 6298 §2.4 (lower bound, see rto_bounds::min) and §2.5 (upper bound).
        base = std::clamp(base, bounds_.min.count(), bounds_.max.count());
        // RFC 6298 §5.5: each expiry doubles RTO; §2.5's maximum bounds the doubling.
        const std::int64_t max = bounds_.max.count();
        if (backoff_ >= 63 || base > (max >> backoff_)) {
            return bounds_.max;
        }
        return duration{base << backoff_};
    }

    /// RFC 6298 §5.5: the retransmission timer expired; back off (RTO doubles,
    /// up to max). Counts expiries; the count saturates rather than wrap.
    void backoff() noexcept
    {
        if (backoff_ < std::numeric_limits<unsigned>::max()) {
            ++backoff_;
        }
    }

    /// Drops the backoff without a sample (on_sample() already does this).
    void reset_backoff() noexcept { backoff_ = 0; }

    /// Call when the handshake completes if the SYN (or our SYN-ACK) was
    /// retransmitted. RFC 6298 §5.7 (MUST): when the timer expired awaiting the ACK
    /// of a SYN and RTO is below 3 s, RTO is re-initialised to 3 s once data
    /// transmission begins — the timeout suggests a path slower than the 1 s
    /// guess. With a sample (e.g. from a timestamp echo) SRTT already tells the
    /// truth and is kept. The handshake's backoff is dropped either way. A max
    /// below 3 s still caps the result.
    void restart_after_syn_timeout() noexcept
    {
        backoff_ = 0;
        if (!has_sample_) {
            initial_ = std::max(initial_, syn_timeout_restart);
        }
    }

    bool has_sample() const noexcept { return has_sample_; }

    /// SRTT, rounded to the nearest microsecond; 0 before the first sample.
    duration srtt() const noexcept { return duration{to_us(srtt_)}; }
    /// RTTVAR, rounded to the nearest microsecond; 0 before the first sample.
    duration rttvar() const noexcept { return duration{to_us(rttvar_)}; }
    /// How many times backoff() was called since the last sample or reset.
    unsigned backoff_count() const noexcept { return backoff_; }

    const rto_bounds& bounds() const noexcept { return bounds_; }

private:
    /// Fixed-point units per microsecond for SRTT and RTTVAR (see "Precision").
    static constexpr std::int64_t scale = 256;

    /// Fixed point to microseconds, rounding half up (values are never negative).
    static constexpr std::int64_t to_us(std::int64_t v) noexcept { return (v + scale / 2) / scale; }

    static constexpr rto_bounds normalised(rto_bounds b) noexcept
    {
        b.min = std::max(b.min, duration{1});
        b.max = std::max(b.max, b.min);
        b.granularity = std::clamp(b.granularity, duration::zero(), sample_limit);
        return b;
    }

    rto_bounds bounds_;
    duration initial_;          // RTO while there is no sample
    std::int64_t srtt_ = 0;     // SRTT in 1/scale µs
    std::int64_t rttvar_ = 0;   // RTTVAR in 1/scale µs
    unsigned backoff_ = 0;      // RFC 6298 §5.5 doublings in force
    bool has_sample_ = false;
};

}  // namespace tcpx::tcp
