// libFuzzer target: ip::reassembler alone, against a model of what it must hold. The
// input is a sequence of fragments, each of a fuzzer-chosen datagram (a key among six,
// more than the four slots, so the oldest is evicted), offset, length, MF flag and time
// step, with the data always taken from that datagram's pattern at its offset — so any
// two fragments of one datagram agree where they overlap, and a whole datagram must be
// exactly its header and the pattern. Now and then a fragment's data is spoiled in one
// byte, the header offered is too long, or the offset is not a multiple of 8.
// Have open: tcpx/ip/reassembly.hpp, RFC 791 §3.2, RFC 8200 §4.5, RFC 5722 §3,
// RFC 1122 §3.3.2.
//
// Checked after every fragment (a violation calls abort(), which libFuzzer reports):
//   - no crash, no read or write outside the buffers (ASan + UBSan);
//   - when add() says complete: complete() is the first fragment's header followed by
//     the pattern's bytes [0, length), length being where the last fragment ended;
//   - datagrams_held() <= 4, and equal to the model's count (a datagram is held from its
//     first accepted fragment until it completes and the next add() or expire() comes,
//     an overlap or inconsistency drops it, it is evicted as the oldest, or times out);
//   - every counter is what the outcomes add up to: fragments offered, reassembled,
//     duplicates, overlaps, malformed, evicted, timed out;
//   - next_deadline() is never later than the earliest timeout of a datagram held, and
//     expire() drops exactly those whose timeout has passed, quoting (for one whose
//     first fragment came) its header and the pattern from byte 0 as far as it arrived.
//
// Build by hand (meson builds it with -Dfuzz=true, clang only):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude
//           fuzz/reassembly.cpp -o /tmp/fuzz-reassembly
//   cp -r fuzz/corpus/reassembly /tmp/corpus
//   UBSAN_OPTIONS=halt_on_error=1 /tmp/fuzz-reassembly -max_total_time=60 /tmp/corpus
#include <tcpx/ip/reassembly.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuzz_assert.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace tcpx;
using namespace std::chrono_literals;

constexpr std::size_t slots = 4;
constexpr std::size_t keys = 6;
constexpr duration timeout = 30s;

// Byte i of datagram k's payload, and its header (of a length of its own).
std::uint8_t pattern(std::size_t k, std::size_t i)
{
    return static_cast<std::uint8_t>(((i + 1) * 2654435761u + k * 0x9e3779b9u) >> 19);
}
std::vector<std::uint8_t> header_of(std::size_t k)
{
    std::vector<std::uint8_t> h(20 + 8 * k);
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(0xa0 + k + i);
    return h;
}

ip::fragment_key key_of(std::size_t k)
{
    ip::fragment_key key;
    key.family = k < 4 ? 4 : 6;  // the same identification in either family is another datagram
    key.protocol = k < 4 ? 6 : 0;
    key.identification = static_cast<std::uint32_t>(k % 4);
    key.source[0] = 10;
    key.destination[0] = 10;
    key.destination[3] = 1;
    return key;
}

using tcpx::fuzz::input;

// What the reassembler should hold for one datagram.
struct model_datagram {
    bool held = false;
    std::uint64_t age = 0;
    instant first_arrival{};
    bool has_first = false;  // its first fragment (offset 0, with the header) was kept
    bool spoiled = false;    // a fragment with a spoiled byte was kept: no pattern to compare
};

