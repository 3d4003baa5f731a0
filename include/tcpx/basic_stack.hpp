// tcpx/basic_stack.hpp — tcpx::stack: a device, a clock and a table of connections,
// glued. Users include <tcpx/stack.hpp>, which brings this and every policy.
//
// Have open: RFC 9293 §3.9.1 (the user interface), §3.10 (event processing: the stack
// does §3.10.7.1 CLOSED and §3.10.7.2 LISTEN, the connection the rest), RFC 1122
// §3.2.2 and §4.2.3.9 (ICMP: echo, errors about connections), RFC 6528
// (ISNs), RFC 6056 (ephemeral ports), RFC 6191 (reopening from TIME-WAIT), RFC 791
// §3.2 (fragments: reassembled in, an echo reply fragmented out).
//
// Single-threaded and non-blocking: every call returns at once. poll() does the work
// — takes in received packets, fires due timers, sends what may be sent — and
// returns when it next needs to run, so the caller can sleep exactly until then.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include <tcpx/cc/reno.hpp>
#include <tcpx/concepts.hpp>
#include <tcpx/config.hpp>
#include <tcpx/counters.hpp>
#include <tcpx/detail/block_pool.hpp>
#include <tcpx/detail/deadline_heap.hpp>
#include <tcpx/detail/flat_table.hpp>
#include <tcpx/detail/stable_vector.hpp>
#include <tcpx/error.hpp>
#include <tcpx/ip/reassembly.hpp>
#include <tcpx/socket.hpp>
#include <tcpx/tcp/chunk_pool.hpp>
#include <tcpx/tcp/connection.hpp>
#include <tcpx/tcp/icmp_error.hpp>
#include <tcpx/tcp/info.hpp>
#include <tcpx/tcp/isn.hpp>
#include <tcpx/tcp/syn_cookie.hpp>
#include <tcpx/time.hpp>
#include <tcpx/trace.hpp>
#include <tcpx/wire/icmp.hpp>
#include <tcpx/wire/icmpv6.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/ipv6.hpp>

namespace tcpx {

/// A TCP/IP stack.
///   Device             models tcpx::device (concepts.hpp): moves IPv4 packets
///   Clock              models tcpx::clock: tells the time
///   CongestionControl  models tcpx::congestion_control; cc::reno (RFC 5681) unless named
template <device Device, clock Clock, congestion_control CongestionControl = cc::reno>
class stack {
public:
    using connection_type = tcp::connection<CongestionControl>;

    /// `cfg.mss == 0` is resolved here from the device MTU.
    stack(Device device, Clock clock, config cfg = {});
    stack(const stack&) = delete;
    stack& operator=(const stack&) = delete;

    // ---- opening ----
    /// Listens on `port` with an accept queue of `backlog` connections (at most
    /// config::max_listen_backlog). errc::address_in_use if the port is listened on.
    tcpx::listener listen(std::uint16_t port, std::size_t backlog, std::error_code& ec);
    /// The next connection that completed its handshake on `l`; errc::would_block if none.
    tcpx::socket accept(tcpx::listener l, std::error_code& ec);
    /// Stops listening; connections waiting in the accept queue are reset.
    std::error_code close(tcpx::listener l);
    /// Opens a connection to remote:port from an ephemeral port; the SYN leaves at the
    /// next poll(). The socket becomes writable once ESTABLISHED.
    tcpx::socket connect(wire::ipv4_address remote, std::uint16_t port, std::error_code& ec);

    // ---- data ----
    /// Queues what fits of `data`; returns how much. errc::would_block if nothing fit.
    std::size_t send(tcpx::socket s, std::span<const std::uint8_t> data, std::error_code& ec);
    /// Copies received bytes; errc::end_of_stream after the peer closed, would_block if none yet.
    std::size_t receive(tcpx::socket s, std::span<std::uint8_t> out, std::error_code& ec);
    /// Reads without copying: calls take(std::span<const std::uint8_t> run) for each run
    /// of received bytes in order, in the stack's own buffer, until it returns less than
    /// the run's size; the bytes it says it took (its return value) are consumed, as if
    /// receive() had copied them out. Returns their count; errors as receive(). The span
    /// is valid only during the call; `take` must not call into the stack.
    template <class Take>
    std::size_t receive_in_place(tcpx::socket s, Take&& take, std::error_code& ec);

    // ---- closing ----
    /// Closes the sending side (a FIN follows the data); reading goes on (half-close).
    std::error_code shutdown(tcpx::socket s);
    /// Gives the socket up: the connection closes gracefully in the background (or is
    /// reset if unread data is left, RFC 2525 §2.17); the handle goes stale at once.
    std::error_code close(tcpx::socket s);
    /// Resets the connection (RFC 9293 §3.10.5); the handle goes stale at once.
    std::error_code abort(tcpx::socket s);

