// tcpx/wire/seq32.hpp — TCP sequence numbers as a type (RFC 9293 §3.4).
//
// Sequence numbers live in a 32-bit modular space, so "a comes before b" is only
// meaningful when the two are less than 2^31 apart (serial-number arithmetic,
// RFC 1982 §3.2). There is deliberately no operator<: on a modular space it is not
// transitive (a < b < c < a can all hold), a trap other stacks fell into. Use the
// named comparisons below, which say in which direction they look.
//
//   seq32 + n          the number n bytes later (n is a byte count, wraps)
//   seq32 - seq32      signed distance in bytes, valid when |distance| < 2^31
//   seq_lt/le/gt/ge    modular order, RFC 9293 §3.4's "=<" and "<"
//   in_window(s, first, len)   first =< s < first + len  (RFC 9293 §3.4 test forms)
#pragma once

#include <cstdint>

namespace tcpx {

/// A TCP sequence or acknowledgment number.
class seq32 {
public:
    constexpr seq32() noexcept = default;
    constexpr explicit seq32(std::uint32_t value) noexcept : value_{value} {}

    /// The raw 32-bit value, e.g. for the wire.
    constexpr std::uint32_t value() const noexcept { return value_; }

    constexpr seq32 operator+(std::uint32_t bytes) const noexcept { return seq32{value_ + bytes}; }
    constexpr seq32 operator-(std::uint32_t bytes) const noexcept { return seq32{value_ - bytes}; }
    constexpr seq32& operator+=(std::uint32_t bytes) noexcept { value_ += bytes; return *this; }
    constexpr seq32& operator-=(std::uint32_t bytes) noexcept { value_ -= bytes; return *this; }

    /// Signed distance from `b` to `a`: positive when a is after b. Defined by
    /// two's complement wrap, so it is exact whenever the true distance is below 2^31.
    friend constexpr std::int32_t operator-(seq32 a, seq32 b) noexcept
    {
        return static_cast<std::int32_t>(a.value_ - b.value_);
    }

    friend constexpr bool operator==(seq32, seq32) noexcept = default;

private:
    std::uint32_t value_ = 0;
};

/// a comes strictly before b (RFC 9293 §3.4 "<").
constexpr bool seq_lt(seq32 a, seq32 b) noexcept { return (a - b) < 0; }
/// a comes before or is b (RFC 9293 §3.4 "=<").
constexpr bool seq_le(seq32 a, seq32 b) noexcept { return (a - b) <= 0; }
constexpr bool seq_gt(seq32 a, seq32 b) noexcept { return (a - b) > 0; }
constexpr bool seq_ge(seq32 a, seq32 b) noexcept { return (a - b) >= 0; }

constexpr seq32 seq_max(seq32 a, seq32 b) noexcept { return seq_lt(a, b) ? b : a; }
constexpr seq32 seq_min(seq32 a, seq32 b) noexcept { return seq_lt(a, b) ? a : b; }

/// first =< s < first + len, measured forward from `first`, so it is exact for any
/// len up to 2^32 - 1 (a window never exceeds 2^30, RFC 7323 §2.3). len == 0 is
/// an empty window: nothing is inside it.
constexpr bool in_window(seq32 s, seq32 first, std::uint32_t len) noexcept
{
    return s.value() - first.value() < len;
}

}  // namespace tcpx
