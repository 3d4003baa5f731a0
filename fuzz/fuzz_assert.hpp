// FUZZ_ASSERT(cond) for the libFuzzer targets: a property that does not hold is
// printed with its file and line and ends the run with abort(), which libFuzzer reports
// as a crash and saves the input for.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace tcpx::fuzz {

[[noreturn]] inline void property_violated(const char* what, const char* file, int line)
{
    std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
    std::abort();
}

}  // namespace tcpx::fuzz

#define FUZZ_ASSERT(cond) ((cond) ? void(0) : ::tcpx::fuzz::property_violated(#cond, __FILE__, __LINE__))
