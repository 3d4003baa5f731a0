// Tests for tcpx/blocking.hpp, over tcpx/device/channel.hpp: two runtimes — each a stack
// on its own thread — at 10.0.0.1 (server) and 10.0.0.2 (client) on one in-memory link,
// and user threads that block in their calls. Real threads and the steady clock: a test
// waits for another thread only through the facade's own calls, or until it is blocked.
#include <tcpx/blocking.hpp>
#include <tcpx/device/channel.hpp>

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <ostream>  // doctest prints a failed std::error_code comparison through it
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include <poll.h>

using namespace std::chrono_literals;

namespace {

using tcpx::errc;
using client_runtime = tcpx::blocking::runtime<tcpx::devices::channel&>;

const tcpx::wire::ipv4_address server_address{10, 0, 0, 1};
const tcpx::wire::ipv4_address client_address{10, 0, 0, 2};
constexpr std::uint16_t echo_port = 7;

// ---- the thread-per-connection echo server of blocking.hpp, word for word ----

void serve_echo(tcpx::blocking::listener& l)
{
    std::vector<std::jthread> workers;
    std::error_code ec;
    while (auto s = l.accept(ec)) {  // blocks; fails once l is closed
        workers.emplace_back([s = std::move(s)]() mutable {
            std::uint8_t buf[16384];
            std::error_code ec;
            while (std::size_t n = s.read(buf, ec))  // 0: end of stream or error
                if (s.write({buf, n}, ec) != n) break;
        });  // s closes when its thread ends
    }
}  // joins every worker

// ---- helpers ----

/// Aborts the run if a test hangs: a lost wakeup would otherwise stall CI until its
/// own timeout, without saying where.
class watchdog {
public:
    explicit watchdog(std::chrono::seconds limit)
        : thread_{[this, limit] {
              std::unique_lock lock{mutex_};
              if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
                  std::fputs("tests/blocking: a test hung (a blocked call was never woken)\n", stderr);
                  std::abort();
              }
          }}
    {
    }
    ~watchdog()
    {
        {
            const std::lock_guard lock{mutex_};
            done_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

constexpr auto hang_limit = 30s;  // generous: ThreadSanitizer runs some ten times slower

tcpx::config config_for(tcpx::wire::ipv4_address a)
{
    tcpx::config cfg;
    cfg.address = a;
    return cfg;
}

/// The two hosts. The runtimes are optional so a test can destroy one.
struct two_hosts {
    tcpx::devices::channel_link link;
    std::optional<client_runtime> server{std::in_place, link.end(0), config_for(server_address)};
    std::optional<client_runtime> client{std::in_place, link.end(1), config_for(client_address)};
};

/// Returns once `n` calls sleep in `host`: the threads making them have blocked.
void wait_until_blocked(const client_runtime& host, std::size_t n)
{
    while (host.blocked_calls() < n) std::this_thread::sleep_for(1ms);
}

std::vector<std::uint8_t> pseudo_random_bytes(std::size_t n, std::uint64_t seed)
{
    std::vector<std::uint8_t> v(n);
    std::uint64_t x = seed * 0x9e37'79b9'7f4a'7c15u + 1;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b = static_cast<std::uint8_t>(x >> 32);
    }
    return v;
}

std::span<const std::uint8_t> bytes(std::string_view s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::vector<std::uint8_t> vec(std::string_view s)
{
    const auto b = bytes(s);
    return {b.begin(), b.end()};
}

/// Writes `data` in pseudo-random pieces of 1 B to 64 KiB; true if every byte was taken.
bool write_in_pieces(tcpx::blocking::stream& s, std::span<const std::uint8_t> data, std::uint64_t seed)
{
    std::uint64_t x = seed | 1;
    for (std::size_t at = 0; at < data.size();) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const std::size_t n = std::min<std::size_t>(data.size() - at, 1 + x % 65536);
        std::error_code ec;
        if (s.write(data.subspan(at, n), ec) != n || ec) return false;
        at += n;
    }
    return true;
}

/// Reads until read() returns 0; ec is then end_of_stream, or the error that ended it.
std::vector<std::uint8_t> read_to_end(tcpx::blocking::stream& s, std::error_code& ec)
{
    std::vector<std::uint8_t> got;
    std::uint8_t buf[7919];  // a prime: reads straddle segment boundaries
    while (const std::size_t n = s.read(buf, ec)) got.insert(got.end(), buf, buf + n);
    return got;
}

/// Connects to the echo server, writes `size` bytes from a second thread while this one
/// reads the echo, half-closes after the last byte; true when every byte came back in
/// order and the stream then ended.
bool echo_round_trip(client_runtime& host, std::size_t size, std::uint64_t seed)
{
    std::error_code ec;
    tcpx::blocking::stream s = host.connect(server_address, echo_port, ec);
    if (ec) return false;
    const auto sent = pseudo_random_bytes(size, seed);
    bool wrote = false;
    std::jthread writer{[&] { wrote = write_in_pieces(s, sent, seed) && !s.shutdown(); }};
    std::error_code read_ec;
    const auto got = read_to_end(s, read_ec);
    writer.join();
    return wrote && read_ec == errc::end_of_stream && got == sent;
}

/// An established connection's two ends.
struct connected_pair {
    tcpx::blocking::stream server;
    tcpx::blocking::stream client;
};

connected_pair connect_pair(two_hosts& h)
{
    tcpx::blocking::listener l = h.server->listen(echo_port, 4);
    // The handshake completes in the stacks' threads; accept() finds it queued (or
    // waits for the final ACK to be taken in).
    tcpx::blocking::stream client = h.client->connect(server_address, echo_port);
    tcpx::blocking::stream server = l.accept();
    return {std::move(server), std::move(client)};
}  // closing the listener leaves accepted connections alone

struct read_result {
    std::size_t n = 1;
    std::error_code ec;
};

/// Starts a read on the client's stream `s`, runs `event` once the reader sleeps, and
/// returns what the read returned when `event` woke it.
template <class Event>
read_result read_woken_by(two_hosts& h, tcpx::blocking::stream& s, Event event)
{
    read_result r;
    std::jthread reader{[&] {
        std::uint8_t buf[64];
        r.n = s.read(buf, r.ec);
    }};
    wait_until_blocked(*h.client, 1);
    event();
    reader.join();
    return r;
}

/// A device that cannot be moved, for the in-place constructor.
class pinned_channel {
public:
    explicit pinned_channel(tcpx::devices::channel& c) noexcept : c_{c} {}
    pinned_channel(const pinned_channel&) = delete;
    pinned_channel& operator=(const pinned_channel&) = delete;

    std::size_t mtu() const { return c_.mtu(); }
    int native_handle() const { return c_.native_handle(); }
    template <class F>
    std::size_t receive(tcpx::instant t, F&& f, std::size_t n) { return c_.receive(t, std::forward<F>(f), n); }
    std::span<std::uint8_t> transmit_buffer(std::size_t n) { return c_.transmit_buffer(n); }
    void transmit(std::size_t n, tcpx::instant t) { c_.transmit(n, t); }
    tcpx::instant next_deadline() const { return c_.next_deadline(); }

private:
    tcpx::devices::channel& c_;
};

static_assert(tcpx::pollable_device<pinned_channel>);
static_assert(!std::move_constructible<pinned_channel>);
// Only the in-place constructor can make it.
static_assert(!std::is_constructible_v<tcpx::blocking::runtime<pinned_channel>, pinned_channel, tcpx::config>);
static_assert(std::is_constructible_v<tcpx::blocking::runtime<pinned_channel>, tcpx::config, std::in_place_t,
                                      tcpx::devices::channel&>);
static_assert(!std::is_copy_constructible_v<tcpx::blocking::stream>);
static_assert(std::is_nothrow_move_constructible_v<tcpx::blocking::stream>);
static_assert(std::is_nothrow_move_assignable_v<tcpx::blocking::listener>);

}  // namespace

// ---- the channel under the runtimes ----

namespace {

bool readable_now(int fd)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

void send_packet(tcpx::devices::channel& end, std::string_view text)
{
    const auto room = end.transmit_buffer(text.size());
    REQUIRE(room.size() == text.size());
    std::memcpy(room.data(), text.data(), text.size());
    end.transmit(text.size(), tcpx::instant{});
}

}  // namespace

TEST_CASE("channel_packet_waiting_makes_native_handle_readable_until_all_are_received")
{
    tcpx::devices::channel_link link;
    tcpx::devices::channel& a = link.end(0);
    tcpx::devices::channel& b = link.end(1);
    CHECK_FALSE(readable_now(b.native_handle()));
    send_packet(a, "one");
    send_packet(a, "two");
    CHECK(readable_now(b.native_handle()));
    CHECK_FALSE(readable_now(a.native_handle()));
    std::vector<std::vector<std::uint8_t>> got;
    const auto keep = [&](std::span<const std::uint8_t> p) { got.emplace_back(p.begin(), p.end()); };
    CHECK(b.receive(tcpx::instant{}, keep, 1) == 1);
    CHECK(readable_now(b.native_handle()));  // one is still waiting
    CHECK(b.receive(tcpx::instant{}, keep, 8) == 1);
    CHECK_FALSE(readable_now(b.native_handle()));
    CHECK(got == std::vector{vec("one"), vec("two")});
    CHECK(a.counters().packets_sent == 2);
    CHECK(b.counters().packets_received == 2);
    CHECK(b.next_deadline() == tcpx::never);
}

TEST_CASE("channel_queue_full_drops_and_counts_on_the_sender")
{
    tcpx::devices::channel_link link{tcpx::devices::channel_config{.mtu = 100, .queue_bytes = 256}};
    tcpx::devices::channel& a = link.end(0);
    const std::string packet(100, 'x');
    for (int i = 0; i < 4; ++i) send_packet(a, packet);
    CHECK(link.end(1).waiting() == 2);  // 256 bytes hold two 100-byte packets and their framing
    CHECK(a.counters().dropped_queue_full == 2);
    CHECK(a.transmit_buffer(101).empty());
    CHECK(a.counters().dropped_too_big == 1);
}

// ---- data ----

TEST_CASE("blocking_echo_server_thread_per_connection_returns_every_byte_to_each_client")
{
    const watchdog dog{hang_limit};
    two_hosts h;
    tcpx::blocking::listener l = h.server->listen(echo_port, 16);
    std::jthread server{[&] { serve_echo(l); }};

    constexpr std::size_t clients = 3;
    std::array<bool, clients> ok{};
    {
        std::vector<std::jthread> threads;
        for (std::size_t i = 0; i < clients; ++i)
            threads.emplace_back([&, i] { ok[i] = echo_round_trip(*h.client, std::size_t{2} << 20, i + 1); });
    }
    for (std::size_t i = 0; i < clients; ++i) {
        CAPTURE(i);
        CHECK(ok[i]);
    }
    CHECK_FALSE(l.close());  // from this thread, while serve_echo sleeps in accept()
    server.join();
    CHECK(h.server->with_stack([](auto& st) { return st.counters().connections_accepted; }) == clients);
}

TEST_CASE("blocking_read_and_write_from_two_threads_on_one_stream_both_complete")
{
    // Both ends send 2 MiB while receiving the other's. With one thread per stream this
    // deadlocks as soon as both send buffers fill; with a reader and a writer it flows.
    const watchdog dog{hang_limit};
    two_hosts h;
    connected_pair p = connect_pair(h);
    const auto to_client = pseudo_random_bytes(std::size_t{2} << 20, 11);
    const auto to_server = pseudo_random_bytes(std::size_t{2} << 20, 12);
    bool server_wrote = false;
    bool client_wrote = false;
    std::vector<std::uint8_t> at_server;
    std::vector<std::uint8_t> at_client;
    std::error_code server_read_ec;
    std::error_code client_read_ec;
    {
        std::jthread server_writer{[&] { server_wrote = write_in_pieces(p.server, to_client, 5) && !p.server.shutdown(); }};
        std::jthread client_writer{[&] { client_wrote = write_in_pieces(p.client, to_server, 6) && !p.client.shutdown(); }};
        std::jthread server_reader{[&] { at_server = read_to_end(p.server, server_read_ec); }};
        at_client = read_to_end(p.client, client_read_ec);
    }
    CHECK(server_wrote);
    CHECK(client_wrote);
    CHECK(server_read_ec == errc::end_of_stream);
    CHECK(client_read_ec == errc::end_of_stream);
    CHECK(at_server == to_server);
    CHECK(at_client == to_client);
}

TEST_CASE("blocking_write_peer_window_full_blocks_until_peer_reads")
{
    // RFC 9293 §3.8.6: the peer's window and our send buffer bound what is queued; the
    // write sleeps once both are full and finishes only as the peer reads.
    const watchdog dog{hang_limit};
    two_hosts h;
    connected_pair p = connect_pair(h);
    const auto data = pseudo_random_bytes(std::size_t{2} << 20, 21);  // far more than the two 256 KiB buffers
    std::size_t written = 0;
    std::error_code write_ec;
    std::jthread writer{[&] { written = p.server.write(data, write_ec); }};
    wait_until_blocked(*h.server, 1);  // the send buffer is full: the write sleeps
    std::vector<std::uint8_t> got;
    std::uint8_t buf[65536];
    std::error_code read_ec;
    while (got.size() < data.size()) {
        const std::size_t n = p.client.read(buf, read_ec);
        if (n == 0) break;
        got.insert(got.end(), buf, buf + n);
    }
    writer.join();
    CHECK(written == data.size());
    CHECK_FALSE(write_ec);
    CHECK_FALSE(read_ec);
    CHECK(got == data);
}

// ---- closing ----

TEST_CASE("blocking_shutdown_peer_reads_end_of_stream_then_writes_back_until_close")
{
    // RFC 9293 §3.10.4: CLOSE (shutdown) ends only our sending side. The peer reads up to
    // our FIN, sends on from CLOSE-WAIT, and we read that, then its FIN.
    const watchdog dog{hang_limit};
    two_hosts h;
    tcpx::blocking::listener l = h.server->listen(echo_port, 4);
    const auto reply = pseudo_random_bytes(300'000, 9);
    std::vector<std::uint8_t> server_got;
    std::error_code server_read_ec;
    std::error_code server_write_ec;
    std::size_t server_wrote = 0;
    std::jthread server{[&] {
        std::error_code ec;
        tcpx::blocking::stream s = l.accept(ec);
        server_got = read_to_end(s, server_read_ec);
        server_wrote = s.write(reply, server_write_ec);
        (void)s.close();
    }};

    tcpx::blocking::stream c = h.client->connect(server_address, echo_port);
    CHECK(c.write(bytes("hello, half-closed world")) == 24);
    CHECK_FALSE(c.shutdown());
    std::error_code read_ec;
    const auto got = read_to_end(c, read_ec);
    server.join();

    CHECK(server_got == vec("hello, half-closed world"));
    CHECK(server_read_ec == errc::end_of_stream);
    CHECK(server_wrote == reply.size());
    CHECK_FALSE(server_write_ec);
    CHECK(got == reply);
    CHECK(read_ec == errc::end_of_stream);
    std::error_code ec;
    CHECK(c.write(bytes("late"), ec) == 0);  // "error: connection closing" (§3.10.2)
    CHECK(ec == errc::connection_closing);
}

TEST_CASE("blocking_read_peer_closes_returns_end_of_stream")
{
    const watchdog dog{hang_limit};
    two_hosts h;
    connected_pair p = connect_pair(h);
    const read_result r = read_woken_by(h, p.client, [&] { CHECK_FALSE(p.server.close()); });
    CHECK(r.n == 0);
    CHECK(r.ec == errc::end_of_stream);
    CHECK(p.client.info().state == tcpx::tcp::state::close_wait);
}

TEST_CASE("blocking_read_peer_aborts_returns_connection_reset")
{
    // RFC 9293 §3.10.7.4, second: a RST in a synchronized state; "any outstanding
    // RECEIVEs and SEND should receive 'reset' responses".
    const watchdog dog{hang_limit};
    two_hosts h;
    connected_pair p = connect_pair(h);
    const read_result r = read_woken_by(h, p.client, [&] { CHECK_FALSE(p.server.abort()); });
    CHECK(r.n == 0);
    CHECK(r.ec == errc::connection_reset);
    CHECK(r.ec == std::errc::connection_reset);
    CHECK_FALSE(p.server);
}

TEST_CASE("blocking_read_stream_closed_by_another_thread_returns_bad_handle")
{
    const watchdog dog{hang_limit};
    two_hosts h;
    connected_pair p = connect_pair(h);
    const read_result r = read_woken_by(h, p.client, [&] { CHECK_FALSE(p.client.close()); });
    CHECK(r.n == 0);
    CHECK(r.ec == errc::bad_handle);
    CHECK_FALSE(p.client);
    CHECK(p.client.close() == errc::bad_handle);
}

// ---- opening ----

TEST_CASE("blocking_accept_listener_closed_by_another_thread_returns_bad_handle")
{
    const watchdog dog{hang_limit};
    two_hosts h;
    tcpx::blocking::listener l = h.server->listen(echo_port, 4);
    bool got_stream = true;
    std::error_code ec;
    std::jthread acceptor{[&] { got_stream = static_cast<bool>(l.accept(ec)); }};
    wait_until_blocked(*h.server, 1);
    CHECK_FALSE(l.close());
    acceptor.join();
    CHECK_FALSE(got_stream);
    CHECK(ec == errc::bad_handle);
    CHECK_FALSE(l);
    std::error_code again;
    CHECK(h.server->listen(echo_port, 4, again));  // the port is free again
    CHECK_FALSE(again);
}

TEST_CASE("blocking_connect_no_listener_returns_connection_refused")
{
    // RFC 9293 §3.10.7.1: a SYN to a closed port is answered by RST; in SYN-SENT that
    // RST means "error: connection refused" (§3.10.7.3).
    const watchdog dog{hang_limit};
    two_hosts h;
    std::error_code ec;
    const tcpx::blocking::stream s = h.client->connect(server_address, 9, ec);
    CHECK_FALSE(s);
    CHECK(ec == errc::connection_refused);
    CHECK(ec == std::errc::connection_refused);
    CHECK_THROWS_AS((void)h.client->connect(server_address, 9), std::system_error);
    CHECK(h.client->with_stack([](auto& st) { return st.connection_count(); }) == 0);  // nothing left behind
}

TEST_CASE("blocking_listen_port_in_use_returns_address_in_use")
{
    const watchdog dog{hang_limit};
    two_hosts h;
    const tcpx::blocking::listener l = h.server->listen(echo_port, 4);
    std::error_code ec;
    CHECK_FALSE(h.server->listen(echo_port, 4, ec));
    CHECK(ec == errc::address_in_use);
    CHECK_THROWS_AS((void)h.server->listen(echo_port, 4), std::system_error);
}

// ---- stopping ----

TEST_CASE("blocking_calls_runtime_destroyed_return_stack_stopped")
{
    // Accept, read and write (two of them on one stream) sleep in the server runtime;
    // its destruction releases all three, and the handles outlive it harmlessly.
    const watchdog dog{hang_limit};
    two_hosts h;
    connected_pair p = connect_pair(h);
    tcpx::blocking::listener l = h.server->listen(8, 4);
    const auto big = pseudo_random_bytes(std::size_t{4} << 20, 3);  // the client never reads it
    std::error_code accept_ec;
    std::error_code read_ec;
    std::error_code write_ec;
    std::size_t written = 0;
    {
        std::jthread acceptor{[&] { (void)l.accept(accept_ec); }};
        std::jthread reader{[&] {
            std::uint8_t buf[64];
            (void)p.server.read(buf, read_ec);
        }};
        std::jthread writer{[&] { written = p.server.write(big, write_ec); }};
        wait_until_blocked(*h.server, 3);
        h.server.reset();
    }
    CHECK(accept_ec == errc::stack_stopped);
    CHECK(read_ec == errc::stack_stopped);
    CHECK(write_ec == errc::stack_stopped);
    CHECK(written < big.size());
    std::error_code ec;
    CHECK(p.server.write(bytes("x"), ec) == 0);
    CHECK(ec == errc::stack_stopped);
    CHECK(p.server.info().state == tcpx::tcp::state::closed);
    CHECK(p.server.close() == errc::stack_stopped);
    CHECK(l.close() == errc::stack_stopped);
}

TEST_CASE("blocking_connect_runtime_destroyed_returns_stack_stopped")
{
    // With the server gone nothing answers the SYN: connect() would wait for
    // config::connect_timeout, but the runtime's destruction ends it at once.
    const watchdog dog{hang_limit};
    two_hosts h;
    h.server.reset();
    bool got_stream = true;
    std::error_code ec;
    {
        std::jthread connector{[&] { got_stream = static_cast<bool>(h.client->connect(server_address, echo_port, ec)); }};
        wait_until_blocked(*h.client, 1);
        h.client.reset();
    }
    CHECK_FALSE(got_stream);
    CHECK(ec == errc::stack_stopped);
}

TEST_CASE("blocking_runtime_stopped_listen_and_connect_return_stack_stopped")
{
    const watchdog dog{hang_limit};
    two_hosts h;
    h.client->stop();
    h.client->stop();  // idempotent
    std::error_code ec;
    CHECK_FALSE(h.client->listen(echo_port, 4, ec));
    CHECK(ec == errc::stack_stopped);
    CHECK_FALSE(h.client->connect(server_address, echo_port, ec));
    CHECK(ec == errc::stack_stopped);
    CHECK(h.client->blocked_calls() == 0);
}

TEST_CASE("blocking_stack_stopped_is_its_own_error_meaning_operation_canceled")
{
    const std::error_code ec = errc::stack_stopped;
    CHECK(ec == std::errc::operation_canceled);
    CHECK(ec != errc::connection_aborted);
    CHECK(ec.message() == "the blocking runtime has stopped");
}

// ---- construction and the stack underneath ----

TEST_CASE("blocking_runtime_in_place_non_movable_device_carries_a_connection")
{
    const watchdog dog{hang_limit};
    tcpx::devices::channel_link link;
    tcpx::blocking::runtime<pinned_channel> server{config_for(server_address), std::in_place, link.end(0)};
    client_runtime client{link.end(1), config_for(client_address)};
    tcpx::blocking::listener l = server.listen(echo_port, 4);
    tcpx::blocking::stream c = client.connect(server_address, echo_port);
    tcpx::blocking::stream s = l.accept();
    CHECK_FALSE(c.set_nodelay(true));
    CHECK(c.info().state == tcpx::tcp::state::established);
    CHECK(c.write(bytes("ping")) == 4);
    CHECK_FALSE(c.shutdown());
    std::error_code ec;
    CHECK(read_to_end(s, ec) == vec("ping"));
    CHECK(ec == errc::end_of_stream);
    CHECK(server.with_stack([h = s.handle()](auto& st) { return st.peer_closed(h); }));
    CHECK(server.with_stack([](auto& st) { return st.counters().connections_accepted; }) == 1);
}
