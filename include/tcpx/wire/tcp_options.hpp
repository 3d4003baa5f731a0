// tcpx/wire/tcp_options.hpp — the TCP options area: parse it, write it (RFC 9293 §3.1, §3.2).
//
// RFCs to have open: RFC 9293 §3.1-§3.2 (option framing, EOL, NOP, MSS), RFC 6691 (what
// MSS counts), RFC 7323 §2-§3 and Appendix A (window scale, timestamps, their layout),
// RFC 2018 §2-§3 (SACK-permitted, SACK blocks), RFC 1122 §4.2.2.5.
//
// Contract:
//   parse_tcp_options(area, out)  reads only area[0, area.size()), never loops more than
//                                 area.size() times, and on success leaves in `out` exactly
//                                 the options tcpx keeps (the last one wins if a kind repeats).
//   write_tcp_options(opts, out)  writes exactly opts.wire_size() bytes (a multiple of 4, at
//                                 most 40), or nothing at all when `out` is too small.
// parse(write(o)) == o for every `o` whose window scale is at most 14 and whose SACK blocks
// all fit (see tcp_options::sack_blocks_that_fit()).
//
// The write layout is byte for byte the Linux kernel's (tcp_options_write() in
// net/ipv4/tcp_output.c), because middleboxes have learned what Linux sends and a peer's
// fast path rewards it (Linux's tcp_fast_parse_options() recognises a segment whose only
// option is `01 01 08 0a tsval tsecr` without walking the list):
//   MSS                     02 04 mss
//   SACK-permitted + TS     04 02 08 0a tsval tsecr   (SACK-permitted fills TS's NOP NOP)
//   TS alone                01 01 08 0a tsval tsecr
//   SACK-permitted alone    01 01 04 02
//   window scale            01 03 03 ws
//   SACK blocks             01 01 05 len (left right)...
// Note the order: window scale comes after timestamps, although RFC 7323 lists it first.
#pragma once

#include <tcpx/error.hpp>
#include <tcpx/wire/seq32.hpp>

#include <boost/endian/conversion.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <system_error>

namespace tcpx::wire {

/// RFC 9293 §3.7.1 (MUST-15): the send MSS to assume when the peer sends no MSS
/// option, for IPv4 (576 bytes less 40 of headers); also the floor tcpx lowers a path's
/// segments to and the smallest segment it counts as full-sized with PSH.
inline constexpr std::uint16_t default_mss = 536;

/// Option kinds and lengths tcpx understands; every other kind is skipped by its length.
namespace tcp_option {
inline constexpr std::uint8_t eol = 0;             // RFC 9293 §3.2
inline constexpr std::uint8_t nop = 1;             // RFC 9293 §3.2
inline constexpr std::uint8_t mss = 2;             // RFC 9293 §3.2
inline constexpr std::uint8_t window_scale = 3;    // RFC 7323 §2.2
inline constexpr std::uint8_t sack_permitted = 4;  // RFC 2018 §2
inline constexpr std::uint8_t sack = 5;            // RFC 2018 §3
inline constexpr std::uint8_t timestamp = 8;       // RFC 7323 §3.2

inline constexpr std::size_t mss_length = 4;
inline constexpr std::size_t window_scale_length = 3;
inline constexpr std::size_t sack_permitted_length = 2;
inline constexpr std::size_t timestamp_length = 10;
inline constexpr std::size_t sack_base_length = 2;   // RFC 2018 §3: 8*n + 2 bytes for n blocks
inline constexpr std::size_t sack_block_length = 8;

// RFC 7323 §2.3: the shift is limited to 14, a window of at most 2^30 bytes.
inline constexpr std::uint8_t max_window_scale = 14;

// Bytes each option occupies once Linux has padded it to 32 bits (see the table above).
inline constexpr std::size_t mss_aligned = 4;
inline constexpr std::size_t timestamp_aligned = 12;   // also carries SACK-permitted
inline constexpr std::size_t sack_permitted_aligned = 4;
inline constexpr std::size_t window_scale_aligned = 4;
inline constexpr std::size_t sack_base_aligned = 4;

/// Bytes a SACK option of `blocks` blocks occupies, padding included (RFC 2018 §3);
/// 0 for none, since no option is written then.
constexpr std::size_t sack_aligned(std::size_t blocks) noexcept
{
    return blocks == 0 ? 0 : sack_base_aligned + blocks * sack_block_length;
}

/// How many SACK blocks fit in `bytes` of option space.
constexpr std::size_t sack_blocks_within(std::size_t bytes) noexcept
{
    return bytes < sack_aligned(1) ? 0 : (bytes - sack_base_aligned) / sack_block_length;
}
}  // namespace tcp_option

/// One SACK block (RFC 2018 §3): `left` is the first byte received, `right` the
/// first byte after the block.
struct sack_block {
    seq32 left;
    seq32 right;
    friend bool operator==(const sack_block&, const sack_block&) = default;
};

/// The Timestamps option's two fields (RFC 7323 §3.2).
struct timestamps {
    std::uint32_t tsval = 0;
    std::uint32_t tsecr = 0;
    friend bool operator==(const timestamps&, const timestamps&) = default;
};

/// The options of one segment that tcpx acts on. Unknown kinds are not kept.
struct tcp_options {
    // RFC 9293 §3.1: data offset is at most 15 words, 5 of them the fixed header.
    static constexpr std::size_t max_size = 40;
    // RFC 2018 §3: (40 - 2) / 8 blocks fit in a header without other options.
    static constexpr std::size_t max_sack_blocks = 4;

