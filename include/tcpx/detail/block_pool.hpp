// tcpx/detail/block_pool.hpp — fixed-size blocks for state a connection needs only
// while it has data in flight (tcp::recovery_state): drawn when a flight begins, given
// back when it ends, so an idle connection carries a pointer instead of a kilobyte.
//
// Blocks come from slabs of `per_slab`, allocated when every block made so far is in
// use and kept for the pool's life (as the control blocks are), so a steady state
// allocates nothing; at most `max_blocks` are ever made, and acquire() answers nullptr
// beyond that (or when a slab cannot be allocated) — the caller runs without. Free
// blocks form a list through their first bytes, last given back first drawn, still in
// cache. The pool holds raw storage: the user constructs its object in a block and must
// leave nothing that needs destroying (the pool never runs a destructor).
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>
#include <vector>

namespace tcpx::detail {

class block_pool {
public:
    static constexpr std::size_t per_slab = 64;

    block_pool(std::size_t block_size, std::size_t alignment, std::size_t max_blocks) noexcept
        : block_size_{round_up(std::max(block_size, sizeof(void*)), std::max(alignment, alignof(void*)))},
          alignment_{std::max(alignment, alignof(void*))},
          max_blocks_{max_blocks}
    {
    }
    block_pool(const block_pool&) = delete;
    block_pool& operator=(const block_pool&) = delete;
    ~block_pool()
    {
        for (std::byte* slab : slabs_) ::operator delete(slab, std::align_val_t{alignment_});
    }

    /// A block of at least the size and alignment asked for at construction, or nullptr
    /// at max_blocks (or when the system has no memory for another slab).
    void* acquire() noexcept
    {
        if (free_ == nullptr && !grow()) return nullptr;
        void* block = free_;
        free_ = *static_cast<void**>(free_);
        ++in_use_;
        return block;
    }

    /// Gives back a block acquire() returned (its object already done with).
    void release(void* block) noexcept
    {
        *static_cast<void**>(block) = free_;
        free_ = block;
        --in_use_;
    }

    std::size_t in_use() const noexcept { return in_use_; }
    std::size_t made() const noexcept { return made_; }
    std::size_t max_blocks() const noexcept { return max_blocks_; }
    std::size_t block_size() const noexcept { return block_size_; }
    /// Heap bytes held: the slabs and their index.
    std::size_t memory_bytes() const noexcept
    {
        return slabs_.size() * per_slab * block_size_ + slabs_.capacity() * sizeof(std::byte*);
    }

private:
    static constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

    bool grow() noexcept
    {
        if (made_ >= max_blocks_) return false;
        const std::size_t count = std::min(per_slab, max_blocks_ - made_);
        try {
            slabs_.reserve(slabs_.size() + 1);
        } catch (...) {
            return false;
        }
        auto* slab = static_cast<std::byte*>(
            ::operator new(per_slab * block_size_, std::align_val_t{alignment_}, std::nothrow));
        if (slab == nullptr) return false;
        slabs_.push_back(slab);
        // Thread the new blocks onto the free list, the first on top.
        for (std::size_t i = count; i-- > 0;) {
            void* block = slab + i * block_size_;
            *static_cast<void**>(block) = free_;
            free_ = block;
        }
        made_ += count;
        return true;
    }

    std::size_t block_size_;
    std::size_t alignment_;
    std::size_t max_blocks_;
    std::vector<std::byte*> slabs_;
    void* free_ = nullptr;
    std::size_t made_ = 0;
    std::size_t in_use_ = 0;
};

}  // namespace tcpx::detail
