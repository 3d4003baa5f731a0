// tcpx/device/detail/packet_ring.hpp — a FIFO of variable-length packets in one
// contiguous byte ring, the storage under every in-memory device.
//
// No RFC governs this; what it is for: a packet is written once, in place, and read
// in place (DESIGN.md: "a byte should be touched as few times as possible"), with no
// allocation per packet.
//
// Layout. Each packet is one record: an 8-byte header (its length), then Meta (a
// trivially copyable tag the owner wants kept with the packet, e.g. a due time),
// then the bytes, padded so the next record starts 8-aligned. A record is never
// split: when it does not fit before the end of the buffer, the writer goes back
// to offset 0 and remembers where the upper data ends (`wrap_`), so every packet
// is one contiguous span. The bytes skipped at the end are not counted as used.
//
//       0        write_          read_        wrap_   capacity
//       |--data--|.....free.....|----data----|/skip/|      (wrapped)
//       |..free..|read_ ---data--- write_|.....free......| (not wrapped)
//
// Writing is two-phase: reserve(n) hands out room for up to n bytes without
// changing anything visible; commit(m) (m <= n) publishes the first m as a
// packet. A new reserve() replaces an uncommitted one. Reading never moves the
// write position, so a reservation stays valid while the reader pops packets;
// this is what lets a loopback end write straight into its peer's ring while the
// peer is reading it.
//
// Bounds. The ring starts at `initial_bytes` and, if `limit_bytes` is larger, grows
// by doubling (amortised) when a reserve() would not fit; it never exceeds the
// limit. Growth moves the packets, so it invalidates spans handed out earlier: a
// ring whose packets are read in place while someone else may write (loopback)
// must be created with initial == limit.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

namespace tcpx::devices::detail {

/// The Meta of a ring that keeps nothing but the packet.
struct no_meta {};

constexpr std::size_t round_up_8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

template <class Meta = no_meta>
class packet_ring {
    static_assert(std::is_trivially_copyable_v<Meta>, "packet_ring: Meta is stored with memcpy");

public:
    /// Bytes before the packet in each record: the length, then Meta (if any).
    static constexpr std::size_t header_size =
        8 + (std::is_empty_v<Meta> ? 0 : round_up_8(sizeof(Meta)));

    /// Ring bytes one packet of n bytes occupies (the unit of every limit).
    static constexpr std::size_t footprint(std::size_t n) noexcept
    {
        return round_up_8(header_size + n);
    }

    struct packet {
        std::span<const std::uint8_t> data;
        Meta meta;
    };

    packet_ring() noexcept = default;

    /// A ring of `initial_bytes`, growing to at most `limit_bytes` (both rounded up
    /// to 8). initial_bytes == limit_bytes: fixed and allocated now. The buffer is
    /// left uninitialised, so pages never written are never touched.
    packet_ring(std::size_t limit_bytes, std::size_t initial_bytes)
        : limit_{round_up_8(std::max(limit_bytes, initial_bytes))}
    {
        resize(round_up_8(initial_bytes));
    }

    /// A moved-from ring is empty, with no buffer (and grows again if used).
    packet_ring(packet_ring&& o) noexcept { swap(o); }
    packet_ring& operator=(packet_ring&& o) noexcept
    {
        packet_ring taken{std::move(o)};
        swap(taken);
        return *this;
    }

    bool empty() const noexcept { return count_ == 0; }
    std::size_t packets() const noexcept { return count_; }
    /// Bytes held by records (footprints), not counting any skipped tail.
    std::size_t bytes_used() const noexcept { return used_; }
    std::size_t capacity() const noexcept { return cap_; }
    std::size_t limit() const noexcept { return limit_; }

    /// Room for one packet of up to n bytes, or an empty span if the ring cannot
    /// hold it even after growing. Nothing is visible to the reader until commit().
    std::span<std::uint8_t> reserve(std::size_t n)
    {
        pending_ = no_pending;
        const std::size_t need = footprint(n);
        if (!find_room(need) && !(grow(need) && find_room(need))) {
            return {};
        }
        pending_n_ = n;
        return {buf_.get() + pending_ + header_size, n};
    }

    /// Publishes the first m bytes of the last reservation as one packet.
    void commit(std::size_t m, const Meta& meta = {}) noexcept
    {
        assert(pending_ != no_pending && m <= pending_n_);
        if (pending_ == no_pending) {
            return;
        }
        if (pending_wrap_) {
            if (count_ == 0) {
                read_ = 0;  // the reader emptied the upper part since reserve()
            } else {
                wrap_ = write_;
                wrapped_ = true;
            }
        }
        write_header(pending_, m, meta);
        const std::size_t rec = footprint(m);
        write_ = pending_ + rec;
        used_ += rec;
        ++count_;
        pending_ = no_pending;
    }

