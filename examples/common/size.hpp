// Byte counts on a command line: "64M", "1.5G", "4096", "256k" (powers of 1024).
// Shared by tcpx-perf and the programs under benchmarks/.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>

namespace example {

/// The count `text` names, or nullopt when it is not a non-negative number with an
/// optional k/K, M or G suffix.
inline std::optional<std::uint64_t> parse_size(const char* text)
{
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || !(v >= 0)) return std::nullopt;
    double scale = 1;
    if (*end == 'k' || *end == 'K') scale = 1024;
    else if (*end == 'M') scale = 1024.0 * 1024;
    else if (*end == 'G') scale = 1024.0 * 1024 * 1024;
    else if (*end != '\0') return std::nullopt;
    if (end[0] != '\0' && end[1] != '\0') return std::nullopt;
    return static_cast<std::uint64_t>(v * scale);
}

}  // namespace example
