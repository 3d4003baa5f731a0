// tcpx/tcp/info.hpp — one connection's statistics at a glance, the way Linux's
// struct tcp_info (getsockopt TCP_INFO) and `ss -ti` show them.
//
// Have open: RFC 9293 §3.3.1 (the send and receive variables), RFC 6298 §2 (SRTT,
// RTTVAR, RTO), RFC 5681 §2–§3 (cwnd, ssthresh, FlightSize, duplicate ACKs, fast
// retransmit), RFC 4898 (TCP Extended Statistics MIB: where Linux's names come from).
//
// A snapshot, taken by value: info_of(connection, now), or stack::info(socket).
// bytes_acked counts acknowledged sequence space after the handshake: the data and
// the FIN (one), not the SYN — where Linux's counts the SYN too (`ss -ti` shows
// bytes_acked:1 on a new connection; tcpx shows 0).
//
// Delivery rate: once per round trip — when the ACK of the segment being timed for
// RFC 6298 arrives — the connection divides the bytes acknowledged since that segment
// was sent by the time since (draft-cheng-iccrg-delivery-rate-estimation §3.1's
// "delivered / interval", sampled for one packet per round trip rather than for
// each, which costs one division per RTT). Karn's rule (RFC 6298 §3) voids the
// timing of a retransmitted segment, so no sample is taken across a loss recovery;
// the last one stays until the next.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

#include <tcpx/concepts.hpp>
#include <tcpx/tcp/connection.hpp>
#include <tcpx/tcp/state.hpp>
#include <tcpx/time.hpp>

namespace tcpx::tcp {

/// One connection's statistics. Durations are microseconds; sizes are bytes.
struct connection_info {
    tcp::state state = tcp::state::closed;

    // ---- congestion control (RFC 5681) ----
    std::uint32_t cwnd = 0;             ///< congestion window
    std::uint32_t ssthresh = 0;         ///< UINT32_MAX: not set yet (RFC 5681 §3.1, "arbitrarily high")
    bool in_recovery = false;           ///< inside fast recovery (Linux: ca_state Recovery)
    std::uint32_t bytes_in_flight = 0;  ///< SND.MAX - SND.UNA: RFC 5681 §2 FlightSize
    std::uint32_t snd_mss = 0;          ///< the send MSS (RFC 9293 §3.7.1)
    std::uint32_t rcv_mss = 0;          ///< the peer's full-sized segment as seen (ss: rcvmss), for delayed ACKs

    // ---- windows (RFC 9293 §3.3.1) ----
    std::uint32_t snd_wnd = 0;          ///< the peer's window, in bytes (scale applied)
    std::uint32_t rcv_wnd = 0;          ///< the window last advertised, in bytes

    // ---- round-trip time (RFC 6298) ----
    duration srtt{0};                   ///< 0 before the first sample
    duration rttvar{0};
    duration rto{0};                    ///< what the timer is armed with, backoff included
    unsigned backoff = 0;               ///< RFC 6298 §5.5 doublings in force (Linux: tcpi_backoff)
    /// Until the retransmission timer fires (0 if due), or duration::max() if not armed.
    duration retransmit_timer = duration::max();

    // ---- counters (connection_stats) ----
    std::uint64_t segments_sent = 0;
    std::uint64_t segments_received = 0;
    std::uint64_t bytes_sent = 0;            ///< payload, retransmissions included (tcpi_bytes_sent)
    std::uint64_t bytes_retransmitted = 0;   ///< payload (tcpi_bytes_retrans)
    std::uint64_t bytes_acked = 0;           ///< data and FIN (tcpi_bytes_acked, less the SYN)
    std::uint64_t bytes_received = 0;        ///< in-order payload (tcpi_bytes_received)
    std::uint64_t retransmitted_segments = 0;  ///< tcpi_total_retrans
    std::uint64_t fast_retransmits = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t duplicate_acks = 0;        ///< received, by RFC 5681 §2's definition
    std::uint64_t out_of_order_dropped = 0;  ///< out-of-order text not stored: no range, or the pool dry
    std::uint64_t out_of_order_over_share = 0;  ///< ... refused: the pool's out-of-order share taken
    std::uint64_t out_of_order_pruned = 0;   ///< held out-of-order data dropped under pressure
    std::uint64_t in_order_dropped = 0;      ///< in-order text not stored: the pool dry
    std::uint64_t acks_throttled = 0;        ///< RFC 5961 §7: ACKs to unacceptable segments not sent
    /// Segments (or their text) discarded, by tcp::discard_reason.
    std::array<std::uint64_t, static_cast<std::size_t>(discard_reason::count)> discarded{};
    std::uint64_t challenge_acks = 0;
    std::uint64_t delivery_rate = 0;         ///< bytes per second (see the header comment)

