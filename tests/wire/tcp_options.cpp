// Tests for tcpx/wire/tcp_options.hpp: byte-exact vectors of what Linux sends, round
// trips, and every malformed options area as its own case (RFC 9293 §3.1 MUST-7).
#include <tcpx/wire/tcp_options.hpp>

#include <doctest/doctest.h>

#include "support/hex.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using namespace tcpx;
using namespace tcpx::wire;

namespace {

using bytes = std::vector<std::uint8_t>;

using tcpx_test::from_hex;

std::string to_hex(const bytes& b)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i) s += ' ';
        s += digits[b[i] >> 4];
        s += digits[b[i] & 15];
    }
    return s;
}

std::string describe(const tcp_options& o)
{
    std::ostringstream s;
    s << "{";
    if (o.mss) s << " mss=" << *o.mss;
    if (o.window_scale) s << " ws=" << int{*o.window_scale};
    if (o.sack_permitted) s << " sack_permitted";
    if (o.timestamp) s << " ts=" << o.timestamp->tsval << "/" << o.timestamp->tsecr;
    for (const sack_block& b : o.sack_blocks()) s << " sack=" << b.left.value() << "-" << b.right.value();
    s << " }";
    return s.str();
}

struct parsed {
    std::error_code ec;
    tcp_options opts;
};

// Parses from a vector of exactly the area's size, so the sanitizer run catches any read past it.
parsed parse(const bytes& area)
{
    parsed p;
    p.ec = parse_tcp_options(area, p.opts);
    return p;
}

bytes write(const tcp_options& o)
{
    bytes out(tcp_options::max_size, 0xee);
    const std::size_t n = write_tcp_options(o, out);
    CHECK(n == o.wire_size());
    CHECK(n % 4 == 0);
    CHECK(n <= tcp_options::max_size);
    // Nothing past the reported size is touched.
    for (std::size_t i = n; i < out.size(); ++i) CHECK(out[i] == 0xee);
    out.resize(n);
    return out;
}

tcp_options with_sack(tcp_options o, std::initializer_list<sack_block> blocks)
{
    o.sack_count = 0;
    for (const sack_block& b : blocks) o.sack[o.sack_count++] = b;
    return o;
}

const sack_block b1{seq32{0x00001000}, seq32{0x00002000}};
const sack_block b2{seq32{0x00003000}, seq32{0x00004000}};
const sack_block b3{seq32{0xfffff000}, seq32{0x00000800}};  // wraps past 2^32
const sack_block b4{seq32{0x10000000}, seq32{0x10000001}};

// Checks a byte-exact vector both ways: it parses to `o`, and `o` writes exactly it.
void check_both_ways(const char* hex, const tcp_options& o)
{
    const bytes wire = from_hex(hex);
    const parsed p = parse(wire);
    REQUIRE(!p.ec);
    INFO("parsed   ", describe(p.opts));
    INFO("expected ", describe(o));
    CHECK(p.opts == o);
    CHECK(to_hex(write(o)) == to_hex(wire));
    CHECK(o.wire_size() == wire.size());
}

std::error_code parse_error(const char* hex)
{
    tcp_options out;
    return parse_tcp_options(from_hex(hex), out);
}

}  // namespace

// -- byte-exact vectors: what Linux's tcp_options_write() puts on the wire --

TEST_CASE("options_linux_syn_parses_byte_exact")
{
    // A Linux SYN: MSS 1460, SACK-permitted packed in front of TS, NOP WS 7.
    const parsed p = parse(from_hex("02 04 05 b4 04 02 08 0a 9a 3b 2c 1d 00 00 00 00 01 03 03 07"));
    REQUIRE(!p.ec);
    CHECK(p.opts.mss == std::uint16_t{1460});
    CHECK(p.opts.sack_permitted);
    REQUIRE(p.opts.timestamp);
    CHECK(p.opts.timestamp->tsval == 0x9a3b2c1du);
    CHECK(p.opts.timestamp->tsecr == 0u);
    CHECK(p.opts.window_scale == std::uint8_t{7});
    CHECK(p.opts.sack_count == 0);
}

