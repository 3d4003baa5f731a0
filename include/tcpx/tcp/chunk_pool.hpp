// tcpx/tcp/chunk_pool.hpp — the stack-wide, bounded store of connection data.
//
// DESIGN.md "Memory and time": an idle connection costs only its control block;
// the bytes a connection holds (sent but unacknowledged, received but unread or
// out of order) live in fixed-size chunks drawn from one pool per stack and given
// back as soon as they are acknowledged or read. The per-connection buffer sizes
// are limits on how much a connection may draw, never up-front allocations.
//
//   basic_chunk_pool<ChunkSize>   the pool: allocate/release chunks by 32-bit index
//   chunk_pool                    the one the stack uses (16 KiB chunks, see below)
// Chains of chunks (detail/chunk_chain.hpp) carry send_buffer and recv_buffer.
//
// Contract of the pool:
//   - bytes_in_use() never exceeds max_bytes(); at the limit, or when the system
//     refuses memory, allocate() returns no_chunk and counts why. It never throws.
//   - Storage grows in blocks taken on demand and is never moved or given back while
//     the pool lives, so a chunk_index and a data() pointer stay valid until release.
//   - Released chunks are reused last-in first-out, so the next allocation gets the
//     chunk most likely still in cache. Steady state allocates nothing from the system.
//   - Out-of-order data has a share of its own (set_out_of_order_limit): receive
//     buffers charge the chunks their out-of-order data pins (recv_buffer.hpp) and
//     are refused beyond it, so data a peer may never complete cannot take the chunks
//     that in-order data and sends need. The share is accounting only: the chunks are
//     the same, and in-order data may use the whole pool.
//
// RFCs a reader may want open: none — this is the memory under RFC 9293 §3.3.1's
// send and receive sequence spaces; send_buffer.hpp and recv_buffer.hpp cite the rules.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <utility>
#include <vector>

// AddressSanitizer learns which chunks are free, so a buffer touching a chunk it
// gave back is reported at the faulty access rather than as corrupt data later.
#if defined(__SANITIZE_ADDRESS__)
#define TCPX_DETAIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TCPX_DETAIL_ASAN 1
#endif
#endif
#if defined(TCPX_DETAIL_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace tcpx::tcp {

/// Names one chunk of a pool. 32 bits keep links and cursors small (4 bytes each
/// in every control block); 2^32 - 1 chunks of 16 KiB are 64 TiB, beyond any pool.
using chunk_index = std::uint32_t;
/// "No chunk": the end of a chain, or a refused allocation.
inline constexpr chunk_index no_chunk = ~chunk_index{0};

namespace detail {
#if defined(TCPX_DETAIL_ASAN)
inline void asan_poison(void* p, std::size_t n) noexcept { ASAN_POISON_MEMORY_REGION(p, n); }
inline void asan_unpoison(void* p, std::size_t n) noexcept { ASAN_UNPOISON_MEMORY_REGION(p, n); }
#else
inline void asan_poison(void*, std::size_t) noexcept {}
inline void asan_unpoison(void*, std::size_t) noexcept {}
#endif
}  // namespace detail

/// A bounded pool of `ChunkSize`-byte chunks (a power of two, >= 64).
///
/// Not thread-safe: one pool belongs to one stack, which runs on one thread.
template <std::size_t ChunkSize>
class basic_chunk_pool {
    static_assert(std::has_single_bit(ChunkSize) && ChunkSize >= 64,
                  "ChunkSize must be a power of two, at least one cache line");

public:
    using chunk_index = tcp::chunk_index;
    static constexpr chunk_index no_chunk = tcp::no_chunk;
    static constexpr std::size_t chunk_size = ChunkSize;

    /// Chunks per block of storage taken from the system: about 1 MiB at a time,
    /// so growth costs one system allocation per 64 chunks of 16 KiB. A block is
    /// only address space until written (large allocations are mapped lazily).
    static constexpr std::size_t chunks_per_block =
        ChunkSize >= (std::size_t{1} << 20) ? 1 : (std::size_t{1} << 20) / ChunkSize;

    /// `max_bytes` bounds bytes_in_use(); it is rounded down to whole chunks.
    explicit basic_chunk_pool(std::size_t max_bytes) noexcept
        : max_chunks_{static_cast<chunk_index>(
              std::min<std::size_t>(max_bytes / chunk_size, no_chunk - 1))},
          ooo_limit_{max_chunks_}
    {
    }

