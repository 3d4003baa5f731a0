// tcpx/tcp/syn_cookie.hpp — SYN cookies: a listener answers a SYN without keeping any
// state, and rebuilds the connection from the ACK that comes back.
//
// Have open: RFC 4987 §3.6 (SYN cookies), RFC 7323 §3.2 and §4.3 (the echoed TSval),
// RFC 9293 §3.10.7.2; for the hash, isn.hpp (SipHash-2-4).
//
// The SYN-ACK's sequence number is the cookie, laid out as RFC 4987 §3.6 describes:
//
//   bits 31-27  t mod 32   t: a counter that ticks every 64 s
//   bits 26-24  m          index of the MSS in mss_table (the largest not above the peer's)
//   bits 23-0   s          24 bits of a keyed hash of the 4-tuple, the peer's ISN, t and m
//
// The returning ACK acknowledges cookie + 1 and carries the peer's ISN + 1: the stack
// recomputes s for the current t and the one before (a cookie lives 64-128 s) and
// accepts only an exact match. An off-path attacker must guess 24 bits per try.
//
// What else the SYN negotiated — window scale and SACK-permitted — has no room in the
// sequence number. When the SYN carried timestamps, the low 6 bits of the SYN-ACK's
// TSval hold them (as Linux does), and the ACK's TSecr (RFC 7323 §4.3: it echoes the
// TSval) brings them back; without timestamps a cookie connection has neither, as on
// Linux. tcpx does not implement ECN, so no bit is kept for it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include <tcpx/tcp/isn.hpp>
#include <tcpx/time.hpp>
#include <tcpx/wire/seq32.hpp>

namespace tcpx::tcp {

/// RFC 4987 §3.6's 3-bit MSS encoding: the values a cookie connection may use. The
/// largest not above what the peer announced is chosen, so nothing sent is too big.
inline constexpr std::array<std::uint16_t, 8> syn_cookie_mss_table{536, 1024, 1220, 1280, 1360, 1400, 1440, 1460};

/// The options a cookie carries in the SYN-ACK's TSval: RFC 7323 window scale (0-14, or
/// none) and RFC 2018 SACK-permitted.
struct cookie_options {
    std::optional<std::uint8_t> window_scale;
    bool sack_permitted = false;

    static constexpr std::uint32_t bits = 6;
    static constexpr std::uint32_t mask = (1u << bits) - 1;
    static constexpr std::uint8_t no_scale = 0xf;

    /// Bits 0-3 the peer's shift (0xf: no scaling), bit 4 SACK-permitted, bit 5 set so
    /// that an echo of 0 (which a peer without timestamps would not send) is never valid.
    constexpr std::uint32_t encode() const noexcept
    {
        return (window_scale ? *window_scale : no_scale) | (sack_permitted ? 0x10u : 0u) | 0x20u;
    }
    static constexpr std::optional<cookie_options> decode(std::uint32_t tsecr) noexcept
    {
        const std::uint32_t v = tsecr & mask;
        if ((v & 0x20u) == 0) return std::nullopt;
        const std::uint8_t scale = v & 0xf;  // 0-14 (RFC 7323 §2.3), or 15: none
        cookie_options o;
        if (scale != no_scale) o.window_scale = scale;
        o.sack_permitted = (v & 0x10u) != 0;
        return o;
    }
};

/// The TSval that carries `opts` in its low bits: the clock's value with them put in,
/// moved back 64 ticks if that would lie ahead of the clock, so every later TSval of the
/// connection is no older than this one (the peer's PAWS check, RFC 7323 §5).
constexpr std::uint32_t cookie_tsval(std::uint32_t now_tsval, const cookie_options& opts) noexcept
{
    std::uint32_t ts = (now_tsval & ~cookie_options::mask) | opts.encode();
    if (seq_gt(seq32{ts}, seq32{now_tsval})) ts -= 1u << cookie_options::bits;
    return ts;
}

/// RFC 4987 §3.6 cookies for IPv4. The key is the stack's ISN secret, hashed with a
/// different domain tag, so a cookie says nothing about ISNs and the other way round.
class syn_cookie_generator {
public:
    static constexpr duration period = std::chrono::seconds{64};  ///< how often t ticks

    explicit syn_cookie_generator(isn_generator::secret_type secret) noexcept
        : key_{secret[0] ^ 0x73796e636f6f6b69ULL, secret[1] ^ 0x6573667269656e64ULL}
    {
    }

    struct tuple {
        std::uint32_t local_addr;
        std::uint16_t local_port;
        std::uint32_t remote_addr;
        std::uint16_t remote_port;
    };

    /// The index into syn_cookie_mss_table for a peer that announced `peer_mss`.
    static constexpr std::uint8_t mss_index(std::uint16_t peer_mss) noexcept
    {
        std::uint8_t m = 0;
        for (std::uint8_t i = 0; i < syn_cookie_mss_table.size(); ++i)
            if (syn_cookie_mss_table[i] <= peer_mss) m = i;
        return m;
    }

    /// The ISN of the SYN-ACK for the SYN from `t` with sequence number `peer_isn`.
    seq32 make(const tuple& t, seq32 peer_isn, std::uint8_t mss_idx, instant now) const noexcept
    {
        const std::uint32_t count = counter(now);
        return seq32{(count & 0x1f) << 27 | static_cast<std::uint32_t>(mss_idx & 7) << 24 |
                     mac(t, peer_isn, count, mss_idx)};
    }

    /// The MSS index an ACK's cookie (its SEG.ACK - 1) holds, if it is one this generator
    /// made for `t` and `peer_isn` (its SEG.SEQ - 1) during this period or the last.
    std::optional<std::uint8_t> check(const tuple& t, seq32 peer_isn, seq32 cookie, instant now) const noexcept
    {
        const std::uint32_t c = cookie.value();
        const std::uint32_t count = counter(now);
        const std::uint8_t mss_idx = static_cast<std::uint8_t>((c >> 24) & 7);
        for (const std::uint32_t candidate : {count, count - 1}) {
            if ((candidate & 0x1f) != c >> 27) continue;
            if (mac(t, peer_isn, candidate, mss_idx) == (c & 0xffffff)) return mss_idx;
        }
        return std::nullopt;
    }

private:
    static std::uint32_t counter(instant now) noexcept
    {
        return static_cast<std::uint32_t>(now.time_since_epoch() / period);
    }

    std::uint32_t mac(const tuple& t, seq32 peer_isn, std::uint32_t count, std::uint8_t mss_idx) const noexcept
    {
        std::array<std::uint8_t, 21> in{};
        auto put = [&in](std::size_t at, std::uint32_t v, std::size_t n) noexcept {
            for (std::size_t i = 0; i < n; ++i) in[at + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
        };
        put(0, t.local_addr, 4);
        put(4, t.local_port, 2);
        put(6, t.remote_addr, 4);
        put(10, t.remote_port, 2);
        put(12, peer_isn.value(), 4);
        put(16, count, 4);
        in[20] = mss_idx;
        return static_cast<std::uint32_t>(siphash24(key_, in.data(), in.size())) & 0xffffff;
    }

    isn_generator::secret_type key_;
};

}  // namespace tcpx::tcp
