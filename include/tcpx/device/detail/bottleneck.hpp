// tcpx/device/detail/bottleneck.hpp — a rate-limited link with a drop-tail queue:
// the bottleneck a congestion controller (RFC 5681, RFC 9438) exists to share.
//
// Packets are serialised one after another at `rate` bits per second: a packet of
// s bytes that arrives at `now` leaves at
//     departure = max(now, previous departure) + s * 8 / rate
// A packet is "waiting" from its arrival until its departure (the one being
// serialised included). One arriving while `limit` packets wait is dropped: the
// drop-tail queue whose overflow is the congestion signal (RFC 7567 §2: "tail
// drop", the traditional way a router bounds a queue).
//
// Timing is exact over the long run: the sub-microsecond remainder of each
// serialisation time is carried to the next packet instead of rounded away, so
// 3 packets of 1 bit at 3 Mb/s take exactly 1 µs. The remainder is forgotten when
// the link goes idle.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include <tcpx/time.hpp>

namespace tcpx::devices::detail {

class bottleneck {
public:
    bottleneck() noexcept = default;
    /// A moved-from bottleneck is idle and empty.
    bottleneck(bottleneck&& o) noexcept
        : departures_{std::move(o.departures_)}, cap_{std::exchange(o.cap_, 0)},
          head_{std::exchange(o.head_, 0)}, size_{std::exchange(o.size_, 0)},
          busy_until_{o.busy_until_}, remainder_{o.remainder_}
    {
    }
    bottleneck& operator=(bottleneck&& o) noexcept
    {
        departures_ = std::move(o.departures_);
        cap_ = std::exchange(o.cap_, 0);
        head_ = std::exchange(o.head_, 0);
        size_ = std::exchange(o.size_, 0);
        busy_until_ = o.busy_until_;
        remainder_ = o.remainder_;
        return *this;
    }

    /// When the packet leaves the link, or nothing if the queue is full.
    /// rate_bps > 0. rate_bps up to 10^12 and packets up to 64 KiB cannot overflow.
    std::optional<instant> admit(instant now, std::size_t bytes, std::uint64_t rate_bps,
                                 std::size_t limit)
    {
        while (size_ != 0 && departures_[head_] <= now) {  // serialised by now
            head_ = (head_ + 1) % cap_;
            --size_;
        }
        if (size_ >= limit) {
            return std::nullopt;
        }
        if (busy_until_ <= now) {
            busy_until_ = now;
            remainder_ = 0;
        }
        const std::uint64_t scaled = std::uint64_t{bytes} * 8u * 1'000'000u + remainder_;
        busy_until_ += duration{static_cast<duration::rep>(scaled / rate_bps)};
        remainder_ = scaled % rate_bps;
        push(busy_until_, limit);
        return busy_until_;
    }

    /// Packets waiting as of the last admit().
    std::size_t waiting() const noexcept { return size_; }

private:
    // The departures live in a ring grown by doubling up to `limit` entries, so a
    // huge limit costs memory only if that many packets really queue.
    void push(instant departure, std::size_t limit)
    {
        if (size_ == cap_) {
            const std::size_t new_cap = std::max<std::size_t>(
                std::size_t{16}, std::min(limit, cap_ * 2));
            std::unique_ptr<instant[]> nd{new instant[new_cap]};
            for (std::size_t i = 0; i < size_; ++i) {
                nd[i] = departures_[(head_ + i) % cap_];
            }
            departures_ = std::move(nd);
            cap_ = new_cap;
            head_ = 0;
        }
        departures_[(head_ + size_) % cap_] = departure;
        ++size_;
    }

    std::unique_ptr<instant[]> departures_;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    instant busy_until_{};
    std::uint64_t remainder_ = 0;  // in units of 1 / rate_bps microseconds
};

}  // namespace tcpx::devices::detail
