// tcpx/device/detail/impairment_path.hpp — one direction of impaired<D>: decides
// each packet's fate (impairment.hpp lists the steps) and holds the packets that
// must wait until they fall due.
//
// Where held packets live. Without reordering, due times never decrease: the
// bottleneck serialises in order, the delay is constant, and jitter is clamped so
// a packet is never due before the one ahead of it. So those packets form a FIFO,
// and a byte ring (packet_ring) holds them with no sorting and no allocation per
// packet: the `in_turn_` ring. Reordered packets are FIFO among themselves too
// (each is clamped the same way against the previous reordered one), in the
// `held_back_` ring. Release merges the two heads by (due, arrival order), which is
// the whole of the "priority queue".
//
// A packet already due when it arrives, with nothing due held ahead of it, goes
// straight on without being copied into a ring.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include <tcpx/device/detail/bottleneck.hpp>
#include <tcpx/device/detail/packet_ring.hpp>
#include <tcpx/device/detail/prng.hpp>
#include <tcpx/device/impairment.hpp>
#include <tcpx/time.hpp>

namespace tcpx::devices::detail {

/// What became of a packet handed on.
enum class handoff {
    delivered,  ///< taken (by the inner device, or by the stack's f)
    dropped,    ///< refused for good (the inner device had no transmit buffer)
    deferred,   ///< not now (the caller's receive budget is spent): keep it held
};

/// Kept with each held packet.
struct held_meta {
    instant due;
    std::uint64_t seq;  ///< arrival order, to break ties between the two rings
};

/// The bytes held by both directions together, against max_held_bytes.
struct held_budget {
    std::size_t used = 0;
    std::size_t limit = 0;
};

/// "Flip no bit": the corruption argument of a packet that is not corrupted.
inline constexpr std::size_t no_flip = ~std::size_t{0};

inline void flip_bit(std::span<std::uint8_t> p, std::size_t bit) noexcept
{
    if (bit != no_flip) {
        p[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    }
}

class impairment_path {
public:
    using ring = packet_ring<held_meta>;

    /// `stream` tells the directions of one seed apart; `ring_limit` bounds each ring.
    impairment_path(const impairment& settings, std::uint64_t seed, unsigned stream,
                    std::size_t ring_limit)
        : settings_{settings}, rng_{seed, stream}, in_turn_{ring_limit, 0},
          held_back_{ring_limit, 0}
    {
    }

    const impairment& settings() const noexcept { return settings_; }
    void set(const impairment& settings) noexcept { settings_ = settings; }
    const impairment_counters& counters() const noexcept { return counters_; }

    bool holding() const noexcept { return !in_turn_.empty() || !held_back_.empty(); }
    /// Nothing to do to a packet now: it may bypass this path altogether.
    bool transparent() const noexcept { return settings_.transparent() && !holding(); }

    /// When the next held packet falls due, or tcpx::never.
    instant earliest() const noexcept
    {
        instant e = never;
        if (!in_turn_.empty()) {
            e = std::min(e, in_turn_.front_meta().due);
        }
        if (!held_back_.empty()) {
            e = std::min(e, held_back_.front_meta().due);
        }
        return e;
    }

    /// Counts a packet that bypassed the path (impaired<D>'s zero-copy transmit).
    void count(handoff h) noexcept { tally(h); }

    /// One packet enters at t. Each copy that is due at once goes to
    /// emit(bytes, flip_bit, t) -> handoff; the others are held.
    template <class Emit>
    void arrive(instant t, std::span<const std::uint8_t> p, held_budget& budget, Emit&& emit)
    {
        if (settings_.loss > 0 && rng_.chance(settings_.loss)) {
            ++counters_.lost;
            return;
        }
        int copies = 1;
        if (settings_.duplicate > 0 && rng_.chance(settings_.duplicate)) {
            ++counters_.duplicated;
            copies = 2;
        }
        for (int i = 0; i < copies; ++i) {
            one_copy(t, p, budget, emit);
        }
    }

    /// Hands up to n held packets due at or before t to out(bytes, no_flip, due),
    /// oldest due first; returns how many were handed (delivered or dropped).
    template <class Out>
    std::size_t release(instant t, std::size_t n, held_budget& budget, Out&& out)
    {
        std::size_t k = 0;
        while (k < n) {
            ring* r = next_due(t);
            if (r == nullptr) {
                break;
            }
            const auto held = r->front();
            const handoff h = out(held.data, no_flip, held.meta.due);
            if (h == handoff::deferred) {
                break;
            }
            tally(h);
            ++k;
            budget.used -= ring::footprint(held.data.size());
            r->pop();
        }
        return k;
    }

private:
    template <class Emit>
    void one_copy(instant t, std::span<const std::uint8_t> p, held_budget& budget, Emit& emit)
    {
        instant departure = t;
        if (settings_.rate_bps != 0) {
            const auto d = bottleneck_.admit(t, p.size(), settings_.rate_bps,
                                             settings_.queue_packets);
            if (!d) {
                ++counters_.dropped_queue;
                return;
            }
            departure = *d;
        }
        std::size_t flip = no_flip;
        if (settings_.corrupt > 0 && !p.empty() && rng_.chance(settings_.corrupt)) {
            flip = static_cast<std::size_t>(rng_.below(std::uint64_t{p.size()} * 8));
            ++counters_.corrupted;
        }
        duration wait = settings_.delay;
        if (settings_.jitter > duration::zero()) {
            const auto width = static_cast<std::uint64_t>(settings_.jitter.count()) * 2 + 1;
            wait += duration{static_cast<duration::rep>(rng_.below(width))} - settings_.jitter;
        }
        // Jitter varies the delay but never lets a packet pass the one ahead of it.
        instant due = std::max(departure + std::max(wait, duration::zero()), last_in_turn_);
        const bool late = settings_.reorder > 0 && rng_.chance(settings_.reorder);
        if (late) {
            due = std::max(due + settings_.reorder_delay, last_held_back_);
            last_held_back_ = due;
            ++counters_.reordered;
        } else {
            last_in_turn_ = due;
        }
        const held_meta meta{due, seq_++};
        if (due <= t && earliest() > t) {
            const handoff h = emit(p, flip, t);
            if (h != handoff::deferred) {
                tally(h);
                return;
            }
        }
        hold(late ? held_back_ : in_turn_, p, flip, meta, budget);
    }

    void hold(ring& r, std::span<const std::uint8_t> p, std::size_t flip, const held_meta& meta,
              held_budget& budget)
    {
        const std::size_t footprint = ring::footprint(p.size());
        const auto room = budget.used + footprint <= budget.limit ? r.reserve(p.size())
                                                                   : std::span<std::uint8_t>{};
        if (room.data() == nullptr) {
            ++counters_.dropped_store_full;
            return;
        }
        if (!p.empty()) {
            std::memcpy(room.data(), p.data(), p.size());
        }
        flip_bit(room, flip);
        r.commit(p.size(), meta);
        budget.used += footprint;
    }

    // The ring whose head is due by t and first in (due, arrival) order.
    ring* next_due(instant t) noexcept
    {
        ring* best = nullptr;
        held_meta best_meta{};
        for (ring* r : {&in_turn_, &held_back_}) {
            if (r->empty()) {
                continue;
            }
            const held_meta m = r->front_meta();
            if (m.due <= t && (best == nullptr || m.due < best_meta.due ||
                               (m.due == best_meta.due && m.seq < best_meta.seq))) {
                best = r;
                best_meta = m;
            }
        }
        return best;
    }

    void tally(handoff h) noexcept
    {
        switch (h) {
        case handoff::delivered: ++counters_.delivered; return;
        case handoff::dropped: ++counters_.dropped_inner; return;
        case handoff::deferred: return;
        }
    }

    impairment settings_;
    xoshiro256ss rng_;
    bottleneck bottleneck_;
    ring in_turn_;    // packets in arrival order, due times non-decreasing
    ring held_back_;  // reordered packets, due times non-decreasing
    instant last_in_turn_{};
    instant last_held_back_{};
    std::uint64_t seq_ = 0;
    impairment_counters counters_;
};

}  // namespace tcpx::devices::detail