class run {
public:
    void step(input& in)
    {
        const std::uint8_t how = in.u8();
        const std::size_t k = (how & 7u) % keys;
        const bool more = (how & 0x08) != 0;
        static constexpr std::array<duration, 4> step_of{0s, 1s, 10s, 31s};
        now_ += step_of[(how >> 4) & 3];
        const bool wide = (how & 0x40) != 0;
        std::size_t offset = (wide ? in.u16() % 8200u : in.u8()) * std::size_t{8};
        std::size_t length = wide ? in.u16() : in.u8();
        const std::uint8_t odd = (how & 0x80) ? in.u8() : 0;  // rare twists, below
        if (odd & 0x01) offset += 1 + odd % 7;                // no multiple of 8
        if (odd & 0x02) length = length % 8 + 1;              // short, the last's or a bad one

        // The stack's order: expire what is due before taking the packet (stack_input.ipp).
        check_deadline();
        if (r_.next_deadline() <= now_) expire();
        if (odd & 0x04) {
            r_.release_complete();
            if (completed_) release(*completed_);
        }

        std::vector<std::uint8_t> data(length);
        for (std::size_t i = 0; i < length; ++i) data[i] = pattern(k, offset + i);
        const bool spoil = (odd & 0x08) != 0 && !data.empty();
        if (spoil) data[data.size() / 2] ^= 0x5a;
        std::vector<std::uint8_t> header = offset == 0 ? header_of(k) : std::vector<std::uint8_t>{};
        if (offset == 0 && (odd & 0x10)) header.resize(ip::reassembler::header_room + 1, 0xee);

        const ip::fragment_outcome o = r_.add(key_of(k), offset, more, header, data, now_);
        ++expected_.fragments;
        follow(o, k, offset, data.size(), header.size(), spoil);
        check_bounds();
    }

    void finish()
    {
        // RFC 1122 §3.3.2: once the timeout has passed, nothing is held.
        now_ += timeout + 1s;
        check_deadline();
        expire();
        FUZZ_ASSERT(r_.datagrams_held() == 0);
        check_bounds();
    }

private:
    // The model's side of add(): which outcomes claim a slot, and what becomes of it.
    void follow(ip::fragment_outcome o, std::size_t k, std::size_t offset, std::size_t length,
                std::size_t header_length, bool spoil)
    {
        switch (o) {
        case ip::fragment_outcome::disabled: FUZZ_ASSERT(false); return;  // it has slots
        case ip::fragment_outcome::bad_length:
            FUZZ_ASSERT(length == 0 || (length % 8 != 0));
            ++expected_.malformed;
            return;
        case ip::fragment_outcome::too_large:
            FUZZ_ASSERT(offset % 8 != 0 || offset + length > ip::reassembler::max_payload);
            ++expected_.malformed;
            return;
        case ip::fragment_outcome::header_too_long:
            FUZZ_ASSERT(header_length > ip::reassembler::header_room);
            ++expected_.malformed;
            return;
        case ip::fragment_outcome::incomplete:
        case ip::fragment_outcome::complete:
        case ip::fragment_outcome::duplicate:
        case ip::fragment_outcome::overlap:
        case ip::fragment_outcome::inconsistent: break;
        }
        // Past the checks on the fragment alone: the datagram's slot is found or claimed,
        // which first frees the one complete() showed, then evicts the oldest if full.
        FUZZ_ASSERT(length != 0 && offset % 8 == 0 && offset + length <= ip::reassembler::max_payload);
        if (completed_) release(*completed_);
        model_datagram& d = model_[k];
        if (!d.held) {
            if (held() == slots) {
                model_datagram* oldest = nullptr;
                for (model_datagram& m : model_)
                    if (m.held && (oldest == nullptr || m.age < oldest->age)) oldest = &m;
                release(static_cast<std::size_t>(oldest - model_.data()));
                ++expected_.evicted;
            }
            d = model_datagram{true, ++ages_, now_, false, false};
        }
        switch (o) {
        case ip::fragment_outcome::incomplete:
        case ip::fragment_outcome::complete:
            d.has_first = d.has_first || offset == 0;
            d.spoiled = d.spoiled || spoil;
            break;
        case ip::fragment_outcome::duplicate: ++expected_.duplicates; break;
        case ip::fragment_outcome::overlap:
            ++expected_.overlaps;
            release(k);
            break;
        case ip::fragment_outcome::inconsistent:
            ++expected_.malformed;
            release(k);
            break;
        case ip::fragment_outcome::disabled:
        case ip::fragment_outcome::bad_length:
        case ip::fragment_outcome::too_large:
        case ip::fragment_outcome::header_too_long: FUZZ_ASSERT(false); break;  // returned above
        }
        if (o != ip::fragment_outcome::complete) {
            if (!completed_) FUZZ_ASSERT(r_.complete().empty());
            return;
        }
        ++expected_.reassembled;
        FUZZ_ASSERT(d.has_first);
        completed_ = k;
        check_complete(k, d);
    }

