// tcpx/detail/block_pool.hpp — fixed-size blocks for state a connection needs only
// while it has data in flight (tcp::recovery_state): drawn when a flight begins, given
// back when it ends, so an idle connection carries a pointer instead of a kilobyte.
//
// Blocks come from slabs of `per_slab`, allocated when every block made so far is in
// use and kept for the pool's life (as the control blocks are), so a steady state
// allocates nothing; at most `max_blocks` are ever made, and acquire() answers nullptr
// beyond that (or when a slab cannot be allocated) — the caller runs without.
//
// A block given back keeps its bytes: the free list is kept beside the blocks, not in
// them, and acquire() says whether a block is fresh (never handed out) or used. So a
// user can construct its object once, in a fresh block, and on later draws reset only
// what needs resetting instead of constructing a kilobyte again on every flight. The
// last block given back is the next drawn, still in cache. The pool never runs a
// destructor: what lives in a block must be trivially destructible.
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>
#include <vector>

namespace tcpx::detail {

class block_pool {
public:
    static constexpr std::size_t per_slab = 64;

    struct block {
        void* storage = nullptr;  ///< nullptr: none free
        bool fresh = false;       ///< never handed out before: nothing lives in it yet
    };

    block_pool(std::size_t block_size, std::size_t alignment, std::size_t max_blocks) noexcept
        : block_size_{round_up(std::max<std::size_t>(block_size, 1), alignment)},
          alignment_{alignment},
          max_blocks_{max_blocks}
    {
    }
    block_pool(const block_pool&) = delete;
    block_pool& operator=(const block_pool&) = delete;
    ~block_pool()
    {
        for (std::byte* slab : slabs_) ::operator delete(slab, std::align_val_t{alignment_});
    }

    /// A block of at least the size and alignment asked for at construction, or none at
    /// max_blocks (or when the system has no memory for another slab).
    block acquire() noexcept
    {
        if (!free_.empty()) {
            void* storage = free_.back();
            free_.pop_back();
            ++in_use_;
            return {storage, false};
        }
        if (made_ == slabs_.size() * per_slab && !grow()) return {};
        if (made_ >= max_blocks_) return {};
        void* storage = slabs_[made_ / per_slab] + (made_ % per_slab) * block_size_;
        ++made_;
        ++in_use_;
        return {storage, true};
    }

    /// Gives back a block acquire() returned; its bytes stay as they are.
    void release(void* storage) noexcept
    {
        free_.push_back(storage);  // never reallocates: reserved as the blocks were made
        --in_use_;
    }

    std::size_t in_use() const noexcept { return in_use_; }
    std::size_t made() const noexcept { return made_; }
    std::size_t max_blocks() const noexcept { return max_blocks_; }
    std::size_t block_size() const noexcept { return block_size_; }
    /// Heap bytes held: the slabs, their index and the free list.
    std::size_t memory_bytes() const noexcept
    {
        return slabs_.size() * per_slab * block_size_ + slabs_.capacity() * sizeof(std::byte*) +
               free_.capacity() * sizeof(void*);
    }

private:
    static constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

    bool grow() noexcept
    {
        if (made_ >= max_blocks_) return false;
        try {
            slabs_.reserve(slabs_.size() + 1);
            free_.reserve(made_ + per_slab);  // room for every block to come back
        } catch (...) {
            return false;
        }
        auto* slab = static_cast<std::byte*>(
            ::operator new(per_slab * block_size_, std::align_val_t{alignment_}, std::nothrow));
        if (slab == nullptr) return false;
        slabs_.push_back(slab);  // the last one's tail beyond max_blocks is never handed out
        return true;
    }

    std::size_t block_size_;
    std::size_t alignment_;
    std::size_t max_blocks_;
    std::vector<std::byte*> slabs_;
    std::vector<void*> free_;
    std::size_t made_ = 0;  ///< blocks ever handed out: the next fresh one is block made_
    std::size_t in_use_ = 0;
};

}  // namespace tcpx::detail
