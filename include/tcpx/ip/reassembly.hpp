// tcpx/ip/reassembly.hpp — fragment reassembly for either IP family: a bounded set of
// datagrams being put together, each in a buffer of its own, expired after a timeout.
// Have open:
//   RFC 791  §3.2 (IPv4 fragmentation and reassembly; the key: source, destination,
//            protocol, identification), RFC 815 (holes: here a bitmap of 8-byte units)
//   RFC 8200 §4.5 (IPv6 fragments; the key: source, destination, identification)
//   RFC 5722 (overlapping fragments drop the whole datagram; Linux does the same for
//            IPv4), RFC 1122 §3.3.2 (a reassembly timeout; Linux uses 30 s)
//
// The reassembler knows no header format: the caller (the stack) says, for each
// fragment, its key, where its data goes, whether more follow, and — for the first —
// the header to put in front of the whole. A datagram completes when every byte from 0
// to the last fragment's end has come; then `complete()` is the header and payload,
// contiguous, for the caller to fix up (length, fragment fields, checksum) and process
// before the next add(). Memory: `max_datagrams` buffers of header_room + 65,535 bytes
// each, allocated the first time a slot is used and kept; nothing else allocates.
//
// A fragment that lands on bytes already received is either an exact duplicate (the
// same bytes: a copy the network made, RFC 8200 §4.5 lets a node drop it alone) or an
// overlap, which drops the whole datagram (RFC 5722 §3): the bytes seen twice would
// have to be chosen between, and that choice is what overlap attacks exploit.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include <tcpx/time.hpp>

namespace tcpx::ip {

/// What identifies the fragments of one datagram (RFC 791 §3.2, RFC 8200 §4.5). IPv4
/// addresses are stored in the first four bytes.
struct fragment_key {
    std::uint8_t family = 4;  ///< 4 or 6
    std::uint8_t protocol = 0;  ///< IPv4's protocol; 0 for IPv6 (not part of its key)
    std::uint32_t identification = 0;
    std::array<std::uint8_t, 16> source{};
    std::array<std::uint8_t, 16> destination{};

    friend bool operator==(const fragment_key&, const fragment_key&) = default;
};

/// What became of one fragment.
enum class fragment_outcome : std::uint8_t {
    incomplete,  ///< kept; the datagram still has holes
    complete,    ///< the datagram is whole: complete() until the next add()
    duplicate,   ///< every byte of it had come already, the same: dropped alone
    overlap,     ///< it overlapped received bytes with others: the whole datagram dropped (RFC 5722)
    too_large,   ///< it ends past 65,535 bytes of payload (the "ping of death")
    bad_length,  ///< more follow, but its length is not a multiple of 8 (RFC 791 §3.2, RFC 8200 §4.5)
    inconsistent,  ///< it contradicts the end the last fragment set: the whole datagram dropped
    header_too_long,  ///< a first fragment whose header does not fit header_room
    disabled,    ///< the reassembler holds no slots (config: reassembly off)
};

struct reassembly_counters {
    std::uint64_t fragments = 0;        ///< fragments offered
    std::uint64_t reassembled = 0;      ///< datagrams completed
    std::uint64_t timed_out = 0;        ///< datagrams dropped at the timeout
    std::uint64_t evicted = 0;          ///< datagrams dropped to make room for a newer one
    std::uint64_t overlaps = 0;         ///< datagrams dropped for an overlapping fragment (RFC 5722)
    std::uint64_t duplicates = 0;       ///< exact duplicate fragments dropped
    std::uint64_t malformed = 0;        ///< fragments too large, of a bad length, inconsistent, or with too long a header
};

class reassembler {
public:
    /// The largest payload an IP datagram has (RFC 791's 16-bit total length, RFC
    /// 8200's 16-bit payload length).
    static constexpr std::size_t max_payload = 65'535;
    /// Room for the first fragment's header in front of the payload: IPv4's 60 bytes,
    /// or IPv6's fixed header and the per-fragment extension headers.
    static constexpr std::size_t header_room = 512;
    static constexpr std::size_t unit = 8;  ///< fragment offsets count 8-byte units

    /// `timeout`: how long a datagram may take from its first fragment on; IPv6's may be
    /// another (`timeout6`: RFC 8200 §4.5 says 60 s, RFC 1122 §3.3.2 leaves IPv4's to the host).
    reassembler(std::size_t max_datagrams, duration timeout, duration timeout6)
        : slots_(max_datagrams), timeout_{timeout}, timeout6_{timeout6}
    {
    }
    reassembler(std::size_t max_datagrams, duration timeout) : reassembler(max_datagrams, timeout, timeout) {}

