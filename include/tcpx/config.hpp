// tcpx/config.hpp — every runtime knob of a stack, in one struct, with its default
// and the rule it comes from. Compile-time choices (device, clock, congestion
// control) are template parameters of tcpx::stack instead.
//
// Buffer sizes are limits, not allocations: data lives in chunks drawn on demand from
// one stack-wide pool of at most `pool_bytes` (DESIGN.md "Memory and time").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <tcpx/time.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/ipv6.hpp>

namespace tcpx {

/// When a listener answers a SYN with an RFC 4987 §3.6 SYN cookie instead of keeping a
/// half-open connection (config::syn_cookies).
enum class syn_cookie_mode : std::uint8_t {
    never,      ///< a full table or accept queue drops the SYN, as without cookies
    when_full,  ///< only while config::max_half_open or the listener's backlog is reached (Linux's default, tcp_syncookies = 1)
    always,     ///< every SYN (Linux's tcp_syncookies = 2): for tests and for hosts always under attack
};

struct config {
    // -- addressing --
    /// The stack's own IPv4 address; segments to any other address are dropped.
    wire::ipv4_address address{10, 0, 0, 1};
    /// The prefix length of the stack's subnet, when known (0: not known), so that a
    /// datagram from its directed broadcast address is dropped like one from
    /// 255.255.255.255 (RFC 1122 §3.2.1.3 (d)-(e), §4.2.3.10).
    std::uint8_t prefix_length = 0;
    /// The stack's own IPv6 address, if it has one: packets to it are taken (RFC 8200),
    /// echo requests answered and fragments reassembled; TCP over IPv6 is not carried
    /// yet (drop_reason::ipv6_tcp_not_yet). nullopt: every IPv6 packet is dropped as
    /// not_our_address.
    std::optional<wire::ipv6_address> address6;
    /// RFC 6335 §6 dynamic range, from which connect() picks local ports.
    std::uint16_t ephemeral_port_first = 49152;
    std::uint16_t ephemeral_port_last = 65535;

    // -- segment size (RFC 9293 §3.7.1, RFC 6691) --
    /// The MSS we announce. 0: the device MTU less 40 bytes of IPv4 and TCP header.
    std::uint16_t mss = 0;

    // -- buffers and windows --
    std::size_t send_buffer = 256 * 1024;     ///< per connection: unacknowledged + unsent bytes
    std::size_t receive_buffer = 256 * 1024;  ///< per connection: unread + out-of-order bytes
    /// The most either buffer may be (RFC 7323 §2.3's largest window, 2^30): the stack
    /// holds larger values to it, so no queued byte lies 2^31 or more past SND.UNA.
    static constexpr std::size_t max_buffer = std::size_t{1} << 30;
    /// RFC 7323 §2: offer window scaling in our SYN (the shift is derived from receive_buffer).
    bool window_scaling = true;
    /// RFC 2018: offer SACK-permitted in our SYN (and answer a peer's), and, where both
    /// SYNs carried it, report out-of-order data in SACK blocks on every ACK.
    bool sack = true;
    /// RFC 6675: where SACK was negotiated, the sender keeps a scoreboard of the peer's
    /// blocks and recovers from loss by it (several holes per round trip, lost
    /// retransmissions found without a timeout, only unSACKed data resent after one).
    /// false: the congestion policy's RFC 5681 / RFC 6582 recovery, as without SACK.
    bool sack_recovery = true;
    /// RFC 6937 Proportional Rate Reduction paces the window down to ssthresh during
    /// SACK recovery, whatever the congestion policy. false: RFC 6675 §5's rule, send
    /// while cwnd - pipe >= 1 SMSS with cwnd = ssthresh at once.
    bool proportional_rate_reduction = true;
    /// RFC 8985 §6 RACK: on SACK connections, a segment is lost once one sent after it
    /// was delivered and a reordering window (a quarter of the least RTT, widened by
    /// D-SACKs) passed — no three duplicate ACKs needed. false: RFC 6675's counts only.
    bool rack = true;
    /// RFC 8985 §7 Tail Loss Probe: two smoothed RTTs after the last send with nothing
    /// heard, send one segment (new, or the last again) so a lost tail is repaired by
    /// SACK recovery instead of the retransmission timer.
    bool tail_loss_probe = true;
    /// RFC 9406 HyStart++ in every shipped policy's slow start: when the RTT rises by a
    /// threshold within a round, growth slows to a quarter (CSS) and, if the rise holds
    /// for five rounds, slow start ends before the queue overflows.
    bool hystart = true;
    /// RFC 2883 §4: as a receiver, report a duplicate segment in a D-SACK block (the
    /// first of the next ACK's SACK option), so the sender can tell a needless
    /// retransmission; only where SACK was negotiated. Linux: net.ipv4.tcp_dsack.
    bool dsack = true;
    /// As a sender, undo a recovery's reduction when D-SACK shows every retransmission it
    /// made was needless (RFC 3708 §3; the response of RFC 9438 §4.9: the policy's state
    /// from before the reduction), as Linux's TCPDSACKUndo. Needs sack_recovery.
    bool undo_spurious_reductions = true;
    /// RFC 7323 §3-§5: offer the Timestamps option in our SYN (and answer a peer's). Where
    /// both SYNs carried it: an RTT sample from every ACK of new data (§4), PAWS (§5),
    /// a 1 ms timestamp clock with a per-connection offset (§5.4, §7.1).
    bool timestamps = true;
    /// Stack-wide data pool limit; at the limit, sends take less and out-of-order data is dropped.
    std::size_t pool_bytes = std::size_t{256} << 20;
    /// The share of the pool (percent, rounded up to a chunk) that out-of-order data may
    /// pin across all connections. One byte at the far edge of a window pins the chunks
    /// up to it, so without a share a thousand peers that never fill their holes would
    /// take the pool from every connection's in-order data. Each connection's own bound
    /// is its receive window (receive_buffer), as Linux's is its rcvbuf.
    unsigned out_of_order_pool_percent = 25;
    /// Under pressure (the share taken, or the pool dry), the stack prunes the
    /// out-of-order data of every connection whose hole has stood this long — past any
    /// reordering, waiting for a retransmission timeout or for nothing (as Linux's
    /// tcp_prune_ofo_queue; RFC 2018 §8: SACKed data may be discarded, the peer resends
    /// it). Younger holes are kept: a connection in recovery keeps what it holds, and
    /// the newcomer's out-of-order text is refused instead. Pruning walks the
    /// connections, so it runs at most once per millisecond.
    duration out_of_order_prune_after = 1s;

