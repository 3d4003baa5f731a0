// Bodies for tcpx/wire/checksum.hpp. Not to be included directly.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <functional>  // std::less: a total order on pointers into different buffers

#include <boost/endian/conversion.hpp>

namespace tcpx::wire {
namespace detail {

// One's complement addition of two 64-bit partial sums: the carry out of the
// top bit comes back in at the bottom (RFC 1071 §1). The result is 0 only if
// both inputs are, so "the sum is zero only over zero bytes" survives.
inline std::uint64_t add_end_around(std::uint64_t a, std::uint64_t b) noexcept
{
#if defined(__GNUC__)  // GCC and Clang
    // The same as below, but Clang's SLP vectorizer leaves this form alone;
    // with AVX2 or AVX-512 enabled it turns four `a < b` chains into vector
    // compares that made sum_run three times slower. Both compile to add, adc.
    std::uint64_t sum;
    const bool carry = __builtin_add_overflow(a, b, &sum);
    return sum + carry;
#else
    a += b;
    return a + (a < b);
#endif
}

inline std::uint64_t load_native_u64(const std::uint8_t* p) noexcept
{
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);  // any alignment, no aliasing question
    return word;
}

// The last 1..7 bytes of a run as the native 64-bit word they would start, zero
// padded: the zero padding RFC 1071 §1 asks of an odd count. On little-endian
// machines it is assembled in a register from loads of 4, 2 and 1 bytes; a byte-wise
// copy into a word in memory read back at once with one 8-byte load stalls on store
// forwarding, which cost as much as summing a whole 1-byte segment.
inline std::uint64_t load_native_tail(const std::uint8_t* p, std::size_t n) noexcept
{
    std::uint64_t word = 0;
    if constexpr (std::endian::native == std::endian::little) {
        unsigned shift = 0;
        if (n & 4) {
            std::uint32_t four;
            std::memcpy(&four, p, sizeof four);
            word = four;
            p += 4;
            shift = 32;
        }
        if (n & 2) {
            std::uint16_t two;
            std::memcpy(&two, p, sizeof two);
            word |= std::uint64_t{two} << shift;
            p += 2;
            shift += 16;
        }
        if (n & 1)
            word |= std::uint64_t{*p} << shift;
    } else {
        std::memcpy(&word, p, n);
    }
    return word;
}

}  // namespace detail
}  // namespace tcpx::wire

#include <tcpx/wire/impl/checksum_wide.ipp>

