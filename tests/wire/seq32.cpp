// Tests for tcpx/wire/seq32.hpp: sequence-number arithmetic in the 32-bit modular
// space of RFC 9293 §3.4, compared as RFC 1982 §3.2 serial numbers.
#include <tcpx/wire/seq32.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <type_traits>

namespace {

using tcpx::seq32;

constexpr std::uint32_t half = 0x8000'0000u;  // 2^31: the antipode of 0
constexpr std::uint32_t max32 = 0xffff'ffffu;

constexpr seq32 s(std::uint32_t v) { return seq32{v}; }

// -- compile-time facts --------------------------------------------------------

// STYLE.md "Sequence numbers are a type": no operator< and friends. On a modular
// space "<" is not transitive (0 < 2^30 < 2^31 < 3*2^30 < 0), so a generic algorithm
// (std::sort, std::map) given seq32 would silently misbehave. The concepts make the
// requires-expressions dependent, so an invalid expression is "false", not an error.
template <class T> concept has_less = requires(T a, T b) { a < b; };
template <class T> concept has_less_equal = requires(T a, T b) { a <= b; };
template <class T> concept has_greater = requires(T a, T b) { a > b; };
template <class T> concept has_greater_equal = requires(T a, T b) { a >= b; };
template <class T> concept has_three_way = requires(T a, T b) { a <=> b; };
template <class T> concept has_equal = requires(T a, T b) { a == b; a != b; };
template <class T> concept adds_seq = requires(T a, T b) { a + b; };

static_assert(!has_less<seq32>);
static_assert(!has_less_equal<seq32>);
static_assert(!has_greater<seq32>);
static_assert(!has_greater_equal<seq32>);
static_assert(!has_three_way<seq32>);
static_assert(has_equal<seq32>);
// Adding two sequence numbers means nothing; only a byte count may be added.
static_assert(!adds_seq<seq32>);
// A raw integer does not silently become a sequence number.
static_assert(!std::is_convertible_v<std::uint32_t, seq32>);
static_assert(std::is_trivially_copyable_v<seq32> && sizeof(seq32) == 4);

// RFC 9293 §3.4: arithmetic is modulo 2^32.
static_assert(s(max32) + 1 == s(0));
static_assert(s(0) - 1u == s(max32));
static_assert((s(0) - s(max32)) == 1);
static_assert((s(max32) - s(0)) == -1);

// RFC 1982 §3.2: i1 < i2 when they are less than 2^31 apart going forward.
static_assert(seq_lt(s(0), s(half - 1)));
static_assert(!seq_gt(s(0), s(half - 1)));
static_assert(seq_gt(s(0), s(half + 1)));
static_assert(!seq_lt(s(0), s(half + 1)));
static_assert(seq_lt(s(max32), s(0)));
static_assert(seq_gt(s(0), s(max32)));

// The antipode (distance exactly 2^31), which RFC 1982 §3.2 leaves undefined.
// seq32 behaves as Linux's before()/after() do: the distance is INT32_MIN, so each
// number comes "before" the other and seq_lt is not antisymmetric there. Callers
// must never compare numbers 2^31 apart (a window never exceeds 2^30, RFC 7323 §2.3).
static_assert((s(0) - s(half)) == INT32_MIN);
static_assert((s(half) - s(0)) == INT32_MIN);
static_assert(seq_lt(s(0), s(half)) && seq_lt(s(half), s(0)));
static_assert(!seq_gt(s(0), s(half)) && !seq_gt(s(half), s(0)));

static_assert(in_window(s(5), s(5), 1));
static_assert(!in_window(s(5), s(5), 0));
static_assert(seq_max(s(max32), s(1)) == s(1));
static_assert(seq_min(s(max32), s(1)) == s(max32));

}  // namespace

// -- arithmetic ----------------------------------------------------------------

// RFC 9293 §3.4: "all arithmetic dealing with sequence numbers must be performed modulo 2**32".
TEST_CASE("seq32_add_past_2_pow_32_wraps_to_zero")
{
    CHECK(s(max32) + 1 == s(0));
    CHECK(s(max32) + 2 == s(1));
    CHECK(s(max32 - 9) + 20 == s(10));
    seq32 x{max32};
    x += 1;
    CHECK(x.value() == 0u);
    x -= 1;
    CHECK(x.value() == max32);
    CHECK(s(3) - 5u == s(max32 - 1));
    CHECK(s(7) + max32 == s(6));  // adding 2^32 - 1 is subtracting one
}

