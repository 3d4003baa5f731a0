// tcpx/clock/tsc.hpp — steady_clock's time, read for a fraction of its cost: the
// CPU's time-stamp counter carries the time forward between readings of
// std::chrono::steady_clock.
//
// Why: a stack reads the clock once per poll(). On a KVM guest (kvm-clock) a
// steady_clock reading costs about 26 ns and rdtsc about 11 ns; a one-thread
// request/response loop polls four times per transaction, so the difference was 13%
// of its time. The kernel's own timekeeping does the same thing one level down: a
// counter read and a multiplication between anchors the kernel sets.
//
// How: the clock keeps an anchor — a counter value and the steady_clock time read
// with it — and a rate (nanoseconds per tick, 32.32 fixed point). now() reads the
// counter; within `resync` of the anchor it answers anchor time + ticks x rate,
// otherwise it reads steady_clock and moves the anchor there. The rate is measured
// over the whole time since calibration began, so it only gets more precise, and the
// error between anchors (rate error x at most `resync`) stays far below the one
// microsecond that tcpx::instant resolves.
//   - Until `calibration` has passed since the first reading, every now() reads
//     steady_clock: the clock is exactly steady_clock then.
//   - A counter that went backwards (another core's unsynchronised TSC), jumped
//     (a migrated virtual machine), or disagrees with steady_clock by more than
//     `tolerance` at an anchor restarts calibration, so the clock falls back to
//     steady_clock for a while instead of drifting.
//   - A steady_clock reading pairs with the counter read on both sides of it; one
//     that took long (an interrupt, a preemption) is used as a time but not as an
//     anchor, so it cannot skew the rate or the extrapolations that follow. Where
//     every reading takes that long (a virtual machine that traps the clock read),
//     the clock never anchors and is simply steady_clock: correct, not faster.
//   - now() never decreases: each answer is at least the one before it.
//   - Without an invariant TSC (CPUID 8000_0007H EDX bit 8: constant rate in every
//     power state), or off x86-64, every now() reads steady_clock.
//
// One clock per stack: now() updates the anchor, so a clock must not be shared
// between threads. A copy starts from the original's calibration and anchor and goes
// on by itself.
//
// Models tcpx::clock (concepts.hpp). basic_tsc takes the counter and the reference
// clock as parameters, so the tests drive both by hand.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

#include <tcpx/concepts.hpp>
#include <tcpx/time.hpp>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

namespace tcpx::clocks {

namespace detail {

/// The time-stamp counter, or 0 where there is none to trust.
struct tsc_counter {
    bool usable() const noexcept
    {
#if defined(__x86_64__) && defined(__GNUC__)
        static const bool invariant = [] {
            unsigned a = 0, b = 0, c = 0, d = 0;
            if (static_cast<unsigned>(__get_cpuid_max(0x80000000u, nullptr)) < 0x80000007u) return false;
            __cpuid(0x80000007u, a, b, c, d);
            return (d & (1u << 8)) != 0;  // invariant TSC
        }();
        return invariant;
#else
        return false;
#endif
    }
    std::uint64_t operator()() const noexcept
    {
#if defined(__x86_64__) && defined(__GNUC__)
        return __builtin_ia32_rdtsc();
#else
        return 0;
#endif
    }
};

/// std::chrono::steady_clock in nanoseconds.
struct steady_reference {
    std::int64_t operator()() const noexcept
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
};

}  // namespace detail

/// Reference time carried forward by Counter between readings (see the file comment).
/// Counter: `bool usable()` and `std::uint64_t operator()()`; Reference:
/// `std::int64_t operator()()` in nanoseconds, never decreasing.
template <class Counter, class Reference>
class basic_tsc {
public:
    /// Calibration runs this long on reference readings before the counter is used.
    static constexpr std::int64_t calibration_ns = 10'000'000;
    /// The reference is read again at least this often.
    static constexpr std::int64_t resync_ns = 1'000'000;
    /// At an anchor, an extrapolation this far from the reference restarts calibration.
    static constexpr std::int64_t tolerance_ns = 100'000;
    /// A reference reading becomes an anchor only if the counter moved at most this much
    /// while it was taken (a reading costs tens of ns, some 100 ticks): one taken across
    /// an interrupt or a preemption would pair a tick count with a later time.
    static constexpr std::uint64_t max_read_ticks = 4096;
    /// Extrapolated readings in a row before the reference is read regardless (a
    /// counter that stopped would otherwise stop the clock).
    static constexpr std::uint32_t max_extrapolated = 1u << 16;

    basic_tsc() = default;
    basic_tsc(Counter counter, Reference reference) : counter_{counter}, reference_{reference}, usable_{counter_.usable()} {}

