// tcpx/tcp/isn.hpp — initial sequence numbers that an off-path attacker cannot guess.
//
// Have open: RFC 6528 (Defending against Sequence Number Attacks), RFC 9293 §3.4.1;
// for the hash, Aumasson & Bernstein, "SipHash: a fast short-input PRF" (2012).
//
// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
// where M is a timer ticking every 4 µs and F a pseudorandom function of the
// connection's 4-tuple under a secret key. M keeps a reopened 4-tuple's numbers
// moving forward past the old incarnation's (RFC 9293 §3.4.1's clock-driven ISN);
// F puts each 4-tuple at its own secret offset, so an ISN seen on one connection
// says nothing about another. F is SipHash-2-4, a keyed PRF built for short inputs
// (Linux uses it for the same job), truncated to 32 bits.
//
// Time comes in as a value (DESIGN.md: tcp/ never names a clock type).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cerrno>
#include <system_error>

#include <sys/random.h>

#include <tcpx/time.hpp>
#include <tcpx/wire/seq32.hpp>

namespace tcpx::tcp {

/// SipHash-2-4 of data[0, len) under the 128-bit key (key[0], key[1]). The key words
/// are the key's bytes 0-7 and 8-15 read little-endian, as in the reference
/// implementation; the result is the 64-bit tag as a number (the reference code
/// writes it out little-endian). constexpr, and independent of host byte order.
constexpr std::uint64_t siphash24(std::array<std::uint64_t, 2> key, const std::uint8_t* data,
                                  std::size_t len) noexcept
{
    // Initialisation: the key XORed into "somepseudorandomlygeneratedbytes".
    std::uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL;
    std::uint64_t v1 = key[1] ^ 0x646f72616e646f6dULL;
    std::uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL;
    std::uint64_t v3 = key[1] ^ 0x7465646279746573ULL;

    auto sipround = [&]() noexcept {
        v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
        v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
        v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
        v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
    };
    auto compress = [&](std::uint64_t m) noexcept {
        v3 ^= m;
        sipround();  // c = 2 rounds per message word
        sipround();
        v0 ^= m;
    };

    // Compression: every whole 8-byte word, read little-endian byte by byte (no
    // unaligned load, no dependence on the host's byte order).
    const std::size_t whole = len - len % 8;
    for (std::size_t i = 0; i < whole; i += 8) {
        std::uint64_t m = 0;
        for (std::size_t b = 8; b-- > 0;) {
            m = (m << 8) | data[i + b];
        }
        compress(m);
    }
    // The last word: the 0-7 remaining bytes, and len mod 256 in the top byte.
    std::uint64_t last = static_cast<std::uint64_t>(len & 0xff) << 56;
    for (std::size_t i = 0; i < len % 8; ++i) {
        last |= static_cast<std::uint64_t>(data[whole + i]) << (8 * i);
    }
    compress(last);

    // Finalisation: d = 4 rounds.
    v2 ^= 0xff;
    sipround();
    sipround();
    sipround();
    sipround();
    return v0 ^ v1 ^ v2 ^ v3;
}

/// RFC 6528 §3 ISN generation for IPv4 connections. Cheap to copy; const and
/// thread-compatible (next() only reads the secret).
class isn_generator {
public:
    using secret_type = std::array<std::uint64_t, 2>;

    /// `secret` is RFC 6528's secretkey: 128 random bits, fixed for the life of
    /// the stack (changing it would move every 4-tuple's offset, and a reopened
    /// 4-tuple could then start behind its previous incarnation).
    explicit isn_generator(secret_type secret) noexcept : secret_{secret} {}

    /// What a new connection takes from the secret: its ISN and its timestamp offset.
    struct opening {
        seq32 iss;
        std::uint32_t ts_offset = 0;
    };