TEST_CASE("options_linux_syn_writes_byte_exact")
{
    tcp_options o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamp = timestamps{0x9a3b2c1d, 0};
    o.window_scale = 7;
    CHECK(o.wire_size() == 20);
    CHECK(to_hex(write(o)) == "02 04 05 b4 04 02 08 0a 9a 3b 2c 1d 00 00 00 00 01 03 03 07");
}

TEST_CASE("options_linux_synack_with_timestamps_byte_exact")
{
    tcp_options o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamp = timestamps{0x01020304, 0x9a3b2c1d};
    o.window_scale = 9;
    check_both_ways("02 04 05 b4 04 02 08 0a 01 02 03 04 9a 3b 2c 1d 01 03 03 09", o);
}

TEST_CASE("options_linux_synack_without_timestamps_byte_exact")
{
    // Without TS, SACK-permitted gets its own NOP NOP word, still before window scale.
    tcp_options o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.window_scale = 7;
    check_both_ways("02 04 05 b4 01 01 04 02 01 03 03 07", o);
}

TEST_CASE("options_syn_timestamps_without_sack_permitted_byte_exact")
{
    tcp_options o;
    o.mss = 536;
    o.timestamp = timestamps{7, 0};
    o.window_scale = 0;
    check_both_ways("02 04 02 18 01 01 08 0a 00 00 00 07 00 00 00 00 01 03 03 00", o);
}

TEST_CASE("options_syn_mss_only_byte_exact")
{
    tcp_options o;
    o.mss = 0xffff;
    check_both_ways("02 04 ff ff", o);
}

TEST_CASE("options_data_segment_with_timestamps_byte_exact")
{
    // RFC 7323 Appendix A: NOP NOP TS on non-SYN segments.
    tcp_options o;
    o.timestamp = timestamps{0xdeadbeef, 0x01234567};
    check_both_ways("01 01 08 0a de ad be ef 01 23 45 67", o);
}

TEST_CASE("options_none_write_nothing")
{
    const tcp_options o;
    CHECK(o.wire_size() == 0);
    CHECK(write(o).empty());
}

// -- SACK blocks (RFC 2018 §3) --

TEST_CASE("options_sack_one_to_four_blocks_without_timestamps_byte_exact")
{
    check_both_ways("01 01 05 0a 00 00 10 00 00 00 20 00", with_sack({}, {b1}));
    check_both_ways("01 01 05 12 00 00 10 00 00 00 20 00 00 00 30 00 00 00 40 00",
                    with_sack({}, {b1, b2}));
    check_both_ways("01 01 05 1a 00 00 10 00 00 00 20 00 00 00 30 00 00 00 40 00"
                    " ff ff f0 00 00 00 08 00",
                    with_sack({}, {b1, b2, b3}));
    check_both_ways("01 01 05 22 00 00 10 00 00 00 20 00 00 00 30 00 00 00 40 00"
                    " ff ff f0 00 00 00 08 00 10 00 00 00 10 00 00 01",
                    with_sack({}, {b1, b2, b3, b4}));
}

TEST_CASE("options_sack_one_to_three_blocks_with_timestamps_byte_exact")
{
    tcp_options ts;
    ts.timestamp = timestamps{100, 200};
    check_both_ways("01 01 08 0a 00 00 00 64 00 00 00 c8 01 01 05 0a 00 00 10 00 00 00 20 00",
                    with_sack(ts, {b1}));
    check_both_ways("01 01 08 0a 00 00 00 64 00 00 00 c8 01 01 05 12 00 00 10 00 00 00 20 00"
                    " 00 00 30 00 00 00 40 00",
                    with_sack(ts, {b1, b2}));
    check_both_ways("01 01 08 0a 00 00 00 64 00 00 00 c8 01 01 05 1a 00 00 10 00 00 00 20 00"
                    " 00 00 30 00 00 00 40 00 ff ff f0 00 00 00 08 00",
                    with_sack(ts, {b1, b2, b3}));
}

TEST_CASE("options_sack_fourth_block_beside_timestamps_is_not_written")
{
    // RFC 2018 §3: TS takes 12 bytes, which leaves room for 3 blocks, not 4.
    tcp_options o = with_sack({}, {b1, b2, b3, b4});
    o.timestamp = timestamps{100, 200};
    CHECK(o.sack_blocks_that_fit() == 3);
    CHECK(o.wire_size() == 40);
    const parsed p = parse(write(o));
    REQUIRE(!p.ec);
    CHECK(p.opts.sack_count == 3);
    CHECK(p.opts == with_sack(o, {b1, b2, b3}));
}

