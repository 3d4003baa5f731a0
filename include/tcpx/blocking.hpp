// tcpx/blocking.hpp — blocking sockets for simple programs: a stack on its own thread,
// and handles whose calls block until data, space or a connection is there.
//
// tcpx::blocking::runtime<Device> owns a tcpx::stack<Device&, clocks::steady, CC> and one
// thread that drives it: poll(), wake the blocked calls whose condition now holds, sleep
// in tcpx::wait_until (wait.hpp) until the next deadline, a packet on the device's
// descriptor (tcpx::pollable_device) or a wakeup from a user call. listen() and connect()
// hand out a `listener` and `stream`s whose calls may come from any number of threads at
// once — one thread reading and another writing the same stream too.
//
// A thread-per-connection echo server (tests/blocking/facade.cpp runs this very code):
//
//     void serve_echo(tcpx::blocking::listener& l)
//     {
//         std::vector<std::jthread> workers;
//         std::error_code ec;
//         while (auto s = l.accept(ec)) {  // blocks; fails once l is closed
//             workers.emplace_back([s = std::move(s)]() mutable {
//                 std::uint8_t buf[16384];
//                 std::error_code ec;
//                 while (std::size_t n = s.read(buf, ec))  // 0: end of stream or error
//                     if (s.write({buf, n}, ec) != n) break;
//             });  // s closes when its thread ends
//         }
//     }  // joins every worker
//
//     tcpx::devices::channel_link link;  // or a TUN device: anything pollable
//     tcpx::blocking::runtime<tcpx::devices::channel&> rt{link.end(0), cfg};
//     auto l = rt.listen(7, 16);
//     std::thread server{[&] { serve_echo(l); }};
//
// Waking exactly. A call that cannot go on registers a waiter — what it waits for
// (readable, writable, acceptable, connected), its handle and a condition variable — in
// the runtime's list and sleeps. After every poll() the stack thread evaluates the
// waiters' conditions only, and notifies the ones that hold; calls that change another
// call's condition (close, abort, shutdown, closing a listener) do the same. Nothing
// sleeps in a loop with a timeout, nothing retries on a tick. A user call that moves the
// stack's next_deadline() before the one its thread sleeps toward — queued output makes
// it instant{} — wakes that thread through an eventfd (wakeup.hpp), once per sleep, so a
// write leaves at once.
//
// Errors are std::error_code (error.hpp); each blocking call also has an overload that
// throws std::system_error. read() returns 0 at the end of the stream (ec =
// errc::end_of_stream; the throwing overload returns 0 and does not throw for it).
//
// Lifetime. Handles share the runtime's lock and wait list (a std::shared_ptr), not its
// stack: when the runtime stops — stop() or its destructor — every blocked call returns
// errc::stack_stopped, and every later call on a handle fails the same way without
// touching the stack, so handles may outlive the runtime. A device the runtime only
// refers to (Device = D&) must outlive the runtime. Calls on one handle may come from
// many threads; moving or destroying a handle must not overlap a call on it, as for any
// object.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include <tcpx/basic_stack.hpp>
#include <tcpx/cc/reno.hpp>
#include <tcpx/clock/steady.hpp>
#include <tcpx/concepts.hpp>
#include <tcpx/config.hpp>
#include <tcpx/error.hpp>
#include <tcpx/socket.hpp>
#include <tcpx/tcp/info.hpp>
#include <tcpx/tcp/state.hpp>
#include <tcpx/time.hpp>
#include <tcpx/wakeup.hpp>
#include <tcpx/wire/ipv4.hpp>

namespace tcpx::blocking {

template <device Device, congestion_control CongestionControl = cc::reno>
class runtime;
class listener;

namespace detail {

/// What a blocked call waits for.
enum class condition : std::uint8_t {
    readable,    ///< read: data, end of stream, an error, or the handle went stale
    writable,    ///< write: send-buffer space, or the stream can no longer send
    acceptable,  ///< accept: a connection (the stack thread accepts it for the waiter), or an error
    connected,   ///< connect: the handshake ended, either way
};

/// One blocked call. Lives in the caller's frame, linked into the core's list while it
/// waits; every field is read and written under the core's mutex.
struct waiter {
    waiter(condition c, tcpx::socket s) noexcept : what{c}, socket{s} {}
    explicit waiter(tcpx::listener l) noexcept : what{condition::acceptable}, listener{l} {}

