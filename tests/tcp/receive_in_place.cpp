// stack::receive_in_place (basic_stack.hpp): reading without a copy. The bytes handed
// to the callback are the stack's own, in order, run by run; what the callback says it
// took is consumed exactly as receive() would have consumed it, window updates included
// (RFC 1122 §4.2.3.3); errors are receive()'s.
#include <tcpx/stack.hpp>

#include <doctest/doctest.h>

#include <string>

#include "support/scenario.hpp"
#include "support/transfer_helpers.hpp"

using namespace tcpx;
using namespace tcpx::test;

namespace {

// Everything readable now, in place, run by run; also counts the runs.
std::string take_all(scenario& t, socket s, int* runs = nullptr, std::error_code* error = nullptr)
{
    std::string got;
    std::error_code ec;
    const std::size_t n = t.st.receive_in_place(s, [&](std::span<const std::uint8_t> run) {
        got.append(run.begin(), run.end());
        if (runs != nullptr) ++*runs;
        return run.size();
    }, ec);
    CHECK(n == got.size());
    if (error != nullptr) *error = ec;
    return got;
}

}  // namespace

TEST_CASE("established_receive_in_place_hands_over_every_byte_in_order_across_chunks")
{
    // 40 KiB in 1000-byte segments: the receive buffer's 16 KiB chunks make three runs.
    scenario t;
    const socket s = establish(t);
    std::string sent;
    for (std::uint32_t at = 0; at < 40'000; at += 1000) {
        const std::string piece = pattern(1000, at);
        inject_data(t, t.peer_nxt + at, t.stack_nxt, piece);
        sent += piece;
    }
    int runs = 0;
    CHECK(take_all(t, s, &runs) == sent);
    CHECK(runs >= 3);
    CHECK_FALSE(t.st.readable(s));
    CHECK(t.st.pool().bytes_in_use() == 0);  // everything consumed: no chunk held
}

TEST_CASE("established_receive_in_place_partial_take_leaves_the_rest_for_the_next_read")
{
    scenario t;
    const socket s = establish(t);
    const std::string text = pattern(3000, 0);
    inject_data(t, t.peer_nxt, t.stack_nxt, text);
    std::error_code ec;
    std::string got;
    const std::size_t n = t.st.receive_in_place(s, [&](std::span<const std::uint8_t> run) {
        got.append(run.begin(), run.begin() + 1200);  // takes 1200, stops
        return std::size_t{1200};
    }, ec);
    CHECK_FALSE(ec);
    CHECK(n == 1200);
    CHECK(got == text.substr(0, 1200));
    CHECK(t.receive(s) == text.substr(1200));  // receive() goes on where it stopped
}

TEST_CASE("established_receive_in_place_taking_nothing_consumes_nothing")
{
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, "hello");
    std::error_code ec;
    CHECK(t.st.receive_in_place(s, [](std::span<const std::uint8_t>) { return std::size_t{0}; }, ec) == 0);
    CHECK_FALSE(ec);
    CHECK(t.receive(s) == "hello");
}

TEST_CASE("established_receive_in_place_a_take_claiming_more_than_the_run_takes_the_run")
{
    scenario t;
    const socket s = establish(t);
    inject_data(t, t.peer_nxt, t.stack_nxt, "abc");
    std::error_code ec;
    CHECK(t.st.receive_in_place(s, [](std::span<const std::uint8_t>) { return std::size_t{1000}; }, ec) == 3);
    CHECK_FALSE(t.st.readable(s));
}

TEST_CASE("established_receive_in_place_errors_are_receives")
{
    scenario t;
    const socket s = establish(t);
    std::error_code ec;
    (void)take_all(t, s, nullptr, &ec);
    CHECK(ec == errc::would_block);
    inject_data(t, t.peer_nxt, t.stack_nxt, "bye");
    t.inject(t.segment(ACK | FIN, t.peer_nxt + 3, t.stack_nxt));
    CHECK(take_all(t, s, nullptr, &ec) == "bye");
    CHECK_FALSE(ec);
    (void)take_all(t, s, nullptr, &ec);
    CHECK(ec == errc::end_of_stream);
    CHECK(t.st.receive_in_place(socket{}, [](std::span<const std::uint8_t> r) { return r.size(); }, ec) == 0);
    CHECK(ec == errc::bad_handle);
}

TEST_CASE("established_receive_in_place_reading_everything_reopens_the_window_with_an_update")
{
    // As flow_reading_everything_reopens_window_with_an_update, read in place.
    config c = scenario_config();
    c.receive_buffer = 8192;
    scenario t{c};
    const socket s = establish(t);
    for (std::uint32_t at = 0; at < 8192; at += 1460)
        inject_data(t, t.peer_nxt + at, t.stack_nxt, pattern(std::min<std::uint32_t>(1460, 8192 - at), at));
    t.peer_nxt = t.peer_nxt + 8192;
    t.advance(t.st.configuration().delayed_ack);
    (void)t.sent();
    CHECK(take_all(t, s).size() == 8192);
    check_segment(t.expect_one(), ACK, t.stack_nxt, t.peer_nxt, 8192);
}
