// The Timestamps option (RFC 7323 §3-§5) for tcpx/tcp/connection.hpp: PAWS, TS.Recent and
// RTT measurement. Not to be included directly. The option is written in fill_common and
// next_handshake_segment (impl/connection_output.ipp), negotiated in learn_options.
//
// The timestamp clock (§5.4) ticks every millisecond: 2^31 ticks last 24.8 days, which is
// what the idle rule of §5.5 (and Linux's PAWS, TCP_PAWS_24DAYS) assumes of a peer's
// clock, and a finer one would make a long-idle connection's next segment look old to
// such a peer. It starts at a per-connection offset (§7.1, isn_generator::timestamp_offset).
#pragma once

#include <cstdint>

namespace tcpx::tcp {

namespace detail {
// RFC 7323 §5.5: "If a connection remains idle for more than 24 days, ... TS.Recent is
// invalid" — beyond that its timestamps may have wrapped past half the space.
inline constexpr duration paws_idle = std::chrono::hours{24 * 24};
}  // namespace detail

// RFC 7323 §5.3 R1 (for a segment whose sequence number is about to be checked):
// "If there is a Timestamps option in the arriving segment, SEG.TSval < TS.Recent,
// TS.Recent is valid, and the RST bit is not set, then treat the arriving segment as not
// acceptable: Send an acknowledgment in reply ... and drop the segment."
template <congestion_control CC>
bool connection<CC>::paws_rejects(const segment& seg, context& ctx) noexcept
{
    if (!ts_ok_ || seg.has(tcp_flags::rst)) return false;
    const auto& ts = seg.header.options.timestamp;
    if (!ts) {
        // RFC 7323 §3.2: "If a non-<RST> segment is received without a TSopt, a TCP
        // SHOULD silently drop the segment."
        ++stats_.timestamp_missing;
        return true;
    }
    if (static_cast<std::int32_t>(ts->tsval - ts_recent_) >= 0) return false;
    if (ctx.now - ts_recent_stamp_ > detail::paws_idle) return false;  // §5.5: TS.Recent is invalid
    ++stats_.paws_rejected;
    throttled_ack(ctx);  // "Send an acknowledgment in reply", RFC 5961 §7's throttle
    return true;
}

// RFC 7323 §4.3 (2), §5.3 R3: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent,
// then SEG.TSval is copied to TS.Recent; otherwise, it is ignored" — for an acceptable
// segment. Left of Last.ACK.sent only, so a delayed ACK echoes the timestamp of the
// earliest segment it acknowledges and the peer's RTT includes the delay (§4.3 (A)).
template <congestion_control CC>
void connection<CC>::update_ts_recent(const segment& seg, context& ctx) noexcept
{
    const auto& ts = seg.header.options.timestamp;
    if (!ts_ok_ || !ts) return;
    // §5.5: once TS.Recent is invalid (24 days idle) "rule R3 updates TS.Recent with the
    // TSval from the new segment", older-looking or not.
    const bool newer = static_cast<std::int32_t>(ts->tsval - ts_recent_) >= 0 ||
                       ctx.now - ts_recent_stamp_ > detail::paws_idle;
    if (newer && seq_le(seg.seq(), last_ack_sent_)) {
        ts_recent_ = ts->tsval;
        ts_recent_stamp_ = ctx.now;
    }
}

// RFC 7323 §4.1: "A TSecr value received in a segment MAY be used to update the averaged
// RTT measurement only if the segment advances the left edge of the send window" (the
// caller checks). The echoed value is the TSval of the segment that drew this ACK, a
// retransmission included: no ambiguity for Karn (RFC 6298 §3) to guard against.
// 0 when there is no sample (no option; a value from the future: not ours).
template <congestion_control CC>
duration connection<CC>::timestamp_rtt(const segment& seg, context& ctx) const noexcept
{
    const auto& ts = seg.header.options.timestamp;
    if (!ts_ok_ || !ts) return duration{0};
    const auto ticks = static_cast<std::int32_t>(ts_clock(ctx.now) - ts->tsecr);
    // Under one tick the sample says only "less than a millisecond": no sample (the
    // timed segment's microseconds measure such paths; one tick would pull SRTT up).
    if (ticks <= 0) return duration{0};
    return std::chrono::milliseconds{ticks};
}

}  // namespace tcpx::tcp
