// tcpx/device/impaired.hpp — impaired<D>: a device that wraps any device and makes
// its network worse, on purpose and reproducibly: loss, duplication, reordering,
// delay with jitter, corruption, and a rate-limited drop-tail bottleneck, each
// direction on its own (device/impairment.hpp lists them and their order).
//
// RFCs to have open: RFC 9293 §3.10.7.4 (what TCP does with duplicated, reordered,
// corrupted segments), RFC 5681 (congestion control, which the bottleneck tests),
// RFC 6298 (retransmission timing, which delay and loss exercise).
//
//   tcpx::devices::loopback_link link;
//   tcpx::devices::impaired dev{impairment_config{.transmit = {.loss = 0.01}}, link.end(0)};
//   // dev is a tcpx::device; the stack uses it instead of link.end(0)
//
// Time. Packets that must wait (delay, bottleneck, reorder) are held, and leave
// only when a call with a time t at or after their due time is made:
//   transmit side: on receive(t, ...) (the stack calls it on every poll) and on
//                  transmit(n, t), in due order, before that call's own packet;
//   receive side:  handed to f by receive(t, ...).
// next_deadline() says when that is, so a stack that polls at its deadline moves
// them on time; the inner device is told the packet's due time in transmit(n, due).
//
// Cost. A direction with no impairment and nothing held adds nothing: transmit
// hands out the inner device's own buffer, receive hands f the inner packet. An
// impaired packet is copied once into a held ring (or, with no delay, straight into
// the inner device's buffer); a corrupted one received without delay is copied into
// a scratch buffer to flip its bit. No allocation per packet: rings grow
// geometrically up to max_held_bytes and are reused.
//
// Determinism. Each direction draws from its own xoshiro256** stream of `seed`, and
// draws only for impairments that are set, in a fixed order; so the same seed and
// the same calls give the same packets at the same times, bit for bit, on any
// platform.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include <tcpx/concepts.hpp>
#include <tcpx/device/detail/impairment_path.hpp>
#include <tcpx/device/impairment.hpp>
#include <tcpx/time.hpp>

namespace tcpx::devices {

/// Inner: a type modelling tcpx::device, or an lvalue reference to one (to impair
/// a device owned elsewhere, such as a loopback end).
template <class Inner>
class impaired {
    using inner_device = std::remove_reference_t<Inner>;
    static_assert(tcpx::device<inner_device>,
                  "tcpx::devices::impaired<Inner>: Inner must model tcpx::device (concepts.hpp)");

public:
    /// Builds the inner device from inner_args (or binds it, if Inner is a reference).
    template <class... Args>
    explicit impaired(const impairment_config& config, Args&&... inner_args)
        : inner_(std::forward<Args>(inner_args)...),
          budget_{0, config.max_held_bytes},
          transmit_{config.transmit, config.seed, 0, config.max_held_bytes},
          receive_{config.receive, config.seed, 1, config.max_held_bytes},
          scratch_size_{inner_.mtu()},
          scratch_{new std::uint8_t[2 * scratch_size_]}
    {
    }

    std::size_t mtu() const { return inner_.mtu(); }
    /// The inner device's file descriptor, when it has one (tcpx::pollable_device).
    int native_handle() const
        requires tcpx::pollable_device<inner_device>
    {
        return inner_.native_handle();
    }

    /// Moves due transmit-side packets on, then calls f for up to n packets:
    /// receive-side packets that fell due, then what the inner device delivers now.
    template <class F>
    std::size_t receive(instant t, F&& f, std::size_t n)
    {
        release_transmit(t);
        std::size_t given = receive_.release(
            t, n, budget_, [&f](std::span<const std::uint8_t> p, std::size_t, instant) {
                f(p);
                return detail::handoff::delivered;
            });
        // A packet due at once goes to f straight from the inner device; past the
        // budget n (duplicates can overshoot it) it is held, due, for the next call.
        auto emit = [&](std::span<const std::uint8_t> p, std::size_t flip, instant) {
            if (given >= n) {
                return detail::handoff::deferred;
            }
            if (flip == detail::no_flip) {
                f(p);
            } else if (p.size() > scratch_size_) {
                return detail::handoff::deferred;  // above the MTU: flipped in a held copy
            } else {
                const std::span<std::uint8_t> copy{receive_scratch(), p.size()};
                std::memcpy(copy.data(), p.data(), p.size());
                detail::flip_bit(copy, flip);
                f(std::span<const std::uint8_t>{copy});
            }
            ++given;
            return detail::handoff::delivered;
        };
        while (given < n) {
            const std::size_t want = n - given;
            const std::size_t pulled = inner_.receive(
                t, [&](std::span<const std::uint8_t> p) { receive_.arrive(t, p, budget_, emit); },
                want);
            if (pulled < want) {
                break;  // the inner device has nothing more now
            }
        }
        return given;
    }

