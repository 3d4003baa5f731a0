// RFC 6528 initial sequence numbers and the SipHash-2-4 PRF behind them
// (tcpx/tcp/isn.hpp).
#include <tcpx/tcp/isn.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

namespace {

using namespace std::chrono_literals;
using tcpx::instant;
using tcpx::seq32;
using tcpx::tcp::isn_generator;
using tcpx::tcp::siphash24;

// The reference key 00 01 .. 0f as SipHash's two little-endian words.
constexpr std::array<std::uint64_t, 2> reference_key = {0x0706050403020100ULL,
                                                        0x0f0e0d0c0b0a0908ULL};

// The 64 published SipHash-2-4 outputs (vectors_sip64 of the reference
// implementation, github.com/veorq/SipHash vectors.h, read as little-endian
// words): entry n is the tag of the n-byte message 00 01 .. (n-1).
constexpr std::array<std::uint64_t, 64> reference_tags = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

constexpr std::array<std::uint8_t, 64> reference_message = [] {
    std::array<std::uint8_t, 64> m{};
    for (std::size_t i = 0; i < m.size(); ++i) {
        m[i] = static_cast<std::uint8_t>(i);
    }
    return m;
}();

// siphash24 is constexpr: the vectors around each boundary (empty, 7/8/9 bytes,
// 15/16 bytes, the last) hold at compile time too.
static_assert(siphash24(reference_key, reference_message.data(), 0) == 0x726fdb47dd0e0e31);
static_assert(siphash24(reference_key, reference_message.data(), 7) == 0xab0200f58b01d137);
static_assert(siphash24(reference_key, reference_message.data(), 8) == 0x93f5f5799a932462);
static_assert(siphash24(reference_key, reference_message.data(), 9) == 0x9e0082df0ba9e4b0);
static_assert(siphash24(reference_key, reference_message.data(), 15) == 0xa129ca6149be45e5);
static_assert(siphash24(reference_key, reference_message.data(), 16) == 0x3f2acc7f57c29bdb);
static_assert(siphash24(reference_key, reference_message.data(), 63) == 0x958a324ceb064572);

constexpr isn_generator::secret_type secret_a = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
constexpr isn_generator::secret_type secret_b = {0x0123456789abcdefULL, 0xfedcba9876543211ULL};

constexpr std::uint32_t local_ip = 0x0a000001;   // 10.0.0.1
constexpr std::uint32_t remote_ip = 0x0a000002;  // 10.0.0.2
constexpr instant t0 = instant{} + 1000s;

}  // namespace

// SipHash paper, Appendix A / reference vectors: all 64 published outputs for key
// 00..0f and messages 00, 00 01, ..., 00..3e.
TEST_CASE("siphash24_reference_vectors_all_match")
{
    for (std::size_t n = 0; n < reference_tags.size(); ++n) {
        CAPTURE(n);
        CHECK(siphash24(reference_key, reference_message.data(), n) == reference_tags[n]);
    }
}

// SipHash is a keyed PRF: one flipped key bit changes the tag.
TEST_CASE("siphash24_different_key_gives_different_tag")
{
    const std::array<std::uint64_t, 2> other = {reference_key[0] ^ 1, reference_key[1]};
    CHECK(siphash24(other, reference_message.data(), 15) != reference_tags[15]);
    CHECK(siphash24(other, nullptr, 0) != reference_tags[0]);
}

// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
// M the 4 µs timer, F here the low 32 bits of SipHash-2-4 over the 4-tuple in
// network byte order.
TEST_CASE("isn_equals_4us_timer_plus_truncated_siphash_of_the_tuple")
{
    const isn_generator gen{secret_a};
    const std::array<std::uint8_t, 12> tuple = {10, 0, 0, 1, 0x30, 0x39,    // 10.0.0.1:12345
                                                10, 0, 0, 2, 0x00, 0x50};   // 10.0.0.2:80
    const auto f = static_cast<std::uint32_t>(siphash24(secret_a, tuple.data(), tuple.size()));
    const auto m = static_cast<std::uint32_t>(1'000'000'000 / 4);  // t0 in µs / 4
    CHECK(gen.next(local_ip, 12345, remote_ip, 80, t0) == seq32{m + f});
}

// RFC 6528 §3: ISNs are a function of the tuple, the secret and the time only.
TEST_CASE("isn_same_tuple_same_time_gives_same_isn")
{
    const isn_generator gen{secret_a};
    const isn_generator copy{secret_a};
    CHECK(gen.next(local_ip, 40000, remote_ip, 80, t0) == gen.next(local_ip, 40000, remote_ip, 80, t0));
    CHECK(gen.next(local_ip, 40000, remote_ip, 80, t0) == copy.next(local_ip, 40000, remote_ip, 80, t0));
}

// RFC 6528 §3 (and RFC 9293 §3.4.1): M ticks once every 4 microseconds.
TEST_CASE("isn_four_microseconds_later_is_one_more")
{
    const isn_generator gen{secret_a};
    const seq32 first = gen.next(local_ip, 40000, remote_ip, 80, t0);
    CHECK(gen.next(local_ip, 40000, remote_ip, 80, t0 + 4us) - first == 1);
    CHECK(gen.next(local_ip, 40000, remote_ip, 80, t0 + 3us) == first);  // same tick
    CHECK(gen.next(local_ip, 40000, remote_ip, 80, t0 + 1s) - first == 250'000);
    // The timer wraps with the sequence space: 2^32 ticks (2^34 µs) later, same ISN.
    CHECK(gen.next(local_ip, 40000, remote_ip, 80, t0 + tcpx::duration{std::int64_t{1} << 34}) == first);
}

// RFC 6528 §3: F covers every element of the 4-tuple, so a different port (or
// address) gives a different offset.
TEST_CASE("isn_different_tuple_gives_different_offset")
{
    const isn_generator gen{secret_a};
    const seq32 base = gen.next(local_ip, 40000, remote_ip, 80, t0);
    CHECK(gen.next(local_ip, 40001, remote_ip, 80, t0) != base);
    CHECK(gen.next(local_ip, 40000, remote_ip, 81, t0) != base);
    CHECK(gen.next(local_ip + 1, 40000, remote_ip, 80, t0) != base);
    CHECK(gen.next(local_ip, 40000, remote_ip + 1, 80, t0) != base);
    // Local and remote are not interchangeable (each side's ISN differs).
    CHECK(gen.next(remote_ip, 80, local_ip, 40000, t0) != base);
}

// RFC 6528 §3: F must not be computable from outside; it depends on secretkey.
TEST_CASE("isn_different_secret_gives_different_isn")
{
    const isn_generator a{secret_a};
    const isn_generator b{secret_b};
    CHECK(a.next(local_ip, 40000, remote_ip, 80, t0) != b.next(local_ip, 40000, remote_ip, 80, t0));
}

// The secret comes from the OS's entropy: two draws differ (by chance only with
// probability 2^-128).
TEST_CASE("isn_random_secret_draws_differ")
{
    CHECK(isn_generator::random_secret() != isn_generator::random_secret());
}