    // ---- queries (a stale handle answers false / CLOSED / errc::bad_handle) ----
    bool readable(tcpx::socket s) const;    ///< receive() would not say would_block
    bool writable(tcpx::socket s) const;    ///< ESTABLISHED or CLOSE-WAIT and send() would take a byte
    bool peer_closed(tcpx::socket s) const; ///< the peer's FIN arrived
    tcp::state state(tcpx::socket s) const;
    std::error_code error(tcpx::socket s) const;  ///< why the connection ended, if it did
    const connection_type* connection(tcpx::socket s) const;  ///< for statistics; nullptr if stale
    /// Statistics the way Linux's tcp_info shows them (tcp/info.hpp); a stale handle
    /// gives a default connection_info (CLOSED, all zero).
    tcp::connection_info info(tcpx::socket s) const;
    /// Records every change of cwnd and ssthresh into `t` (trace.hpp); nullptr detaches.
    /// close() and abort() detach it too, so `t` must live until one of the three.
    std::error_code set_trace(tcpx::socket s, cc_trace* t);
    std::error_code set_nodelay(tcpx::socket s, bool on);
    std::error_code set_keepalive(tcpx::socket s, bool on);

    // ---- running ----
    /// Takes in pending packets, fires due timers, sends what may be sent. Returns the
    /// time of the next thing to do (now, if packets are still waiting).
    instant poll();
    /// When poll() next has work: at once (instant{}) after a user call that queued
    /// output (send, shutdown, a read that opens the window ...), else the earliest
    /// timer or device deadline. A caller sleeps until this, not until poll()'s
    /// return value, if it made calls in between.
    instant next_deadline() const noexcept
    {
        if (!dirty_.empty()) return instant{};
        return std::min({timers_.top_deadline(), device_.next_deadline(), reassembly_.next_deadline()});
    }

    Device& device() noexcept { return device_; }
    Clock& clock() noexcept { return clock_; }
    const config& configuration() const noexcept { return cfg_; }
    const stack_counters& counters() const noexcept { return counters_; }
    const tcp::chunk_pool& pool() const noexcept { return pool_; }
    /// The datagrams being put together from fragments (config::reassembly_datagrams):
    /// datagrams_held(), capacity_bytes(), counters().
    const ip::reassembler& reassembly() const noexcept { return reassembly_; }
    /// The blocks SACK connections hold while data is in flight (tcp/recovery_state.hpp):
    /// in_use() now, made() so far, at most max_blocks() (config::max_recovery_states).
    const detail::block_pool& recovery_states() const noexcept { return recovery_blocks_; }
    /// Connections in the table, in every state (TIME-WAIT and unaccepted included).
    std::size_t connection_count() const noexcept { return slots_.size() - free_slots_.size(); }
    /// ... of them, in TIME-WAIT (bounded by config::max_time_wait, the rest by max_connections).
    std::size_t time_wait_count() const noexcept { return time_wait_; }
    /// Heap bytes the stack holds for its connections, not counting data (pool()): the
    /// control blocks, the 4-tuple table (its nodes counted with one allocator header
    /// each), the timers, the free and dirty lists, and the recovery states. Grows with the most connections
    /// there ever were at once; never shrinks.
    std::size_t table_memory_bytes() const noexcept;

private:
    static constexpr std::uint32_t none = UINT32_MAX;

    struct slot {
        connection_type conn;
        std::uint32_t generation = 0;
        std::uint32_t listener = none;    ///< the listener that made it, until accepted
        std::uint32_t next_queued = none; ///< accept-queue link
        bool in_use = false;
        bool user_owned = false;          ///< a live handle refers to it
        bool queued = false;              ///< in its listener's accept queue
        bool half_open = false;           ///< counted against config::max_half_open
        bool dirty = false;               ///< in dirty_: has work for the output pass
        bool in_table = false;            ///< its 4-tuple is in table_ (until CLOSED, see forget_tuple)
        bool time_wait = false;           ///< counted in time_wait_
    };
    struct listener_slot {
        std::uint16_t port = 0;
        std::uint32_t generation = 0;
        std::size_t backlog = 0;
        std::size_t queued = 0;
        std::size_t half_open = 0;  ///< its connections in SYN-RECEIVED (at most backlog)
        std::uint32_t head = none;
        std::uint32_t tail = none;
        bool in_use = false;
    };

