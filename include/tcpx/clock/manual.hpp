// tcpx/clock/manual.hpp — simulated time, advanced only by the caller.
//
// A simulation runs several stacks (and the impaired link between them) on one
// timeline: the test owns a `manual_timeline`, hands each stack a `manual` clock
// pointing at it, and moves time with advance()/advance_to() — typically straight
// to the earliest deadline any stack's poll() returned. Nothing waits for real
// time, so a simulated hour takes milliseconds and a seed replays bit for bit.
//
//   tcpx::clocks::manual_timeline world;
//   tcpx::clocks::manual a{world}, b{world};   // two stacks, one "now"
//   world.advance(200ms);                      // both see the same jump
//
// The timeline starts at instant{} + 1 s, not at the epoch: an instant of 0 is
// what a default-constructed tcpx::instant holds, so a "now" of 0 would hide a
// forgotten initialisation (a deadline never set looks due at once).
//
// Namespace: tcpx::clocks, not tcpx::clock, because concepts.hpp already declares
// the concept tcpx::clock and a namespace may not share its name.
#pragma once

#include <tcpx/concepts.hpp>
#include <tcpx/time.hpp>

namespace tcpx::clocks {

/// The one "now" of a simulation. Not copyable: clocks point at it, so a copy
/// would silently split the world in two.
class manual_timeline {
public:
    /// The first instant a timeline reports (see the header comment for why not 0).
    static constexpr instant start = instant{} + std::chrono::seconds{1};

    manual_timeline() noexcept = default;
    manual_timeline(const manual_timeline&) = delete;
    manual_timeline& operator=(const manual_timeline&) = delete;

    instant now() const noexcept { return now_; }

    /// Moves time forward by d. A negative d is ignored: the tcpx::clock contract
    /// is that now() never decreases. Saturates at tcpx::never rather than wrap.
    void advance(duration d) noexcept
    {
        if (d <= duration::zero()) {
            return;
        }
        now_ = d < never - now_ ? now_ + d : never;
    }

    /// Moves time forward to t; a t in the past is ignored, for the same reason.
    /// Advancing to tcpx::never is allowed but leaves nothing after it.
    void advance_to(instant t) noexcept
    {
        if (t > now_) {
            now_ = t;
        }
    }

private:
    instant now_ = start;
};

/// A clock policy reading a manual_timeline: one pointer, cheap to copy, and every
/// copy sees the same time. The timeline must outlive every clock made from it.
class manual {
public:
    explicit manual(manual_timeline& timeline) noexcept : timeline_{&timeline} {}

    instant now() const noexcept { return timeline_->now(); }

private:
    manual_timeline* timeline_;
};

static_assert(tcpx::clock<manual_timeline>);
static_assert(tcpx::clock<manual>);

}  // namespace tcpx::clocks
