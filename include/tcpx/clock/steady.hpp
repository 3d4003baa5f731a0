// tcpx/clock/steady.hpp — real time, for a stack that talks to the outside world.
//
// A model of tcpx::clock (concepts.hpp) over std::chrono::steady_clock: monotonic,
// unaffected by changes to the wall clock, which is what retransmission and
// TIME-WAIT timers need (a wall clock stepping back would stretch or cut them).
// tcpx::instant counts microseconds since steady_clock's own epoch (usually boot).
//
// The class is empty; store it with [[no_unique_address]] and it costs nothing.
//
// Namespace: tcpx::clocks, not tcpx::clock, because concepts.hpp already declares
// the concept tcpx::clock and a namespace may not share its name.
#pragma once

#include <chrono>

#include <tcpx/concepts.hpp>
#include <tcpx/time.hpp>

namespace tcpx::clocks {

/// The current time from std::chrono::steady_clock, truncated to microseconds.
class steady {
public:
    instant now() const noexcept
    {
        // duration_cast truncates toward zero; steady_clock's count is positive,
        // so truncation never makes a later reading compare below an earlier one.
        return instant{std::chrono::duration_cast<duration>(
            std::chrono::steady_clock::now().time_since_epoch())};
    }
};

static_assert(tcpx::clock<steady>);
static_assert(tcpx::clock<const steady>);

}  // namespace tcpx::clocks