// RFC 9293 §3.4: the signed distance is what SND.UNA =< SEG.ACK =< SND.NXT tests rest on.
TEST_CASE("seq32_distance_is_signed_and_exact_across_wrap")
{
    CHECK(s(10) - s(3) == 7);
    CHECK(s(3) - s(10) == -7);
    CHECK(s(5) - s(max32 - 4) == 10);   // forward across 0
    CHECK(s(max32 - 4) - s(5) == -10);  // backward across 0
    CHECK(s(42) - s(42) == 0);
    CHECK(s(half - 1) - s(0) == INT32_MAX);   // the farthest representable forward
    CHECK(s(half + 1) - s(0) == -INT32_MAX);  // one past the antipode is backwards
    CHECK(s(0) + 1000u - s(0) == 1000);
}

// -- order ---------------------------------------------------------------------

// RFC 1982 §3.2: i1 < i2 iff (i1 < i2 and i2 - i1 < 2^31) or (i1 > i2 and i1 - i2 > 2^31).
TEST_CASE("seq32_lt_holds_up_to_2_pow_31_minus_1_ahead")
{
    CHECK(seq_lt(s(0), s(1)));
    CHECK(seq_lt(s(0), s(half - 1)));
    CHECK(seq_le(s(0), s(half - 1)));
    CHECK(seq_gt(s(half - 1), s(0)));
    CHECK(seq_ge(s(half - 1), s(0)));
    CHECK_FALSE(seq_lt(s(half - 1), s(0)));
    // Same distance, shifted across the wrap.
    CHECK(seq_lt(s(max32), s(half - 2)));
    CHECK(seq_lt(s(half + 5), s(4)));
}

// RFC 1982 §3.2: past 2^31 the "later" number is behind.
TEST_CASE("seq32_lt_flips_just_past_2_pow_31")
{
    CHECK_FALSE(seq_lt(s(0), s(half + 1)));
    CHECK(seq_gt(s(0), s(half + 1)));
    CHECK(seq_lt(s(half + 1), s(0)));
    CHECK(seq_gt(s(0), s(max32)));
    CHECK(seq_lt(s(max32), s(0)));
}

// RFC 1982 §3.2 leaves the order of two numbers exactly 2^31 apart undefined. seq32
// does what Linux's before() does: the distance is INT32_MIN, so seq_lt holds in
// both directions and seq_gt in neither. Pinned here so a change is deliberate.
TEST_CASE("seq32_antipode_is_lt_both_ways_and_gt_neither_way")
{
    for (const std::uint32_t a : {0u, 1u, 12345u, half - 1, half, max32}) {
        CAPTURE(a);
        const seq32 x{a};
        const seq32 y = x + half;
        CHECK(x - y == INT32_MIN);
        CHECK(y - x == INT32_MIN);
        CHECK(seq_lt(x, y));
        CHECK(seq_lt(y, x));
        CHECK(seq_le(x, y));
        CHECK(seq_le(y, x));
        CHECK_FALSE(seq_gt(x, y));
        CHECK_FALSE(seq_gt(y, x));
        CHECK_FALSE(seq_ge(x, y));
        CHECK_FALSE(seq_ge(y, x));
        CHECK_FALSE(x == y);
    }
}

// RFC 9293 §3.4 "=<": le and ge include equality, lt and gt exclude it.
TEST_CASE("seq32_le_and_ge_include_equality")
{
    for (const std::uint32_t a : {0u, half - 1, half, max32}) {
        CAPTURE(a);
        CHECK(seq_le(s(a), s(a)));
        CHECK(seq_ge(s(a), s(a)));
        CHECK_FALSE(seq_lt(s(a), s(a)));
        CHECK_FALSE(seq_gt(s(a), s(a)));
    }
}

// Away from the antipode the comparisons are consistent: exactly one of lt, ==, gt.
TEST_CASE("seq32_order_is_trichotomous_away_from_the_antipode")
{
    const std::uint32_t bases[] = {0u, 1u, half - 1, half, half + 1, max32 - 1, max32};
    const std::uint32_t deltas[] = {0u, 1u, 2u, 1000u, half - 1, half + 1, max32};
    for (const std::uint32_t a : bases) {
        for (const std::uint32_t d : deltas) {
            CAPTURE(a);
            CAPTURE(d);
            const seq32 x{a};
            const seq32 y = x + d;
            const int holds = int{seq_lt(x, y)} + int{x == y} + int{seq_gt(x, y)};
            CHECK(holds == 1);
            CHECK(seq_lt(x, y) == seq_gt(y, x));
            CHECK(seq_le(x, y) == !seq_gt(x, y));
        }
    }
}

