// The Internet checksum's long runs with 256-bit vectors (AVX2 on x86-64), chosen at
// run time, for tcpx/wire/impl/checksum.ipp. Not to be included directly.
//
// Why: the scalar loop adds 8 bytes per add-with-carry and tops out near 16 bytes a
// cycle; summing lanes of a vector needs no carry at all if each lane is wide enough
// for what it collects (RFC 1071 §2(C): sum in any word size, fold at the end). One
// block of 32 bytes costs an and, a shift and two adds, which run beside the load and,
// when copying, the store.
//
// How it stays portable: GCC and Clang vector extensions (no <immintrin.h>, which
// would cost every translation unit its parse time), compiled for AVX2 through the
// target attribute only in this function, and called only when the CPU says it has
// AVX2. A build with -mavx2 (or -march=native on such a CPU) skips the question; build
// every translation unit of a program with the same -m flags, as for any inline code
// (a function compiled for AVX2 in one and kept by the linker for all would run on CPUs
// without it).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)  // GCC and Clang
#define TCPX_CHECKSUM_WIDE 1
#else
#define TCPX_CHECKSUM_WIDE 0
#endif

namespace tcpx::wire::detail {

#if TCPX_CHECKSUM_WIDE

/// Runs shorter than this stay on the scalar loop: a call and the fold of eight lanes
/// cost more than they save on a TCP header.
inline constexpr std::size_t wide_threshold = 128;

inline bool cpu_has_avx2() noexcept
{
#if defined(__AVX2__)
    return true;
#else
    static const bool has = [] {
        __builtin_cpu_init();  // needed when asked from a static initializer
        return __builtin_cpu_supports("avx2") != 0;
    }();
    return has;
#endif
}

/// One pass of sum_blocks_wide in either direction (Backward: from the last block to
/// the first; only when copying, since only copying needs it).
///
/// Each 32-bit lane of a block is split into its two 16-bit halves, summed in 32-bit
/// lanes: low and high halves of even blocks and of odd blocks in four accumulators,
/// so that no add waits on the one before it. A half is at most 0xFFFF; in a batch of
/// 2^14 blocks each accumulator lane collects at most 2^13 of them (under 2^29), so
/// the four together stay below 2^31. Each batch's lanes are then folded into the
/// 64-bit total with the end-around carry. The halves of a native 32-bit word are two
/// native 16-bit words whichever the byte order, so the sum is the scalar loop's,
/// modulo 2^16 - 1, and the order the blocks are added in does not change it.
template <bool Copy, bool Backward>
__attribute__((target("avx2"))) inline std::uint64_t sum_blocks_wide_pass(std::uint8_t* dst, const std::uint8_t* src,
                                                                          std::size_t blocks) noexcept
{
    static_assert(Copy || !Backward, "only a copy has a reason to run backward");
    using lanes = std::uint32_t __attribute__((vector_size(32)));
    if constexpr (Backward) {
        src += blocks * 32;
        dst += blocks * 32;
    }
    std::uint64_t total = 0;
    while (blocks != 0) {
        const std::size_t batch = std::min<std::size_t>(blocks, std::size_t{1} << 14);
        lanes low0{}, high0{}, low1{}, high1{};
        std::size_t i = 0;
        for (; i + 2 <= batch; i += 2) {
            if constexpr (Backward) {
                src -= 64;
                dst -= 64;
            }
            lanes v0, v1;
            std::memcpy(&v0, src, sizeof v0);  // unaligned loads
            std::memcpy(&v1, src + 32, sizeof v1);
            if constexpr (Copy) {
                std::memcpy(dst, &v0, sizeof v0);
                std::memcpy(dst + 32, &v1, sizeof v1);
            }
            if constexpr (!Backward) {
                src += 64;
                if constexpr (Copy) dst += 64;
            }
            low0 += v0 & 0xFFFFu;
            high0 += v0 >> 16;
            low1 += v1 & 0xFFFFu;
            high1 += v1 >> 16;
        }
        if (i < batch) {
            if constexpr (Backward) {
                src -= 32;
                dst -= 32;
            }
            lanes v;
            std::memcpy(&v, src, sizeof v);
            if constexpr (Copy) std::memcpy(dst, &v, sizeof v);
            if constexpr (!Backward) {
                src += 32;
                if constexpr (Copy) dst += 32;
            }
            low0 += v & 0xFFFFu;
            high0 += v >> 16;
        }
        const lanes sum = (low0 + low1) + (high0 + high1);  // lanes stay below 2^32: see above
        for (int lane = 0; lane < 8; ++lane)
            total = add_end_around(total, sum[lane]);
        blocks -= batch;
    }
    return total;
}

/// A copy whose destination is this little past its source, modulo 4096, runs backward.
inline constexpr std::uintptr_t alias_window = 256;

/// The native-order sum of `blocks` 32-byte blocks (copied to `dst` too with Copy), on
/// the terms of sum_run: congruent modulo 2^16 - 1 to the one's complement sum of the
/// native 16-bit words, and 0 only if every byte is.
///
/// 4K aliasing: a load whose address matches a pending store's in the low 12 bits is
/// held until the CPU has compared the full addresses. Copying forward with `dst` a few
/// dozen bytes past `src` modulo 4096, every load of the next blocks meets such a store
/// from the last ones; on the project's machine that halved the copy's speed (353
/// against 640 Gbit/s). Backward, the loads move away from the stores instead — glibc's
/// memmove makes the same choice — and the sum does not care about order.
template <bool Copy>
__attribute__((target("avx2"))) inline std::uint64_t sum_blocks_wide(std::uint8_t* dst, const std::uint8_t* src,
                                                                     std::size_t blocks) noexcept
{
    if constexpr (Copy) {
        const std::uintptr_t ahead =
            (reinterpret_cast<std::uintptr_t>(dst) - reinterpret_cast<std::uintptr_t>(src)) % 4096;
        if (ahead != 0 && ahead < alias_window) return sum_blocks_wide_pass<true, true>(dst, src, blocks);
    }
    return sum_blocks_wide_pass<Copy, false>(dst, src, blocks);
}

#endif  // TCPX_CHECKSUM_WIDE

}  // namespace tcpx::wire::detail
