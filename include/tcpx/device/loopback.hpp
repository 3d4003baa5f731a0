// tcpx/device/loopback.hpp — in-memory devices: a point-to-point link between two
// ends, and a switch joining any number of ends by IPv4 address. Each end is a
// tcpx::devices::loopback, a model of tcpx::device, so a stack runs over it as over
// a real interface, with no kernel and no root.
//
// RFCs to have open: RFC 791 §3.1 (the IPv4 header: version in the first nibble,
// destination address at bytes 16..19), RFC 1122 §3.2.1.3 (addresses no host has:
// 0.0.0.0 and the limited broadcast 255.255.255.255).
//
//   tcpx::devices::loopback_link link;           // end(0) <-> end(1)
//   tcpx::devices::loopback_switch sw;
//   auto& a = sw.add_end(0x0a000001);            // 10.0.0.1
//   auto& b = sw.add_end(0x0a000002);            // 10.0.0.2
//
// Speed. A link end's transmit_buffer(n) is room inside the OTHER end's receive
// ring, so a packet is written once by the sender's stack and read in place by the
// receiver's: no copy at all in between. A switch cannot know the destination
// before the packet is written, so a switch end's transmit_buffer is a scratch
// buffer and transmit() copies the packet once into the destination's ring.
//
// Bounds. Each end's receive ring is `queue_bytes` (at least one MTU-sized
// packet), allocated up front and never grown: the receiver reads packets in
// place while the sender may write, so the buffer must not move. A packet costs
// its length plus 8 to 15 bytes of framing in it. When the ring is full the packet
// is dropped and counted in the SENDER's dropped_queue_full (a link end refuses
// it in transmit_buffer, which then returns an empty span).
//
// Threads: none. Both ends are used from one thread (a simulation steps stacks in
// turn).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

#include <tcpx/concepts.hpp>
#include <tcpx/device/detail/end_pair.hpp>
#include <tcpx/device/detail/packet_ring.hpp>
#include <tcpx/error.hpp>
#include <tcpx/time.hpp>

namespace tcpx::devices {

struct loopback_config {
    std::size_t mtu = 1500;                          ///< largest packet, in bytes
    std::size_t queue_bytes = std::size_t{4} << 20;  ///< each end's receive ring
};

/// Counters of one end. Drops are counted on the end that sent the packet.
struct loopback_counters {
    std::uint64_t packets_sent = 0;        ///< packets placed in a destination's ring
    std::uint64_t bytes_sent = 0;
    std::uint64_t packets_received = 0;    ///< packets handed to receive()'s f
    std::uint64_t bytes_received = 0;
    std::uint64_t dropped_queue_full = 0;  ///< the destination's ring had no room
    std::uint64_t dropped_no_route = 0;    ///< switch: no end has the destination address
    std::uint64_t dropped_too_big = 0;     ///< transmit_buffer(n) with n > mtu()
};

class loopback_link;
class loopback_switch;

namespace detail {
class loopback_routes;
}

/// One end of a loopback_link or of a loopback_switch; models tcpx::device. Made
/// only by its link or switch, and refers back to it: not copyable, not movable.
class loopback {
public:
    loopback(const loopback&) = delete;
    loopback& operator=(const loopback&) = delete;

    std::size_t mtu() const noexcept { return mtu_; }

    /// Calls f for up to n packets that arrived, oldest first, each read in place.
    template <class F>
    std::size_t receive(instant, F&& f, std::size_t n)
    {
        std::size_t k = 0;
        for (; k < n && !ring_.empty(); ++k) {
            const auto p = ring_.front().data;
            f(p);
            ++counters_.packets_received;
            counters_.bytes_received += p.size();
            ring_.pop();  // after f: the packet was read where it lies
        }
        return k;
    }

    /// Room for one packet of up to n bytes; empty when n > mtu() or (link) when
    /// the peer's ring is full.
    std::span<std::uint8_t> transmit_buffer(std::size_t n)
    {
        pending_ = 0;
        if (n > mtu_) {
            ++counters_.dropped_too_big;
            return {};
        }
        if (n == 0) {
            return {};
        }
        if (peer_ != nullptr) {
            const auto room = peer_->ring_.reserve(n);
            if (room.empty()) {
                ++counters_.dropped_queue_full;
                return {};
            }
            pending_ = n;
            return room;
        }
        pending_ = n;
        return {scratch_.get(), n};
    }

    /// Sends the first n bytes of the last transmit_buffer as one packet.
    void transmit(std::size_t n, instant)
    {
        n = std::min(n, std::exchange(pending_, 0));
        if (n == 0) {
            return;
        }
        if (peer_ != nullptr) {
            peer_->ring_.commit(n);
            count_sent(n);
            return;
        }
        route({scratch_.get(), n});
    }

    /// tcpx::never while nothing waits; instant{} (due already) while received
    /// packets wait, so a poll loop that sleeps until the deadline polls at once.
    instant next_deadline() const noexcept { return ring_.empty() ? never : instant{}; }

    const loopback_counters& counters() const noexcept { return counters_; }
    /// Packets waiting to be received.
    std::size_t waiting() const noexcept { return ring_.packets(); }
    /// A switch end's address (host order); 0 for a link end.
    std::uint32_t address() const noexcept { return address_; }

private:
    friend class detail::end_pair<loopback>;
    friend class loopback_switch;