// The reason there is no operator<: modular "before" is not transitive.
TEST_CASE("seq32_lt_is_not_transitive_around_the_circle")
{
    const seq32 a{0}, b{0x4000'0000u}, c{0x8000'0001u};
    CHECK(seq_lt(a, b));
    CHECK(seq_lt(b, c));
    CHECK(seq_lt(c, a));  // a < b < c < a
}

// -- seq_max / seq_min ---------------------------------------------------------

// RFC 9293 §3.10.7.4: e.g. SND.UNA advances to the later of two numbers, across 0 too.
TEST_CASE("seq32_max_and_min_choose_by_modular_order_across_wrap")
{
    CHECK(seq_max(s(0xffff'fff0u), s(0x10)) == s(0x10));
    CHECK(seq_max(s(0x10), s(0xffff'fff0u)) == s(0x10));
    CHECK(seq_min(s(0xffff'fff0u), s(0x10)) == s(0xffff'fff0u));
    CHECK(seq_min(s(0x10), s(0xffff'fff0u)) == s(0xffff'fff0u));
    CHECK(seq_max(s(max32), s(0)) == s(0));
    CHECK(seq_min(s(max32), s(0)) == s(max32));
    CHECK(seq_max(s(7), s(7)) == s(7));
    CHECK(seq_min(s(7), s(7)) == s(7));
    // Without a wrap they agree with plain integer order.
    CHECK(seq_max(s(100), s(200)) == s(200));
    CHECK(seq_min(s(100), s(200)) == s(100));
}

// -- in_window -----------------------------------------------------------------

// RFC 9293 §3.10.7.4 table: with RCV.WND = 0 no sequence number is acceptable.
TEST_CASE("seq32_in_window_of_length_zero_holds_nothing")
{
    for (const std::uint32_t first : {0u, 1u, half, max32}) {
        CAPTURE(first);
        CHECK_FALSE(in_window(s(first), s(first), 0));
        CHECK_FALSE(in_window(s(first) + 1, s(first), 0));
        CHECK_FALSE(in_window(s(first) - 1u, s(first), 0));
    }
}

// RFC 9293 §3.4: "RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND": the first number is inside,
// first+len-1 is the last inside, first+len is the first outside.
TEST_CASE("seq32_in_window_includes_first_and_last_and_excludes_first_plus_len")
{
    const seq32 first{1000};
    const std::uint32_t len = 500;
    CHECK(in_window(first, first, len));
    CHECK(in_window(first + (len - 1), first, len));
    CHECK_FALSE(in_window(first + len, first, len));
    CHECK_FALSE(in_window(first - 1u, first, len));
    CHECK(in_window(first, first, 1));
    CHECK_FALSE(in_window(first + 1, first, 1));
}

// RFC 9293 §3.4: the window is measured forward from its first number, so it may wrap past 0.
TEST_CASE("seq32_in_window_wraps_across_zero")
{
    const seq32 first{max32 - 9};  // window [2^32-10, 2^32+10): crosses 0
    const std::uint32_t len = 20;
    CHECK(in_window(first, first, len));
    CHECK(in_window(s(max32), first, len));
    CHECK(in_window(s(0), first, len));
    CHECK(in_window(s(9), first, len));
    CHECK_FALSE(in_window(s(10), first, len));
    CHECK_FALSE(in_window(s(max32 - 10), first, len));
    CHECK_FALSE(in_window(s(half), first, len));
}

// Measuring forward makes in_window exact for any length, even at and past 2^31,
// where seq_lt stops being meaningful (RFC 7323 §2.3 keeps real windows below 2^30).
TEST_CASE("seq32_in_window_is_exact_for_lengths_beyond_2_pow_31")
{
    CHECK(in_window(s(half), s(0), half + 1));
    CHECK_FALSE(in_window(s(half), s(0), half));
    CHECK(in_window(s(max32 - 1), s(0), max32));
    CHECK_FALSE(in_window(s(max32), s(0), max32));  // first + len is outside
    CHECK(in_window(s(max32), s(1), max32));        // [1, 2^32) holds 2^32 - 1
}
