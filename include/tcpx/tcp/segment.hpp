// tcpx/tcp/segment.hpp — a segment as the connection sees it: in (parsed header and
// payload) and out (a header to send and which bytes of the send buffer ride along).
// Have open: RFC 9293 §3.4 (SEG.LEN), §3.10.7.1 (resets for segments that have no
// connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <tcpx/wire/tcp_header.hpp>

namespace tcpx::tcp {

using wire::tcp_flags;

/// A received segment, after the stack's wire checks passed.
struct segment {
    wire::tcp_header header;
    std::span<const std::uint8_t> payload;
    /// Bytes at the start of the payload that connection::stage_text() has already
    /// copied into the receive buffer at RCV.NXT (the stack verified the checksum on
    /// that copy); the text step commits them instead of copying them again.
    std::size_t placed = 0;

    seq32 seq() const noexcept { return header.seq; }
    seq32 ack() const noexcept { return header.ack; }
    bool has(tcp_flags f) const noexcept { return wire::has(header.flags, f); }
    /// SEG.WND in bytes, with the peer's shift — except in a SYN or SYN,ACK, whose
    /// window "MUST NOT be scaled" (RFC 7323 §2.2). `syn_window` keeps that for what
    /// is left of a SYN,ACK whose old SYN was trimmed (simultaneous open).
    std::uint32_t window(std::uint8_t shift) const noexcept
    {
        const std::uint32_t w = header.window;
        return has(tcp_flags::syn) || syn_window ? w : w << shift;
    }
    bool syn_window = false;

    /// RFC 9293 §3.4: SEG.LEN counts the data and one each for SYN and FIN.
    std::uint32_t length() const noexcept
    {
        return static_cast<std::uint32_t>(payload.size()) + (has(tcp_flags::syn) ? 1u : 0u) +
               (has(tcp_flags::fin) ? 1u : 0u);
    }
};

/// A segment the connection wants sent: the header, and `payload_length` bytes of
/// the send buffer starting `payload_offset` bytes after SND.UNA. The stack copies
/// the payload straight from the send buffer into the packet (checksum folded in).
struct outgoing {
    wire::tcp_header header;
    std::size_t payload_offset = 0;
    std::size_t payload_length = 0;
};

/// RFC 9293 §3.10.7.1 (and §3.5.2): the reset that answers `in`, which belongs to
/// no connection (or was unacceptable in a non-synchronized state). Ports swapped;
/// the caller swaps addresses. Never answer a reset with a reset.
inline wire::tcp_header reset_for(const segment& in) noexcept
{
    wire::tcp_header rst;
    rst.source_port = in.header.destination_port;
    rst.destination_port = in.header.source_port;
    if (in.has(tcp_flags::ack)) {
        // "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
        rst.seq = in.ack();
        rst.flags = tcp_flags::rst;
    } else {
        // "If the ACK bit is off, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
        rst.seq = seq32{0};
        rst.ack = in.seq() + in.length();
        rst.flags = tcp_flags::rst | tcp_flags::ack;
    }
    return rst;
}

}  // namespace tcpx::tcp