    loopback(const loopback_config& config, std::uint32_t address)
        : mtu_{config.mtu},
          ring_{ring_bytes(config), ring_bytes(config)},
          address_{address}
    {
    }

    static std::size_t ring_bytes(const loopback_config& config) noexcept
    {
        return std::max(config.queue_bytes, ring::footprint(config.mtu));
    }

    void count_sent(std::size_t n) noexcept
    {
        ++counters_.packets_sent;
        counters_.bytes_sent += n;
    }

    inline void route(std::span<const std::uint8_t> p);  // after loopback_routes

    using ring = detail::packet_ring<>;

    std::size_t mtu_;
    ring ring_;                                // packets waiting to be received here
    loopback* peer_ = nullptr;                 // link: the other end
    const detail::loopback_routes* routes_ = nullptr;  // switch: its routing table
    std::unique_ptr<std::uint8_t[]> scratch_;  // switch: where the packet is written
    std::uint32_t address_ = 0;
    std::size_t pending_ = 0;                  // bytes of the open transmit_buffer
    loopback_counters counters_;
};

/// Two loopback ends, each the other's peer (end(0), end(1)). Not copyable, not
/// movable: the ends point at each other.
class loopback_link : public detail::end_pair<loopback> {
public:
    explicit loopback_link(const loopback_config& config = {}) : end_pair{config, std::uint32_t{0}} {}
};

namespace detail {

/// A switch's table: address -> end, sorted for binary search.
class loopback_routes {
public:
    loopback* find(std::uint32_t address) const noexcept
    {
        const auto it = std::lower_bound(
            routes_.begin(), routes_.end(), address,
            [](const route& r, std::uint32_t a) { return r.address < a; });
        return it != routes_.end() && it->address == address ? it->end : nullptr;
    }

    void add(std::uint32_t address, loopback* end)
    {
        const auto it = std::lower_bound(
            routes_.begin(), routes_.end(), address,
            [](const route& r, std::uint32_t a) { return r.address < a; });
        routes_.insert(it, route{address, end});
    }

private:
    struct route {
        std::uint32_t address;
        loopback* end;
    };
    std::vector<route> routes_;
};

}  // namespace detail

inline void loopback::route(std::span<const std::uint8_t> p)
{
    // RFC 791 §3.1: an IPv4 packet starts with version 4, and carries its
    // destination address in bytes 16..19, most significant byte first.
    if (p.size() < 20 || (p[0] >> 4) != 4) {
        ++counters_.dropped_no_route;
        return;
    }
    const std::uint32_t destination = std::uint32_t{p[16]} << 24 | std::uint32_t{p[17]} << 16 |
                                      std::uint32_t{p[18]} << 8 | std::uint32_t{p[19]};
    // No end can have the limited broadcast address (add_end refuses it), so a
    // broadcast is dropped here with any other unknown destination.
    loopback* const to = routes_->find(destination);
    if (to == nullptr) {
        ++counters_.dropped_no_route;
        return;
    }
    if (!to->ring_.push(p)) {
        ++counters_.dropped_queue_full;
        return;
    }
    count_sent(p.size());
}

/// Any number of loopback ends, each with an IPv4 address; a packet goes to the
/// end whose address is its destination. Not copyable, not movable: the ends
/// point at its routing table.
class loopback_switch {
public:
    explicit loopback_switch(const loopback_config& config = {}) : config_{config} {}

    loopback_switch(const loopback_switch&) = delete;
    loopback_switch& operator=(const loopback_switch&) = delete;

    /// A new end with the given address (host byte order). Fails with
    /// errc::invalid_argument for 0.0.0.0 or 255.255.255.255 (RFC 1122 §3.2.1.3:
    /// "this host" and the limited broadcast are never one host's address) and
    /// errc::address_in_use for an address that already has an end; then returns
    /// nullptr.
    loopback* add_end(std::uint32_t address, std::error_code& ec)
    {
        ec.clear();
        if (address == 0 || address == 0xffff'ffffu) {
            ec = make_error_code(errc::invalid_argument);
            return nullptr;
        }
        if (routes_.find(address) != nullptr) {
            ec = make_error_code(errc::address_in_use);
            return nullptr;
        }
        std::unique_ptr<loopback> end{new loopback{config_, address}};
        end->routes_ = &routes_;
        end->scratch_.reset(new std::uint8_t[config_.mtu]);
        ends_.push_back(std::move(end));
        routes_.add(address, ends_.back().get());
        return ends_.back().get();
    }

    /// As above; throws std::system_error instead.
    loopback& add_end(std::uint32_t address)
    {
        std::error_code ec;
        loopback* end = add_end(address, ec);
        if (ec) {
            throw std::system_error{ec, "loopback_switch::add_end"};
        }
        return *end;
    }

    /// The end with this address, or nullptr.
    loopback* find(std::uint32_t address) const noexcept { return routes_.find(address); }

    /// Number of ends; end(i) is the i-th added.
    std::size_t size() const noexcept { return ends_.size(); }
    loopback& end(std::size_t i) noexcept { return *ends_[i]; }
    const loopback& end(std::size_t i) const noexcept { return *ends_[i]; }

private:
    loopback_config config_;
    detail::loopback_routes routes_;
    std::vector<std::unique_ptr<loopback>> ends_;
};

static_assert(tcpx::device<loopback>);

}  // namespace tcpx::devices