    // -- retransmission (RFC 6298) --
    duration initial_rto = 1s;  ///< RFC 6298 §2.1
    /// RFC 6298 §2.4 says 1 s SHOULD; 200 ms is what Linux uses and what keeps
    /// recovery quick on fast paths. Raise it for strict conformance.
    duration min_rto = 200ms;
    duration max_rto = 60s;     ///< RFC 6298 §2.5 allows a maximum of at least 60 s
    duration clock_granularity = 1ms;  ///< G in RFC 6298 §2
    /// RFC 9293 §3.10.8 / RFC 1122 §4.2.3.5 (R2): give up on a connection when data
    /// (or a SYN) stays unacknowledged this long; the user sees errc::timed_out.
    duration user_timeout = 5min;
    /// The same for an opening connection (RFC 1122 §4.2.3.5: R2 for a SYN >= 3 min).
    duration connect_timeout = 3min;

    // -- acknowledgments and sending (RFC 1122 §4.2.3.2, §4.2.3.4) --
    /// Delayed-ACK timeout: RFC 1122 §4.2.3.2 MUST be below 0.5 s; 40 ms as Linux.
    duration delayed_ack = 40ms;
    /// Sockets start with Nagle's algorithm on (RFC 1122 §4.2.3.4); per-socket switch.
    bool nodelay = false;
    /// RFC 9293 §3.8.6.1: the first zero-window probe interval (then doubled, up to max_rto).
    duration persist_timeout = 200ms;
    /// Zero-window probes an orphan (a connection close()d with data or its FIN still
    /// queued) sends before it is aborted, however the peer answers them: a peer that
    /// keeps its window shut would otherwise hold it forever. RFC 6429 allows the abort;
    /// Linux's tcp_orphan_retries is 8 by default. Held to max_orphan_probes.
    unsigned orphan_probes = 8;
    static constexpr unsigned max_orphan_probes = 255;  ///< the count is a byte per connection

    // -- closing --
    /// Maximum segment lifetime; TIME-WAIT lasts 2 * msl (RFC 9293 §3.4.2). Linux holds 60 s.
    duration msl = 30s;

    // -- keep-alive (RFC 1122 §4.2.3.6), off unless asked for --
    bool keepalive = false;
    duration keepalive_idle = 2h;       ///< MUST default to no less than two hours
    duration keepalive_interval = 75s;
    unsigned keepalive_probes = 9;              ///< held to max_keepalive_probes
    static constexpr unsigned max_keepalive_probes = 255;

