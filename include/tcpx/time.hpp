// tcpx/time.hpp — the one representation of time the protocol core sees.
//
// The core (tcp/) never names a clock type (DESIGN.md): a clock policy turns its
// reading into a tcpx::instant, and the core takes `now` as a value. Microsecond
// resolution is what RFC 6298 RTT estimation wants; 64 bits of microseconds
// last 292 000 years, so no wrap handling is needed.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace tcpx {

using duration = std::chrono::microseconds;

/// The epoch of tcpx::instant: arbitrary (a clock policy picks it), monotonic.
struct time_base {
    using rep = std::chrono::microseconds::rep;
    using period = std::chrono::microseconds::period;
    using duration = std::chrono::microseconds;
    using time_point = std::chrono::time_point<time_base, duration>;
    static constexpr bool is_steady = true;
};

using instant = time_base::time_point;

/// "No deadline": later than any instant a clock will report.
inline constexpr instant never = instant{duration{std::numeric_limits<duration::rep>::max()}};

using namespace std::chrono_literals;

}  // namespace tcpx