    instant now() noexcept
    {
        std::int64_t ns;
        if (!usable_) {
            ns = reference_();
        } else {
            const std::uint64_t ticks = counter_();
            const std::uint64_t since_anchor = ticks - anchor_ticks_;  // huge if it went backwards
            if (rate_ != 0 && since_anchor < resync_ticks_ && extrapolated_ < max_extrapolated) {
                ns = anchor_ns_ + static_cast<std::int64_t>((since_anchor * rate_) >> 32);
                ++extrapolated_;
            } else {
                ns = reference_();
                const std::uint64_t after = counter_();
                // The reading belongs to the middle of the ticks it took; one that took
                // too long is answered but does not move the anchor (the next call tries).
                if (after >= ticks && after - ticks <= max_read_ticks) anchor(ticks + (after - ticks) / 2, ns);
            }
        }
        if (ns < last_ns_) ns = last_ns_;
        last_ns_ = ns;
        return instant{std::chrono::duration_cast<duration>(std::chrono::nanoseconds{ns})};
    }

    /// Whether the counter carries the time now (false while calibrating or without one).
    bool extrapolating() const noexcept { return rate_ != 0; }

private:
    // A reference reading `ns`, taken with counter value `ticks`, becomes the anchor.
    void anchor(std::uint64_t ticks, std::int64_t ns) noexcept
    {
        if (rate_ != 0) {
            // Does the counter still agree with the reference? (In floating point: after
            // a long sleep the counter may have moved too far for a 64-bit product.)
            bool agrees = ticks >= anchor_ticks_;
            if (agrees) {
                const double moved = std::ldexp(static_cast<double>(ticks - anchor_ticks_), -32) *
                                     static_cast<double>(rate_);
                const double error = static_cast<double>(anchor_ns_ - ns) + moved;
                agrees = std::fabs(error) <= static_cast<double>(tolerance_ns);
            }
            if (agrees) {
                set_rate(ticks, ns);  // over the whole run since calibration began
            } else {
                restart(ticks, ns);
            }
        } else if (!calibrating_ || ticks <= start_ticks_ || ns < start_ns_) {
            restart(ticks, ns);
        } else if (ns - start_ns_ >= calibration_ns) {
            set_rate(ticks, ns);
        }
        anchor_ticks_ = ticks;
        anchor_ns_ = ns;
        extrapolated_ = 0;
    }

    void restart(std::uint64_t ticks, std::int64_t ns) noexcept
    {
        rate_ = 0;
        calibrating_ = true;
        start_ticks_ = ticks;
        start_ns_ = ns;
    }

    void set_rate(std::uint64_t ticks, std::int64_t ns) noexcept
    {
        // ns per tick over the whole calibration, in 32.32 fixed point. A rate that
        // does not fit (a counter slower than 1 tick per 4 s or faster than 2^32 per
        // ns), or a resync interval of 0 ticks, leaves the clock on the reference.
        const double per_tick = static_cast<double>(ns - start_ns_) / static_cast<double>(ticks - start_ticks_);
        const double fixed = std::ldexp(per_tick, 32);
        if (!(fixed >= 1.0 && fixed < 0x1p63)) return restart(ticks, ns);
        const auto rate = static_cast<std::uint64_t>(fixed);
        const std::uint64_t resync = (static_cast<std::uint64_t>(resync_ns) << 32) / rate;
        if (resync == 0) return restart(ticks, ns);
        rate_ = rate;
        resync_ticks_ = resync;
    }

    [[no_unique_address]] Counter counter_{};
    [[no_unique_address]] Reference reference_{};
    bool usable_ = counter_.usable();
    bool calibrating_ = false;
    std::uint64_t rate_ = 0;          // ns per tick, 32.32 fixed point; 0: not calibrated
    std::uint64_t resync_ticks_ = 0;  // resync_ns in ticks at rate_
    std::uint64_t anchor_ticks_ = 0;
    std::int64_t anchor_ns_ = 0;
    std::uint64_t start_ticks_ = 0;  // where calibration began
    std::int64_t start_ns_ = 0;
    std::uint32_t extrapolated_ = 0;  // readings from the counter since the anchor
    std::int64_t last_ns_ = std::numeric_limits<std::int64_t>::min();
};

/// steady_clock's time through the time-stamp counter: the clock for a stack that polls
/// often. Where the counter is not invariant, exactly clocks::steady.
using tsc = basic_tsc<detail::tsc_counter, detail::steady_reference>;

static_assert(tcpx::clock<tsc>);

}  // namespace tcpx::clocks