    // input (impl/stack_input.ipp)
    void on_packet(std::span<const std::uint8_t> packet, instant now, packet_info info = {});
    void on_tcp(const wire::ipv4_view& ip, tcp::segment& seg, instant now, wire::checksum_accumulator* unverified);
    /// Why a datagram from `source` is dropped unanswered, if it is (RFC 1122 §3.2.1.3).
    std::optional<drop_reason> source_rejected(wire::ipv4_address source) const noexcept;
    /// Segments with at least this much text have their checksum verified on the copy
    /// into the receive buffer (on_tcp); shorter ones are summed at once.
    static constexpr std::size_t checksum_on_copy_from = 256;
    void send_packet(std::size_t length, instant now, const transmit_offload& offload);
    /// `iss_after`: when reopening from TIME-WAIT, the old incarnation's highest
    /// sequence number, which the new ISS must exceed (RFC 6191 §2).
    void on_listen(const wire::ipv4_view& ip, const tcp::segment& seg, std::uint32_t l, instant now,
                   std::optional<seq32> iss_after = std::nullopt);
    /// RFC 4987 §3.6: answer a SYN with a cookie and keep nothing.
    void send_syn_cookie(const wire::ipv4_view& ip, const tcp::segment& seg, instant now);
    /// An ACK to listener `l`: if it returns one of our cookies, the connection it opens
    /// takes it (true); false: not a cookie, the listener's rules apply.
    bool accept_syn_cookie(const wire::ipv4_view& ip, const tcp::segment& seg, std::uint32_t l, instant now);
    /// Whether ACKs to a listener are checked for cookies: only while cookies may be out.
    bool cookies_outstanding(instant now) const noexcept;
    void after_input(std::uint32_t index, tcp::state before, instant now);
    bool enter_time_wait(std::uint32_t index, instant now);
    /// Under pool pressure: forgets old out-of-order data (config::out_of_order_prune_after).
    void prune_out_of_order(instant now);
    void drop(drop_reason r) noexcept { ++counters_.drops[static_cast<std::size_t>(r)]; }

    /// A whole datagram to our address, from a source that may be answered.
    void on_datagram(const wire::ipv4_view& ip, instant now, packet_info info);

    // IPv6 (impl/stack_ipv6.ipp). `reassembled`: the packet was put together from fragments.
    void on_ipv6(std::span<const std::uint8_t> packet, instant now, bool reassembled);
    std::optional<drop_reason> source6_rejected(const wire::ipv6_address& source) const noexcept;
    void on_ipv6_fragment(const wire::ipv6_view& ip, const wire::ipv6_fragment& f, instant now);
    void on_icmpv6(const wire::ipv6_view& ip, const wire::ipv6_header_chain& chain, instant now);
    void send_large_icmpv6_echo_reply(const wire::ipv6_view& ip, const wire::icmpv6_view& msg,
                                      std::span<const std::uint8_t> message, instant now);
    void send_icmpv6_error(const wire::icmpv6_error& error, const wire::ipv6_view& ip,
                           const wire::ipv6_header_chain& chain, instant now);
    void send_icmpv6_time_exceeded(std::span<const std::uint8_t> first_fragment, instant now);

    // fragments (impl/stack_fragments.ipp)
    void on_fragment(const wire::ipv4_view& ip, instant now);
    /// Drops the datagrams whose reassembly timed out, each with ICMP time exceeded.
    void expire_fragments(instant now);
    /// Sends `message` (an ICMP message whose first 8 bytes are `head`) to `to` as
    /// fragments of at most the device's MTU (RFC 791 §3.2).
    void send_fragmented_icmp(wire::ipv4_header ip, std::span<const std::uint8_t, 8> head,
                              std::span<const std::uint8_t> message, instant now);

    // ICMP (impl/stack_icmp.ipp)
    void on_icmp(const wire::ipv4_view& ip, instant now);
    void send_large_echo_reply(const wire::ipv4_view& ip, const wire::icmp_view& msg, instant now);
    void send_protocol_unreachable(const wire::ipv4_view& ip, instant now);
    bool take_icmp_error_token(instant now) noexcept;

    // output (impl/stack_output.ipp)
    void flush(std::uint32_t index, instant now);
    /// Writes `out` into `buffer` (the device's transmit_buffer) and sends it.
    bool transmit(std::uint32_t index, const tcp::outgoing& out, std::span<std::uint8_t> buffer, instant now);
    void send_reset(wire::ipv4_address to, const wire::tcp_header& rst, instant now);
    void mark_dirty(std::uint32_t index);