    // -- limits: at each one the stack refuses cleanly and counts it --
    std::size_t max_connections = 65536;   ///< connections of every state but TIME-WAIT (max_time_wait)
    /// Connections in TIME-WAIT, bounded apart so that a server which closes first never
    /// stops accepting for them (65,536 of 2 MSL each would be ~1,100 closes a second).
    /// Past it, a connection that would enter TIME-WAIT sends its last ACK and is
    /// closed at once, counted (time_wait_overflows), as Linux's tcp_max_tw_buckets does.
    std::size_t max_time_wait = 32768;
    std::size_t max_listen_backlog = 4096; ///< upper bound for listen()'s backlog
    std::size_t max_half_open = 1024;      ///< connections in SYN-RECEIVED, stack-wide (and per listener: its backlog)
    /// SYN,ACK retransmissions before a passive opening gives up (Linux's
    /// tcp_synack_retries: 5, about a minute with the RTO doubling from 1 s) ...
    unsigned syn_ack_retries = 5;
    /// ... and while the half-open table (max_half_open) is at least half full, or the
    /// listener's own half-open connections pass half of max(8, its backlog): spoofed SYNs
    /// then hold a slot for seconds, not a minute (as Linux's reqsk_timer_handler gives
    /// old requests fewer retries when the queue fills).
    unsigned syn_ack_retries_under_pressure = 2;
    /// RFC 4987 §3.6: past max_half_open or a full accept queue, SYNs are answered with a
    /// cookie and no state (tcp/syn_cookie.hpp); the ACK that returns it opens the connection.
    syn_cookie_mode syn_cookies = syn_cookie_mode::when_full;
    /// SACK loss-recovery states (tcp/recovery_state.hpp, about a kilobyte each), held
    /// by connections with data in flight; 0: one for every connection (max_connections).
    /// A flight that finds none free is recovered without SACK, by the policy.
    std::size_t max_recovery_states = 0;
    std::size_t max_packets_per_poll = 256;

    // -- path MTU --
    /// Path-MTU black-hole detection (RFC 4821 §7.7's fallback, Linux's tcp_mtu_probing=1;
    /// off by default, as there): a path that drops segments of some size without the
    /// ICMP message RFC 1191 relies on looks like a run of retransmission timeouts. On
    /// the third in a row the segments fall to black_hole_base_mss, then halve at each
    /// further one down to 536, below which the datagrams go without DF. The size is not
    /// raised again on this connection (Linux probes back up; tcpx does not yet).
    bool mtu_black_hole_detection = false;
    std::uint16_t black_hole_base_mss = 1024;  ///< Linux's tcp_base_mss

    // -- IP fragments (RFC 791 §3.2, RFC 815, RFC 5722; ip/reassembly.hpp) --
    /// Datagrams being reassembled at once, each in a buffer of 64 KiB and a little,
    /// allocated when first needed and kept: 64 bound the memory at 4.2 MiB (Linux's
    /// ipfrag_high_thresh is 4 MiB). When all are in use the oldest is dropped for a new
    /// one. 0: no reassembly, every fragment dropped (drop_reason::ipv4_fragment).
    std::size_t reassembly_datagrams = 64;
    /// A datagram not complete this long after its first fragment came is dropped, with
    /// ICMP time exceeded (fragment reassembly) if its first fragment had come (RFC 1122
    /// §3.3.2 leaves the time to the host; Linux's ipfrag_time is 30 s).
    duration reassembly_timeout = std::chrono::seconds{30};
    /// The same for IPv6: RFC 8200 §4.5 says 60 s (Linux's ip6frag_time).
    duration reassembly_timeout6 = std::chrono::seconds{60};

    // -- ICMP (RFC 1122 §3.2.2) --
    /// Answer echo requests (ping), RFC 1122 §3.2.2.6 (MUST).
    bool answer_ping = true;
    /// Error messages we send (protocol unreachable), at most this many per second, in
    /// bursts of as many: RFC 1812 §4.3.2.8 (a flood of odd packets must not become a
    /// flood of answers). 0: never send any.
    unsigned icmp_errors_per_second = 100;

    // -- initial sequence numbers (RFC 6528) --
    /// The secret key for the ISN hash; empty: drawn from std::random_device. Fix it
    /// for runs that must repeat bit for bit.
    std::optional<std::array<std::uint64_t, 2>> isn_secret;

    // -- congestion control (RFC 5681 §3.1, RFC 6928) --
    /// The initial window in segments. 10 (default) is RFC 6928's, min(10*MSS,
    /// max(2*MSS, 14600)), Linux's since 2.6.39: a 100 KB response takes three round
    /// trips instead of four. 0 means RFC 5681 §3.1's rule (2 to 4 by SMSS).
    std::uint32_t initial_window_segments = 10;
};

}  // namespace tcpx