    std::optional<std::uint16_t> mss;           // RFC 9293 §3.2, §3.7.1; RFC 6691
    std::optional<std::uint8_t> window_scale;   // RFC 7323 §2: a shift; parse clamps to 14 (§2.3)
    bool sack_permitted = false;                // RFC 2018 §2
    std::optional<timestamps> timestamp;        // RFC 7323 §3
    std::uint8_t sack_count = 0;                // RFC 2018 §3: blocks in use in `sack`
    std::array<sack_block, max_sack_blocks> sack{};

    /// The SACK blocks in use (never more than max_sack_blocks, whatever sack_count says).
    std::span<const sack_block> sack_blocks() const noexcept
    {
        return std::span{sack}.first(std::min<std::size_t>(sack_count, max_sack_blocks));
    }

    /// Bytes the options other than SACK take on the wire.
    constexpr std::size_t fixed_wire_size() const noexcept
    {
        std::size_t n = 0;
        if (mss) n += tcp_option::mss_aligned;
        if (timestamp) n += tcp_option::timestamp_aligned;
        else if (sack_permitted) n += tcp_option::sack_permitted_aligned;
        if (window_scale) n += tcp_option::window_scale_aligned;
        return n;
    }

    /// How many of the SACK blocks write_tcp_options() writes: as many as fit in what the
    /// other options leave of 40 bytes, as Linux's tcp_established_options() computes it
    /// (RFC 2018 §3: 3 blocks beside timestamps, 4 without; 2 beside a full SYN's options).
    constexpr std::size_t sack_blocks_that_fit() const noexcept
    {
        const std::size_t used = fixed_wire_size();
        const std::size_t room = used >= max_size ? 0 : tcp_option::sack_blocks_within(max_size - used);
        return std::min({std::size_t{sack_count}, max_sack_blocks, room});
    }

    /// Exactly the bytes write_tcp_options() writes: a multiple of 4, at most 40.
    constexpr std::size_t wire_size() const noexcept
    {
        return fixed_wire_size() + tcp_option::sack_aligned(sack_blocks_that_fit());
    }