    // ---- options in use, and SACK-based recovery (RFC 2018, RFC 6675, RFC 7323) ----
    bool timestamps = false;                 ///< both SYNs carried TSopt (TCPI_OPT_TIMESTAMPS)
    bool sack = false;                       ///< both SYNs carried SACK-permitted (TCPI_OPT_SACK)
    bool wscale = false;                     ///< window scaling on (TCPI_OPT_WSCALE)
    std::uint8_t snd_wscale = 0;             ///< the peer's shift, applied to its windows
    std::uint8_t rcv_wscale = 0;             ///< ours
    std::uint32_t sacked = 0;                ///< bytes the peer SACKed beyond SND.UNA (tcpi_sacked, in bytes)
    std::uint32_t retransmitting = 0;        ///< bytes retransmitted in recovery and in flight (tcpi_retrans)
    std::uint64_t sack_recoveries = 0;
    std::uint64_t lost_retransmits = 0;      ///< Linux's TCPLostRetransmit
    std::uint64_t rescue_retransmits = 0;
    std::uint64_t dsacks_received = 0;       ///< Linux's TCPDSACKRecv
    std::uint64_t dsacks_sent = 0;           ///< Linux's TCPDSACKOldSent + TCPDSACKOfoSent
    std::uint64_t reductions_undone = 0;     ///< Linux's TCPDSACKUndo + TCPFullUndo
    std::uint64_t timestamp_undos = 0;       ///< ... of them by the timestamp echo (RFC 3522; Linux's TCPFullUndo)
    std::uint64_t sack_reneging = 0;         ///< Linux's TCPSACKReneging
    std::uint64_t sack_ranges_forgotten = 0; ///< SACKed islands the scoreboard could not keep
    std::uint64_t orphans_aborted = 0;       ///< config::orphan_probes reached behind a zero window
    std::uint64_t flights_without_recovery_state = 0;  ///< config::max_recovery_states was reached
    std::uint64_t rack_marked_lost = 0;      ///< RFC 8985 §6.2 verdicts that marked data lost
    std::uint64_t loss_probes = 0;           ///< RFC 8985 §7 (Linux's TCPLossProbes)
    std::uint64_t loss_probe_recoveries = 0; ///< Linux's TCPLossProbeRecovery
    std::uint64_t paws_rejected = 0;         ///< RFC 7323 §5.3 (Linux's PAWSEstab)
    std::uint64_t timestamp_missing = 0;     ///< RFC 7323 §3.2 drops
    std::uint64_t timestamp_rtt_samples = 0; ///< RFC 7323 §4 RTTM samples
};

/// The statistics of `c` at `now` (now only places the retransmission timer).
template <congestion_control CC>
connection_info info_of(const connection<CC>& c, instant now) noexcept
{
    connection_info i;
    i.state = c.state();
    i.cwnd = c.congestion().cwnd();
    i.ssthresh = c.congestion().ssthresh();
    i.in_recovery = c.congestion().in_recovery();
    i.bytes_in_flight = static_cast<std::uint32_t>(c.snd().max - c.snd().una);
    i.snd_mss = c.send_mss();
    i.rcv_mss = c.receive_mss();
    i.snd_wnd = c.snd().wnd;
    i.rcv_wnd = c.rcv().wnd;
    i.srtt = c.rtt().srtt();
    i.rttvar = c.rtt().rttvar();
    i.rto = c.rtt().rto();
    i.backoff = c.rtt().backoff_count();
    if (const instant at = c.deadline(timer::retransmit); at != never)
        i.retransmit_timer = at > now ? at - now : duration{0};
    const connection_stats& s = c.stats();
    i.segments_sent = s.segments_sent;
    i.segments_received = s.segments_received;
    i.bytes_sent = s.bytes_sent;
    i.bytes_retransmitted = s.bytes_retransmitted;
    i.bytes_acked = s.bytes_acked;
    i.bytes_received = s.bytes_received;
    i.retransmitted_segments = s.retransmitted_segments;
    i.fast_retransmits = s.fast_retransmits;
    i.timeouts = s.timeouts;
    i.duplicate_acks = s.duplicate_acks;
    i.out_of_order_dropped = s.out_of_order_dropped;
    i.out_of_order_over_share = s.out_of_order_over_share;
    i.out_of_order_pruned = s.out_of_order_pruned;
    i.in_order_dropped = s.in_order_dropped;
    i.acks_throttled = s.acks_throttled;
    std::copy(s.discarded.begin(), s.discarded.end(), i.discarded.begin());
    i.challenge_acks = s.challenge_acks;
    i.delivery_rate = s.delivery_rate;
    i.in_recovery = i.in_recovery || c.in_sack_recovery();
    i.timestamps = c.timestamps_on();
    i.sack = c.sack_permitted();
    i.wscale = c.window_scaled();
    i.snd_wscale = c.snd().scale;
    i.rcv_wscale = c.rcv().scale;
    i.sacked = c.scoreboard().sacked_bytes();
    i.retransmitting = c.scoreboard().retransmitted_in_flight();
    i.sack_recoveries = s.sack_recoveries;
    i.lost_retransmits = s.lost_retransmits;
    i.rescue_retransmits = s.rescue_retransmits;
    i.dsacks_received = s.dsacks_received;
    i.dsacks_sent = s.dsacks_sent;
    i.reductions_undone = s.reductions_undone;
    i.timestamp_undos = s.timestamp_undos;
    i.sack_reneging = s.sack_reneging;
    i.sack_ranges_forgotten = s.sack_ranges_forgotten;
    i.orphans_aborted = s.orphans_aborted;
    i.flights_without_recovery_state = s.flights_without_recovery_state;
    i.rack_marked_lost = s.rack_marked_lost;
    i.loss_probes = s.loss_probes;
    i.loss_probe_recoveries = s.loss_probe_recoveries;
    i.paws_rejected = s.paws_rejected;
    i.timestamp_missing = s.timestamp_missing;
    i.timestamp_rtt_samples = s.timestamp_rtt_samples;
    return i;
}

/// One line in the spirit of `ss -ti`: "ESTABLISHED rto:204 rtt:2.1/0.5 mss:1460
/// cwnd:14600 ssthresh:7300 bytes_sent:... delivery_rate:948.1Mbps". Times in
/// milliseconds, windows in bytes (ss counts cwnd in segments; tcpx's are bytes).
inline std::string to_string(const connection_info& i)
{
    const auto ms = [](duration d) { return std::to_string(static_cast<double>(d.count()) / 1000.0); };
    const auto trim = [](std::string s) {  // "2.100000" -> "2.1"
        if (s.find('.') != std::string::npos) {
            s.erase(s.find_last_not_of('0') + 1);
            if (s.back() == '.') s.pop_back();
        }
        return s;
    };
    std::string out{to_string(i.state)};
    // ss -ti's options first: "ts sack wscale:S,R".
    if (i.timestamps) out += " ts";
    if (i.sack) out += " sack";
    if (i.wscale) out += " wscale:" + std::to_string(i.snd_wscale) + "," + std::to_string(i.rcv_wscale);
    out += " rto:" + trim(ms(i.rto));
    if (i.backoff != 0) out += " backoff:" + std::to_string(i.backoff);
    out += " rtt:" + trim(ms(i.srtt)) + "/" + trim(ms(i.rttvar));
    out += " mss:" + std::to_string(i.snd_mss);
    out += " rcvmss:" + std::to_string(i.rcv_mss);
    out += " cwnd:" + std::to_string(i.cwnd);
    if (i.ssthresh != UINT32_MAX) out += " ssthresh:" + std::to_string(i.ssthresh);
    if (i.in_recovery) out += " recovery";
    out += " bytes_sent:" + std::to_string(i.bytes_sent);
    if (i.bytes_retransmitted != 0) out += " bytes_retrans:" + std::to_string(i.bytes_retransmitted);
    out += " bytes_acked:" + std::to_string(i.bytes_acked);
    out += " bytes_received:" + std::to_string(i.bytes_received);
    out += " segs_out:" + std::to_string(i.segments_sent);
    out += " segs_in:" + std::to_string(i.segments_received);
    out += " unacked:" + std::to_string(i.bytes_in_flight);
    if (i.retransmitted_segments != 0) out += " retrans:" + std::to_string(i.retransmitted_segments);
    if (i.fast_retransmits != 0) out += " fast_retrans:" + std::to_string(i.fast_retransmits);
    if (i.timeouts != 0) out += " timeouts:" + std::to_string(i.timeouts);
    if (i.duplicate_acks != 0) out += " dupacks:" + std::to_string(i.duplicate_acks);
    if (i.sacked != 0) out += " sacked:" + std::to_string(i.sacked);
    if (i.sack_recoveries != 0) out += " sack_recoveries:" + std::to_string(i.sack_recoveries);
    if (i.lost_retransmits != 0) out += " lost_retrans:" + std::to_string(i.lost_retransmits);
    if (i.rescue_retransmits != 0) out += " rescue_retrans:" + std::to_string(i.rescue_retransmits);
    if (i.dsacks_received != 0) out += " dsack_recv:" + std::to_string(i.dsacks_received);
    if (i.dsacks_sent != 0) out += " dsack_sent:" + std::to_string(i.dsacks_sent);
    if (i.reductions_undone != 0) out += " undo:" + std::to_string(i.reductions_undone);
    if (i.timestamp_undos != 0) out += " ts_undo:" + std::to_string(i.timestamp_undos);
    if (i.sack_reneging != 0) out += " reneging:" + std::to_string(i.sack_reneging);
    if (i.sack_ranges_forgotten != 0) out += " sack_forgotten:" + std::to_string(i.sack_ranges_forgotten);
    if (i.flights_without_recovery_state != 0)
        out += " no_recovery_state:" + std::to_string(i.flights_without_recovery_state);
    if (i.rack_marked_lost != 0) out += " rack_lost:" + std::to_string(i.rack_marked_lost);
    if (i.loss_probes != 0) out += " tlp:" + std::to_string(i.loss_probes);
    if (i.loss_probe_recoveries != 0) out += " tlp_recoveries:" + std::to_string(i.loss_probe_recoveries);
    if (i.paws_rejected != 0) out += " paws:" + std::to_string(i.paws_rejected);
    if (i.out_of_order_dropped != 0) out += " ofo_drop:" + std::to_string(i.out_of_order_dropped);
    if (i.out_of_order_over_share != 0) out += " ofo_over_share:" + std::to_string(i.out_of_order_over_share);
    if (i.out_of_order_pruned != 0) out += " ofo_pruned:" + std::to_string(i.out_of_order_pruned);
    if (i.in_order_dropped != 0) out += " rcv_drop:" + std::to_string(i.in_order_dropped);
    if (i.acks_throttled != 0) out += " acks_throttled:" + std::to_string(i.acks_throttled);
    for (std::size_t k = 0; k < i.discarded.size(); ++k)
        if (i.discarded[k] != 0)
            out += " discard_" + std::string{to_string(static_cast<discard_reason>(k))} + ":" + std::to_string(i.discarded[k]);
    if (i.timestamp_missing != 0) out += " ts_missing:" + std::to_string(i.timestamp_missing);
    if (i.delivery_rate != 0) {
        char rate[32];
        std::snprintf(rate, sizeof rate, "%.1fMbps", static_cast<double>(i.delivery_rate) * 8 / 1e6);
        out += " delivery_rate:" + std::string{rate};
    }
    out += " snd_wnd:" + std::to_string(i.snd_wnd) + " rcv_wnd:" + std::to_string(i.rcv_wnd);
    return out;
}

}  // namespace tcpx::tcp