    condition what;
    tcpx::socket socket;
    tcpx::listener listener;
    bool ready = false;        ///< the condition held, or the runtime stopped
    tcpx::socket accepted;     ///< acceptable: the connection taken for this waiter
    std::error_code result;    ///< acceptable: why accept failed (the listener closed)
    std::condition_variable cv;
    waiter* prev = nullptr;
    waiter* next = nullptr;
};

/// The stack behind a core, without its Device and CC types, so handles need not
/// know them. Every call is made with the core's mutex held.
class stack_ops {
public:
    virtual tcpx::listener listen(std::uint16_t port, std::size_t backlog, std::error_code& ec) = 0;
    virtual tcpx::socket accept(tcpx::listener l, std::error_code& ec) = 0;
    virtual std::error_code close(tcpx::listener l) = 0;
    virtual tcpx::socket connect(wire::ipv4_address remote, std::uint16_t port, std::error_code& ec) = 0;
    virtual std::size_t send(tcpx::socket s, std::span<const std::uint8_t> data, std::error_code& ec) = 0;
    virtual std::size_t receive(tcpx::socket s, std::span<std::uint8_t> out, std::error_code& ec) = 0;
    virtual std::error_code shutdown(tcpx::socket s) = 0;
    virtual std::error_code close(tcpx::socket s) = 0;
    virtual std::error_code abort(tcpx::socket s) = 0;
    virtual std::error_code set_nodelay(tcpx::socket s, bool on) = 0;
    virtual tcp::connection_info info(tcpx::socket s) const = 0;
    virtual tcp::state state(tcpx::socket s) const = 0;
    virtual std::error_code error(tcpx::socket s) const = 0;
    /// Whether w's condition holds now; for `acceptable`, takes the connection into w.
    virtual bool check(waiter& w) = 0;
    /// The stack's next_deadline(): instant{} once a call queued output.
    virtual instant next_deadline() const = 0;

protected:
    ~stack_ops() = default;
};

/// tcpx::stack behind stack_ops.
template <class Stack>
class stack_adapter final : public stack_ops {
public:
    explicit stack_adapter(Stack& s) noexcept : s_{s} {}

    tcpx::listener listen(std::uint16_t port, std::size_t backlog, std::error_code& ec) override
    {
        return s_.listen(port, backlog, ec);
    }
    tcpx::socket accept(tcpx::listener l, std::error_code& ec) override { return s_.accept(l, ec); }
    std::error_code close(tcpx::listener l) override { return s_.close(l); }
    tcpx::socket connect(wire::ipv4_address remote, std::uint16_t port, std::error_code& ec) override
    {
        return s_.connect(remote, port, ec);
    }
    std::size_t send(tcpx::socket s, std::span<const std::uint8_t> data, std::error_code& ec) override
    {
        return s_.send(s, data, ec);
    }
    std::size_t receive(tcpx::socket s, std::span<std::uint8_t> out, std::error_code& ec) override
    {
        return s_.receive(s, out, ec);
    }
    std::error_code shutdown(tcpx::socket s) override { return s_.shutdown(s); }
    std::error_code close(tcpx::socket s) override { return s_.close(s); }
    std::error_code abort(tcpx::socket s) override { return s_.abort(s); }
    std::error_code set_nodelay(tcpx::socket s, bool on) override { return s_.set_nodelay(s, on); }
    tcp::connection_info info(tcpx::socket s) const override { return s_.info(s); }
    tcp::state state(tcpx::socket s) const override { return s_.state(s); }
    std::error_code error(tcpx::socket s) const override { return s_.error(s); }
    bool check(waiter& w) override;
    instant next_deadline() const override { return s_.next_deadline(); }

private:
    Stack& s_;
};

/// What the runtime and its handles share: the lock, the list of blocked calls, the
/// wakeup of the stack thread, and (until stop) the stack. Not Device-dependent, so
/// its bodies are compiled once.
class core {
public:
    core();  ///< throws std::system_error if the eventfd cannot be made
    core(const core&) = delete;
    core& operator=(const core&) = delete;

    void attach(stack_ops& ops) noexcept { ops_ = &ops; }

    // -- the handles' calls. A handle passes its own field by reference: it is read and
    //    written only under the lock, so one handle may be used from many threads. --
    tcpx::listener listen(std::uint16_t port, std::size_t backlog, std::error_code& ec);
    tcpx::socket connect(wire::ipv4_address remote, std::uint16_t port, std::error_code& ec);
    tcpx::socket accept(const tcpx::listener& l, std::error_code& ec);
    std::error_code close(tcpx::listener& l);
    std::size_t read(const tcpx::socket& s, std::span<std::uint8_t> out, std::error_code& ec);
    std::size_t write(const tcpx::socket& s, std::span<const std::uint8_t> data, std::error_code& ec);
    std::error_code shutdown(const tcpx::socket& s);
    std::error_code close(tcpx::socket& s);
    std::error_code abort(tcpx::socket& s);
    std::error_code set_nodelay(const tcpx::socket& s, bool on);
    tcp::connection_info info(const tcpx::socket& s);
    template <class Handle>
    Handle load(const Handle& h) const
    {
        const std::lock_guard lock{mutex_};
        return h;
    }

