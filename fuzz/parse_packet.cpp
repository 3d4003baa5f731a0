// libFuzzer target: one received IPv4 or IPv6 packet (the first nibble says which)
// through every wire-layer receive check, the way the stack will run it (DESIGN.md "One
// packet's way"), then a round trip.
// Have open: RFC 791 §3.1, RFC 9293 §3.1, RFC 8200 §3-§4 and §8.1, RFC 4443 §2-§3,
// RFC 5952, and the contracts at the top of tcpx/wire/ipv4.hpp, tcpx/wire/ipv6.hpp,
// tcpx/wire/icmpv6.hpp and tcpx/wire/tcp_header.hpp.
//
// What it proves, for any bytes:
//   - no check, accessor, parser or checksum reads outside the input (ASan);
//   - what parsed, emitted again and parsed again, gives the same fields back
//     (ipv4_header, and tcp_header with the SACK blocks that fit, tcp_options.hpp);
//   - the emitted packet passes every check, its checksums included;
//   - a header that was already in tcpx's own canonical form is re-emitted byte for
//     byte, checksum included (0x0000 and 0xFFFF being the same one's complement zero);
//   - IPv6: the fixed header re-emitted is the same 40 bytes; a header chain that
//     parse_header_chain accepted is walked by skip_extension_headers to the same upper
//     layer; the ICMPv6 view and an error's quote (RFC 4443 §2.4(d)) stay in bounds and
//     the quote names the addresses it holds; the source address written as RFC 5952
//     text reads back as itself, and so does any address parsed from the input as text.
// Each input runs twice: as it came, and with its checksums made right (see
// with_checksums_fixed), so mutations reach the checks behind the checksums.
// A violated property calls abort(), which libFuzzer reports as a crash.
//
// Build by hand (meson builds it with -Dfuzz=true, clang only):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude
//           fuzz/parse_packet.cpp -o /tmp/fuzz-parse-packet
//   cp -r fuzz/corpus/parse_packet /tmp/corpus
//   UBSAN_OPTIONS=halt_on_error=1 /tmp/fuzz-parse-packet -max_total_time=60 /tmp/corpus
// (UBSan only reports and carries on unless told to halt; libFuzzer then sees no crash.)
#include <tcpx/wire/icmpv6.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/ipv6.hpp>
#include <tcpx/wire/tcp_header.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string_view>

#include <boost/endian/conversion.hpp>

#include "fuzz_assert.hpp"