    /// Offers the fragment `data` at byte `offset` of the datagram `key` names; `header`
    /// (non-empty exactly for the first fragment, offset 0) is what goes in front.
    fragment_outcome add(const fragment_key& key, std::size_t offset, bool more_fragments,
                         std::span<const std::uint8_t> header, std::span<const std::uint8_t> data,
                         instant now)
    {
        ++counters_.fragments;
        if (slots_.empty()) return fragment_outcome::disabled;
        // RFC 791 §3.2, RFC 8200 §4.5: every fragment but the last is a multiple of 8 bytes.
        // An empty fragment carries nothing and would only hold a slot (Linux drops the
        // datagram it names).
        if ((more_fragments && data.size() % unit != 0) || data.empty()) return malformed(fragment_outcome::bad_length);
        if (offset % unit != 0 || offset + data.size() > max_payload) return malformed(fragment_outcome::too_large);
        if (header.size() > header_room) return malformed(fragment_outcome::header_too_long);

        slot& s = find_or_claim(key, now);
        const std::size_t end = offset + data.size();
        // The last fragment sets the datagram's length; no fragment may reach past it,
        // and no second last fragment may set another.
        if ((!more_fragments && s.length != unknown_length && s.length != end) ||
            (s.length != unknown_length && end > s.length) || (!more_fragments && end < s.received_end)) {
            ++counters_.malformed;
            release(s);
            return fragment_outcome::inconsistent;
        }
        const std::size_t first_unit = offset / unit;
        const std::size_t last_unit = (end + unit - 1) / unit;  // one past
        const std::size_t already = count_received(s, first_unit, last_unit);
        if (already != 0) {
            // RFC 5722 §3 (RFC 8200 §4.5): bytes received twice. The same bytes again are
            // a network's duplicate; anything else drops the datagram.
            const bool same = already == last_unit - first_unit &&
                              std::memcmp(s.buffer.get() + header_room + offset, data.data(), data.size()) == 0 &&
                              (header.empty() || s.header_length == header.size());
            if (same) {
                ++counters_.duplicates;
                return fragment_outcome::duplicate;
            }
            ++counters_.overlaps;
            release(s);
            return fragment_outcome::overlap;
        }
        std::memcpy(s.buffer.get() + header_room + offset, data.data(), data.size());
        mark_received(s, first_unit, last_unit);
        s.received_bytes += data.size();
        s.received_end = std::max(s.received_end, end);
        if (!more_fragments) s.length = end;
        if (!header.empty()) {
            std::memcpy(s.buffer.get() + header_room - header.size(), header.data(), header.size());
            s.header_length = header.size();
        }
        if (s.length == unknown_length || s.header_length == 0 || s.received_bytes != s.length)
            return fragment_outcome::incomplete;
        ++counters_.reassembled;
        complete_ = &s;
        return fragment_outcome::complete;
    }

    /// After add() returned complete: the header and the whole payload, contiguous and
    /// writable (the caller fixes the header's fields). Valid until the next add() or
    /// expire(); the slot is then free again.
    std::span<std::uint8_t> complete() noexcept
    {
        if (complete_ == nullptr) return {};
        return {complete_->buffer.get() + header_room - complete_->header_length,
                complete_->header_length + complete_->length};
    }
    /// Frees the slot of the datagram complete() showed (the next add() or expire()
    /// would, too).
    void release_complete() noexcept
    {
        if (complete_ != nullptr) release(*complete_);
    }
    /// How much of complete() is the header.
    std::size_t complete_header_length() const noexcept { return complete_ ? complete_->header_length : 0; }

    /// When expire() next has work: no later than the earliest time a datagram expires
    /// (perhaps earlier, after one completed), never when none was held. O(1):
    /// the stack asks on every poll.
    instant next_deadline() const noexcept { return next_deadline_hint_; }

