// A device for scenario tests: the test plays the remote peer. Packets the test
// injects wait in `inbox` until the stack polls; packets the stack sends are kept,
// whole, in `outbox` for the test to inspect. Allocation per packet is fine here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include <tcpx/concepts.hpp>
#include <tcpx/time.hpp>

namespace tcpx::test {

struct probe_device {
    std::size_t mtu_ = 1500;
    std::deque<std::vector<std::uint8_t>> inbox;
    std::vector<std::vector<std::uint8_t>> outbox;
    std::vector<std::uint8_t> scratch = std::vector<std::uint8_t>(65536);
    /// When set, transmit_buffer refuses (a device whose queue is full).
    bool full = false;

    std::size_t mtu() const { return mtu_; }

    template <class F>
    std::size_t receive(instant, F&& f, std::size_t n)
    {
        std::size_t k = 0;
        for (; k < n && !inbox.empty(); ++k) {
            const std::vector<std::uint8_t> p = std::move(inbox.front());
            inbox.pop_front();
            f(std::span<const std::uint8_t>{p});
        }
        return k;
    }
    std::span<std::uint8_t> transmit_buffer(std::size_t n)
    {
        if (full || n > mtu_) return {};
        return {scratch.data(), n};
    }
    void transmit(std::size_t n, instant) { outbox.emplace_back(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n)); }
    instant next_deadline() const { return inbox.empty() ? never : instant{}; }
};
static_assert(tcpx::device<probe_device>);

}  // namespace tcpx::test