    // table (impl/stack_table.ipp)
    static std::uint64_t key_of(wire::ipv4_address remote, std::uint16_t remote_port, std::uint16_t local_port) noexcept
    {
        return std::uint64_t{remote.value} << 32 | std::uint64_t{remote_port} << 16 | local_port;
    }
    static std::uint64_t key_of(const tcp::four_tuple& t) noexcept
    {
        return key_of(t.remote_address, t.remote_port, t.local_port);
    }
    std::uint32_t allocate_slot();
    void reclaim(std::uint32_t index);
    void release_slot(std::uint32_t index);  ///< reclaim() without counting a connection
    void forget_tuple(slot& s) noexcept;
    void enqueue_accepted(std::uint32_t index, instant now);
    slot* find(tcpx::socket s) noexcept;
    const slot* find(tcpx::socket s) const noexcept;
    tcp::context context_at(instant now) noexcept
    {
        return tcp::context{pool_, cfg_, now, burst_, &recovery_blocks_, false, cfg_.syn_ack_retries};
    }
    /// The SYN,ACK retransmissions slot `s` may make: fewer while the half-open table, or
    /// its listener's share of it, is at least half full (Linux's reqsk_timer_handler
    /// decides per listener: queue length above half of max(8, backlog)).
    unsigned syn_ack_retries_for(const slot& s) const noexcept
    {
        bool pressure = 2 * half_open_ >= cfg_.max_half_open;
        if (s.listener != none)
            pressure = pressure || 2 * listeners_[s.listener].half_open > std::max<std::size_t>(8, listeners_[s.listener].backlog);
        return pressure ? std::min(cfg_.syn_ack_retries, cfg_.syn_ack_retries_under_pressure) : cfg_.syn_ack_retries;
    }
    /// The largest packet flush() may need room for: the MTU, or a TSO segment.
    std::size_t largest_packet() const noexcept { return burst_ != 0 ? burst_ + 80u : device_.mtu(); }

    [[no_unique_address]] Device device_;
    [[no_unique_address]] Clock clock_;
    config cfg_;
    tcp::chunk_pool pool_;
    ip::reassembler reassembly_;
    detail::block_pool recovery_blocks_;       ///< tcp::recovery_state of the flights of SACK connections
    tcp::isn_generator isn_;
    tcp::syn_cookie_generator cookies_;
    std::optional<instant> last_cookie_sent_;  ///< RFC 4987 §3.6: when a cookie last went out
    std::optional<instant> last_prune_;        ///< prune_out_of_order's last walk
    detail::stable_vector<slot> slots_;       ///< control blocks; grows in chunks, never moves
    std::vector<std::uint32_t> free_slots_;
    detail::flat_table table_;                ///< 4-tuple -> slot (O(1), keyed hash)
    std::vector<listener_slot> listeners_;
    detail::flat_table listening_;            ///< port -> listener
    detail::deadline_heap timers_;
    std::vector<std::uint32_t> dirty_;
    std::size_t half_open_ = 0;
    std::size_t time_wait_ = 0;   ///< slots in TIME-WAIT (config::max_time_wait)
    /// Connections counted against config::max_connections: all but TIME-WAIT.
    bool at_connection_limit() const noexcept { return connection_count() - time_wait_ >= cfg_.max_connections; }
    std::uint32_t next_ephemeral_ = 0;  // RFC 6056 §3.3.3 next_ephemeral
    std::uint16_t ip_identification_ = 0;  // the Identification of datagrams sent without DF
    std::uint64_t ipv6_fragmented_packets_ = 0;  // hashed into each IPv6 Identification (RFC 7739)
    device_offloads offloads_{};  ///< what an offload_device does for us (none otherwise)
    std::uint32_t burst_ = 0;     ///< the most payload per emitted segment with TSO; 0: the MSS
    instant last_poll_{};        ///< the time the last poll() read; stamps send() and receive()
    double icmp_tokens_ = 0;     ///< RFC 1812 §4.3.2.8 bucket (starts full: see the constructor)
    instant icmp_tokens_at_{};
    /// flush()'s segment under construction. next_segment() fills every field it hands
    /// out, so one is kept rather than zeroing a fresh one (about 100 bytes) per flush.
    tcp::outgoing outgoing_;
    stack_counters counters_;
};

}  // namespace tcpx

#include <tcpx/impl/stack_api.ipp>
#include <tcpx/impl/stack_fragments.ipp>
#include <tcpx/impl/stack_icmp.ipp>
#include <tcpx/impl/stack_input.ipp>
#include <tcpx/impl/stack_ipv6.ipp>
#include <tcpx/impl/stack_output.ipp>
#include <tcpx/impl/stack_syn_cookies.ipp>