    // Compares only the SACK blocks in use: what lies in `sack` past sack_count is
    // not an option and must not make two equal option sets unequal.
    friend bool operator==(const tcp_options& a, const tcp_options& b) noexcept
    {
        return a.mss == b.mss && a.window_scale == b.window_scale &&
               a.sack_permitted == b.sack_permitted && a.timestamp == b.timestamp &&
               std::ranges::equal(a.sack_blocks(), b.sack_blocks());
    }
};

/// Parses the options area: the bytes between the 20-byte fixed header and the data offset.
/// Returns the first error found; `out` is then unspecified, but nothing outside `area`
/// was read. The area may hold more than 40 bytes (nothing here relies on the limit).
///   errc::tcp_option_bad_length     a length byte of 0 or 1
///   errc::tcp_option_beyond_header  a kind with no room for its length byte, or a length
///                                   running past the area
///   errc::tcp_option_bad_size       a known kind with the wrong length
inline std::error_code parse_tcp_options(std::span<const std::uint8_t> area, tcp_options& out) noexcept
{
    namespace opt = tcp_option;
    out = tcp_options{};
    std::size_t at = 0;
    while (at < area.size()) {
        const std::uint8_t kind = area[at];
        // RFC 9293 §3.2: EOL ends the list; what follows is padding (MUST-69 says zeros,
        // but the receiver has nothing to gain from checking).
        if (kind == opt::eol) break;
        // RFC 9293 §3.2 (MUST-64): NOP may sit anywhere, options need not be aligned.
        if (kind == opt::nop) { ++at; continue; }

        // RFC 9293 §3.1 (MUST-68): every other kind has a length byte.
        if (area.size() - at < 2) return errc::tcp_option_beyond_header;
        const std::size_t length = area[at + 1];
        // RFC 9293 §3.1 (MUST-7), RFC 1122 §4.2.2.5: the length counts kind and length
        // bytes, so below 2 it is illegal; 0 would also never advance.
        if (length < 2) return errc::tcp_option_bad_length;
        if (length > area.size() - at) return errc::tcp_option_beyond_header;
        const std::uint8_t* body = area.data() + at + 2;

        switch (kind) {
        case opt::mss:
            if (length != opt::mss_length) return errc::tcp_option_bad_size;
            out.mss = boost::endian::load_big_u16(body);
            break;
        case opt::window_scale:
            if (length != opt::window_scale_length) return errc::tcp_option_bad_size;
            // RFC 7323 §2.3: a shift above 14 is treated as 14 (the RFC's "SHOULD log"
            // is the caller's business; it can compare with the raw byte if it cares).
            out.window_scale = std::min(body[0], opt::max_window_scale);
            break;
        case opt::sack_permitted:
            if (length != opt::sack_permitted_length) return errc::tcp_option_bad_size;
            out.sack_permitted = true;
            break;
        case opt::timestamp:
            if (length != opt::timestamp_length) return errc::tcp_option_bad_size;
            out.timestamp = timestamps{boost::endian::load_big_u32(body),
                                       boost::endian::load_big_u32(body + 4)};
            break;
        case opt::sack: {
            // RFC 2018 §3: 8*n + 2 bytes, and at least one block; 40 bytes hold 4 at most.
            const std::size_t blocks = (length - opt::sack_base_length) / opt::sack_block_length;
            if ((length - opt::sack_base_length) % opt::sack_block_length != 0 || blocks == 0 ||
                blocks > tcp_options::max_sack_blocks)
                return errc::tcp_option_bad_size;
            out.sack_count = static_cast<std::uint8_t>(blocks);
            for (std::size_t i = 0; i < blocks; ++i) {
                const std::uint8_t* b = body + i * opt::sack_block_length;
                out.sack[i] = sack_block{seq32{boost::endian::load_big_u32(b)},
                                         seq32{boost::endian::load_big_u32(b + 4)}};
            }
            break;
        }
        default:
            // RFC 9293 §3.1 (MUST-6): ignore without error an option we do not implement.
            break;
        }
        at += length;
    }
    return {};
}

/// Writes `opts` in the Linux kernel's layout (see the top of this file), padded with NOP
/// to 32 bits. Returns the bytes written, always opts.wire_size(); if `out` is smaller
/// than that, writes nothing and returns 0. A window scale above 14 is written as 14.
/// SACK blocks past opts.sack_blocks_that_fit() are not written.
inline std::size_t write_tcp_options(const tcp_options& opts, std::span<std::uint8_t> out) noexcept
{
    namespace opt = tcp_option;
    const std::size_t size = opts.wire_size();
    if (out.size() < size) return 0;
    std::uint8_t* p = out.data();
    const auto put = [&p](std::initializer_list<std::uint8_t> bytes) {
        for (std::uint8_t b : bytes) *p++ = b;
    };
    const auto put32 = [&p](std::uint32_t v) {
        boost::endian::store_big_u32(p, v);
        p += 4;
    };

    if (opts.mss) {
        put({opt::mss, opt::mss_length});
        boost::endian::store_big_u16(p, *opts.mss);
        p += 2;
    }
    if (opts.timestamp) {
        // RFC 7323 Appendix A: NOP NOP TS keeps tsval and tsecr 32-bit aligned; Linux puts
        // SACK-permitted (2 bytes, RFC 2018 §2) where the two NOPs would go.
        if (opts.sack_permitted) put({opt::sack_permitted, opt::sack_permitted_length});
        else put({opt::nop, opt::nop});
        put({opt::timestamp, opt::timestamp_length});
        put32(opts.timestamp->tsval);
        put32(opts.timestamp->tsecr);
    } else if (opts.sack_permitted) {
        put({opt::nop, opt::nop, opt::sack_permitted, opt::sack_permitted_length});
    }
    if (opts.window_scale) {
        // RFC 7323 §2.3: a shift above 14 is never sent (the receiver would use 14 anyway).
        put({opt::nop, opt::window_scale, opt::window_scale_length,
             std::min(*opts.window_scale, opt::max_window_scale)});
    }
    if (const std::size_t blocks = opts.sack_blocks_that_fit(); blocks != 0) {
        // RFC 2018 §3; NOP NOP puts every edge on a 32-bit boundary, as Linux does.
        put({opt::nop, opt::nop, opt::sack,
             static_cast<std::uint8_t>(opt::sack_base_length + blocks * opt::sack_block_length)});
        for (const sack_block& b : opts.sack_blocks().first(blocks)) {
            put32(b.left.value());
            put32(b.right.value());
        }
    }
    return size;
}

}  // namespace tcpx::wire