    // A whole datagram: its header, then the pattern from byte 0 to where the last ended.
    void check_complete(std::size_t k, const model_datagram& d)
    {
        const std::span<const std::uint8_t> whole = r_.complete();
        const std::vector<std::uint8_t> header = header_of(k);
        FUZZ_ASSERT(r_.complete_header_length() == header.size());
        FUZZ_ASSERT(whole.size() > header.size());
        FUZZ_ASSERT(whole.size() - header.size() <= ip::reassembler::max_payload);
        FUZZ_ASSERT(std::equal(header.begin(), header.end(), whole.begin()));
        if (d.spoiled) return;
        for (std::size_t i = header.size(); i < whole.size(); ++i) FUZZ_ASSERT(whole[i] == pattern(k, i - header.size()));
    }

    void expire()
    {
        std::array<bool, keys> quoted{};
        r_.expire(now_, [&](const ip::fragment_key& key, std::span<const std::uint8_t> first) {
            std::size_t k = keys;
            for (std::size_t j = 0; j < keys; ++j)
                if (key_of(j) == key) k = j;
            FUZZ_ASSERT(k < keys);
            FUZZ_ASSERT(!quoted[k]);
            quoted[k] = true;
            const model_datagram& d = model_[k];
            FUZZ_ASSERT(d.held && d.has_first && d.first_arrival + timeout <= now_);
            // RFC 1122 §3.3.2: what ICMP Time Exceeded quotes, the first fragment on.
            const std::vector<std::uint8_t> header = header_of(k);
            FUZZ_ASSERT(first.size() >= header.size());
            FUZZ_ASSERT(std::equal(header.begin(), header.end(), first.begin()));
            if (!d.spoiled)
                for (std::size_t i = header.size(); i < first.size(); ++i)
                    FUZZ_ASSERT(first[i] == pattern(k, i - header.size()));
        });
        if (completed_) release(*completed_);
        for (std::size_t k = 0; k < keys; ++k) {
            model_datagram& d = model_[k];
            if (!d.held || d.first_arrival + timeout > now_) {
                FUZZ_ASSERT(!quoted[k]);
                continue;
            }
            FUZZ_ASSERT(quoted[k] == d.has_first);
            ++expected_.timed_out;
            release(k);
        }
    }

    // next_deadline() may be early, never late (the stack expires nothing before it).
    void check_deadline()
    {
        for (const model_datagram& d : model_)
            if (d.held) FUZZ_ASSERT(r_.next_deadline() <= d.first_arrival + timeout);
    }

    void check_bounds()
    {
        FUZZ_ASSERT(r_.datagrams_held() <= slots);
        FUZZ_ASSERT(r_.datagrams_held() == held());
        const ip::reassembly_counters& c = r_.counters();
        FUZZ_ASSERT(c.fragments == expected_.fragments);
        FUZZ_ASSERT(c.reassembled == expected_.reassembled);
        FUZZ_ASSERT(c.timed_out == expected_.timed_out);
        FUZZ_ASSERT(c.evicted == expected_.evicted);
        FUZZ_ASSERT(c.overlaps == expected_.overlaps);
        FUZZ_ASSERT(c.duplicates == expected_.duplicates);
        FUZZ_ASSERT(c.malformed == expected_.malformed);
    }

    std::size_t held() const
    {
        return static_cast<std::size_t>(std::count_if(model_.begin(), model_.end(), [](const model_datagram& d) { return d.held; }));
    }
    void release(std::size_t k)
    {
        model_[k] = model_datagram{};
        if (completed_ == k) completed_.reset();
    }

    ip::reassembler r_{slots, timeout};
    instant now_{};
    std::array<model_datagram, keys> model_{};
    std::optional<std::size_t> completed_;  // the datagram complete() shows, until the next add() or expire()
    std::uint64_t ages_ = 0;
    ip::reassembly_counters expected_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    input in{{data, size}};
    run r;
    for (int steps = 0; !in.done() && steps < 300; ++steps) r.step(in);
    r.finish();
    return 0;
}