    /// The ISN and timestamp offset for a connection from (local_addr, local_port) to
    /// (remote_addr, remote_port) opened at `now`, from one keyed hash of the 4-tuple.
    /// Addresses are IPv4 addresses as host-order integers (10.0.0.1 is 0x0a000001);
    /// they and the ports are hashed in network byte order, i.e. as the bytes appear in
    /// the headers.
    opening open(std::uint32_t local_addr, std::uint16_t local_port, std::uint32_t remote_addr,
                 std::uint16_t remote_port, instant now) const noexcept
    {
        const std::uint64_t h = hash(local_addr, local_port, remote_addr, remote_port);
        // RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey).
        // F() is a PRF of the 4-tuple and secretkey that MUST NOT be computable from the
        // outside; the low 32 bits of a keyed SipHash are that. M is the 4-microsecond
        // timer (RFC 9293 §3.4.1's ISN clock), wrapping at 2^32 like the sequence space
        // it feeds (every ~4.77 hours).
        const auto m = static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.time_since_epoch().count()) / 4);
        // RFC 7323 §7.1: the timestamp offset, "a random offset ... based on the
        // four-tuple and a secret": the high 32 bits of the same hash, independent of
        // the low ones (SipHash's output bits are), so neither tells anything of the
        // other or of the host's uptime. Constant for a 4-tuple, so a reopened
        // connection's timestamps continue its previous incarnation's (RFC 6191). One
        // hash, not two: a connection is opened about every microsecond under load.
        return {seq32{m} + static_cast<std::uint32_t>(h), static_cast<std::uint32_t>(h >> 32)};
    }

    /// open()'s ISN alone.
    seq32 next(std::uint32_t local_addr, std::uint16_t local_port, std::uint32_t remote_addr,
               std::uint16_t remote_port, instant now) const noexcept
    {
        return open(local_addr, local_port, remote_addr, remote_port, now).iss;
    }

    /// open()'s timestamp offset alone.
    std::uint32_t timestamp_offset(std::uint32_t local_addr, std::uint16_t local_port, std::uint32_t remote_addr,
                                   std::uint16_t remote_port) const noexcept
    {
        return static_cast<std::uint32_t>(hash(local_addr, local_port, remote_addr, remote_port) >> 32);
    }

    /// RFC 6056 §3.3.3's F(local_IP, remote_IP, remote_port, secret_key): where the
    /// search for an ephemeral port to this destination starts, so the ports one peer
    /// sees tell nothing of those used towards another. Local port 0, which no
    /// connection has, keeps it apart from every connection's hash.
    std::uint32_t port_offset(std::uint32_t local_addr, std::uint32_t remote_addr, std::uint16_t remote_port) const noexcept
    {
        return static_cast<std::uint32_t>(hash(local_addr, 0, remote_addr, remote_port));
    }

    /// 128 bits from the operating system's entropy source (getrandom(2), the
    /// kernel's CSPRNG — what std::random_device reads on Linux, without the 0.6 s that
    /// <random> adds to every translation unit). Blocks only before the kernel's pool
    /// is first seeded at boot; throws std::system_error if the call fails.
    static secret_type random_secret()
    {
        secret_type key{};
        auto* bytes = reinterpret_cast<unsigned char*>(key.data());
        std::size_t got = 0;
        while (got < sizeof key) {
            const ssize_t n = ::getrandom(bytes + got, sizeof key - got, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::system_error{errno, std::system_category(), "getrandom"};
            }
            got += static_cast<std::size_t>(n);
        }
        return key;
    }

private:
    std::uint64_t hash(std::uint32_t local_addr, std::uint16_t local_port, std::uint32_t remote_addr,
                       std::uint16_t remote_port) const noexcept
    {
        const std::array<std::uint8_t, 12> tuple = {
            static_cast<std::uint8_t>(local_addr >> 24), static_cast<std::uint8_t>(local_addr >> 16),
            static_cast<std::uint8_t>(local_addr >> 8),  static_cast<std::uint8_t>(local_addr),
            static_cast<std::uint8_t>(local_port >> 8),  static_cast<std::uint8_t>(local_port),
            static_cast<std::uint8_t>(remote_addr >> 24), static_cast<std::uint8_t>(remote_addr >> 16),
            static_cast<std::uint8_t>(remote_addr >> 8),  static_cast<std::uint8_t>(remote_addr),
            static_cast<std::uint8_t>(remote_port >> 8),  static_cast<std::uint8_t>(remote_port),
        };
        return siphash24(secret_, tuple.data(), tuple.size());
    }

    secret_type secret_;

public:
    /// RFC 6528's secretkey, for the other keyed hashes the stack derives from it (SYN cookies).
    const secret_type& secret() const noexcept { return secret_; }
};

}  // namespace tcpx::tcp