TEST_CASE("options_sack_beside_full_syn_options_keeps_two_blocks")
{
    // MSS + SACK-permitted/TS + WS take 20 bytes; 4 + 2*8 more fill the 40.
    tcp_options o = with_sack({}, {b1, b2, b3, b4});
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamp = timestamps{1, 2};
    o.window_scale = 7;
    CHECK(o.sack_blocks_that_fit() == 2);
    check_both_ways("02 04 05 b4 04 02 08 0a 00 00 00 01 00 00 00 02 01 03 03 07"
                    " 01 01 05 12 00 00 10 00 00 00 20 00 00 00 30 00 00 00 40 00",
                    with_sack(o, {b1, b2}));
    CHECK(to_hex(write(o)) == to_hex(write(with_sack(o, {b1, b2}))));
}

TEST_CASE("options_sack_count_above_four_is_read_as_four")
{
    tcp_options o = with_sack({}, {b1, b2, b3, b4});
    o.sack_count = 200;
    CHECK(o.sack_blocks().size() == 4);
    CHECK(o.wire_size() == 36);
    CHECK(o == with_sack({}, {b1, b2, b3, b4}));
}

TEST_CASE("options_equality_ignores_unused_sack_slots")
{
    tcp_options a = with_sack({}, {b1, b2});
    tcp_options b = with_sack({}, {b1});
    CHECK(a != b);
    a.sack_count = 1;
    CHECK(a == b);
}

// -- write contract --

TEST_CASE("options_write_into_too_small_buffer_writes_nothing")
{
    tcp_options o;
    o.mss = 1460;
    o.timestamp = timestamps{1, 2};
    bytes out(o.wire_size() - 1, 0xee);
    CHECK(write_tcp_options(o, out) == 0);
    for (std::uint8_t b : out) CHECK(b == 0xee);
    bytes exact(o.wire_size());
    CHECK(write_tcp_options(o, exact) == 16);
}

TEST_CASE("options_write_clamps_window_scale_to_14")
{
    // RFC 7323 §2.3: tcpx never sends a shift the peer would have to clamp.
    tcp_options o;
    o.window_scale = 200;
    CHECK(to_hex(write(o)) == "01 03 03 0e");
}

// -- parse: the receiver side --

TEST_CASE("options_window_scale_15_clamps_to_14")
{
    // RFC 7323 §2.3: "MUST use 14 instead of the specified value".
    const parsed p = parse(from_hex("01 03 03 0f"));
    REQUIRE(!p.ec);
    CHECK(p.opts.window_scale == std::uint8_t{14});
}

TEST_CASE("options_window_scale_255_clamps_to_14")
{
    const parsed p = parse(from_hex("03 03 ff 00"));
    REQUIRE(!p.ec);
    CHECK(p.opts.window_scale == std::uint8_t{14});
}

TEST_CASE("options_window_scale_14_is_kept")
{
    const parsed p = parse(from_hex("03 03 0e 00"));
    REQUIRE(!p.ec);
    CHECK(p.opts.window_scale == std::uint8_t{14});
}

TEST_CASE("options_unknown_kinds_are_skipped_by_length")
{
    // RFC 9293 §3.1 (MUST-6): kind 30 (MPTCP) len 4, kind 253 (RFC 6994 experimental) len 6,
    // kind 34 (TFO cookie) len 10, each between options tcpx knows.
    const parsed p = parse(from_hex("02 04 05 b4 1e 04 ab cd fd 06 f9 89 01 02"
                                    " 03 03 05 22 0a 11 22 33 44 55 66 77 88 04 02"));
    REQUIRE(!p.ec);
    tcp_options want;
    want.mss = 1460;
    want.window_scale = 5;
    want.sack_permitted = true;
    INFO(describe(p.opts));
    CHECK(p.opts == want);
}

TEST_CASE("options_unknown_kind_with_bare_length_2_is_skipped")
{
    const parsed p = parse(from_hex("c8 02 02 04 01 00"));
    REQUIRE(!p.ec);
    CHECK(p.opts.mss == std::uint16_t{256});
}

