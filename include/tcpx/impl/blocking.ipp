// Bodies for tcpx/blocking.hpp. Not to be included directly.
//
// Every call below that reaches the stack does so with core::mutex_ held, and every
// waiter is linked, checked and unlinked under it: the stack thread and the callers
// never touch the stack, a waiter or a handle's field at the same time.
#pragma once

#include <functional>

#include <tcpx/wait.hpp>

namespace tcpx::blocking {
namespace detail {

// ---- conditions ----

template <class Stack>
bool stack_adapter<Stack>::check(waiter& w)
{
    switch (w.what) {
    case condition::readable:
        // A stale handle (closed or aborted by another thread) wakes the reader too.
        return s_.connection(w.socket) == nullptr || s_.readable(w.socket);
    case condition::writable: {
        if (s_.connection(w.socket) == nullptr) return true;
        const tcp::state st = s_.state(w.socket);
        // Outside ESTABLISHED and CLOSE-WAIT send() fails at once (closing, reset ...).
        return (st != tcp::state::established && st != tcp::state::close_wait) || s_.writable(w.socket);
    }
    case condition::connected: {
        const tcp::state st = s_.state(w.socket);  // a stale handle reads CLOSED
        return st != tcp::state::syn_sent && st != tcp::state::syn_received;
    }
    case condition::acceptable:
        // The stack has no "accept would succeed" query: accepting is the query. The
        // connection is the waiter's from here; another waiter cannot take it.
        w.accepted = s_.accept(w.listener, w.result);
        return w.result != errc::would_block;
    }
    return true;
}

// ---- core ----

inline core::core()
{
    if (wake_.error()) throw std::system_error{wake_.error(), "tcpx::blocking::runtime: eventfd"};
}

inline void core::block(std::unique_lock<std::mutex>& lock, waiter& w)
{
    w.next = head_;
    if (head_ != nullptr) head_->prev = &w;
    head_ = &w;
    w.cv.wait(lock, [&w] { return w.ready; });
    if (w.prev != nullptr) w.prev->next = w.next;
    else head_ = w.next;
    if (w.next != nullptr) w.next->prev = w.prev;
}

inline void core::wake_ready()
{
    for (waiter* w = head_; w != nullptr; w = w->next) {
        if (w->ready || !ops_->check(*w)) continue;
        w->ready = true;
        w->cv.notify_one();
    }
}

inline void core::after_call()
{
    if (stopped_ || ops_->next_deadline() >= sleeps_until_) return;
    wake_.notify();
    sleeps_until_ = instant{};  // one notify per sleep: it polls before it sleeps again
}

inline void core::settle()
{
    if (stopped_) return;
    wake_ready();
    after_call();
}

inline void core::stop()
{
    {
        const std::lock_guard lock{mutex_};
        if (!stopped_) {
            stopped_ = true;
            ops_ = nullptr;
            for (waiter* w = head_; w != nullptr; w = w->next) {
                w->ready = true;
                w->cv.notify_one();
            }
        }
    }
    wake_.notify();
}

inline std::size_t core::blocked_calls() const
{
    const std::lock_guard lock{mutex_};
    std::size_t n = 0;
    for (const waiter* w = head_; w != nullptr; w = w->next) ++n;
    return n;
}

inline tcpx::listener core::listen(std::uint16_t port, std::size_t backlog, std::error_code& ec)
{
    const std::lock_guard lock{mutex_};
    if (stopped_) {
        ec = errc::stack_stopped;
        return {};
    }
    return ops_->listen(port, backlog, ec);
}

inline tcpx::socket core::connect(wire::ipv4_address remote, std::uint16_t port, std::error_code& ec)
{
    std::unique_lock lock{mutex_};
    if (stopped_) {
        ec = errc::stack_stopped;
        return {};
    }
    const tcpx::socket s = ops_->connect(remote, port, ec);
    if (ec) return {};
    after_call();  // the SYN leaves at the next poll()
    waiter w{condition::connected, s};
    block(lock, w);
    if (stopped_) {
        ec = errc::stack_stopped;
        return {};
    }
    if (ops_->state(s) != tcp::state::closed) {
        ec.clear();
        return s;
    }
    ec = ops_->error(s);  // refused, timed out, unreachable ...
    if (!ec) ec = errc::not_connected;
    (void)ops_->close(s);  // a CLOSED connection is reclaimed at once
    return {};
}

inline tcpx::socket core::accept(const tcpx::listener& l, std::error_code& ec)
{
    std::unique_lock lock{mutex_};
    if (stopped_) {
        ec = errc::stack_stopped;
        return {};
    }
    const tcpx::socket s = ops_->accept(l, ec);
    if (ec != errc::would_block) return s;
    waiter w{l};
    block(lock, w);
    if (stopped_) {
        ec = errc::stack_stopped;
        return {};
    }
    ec = w.result;
    return w.accepted;
}

inline std::error_code core::close(tcpx::listener& l)
{
    const std::lock_guard lock{mutex_};
    const tcpx::listener old = std::exchange(l, tcpx::listener{});
    if (stopped_) return errc::stack_stopped;
    if (!old.valid()) return errc::bad_handle;
    const std::error_code ec = ops_->close(old);
    settle();  // blocked accepts on it fail now
    return ec;
}

inline std::size_t core::read(const tcpx::socket& s, std::span<std::uint8_t> out, std::error_code& ec)
{
    ec.clear();
    if (out.empty()) return 0;
    std::unique_lock lock{mutex_};
    for (;;) {
        if (stopped_) {
            ec = errc::stack_stopped;
            return 0;
        }
        // `s` is read afresh each time: another thread may have closed the stream.
        const std::size_t n = ops_->receive(s, out, ec);
        if (ec != errc::would_block) {
            after_call();  // reading may have opened the window: a window update is due
            return n;
        }
        waiter w{condition::readable, s};
        block(lock, w);
    }
}

inline std::size_t core::write(const tcpx::socket& s, std::span<const std::uint8_t> data, std::error_code& ec)
{
    ec.clear();
    std::size_t done = 0;
    std::unique_lock lock{mutex_};
    while (done < data.size()) {
        if (stopped_) {
            ec = errc::stack_stopped;
            return done;
        }
        done += ops_->send(s, data.subspan(done), ec);
        if (ec != errc::would_block) {
            if (ec) break;
            continue;
        }
        ec.clear();
        after_call();  // what was queued leaves while this call waits for room
        waiter w{condition::writable, s};
        block(lock, w);
    }
    after_call();
    return done;
}

inline std::error_code core::shutdown(const tcpx::socket& s)
{
    const std::lock_guard lock{mutex_};
    if (stopped_) return errc::stack_stopped;
    const std::error_code ec = ops_->shutdown(s);
    settle();  // a writer blocked on this stream fails now (connection_closing)
    return ec;
}

inline std::error_code core::close(tcpx::socket& s)
{
    const std::lock_guard lock{mutex_};
    const tcpx::socket old = std::exchange(s, tcpx::socket{});
    if (stopped_) return errc::stack_stopped;
    if (!old.valid()) return errc::bad_handle;
    const std::error_code ec = ops_->close(old);
    settle();  // calls blocked on the stream see the stale handle now
    return ec;
}

inline std::error_code core::abort(tcpx::socket& s)
{
    const std::lock_guard lock{mutex_};
    const tcpx::socket old = std::exchange(s, tcpx::socket{});
    if (stopped_) return errc::stack_stopped;
    if (!old.valid()) return errc::bad_handle;
    const std::error_code ec = ops_->abort(old);
    settle();
    return ec;
}

inline std::error_code core::set_nodelay(const tcpx::socket& s, bool on)
{
    const std::lock_guard lock{mutex_};
    if (stopped_) return errc::stack_stopped;
    const std::error_code ec = ops_->set_nodelay(s, on);
    after_call();  // Nagle may have been holding data back
    return ec;
}

inline tcp::connection_info core::info(const tcpx::socket& s)
{
    const std::lock_guard lock{mutex_};
    if (stopped_) return {};
    return ops_->info(s);
}

}  // namespace detail

// ---- stream ----

inline std::size_t stream::read(std::span<std::uint8_t> buffer, std::error_code& ec)
{
    if (!core_) {
        ec = errc::bad_handle;
        return 0;
    }
    return core_->read(handle_, buffer, ec);
}

inline std::size_t stream::read(std::span<std::uint8_t> buffer)
{
    std::error_code ec;
    const std::size_t n = read(buffer, ec);
    if (ec && ec != errc::end_of_stream) throw std::system_error{ec, "tcpx::blocking::stream::read"};
    return n;
}

inline std::size_t stream::write(std::span<const std::uint8_t> data, std::error_code& ec)
{
    if (!core_) {
        ec = errc::bad_handle;
        return 0;
    }
    return core_->write(handle_, data, ec);
}

inline std::size_t stream::write(std::span<const std::uint8_t> data)
{
    std::error_code ec;
    const std::size_t n = write(data, ec);
    if (ec) throw std::system_error{ec, "tcpx::blocking::stream::write"};
    return n;
}

inline std::error_code stream::shutdown()
{
    return core_ ? core_->shutdown(handle_) : std::error_code{errc::bad_handle};
}

inline std::error_code stream::abort()
{
    return core_ ? core_->abort(handle_) : std::error_code{errc::bad_handle};
}

inline std::error_code stream::set_nodelay(bool on)
{
    return core_ ? core_->set_nodelay(handle_, on) : std::error_code{errc::bad_handle};
}

inline tcp::connection_info stream::info() const
{
    return core_ ? core_->info(handle_) : tcp::connection_info{};
}

// ---- listener ----

inline stream listener::accept(std::error_code& ec)
{
    if (!core_) {
        ec = errc::bad_handle;
        return {};
    }
    const tcpx::socket s = core_->accept(handle_, ec);
    if (ec) return {};
    return stream{core_, s};
}

inline stream listener::accept()
{
    std::error_code ec;
    stream s = accept(ec);
    if (ec) throw std::system_error{ec, "tcpx::blocking::listener::accept"};
    return s;
}

// ---- runtime ----

template <device Device, congestion_control CC>
runtime<Device, CC>::runtime(Device device, config cfg)
    requires(std::is_reference_v<Device> || std::move_constructible<Device>)
    : runtime(cfg, std::in_place, static_cast<Device&&>(device))
{
}

template <device Device, congestion_control CC>
template <class... Args>
runtime<Device, CC>::runtime(config cfg, std::in_place_t, Args&&... device_args)
    : device_{std::in_place, std::forward<Args>(device_args)...},
      stack_{device_.get(), clocks::steady{}, cfg},
      ops_{stack_},
      core_{std::make_shared<detail::core>()}
{
    core_->attach(ops_);
    thread_ = std::thread{[this] { run(); }};
}

template <device Device, congestion_control CC>
runtime<Device, CC>::~runtime()
{
    stop();
}

template <device Device, congestion_control CC>
void runtime<Device, CC>::stop()
{
    core_->stop();
    if (thread_.joinable()) thread_.join();
}

template <device Device, congestion_control CC>
void runtime<Device, CC>::run()
{
    const int device_fd = tcpx::device_handle(stack_.device());
    for (;;) {
        instant deadline;
        instant now;
        {
            const auto lock = core_->lock();
            if (core_->stopped()) return;
            stack_.poll();
            core_->wake_ready();
            deadline = stack_.next_deadline();
            now = stack_.clock().now();
            core_->sleeping_until(deadline);
        }
        // A user call after the unlock notifies the wakeup, so this returns at once.
        if (tcpx::wait_until(deadline, now, device_fd, core_->wakeup_handle())) {
            core_->stop();  // ppoll itself failed: release every caller rather than spin
            return;
        }
        core_->drain();
    }
}

template <device Device, congestion_control CC>
listener runtime<Device, CC>::listen(std::uint16_t port, std::size_t backlog, std::error_code& ec)
{
    const tcpx::listener l = core_->listen(port, backlog, ec);
    if (ec) return {};
    return listener{core_, l};
}

template <device Device, congestion_control CC>
listener runtime<Device, CC>::listen(std::uint16_t port, std::size_t backlog)
{
    std::error_code ec;
    listener l = listen(port, backlog, ec);
    if (ec) throw std::system_error{ec, "tcpx::blocking::runtime::listen"};
    return l;
}

template <device Device, congestion_control CC>
stream runtime<Device, CC>::connect(wire::ipv4_address remote, std::uint16_t port, std::error_code& ec)
{
    // A local owner: the runtime may be destroyed while this call sleeps (which releases
    // it), and the core must outlive the call.
    std::shared_ptr<detail::core> c = core_;
    const tcpx::socket s = c->connect(remote, port, ec);
    if (ec) return {};
    return stream{std::move(c), s};
}

template <device Device, congestion_control CC>
stream runtime<Device, CC>::connect(wire::ipv4_address remote, std::uint16_t port)
{
    std::error_code ec;
    stream s = connect(remote, port, ec);
    if (ec) throw std::system_error{ec, "tcpx::blocking::runtime::connect"};
    return s;
}

template <device Device, congestion_control CC>
template <class F>
auto runtime<Device, CC>::with_stack(F&& f)
{
    const auto lock = core_->lock();
    struct settle_on_exit {
        detail::core& c;
        ~settle_on_exit() { c.settle(); }
    } settle{*core_};
    return std::invoke(std::forward<F>(f), stack_);
}

}  // namespace tcpx::blocking
