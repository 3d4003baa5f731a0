// tcpx/device/channel.hpp — an in-memory point-to-point link whose two ends may be
// driven from two threads: each end is a tcpx::devices::channel, a model of
// tcpx::pollable_device, so a stack on one thread sleeps in tcpx::wait_for_work
// (wait.hpp) until the other thread's stack sends it a packet.
//
//   tcpx::devices::channel_link link;            // end(0) <-> end(1)
//   // thread A: a stack over link.end(0);  thread B: a stack over link.end(1)
//
// It exists so the blocking facade (blocking.hpp) can be tested in memory with each
// side on its own thread. For one thread stepping both stacks, loopback.hpp is the
// faster choice (no lock, no copy).
//
// Per direction: a bounded FIFO of packets (`queue_bytes`, allocated up front and
// never grown), guarded by a mutex, and an eventfd (tcpx::wakeup) that is readable
// exactly while the receiving end has packets waiting — so native_handle() needs no
// deadline to be noticed and next_deadline() is always tcpx::never.
//
// Copies. A packet is written by the sender's stack into its own end's scratch
// buffer and copied once, under the lock, into the peer's queue; the receiver reads
// it in place (the lock is not held while the stack takes the packet in, so a stack
// may transmit from inside receive() without two threads deadlocking on each other's
// queues). When the peer's queue is full the packet is dropped and counted in the
// SENDER's dropped_queue_full.
//
// Threads: each end is driven by one thread at a time (its stack's); the two ends
// by any two threads. counters() belong to the end's thread.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <system_error>
#include <utility>

#include <tcpx/concepts.hpp>
#include <tcpx/device/detail/end_pair.hpp>
#include <tcpx/device/detail/packet_ring.hpp>
#include <tcpx/time.hpp>
#include <tcpx/wakeup.hpp>

namespace tcpx::devices {

struct channel_config {
    std::size_t mtu = 1500;                          ///< largest packet, in bytes
    std::size_t queue_bytes = std::size_t{4} << 20;  ///< each end's receive queue (at least one packet)
};

/// Counters of one end. Drops are counted on the end that sent the packet.
struct channel_counters {
    std::uint64_t packets_sent = 0;        ///< packets placed in the peer's queue
    std::uint64_t bytes_sent = 0;
    std::uint64_t packets_received = 0;    ///< packets handed to receive()'s f
    std::uint64_t bytes_received = 0;
    std::uint64_t dropped_queue_full = 0;  ///< the peer's queue had no room
    std::uint64_t dropped_too_big = 0;     ///< transmit_buffer(n) with n > mtu()
};

class channel_link;

/// One end of a channel_link; models tcpx::pollable_device. Made only by its link,
/// and refers to the other end: not copyable, not movable.
class channel {
public:
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    std::size_t mtu() const noexcept { return mtu_; }

    /// An eventfd, readable (POLLIN) while packets wait to be received here.
    int native_handle() const noexcept { return arrived_.native_handle(); }

    /// Calls f for up to n packets that arrived, oldest first, each read in place.
    template <class F>
    std::size_t receive(instant, F&& f, std::size_t n)
    {
        std::size_t k = 0;
        std::unique_lock lock{mutex_};
        while (k < n && !queue_.empty()) {
            const auto p = queue_.front().data;
            // The sender only ever writes free space and the packet stays queued until
            // pop(), so it is read without the lock, which f may need for transmitting.
            lock.unlock();
            f(p);
            lock.lock();
            queue_.pop();
            ++k;
            ++counters_.packets_received;
            counters_.bytes_received += p.size();
        }
        if (queue_.empty()) arrived_.drain();  // under the lock: no transmit slips in between
        return k;
    }

    /// Room for one packet of up to n bytes (this end's scratch buffer); empty when
    /// n > mtu() or n == 0.
    std::span<std::uint8_t> transmit_buffer(std::size_t n)
    {
        pending_ = 0;
        if (n > mtu_) {
            ++counters_.dropped_too_big;
            return {};
        }
        if (n == 0) return {};
        pending_ = n;
        return {scratch_.get(), n};
    }

    /// Copies the first n bytes of the last transmit_buffer into the peer's queue.
    void transmit(std::size_t n, instant)
    {
        n = std::min(n, std::exchange(pending_, 0));
        if (n == 0) return;
        if (!peer_->push({scratch_.get(), n})) {
            ++counters_.dropped_queue_full;
            return;
        }
        ++counters_.packets_sent;
        counters_.bytes_sent += n;
    }

    /// Always tcpx::never: arrivals are signalled through native_handle().
    instant next_deadline() const noexcept { return never; }

    const channel_counters& counters() const noexcept { return counters_; }
    /// Packets waiting to be received here (any thread may ask).
    std::size_t waiting() const
    {
        const std::lock_guard lock{mutex_};
        return queue_.packets();
    }

private:
    friend class detail::end_pair<channel>;
    using ring = detail::packet_ring<>;

    explicit channel(const channel_config& config)
        : mtu_{config.mtu},
          queue_{queue_bytes(config), queue_bytes(config)},  // fixed: read in place while written
          scratch_{new std::uint8_t[config.mtu]}
    {
        if (arrived_.error()) throw std::system_error{arrived_.error(), "tcpx::devices::channel"};
    }

    static std::size_t queue_bytes(const channel_config& config) noexcept
    {
        return std::max(config.queue_bytes, ring::footprint(config.mtu));
    }

    // Called by the peer's thread: queues a copy of p here.
    bool push(std::span<const std::uint8_t> p)
    {
        const std::lock_guard lock{mutex_};
        const bool was_empty = queue_.empty();
        if (!queue_.push(p)) return false;
        if (was_empty) arrived_.notify();  // readable from the first packet until receive() empties
        return true;
    }

    std::size_t mtu_;
    mutable std::mutex mutex_;  // guards queue_ and the readiness of arrived_
    ring queue_;                // packets waiting to be received here
    tcpx::wakeup arrived_;
    channel* peer_ = nullptr;
    std::unique_ptr<std::uint8_t[]> scratch_;  // where this end's stack writes a packet
    std::size_t pending_ = 0;                  // bytes of the open transmit_buffer
    channel_counters counters_;
};

/// Two channel ends, each the other's peer (end(0), end(1)). Not copyable, not
/// movable: the ends point at each other. Throws std::system_error if an eventfd
/// cannot be made.
class channel_link : public detail::end_pair<channel> {
public:
    explicit channel_link(const channel_config& config = {}) : end_pair{config} {}
};

static_assert(tcpx::pollable_device<channel>);

}  // namespace tcpx::devices
