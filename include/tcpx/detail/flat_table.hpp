// tcpx/detail/flat_table.hpp — the stack's connection table: 64-bit keys (a packed
// 4-tuple or a port) to 32-bit slot indices, in one flat array.
//
// Why not std::unordered_map: it allocates a node per connection (an allocation per
// connect or accepted SYN, and a pointer chase per packet); this is one array probed
// linearly, so a lookup is usually one cache line and an insert never allocates until
// the table doubles.
//
// Open addressing, linear probing, at most half full; erase shifts the following run
// back (no tombstones, so lookups never slow down as connections come and go). The
// hash is keyed (a multiply-xorshift of key ^ seed, the seed drawn from the stack's ISN
// secret), so a peer that cannot see the seed cannot choose 4-tuples that collide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tcpx::detail {

class flat_table {
public:
    explicit flat_table(std::uint64_t seed = 0) : seed_{seed} {}

    /// The value stored for `key`, or nullptr.
    const std::uint32_t* find(std::uint64_t key) const noexcept
    {
        if (size_ == 0) return nullptr;
        for (std::size_t i = home(key);; i = (i + 1) & mask_) {
            const entry& e = entries_[i];
            if (!e.used) return nullptr;
            if (e.key == key) return &e.value;
        }
    }
    bool contains(std::uint64_t key) const noexcept { return find(key) != nullptr; }

    /// Adds `key` (which must not be present yet).
    void insert(std::uint64_t key, std::uint32_t value)
    {
        if (2 * (size_ + 1) > entries_.size()) grow();
        std::size_t i = home(key);
        while (entries_[i].used) i = (i + 1) & mask_;
        entries_[i] = entry{key, value, 1};
        ++size_;
    }

    /// Removes `key`; false if it was not there.
    bool erase(std::uint64_t key) noexcept
    {
        if (size_ == 0) return false;
        std::size_t i = home(key);
        while (entries_[i].key != key || !entries_[i].used) {
            if (!entries_[i].used) return false;
            i = (i + 1) & mask_;
        }
        // Backward shift: move each later entry of the run into the hole if its home
        // position does not lie (cyclically) after the hole.
        for (std::size_t j = (i + 1) & mask_; entries_[j].used; j = (j + 1) & mask_) {
            const std::size_t k = home(entries_[j].key);
            const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (stays) continue;
            entries_[i] = entries_[j];
            i = j;
        }
        entries_[i].used = 0;
        --size_;
        return true;
    }

    std::size_t size() const noexcept { return size_; }
    std::size_t memory_bytes() const noexcept { return entries_.capacity() * sizeof(entry); }

private:
    struct entry {
        std::uint64_t key = 0;
        std::uint32_t value = 0;
        std::uint32_t used = 0;
    };

    std::size_t home(std::uint64_t key) const noexcept { return home_in(key, mask_); }
    std::size_t home_in(std::uint64_t key, std::size_t mask) const noexcept
    {
        std::uint64_t x = key ^ seed_;
        x *= 0x9e3779b97f4a7c15ull;
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 32;
        return static_cast<std::size_t>(x) & mask;
    }

    void grow()
    {
        // Built aside and swapped in, so a bad_alloc leaves the table as it was.
        std::vector<entry> bigger(entries_.empty() ? 64 : entries_.size() * 2, entry{});
        const std::size_t mask = bigger.size() - 1;
        for (const entry& e : entries_) {
            if (!e.used) continue;
            std::size_t i = home_in(e.key, mask);
            while (bigger[i].used) i = (i + 1) & mask;
            bigger[i] = e;
        }
        entries_.swap(bigger);
        mask_ = mask;
    }

    std::vector<entry> entries_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
    std::uint64_t seed_;
};

}  // namespace tcpx::detail