    /// reserve + copy + commit: false (and nothing stored) when there is no room.
    bool push(std::span<const std::uint8_t> p, const Meta& meta = {})
    {
        const auto room = reserve(p.size());
        if (room.data() == nullptr) {
            return false;
        }
        if (!p.empty()) {
            std::memcpy(room.data(), p.data(), p.size());
        }
        commit(p.size(), meta);
        return true;
    }

    /// The oldest packet, read in place. Precondition: !empty().
    packet front() const noexcept
    {
        assert(count_ != 0);
        const std::uint8_t* h = buf_.get() + read_;
        std::uint32_t len;
        std::memcpy(&len, h, sizeof len);
        packet p{{h + header_size, len}, {}};
        if constexpr (!std::is_empty_v<Meta>) {
            std::memcpy(&p.meta, h + 8, sizeof(Meta));
        }
        return p;
    }

    /// The oldest packet's Meta alone (cheaper than front() when only it is wanted).
    Meta front_meta() const noexcept { return front().meta; }

    /// Drops the oldest packet. Precondition: !empty().
    void pop() noexcept
    {
        assert(count_ != 0);
        std::uint32_t len;
        std::memcpy(&len, buf_.get() + read_, sizeof len);
        const std::size_t rec = footprint(len);
        read_ += rec;
        used_ -= rec;
        --count_;
        if (wrapped_ && read_ == wrap_) {
            read_ = 0;
            wrapped_ = false;
        }
    }

private:
    static constexpr std::size_t no_pending = ~std::size_t{0};

    // Sets pending_ (and pending_wrap_) to where a record of `need` bytes fits.
    bool find_room(std::size_t need) noexcept
    {
        if (count_ == 0) {
            // Empty: start over at 0, so the whole buffer is one free run. Safe
            // here, not in pop(): a reservation is only ever taken after this.
            read_ = write_ = 0;
            wrapped_ = false;
        }
        pending_wrap_ = false;
        if (wrapped_) {
            if (read_ - write_ >= need) {
                pending_ = write_;
                return true;
            }
            return false;
        }
        if (cap_ - write_ >= need) {
            pending_ = write_;
            return true;
        }
        if (read_ >= need) {  // the tail is too short: go back to the start
            pending_ = 0;
            pending_wrap_ = true;
            return true;
        }
        return false;
    }

    // Doubles the buffer (at least enough for `need` more), up to the limit,
    // moving the packets to its start in order.
    bool grow(std::size_t need)
    {
        const std::size_t want = std::min(limit_, std::max({cap_ * 2, used_ + need, min_growth}));
        if (want <= cap_ || want < used_ + need) {
            return false;
        }
        resize(want);
        return true;
    }

    void resize(std::size_t new_cap)
    {
        if (new_cap == 0) {
            return;
        }
        std::unique_ptr<std::uint8_t[]> nb{new std::uint8_t[new_cap]};
        std::size_t at = 0;
        if (count_ != 0) {
            const std::size_t upper_end = wrapped_ ? wrap_ : write_;
            std::memcpy(nb.get(), buf_.get() + read_, upper_end - read_);
            at = upper_end - read_;
            if (wrapped_) {
                std::memcpy(nb.get() + at, buf_.get(), write_);
                at += write_;
            }
        }
        buf_ = std::move(nb);
        cap_ = new_cap;
        read_ = 0;
        write_ = at;
        wrapped_ = false;
        pending_ = no_pending;
    }

    void swap(packet_ring& o) noexcept
    {
        using std::swap;
        swap(buf_, o.buf_);
        swap(cap_, o.cap_);
        swap(limit_, o.limit_);
        swap(read_, o.read_);
        swap(write_, o.write_);
        swap(wrap_, o.wrap_);
        swap(wrapped_, o.wrapped_);
        swap(used_, o.used_);
        swap(count_, o.count_);
        swap(pending_, o.pending_);
        swap(pending_n_, o.pending_n_);
        swap(pending_wrap_, o.pending_wrap_);
    }

    void write_header(std::size_t at, std::size_t m, const Meta& meta) noexcept
    {
        const auto len = static_cast<std::uint32_t>(m);
        std::memcpy(buf_.get() + at, &len, sizeof len);
        if constexpr (!std::is_empty_v<Meta>) {
            std::memcpy(buf_.get() + at + 8, &meta, sizeof(Meta));
        }
    }

    static constexpr std::size_t min_growth = 64 * 1024;

    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t cap_ = 0;
    std::size_t limit_ = 0;
    std::size_t read_ = 0;   // oldest record
    std::size_t write_ = 0;  // where the next record goes
    std::size_t wrap_ = 0;   // end of the upper data while wrapped_
    bool wrapped_ = false;   // the writer has gone back to 0 ahead of the reader
    std::size_t used_ = 0;
    std::size_t count_ = 0;
    std::size_t pending_ = no_pending;
    std::size_t pending_n_ = 0;
    bool pending_wrap_ = false;
};

}  // namespace tcpx::devices::detail