TEST_CASE("options_eol_stops_parsing_with_garbage_after_it")
{
    // RFC 9293 §3.2: nothing after EOL is an option; a length 0 there must not be seen.
    const parsed p = parse(from_hex("02 04 05 b4 00 00 ff 00 13 01 02"));
    REQUIRE(!p.ec);
    tcp_options want;
    want.mss = 1460;
    CHECK(p.opts == want);
}

TEST_CASE("options_eol_first_means_no_options")
{
    const parsed p = parse(from_hex("00 02 04 05 b4"));
    REQUIRE(!p.ec);
    CHECK(p.opts == tcp_options{});
}

TEST_CASE("options_empty_area_parses_to_nothing")
{
    const parsed p = parse({});
    REQUIRE(!p.ec);
    CHECK(p.opts == tcp_options{});
}

TEST_CASE("options_forty_nops_parse_to_nothing")
{
    const parsed p = parse(bytes(40, tcp_option::nop));
    REQUIRE(!p.ec);
    CHECK(p.opts == tcp_options{});
}

TEST_CASE("options_unaligned_options_parse")
{
    // RFC 9293 §3.2 (MUST-64): options need not begin on a word boundary.
    const parsed p = parse(from_hex("01 02 04 05 b4 08 0a 00 00 00 01 00 00 00 02 03 03 02"));
    REQUIRE(!p.ec);
    tcp_options want;
    want.mss = 1460;
    want.timestamp = timestamps{1, 2};
    want.window_scale = 2;
    CHECK(p.opts == want);
}

TEST_CASE("options_repeated_kind_last_one_wins")
{
    const parsed p = parse(from_hex("02 04 05 b4 02 04 02 18 05 0a 00 00 10 00 00 00 20 00"
                                    " 05 0a 00 00 30 00 00 00 40 00"));
    REQUIRE(!p.ec);
    CHECK(p.opts.mss == std::uint16_t{536});
    CHECK(p.opts == with_sack(p.opts, {b2}));
    CHECK(p.opts.sack_count == 1);
}

TEST_CASE("options_parse_clears_previous_contents")
{
    tcp_options out;
    out.mss = 1;
    out.sack_permitted = true;
    out = with_sack(out, {b1, b2});
    REQUIRE(!parse_tcp_options(from_hex("01 03 03 01"), out));
    tcp_options want;
    want.window_scale = 1;
    CHECK(out == want);
}

// -- malformed areas, one case each (RFC 9293 §3.1 MUST-7, RFC 1122 §4.2.2.5) --

TEST_CASE("options_length_0_is_bad_length")
{
    CHECK(parse_error("1e 00 01 01") == errc::tcp_option_bad_length);
}

TEST_CASE("options_length_1_is_bad_length")
{
    CHECK(parse_error("02 01 05 b4") == errc::tcp_option_bad_length);
}

TEST_CASE("options_length_0_on_known_kind_is_bad_length")
{
    CHECK(parse_error("01 01 08 00 00 00") == errc::tcp_option_bad_length);
}

TEST_CASE("options_length_past_end_is_beyond_header")
{
    CHECK(parse_error("01 1e 06 ab cd ef") == errc::tcp_option_beyond_header);
}

TEST_CASE("options_known_kind_cut_short_is_beyond_header")
{
    // A timestamp with a correct length but the area ends 2 bytes early.
    CHECK(parse_error("01 01 08 0a 00 00 00 01 00 00") == errc::tcp_option_beyond_header);
}

TEST_CASE("options_kind_as_last_byte_is_beyond_header")
{
    CHECK(parse_error("01 01 01 02") == errc::tcp_option_beyond_header);
}

TEST_CASE("options_unknown_kind_as_only_byte_is_beyond_header")
{
    CHECK(parse_error("fe") == errc::tcp_option_beyond_header);
}

TEST_CASE("options_mss_length_3_is_bad_size")
{
    CHECK(parse_error("02 03 05 01") == errc::tcp_option_bad_size);
}

TEST_CASE("options_mss_length_5_is_bad_size")
{
    CHECK(parse_error("02 05 05 b4 00 01 01 01") == errc::tcp_option_bad_size);
}

