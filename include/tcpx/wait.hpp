// tcpx/wait.hpp — sleeping until a stack has work, for a program on the real clock.
//
//   for (;;) {
//       stack.poll();
//       // ... user calls: accept, receive, send ...
//       tcpx::wait_for_work(stack, wake.native_handle());
//   }
//
// The thread sleeps in ppoll(2) until the first of: a packet on the device's file
// descriptor (tcpx::pollable_device), `extra_fd` readable (a tcpx::wakeup, for other
// threads and signal handlers), or stack.next_deadline() — no busy spinning and no
// fixed tick. A device without a descriptor (the in-memory link) is waited for by
// its deadline only.
//
// The stack's clock must tell real time (clocks::steady): the deadline is turned into
// a timeout by subtracting clock().now().
#pragma once

#include <cerrno>
#include <chrono>
#include <ctime>
#include <system_error>
#include <type_traits>

#include <poll.h>

#include <tcpx/concepts.hpp>
#include <tcpx/time.hpp>

namespace tcpx {

/// The primitive: sleeps until `deadline` (on the clock that said `now`), or until
/// `device_fd` or `extra_fd` is readable; a negative descriptor is left out. A signal
/// interrupting the sleep is not an error (the caller's loop looks at its stop flag);
/// any other ppoll failure is returned.
inline std::error_code wait_until(instant deadline, instant now, int device_fd, int extra_fd = -1)
{
    pollfd fds[2];
    nfds_t count = 0;
    if (device_fd >= 0) fds[count++] = pollfd{device_fd, POLLIN, 0};
    if (extra_fd >= 0) fds[count++] = pollfd{extra_fd, POLLIN, 0};

    timespec timeout{};
    timespec* timeout_ptr = nullptr;  // never: sleep until a descriptor is ready
    if (deadline != never) {
        if (deadline <= now) return {};
        const auto left = deadline - now;
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
        timeout.tv_sec = static_cast<std::time_t>(seconds.count());
        timeout.tv_nsec = static_cast<long>((left - seconds).count() * 1000);
        timeout_ptr = &timeout;
    }
    if (::ppoll(fds, count, timeout_ptr, nullptr) < 0 && errno != EINTR)
        return std::error_code{errno, std::system_category()};
    return {};
}

/// The descriptor of a stack's device, or -1 if the device has none.
template <class Device>
int device_handle(const Device& d) noexcept
{
    if constexpr (pollable_device<Device>) return d.native_handle();
    else return -1;
}

/// Sleeps until `s` has work, as described at the top of this header.
template <class Stack>
std::error_code wait_for_work(Stack& s, int extra_fd = -1)
{
    return wait_until(s.next_deadline(), s.clock().now(), device_handle(s.device()), extra_fd);
}

}  // namespace tcpx
