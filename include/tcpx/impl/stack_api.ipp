// The user-facing calls and the connection table of tcpx/basic_stack.hpp. Not to be
// included directly.
#pragma once

#include <algorithm>
#include <utility>

namespace tcpx {

template <device Device, clock Clock, congestion_control CC>
stack<Device, Clock, CC>::stack(Device device, Clock clock, config cfg)
    : device_{static_cast<Device&&>(device)}, clock_{std::move(clock)}, cfg_{cfg}, pool_{cfg.pool_bytes},
      reassembly_{cfg.reassembly_datagrams, cfg.reassembly_timeout, cfg.reassembly_timeout6},
      recovery_blocks_{sizeof(tcp::recovery_state<CC>), alignof(tcp::recovery_state<CC>),
                       cfg.max_recovery_states != 0 ? cfg.max_recovery_states : cfg.max_connections},
      isn_{cfg.isn_secret ? *cfg.isn_secret : tcp::isn_generator::random_secret()}, cookies_{isn_.secret()}
{
    // RFC 9293 §3.7.1 / RFC 6691: the MSS we announce is what the device carries less
    // the 20-byte IPv4 and 20-byte TCP headers. Every IPv4 link carries 68 bytes (RFC
    // 791); a device that reports less (0: unknown) gets the default of 536.
    const std::size_t mtu = device_.mtu();
    const std::size_t from_mtu = mtu >= 68 ? std::min<std::size_t>(mtu - 40, 0xffff) : wire::default_mss;
    if (cfg_.mss == 0 || cfg_.mss > from_mtu) cfg_.mss = static_cast<std::uint16_t>(from_mtu);
    // RFC 7323 §2.3: no window exceeds 2^30 bytes (a shift of at most 14), and every
    // sequence comparison (RFC 1982 arithmetic, seq32.hpp) needs what one side holds
    // to span less than 2^31. A larger buffer would take bytes that could never be
    // sent or acknowledged correctly, so each is held to the largest window.
    cfg_.send_buffer = std::min(cfg_.send_buffer, config::max_buffer);
    cfg_.receive_buffer = std::min(cfg_.receive_buffer, config::max_buffer);
    // The count of unanswered keep-alive probes is a byte per connection; more than 255
    // would never be reached (Linux caps TCP_KEEPCNT at 127).
    cfg_.keepalive_probes = std::min(cfg_.keepalive_probes, config::max_keepalive_probes);
    cfg_.orphan_probes = std::min(cfg_.orphan_probes, config::max_orphan_probes);
    // Out-of-order data's share of the pool, rounded up to whole chunks.
    const std::size_t chunks = pool_.max_bytes() / tcp::chunk_pool::chunk_size;
    const unsigned percent = std::min(cfg_.out_of_order_pool_percent, 100u);
    pool_.set_out_of_order_limit((chunks * percent + 99) / 100 * tcp::chunk_pool::chunk_size);
    if (cfg_.ephemeral_port_first == 0) cfg_.ephemeral_port_first = 1;
    if (cfg_.ephemeral_port_last < cfg_.ephemeral_port_first) cfg_.ephemeral_port_last = cfg_.ephemeral_port_first;
    // RFC 6056 §3.3.3's next_ephemeral "could be random" at start: from the ISN secret,
    // unpredictable off-host yet repeatable with a fixed secret.
    next_ephemeral_ = isn_.next(cfg_.address.value, 0, 0, 0, instant{}).value();
    // Identifications of datagrams sent without DF start where no one off-host can tell.
    ip_identification_ = static_cast<std::uint16_t>(isn_.next(cfg_.address.value, 4, 5, 6, instant{}).value());
    // The table's hash key: unpredictable off-host, as the ISNs are (flat_table.hpp).
    table_ = detail::flat_table{isn_.next(cfg_.address.value, 1, 2, 3, instant{}).value() * 0x100000001ull};
    if constexpr (offload_device<std::remove_reference_t<Device>>) {
        offloads_ = device_.offloads();
        // TSO: one emitted segment carries up to what the device cuts, less 40 bytes of headers
        // and 40 of options, and never more than the 16-bit IPv4 length allows.
        if (offloads_.max_segment_bytes > device_.mtu() && offloads_.max_segment_bytes >= 2 * (cfg_.mss + 80u))
            burst_ = static_cast<std::uint32_t>(std::min<std::size_t>(offloads_.max_segment_bytes, 65535) - 80);
    }
    icmp_tokens_ = cfg_.icmp_errors_per_second;  // a full bucket: the first burst is answered
    icmp_tokens_at_ = clock_.now();
}

// ---- table ----

template <device Device, clock Clock, congestion_control CC>
std::size_t stack<Device, Clock, CC>::table_memory_bytes() const noexcept
{
    return slots_.memory_bytes() + free_slots_.capacity() * sizeof(std::uint32_t) + table_.memory_bytes() +
           timers_.memory_bytes() + dirty_.capacity() * sizeof(std::uint32_t) +
           listeners_.capacity() * sizeof(listener_slot) + listening_.memory_bytes() + recovery_blocks_.memory_bytes();
}

template <device Device, clock Clock, congestion_control CC>
std::uint32_t stack<Device, Clock, CC>::allocate_slot()
{
    std::uint32_t index;
    if (!free_slots_.empty()) {
        index = free_slots_.back();
        free_slots_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    // A new slot is value-initialized; a free one had its bookkeeping reset by
    // reclaim(), and its connection is reset by open_active().
    slots_[index].in_use = true;
    return index;
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::reclaim(std::uint32_t index)
{
    if (!slots_[index].in_use) return;
    release_slot(index);
    ++counters_.connections_reclaimed;
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::release_slot(std::uint32_t index)
{
    slot& s = slots_[index];
    if (s.half_open) {
        --half_open_;
        --listeners_[s.listener].half_open;
    }
    if (s.time_wait) --time_wait_;
    auto ctx = context_at(last_poll_);
    s.conn.free_buffers(ctx);
    forget_tuple(s);
    timers_.erase(index);
    ++s.generation;  // every handle to it goes stale
    // The bookkeeping is reset field by field: the connection itself is reset by
    // open_active() when the slot is used again, and rebuilding the whole slot here
    // (several hundred bytes, zeroed and copied) was 8% of connect-request-close.
    s.listener = none;
    s.next_queued = none;
    s.in_use = s.user_owned = s.queued = s.half_open = s.dirty = s.time_wait = false;
    free_slots_.push_back(index);
}

// RFC 9293 §3.3.2: "CLOSED is fictional because it represents the state when there is
// no TCB". A connection that reached CLOSED while the application still holds its
// handle keeps its slot (for error() and close()) but not its 4-tuple: a new SYN from
// the same port reaches the listener, and connect() may use the tuple again.
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::forget_tuple(slot& s) noexcept
{
    if (!s.in_table) return;
    table_.erase(key_of(s.conn.id()));
    s.in_table = false;
}

template <device Device, clock Clock, congestion_control CC>
auto stack<Device, Clock, CC>::find(tcpx::socket h) noexcept -> slot*
{
    if (h.index >= slots_.size()) return nullptr;
    slot& s = slots_[h.index];
    return s.in_use && s.user_owned && s.generation == h.generation ? &s : nullptr;
}

template <device Device, clock Clock, congestion_control CC>
auto stack<Device, Clock, CC>::find(tcpx::socket h) const noexcept -> const slot*
{
    return const_cast<stack*>(this)->find(h);
}

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::mark_dirty(std::uint32_t index)
{
    slot& s = slots_[index];
    if (s.dirty) return;
    s.dirty = true;
    dirty_.push_back(index);
}

// ---- listeners ----

template <device Device, clock Clock, congestion_control CC>
tcpx::listener stack<Device, Clock, CC>::listen(std::uint16_t port, std::size_t backlog, std::error_code& ec)
{
    ec.clear();
    if (port == 0 || backlog == 0) {
        ec = errc::invalid_argument;
        return {};
    }
    if (listening_.contains(port)) {
        ec = errc::address_in_use;
        return {};
    }
    std::uint32_t index = 0;
    while (index < listeners_.size() && listeners_[index].in_use) ++index;
    if (index == listeners_.size()) listeners_.emplace_back();
    listener_slot& l = listeners_[index];
    l.in_use = true;
    l.port = port;
    l.backlog = std::min(backlog, cfg_.max_listen_backlog);
    l.queued = 0;
    l.head = l.tail = none;
    listening_.insert(port, index);
    return tcpx::listener{index, l.generation};
}

template <device Device, clock Clock, congestion_control CC>
tcpx::socket stack<Device, Clock, CC>::accept(tcpx::listener h, std::error_code& ec)
{
    ec.clear();
    if (h.index >= listeners_.size() || !listeners_[h.index].in_use || listeners_[h.index].generation != h.generation) {
        ec = errc::bad_handle;
        return {};
    }
    listener_slot& l = listeners_[h.index];
    while (l.head != none) {
        const std::uint32_t index = l.head;
        slot& s = slots_[index];
        l.head = s.next_queued;
        if (l.head == none) l.tail = none;
        --l.queued;
        s.queued = false;
        s.listener = none;
        s.next_queued = none;
        // A connection reset while it waited is no use to anyone (Linux does the same).
        if (s.conn.state() == tcp::state::closed) {
            reclaim(index);
            continue;
        }
        s.user_owned = true;
        return tcpx::socket{index, s.generation};
    }
    ec = errc::would_block;
    return {};
}

template <device Device, clock Clock, congestion_control CC>
std::error_code stack<Device, Clock, CC>::close(tcpx::listener h)
{
    if (h.index >= listeners_.size() || !listeners_[h.index].in_use || listeners_[h.index].generation != h.generation)
        return errc::bad_handle;
    listener_slot& l = listeners_[h.index];
    const instant now = clock_.now();
    auto ctx = context_at(now);
    // Reset every connection this listener made that nobody accepted.
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
        slot& s = slots_[i];
        if (!s.in_use || s.listener != h.index || s.user_owned) continue;
        if (s.conn.abort(ctx)) send_reset(s.conn.id().remote_address, s.conn.abort_reset(), now);
        reclaim(i);
    }
    listening_.erase(l.port);
    const std::uint32_t generation = l.generation + 1;
    l = listener_slot{};
    l.generation = generation;
    return {};
}

// ---- connecting ----

template <device Device, clock Clock, congestion_control CC>
tcpx::socket stack<Device, Clock, CC>::connect(wire::ipv4_address remote, std::uint16_t port, std::error_code& ec)
{
    ec.clear();
    if (port == 0 || remote.value == 0) {
        ec = errc::invalid_argument;
        return {};
    }
    if (at_connection_limit()) {
        drop(drop_reason::connection_limit);
        ec = errc::no_buffer_space;
        return {};
    }
    // RFC 6056 §3.3.3, the simple hash-based algorithm: the search starts at a keyed
    // hash of the destination plus a counter every try advances, so each destination
    // sees its own sequence of ports and none tells another's. Ports whose 4-tuple is
    // live (TIME-WAIT included) or which a listener owns are skipped.
    const std::uint32_t span = std::uint32_t{cfg_.ephemeral_port_last} - cfg_.ephemeral_port_first + 1;
    const std::uint32_t offset = isn_.port_offset(cfg_.address.value, remote.value, port);
    std::uint16_t local_port = 0;
    for (std::uint32_t tries = 0; tries < span; ++tries) {
        const auto candidate = static_cast<std::uint16_t>(cfg_.ephemeral_port_first + (offset + next_ephemeral_) % span);
        ++next_ephemeral_;
        if (!table_.contains(key_of(remote, port, candidate)) && !listening_.contains(candidate)) {
            local_port = candidate;
            break;
        }
    }
    if (local_port == 0) {
        ec = errc::address_in_use;
        return {};
    }
    const instant now = clock_.now();
    const std::uint32_t index = allocate_slot();
    slot& s = slots_[index];
    const tcp::four_tuple id{cfg_.address, remote, local_port, port};
    auto ctx = context_at(now);
    const auto opening = isn_.open(id.local_address.value, id.local_port, id.remote_address.value, id.remote_port, now);
    s.conn.open_active(id, opening.iss, ctx, opening.ts_offset);
    s.user_owned = true;
    table_.insert(key_of(id), index);
    s.in_table = true;
    ++counters_.connections_opened;
    mark_dirty(index);
    return tcpx::socket{index, s.generation};
}

// ---- data ----

template <device Device, clock Clock, congestion_control CC>
std::size_t stack<Device, Clock, CC>::send(tcpx::socket h, std::span<const std::uint8_t> data, std::error_code& ec)
{
    slot* s = find(h);
    if (s == nullptr) {
        ec = errc::bad_handle;
        return 0;
    }
    // SEND and RECEIVE only move bytes between the user and the buffers; the time they
    // are stamped with is the last poll's (a clock read costs ~100 ns on some VMs, as
    // much as the call itself). What leaves is timed by the poll that sends it.
    auto ctx = context_at(last_poll_);
    const std::size_t n = s->conn.send(data, ctx, ec);
    if (n != 0) mark_dirty(h.index);
    return n;
}

template <device Device, clock Clock, congestion_control CC>
std::size_t stack<Device, Clock, CC>::receive(tcpx::socket h, std::span<std::uint8_t> out, std::error_code& ec)
{
    slot* s = find(h);
    if (s == nullptr) {
        ec = errc::bad_handle;
        return 0;
    }
    auto ctx = context_at(last_poll_);  // as in send()
    const std::size_t n = s->conn.receive(out, ctx, ec);
    if (n != 0) mark_dirty(h.index);  // a window update may be due
    return n;
}

template <device Device, clock Clock, congestion_control CC>
template <class Take>
std::size_t stack<Device, Clock, CC>::receive_in_place(tcpx::socket h, Take&& take, std::error_code& ec)
{
    slot* s = find(h);
    if (s == nullptr) {
        ec = errc::bad_handle;
        return 0;
    }
    auto ctx = context_at(last_poll_);
    const std::size_t n = s->conn.receive_in_place(take, ctx, ec);
    if (n != 0) mark_dirty(h.index);  // a window update may be due
    return n;
}

// ---- closing ----

template <device Device, clock Clock, congestion_control CC>
std::error_code stack<Device, Clock, CC>::shutdown(tcpx::socket h)
{
    slot* s = find(h);
    if (s == nullptr) return errc::bad_handle;
    auto ctx = context_at(clock_.now());
    const std::error_code ec = s->conn.shutdown(ctx);
    mark_dirty(h.index);
    return ec;
}

template <device Device, clock Clock, congestion_control CC>
std::error_code stack<Device, Clock, CC>::close(tcpx::socket h)
{
    slot* s = find(h);
    if (s == nullptr) return errc::bad_handle;
    const instant now = clock_.now();
    auto ctx = context_at(now);
    s->user_owned = false;
    ++s->generation;  // the handle is stale from here on
    s->conn.set_trace(nullptr, now);  // the user's trace need not outlive the handle
    if (s->conn.readable_bytes() != 0) {
        // RFC 2525 §2.17 / RFC 1122 §4.2.2.13: closing with unread data resets, so the
        // peer learns its data was not consumed.
        if (s->conn.abort(ctx)) send_reset(s->conn.id().remote_address, s->conn.abort_reset(), now);
    } else {
        s->conn.release(ctx);
    }
    if (s->conn.state() == tcp::state::closed) reclaim(h.index);
    else mark_dirty(h.index);
    return {};
}

template <device Device, clock Clock, congestion_control CC>
std::error_code stack<Device, Clock, CC>::abort(tcpx::socket h)
{
    slot* s = find(h);
    if (s == nullptr) return errc::bad_handle;
    const instant now = clock_.now();
    auto ctx = context_at(now);
    if (s->conn.abort(ctx)) send_reset(s->conn.id().remote_address, s->conn.abort_reset(), now);
    reclaim(h.index);
    return {};
}

// ---- queries ----

template <device Device, clock Clock, congestion_control CC>
bool stack<Device, Clock, CC>::readable(tcpx::socket h) const
{
    const slot* s = find(h);
    if (s == nullptr) return false;
    return s->conn.readable_bytes() != 0 || s->conn.peer_closed() || s->conn.state() == tcp::state::closed;
}

template <device Device, clock Clock, congestion_control CC>
bool stack<Device, Clock, CC>::writable(tcpx::socket h) const
{
    const slot* s = find(h);
    if (s == nullptr) return false;
    const auto st = s->conn.state();
    return (st == tcp::state::established || st == tcp::state::close_wait) && s->conn.writable_bytes(cfg_) != 0;
}

template <device Device, clock Clock, congestion_control CC>
bool stack<Device, Clock, CC>::peer_closed(tcpx::socket h) const
{
    const slot* s = find(h);
    return s != nullptr && s->conn.peer_closed();
}

template <device Device, clock Clock, congestion_control CC>
tcp::state stack<Device, Clock, CC>::state(tcpx::socket h) const
{
    const slot* s = find(h);
    return s == nullptr ? tcp::state::closed : s->conn.state();
}

template <device Device, clock Clock, congestion_control CC>
std::error_code stack<Device, Clock, CC>::error(tcpx::socket h) const
{
    const slot* s = find(h);
    return s == nullptr ? std::error_code{errc::bad_handle} : s->conn.error();
}

template <device Device, clock Clock, congestion_control CC>
auto stack<Device, Clock, CC>::connection(tcpx::socket h) const -> const connection_type*
{
    const slot* s = find(h);
    return s == nullptr ? nullptr : &s->conn;
}

template <device Device, clock Clock, congestion_control CC>
tcp::connection_info stack<Device, Clock, CC>::info(tcpx::socket h) const
{
    const slot* s = find(h);
    if (s == nullptr) return {};
    // The clock concept asks only for now() on a non-const clock.
    return tcp::info_of(s->conn, const_cast<stack*>(this)->clock_.now());
}

template <device Device, clock Clock, congestion_control CC>
std::error_code stack<Device, Clock, CC>::set_trace(tcpx::socket h, cc_trace* t)
{
    slot* s = find(h);
    if (s == nullptr) return errc::bad_handle;
    s->conn.set_trace(t, clock_.now());
    return {};
}

template <device Device, clock Clock, congestion_control CC>
std::error_code stack<Device, Clock, CC>::set_nodelay(tcpx::socket h, bool on)
{
    slot* s = find(h);
    if (s == nullptr) return errc::bad_handle;
    s->conn.set_nodelay(on);
    mark_dirty(h.index);  // Nagle may have been holding data back
    return {};
}

template <device Device, clock Clock, congestion_control CC>
std::error_code stack<Device, Clock, CC>::set_keepalive(tcpx::socket h, bool on)
{
    slot* s = find(h);
    if (s == nullptr) return errc::bad_handle;
    auto ctx = context_at(clock_.now());
    s->conn.set_keepalive(on, ctx);
    mark_dirty(h.index);
    return {};
}

}  // namespace tcpx
