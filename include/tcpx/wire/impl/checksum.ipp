// Bodies for tcpx/wire/checksum.hpp. Not to be included directly.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <functional>

#include <boost/endian/conversion.hpp>

namespace tcpx::wire {
namespace detail {

// One's complement addition of two 64-bit partial sums: the carry out of the
// top bit comes back in at the bottom (RFC 1071 §1). The result is 0 only if
// both inputs are, so "the sum is zero only over zero bytes" survives.
inline std::uint64_t add_end_around(std::uint64_t a, std::uint64_t b) noexcept
{
    a += b;
    return a + (a < b);
}

inline std::uint64_t load_native_u64(const std::uint8_t* p) noexcept
{
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);  // any alignment, no aliasing question
    return word;
}

// A 64-bit word as the sum of its 32-bit halves: congruent to it modulo
// 2^16 - 1 (since 2^32 = 1 there), zero only if the word is, and under 2^33,
// so many of them add up in 64 bits with no carry to lose (RFC 1071 §2(1),
// deferred carries).
inline std::uint64_t split_halves(std::uint64_t word) noexcept
{
    return (word & 0xFFFF'FFFFu) + (word >> 32);
}

// The native-order sum of one run, as if it started at an even position and
// its last odd byte were padded with a zero byte. The result is congruent,
// modulo 2^16 - 1, to the one's complement sum of the run's native 16-bit
// words, and is 0 only if every byte is: fold() then gives exactly RFC 1071's
// 16-bit sum. Byte i of a native word has weight 2^(8i) or 2^(8(7-i)); either
// way that is 1 or 2^8 modulo 2^16 - 1 by the parity of i, as in a 16-bit
// word, so the width and alignment of the loads do not matter.
inline std::uint64_t sum_run(const std::uint8_t* p, std::size_t n) noexcept
{
    std::uint64_t total = 0;
    while (n >= 32) {
        // Each step adds under 2^33 to an accumulator; 2^30 bytes per block is
        // 2^25 steps, far from 64-bit overflow, whatever the span's length.
        const std::size_t block = std::min<std::size_t>(n, std::size_t{1} << 30) & ~std::size_t{31};
        // Four independent accumulators, so the adds do not wait on each other
        // (RFC 1071 §2(C), parallel summation).
        std::uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (const std::uint8_t* end = p + block; p != end; p += 32) {
            a0 += split_halves(load_native_u64(p));
            a1 += split_halves(load_native_u64(p + 8));
            a2 += split_halves(load_native_u64(p + 16));
            a3 += split_halves(load_native_u64(p + 24));
        }
        total = add_end_around(total, a0 + a1 + a2 + a3);
        n -= block;
    }
    std::uint64_t tail = 0;
    for (; n >= 8; n -= 8, p += 8)
        tail += split_halves(load_native_u64(p));
    if (n != 0) {
        // The last 1..7 bytes keep their offsets in a zeroed word, which is
        // the zero padding RFC 1071 §1 asks of an odd count.
        std::uint64_t word = 0;
        std::memcpy(&word, p, n);
        tail += split_halves(word);
    }
    return add_end_around(total, tail);
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
    add_partial(detail::sum_run(bytes.data(), bytes.size()));
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
    // The copy goes through the platform's memcpy, the fastest copy the
    // machine has, a cache-sized chunk at a time; the chunk's source bytes are
    // summed right after, while still in L1. Each byte thus comes from memory
    // once, the point of RFC 1071 §2(3), and the copy runs at memcpy speed. The
    // source is re-read, not the destination, whose stores may still be in
    // flight. Chunks are even, so only the last run can leave an odd position.
    constexpr std::size_t chunk = 4096;
    for (std::size_t done = 0; done < n; done += chunk) {
        const std::size_t len = std::min(chunk, n - done);
        std::memcpy(to + done, from + done, len);
        acc.add({from + done, len});
    }
}

}  // namespace tcpx::wire
