// Tests for tcpx/error.hpp: the tcpx error category and its mapping to std::errc.
#include <tcpx/error.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints a failed std::error_code comparison through it
#include <set>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

// The ranges error.hpp declares, first and last value of each block.
constexpr std::pair<int, int> errc_ranges[] = {
    {1, 17},     // socket API: would_block .. stack_stopped
    {100, 107},  // IPv4 parsing: ipv4_truncated .. ipv4_bad_option
    {200, 207},  // TCP parsing: tcp_truncated .. tcp_bad_port
    {300, 301},  // ICMP parsing: icmp_truncated .. icmp_bad_checksum
    {500, 504},  // devices: device_unavailable .. device_io_error
    {400, 401},  // emitting: buffer_too_small .. options_too_long
    {600, 612},  // IPv6 parsing: ipv6_truncated .. ipv6_unrecognized_next_header
    {700, 701},  // ICMPv6 parsing: icmpv6_truncated .. icmpv6_bad_checksum
};

std::vector<tcpx::errc> every_errc()
{
    std::vector<tcpx::errc> all;
    for (const auto& [first, last] : errc_ranges)
        for (int v = first; v <= last; ++v) all.push_back(static_cast<tcpx::errc>(v));
    return all;
}

// The values that describe a wire-format rejection: none has a POSIX meaning.
bool is_parse_or_emit_error(tcpx::errc e)
{
    const int v = static_cast<int>(e);
    return (v >= 100 && v < 500) || v >= 600;  // 500..: devices, which do map to POSIX values
}

}  // namespace

static_assert(std::is_error_code_enum_v<tcpx::errc>);
static_assert(!std::is_error_condition_enum_v<tcpx::errc>);

// The ranges above are the ones error.hpp declares: the named endpoints sit where we think.
TEST_CASE("errc_ranges_match_the_declared_enumerators")
{
    using tcpx::errc;
    CHECK(static_cast<int>(errc::would_block) == 1);
    CHECK(static_cast<int>(errc::message_too_long) == 15);
    CHECK(static_cast<int>(errc::ipv4_truncated) == 100);
    CHECK(static_cast<int>(errc::ipv4_bad_option) == 107);
    CHECK(static_cast<int>(errc::tcp_truncated) == 200);
    CHECK(static_cast<int>(errc::tcp_bad_port) == 207);
    CHECK(static_cast<int>(errc::icmp_truncated) == 300);
    CHECK(static_cast<int>(errc::icmp_bad_checksum) == 301);
    CHECK(static_cast<int>(errc::buffer_too_small) == 400);
    CHECK(static_cast<int>(errc::options_too_long) == 401);
    CHECK(static_cast<int>(errc::ipv6_truncated) == 600);
    CHECK(static_cast<int>(errc::ipv6_unrecognized_next_header) == 612);
    CHECK(static_cast<int>(errc::icmpv6_truncated) == 700);
    CHECK(static_cast<int>(errc::icmpv6_bad_checksum) == 701);
}

// DESIGN.md: each drop is counted under a named reason, so every value needs its own text.
TEST_CASE("errc_every_value_has_a_non_empty_distinct_message")
{
    std::set<std::string> seen;
    for (const tcpx::errc e : every_errc()) {
        const std::error_code ec = e;
        CAPTURE(ec.value());
        const std::string message = ec.message();
        CHECK_FALSE(message.empty());
        CHECK(message != "unknown tcpx error");
        CHECK(seen.insert(message).second);
    }
    CHECK(seen.size() == every_errc().size());
}

// A value outside the enumeration still gets a message rather than undefined behaviour.
TEST_CASE("errc_value_outside_the_enumeration_says_unknown")
{
    const std::error_code ec{999, tcpx::error_category()};
    CHECK(ec.message() == "unknown tcpx error");
    CHECK(ec != std::errc::invalid_argument);
}

TEST_CASE("errc_category_is_named_tcpx_and_is_one_object")
{
    CHECK(std::string{tcpx::error_category().name()} == "tcpx");
    CHECK(&tcpx::error_category() == &tcpx::error_category());
    const std::error_code ec = tcpx::errc::timed_out;
    CHECK(&ec.category() == &tcpx::error_category());
    CHECK(ec.category() != std::generic_category());
    CHECK(ec.category() != std::system_category());
}

