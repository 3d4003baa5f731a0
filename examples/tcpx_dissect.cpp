// tcpx-dissect: builds the SYN a Linux host sends to open a connection, prints it
// as bytes and dissected field by field, then parses it back through the same
// checks every received packet meets. A first look at tcpx's wire layer.
#include <tcpx/stack.hpp>

#include <array>
#include <cstdio>

namespace wire = tcpx::wire;

int main()
{
    wire::tcp_header syn;
    syn.source_port = 40000;
    syn.destination_port = 80;
    syn.seq = tcpx::seq32{0x01020304};
    syn.flags = wire::tcp_flags::syn;
    syn.window = 64240;
    syn.options.mss = 1460;
    syn.options.sack_permitted = true;
    syn.options.timestamp = wire::timestamps{.tsval = 123456, .tsecr = 0};
    syn.options.window_scale = 7;

    wire::ipv4_header ip;
    ip.source = wire::ipv4_address{10, 0, 0, 1};
    ip.destination = wire::ipv4_address{10, 0, 0, 2};
    ip.payload_length = static_cast<std::uint16_t>(syn.size());

    std::array<std::uint8_t, 128> packet{};
    const std::size_t length = ip.size + syn.size();
    const auto bytes = std::span{packet}.first(length);
    if (auto ec = ip.emit(bytes); ec) { std::fprintf(stderr, "ipv4: %s\n", ec.message().c_str()); return 1; }
    const auto segment = bytes.subspan(ip.size);
    if (auto ec = syn.emit(segment); ec) { std::fprintf(stderr, "tcp: %s\n", ec.message().c_str()); return 1; }
    wire::fill_tcp_checksum(segment, ip.source, ip.destination);

    std::printf("A SYN as Linux lays it out, %zu bytes:\n", length);
    for (std::size_t i = 0; i < length; ++i)
        std::printf("%02x%s", bytes[i], (i % 16 == 15 || i + 1 == length) ? "\n" : " ");

    // Parse it back exactly as the stack parses a received packet.
    const wire::ipv4_view ipv{bytes};
    if (auto ec = ipv.check(); ec) { std::printf("ipv4 rejected: %s\n", ec.message().c_str()); return 1; }
    const wire::tcp_view tcpv{ipv.payload()};
    if (auto ec = tcpv.check(); ec) { std::printf("tcp rejected: %s\n", ec.message().c_str()); return 1; }
    wire::tcp_header parsed;
    if (auto ec = wire::tcp_header::parse(tcpv, parsed); ec) { std::printf("options rejected: %s\n", ec.message().c_str()); return 1; }

    std::printf("\nIPv4  %s -> %s  ttl %u  proto %u  len %u  id %u%s  checksum 0x%04x (verified)\n",
                ipv.source().to_string().c_str(), ipv.destination().to_string().c_str(), ipv.ttl(),
                ipv.protocol(), ipv.total_length(), ipv.identification(),
                ipv.dont_fragment() ? "  DF" : "", ipv.header_checksum());
    std::printf("TCP   %u -> %u  [%s]  seq %u  ack %u  win %u  hdr %zu  checksum 0x%04x (%s)\n",
                parsed.source_port, parsed.destination_port, wire::to_string(parsed.flags).c_str(),
                parsed.seq.value(), parsed.ack.value(), parsed.window, tcpv.header_length(),
                tcpv.checksum(), tcpv.checksum_ok(ipv.source(), ipv.destination()) ? "verified" : "BAD");
    const auto& o = parsed.options;
    std::printf("      options: mss %u, sack-permitted %s, timestamps %u/%u, window scale %u\n",
                o.mss.value_or(0), o.sack_permitted ? "yes" : "no",
                o.timestamp ? o.timestamp->tsval : 0, o.timestamp ? o.timestamp->tsecr : 0,
                o.window_scale.value_or(0));

    // One flipped bit anywhere is caught and named.
    packet[ip.size + 5] ^= 0x10;
    std::printf("\nAfter flipping one bit of the sequence number: %s\n",
                tcpv.checksum_ok(ipv.source(), ipv.destination()) ? "accepted (wrong!)"
                                                                    : tcpx::make_error_code(tcpx::errc::tcp_bad_checksum).message().c_str());
    return 0;
}