TEST_CASE("options_window_scale_length_2_is_bad_size")
{
    CHECK(parse_error("03 02 01 01") == errc::tcp_option_bad_size);
}

TEST_CASE("options_sack_permitted_length_3_is_bad_size")
{
    CHECK(parse_error("04 03 00 01") == errc::tcp_option_bad_size);
}

TEST_CASE("options_timestamp_length_9_is_bad_size")
{
    CHECK(parse_error("08 09 00 00 00 01 00 00 00 01 01 01") == errc::tcp_option_bad_size);
}

TEST_CASE("options_sack_length_2_plus_7_is_bad_size")
{
    CHECK(parse_error("05 09 00 00 10 00 00 00 20 00 00 00") == errc::tcp_option_bad_size);
}

TEST_CASE("options_sack_length_2_without_blocks_is_bad_size")
{
    CHECK(parse_error("01 01 05 02") == errc::tcp_option_bad_size);
}

TEST_CASE("options_sack_length_2_plus_40_is_beyond_a_40_byte_header")
{
    // Five blocks cannot fit in any real TCP header, so the length runs past the area first.
    bytes area(40, 0);
    area[0] = tcp_option::sack;
    area[1] = 2 + 40;
    tcp_options out;
    CHECK(parse_tcp_options(area, out) == errc::tcp_option_beyond_header);
}

TEST_CASE("options_sack_length_2_plus_40_in_a_larger_area_is_bad_size")
{
    // The parser does not rely on the 40-byte limit; given the room, five blocks are a bad size.
    bytes area(44, 0);
    area[0] = tcp_option::sack;
    area[1] = 2 + 40;
    tcp_options out;
    CHECK(parse_tcp_options(area, out) == errc::tcp_option_bad_size);
}

TEST_CASE("options_first_error_is_reported")
{
    // A bad MSS size comes before a length 0: the first one found wins.
    CHECK(parse_error("02 05 00 00 00 1e 00") == errc::tcp_option_bad_size);
}

TEST_CASE("options_errors_compare_as_tcpx_errors")
{
    const std::error_code ec = parse_error("02 01");
    CHECK(ec == errc::tcp_option_bad_length);
    CHECK(ec.category() == tcpx::error_category());
}

// -- round trips and fuzzing --

namespace {

// Raw mt19937 output is specified by the standard, unlike its distributions, so every
// standard library draws the same cases from the same seed.
struct rng {
    std::mt19937 gen;
    explicit rng(std::uint32_t seed) : gen{seed} {}
    std::uint32_t u32() { return static_cast<std::uint32_t>(gen()); }
    std::uint32_t below(std::uint32_t n) { return u32() % n; }
    bool coin() { return (u32() & 1) != 0; }
};

tcp_options random_options(rng& r)
{
    tcp_options o;
    if (r.coin()) o.mss = static_cast<std::uint16_t>(r.u32());
    if (r.coin()) o.window_scale = static_cast<std::uint8_t>(r.below(15));
    o.sack_permitted = r.coin();
    if (r.coin()) o.timestamp = timestamps{r.u32(), r.u32()};
    o.sack_count = static_cast<std::uint8_t>(r.below(5));
    for (std::size_t i = 0; i < o.sack_count; ++i) o.sack[i] = sack_block{seq32{r.u32()}, seq32{r.u32()}};
    return o;
}

// What a write keeps of `o`: its SACK blocks up to what fits.
tcp_options as_written(tcp_options o)
{
    o.sack_count = static_cast<std::uint8_t>(o.sack_blocks_that_fit());
    return o;
}

// One option (or a stray NOP / EOL / junk byte) as a fuzzer would splice it.
void append_token(rng& r, bytes& area)
{
    const auto push = [&area](std::initializer_list<std::uint8_t> b) { area.insert(area.end(), b); };
    const auto push32 = [&area](std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) area.push_back(static_cast<std::uint8_t>(v >> s));
    };
    switch (r.below(10)) {
    case 0: push({1}); break;
    case 1: push({2, 4, static_cast<std::uint8_t>(r.u32()), static_cast<std::uint8_t>(r.u32())}); break;
    case 2: push({3, 3, static_cast<std::uint8_t>(r.u32())}); break;
    case 3: push({4, 2}); break;
    case 4: push({8, 10}); push32(r.u32()); push32(r.u32()); break;
    case 5: {
        const std::uint32_t n = 1 + r.below(4);
        push({5, static_cast<std::uint8_t>(2 + 8 * n)});
        for (std::uint32_t i = 0; i < 2 * n; ++i) push32(r.u32());
        break;
    }
    case 6: {  // an unknown kind with a plausible length
        const std::uint8_t len = static_cast<std::uint8_t>(2 + r.below(8));
        push({static_cast<std::uint8_t>(9 + r.below(247)), len});
        for (int i = 2; i < len; ++i) area.push_back(static_cast<std::uint8_t>(r.u32()));
        break;
    }
    case 7: push({0}); break;
    default: area.push_back(static_cast<std::uint8_t>(r.u32())); break;
    }
}

}  // namespace