    std::size_t blocked_calls() const;

    // -- the runtime and its thread --
    std::unique_lock<std::mutex> lock() const { return std::unique_lock{mutex_}; }
    bool stopped() const noexcept { return stopped_; }  ///< with the lock held
    /// With the lock held: notifies every waiter whose condition now holds.
    void wake_ready();
    /// With the lock held, after a call that may have changed any waiter's condition or
    /// queued output: wake_ready(), and wake the stack thread if poll() is due sooner.
    void settle();
    /// With the lock held: the stack thread is about to sleep until `deadline`.
    void sleeping_until(instant deadline) noexcept { sleeps_until_ = deadline; }
    int wakeup_handle() const noexcept { return wake_.native_handle(); }
    void drain() const noexcept { wake_.drain(); }
    /// Releases every blocked call (errc::stack_stopped), forgets the stack and wakes
    /// the stack thread so it can end. Idempotent.
    void stop();

private:
    void after_call();  // with the lock: wake the stack thread if poll() is due sooner
    void block(std::unique_lock<std::mutex>& lock, waiter& w);

    mutable std::mutex mutex_;
    stack_ops* ops_ = nullptr;  // nullptr once stopped
    bool stopped_ = false;
    waiter* head_ = nullptr;    // the blocked calls
    instant sleeps_until_{};    // the stack thread's deadline; instant{}: it is awake or woken
    tcpx::wakeup wake_;
};

/// The device a runtime owns, or a reference to one it does not.
template <class Device>
class device_holder {
public:
    template <class... Args>
    explicit device_holder(std::in_place_t, Args&&... args) : device_(std::forward<Args>(args)...)
    {
    }
    Device& get() noexcept { return device_; }

private:
    Device device_;
};

template <class Device>
class device_holder<Device&> {
public:
    device_holder(std::in_place_t, Device& d) noexcept : device_{&d} {}
    Device& get() noexcept { return *device_; }

private:
    Device* device_;
};

/// What stream and listener share: the core, the stack's handle (read and written
/// only under the core's lock) and closing it when the owner goes or is assigned to.
template <class Handle>
class owned_handle {
public:
    owned_handle(const owned_handle&) = delete;
    owned_handle& operator=(const owned_handle&) = delete;

protected:
    owned_handle() noexcept = default;
    owned_handle(std::shared_ptr<core> c, Handle h) noexcept : core_{std::move(c)}, handle_{h} {}
    owned_handle(owned_handle&& other) noexcept
        : core_{std::move(other.core_)}, handle_{std::exchange(other.handle_, Handle{})}
    {
    }
    owned_handle& operator=(owned_handle&& other) noexcept
    {
        if (this != &other) {
            (void)close_handle();
            core_ = std::move(other.core_);
            handle_ = std::exchange(other.handle_, Handle{});
        }
        return *this;
    }
    ~owned_handle() { (void)close_handle(); }

    std::error_code close_handle() { return core_ ? core_->close(handle_) : std::error_code{errc::bad_handle}; }
    Handle load_handle() const { return core_ ? core_->load(handle_) : Handle{}; }

    std::shared_ptr<core> core_;
    Handle handle_;
};

}  // namespace detail

/// One TCP connection, from runtime::connect() or listener::accept(). Movable, not
/// copyable; the destructor closes it (gracefully) if it is still open.
class stream : private detail::owned_handle<tcpx::socket> {
public:
    stream() noexcept = default;
    stream(stream&&) noexcept = default;
    stream& operator=(stream&&) noexcept = default;
    ~stream() = default;