    basic_chunk_pool(const basic_chunk_pool&) = delete;
    basic_chunk_pool& operator=(const basic_chunk_pool&) = delete;
    /// A moved-from pool holds nothing and has no budget (max_bytes() == 0).
    basic_chunk_pool(basic_chunk_pool&& other) noexcept { swap(other); }
    basic_chunk_pool& operator=(basic_chunk_pool&& other) noexcept
    {
        basic_chunk_pool{std::move(other)}.swap(*this);
        return *this;
    }
    ~basic_chunk_pool() = default;

    /// A chunk of chunk_size bytes (contents unspecified) whose next() link is
    /// no_chunk; or no_chunk when max_bytes() is reached or the system is out of memory.
    chunk_index allocate() noexcept
    {
        if (in_use_ == max_chunks_) {
            ++refused_at_limit_;
            return no_chunk;
        }
        chunk_index c = free_head_;
        if (c != no_chunk) {
            free_head_ = link(c);
        } else if (fresh_ < reserved_) {
            c = fresh_++;
        } else if (grow()) {
            c = fresh_++;
        } else {
            ++refused_out_of_memory_;
            return no_chunk;
        }
        ++in_use_;
        link(c) = no_chunk;
        detail::asan_unpoison(data(c), chunk_size);
        return c;
    }

    /// Gives `c` back; it is the next chunk allocate() returns (LIFO).
    /// Precondition: c came from allocate() on this pool and is not yet released.
    void release(chunk_index c) noexcept
    {
        assert(c < fresh_ && in_use_ > 0);
        detail::asan_poison(data(c), chunk_size);
        link(c) = free_head_;
        free_head_ = c;
        --in_use_;
    }

    std::uint8_t* data(chunk_index c) noexcept
    {
        return blocks_[c / chunks_per_block].memory.get() + (c % chunks_per_block) * chunk_size;
    }
    const std::uint8_t* data(chunk_index c) const noexcept
    {
        return blocks_[c / chunks_per_block].memory.get() + (c % chunks_per_block) * chunk_size;
    }

    /// The intrusive link of an allocated chunk, for whoever owns it to chain chunks.
    /// The reference stays valid across allocate() (links never move).
    chunk_index& next(chunk_index c) noexcept { return link(c); }
    chunk_index next(chunk_index c) const noexcept
    {
        return blocks_[c / chunks_per_block].links[c % chunks_per_block];
    }

    std::size_t bytes_in_use() const noexcept { return std::size_t{in_use_} * chunk_size; }
    /// Chunk bytes taken from the system so far (never more than max_bytes()). Each
    /// chunk also has a 4-byte link stored beside its block, not counted here.
    std::size_t bytes_reserved() const noexcept { return std::size_t{reserved_} * chunk_size; }
    std::size_t max_bytes() const noexcept { return std::size_t{max_chunks_} * chunk_size; }
    /// Chunks allocate() may still hand out before max_bytes() is reached (the system
    /// may refuse sooner). For a caller that must not count as refused when it only
    /// tries (recv_buffer::stage, for a segment whose checksum is not yet known).
    std::size_t chunks_available() const noexcept { return std::size_t{max_chunks_} - in_use_; }

    /// At most `bytes` (rounded down to chunks, at most max_bytes()) may be charged to
    /// out-of-order data at once. The default is the whole pool.
    void set_out_of_order_limit(std::size_t bytes) noexcept
    {
        ooo_limit_ = static_cast<chunk_index>(std::min<std::size_t>(bytes / chunk_size, max_chunks_));
    }
    std::size_t out_of_order_limit() const noexcept { return std::size_t{ooo_limit_} * chunk_size; }
    /// Charges n more chunks to out-of-order data; false (nothing charged, counted in
    /// refused_out_of_order()) when that would pass the limit.
    bool charge_out_of_order(std::size_t n) noexcept
    {
        if (n > std::size_t{ooo_limit_} - ooo_in_use_) {
            ++refused_out_of_order_;
            return false;
        }
        ooo_in_use_ += static_cast<chunk_index>(n);
        return true;
    }
    /// Gives back n chunks charged before (they were delivered in order, or freed).
    void refund_out_of_order(std::size_t n) noexcept
    {
        assert(n <= ooo_in_use_);
        ooo_in_use_ -= static_cast<chunk_index>(n);
    }
    /// Bytes of chunks charged to out-of-order data now.
    std::size_t out_of_order_in_use() const noexcept { return std::size_t{ooo_in_use_} * chunk_size; }
    /// charge_out_of_order() calls refused at the out-of-order limit.
    std::uint64_t refused_out_of_order() const noexcept { return refused_out_of_order_; }

