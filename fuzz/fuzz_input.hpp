// The fuzzer's input as the targets read it: a byte, or two in network order, at a
// time, and zeros once it runs out, so every input is a whole script (a short one ends
// in steps of zeros, the targets' plainest choices).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpx::fuzz {

class input {
public:
    explicit input(std::span<const std::uint8_t> bytes) : bytes_{bytes} {}
    bool done() const { return at_ >= bytes_.size(); }
    std::uint8_t u8() { return at_ < bytes_.size() ? bytes_[at_++] : 0; }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
    /// Up to n bytes as they stand: fewer if the input ends first.
    std::span<const std::uint8_t> take(std::size_t n)
    {
        n = std::min(n, bytes_.size() - std::min(at_, bytes_.size()));
        const auto s = bytes_.subspan(at_, n);
        at_ += n;
        return s;
    }

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t at_ = 0;
};

}  // namespace tcpx::fuzz