TEST_CASE("options_round_trip_random_combinations")
{
    rng r{20240601};
    for (int i = 0; i < 20000; ++i) {
        const tcp_options o = random_options(r);
        const bytes wire = write(o);
        const parsed p = parse(wire);
        INFO("case ", i, " ", describe(o), " -> ", to_hex(wire));
        REQUIRE(!p.ec);
        REQUIRE(p.opts == as_written(o));
    }
}

TEST_CASE("options_round_trip_every_presence_combination")
{
    // All 2^4 presences of MSS / WS / SACK-permitted / TS, times 0..4 SACK blocks.
    for (int mask = 0; mask < 16; ++mask) {
        for (std::uint8_t n = 0; n <= 4; ++n) {
            tcp_options o;
            if (mask & 1) o.mss = 1460;
            if (mask & 2) o.window_scale = 7;
            o.sack_permitted = (mask & 4) != 0;
            if (mask & 8) o.timestamp = timestamps{1, 2};
            o = with_sack(o, {b1, b2, b3, b4});
            o.sack_count = n;
            const bytes wire = write(o);
            const parsed p = parse(wire);
            INFO(describe(o), " -> ", to_hex(wire));
            REQUIRE(!p.ec);
            CHECK(p.opts == as_written(o));
            CHECK(p.opts.sack_count == std::min<std::size_t>(n, o.sack_blocks_that_fit()));
        }
    }
}

TEST_CASE("options_fuzz_random_areas_never_crash_and_round_trip")
{
    // 100k areas of 0..40 bytes: half pure noise, half spliced from option-shaped tokens
    // (so that many parse and the write->parse check has something to check).
    rng r{0x7c9f2a11};
    int accepted = 0;
    int mismatched = 0;
    int truncated = 0;  // accepted areas whose SACK blocks do not all fit when written
    for (int i = 0; i < 100000; ++i) {
        const std::size_t size = r.below(41);
        bytes area;
        if (i % 2 == 0) {
            for (std::size_t k = 0; k < size; ++k) area.push_back(static_cast<std::uint8_t>(r.u32()));
        } else {
            std::size_t whole = 0;  // the length before the last token
            while (area.size() < size) {
                whole = area.size();
                append_token(r, area);
            }
            // Usually keep only whole tokens and pad with NOP; sometimes cut the last one.
            if (area.size() > size && r.below(4) != 0) area.resize(whole);
            area.resize(size, tcp_option::nop);
        }
        // A heap block of exactly the area's size, so ASan sees any read past the area.
        const auto exact = std::make_unique<std::uint8_t[]>(area.size());
        std::copy(area.begin(), area.end(), exact.get());

        tcp_options first;
        if (parse_tcp_options({exact.get(), area.size()}, first)) continue;
        ++accepted;
        if (first.sack_blocks_that_fit() < first.sack_blocks().size()) ++truncated;
        tcp_options second;
        const bytes wire = write(first);
        if (parse_tcp_options(wire, second) || second != as_written(first)) {
            ++mismatched;
            INFO("area ", to_hex(area), " parsed ", describe(first), " wrote ", to_hex(wire));
            CHECK(second == as_written(first));
        }
    }
    CHECK(mismatched == 0);
    CHECK(accepted > 20000);
    CHECK(truncated > 0);
}
