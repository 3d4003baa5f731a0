// The doctest runner for the interop layer: tcpx over a TUN interface with the Linux
// kernel's TCP as the peer. Every test here needs root (to create interfaces), so the
// whole process moves into a network namespace of its own before any test runs:
// interfaces, addresses and routes it makes are invisible to the machine and vanish
// with the process, on every path — a crash included.
//
// Not root, or no /dev/net/tun: every case is skipped with a one-line reason. Under
// CI=true that is a failure instead, since CI runs as root and must exercise them.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "support/netns.hpp"

namespace {

std::string why_not_runnable()
{
    if (::geteuid() != 0) return "not root (the kernel-peer tests create TUN interfaces in their own network namespace)";
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) return "no /dev/net/tun (modprobe tun)";
    if (::unshare(CLONE_NEWNET) != 0)
        return std::string{"cannot make a network namespace: "} + std::strerror(errno);
    return {};
}

}  // namespace

int main(int argc, char** argv)
{
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    const std::string reason = why_not_runnable();
    if (!reason.empty()) {
        const char* ci = std::getenv("CI");
        if (ci != nullptr && std::string{ci} == "true") {
            std::fprintf(stderr, "interop: cannot run under CI=true: %s\n", reason.c_str());
            return 1;
        }
        std::printf("interop: skipped: %s\n", reason.c_str());
        context.addFilter("test-case-exclude", "*");
        return context.run();
    }
    interop::bring_loopback_up();
    return context.run();
}