    /// Blocks until at least one byte is there and returns how many were copied; 0 with
    /// errc::end_of_stream once the peer closed and everything was read; 0 with the
    /// connection's error (connection_reset, timed_out ...) or bad_handle (closed here).
    /// An empty buffer returns 0 at once.
    std::size_t read(std::span<std::uint8_t> buffer, std::error_code& ec);
    /// As above; throws std::system_error, except at the end of the stream (returns 0).
    std::size_t read(std::span<std::uint8_t> buffer);
    /// Blocks until every byte is queued for sending; on an error, returns how many were.
    std::size_t write(std::span<const std::uint8_t> data, std::error_code& ec);
    /// As above; throws std::system_error.
    std::size_t write(std::span<const std::uint8_t> data);
    /// Closes the sending side: a FIN follows the queued data; reading goes on.
    std::error_code shutdown();
    /// Closes gracefully in the background (a reset if unread data is left, RFC 2525
    /// §2.17); the stream is empty afterwards. Wakes calls blocked on it (bad_handle).
    std::error_code close() { return close_handle(); }
    /// Resets the connection (RFC 9293 §3.10.5); the stream is empty afterwards.
    std::error_code abort();
    /// Nagle's algorithm off (true) or on (RFC 1122 §4.2.3.4).
    std::error_code set_nodelay(bool on);
    /// `ss -ti`-style statistics; all zero (CLOSED) for an empty stream.
    tcp::connection_info info() const;
    /// The stack's handle, for runtime::with_stack.
    tcpx::socket handle() const { return load_handle(); }
    /// Whether the stream holds a connection (not closed, aborted or moved from).
    explicit operator bool() const { return handle().valid(); }

private:
    template <device D, congestion_control C>
    friend class runtime;
    friend class listener;
    stream(std::shared_ptr<detail::core> c, tcpx::socket s) noexcept : owned_handle{std::move(c), s} {}
};

/// A listening port, from runtime::listen(). Movable, not copyable; the destructor
/// closes it.
class listener : private detail::owned_handle<tcpx::listener> {
public:
    listener() noexcept = default;
    listener(listener&&) noexcept = default;
    listener& operator=(listener&&) noexcept = default;
    ~listener() = default;

    /// Blocks until a connection completed its handshake and returns it; an empty
    /// stream with errc::bad_handle once the listener is closed (from any thread).
    stream accept(std::error_code& ec);
    /// As above; throws std::system_error.
    stream accept();
    /// Stops listening; connections not yet accepted are reset; blocked accepts return.
    std::error_code close() { return close_handle(); }
    tcpx::listener handle() const { return load_handle(); }
    explicit operator bool() const { return handle().valid(); }

private:
    template <device D, congestion_control C>
    friend class runtime;
    listener(std::shared_ptr<detail::core> c, tcpx::listener l) noexcept : owned_handle{std::move(c), l} {}
};

/// A stack on its own thread, for blocking calls.
///   Device             models tcpx::device (concepts.hpp); a tcpx::pollable_device (or
///                      one whose next_deadline() tells when packets arrive) to be woken
///                      by arrivals. A reference type (channel&) uses a device the caller
///                      owns; a value type is owned by the runtime, built in place.
///   CongestionControl  models tcpx::congestion_control; cc::reno unless named
/// The stack runs on clocks::steady. Not copyable, not movable (its thread points at it).
template <device Device, congestion_control CongestionControl>
class runtime {
public:
    using device_type = std::remove_reference_t<Device>;
    using stack_type = tcpx::stack<device_type&, clocks::steady, CongestionControl>;

    /// Takes the device (moved in, or a reference) and starts the stack thread.
    explicit runtime(Device device, config cfg = {})
        requires(std::is_reference_v<Device> || std::move_constructible<Device>);
    /// Builds the device in place from `device_args` (for a device that cannot move).
    template <class... Args>
    runtime(config cfg, std::in_place_t, Args&&... device_args);
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    /// stop(), then the stack and the device (if owned) go.
    ~runtime();

    /// Listens on `port` (errc::address_in_use if it is taken, invalid_argument for 0).
    listener listen(std::uint16_t port, std::size_t backlog, std::error_code& ec);
    listener listen(std::uint16_t port, std::size_t backlog = 128);
    /// Opens a connection and blocks until it is ESTABLISHED, or returns an empty stream
    /// with the reason: connection_refused, timed_out (config::connect_timeout) ...
    stream connect(wire::ipv4_address remote, std::uint16_t port, std::error_code& ec);
    stream connect(wire::ipv4_address remote, std::uint16_t port);

    /// Runs f(stack_type&) under the runtime's lock, for what the handles do not offer
    /// (counters(), set_keepalive, set_trace ...), and returns a copy of what f returns
    /// (a reference into the stack would outlive the lock). Calls that f makes wake
    /// blocked calls and the stack thread as the handles' calls do. f must not call the
    /// runtime or a handle: the lock is not recursive.
    template <class F>
    auto with_stack(F&& f);

    /// How many calls are blocked right now (tests wait for a thread to be blocked).
    std::size_t blocked_calls() const { return core_->blocked_calls(); }

    /// Stops the stack thread; every blocked call returns errc::stack_stopped, and so
    /// does every later call on a handle. From one thread, not from inside with_stack.
    void stop();

private:
    void run();

    detail::device_holder<Device> device_;
    stack_type stack_;
    detail::stack_adapter<stack_type> ops_;
    std::shared_ptr<detail::core> core_;
    std::thread thread_;
};

}  // namespace tcpx::blocking

#include <tcpx/impl/blocking.ipp>