// std::is_error_code_enum lets an errc convert implicitly, as std::errc does for conditions.
TEST_CASE("errc_converts_implicitly_to_error_code")
{
    std::error_code ec = tcpx::errc::connection_refused;
    CHECK(ec);
    CHECK(ec.value() == static_cast<int>(tcpx::errc::connection_refused));
    CHECK(ec == tcpx::errc::connection_refused);
    CHECK(ec != tcpx::errc::connection_reset);
    ec = tcpx::errc::tcp_bad_checksum;
    CHECK(ec == tcpx::make_error_code(tcpx::errc::tcp_bad_checksum));
    // A default error_code is success, and no tcpx value is.
    CHECK_FALSE(std::error_code{});
    for (const tcpx::errc e : every_errc()) CHECK(std::error_code{e});
}

// STYLE.md: values that have a POSIX equivalent compare equal to it, as Asio's do.
TEST_CASE("errc_socket_errors_compare_equal_to_their_std_errc")
{
    using tcpx::errc;
    const std::pair<errc, std::errc> mapped[] = {
        {errc::would_block, std::errc::operation_would_block},
        {errc::connection_refused, std::errc::connection_refused},
        {errc::connection_reset, std::errc::connection_reset},
        {errc::connection_aborted, std::errc::connection_aborted},
        {errc::timed_out, std::errc::timed_out},
        {errc::not_connected, std::errc::not_connected},
        {errc::connection_closing, std::errc::broken_pipe},
        {errc::already_connected, std::errc::already_connected},
        {errc::address_in_use, std::errc::address_in_use},
        {errc::bad_handle, std::errc::bad_file_descriptor},
        {errc::no_buffer_space, std::errc::no_buffer_space},
        {errc::invalid_argument, std::errc::invalid_argument},
        {errc::host_unreachable, std::errc::host_unreachable},
        // An ICMP port/protocol unreachable reports as ECONNREFUSED, as Linux does.
        {errc::protocol_unreachable, std::errc::connection_refused},
        {errc::message_too_long, std::errc::message_size},
        {errc::stack_stopped, std::errc::operation_canceled},
        {errc::device_unavailable, std::errc::no_such_device},
        {errc::device_permission_denied, std::errc::operation_not_permitted},
        {errc::interface_in_use, std::errc::device_or_resource_busy},
        {errc::bad_address, std::errc::address_not_available},
        {errc::device_io_error, std::errc::io_error},
    };
    for (const auto& [ours, posix] : mapped) {
        const std::error_code ec = ours;
        CAPTURE(ec.message());
        CHECK(ec == posix);
        CHECK(ec.default_error_condition() == std::make_error_condition(posix));
    }
    // Spot checks written the way user code reads.
    const std::error_code refused = errc::connection_refused;
    CHECK(refused == std::errc::connection_refused);
    CHECK(refused != std::errc::connection_reset);
    const std::error_code timed_out = errc::timed_out;
    CHECK(timed_out == std::errc::timed_out);
    const std::error_code reset = errc::connection_reset;
    CHECK(reset == std::errc::connection_reset);
    CHECK(reset != std::errc::connection_refused);
    const std::error_code would_block = errc::would_block;
    CHECK(would_block == std::errc::operation_would_block);
}

// Each socket error maps to exactly the condition above and to no other std::errc.
TEST_CASE("errc_socket_errors_match_no_unrelated_std_errc")
{
    for (int v = 1; v <= 17; ++v) {
        if (v == 16) continue;  // end_of_stream has no POSIX meaning
        const std::error_code ec{v, tcpx::error_category()};
        const std::error_condition mine = ec.default_error_condition();
        CAPTURE(ec.message());
        for (int posix = 1; posix < 256; ++posix) {
            const std::error_condition other = std::make_error_condition(static_cast<std::errc>(posix));
            if (other == mine) continue;
            CHECK(ec != other);
        }
    }
}

// A parse or emit failure has no POSIX meaning: it must not pass for one (value 100,
// ipv4_truncated, is ENETDOWN's number on Linux; the category keeps them apart).
TEST_CASE("errc_parse_errors_compare_equal_to_no_std_errc")
{
    for (const tcpx::errc e : every_errc()) {
        if (!is_parse_or_emit_error(e)) continue;
        const std::error_code ec = e;
        CAPTURE(ec.message());
        CHECK(ec.default_error_condition().category() == tcpx::error_category());
        for (int posix = 0; posix < 256; ++posix)
            CHECK(ec != std::make_error_condition(static_cast<std::errc>(posix)));
        // and not to a system error_code carrying the same number
        CHECK(ec != std::error_code{ec.value(), std::generic_category()});
        CHECK(ec != std::error_code{ec.value(), std::system_category()});
    }
}
