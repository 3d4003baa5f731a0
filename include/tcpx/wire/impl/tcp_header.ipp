// Bodies for tcpx/wire/tcp_header.hpp. Not to be included directly.
#pragma once

namespace tcpx::wire {

inline std::string to_string(tcp_flags flags)
{
    static constexpr struct { tcp_flags flag; const char* name; } names[] = {
        {tcp_flags::cwr, "CWR"}, {tcp_flags::ece, "ECE"}, {tcp_flags::urg, "URG"},
        {tcp_flags::ack, "ACK"}, {tcp_flags::psh, "PSH"}, {tcp_flags::rst, "RST"},
        {tcp_flags::syn, "SYN"}, {tcp_flags::fin, "FIN"},
    };
    std::string s;
    for (const auto& n : names) {
        if (!has(flags, n.flag)) continue;
        if (!s.empty()) s += '|';
        s += n.name;
    }
    return s.empty() ? std::string{"none"} : s;
}

inline std::error_code tcp_view::check() const noexcept
{
    if (bytes_.size() < tcp_field::fixed_size) return errc::tcp_truncated;
    // RFC 9293 §3.1: the data offset counts 32-bit words of header, at least 5;
    // RFC 1122 §4.2.2.5 asks us to survive any value without crashing.
    if (header_length() < tcp_field::fixed_size) return errc::tcp_bad_data_offset;
    if (header_length() > bytes_.size()) return errc::tcp_data_offset_beyond_segment;
    return {};
}

inline bool tcp_view::checksum_ok(ipv4_address source, ipv4_address destination) const noexcept
{
    checksum_accumulator acc;
    add_tcp_pseudo_header(acc, source, destination, bytes_.size());
    acc.add(bytes_);
    return acc.sum() == 0xffff;
}

inline checksum_accumulator tcp_view::header_sum(ipv4_address source, ipv4_address destination) const noexcept
{
    checksum_accumulator acc;
    add_tcp_pseudo_header(acc, source, destination, bytes_.size());
    // Bounded even if check() was skipped: a data offset past the end sums every byte.
    acc.add(bytes_.first(std::min(header_length(), bytes_.size())));
    return acc;
}

inline std::error_code tcp_header::parse(const tcp_view& view, tcp_header& out) noexcept
{
    out.source_port = view.source_port();
    out.destination_port = view.destination_port();
    out.seq = view.seq();
    out.ack = view.ack();
    out.flags = view.flags();
    out.window = view.window();
    out.urgent_pointer = view.urgent_pointer();
    out.options = tcp_options{};
    return parse_tcp_options(view.options_area(), out.options);
}

inline std::error_code tcp_header::emit(std::span<std::uint8_t> out) const noexcept
{
    using boost::endian::store_big_u16;
    using boost::endian::store_big_u32;
    const std::size_t length = size();
    if (out.size() < length) return errc::buffer_too_small;
    if (length > tcp_field::max_size) return errc::options_too_long;
    std::uint8_t* p = out.data();
    store_big_u16(p + tcp_field::source_port, source_port);
    store_big_u16(p + tcp_field::destination_port, destination_port);
    store_big_u32(p + tcp_field::seq, seq.value());
    store_big_u32(p + tcp_field::ack, ack.value());
    p[tcp_field::data_offset] = static_cast<std::uint8_t>((length / 4) << 4);
    p[tcp_field::flags] = static_cast<std::uint8_t>(flags);
    store_big_u16(p + tcp_field::window, window);
    store_big_u16(p + tcp_field::checksum, 0);
    store_big_u16(p + tcp_field::urgent_pointer, urgent_pointer);
    write_tcp_options(options, out.subspan(tcp_field::fixed_size, length - tcp_field::fixed_size));
    return {};
}

inline void add_tcp_pseudo_header(checksum_accumulator& acc, ipv4_address source,
                                  ipv4_address destination, std::size_t segment_length) noexcept
{
    add_ipv4_pseudo_header(acc, source.value, destination.value,
                           static_cast<std::uint8_t>(ip_protocol::tcp),
                           static_cast<std::uint16_t>(segment_length));
}

inline void store_tcp_checksum(std::span<std::uint8_t> header, checksum_accumulator payload,
                               ipv4_address source, ipv4_address destination,
                               std::size_t segment_length) noexcept
{
    // The payload starts at an even offset (the header is whole 32-bit words), so
    // its folded sum joins the header's as one more 16-bit word, whatever its parity.
    checksum_accumulator acc;
    add_tcp_pseudo_header(acc, source, destination, segment_length);
    acc.add(header);
    acc.add_u16(payload.sum());
    boost::endian::store_big_u16(header.data() + tcp_field::checksum, acc.finish());
}

inline void store_tcp_pseudo_header_sum(std::span<std::uint8_t> segment, ipv4_address source,
                                        ipv4_address destination) noexcept
{
    checksum_accumulator acc;
    add_tcp_pseudo_header(acc, source, destination, segment.size());
    boost::endian::store_big_u16(segment.data() + tcp_field::checksum, acc.sum());
}

inline void fill_tcp_checksum(std::span<std::uint8_t> segment, ipv4_address source,
                              ipv4_address destination) noexcept
{
    boost::endian::store_big_u16(segment.data() + tcp_field::checksum, 0);
    checksum_accumulator acc;
    add_tcp_pseudo_header(acc, source, destination, segment.size());
    acc.add(segment);
    boost::endian::store_big_u16(segment.data() + tcp_field::checksum, acc.finish());
}

}  // namespace tcpx::wire