namespace {

using namespace tcpx;
using namespace tcpx::wire;

// Values read are folded in here so the compiler cannot drop a read the fuzzer should check.
volatile std::uint32_t sink;

// Room for the largest IPv4 datagram (RFC 791 §3.1: total length is 16 bits), where
// the round trips write what they emit; reused for every input.
std::array<std::uint8_t, 0xffff> scratch;

bool same_fields(const ipv4_header& a, const ipv4_header& b)
{
    return a.source == b.source && a.destination == b.destination && a.protocol == b.protocol &&
           a.ttl == b.ttl && a.tos == b.tos && a.identification == b.identification &&
           a.dont_fragment == b.dont_fragment && a.payload_length == b.payload_length;
}

// Every accessor of a checked view, to let ASan see each read.
void read_all(const ipv4_view& v)
{
    std::uint32_t x = v.version() + v.header_length() + v.tos() + v.total_length() + v.identification() +
                      v.dont_fragment() + v.more_fragments() + v.fragment_offset() + v.is_fragment() +
                      v.ttl() + v.protocol() + v.header_checksum() + v.source().value + v.destination().value;
    for (const std::uint8_t b : v.options()) x += b;
    for (const std::uint8_t b : v.header_bytes()) x += b;
    if (!v.payload().empty()) x += v.payload().front() + v.payload().back();
    sink = x;
}

void read_all(const tcp_view& v)
{
    std::uint32_t x = v.source_port() + v.destination_port() + v.seq().value() + v.ack().value() +
                      v.header_length() + static_cast<std::uint8_t>(v.flags()) + v.window() + v.checksum() +
                      v.urgent_pointer();
    for (const std::uint8_t b : v.options_area()) x += b;
    if (!v.payload().empty()) x += v.payload().front() + v.payload().back();
    sink = x;
}

// 0x0000 and 0xFFFF are both zero in one's complement: either verifies (RFC 1624 §3).
bool same_checksum(std::uint16_t a, std::uint16_t b)
{
    return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

// IPv4: re-emit the header in front of the same payload and check it reads back.
void ipv4_round_trip(const ipv4_view& v4)
{
    const ipv4_header ip = ipv4_header::from(v4);
    const std::span<const std::uint8_t> payload = v4.payload();
    FUZZ_ASSERT(ip.payload_length == payload.size());

    const std::span<std::uint8_t> out{scratch.data(), ipv4_header::size + payload.size()};
    FUZZ_ASSERT(!ip.emit(out));
    std::copy(payload.begin(), payload.end(), out.begin() + ipv4_header::size);

    const ipv4_view again{out};
    FUZZ_ASSERT(!again.check());
    FUZZ_ASSERT(same_fields(ipv4_header::from(again), ip));
    FUZZ_ASSERT(std::ranges::equal(again.payload(), payload));

    // A header tcpx could have written (no options, no fragment fields but DF, reserved
    // bit clear) comes back byte for byte.
    const std::uint16_t frag = static_cast<std::uint16_t>(v4.header_bytes()[6] << 8 | v4.header_bytes()[7]);
    if (v4.header_length() == ipv4_header::size && (frag == 0 || frag == 0x4000)) {
        const auto original = v4.header_bytes();
        FUZZ_ASSERT(std::equal(original.begin(), original.begin() + 10, out.begin()));
        FUZZ_ASSERT(std::equal(original.begin() + 12, original.end(), out.begin() + 12));
        FUZZ_ASSERT(same_checksum(v4.header_checksum(), again.header_checksum()));
    }
}

// TCP: re-emit header and payload, checksum filled, and check it reads back.
void tcp_round_trip(const ipv4_view& v4, const tcp_view& seg, const tcp_header& parsed, bool checksum_was_ok)
{
    // tcp_options.hpp: write writes the SACK blocks that fit beside the other options,
    // so parse(write(o)) == o only for those.
    tcp_header expected = parsed;
    expected.options.sack_count = static_cast<std::uint8_t>(parsed.options.sack_blocks_that_fit());
    FUZZ_ASSERT(expected.size() <= tcp_field::max_size);
    FUZZ_ASSERT(expected.size() % 4 == 0);

    const std::span<const std::uint8_t> payload = seg.payload();
    const std::size_t segment_length = expected.size() + payload.size();
    // Options written in Linux's padded layout may take more room than a packed original,
    // which can push a maximal datagram over 65535 bytes; then only TCP is re-checked.
    const bool fits_ipv4 = segment_length <= 0xffff - ipv4_header::size;
    const std::size_t offset = fits_ipv4 ? ipv4_header::size : 0;
    if (offset + segment_length > scratch.size()) return;

    const std::span<std::uint8_t> segment{scratch.data() + offset, segment_length};
    std::fill_n(segment.begin(), expected.size(), std::uint8_t{0xa5});  // stale bytes must not matter
    FUZZ_ASSERT(!parsed.emit(segment));
    std::copy(payload.begin(), payload.end(), segment.begin() + static_cast<std::ptrdiff_t>(expected.size()));
    fill_tcp_checksum(segment, v4.source(), v4.destination());

    const tcp_view again{segment};
    FUZZ_ASSERT(!again.check());
    FUZZ_ASSERT(again.header_length() == expected.size());
    FUZZ_ASSERT(again.checksum_ok(v4.source(), v4.destination()));
    tcp_header back;
    FUZZ_ASSERT(!tcp_header::parse(again, back));
    FUZZ_ASSERT(back == expected);
    FUZZ_ASSERT(std::ranges::equal(again.payload(), payload));

    // store_tcp_checksum with the payload summed apart stores the same value.
    {
        std::array<std::uint8_t, tcp_field::max_size> header{};
        const std::span<std::uint8_t> h{header.data(), expected.size()};
        FUZZ_ASSERT(!parsed.emit(h));
        checksum_accumulator sum;
        sum.add(payload);
        store_tcp_checksum(h, sum, v4.source(), v4.destination(), segment_length);
        FUZZ_ASSERT(h[tcp_field::checksum] == segment[tcp_field::checksum]);
        FUZZ_ASSERT(h[tcp_field::checksum + 1] == segment[tcp_field::checksum + 1]);
    }

    // A segment already in canonical form (reserved bits clear, options exactly as tcpx
    // writes them) is reproduced byte for byte, and its checksum too if it verified.
    const auto original = seg.bytes().first(seg.header_length());
    const auto rewritten = again.bytes().first(again.header_length());
    if (original.size() == rewritten.size() &&
        std::equal(original.begin(), original.begin() + tcp_field::checksum, rewritten.begin()) &&
        std::equal(original.begin() + tcp_field::urgent_pointer, original.end(),
                   rewritten.begin() + tcp_field::urgent_pointer)) {
        FUZZ_ASSERT(same_checksum(seg.checksum(), again.checksum()) == checksum_was_ok);
    }

    if (!fits_ipv4) return;
    ipv4_header ip = ipv4_header::from(v4);
    ip.payload_length = static_cast<std::uint16_t>(segment_length);
    const std::span<std::uint8_t> packet{scratch.data(), ipv4_header::size + segment_length};
    FUZZ_ASSERT(!ip.emit(packet));
    const ipv4_view v4_again{packet};
    FUZZ_ASSERT(!v4_again.check());
    const tcp_view seg_again{v4_again.payload()};
    FUZZ_ASSERT(!seg_again.check());
    FUZZ_ASSERT(seg_again.checksum_ok(v4_again.source(), v4_again.destination()));
}

void read_all(const ipv6_view& v)
{
    std::uint32_t x = v.version() + v.traffic_class() + v.flow_label() + v.payload_length() + v.next_header() +
                      v.hop_limit() + v.source().octets[15] + v.destination().octets[0];
    if (!v.payload().empty()) x += v.payload().front() + v.payload().back();
    x += static_cast<std::uint32_t>(v.datagram().size() + v.header_bytes().size());
    sink = x;
}

// RFC 5952 text and back: the same address. For the text written, to_chars must stay
// within its 39 characters and write text parse accepts.
void address_round_trip(const ipv6_address& a)
{
    std::array<char, ipv6_address::text_capacity> text{};
    const std::size_t n = a.to_chars(text);
    FUZZ_ASSERT(n > 0 && n <= text.size());
    const std::optional<ipv6_address> back = ipv6_address::parse({text.data(), n});
    FUZZ_ASSERT(back.has_value());
    FUZZ_ASSERT(*back == a);
}

// ICMPv6 (RFC 4443): the checked view's accessors, and for an error message the
// transport header it quotes, found by skipping the quoted extension headers.
void run_icmpv6(const ipv6_view& v6, std::span<const std::uint8_t> message)
{
    const icmpv6_view m{message};
    if (m.check(v6.source(), v6.destination())) return;
    std::uint32_t x = m.type() + m.code() + m.checksum() + m.is_error() + m.identifier() + m.sequence() + m.mtu() +
                      m.pointer();
    if (!m.body().empty()) x += m.body().front() + m.body().back();
    sink = x;
    const std::optional<icmpv6_quote> quote = m.quoted_transport();
    if (!m.is_error()) {
        FUZZ_ASSERT(m.quoted().empty());
        FUZZ_ASSERT(!quote.has_value());
        return;
    }
    if (!quote) return;
    // The quote starts with the invoking packet's IPv6 header: its addresses are those.
    const auto q = m.quoted();
    FUZZ_ASSERT(q.size() >= ipv6_field::fixed_size + icmpv6_quote_min_transport);
    FUZZ_ASSERT(quote->source == ipv6_address::from_bytes(q.subspan(ipv6_field::source).first<16>()));
    FUZZ_ASSERT(quote->destination == ipv6_address::from_bytes(q.subspan(ipv6_field::destination).first<16>()));
    sink = quote->source_port + quote->destination_port + quote->sequence.value() + quote->protocol;
}

// IPv6 (RFC 8200): the fixed header, the extension-header walk, the upper layer.
void run_ipv6(std::span<const std::uint8_t> packet)
{
    // The bytes as text, whatever they are (RFC 4291 §2.2): what parses writes back as
    // an address that parses to itself.
    const std::string_view text{reinterpret_cast<const char*>(packet.data()), std::min<std::size_t>(packet.size(), 64)};
    if (const std::optional<ipv6_address> a = ipv6_address::parse(text)) address_round_trip(*a);

    const ipv6_view v6{packet};
    if (v6.check()) return;
    read_all(v6);
    address_round_trip(v6.source());
    address_round_trip(v6.destination());

    // The header as tcpx writes it: all 40 bytes come from the fields it reads.
    const ipv6_header h = ipv6_header::from(v6);
    FUZZ_ASSERT(h.payload_length == v6.payload().size());
    std::array<std::uint8_t, ipv6_header::size> header{};
    FUZZ_ASSERT(!h.emit(header));
    FUZZ_ASSERT(std::ranges::equal(header, v6.header_bytes()));

    // The walk by lengths alone, over the datagram and over the raw bytes (link padding
    // and all): never past the end.
    const std::optional<ipv6_upper_layer> skipped =
        skip_extension_headers(v6.datagram(), v6.next_header(), ipv6_field::fixed_size);
    if (skipped) FUZZ_ASSERT(skipped->offset <= v6.datagram().size());
    if (const auto raw = skip_extension_headers(packet, v6.next_header(), ipv6_field::fixed_size))
        FUZZ_ASSERT(raw->offset <= packet.size());

    ipv6_header_chain chain;
    if (parse_header_chain(v6, chain)) return;
    FUZZ_ASSERT(!chain.problem.has_value());
    FUZZ_ASSERT(chain.offset <= v6.datagram().size());
    FUZZ_ASSERT(chain.upper_layer.data() == v6.datagram().data() + chain.offset);
    FUZZ_ASSERT(chain.upper_layer.size() == v6.datagram().size() - chain.offset);
    FUZZ_ASSERT(chain.next_header_at < chain.offset);
    FUZZ_ASSERT(v6.datagram()[chain.next_header_at] == chain.protocol ||
                (chain.fragment && !chain.fragment->is_atomic()));
    if (chain.fragment && !chain.fragment->is_atomic()) {
        // Stopped at a fragment: its data is where the walk stopped.
        FUZZ_ASSERT(chain.fragment->data_at() == chain.offset);
        FUZZ_ASSERT(chain.fragment->next_header == chain.protocol);
        return;
    }
    // A chain processed as a destination does (parse_header_chain) and one walked by
    // lengths alone reach the same upper layer, where the first accepted it.
    FUZZ_ASSERT(skipped.has_value());
    FUZZ_ASSERT(skipped->protocol == chain.protocol);
    FUZZ_ASSERT(skipped->offset == chain.offset);

    switch (chain.protocol) {
    case static_cast<std::uint8_t>(ipv6_next_header::icmpv6): run_icmpv6(v6, chain.upper_layer); break;
    case static_cast<std::uint8_t>(ipv6_next_header::tcp): {
        const tcp_view seg{chain.upper_layer};
        if (seg.check()) break;
        read_all(seg);
        sink = ipv6_upper_layer_checksum(v6.source(), v6.destination(), chain.protocol, chain.upper_layer);
        tcp_header parsed;
        (void)tcp_header::parse(seg, parsed);
        break;
    }
    default: break;
    }
}

// The receive path, as the stack runs it, with the round trips after each step that passed.
void run(std::span<const std::uint8_t> packet)
{
    if (!packet.empty() && packet[0] >> 4 == 6) return run_ipv6(packet);
    const ipv4_view v4{packet};
    if (v4.check()) return;
    read_all(v4);
    ipv4_round_trip(v4);

    if (v4.protocol() != static_cast<std::uint8_t>(ip_protocol::tcp)) return;
    const tcp_view seg{v4.payload()};
    if (seg.check()) return;
    read_all(seg);
    const bool checksum_ok = seg.checksum_ok(v4.source(), v4.destination());
    tcp_header parsed;
    if (tcp_header::parse(seg, parsed)) return;
    tcp_round_trip(v4, seg, parsed, checksum_ok);
}

// IPv6 has no header checksum; the upper layer's (TCP, ICMPv6: RFC 8200 §8.1) is made
// right where the header chain leads to one, and must then verify.
bool with_ipv6_checksum_fixed(std::span<std::uint8_t> copy)
{
    const ipv6_view v6{copy};
    if (v6.check()) return false;
    ipv6_header_chain chain;
    if (parse_header_chain(v6, chain)) return false;
    if (chain.fragment && !chain.fragment->is_atomic()) return false;
    std::size_t checksum_at = 0;
    if (chain.protocol == static_cast<std::uint8_t>(ipv6_next_header::tcp)) checksum_at = tcp_field::checksum;
    else if (chain.protocol == static_cast<std::uint8_t>(ipv6_next_header::icmpv6)) checksum_at = icmpv6_field::checksum;
    else return false;
    if (chain.upper_layer.size() < checksum_at + 2) return false;
    const std::span<std::uint8_t> upper = copy.subspan(chain.offset, chain.upper_layer.size());
    upper[checksum_at] = upper[checksum_at + 1] = 0;
    const std::uint16_t sum = ipv6_upper_layer_checksum(v6.source(), v6.destination(), chain.protocol, upper);
    boost::endian::store_big_u16(upper.data() + checksum_at, sum);
    FUZZ_ASSERT(ipv6_upper_layer_checksum(v6.source(), v6.destination(), chain.protocol, upper) == 0);
    return true;
}

// A mutated input almost never carries a correct checksum, so the fuzzer would rarely
// get past RFC 1122 §3.2.1.2's check to the length fields and the TCP parser behind it.
// This copy has both checksums made right wherever the lengths allow computing them;
// fill_tcp_checksum followed by checksum_ok must then agree.
bool with_checksums_fixed(std::span<std::uint8_t> copy)
{
    if (!copy.empty() && copy[0] >> 4 == 6) return with_ipv6_checksum_fixed(copy);
    if (copy.size() < ipv4_field::fixed_size) return false;
    const std::size_t ihl = std::size_t{copy[ipv4_field::version_ihl] & 0x0fu} * 4;
    if (ihl < ipv4_field::fixed_size || ihl > copy.size()) return false;
    copy[ipv4_field::checksum] = copy[ipv4_field::checksum + 1] = 0;
    const std::uint16_t ip_sum = internet_checksum(copy.first(ihl));
    copy[ipv4_field::checksum] = static_cast<std::uint8_t>(ip_sum >> 8);
    copy[ipv4_field::checksum + 1] = static_cast<std::uint8_t>(ip_sum & 0xff);

    const std::size_t total = std::size_t{copy[ipv4_field::total_length]} << 8 | copy[ipv4_field::total_length + 1];
    if (copy[ipv4_field::protocol] != static_cast<std::uint8_t>(ip_protocol::tcp)) return true;
    if (total < ihl + tcp_field::fixed_size || total > copy.size()) return true;
    const std::span<std::uint8_t> segment = copy.subspan(ihl, total - ihl);
    // Read directly: the view's accessors are only for packets that passed check().
    const ipv4_address source{boost::endian::load_big_u32(copy.data() + ipv4_field::source)};
    const ipv4_address destination{boost::endian::load_big_u32(copy.data() + ipv4_field::destination)};
    fill_tcp_checksum(segment, source, destination);
    FUZZ_ASSERT(tcp_view{segment}.checksum_ok(source, destination));
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // libFuzzer hands over a buffer of exactly `size` bytes, so ASan sees any overread.
    run({data, size});

    // The same bytes with correct checksums, in a buffer of exactly `size` bytes again.
    const std::unique_ptr<std::uint8_t[]> copy{new std::uint8_t[size]};
    std::copy_n(data, size, copy.get());
    if (with_checksums_fixed({copy.get(), size})) run({copy.get(), size});
    return 0;
}
