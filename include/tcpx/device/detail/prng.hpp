// tcpx/device/detail/prng.hpp — the random numbers behind seeded impairments.
//
// DESIGN.md asks that the same seed give the same run, bit for bit, on every
// platform. std::uniform_real_distribution and friends are specified only in what
// they approximate, and libstdc++ and libc++ draw different sequences from the
// same engine; so the generator and every distribution here are our own:
//   splitmix64   (Steele, Lea, Flood 2014) expands one 64-bit seed into states
//   xoshiro256** (Blackman, Vigna 2018) is the generator: small, fast, 2^256 - 1 period
#pragma once

#include <cstdint>

namespace tcpx::devices::detail {

/// Seed expander: each call returns the next well-mixed 64-bit value.
class splitmix64 {
public:
    constexpr explicit splitmix64(std::uint64_t seed) noexcept : x_{seed} {}

    constexpr std::uint64_t next() noexcept
    {
        std::uint64_t z = (x_ += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t x_;
};

class xoshiro256ss {
public:
    /// Stream `stream` of `seed`: the state is splitmix64(seed) outputs 4*stream to
    /// 4*stream + 3, so each stream of one seed is an independent sequence.
    constexpr explicit xoshiro256ss(std::uint64_t seed, unsigned stream = 0) noexcept
    {
        splitmix64 seeder{seed};
        for (unsigned i = 0; i < 4 * stream; ++i) {
            seeder.next();
        }
        for (auto& word : s_) {
            word = seeder.next();
        }
    }

    constexpr std::uint64_t next() noexcept
    {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, 1): the top 53 bits, exactly representable as a double.
    constexpr double uniform() noexcept
    {
        return static_cast<double>(next() >> 11) * 0x1.0p-53;
    }

    /// True with probability p (p <= 0: never; p >= 1: always).
    constexpr bool chance(double p) noexcept { return uniform() < p; }

    /// Uniform in [0, n), n > 0. The modulo bias is below n / 2^64, far under
    /// anything a simulation could observe.
    constexpr std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept
    {
        return (x << k) | (x >> (64 - k));
    }

    std::uint64_t s_[4] = {};
};

}  // namespace tcpx::devices::detail
