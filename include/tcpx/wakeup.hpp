// tcpx/wakeup.hpp — a way for another thread (or a signal handler) to wake a thread
// that sleeps in tcpx::wait_for_work (wait.hpp). Linux: one eventfd.
//
//   tcpx::wakeup w;                       // std::error_code in w.error() if it failed
//   // sleeping thread:  tcpx::wait_for_work(stack, w.native_handle()); w.drain();
//   // any other thread: w.notify();      // async-signal-safe: a SIGINT handler may call it
#pragma once

#include <cerrno>
#include <cstdint>
#include <system_error>

#include <sys/eventfd.h>
#include <unistd.h>

namespace tcpx {

class wakeup {
public:
    wakeup() noexcept : fd_{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)}
    {
        if (fd_ < 0) error_ = std::error_code{errno, std::system_category()};
    }
    wakeup(const wakeup&) = delete;
    wakeup& operator=(const wakeup&) = delete;
    ~wakeup()
    {
        if (fd_ >= 0) ::close(fd_);
    }

    /// Why the eventfd could not be made (the process is out of file descriptors).
    std::error_code error() const noexcept { return error_; }
    /// Readable (POLLIN) from notify() until drain().
    int native_handle() const noexcept { return fd_; }

    /// Makes native_handle() readable. Only write(2): safe in a signal handler.
    void notify() const noexcept
    {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);  // saturated counter: already readable
    }
    /// Consumes every notify() so far.
    void drain() const noexcept
    {
        std::uint64_t count;
        [[maybe_unused]] const auto n = ::read(fd_, &count, sizeof count);  // EAGAIN: nothing to drain
    }

private:
    int fd_;
    std::error_code error_;
};

}  // namespace tcpx