namespace tcpx::wire {
namespace detail {

// The native-order sum of one run, as if it started at an even position and
// its last odd byte were padded with a zero byte. The result is congruent,
// modulo 2^16 - 1, to the one's complement sum of the run's native 16-bit
// words, and is 0 only if every byte is: fold() then gives exactly RFC 1071's
// 16-bit sum. Byte i of a native 64-bit word has weight 2^(8i) or 2^(8(7-i));
// either way that is 1 or 2^8 modulo 2^16 - 1 by the parity of i, as in a
// 16-bit word, so neither the width nor the alignment of the loads matters,
// and carries between the 16-bit lanes of a word are just more sum.
//
// With Copy, the run is also copied to `dst` (not overlapping `src`) in the
// same loop (RFC 1071 §2, "combine with data copying"): the 32-byte block
// copies compile to a few vector moves that run beside the adds, so copy and
// sum together cost little more than the sum alone. Measured with GCC 12 and
// Clang 14 at -O2, that beat memcpy of 4 KiB chunks followed by summing each
// while it is in L1. Without Copy, `dst` is not used. Long runs go to the vector
// loop of checksum_wide.ipp when the CPU has one; the rest, and every run on other
// CPUs, to the loop below.
template <bool Copy>
inline std::uint64_t sum_run(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept
{
    // Four independent accumulators, so the add-with-carry chains do not wait
    // on each other (RFC 1071 §2(C), parallel summation). Adding each carry
    // back at once (add, adc) instead of deferring carries (RFC 1071 §2,
    // "deferred carries": summing 32-bit halves and folding later) measured
    // as fast or faster with GCC 12 and Clang 14, copy included, and leaves no
    // count that could overflow however long the run. The folding to 16 bits
    // is deferred, to sum() (RFC 1071 §2, same section).
    std::uint64_t wide = 0;
#if TCPX_CHECKSUM_WIDE
    if (n >= wide_threshold && cpu_has_avx2()) {
        const std::size_t blocks = n / 32;
        wide = sum_blocks_wide<Copy>(dst, src, blocks);
        src += blocks * 32;
        if constexpr (Copy)
            dst += blocks * 32;
        n -= blocks * 32;
    }
#endif
    std::uint64_t s0 = wide, s1 = 0, s2 = 0, s3 = 0;
    for (; n >= 32; n -= 32, src += 32) {
        if constexpr (Copy) {
            std::memcpy(dst, src, 32);
            dst += 32;
        }
        s0 = add_end_around(s0, load_native_u64(src));
        s1 = add_end_around(s1, load_native_u64(src + 8));
        s2 = add_end_around(s2, load_native_u64(src + 16));
        s3 = add_end_around(s3, load_native_u64(src + 24));
    }
    if constexpr (Copy) {
        if (n != 0)
            std::memcpy(dst, src, n);
    }
    std::uint64_t s = add_end_around(add_end_around(s0, s1), add_end_around(s2, s3));
    for (; n >= 8; n -= 8, src += 8)
        s = add_end_around(s, load_native_u64(src));
    if (n != 0)
        s = add_end_around(s, load_native_tail(src, n));
    return s;
}

// Folds a 64-bit one's complement sum to 16 bits. Each step keeps the value
// modulo 2^16 - 1 and never makes a non-zero value zero; four steps bring any
// 64-bit value to at most 0xFFFF (2^33 - 2, 0x2FFFE, 0x10001, 0xFFFF).
inline std::uint16_t fold(std::uint64_t s) noexcept
{
    s = (s & 0xFFFF'FFFFu) + (s >> 32);
    s = (s & 0xFFFFu) + (s >> 16);
    s = (s & 0xFFFFu) + (s >> 16);
    s = (s & 0xFFFFu) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}

// Folds a sum of a few 16-bit values (under 2^19) to 16 bits.
inline std::uint16_t fold_small(std::uint32_t s) noexcept
{
    s = (s & 0xFFFFu) + (s >> 16);
    s = (s & 0xFFFFu) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}

}  // namespace detail

inline void checksum_accumulator::add_partial(std::uint64_t partial) noexcept
{
    // A run that starts on an odd byte has every byte one place later than
    // sum_run assumed: its weight is multiplied by 2^8, which modulo 2^64 - 1
    // (and so modulo 2^16 - 1) is a rotation by 8 bits (RFC 1071 §2(B)).
    if (odd_)
        partial = std::rotl(partial, 8);
    sum_ = detail::add_end_around(sum_, partial);
}

inline void checksum_accumulator::add(std::span<const std::uint8_t> bytes) noexcept
{
    if (bytes.empty())
        return;
    add_partial(detail::sum_run<false>(nullptr, bytes.data(), bytes.size()));
    odd_ ^= (bytes.size() & 1) != 0;
}

inline void checksum_accumulator::add_u16(std::uint16_t value) noexcept
{
    // native_to_big gives the native-order reading of the field's big-endian
    // bytes, the form sum_ holds.
    add_partial(boost::endian::native_to_big(value));
}

inline void checksum_accumulator::add_u32(std::uint32_t value) noexcept
{
    add_partial(boost::endian::native_to_big(value));
}

inline std::uint16_t checksum_accumulator::sum() const noexcept
{
    // The folded native-order sum, read as the two big-endian sum bytes.
    return boost::endian::big_to_native(detail::fold(sum_));
}

inline std::uint16_t checksum_accumulator::finish() const noexcept
{
    return static_cast<std::uint16_t>(~sum());
}

inline std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) noexcept
{
    checksum_accumulator acc;
    acc.add(bytes);
    return acc.finish();
}

inline std::uint16_t checksum_update(std::uint16_t old_checksum, std::uint16_t old_field,
                                     std::uint16_t new_field) noexcept
{
    // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), every + a one's complement
    // addition. Subtracting m as adding ~m, rather than eqn. 2's HC + m + ~m',
    // is what keeps a result of 0x0000 from coming out as -0 (RFC 1624 §3).
    const std::uint32_t s = std::uint32_t{static_cast<std::uint16_t>(~old_checksum)}
        + static_cast<std::uint16_t>(~old_field) + new_field;
    return static_cast<std::uint16_t>(~detail::fold_small(s));
}

inline std::uint16_t checksum_update(std::uint16_t old_checksum, std::uint32_t old_field,
                                     std::uint32_t new_field) noexcept
{
    // Eqn. 3 once per 16-bit half, with a single fold at the end.
    const std::uint32_t s = std::uint32_t{static_cast<std::uint16_t>(~old_checksum)}
        + static_cast<std::uint16_t>(~(old_field >> 16))
        + static_cast<std::uint16_t>(~old_field)
        + (new_field >> 16) + (new_field & 0xFFFFu);
    return static_cast<std::uint16_t>(~detail::fold_small(s));
}

inline void add_ipv4_pseudo_header(checksum_accumulator& acc, std::uint32_t source,
                                   std::uint32_t destination, std::uint8_t protocol,
                                   std::uint16_t length) noexcept
{
    // RFC 9293 §3.1: source, destination, then one zero byte and the protocol
    // byte (together the 16-bit value `protocol`), then the TCP length.
    acc.add_u32(source);
    acc.add_u32(destination);
    acc.add_u16(protocol);
    acc.add_u16(length);
}

inline void copy_and_add(checksum_accumulator& acc, std::span<std::uint8_t> dst,
                         std::span<const std::uint8_t> src) noexcept
{
    assert(dst.size() >= src.size());
    const std::size_t n = std::min(dst.size(), src.size());
    if (n == 0)
        return;
    const std::uint8_t* from = src.data();
    std::uint8_t* to = dst.data();
    // std::less orders any two pointers, so this overlap test is defined even
    // between unrelated objects, where < is not.
    const std::less<const std::uint8_t*> before{};
    if (before(from, to + n) && before(to, from + n)) {
        acc.add({from, n});
        std::memmove(to, from, n);
        return;
    }
    acc.add_partial(detail::sum_run<true>(to, from, n));
    acc.odd_ ^= (n & 1) != 0;
}

}  // namespace tcpx::wire