    /// Drops every datagram whose timeout has passed. For one whose first fragment had
    /// come, `on_expired(key, quote)` is called first with its header and as much of its
    /// payload as arrived in order from byte 0 — what an ICMP Time Exceeded (fragment
    /// reassembly time exceeded, RFC 792; RFC 8200 §4.5) quotes.
    template <class F>
    void expire(instant now, F&& on_expired)
    {
        release_complete();
        if (now < next_deadline_hint_) return;
        for (slot& s : slots_) {
            if (!s.used || s.expires > now) continue;
            ++counters_.timed_out;
            if (s.header_length != 0) {
                const std::size_t in_order = count_leading_units(s) * unit;
                const std::size_t payload = std::min(in_order, s.length == unknown_length ? in_order : s.length);
                on_expired(s.key, std::span<const std::uint8_t>{s.buffer.get() + header_room - s.header_length,
                                                                s.header_length + payload});
            }
            release(s);
        }
        next_deadline_hint_ = earliest_expiry();
    }

    std::size_t datagrams_held() const noexcept
    {
        return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const slot& s) { return s.used; }));
    }
    /// The most memory the buffers can take: what config allows.
    std::size_t capacity_bytes() const noexcept { return slots_.size() * buffer_size; }
    const reassembly_counters& counters() const noexcept { return counters_; }

private:
    static constexpr std::size_t unknown_length = static_cast<std::size_t>(-1);
    static constexpr std::size_t buffer_size = header_room + max_payload;
    static constexpr std::size_t units = (max_payload + unit - 1) / unit;  // 8,192

    struct slot {
        bool used = false;
        fragment_key key;
        instant expires{};  // the first fragment's arrival and the family's timeout
        std::uint64_t age = 0;  // order of claiming: the oldest is evicted first
        std::size_t length = unknown_length;  // of the payload, once the last fragment came
        std::size_t received_bytes = 0;
        std::size_t received_end = 0;
        std::size_t header_length = 0;  // 0 until the first fragment came
        std::array<std::uint64_t, units / 64> received{};  // one bit an 8-byte unit (RFC 815's holes)
        std::unique_ptr<std::uint8_t[]> buffer;
    };

    instant earliest_expiry() const noexcept
    {
        instant earliest = never;
        for (const slot& s : slots_)
            if (s.used) earliest = std::min(earliest, s.expires);
        return earliest;
    }

    fragment_outcome malformed(fragment_outcome o) noexcept
    {
        ++counters_.malformed;
        return o;
    }

    slot& find_or_claim(const fragment_key& key, instant now)
    {
        release_complete();
        slot* free_slot = nullptr;
        slot* oldest = nullptr;
        for (slot& s : slots_) {
            if (s.used && s.key == key) return s;
            if (!s.used && free_slot == nullptr) free_slot = &s;
            if (s.used && (oldest == nullptr || s.age < oldest->age)) oldest = &s;
        }
        if (free_slot == nullptr) {
            // Memory full: the oldest datagram makes room (as Linux's inet_frag_evictor
            // did), counted; a flood of never-finished fragments cannot hold the rest out.
            ++counters_.evicted;
            release(*oldest);
            free_slot = oldest;
        }
        slot& s = *free_slot;
        if (!s.buffer) s.buffer = std::make_unique<std::uint8_t[]>(buffer_size);
        s.used = true;
        s.key = key;
        s.expires = now + (key.family == 6 ? timeout6_ : timeout_);
        s.age = ++ages_;
        next_deadline_hint_ = std::min(next_deadline_hint_, s.expires);
        return s;
    }

    void release(slot& s) noexcept
    {
        if (complete_ == &s) complete_ = nullptr;
        s.used = false;
        s.length = unknown_length;
        s.received_bytes = 0;
        s.received_end = 0;
        s.header_length = 0;
        s.received.fill(0);
    }

    static std::size_t count_received(const slot& s, std::size_t from, std::size_t to) noexcept
    {
        std::size_t n = 0;
        for (std::size_t i = from; i < to; ++i) n += (s.received[i / 64] >> (i % 64)) & 1u;
        return n;
    }
    static void mark_received(slot& s, std::size_t from, std::size_t to) noexcept
    {
        for (std::size_t i = from; i < to; ++i) s.received[i / 64] |= std::uint64_t{1} << (i % 64);
    }
    static std::size_t count_leading_units(const slot& s) noexcept
    {
        std::size_t n = 0;
        for (const std::uint64_t word : s.received) {
            const int ones = std::countr_one(word);
            n += static_cast<std::size_t>(ones);
            if (ones != 64) break;
        }
        return n;
    }

    std::vector<slot> slots_;
    duration timeout_;
    duration timeout6_;
    reassembly_counters counters_;
    slot* complete_ = nullptr;
    std::uint64_t ages_ = 0;
    instant next_deadline_hint_ = never;
};

}  // namespace tcpx::ip
