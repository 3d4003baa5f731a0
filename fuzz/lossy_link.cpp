// libFuzzer target: two honest tcpx stacks, A and B, talking through a link the fuzzer
// owns. Neither peer is hostile; the fuzzer only decides, for every packet either one
// sends, whether the link delivers it (after 1 ms), drops it, duplicates it, delays it
// (so that later ones overtake it) or corrupts a byte of it — and how far the clock
// moves between steps. A sends B a stream and B sends one back, each as much as its
// send buffer takes; both read everything that arrives.
//
// Checked (a violation calls abort(), which libFuzzer reports):
//   - no crash or undefined behaviour (ASan + UBSan);
//   - every byte either side reads is the byte the other sent at that offset (a byte
//     of each stream is a function of its offset), so nothing is lost, repeated,
//     reordered or corrupted in the stream, whatever the link did;
//   - once the input is spent the link heals (every packet delivered in order after
//     1 ms); both sides shut down after all they sent, and within 15 simulated minutes
//     each has read the other's whole stream and its end — unless the connection
//     ended with an error the user is told of (error(s) set), such as the user timeout
//     the link's silence earned, and then what was read is still a prefix;
//   - at the end nothing is left: no connection, no chunk in either pool.
//
// Build by hand (meson builds it with -Dfuzz=true, clang only):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude
//           fuzz/lossy_link.cpp -o /tmp/fuzz-lossy-link
//   cp -r fuzz/corpus/lossy_link /tmp/corpus
//   UBSAN_OPTIONS=halt_on_error=1 /tmp/fuzz-lossy-link -max_total_time=60 /tmp/corpus
#include <tcpx/stack.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <span>
#include <vector>

#include "../tests/support/probe_device.hpp"
#include "fuzz_assert.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace tcpx;
using namespace std::chrono_literals;

constexpr wire::ipv4_address address_a{10, 0, 0, 1};
constexpr wire::ipv4_address address_b{10, 0, 0, 2};
constexpr std::uint16_t port = 80;

// The fuzzer's input, a byte at a time; zeros (deliver, advance 0) once it runs out.
using tcpx::fuzz::input;

// Byte k of the stream from A (salt 0) or from B (salt 1).
std::uint8_t stream_byte(std::uint64_t k, unsigned salt)
{
    return static_cast<std::uint8_t>(((k + salt * 977) * 2654435761u) >> 24);
}

using stack_type = stack<test::probe_device&, clocks::manual, cc::newreno>;

config side_config(wire::ipv4_address a, std::uint64_t secret)
{
    config c;
    c.address = a;
    c.isn_secret = std::array<std::uint64_t, 2>{secret, secret + 1};
    c.receive_buffer = 32 * 1024;
    c.send_buffer = 32 * 1024;
    c.pool_bytes = 64 * tcp::chunk_pool::chunk_size;
    c.max_connections = 4;
    c.user_timeout = 60s;
    c.connect_timeout = 60s;
    c.msl = 5s;
    return c;
}

// One end: its stack, the socket, what it sent and read.
struct end_point {
    test::probe_device dev;
    stack_type st;
    socket s{};
    unsigned salt;
    std::uint64_t sent = 0, read = 0;
    std::uint64_t to_send;  // the stream's length
    bool shut = false, eof = false;

    end_point(clocks::manual_timeline& t, config c, unsigned salt_, std::uint64_t length)
        : st{dev, clocks::manual{t}, c}, salt{salt_}, to_send{length}
    {
    }

    // Sends what the send buffer takes, and shuts down once the whole stream is in.
    void write()
    {
        if (!s || shut) return;
        std::array<std::uint8_t, 4096> buf;
        std::error_code ec;
        while (sent < to_send && st.writable(s)) {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), to_send - sent));
            for (std::size_t i = 0; i < n; ++i) buf[i] = stream_byte(sent + i, salt);
            const std::size_t k = st.send(s, {buf.data(), n}, ec);
            if (k == 0) break;
            sent += k;
        }
        if (sent == to_send && !st.shutdown(s)) shut = true;
    }

    // Reads all that arrived, checking each byte against the peer's stream.
    void drain(unsigned peer_salt)
    {
        if (!s) return;
        std::array<std::uint8_t, 4096> buf;
        std::error_code ec;
        for (;;) {
            const std::size_t n = st.receive(s, buf, ec);
            for (std::size_t i = 0; i < n; ++i) FUZZ_ASSERT(buf[i] == stream_byte(read + i, peer_salt));
            read += n;
            if (n == 0) break;
        }
        // Nothing left to read and the peer's FIN in: the end of its stream.
        if (st.peer_closed(s)) eof = true;
    }
};

// A packet on the link: its bytes, where it goes, when it arrives.
struct in_flight {
    std::vector<std::uint8_t> bytes;
    bool to_b;
    instant at;
};

class run {
public:
    explicit run(input& in)
        : a_{time_, side_config(address_a, 11), 0, 1 + std::uint64_t{in.u8()} * 251},
          b_{time_, side_config(address_b, 21), 1, 1 + std::uint64_t{in.u8()} * 251}
    {
        std::error_code ec;
        listener_ = b_.st.listen(port, 4, ec);
        FUZZ_ASSERT(!ec);
        a_.s = a_.st.connect(address_b, port, ec);
        FUZZ_ASSERT(!ec);
    }