    /// Room for one packet of up to n bytes: the inner device's own buffer when
    /// the transmit side is transparent, else a scratch buffer of ours.
    std::span<std::uint8_t> transmit_buffer(std::size_t n)
    {
        if (transmit_.transparent()) {
            const auto room = inner_.transmit_buffer(n);
            if (room.empty()) {
                transmit_.count(detail::handoff::dropped);
            }
            mode_ = room.empty() ? mode::none : mode::direct;
            pending_ = room.size();
            return room;
        }
        if (n > scratch_size_) {
            mode_ = mode::none;
            return {};
        }
        mode_ = mode::scratch;
        pending_ = n;
        return {scratch_.get(), n};
    }

    /// Sends the first n bytes of the last transmit_buffer, after moving on any
    /// held transmit-side packets due by t.
    void transmit(std::size_t n, instant t)
    {
        n = std::min(n, pending_);
        switch (std::exchange(mode_, mode::none)) {
        case mode::none:
            return;  // no buffer was handed out (or it was empty)
        case mode::direct:
            inner_.transmit(n, t);
            transmit_.count(detail::handoff::delivered);
            return;
        case mode::scratch:
            release_transmit(t);
            transmit_.arrive(t, {scratch_.get(), n}, budget_,
                             [this](std::span<const std::uint8_t> p, std::size_t flip,
                                    instant when) { return to_inner(p, flip, when); });
            return;
        }
    }

    /// The earliest of the inner device's deadline and any held packet's due time.
    instant next_deadline() const
    {
        return std::min({inner_.next_deadline(), transmit_.earliest(), receive_.earliest()});
    }

    inner_device& inner() noexcept { return inner_; }
    const inner_device& inner() const noexcept { return inner_; }

    const impairment_counters& transmit_counters() const noexcept { return transmit_.counters(); }
    const impairment_counters& receive_counters() const noexcept { return receive_.counters(); }

    const impairment& transmit_impairment() const noexcept { return transmit_.settings(); }
    const impairment& receive_impairment() const noexcept { return receive_.settings(); }
    /// Changes a direction's impairments from the next packet on; held packets
    /// keep the due times they were given.
    void set_transmit_impairment(const impairment& i) noexcept { transmit_.set(i); }
    void set_receive_impairment(const impairment& i) noexcept { receive_.set(i); }

    /// Bytes held back in both directions (ring footprints), at most max_held_bytes.
    std::size_t held_bytes() const noexcept { return budget_.used; }

private:
    enum class mode : unsigned char { none, direct, scratch };

    void release_transmit(instant t)
    {
        if (!transmit_.holding()) {
            return;
        }
        transmit_.release(t, std::numeric_limits<std::size_t>::max(), budget_,
                          [this](std::span<const std::uint8_t> p, std::size_t flip,
                                 instant due) { return to_inner(p, flip, due); });
    }

    detail::handoff to_inner(std::span<const std::uint8_t> p, std::size_t flip, instant when)
    {
        const auto room = inner_.transmit_buffer(p.size());
        if (room.size() < p.size() || room.data() == nullptr) {
            return detail::handoff::dropped;
        }
        if (!p.empty()) {
            std::memcpy(room.data(), p.data(), p.size());
        }
        detail::flip_bit(room, flip);
        inner_.transmit(p.size(), when);
        return detail::handoff::delivered;
    }

    // The second half of scratch_: the transmit half may be in the caller's hands.
    std::uint8_t* receive_scratch() noexcept { return scratch_.get() + scratch_size_; }

    Inner inner_;
    detail::held_budget budget_;
    detail::impairment_path transmit_;
    detail::impairment_path receive_;
    std::size_t scratch_size_;
    std::unique_ptr<std::uint8_t[]> scratch_;  // [0, mtu): transmit; [mtu, 2 mtu): receive
    mode mode_ = mode::none;
    std::size_t pending_ = 0;
};

/// impaired dev{config, some_device} wraps an lvalue by reference and takes an
/// rvalue by value.
template <class D>
impaired(const impairment_config&, D&&) -> impaired<D>;

}  // namespace tcpx::devices
