#include <tcpx/wire/checksum.hpp>
#include <doctest/doctest.h>

// The Internet checksum (RFC 1071, RFC 1624, RFC 9293 §3.1 pseudo-header),
// checked against byte-exact vectors and against the plainest implementation
// of RFC 1071 §1 that can be written, over many random buffers and splits.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <boost/endian/conversion.hpp>

namespace {

using tcpx::wire::checksum_accumulator;
using bytes = std::vector<std::uint8_t>;

// RFC 1071 §1 word for word: pair adjacent bytes into big-endian 16-bit
// numbers (the last odd byte padded with zero), add them with deferred carries,
// fold the carries back in.
std::uint16_t reference_sum(std::span<const std::uint8_t> b)
{
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < b.size(); i += 2) {
        const std::uint32_t hi = b[i];
        const std::uint32_t lo = i + 1 < b.size() ? b[i + 1] : 0;
        s += (hi << 8) | lo;
    }
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}

bytes random_bytes(std::mt19937& rng, std::size_t n)
{
    std::uniform_int_distribution<int> byte(0, 255);
    bytes b(n);
    for (auto& x : b)
        x = static_cast<std::uint8_t>(byte(rng));
    return b;
}

// Adds `b` as a random sequence of runs: empty, odd and even lengths mixed.
void add_in_random_runs(checksum_accumulator& acc, std::span<const std::uint8_t> b, std::mt19937& rng)
{
    std::uniform_int_distribution<std::size_t> run(0, 70);
    std::size_t at = 0;
    while (at < b.size()) {
        const std::size_t len = std::min(run(rng), b.size() - at);
        acc.add(b.subspan(at, len));
        at += len;
    }
}

std::uint16_t load16(const bytes& b, std::size_t at) { return boost::endian::load_big_u16(b.data() + at); }
void store16(bytes& b, std::size_t at, std::uint16_t v) { boost::endian::store_big_u16(b.data() + at, v); }

// A header-like buffer whose checksum field (offset 10, as in IPv4) holds its
// checksum; byte 0 is never zero, as in any real IP or TCP header.
constexpr std::size_t checksum_at = 10;
bytes random_header(std::mt19937& rng, std::size_t n)
{
    bytes h = random_bytes(rng, n);
    h[0] = 0x45;
    store16(h, checksum_at, 0);
    store16(h, checksum_at, tcpx::wire::internet_checksum(h));
    return h;
}

std::uint16_t recomputed(bytes h)
{
    store16(h, checksum_at, 0);
    return tcpx::wire::internet_checksum(h);
}

}  // namespace

TEST_CASE("checksum_rfc1071_numerical_example")
{
    // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 in big-endian order.
    const std::array<std::uint8_t, 8> data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    checksum_accumulator acc;
    acc.add(data);
    CHECK(acc.sum() == 0xddf2);
    CHECK(acc.finish() == 0x220d);
    CHECK(tcpx::wire::internet_checksum(data) == 0x220d);

    // The same words byte-swapped sum to the byte-swapped result (RFC 1071 §2(B)).
    const std::array<std::uint8_t, 8> swapped{0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6};
    checksum_accumulator acc_swapped;
    acc_swapped.add(swapped);
    CHECK(acc_swapped.sum() == 0xf2dd);

    // Split at an odd byte, the runs still add up to the whole.
    checksum_accumulator split;
    split.add(std::span{data}.first(3));
    split.add(std::span{data}.subspan(3));
    CHECK(split.sum() == 0xddf2);
}