    // One step of the fuzzed phase: both stacks work, the link treats what they sent as
    // the input says, the clock moves by 0-255 ms.
    void step(input& in)
    {
        work();
        carry(in, false);
        advance(std::chrono::milliseconds{in.u8()});
    }

    // The link heals: everything delivered in order; run until both ends are done.
    void heal()
    {
        const instant give_up = time_.now() + 15min;
        while (time_.now() < give_up && !(finished(a_) && finished(b_))) {
            work();
            input none{{}};
            carry(none, true);
            instant next = std::min({a_.st.next_deadline(), b_.st.next_deadline(), give_up});
            for (const auto& p : link_) next = std::min(next, p.at);
            time_.advance_to(std::max(next, time_.now() + 1us));
            deliver();
        }
        work();
        check_end(a_, b_);
        check_end(b_, a_);
        // Nothing left once both let go and the clock runs past TIME-WAIT.
        (void)a_.st.abort(a_.s);
        (void)b_.st.abort(b_.s);
        (void)b_.st.close(listener_);
        for (int i = 0; i < 20000 && a_.st.connection_count() + b_.st.connection_count() != 0; ++i) {
            const instant next = std::min(a_.st.poll(), b_.st.poll());
            a_.dev.outbox.clear();
            b_.dev.outbox.clear();
            time_.advance_to(next == never ? time_.now() + 1h : std::max(next, time_.now() + 1ms));
        }
        FUZZ_ASSERT(a_.st.connection_count() == 0);
        FUZZ_ASSERT(b_.st.connection_count() == 0);
        FUZZ_ASSERT(a_.st.pool().bytes_in_use() == 0);
        FUZZ_ASSERT(b_.st.pool().bytes_in_use() == 0);
    }

private:
    void work()
    {
        a_.st.poll();
        b_.st.poll();
        if (!b_.s) {
            std::error_code ec;
            b_.s = b_.st.accept(listener_, ec);
        }
        for (end_point* e : {&a_, &b_}) {
            e->write();
            e->drain(e == &a_ ? 1 : 0);
        }
        a_.st.poll();
        b_.st.poll();
    }

    // Moves every packet the stacks sent onto the link, each treated as the input says.
    void carry(input& in, bool healed)
    {
        for (end_point* e : {&a_, &b_}) {
            for (auto& p : e->dev.outbox) {
                const std::uint8_t what = healed ? 0 : in.u8();
                const instant at = time_.now() + 1ms;
                const bool to_b = e == &a_;
                switch (what >> 5) {
                case 0: case 1: case 2: case 3:  // delivered (half the choices)
                    link_.push_back({std::move(p), to_b, at});
                    break;
                case 4:  // dropped
                    break;
                case 5:  // duplicated
                    link_.push_back({p, to_b, at});
                    link_.push_back({std::move(p), to_b, at + std::chrono::milliseconds{what & 31}});
                    break;
                case 6:  // delayed: later packets overtake it
                    link_.push_back({std::move(p), to_b, at + std::chrono::milliseconds{1 + (what & 31) * 8}});
                    break;
                default: {  // one byte corrupted: the checksums must catch it
                    const std::uint8_t pos = in.u8(), flip = in.u8();
                    if (!p.empty()) p[pos % p.size()] ^= static_cast<std::uint8_t>(flip | 1);
                    link_.push_back({std::move(p), to_b, at});
                }
                }
            }
            e->dev.outbox.clear();
        }
    }

    void advance(duration d)
    {
        time_.advance_to(time_.now() + d);
        deliver();
    }

    // Hands every packet whose time has come to its destination, in arrival order.
    void deliver()
    {
        std::stable_sort(link_.begin(), link_.end(), [](const in_flight& x, const in_flight& y) { return x.at < y.at; });
        while (!link_.empty() && link_.front().at <= time_.now()) {
            (link_.front().to_b ? b_ : a_).dev.inbox.push_back(std::move(link_.front().bytes));
            link_.pop_front();
        }
    }

    static bool finished(const end_point& e)
    {
        if (!e.s) return false;
        const tcp::state st = e.st.state(e.s);
        return (e.eof && e.shut && (st == tcp::state::closed || st == tcp::state::time_wait)) ||
               (st == tcp::state::closed && e.st.error(e.s));
    }

    // `e` read all of `peer`'s stream and its end, or its connection ended with an error
    // it is told of (what it read is then a prefix, checked byte by byte on the way).
    static void check_end(const end_point& e, const end_point& peer)
    {
        if (!e.s) {  // never accepted: B's listener saw no handshake complete
            FUZZ_ASSERT(peer.s && peer.st.error(peer.s));
            return;
        }
        if (e.st.error(e.s) || (peer.s && peer.st.error(peer.s))) return;
        FUZZ_ASSERT(e.read == peer.to_send);
        FUZZ_ASSERT(e.eof);
        FUZZ_ASSERT(peer.sent == peer.to_send);
    }

    clocks::manual_timeline time_;
    end_point a_, b_;
    listener listener_{};
    std::deque<in_flight> link_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    input in{{data, size}};
    run r{in};
    for (int steps = 0; !in.done() && steps < 300; ++steps) r.step(in);
    r.heal();
    return 0;
}