    /// allocate() calls refused because bytes_in_use() had reached max_bytes().
    std::uint64_t refused_at_limit() const noexcept { return refused_at_limit_; }
    /// allocate() calls refused below the limit because the system had no memory.
    std::uint64_t refused_out_of_memory() const noexcept { return refused_out_of_memory_; }
    std::uint64_t allocation_failures() const noexcept
    {
        return refused_at_limit_ + refused_out_of_memory_;
    }

    void swap(basic_chunk_pool& other) noexcept
    {
        using std::swap;
        swap(blocks_, other.blocks_);
        swap(max_chunks_, other.max_chunks_);
        swap(reserved_, other.reserved_);
        swap(fresh_, other.fresh_);
        swap(in_use_, other.in_use_);
        swap(free_head_, other.free_head_);
        swap(refused_at_limit_, other.refused_at_limit_);
        swap(refused_out_of_memory_, other.refused_out_of_memory_);
        swap(ooo_limit_, other.ooo_limit_);
        swap(ooo_in_use_, other.ooo_in_use_);
        swap(refused_out_of_order_, other.refused_out_of_order_);
    }

private:
    // Chunk data first (so chunks are page aligned), then one link per chunk.
    static constexpr std::align_val_t block_alignment{4096};

    struct block_deleter {
        void operator()(std::uint8_t* p) const noexcept { ::operator delete[](p, block_alignment); }
    };
    struct block {
        std::unique_ptr<std::uint8_t[], block_deleter> memory;
        chunk_index* links = nullptr;
    };

    chunk_index& link(chunk_index c) noexcept
    {
        return blocks_[c / chunks_per_block].links[c % chunks_per_block];
    }

    // Adds one block: chunks_per_block chunks, or fewer when that reaches max_chunks_
    // (only the last block is short, so block b always starts at b * chunks_per_block).
    bool grow() noexcept
    {
        const std::size_t count =
            std::min<std::size_t>(chunks_per_block, std::size_t{max_chunks_} - reserved_);
        try {
            blocks_.emplace_back();
        } catch (const std::bad_alloc&) {
            return false;
        }
        void* raw = ::operator new[](count * (chunk_size + sizeof(chunk_index)), block_alignment,
                                     std::nothrow);
        if (raw == nullptr) {
            blocks_.pop_back();
            return false;
        }
        block& b = blocks_.back();
        b.memory.reset(static_cast<std::uint8_t*>(raw));
        b.links = reinterpret_cast<chunk_index*>(b.memory.get() + count * chunk_size);
        detail::asan_poison(b.memory.get(), count * chunk_size);
        reserved_ += static_cast<chunk_index>(count);
        return true;
    }

    std::vector<block> blocks_;
    chunk_index max_chunks_ = 0;
    chunk_index reserved_ = 0;   // chunks in blocks_
    chunk_index fresh_ = 0;      // chunks [fresh_, reserved_) were never handed out
    chunk_index in_use_ = 0;
    chunk_index free_head_ = no_chunk;
    std::uint64_t refused_at_limit_ = 0;
    std::uint64_t refused_out_of_memory_ = 0;
    chunk_index ooo_limit_ = 0;   // out-of-order share, in chunks
    chunk_index ooo_in_use_ = 0;  // charged to it now
    std::uint64_t refused_out_of_order_ = 0;
};

/// The chunk size the stack uses: 16 KiB.
/// - At least one full-size segment on any common link (MSS 1460 on Ethernet, 8960
///   with jumbo frames), so a segment's payload spans at most two chunks and is
///   copied in at most two runs; a chain hop is paid once per ~11 Ethernet segments.
/// - Four pages, page aligned: the 4-byte link and the hop are noise (< 0.1%).
/// - Small enough that a connection with a little data pins little: a short
///   request holds one chunk, a 64 KiB window four.
using chunk_pool = basic_chunk_pool<16384>;

}  // namespace tcpx::tcp
