// Test vectors written as hex dumps: from_hex("45 00 00 3c") -> {0x45, 0x00, 0x00, 0x3c}.
// Anything that is not a hex digit (spaces, newlines, colons) is skipped, so a vector
// can be pasted from tshark or tcpdump -X; an odd number of digits fails the test.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace tcpx_test {

inline std::vector<std::uint8_t> from_hex(std::string_view text)
{
    std::vector<std::uint8_t> out;
    int high = -1;
    for (const char c : text) {
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v < 0) continue;
        if (high < 0) {
            high = v;
            continue;
        }
        out.push_back(static_cast<std::uint8_t>(high * 16 + v));
        high = -1;
    }
    REQUIRE(high < 0);
    return out;
}

/// a followed by b: a packet put together from its parts.
inline std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace tcpx_test
