// tcpx/detail/stable_vector.hpp — the stack's control blocks: an array that grows in
// fixed chunks, so growing never moves (or copies) what is already there, never
// reserves twice what it holds as a doubling vector does, and a reference to an
// element stays valid for the life of the container.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tcpx::detail {

template <class T, std::size_t ChunkSize = 256>
class stable_vector {
    static_assert((ChunkSize & (ChunkSize - 1)) == 0, "ChunkSize must be a power of two");

public:
    T& operator[](std::size_t i) noexcept { return chunks_[i / ChunkSize][i % ChunkSize]; }
    const T& operator[](std::size_t i) const noexcept { return chunks_[i / ChunkSize][i % ChunkSize]; }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return chunks_.size() * ChunkSize; }

    /// Appends a value-initialized element.
    T& emplace_back()
    {
        if (size_ == capacity()) chunks_.push_back(std::make_unique<T[]>(ChunkSize));
        return (*this)[size_++];
    }

    /// Heap bytes held (the chunks and the chunk index).
    std::size_t memory_bytes() const noexcept
    {
        return capacity() * sizeof(T) + chunks_.capacity() * sizeof(std::unique_ptr<T[]>);
    }

private:
    std::vector<std::unique_ptr<T[]>> chunks_;
    std::size_t size_ = 0;
};

}  // namespace tcpx::detail