TEST_CASE("checksum_ipv4_header_vector_computes_and_verifies")
{
    // RFC 791 §3.1: the checksum covers the header with its checksum field zero.
    bytes header{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    CHECK(tcpx::wire::internet_checksum(header) == 0xb861);

    // With the checksum in place the header sums to -0, so finish() is 0.
    store16(header, checksum_at, 0xb861);
    checksum_accumulator acc;
    acc.add(header);
    CHECK(acc.sum() == 0xFFFF);
    CHECK(acc.finish() == 0);
    CHECK(tcpx::wire::internet_checksum(header) == 0);

    // One flipped bit anywhere is caught.
    for (std::size_t i = 0; i < header.size(); ++i) {
        bytes corrupt = header;
        corrupt[i] ^= 0x10;
        CHECK(tcpx::wire::internet_checksum(corrupt) != 0);
    }
}

TEST_CASE("checksum_zero_and_minus_zero_are_told_apart_as_rfc1071_folds")
{
    // Nothing added, or only zero bytes: +0, so the stored checksum is 0xFFFF.
    checksum_accumulator empty;
    CHECK(empty.sum() == 0);
    CHECK(empty.finish() == 0xFFFF);
    empty.add({});
    CHECK(empty.sum() == 0);
    CHECK(tcpx::wire::internet_checksum(std::span<const std::uint8_t>{}) == 0xFFFF);
    const bytes zeros(777, 0);
    CHECK(tcpx::wire::internet_checksum(zeros) == 0xFFFF);

    // Non-zero words that add to a multiple of 0xFFFF fold to -0 (0xFFFF), never +0.
    const std::array<std::uint8_t, 4> cancel{0x00, 0x01, 0xff, 0xfe};
    CHECK(tcpx::wire::internet_checksum(cancel) == 0);
    const bytes ones(3 * 1024 * 1024, 0xFF);
    checksum_accumulator acc;
    acc.add(ones);
    CHECK(acc.sum() == 0xFFFF);
    // One more 0xFF is a word 0xFF00 (RFC 1071 §1 pads it): -0 + 0xFF00.
    acc.add(std::span{ones}.first(1));
    CHECK(acc.sum() == 0xFF00);
}

TEST_CASE("checksum_detail_carry_and_fold_limits")
{
    // Internals reached only by inputs of many GiB, so checked directly.
    using tcpx::wire::detail::add_end_around;
    using tcpx::wire::detail::fold;
    // The carry out of bit 63 comes back in, and a non-zero sum never becomes +0.
    CHECK(add_end_around(~std::uint64_t{0}, 1) == 1);
    CHECK(add_end_around(std::uint64_t{1} << 63, std::uint64_t{1} << 63) == 1);
    CHECK(add_end_around(0, 0) == 0);
    // 2^48 + 2^32 - 1 is 1 modulo 0xFFFF and needs all four folding steps.
    CHECK(fold(0x0001'0000'FFFF'FFFFu) == 1);
    CHECK(fold(~std::uint64_t{0}) == 0xFFFF);
    CHECK(fold(0) == 0);
}

TEST_CASE("checksum_whole_buffers_match_reference_at_every_alignment")
{
    std::mt19937 rng(1071);
    const bytes pool = random_bytes(rng, 2000 + 16);
    for (std::size_t offset = 0; offset < 16; ++offset) {
        for (std::size_t len = 0; len <= 2000; len += (len < 200 ? 1 : 37)) {
            const std::span<const std::uint8_t> b = std::span{pool}.subspan(offset, len);
            checksum_accumulator acc;
            acc.add(b);
            CAPTURE(offset);
            CAPTURE(len);
            CHECK(acc.sum() == reference_sum(b));
        }
    }
    // Carries out of every accumulator: all-0xFF and large random buffers.
    for (const std::size_t len : {std::size_t{4096}, std::size_t{65536 + 5}, std::size_t{1 << 20}}) {
        const bytes ff(len, 0xFF);
        const bytes random = random_bytes(rng, len);
        CHECK(tcpx::wire::internet_checksum(ff) == static_cast<std::uint16_t>(~reference_sum(ff)));
        CHECK(tcpx::wire::internet_checksum(random) == static_cast<std::uint16_t>(~reference_sum(random)));
    }
}

TEST_CASE("checksum_odd_length_runs_match_reference")
{
    std::mt19937 rng(20240601);
    std::uniform_int_distribution<std::size_t> length(0, 2000);
    for (int round = 0; round < 2000; ++round) {
        // Every odd length up to 64 explicitly, then lengths anywhere up to 2000.
        const std::size_t len = round < 65 ? static_cast<std::size_t>(round) : length(rng);
        const bytes b = random_bytes(rng, len);
        checksum_accumulator acc;
        add_in_random_runs(acc, b, rng);
        CAPTURE(len);
        CHECK(acc.sum() == reference_sum(b));
        CHECK(acc.finish() == static_cast<std::uint16_t>(~reference_sum(b)));
    }
    // Runs of one byte each: every run after the first odd one starts mid-word.
    const bytes b = random_bytes(rng, 301);
    checksum_accumulator bytewise;
    for (std::size_t i = 0; i < b.size(); ++i)
        bytewise.add(std::span{b}.subspan(i, 1));
    CHECK(bytewise.sum() == reference_sum(b));
}

TEST_CASE("checksum_stored_checksum_verifies_for_random_headers")
{
    std::mt19937 rng(791);
    std::uniform_int_distribution<std::size_t> words(6, 30);
    for (int round = 0; round < 500; ++round) {
        const bytes h = random_header(rng, 2 * words(rng));
        checksum_accumulator acc;
        add_in_random_runs(acc, h, rng);
        CHECK(acc.sum() == 0xFFFF);
        CHECK(acc.finish() == 0);
    }
}

TEST_CASE("checksum_add_u16_and_add_u32_match_adding_their_big_endian_bytes")
{
    std::mt19937 rng(16);
    std::uniform_int_distribution<std::uint32_t> u32;
    for (int round = 0; round < 2000; ++round) {
        // A prefix of 0..7 bytes puts the field at even and at odd positions.
        const bytes prefix = random_bytes(rng, static_cast<std::size_t>(round % 8));
        const bytes suffix = random_bytes(rng, static_cast<std::size_t>(round % 5));
        const std::uint32_t v32 = round < 8 ? 0xFFFF'FFFFu : u32(rng);
        const auto v16 = static_cast<std::uint16_t>(round < 16 ? 0xFFFFu : v32 >> 7);

        bytes as_bytes = prefix;
        as_bytes.insert(as_bytes.end(), {static_cast<std::uint8_t>(v16 >> 8), static_cast<std::uint8_t>(v16)});
        std::array<std::uint8_t, 4> be32{};
        boost::endian::store_big_u32(be32.data(), v32);
        as_bytes.insert(as_bytes.end(), be32.begin(), be32.end());
        as_bytes.insert(as_bytes.end(), suffix.begin(), suffix.end());

        checksum_accumulator acc;
        acc.add(prefix);
        acc.add_u16(v16);
        acc.add_u32(v32);
        acc.add(suffix);
        CAPTURE(prefix.size());
        CHECK(acc.sum() == reference_sum(as_bytes));
    }
}

TEST_CASE("checksum_update_16bit_matches_recomputation")
{
    std::mt19937 rng(1624);
    std::uniform_int_distribution<int> any16(0, 0xFFFF);
    std::uniform_int_distribution<std::size_t> word(1, 19);
    const std::array<std::uint16_t, 5> edges{0x0000, 0xFFFF, 0x0001, 0xFFFE, 0x8000};
    for (int round = 0; round < 20000; ++round) {
        bytes h = random_header(rng, 40);
        std::size_t at = 2 * word(rng);
        if (at == checksum_at)
            at += 2;
        const auto pick = [&](int k) {
            return k < 5 ? edges[static_cast<std::size_t>(k)] : static_cast<std::uint16_t>(any16(rng));
        };
        const std::uint16_t m = pick(round % 7);
        std::uint16_t m2 = pick((round / 7) % 7);
        // Give the old field its value and a correct checksum.
        store16(h, at, m);
        store16(h, checksum_at, recomputed(h));
        if (round % 11 == 0) {
            // Choose m' so the new checksum is 0x0000: the case eqn. 2 gets
            // wrong by answering -0 (RFC 1624 §3).
            bytes rest = h;
            store16(rest, at, 0);
            store16(rest, checksum_at, 0);
            m2 = static_cast<std::uint16_t>(~reference_sum(rest));
        }
        const std::uint16_t hc = load16(h, checksum_at);
        store16(h, at, m2);
        const std::uint16_t expected = recomputed(h);
        CAPTURE(hc);
        CAPTURE(m);
        CAPTURE(m2);
        CHECK(tcpx::wire::checksum_update(hc, m, m2) == expected);
    }
}

TEST_CASE("checksum_update_rfc1624_examples")
{
    // RFC 1624 §4: eqn. 2 gives 0xFFFF here; the from-scratch answer, and eqn. 3's, is 0x0000.
    CHECK(tcpx::wire::checksum_update(std::uint16_t{0xDD2F}, std::uint16_t{0x5555}, std::uint16_t{0x3285}) == 0x0000);
    // An unchanged field leaves a checksum of 0x0000 alone (the case raised in
    // RFC 1624 erratum 4782, which miscounted the end-around carry).
    CHECK(tcpx::wire::checksum_update(std::uint16_t{0x0000}, std::uint16_t{0x5555}, std::uint16_t{0x5555}) == 0x0000);
    CHECK(tcpx::wire::checksum_update(std::uint16_t{0x1234}, std::uint32_t{0xC0A80001}, std::uint32_t{0xC0A80001}) == 0x1234);
}

TEST_CASE("checksum_update_32bit_matches_recomputation")
{
    std::mt19937 rng(9293);
    std::uniform_int_distribution<std::uint32_t> any32;
    std::uniform_int_distribution<std::size_t> word(1, 18);
    const std::array<std::uint32_t, 6> edges{0, 0xFFFF'FFFFu, 0xFFFF'0000u, 0x0000'FFFFu, 1, 0x8000'0000u};
    for (int round = 0; round < 20000; ++round) {
        bytes h = random_header(rng, 40);
        std::size_t at = 2 * word(rng);  // 32-bit fields at offsets 2 mod 4 too
        if (at + 4 > checksum_at && at < checksum_at + 2)
            at = checksum_at + 2;
        const auto pick = [&](int k) { return k < 6 ? edges[static_cast<std::size_t>(k)] : any32(rng); };
        const std::uint32_t m = pick(round % 8);
        const std::uint32_t m2 = pick((round / 8) % 8);
        boost::endian::store_big_u32(h.data() + at, m);
        store16(h, checksum_at, recomputed(h));
        const std::uint16_t hc = load16(h, checksum_at);
        boost::endian::store_big_u32(h.data() + at, m2);
        CAPTURE(m);
        CAPTURE(m2);
        CHECK(tcpx::wire::checksum_update(hc, m, m2) == recomputed(h));
    }
}

TEST_CASE("checksum_ipv4_pseudo_header_matches_hand_built_bytes")
{
    // RFC 9293 §3.1: source, destination, zero, PTCL, TCP length.
    const bytes pseudo{0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7, 0x00, 0x06, 0x05, 0xdc};
    for (std::size_t prefix_len = 0; prefix_len < 4; ++prefix_len) {
        const bytes prefix(prefix_len, 0x5a);
        checksum_accumulator acc;
        acc.add(prefix);
        tcpx::wire::add_ipv4_pseudo_header(acc, 0xc0a80001, 0xc0a800c7, 6, 1500);
        acc.add(std::span{pseudo}.first(3));  // then more bytes, at the parity the pseudo-header left

        bytes expected = prefix;
        expected.insert(expected.end(), pseudo.begin(), pseudo.end());
        expected.insert(expected.end(), pseudo.begin(), pseudo.begin() + 3);
        CAPTURE(prefix_len);
        CHECK(acc.sum() == reference_sum(expected));
    }
    std::mt19937 rng(6);
    std::uniform_int_distribution<std::uint32_t> any32;
    for (int round = 0; round < 200; ++round) {
        const std::uint32_t src = any32(rng), dst = any32(rng);
        const auto proto = static_cast<std::uint8_t>(any32(rng));
        const auto len = static_cast<std::uint16_t>(any32(rng));
        bytes b(12, 0);
        boost::endian::store_big_u32(b.data(), src);
        boost::endian::store_big_u32(b.data() + 4, dst);
        b[9] = proto;
        store16(b, 10, len);
        checksum_accumulator acc;
        tcpx::wire::add_ipv4_pseudo_header(acc, src, dst, proto, len);
        CHECK(acc.sum() == reference_sum(b));
    }
}

TEST_CASE("copy_and_add_copies_exactly_and_sums_at_every_alignment")
{
    std::mt19937 rng(3);
    constexpr std::size_t max_len = 300, slack = 16, guard = 0xA5;
    const bytes source = random_bytes(rng, max_len + 2 * slack);
    int failures = 0;  // 77,056 cases: details are checked (and printed) only for failing ones
    for (std::size_t src_align = 0; src_align < 16; ++src_align) {
        for (std::size_t dst_align = 0; dst_align < 16; ++dst_align) {
            for (std::size_t len = 0; len <= max_len; ++len) {
                bytes target(max_len + 2 * slack, guard);
                const auto src = std::span{source}.subspan(src_align, len);
                // dst is longer than src: the bytes past src.size() must stay untouched.
                const auto dst = std::span{target}.subspan(dst_align, len + 8);
                checksum_accumulator acc;
                tcpx::wire::copy_and_add(acc, dst, src);
                const bool copied = std::equal(src.begin(), src.end(), target.begin() + static_cast<std::ptrdiff_t>(dst_align));
                const bool before_untouched = std::all_of(target.begin(), target.begin() + static_cast<std::ptrdiff_t>(dst_align),
                                                          [](std::uint8_t x) { return x == guard; });
                const bool after_untouched = std::all_of(target.begin() + static_cast<std::ptrdiff_t>(dst_align + len), target.end(),
                                                         [](std::uint8_t x) { return x == guard; });
                if (!copied || !before_untouched || !after_untouched || acc.sum() != reference_sum(src)) {
                    ++failures;
                    CAPTURE(src_align);
                    CAPTURE(dst_align);
                    CAPTURE(len);
                    CHECK(copied);
                    CHECK(before_untouched);
                    CHECK(after_untouched);
                    CHECK(acc.sum() == reference_sum(src));
                }
            }
        }
    }
    CHECK(failures == 0);
}

TEST_CASE("copy_and_add_large_payloads_continue_the_running_sum_either_side")
{
    std::mt19937 rng(4);
    for (const std::size_t len : {std::size_t{4095}, std::size_t{4096}, std::size_t{4097}, std::size_t{8193},
                                  std::size_t{65536 + 3}, std::size_t{1 << 20}}) {
        for (std::size_t lead = 0; lead < 2; ++lead) {
            // A header of `lead` bytes first, so the payload starts at an odd position too.
            const bytes head = random_bytes(rng, 20 + lead);
            const bytes payload = random_bytes(rng, len);
            bytes out(len + 1, 0xEE);
            const bytes trailer = random_bytes(rng, 3);
            checksum_accumulator acc;
            acc.add(head);
            tcpx::wire::copy_and_add(acc, out, payload);
            acc.add(trailer);  // continues at the parity the payload left

            bytes whole = head;
            whole.insert(whole.end(), payload.begin(), payload.end());
            whole.insert(whole.end(), trailer.begin(), trailer.end());
            CAPTURE(len);
            CAPTURE(lead);
            CHECK(std::equal(payload.begin(), payload.end(), out.begin()));
            CHECK(out.back() == 0xEE);
            CHECK(acc.sum() == reference_sum(whole));
        }
    }
}

TEST_CASE("copy_and_add_overlapping_spans_behave_as_memmove")
{
    std::mt19937 rng(5);
    const bytes original = random_bytes(rng, 600);
    for (const std::ptrdiff_t shift : {-17, -1, 0, 1, 2, 33}) {
        bytes buffer = original;
        bytes expected = original;
        const std::size_t from = 100, len = 400;
        const auto to = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(from) + shift);
        std::memmove(expected.data() + to, expected.data() + from, len);

        checksum_accumulator acc;
        tcpx::wire::copy_and_add(acc, std::span{buffer}.subspan(to, len),
                                 std::span<const std::uint8_t>{buffer}.subspan(from, len));
        CAPTURE(shift);
        CHECK(buffer == expected);
        CHECK(acc.sum() == reference_sum(std::span{original}.subspan(from, len)));
    }
}

// checksum_wide.ipp: the vector loop folds its lanes every 2^14 blocks (512 KiB) so that
// no 32-bit lane can overflow. All-0xFF input is the worst case for every lane; lengths
// either side of one and two batches, and odd block counts, must still match the
// byte-wise reference, summed and copied.
TEST_CASE("checksum_wide_loop_batches_match_reference_at_the_overflow_bounds")
{
#if TCPX_CHECKSUM_WIDE
    if (!tcpx::wire::detail::cpu_has_avx2()) {
        MESSAGE("this CPU has no AVX2: the scalar loop serves every run (tested above)");
        return;
    }
#endif
    std::mt19937 rng(14);
    constexpr std::size_t batch = std::size_t{32} << 14;
    for (const std::size_t len : {batch - 32, batch - 1, batch, batch + 32 + 7, 2 * batch, 2 * batch + 96 + 5}) {
        for (const bool random : {false, true}) {
            const bytes b = random ? random_bytes(rng, len) : bytes(len, 0xFF);
            bytes copy(len, 0);
            checksum_accumulator summed;
            summed.add(b);
            checksum_accumulator copied;
            tcpx::wire::copy_and_add(copied, copy, b);
            CAPTURE(len);
            CAPTURE(random);
            const std::uint16_t want = reference_sum(b);
            CHECK(summed.sum() == want);
            CHECK(copied.sum() == want);
            CHECK(copy == b);
        }
    }
}

// checksum_wide.ipp copies backward when the destination is a little past the source
// modulo 4096 (4K aliasing). Both directions must copy every byte and give the same sum,
// with odd block counts, unaligned ends, and runs across a batch (2^14 blocks); and a
// distance just outside the window, and 0, stay forward.
TEST_CASE("copy_and_add_near_4k_aliasing_copies_backward_exactly")
{
#if TCPX_CHECKSUM_WIDE
    using tcpx::wire::detail::alias_window;
#else
    constexpr std::size_t alias_window = 256;  // only the scalar loop: every distance is forward
#endif
    std::mt19937 rng(4096);
    constexpr std::size_t batch = std::size_t{32} << 14;
    const bytes source = random_bytes(rng, batch + 4096);
    for (const std::size_t ahead : {std::size_t{0}, std::size_t{1}, std::size_t{48}, alias_window - 1,
                                    alias_window, std::size_t{4064}}) {
        for (const std::size_t len : {std::size_t{128}, std::size_t{1460}, std::size_t{32 * 41 + 5}, batch + 96 + 3}) {
            for (const std::size_t misalign : {std::size_t{0}, std::size_t{13}}) {
                // One buffer, so that the distance between source and copy is exact.
                bytes buffer(2 * (batch + 8192) + 8192, 0);
                const std::size_t from = misalign;
                const std::size_t to = (from + len + 4095) / 4096 * 4096 + 4096 + misalign + ahead;
                std::memcpy(buffer.data() + from, source.data(), len);
                checksum_accumulator acc;
                tcpx::wire::copy_and_add(acc, std::span{buffer}.subspan(to, len),
                                         std::span<const std::uint8_t>{buffer}.subspan(from, len));
                CAPTURE(ahead);
                CAPTURE(len);
                CAPTURE(misalign);
                CHECK(std::memcmp(buffer.data() + to, source.data(), len) == 0);
                CHECK(acc.sum() == reference_sum(std::span{source}.first(len)));
            }
        }
    }
}

// The vector loop against the scalar one directly (the tests above go through
// dispatch, which on an AVX2 machine never runs the scalar loop on long runs), and
// non-zero data whose sum is a multiple of 0xFFFF: it must fold to 0xFFFF (-0), never
// to 0, which only all-zero data gives (RFC 1071 §1).
TEST_CASE("checksum_wide_loop_equals_scalar_loop_and_keeps_minus_zero")
{
#if TCPX_CHECKSUM_WIDE
    using namespace tcpx::wire::detail;
    if (!cpu_has_avx2()) {
        MESSAGE("this CPU has no AVX2: nothing to compare");
        return;
    }
    std::mt19937 rng(1624);
    std::uniform_int_distribution<std::size_t> blocks(1, 3000);
    for (int round = 0; round < 200; ++round) {
        const std::size_t n = 32 * blocks(rng);
        const bytes b = random_bytes(rng, n);
        bytes copy(n, 0);
        // The scalar loop: runs under wide_threshold never take the vector path.
        checksum_accumulator scalar;
        for (std::size_t at = 0; at < n; at += 64)
            scalar.add(std::span{b}.subspan(at, std::min<std::size_t>(64, n - at)));
        const std::uint16_t wide = fold(sum_blocks_wide<false>(nullptr, b.data(), n / 32));
        const std::uint16_t wide_copy = fold(sum_blocks_wide<true>(copy.data(), b.data(), n / 32));
        CAPTURE(n);
        CHECK(boost::endian::big_to_native(wide) == scalar.sum());
        CHECK(wide_copy == wide);
        CHECK(copy == b);
    }
    // 0xFFFF as every 16-bit word: the sum is a multiple of 0xFFFF, not zero.
    const bytes minus_zero(4096, 0xFF);
    CHECK(fold(sum_blocks_wide<false>(nullptr, minus_zero.data(), minus_zero.size() / 32)) == 0xFFFF);
    // Words that cancel: 0x0001 then 0xFFFE, repeated; their sum is 0xFFFF per pair.
    bytes cancel(4096);
    for (std::size_t i = 0; i < cancel.size(); i += 4) {
        cancel[i] = 0x00; cancel[i + 1] = 0x01; cancel[i + 2] = 0xFF; cancel[i + 3] = 0xFE;
    }
    CHECK(fold(sum_blocks_wide<false>(nullptr, cancel.data(), cancel.size() / 32)) == 0xFFFF);
    const bytes zero(4096, 0);
    CHECK(fold(sum_blocks_wide<false>(nullptr, zero.data(), zero.size() / 32)) == 0);
#else
    MESSAGE("no vector loop on this target");
#endif
}
