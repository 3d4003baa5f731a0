// The congestion-window trace (trace.hpp) and its writer (trace_writer.hpp): a record
// for every change of cwnd or ssthresh, with its time and cause, checked against the
// exact values RFC 5681 prescribes for Reno — §3.1 (IW, slow start with RFC 3465's
// byte counting, congestion avoidance, the loss window), §3.2 (fast retransmit,
// inflation, deflation), §4.1 (restart after idle).
//
// Congestion control is cc::reno with an MSS of 1460: IW = 3 segments (RFC 5681 §3.1 eq. 1).
#include <tcpx/trace.hpp>

#include <doctest/doctest.h>

#include <tcpx/stack.hpp>
#include <tcpx/trace_writer.hpp>

#include <array>
#include <sstream>
#include <string>
#include <vector>

#include "support/scenario.hpp"
#include "support/transfer_helpers.hpp"

namespace doctest {
template <>
struct StringMaker<tcpx::cc_record> {
    static String convert(const tcpx::cc_record& r)
    {
        std::ostringstream s;
        s << "{t=" << r.t.time_since_epoch().count() << "us cwnd=" << r.cwnd << " ssthresh=" << r.ssthresh << ' '
          << tcpx::to_string(r.cause) << '}';
        return s.str().c_str();
    }
};
}  // namespace doctest

using namespace tcpx;
using namespace tcpx::test;

namespace {

constexpr std::uint32_t unset = UINT32_MAX;  // RFC 5681 §3.1: ssthresh "arbitrarily high"

/// establish() (transfer_helpers.hpp) with `trace` attached while in SYN-SENT, so the
/// trace sees the window from its first value.
socket establish_traced(scenario& t, cc_trace& trace, duration rtt = 100ms)
{
    const socket s = t.open_active();
    REQUIRE_FALSE(t.st.set_trace(s, &trace));
    CHECK(trace.size() == 0);  // no window before the handshake completes
    t.advance(rtt);
    wire::tcp_header synack = t.segment(SYN | ACK, t.peer_iss, t.stack_nxt);
    synack.options.mss = 1460;
    t.inject(synack);
    t.peer_nxt = t.peer_iss + 1;
    REQUIRE(t.expect_one().flags() == ACK);
    REQUIRE(t.st.state(s) == tcp::state::established);
    return s;
}

std::vector<cc_record> records_of(const cc_trace& trace) { return {trace.records().begin(), trace.records().end()}; }

}  // namespace

// ---- the sink ----

TEST_CASE("trace_sink_keeps_records_in_order_until_full_then_counts_drops")
{
    // Bounded, no allocation after construction: the caller's storage is all there is.
    std::array<cc_record, 2> storage{};
    cc_trace trace{std::span<cc_record>{storage}};
    CHECK(trace.capacity() == 2);
    const instant t0 = clocks::manual_timeline::start;
    trace.record({t0, 1, 2, cc_cause::ack});
    trace.record({t0 + 1ms, 3, 4, cc_cause::timeout});
    CHECK(trace.full());
    trace.record({t0 + 2ms, 5, 6, cc_cause::ack});
    REQUIRE(trace.size() == 2);
    CHECK(trace.records()[0] == cc_record{t0, 1, 2, cc_cause::ack});
    CHECK(trace.records()[1] == cc_record{t0 + 1ms, 3, 4, cc_cause::timeout});
    CHECK(trace.dropped() == 1);
    CHECK(storage[1].cwnd == 3);  // in the caller's memory
    trace.clear();
    CHECK(trace.size() == 0);
    CHECK(trace.dropped() == 0);
    CHECK(trace.capacity() == 2);
}

TEST_CASE("trace_sink_of_zero_capacity_drops_everything")
{
    cc_trace trace{std::size_t{0}};
    trace.record({});
    CHECK(trace.size() == 0);
    CHECK(trace.dropped() == 1);
}

// ---- records from a connection ----

TEST_CASE("trace_records_initial_window_when_the_connection_is_established")
{
    // RFC 5681 §3.1 eq. 1: SMSS 1460 gives IW = 3 * SMSS; ssthresh starts unset.
    scenario t;
    cc_trace trace{64};
    establish_traced(t, trace);
    CHECK(records_of(trace) == std::vector<cc_record>{{t.time.now(), 4380, unset, cc_cause::established}});
}

TEST_CASE("trace_attached_to_an_established_connection_records_a_baseline")
{
    // Attaching later (a passive open, or a trace started mid-connection) records the
    // values in force, so a plot starts from them.
    scenario t;
    const socket s = establish(t);
    t.advance(5ms);
    cc_trace trace{64};
    REQUIRE_FALSE(t.st.set_trace(s, &trace));
    CHECK(records_of(trace) == std::vector<cc_record>{{t.time.now(), 4380, unset, cc_cause::established}});
}

TEST_CASE("trace_records_each_slow_start_ack_with_its_time")
{
    // RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2 (L = 2*SMSS): an ACK of 1460 bytes adds
    // 1460, an ACK of 2920 adds 2920.
    scenario t;
    cc_trace trace{64};
    const socket s = establish_traced(t, trace);
    const instant t0 = t.time.now();
    t.send(s, pattern(4380));
    REQUIRE(t.sent().size() == 3);
    t.advance(100ms);
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    t.advance(1ms);
    t.inject(t.peer_ack(t.stack_nxt + 4380));
    CHECK(records_of(trace) == std::vector<cc_record>{
                                   {t0, 4380, unset, cc_cause::established},
                                   {t0 + 100ms, 5840, unset, cc_cause::ack},
                                   {t0 + 101ms, 8760, unset, cc_cause::ack},
                               });
}

TEST_CASE("trace_records_fast_retransmit_inflation_and_recovery_exit")
{
    // RFC 5681 §3.2. Five segments in flight after one slow-start ACK (cwnd 5840).
    // Duplicates one and two change nothing (step 1; limited transmit does not touch
    // cwnd, RFC 3042 §2); the third sets ssthresh = max(FlightSize / 2, 2*SMSS) = 2920
    // and cwnd = ssthresh + 3*SMSS = 7300 (steps 2, 3); the fourth inflates by SMSS
    // (step 4); the ACK of new data deflates to ssthresh (step 6).
    scenario t;
    cc_trace trace{64};
    const socket s = establish_traced(t, trace);
    const instant t0 = t.time.now();
    t.send(s, pattern(7300));
    REQUIRE(t.sent().size() == 3);
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    REQUIRE(t.sent().size() == 2);
    const seq32 una = t.stack_nxt + 1460;
    t.advance(10ms);
    t.inject(t.peer_ack(una));
    t.inject(t.peer_ack(una));
    CHECK(trace.size() == 2);  // established, the first ACK
    t.advance(1ms);
    t.inject(t.peer_ack(una));
    (void)t.expect_one();  // the retransmission
    t.advance(1ms);
    t.inject(t.peer_ack(una));
    t.advance(1ms);
    t.inject(t.peer_ack(una + 4 * 1460));
    CHECK(records_of(trace) == std::vector<cc_record>{
                                   {t0, 4380, unset, cc_cause::established},
                                   {t0, 5840, unset, cc_cause::ack},
                                   {t0 + 11ms, 7300, 2920, cc_cause::fast_retransmit},
                                   {t0 + 12ms, 8760, 2920, cc_cause::duplicate_ack},
                                   {t0 + 13ms, 2920, 2920, cc_cause::recovery_exit},
                               });
    CHECK(conn(t, s).stats().fast_retransmits == 1);
}

TEST_CASE("trace_timeout_records_loss_window_then_slow_start_and_avoidance")
{
    // RFC 6298: after a 100 ms handshake RTO = 300 ms. RFC 5681 §3.1: on the timeout
    // ssthresh = max(FlightSize / 2, 2*SMSS) = max(2190, 2920) and cwnd = LW = 1 SMSS;
    // then slow start (RFC 3465 §2.3: L = 1*SMSS after a timeout) reaches 2920 = ssthresh,
    // and congestion avoidance adds SMSS only once a full cwnd of bytes is acknowledged
    // (eq. 3 by byte counting, RFC 3465 §2.1): the ACK of B changes nothing, so no record.
    scenario t;
    cc_trace trace{64};
    const socket s = establish_traced(t, trace);
    const instant t0 = t.time.now();
    t.send(s, pattern(4380));
    REQUIRE(t.sent().size() == 3);
    t.advance(300ms);
    (void)t.expect_one();  // A again
    t.advance(10ms);
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    REQUIRE(t.sent().size() == 2);  // B and C again
    t.advance(10ms);
    t.inject(t.peer_ack(t.stack_nxt + 2920));
    CHECK(trace.size() == 3);
    t.advance(1ms);
    t.inject(t.peer_ack(t.stack_nxt + 4380));
    CHECK(records_of(trace) == std::vector<cc_record>{
                                   {t0, 4380, unset, cc_cause::established},
                                   {t0 + 300ms, 1460, 2920, cc_cause::timeout},
                                   {t0 + 310ms, 2920, 2920, cc_cause::ack},
                                   {t0 + 321ms, 4380, 2920, cc_cause::ack},
                               });
    CHECK(conn(t, s).stats().timeouts == 1);
}

TEST_CASE("trace_records_restart_after_idle")
{
    // RFC 5681 §4.1: after more than an RTO without sending, cwnd restarts from
    // RW = min(IW, cwnd) before new data goes out.
    scenario t;
    cc_trace trace{64};
    const socket s = establish_traced(t, trace);
    t.send(s, pattern(4380));
    REQUIRE(t.sent().size() == 3);
    t.advance(100ms);
    t.inject(t.peer_ack(t.stack_nxt + 4380));
    REQUIRE(trace.size() == 2);
    CHECK(trace.records()[1].cwnd == 4380 + 2920);  // one ACK, RFC 3465's L = 2*SMSS
    t.advance(1s);
    t.send(s, "x");
    (void)t.expect_one();
    REQUIRE(trace.size() == 3);
    CHECK(trace.records()[2] == cc_record{t.time.now(), 4380, unset, cc_cause::idle_restart});
}

TEST_CASE("trace_detached_with_nullptr_records_nothing_more")
{
    scenario t;
    cc_trace trace{64};
    const socket s = establish_traced(t, trace);
    REQUIRE_FALSE(t.st.set_trace(s, nullptr));
    t.send(s, pattern(1460));
    (void)t.expect_one();
    t.inject(t.peer_ack(t.stack_nxt + 1460));
    CHECK(conn(t, s).congestion().cwnd() == 5840);
    CHECK(trace.size() == 1);
}

TEST_CASE("trace_is_detached_when_the_socket_is_closed")
{
    // close() gives the handle up while the connection lives on (FIN-WAIT-1): the
    // user's trace may end with the handle, so the connection stops writing to it. The
    // FIN's retransmission timeout (RFC 6298 §5.4) would otherwise record a loss window.
    scenario t;
    cc_trace trace{64};
    const socket s = establish_traced(t, trace);
    t.send(s, pattern(1460));
    (void)t.expect_one();
    REQUIRE_FALSE(t.st.close(s));
    (void)t.sent();
    REQUIRE(t.advance_to_deadline());
    CHECK(trace.size() == 1);
    CHECK(t.st.set_trace(s, &trace) == errc::bad_handle);
}

// ---- the writer ----

TEST_CASE("trace_writer_csv_has_a_header_and_one_line_per_record")
{
    // Times from the origin in seconds; an unset ssthresh is an empty field.
    const instant t0 = clocks::manual_timeline::start;
    const std::vector<cc_record> r{
        {t0, 4380, unset, cc_cause::established},
        {t0 + 100ms, 5840, unset, cc_cause::ack},
        {t0 + 1500ms, 7300, 2920, cc_cause::fast_retransmit},
        {t0 + 2s + 1us, 1460, 2920, cc_cause::timeout},
    };
    std::ostringstream out;
    write_csv(out, r);
    CHECK(out.str() == "time_s,cwnd,ssthresh,cause\n"
                       "0.000000,4380,,established\n"
                       "0.100000,5840,,ack\n"
                       "1.500000,7300,2920,fast_retransmit\n"
                       "2.000001,1460,2920,timeout\n");
    std::ostringstream shifted;
    write_csv(shifted, std::span{r}.first(1), t0 - 1s);
    CHECK(shifted.str() == "time_s,cwnd,ssthresh,cause\n1.000000,4380,,established\n");
}

TEST_CASE("trace_writer_cause_names_are_distinct")
{
    const cc_cause all[] = {cc_cause::established, cc_cause::ack, cc_cause::duplicate_ack,
                            cc_cause::fast_retransmit, cc_cause::partial_ack, cc_cause::recovery_exit,
                            cc_cause::timeout, cc_cause::idle_restart};
    for (const cc_cause a : all)
        for (const cc_cause b : all) CHECK((to_string(a) == to_string(b)) == (a == b));
}

namespace {
std::size_t count(const std::string& s, std::string_view what)
{
    std::size_t n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}
}  // namespace

TEST_CASE("trace_writer_svg_draws_axes_both_windows_a_legend_and_timeouts")
{
    const instant t0 = clocks::manual_timeline::start;
    const std::vector<cc_record> r{
        {t0, 4380, unset, cc_cause::established},
        {t0 + 1s, 40000, unset, cc_cause::ack},
        {t0 + 2s, 27000, 20000, cc_cause::fast_retransmit},
        {t0 + 3s, 20000, 20000, cc_cause::recovery_exit},
        {t0 + 4s, 1460, 10000, cc_cause::timeout},
    };
    std::ostringstream out;
    write_svg(out, r, {.title = "a <title> & more", .note = "", .width = 800, .height = 400, .origin = {}, .end = t0 + 5s, .mss = 0});
    const std::string svg = out.str();
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    CHECK(svg.ends_with("</svg>\n"));
    CHECK(svg.find("a &lt;title&gt; &amp; more") != std::string::npos);
    CHECK(count(svg, "<polyline") == 2);  // cwnd; ssthresh from its first value on
    CHECK(svg.find(">time (s)</text>") != std::string::npos);
    CHECK(svg.find(">window (bytes)</text>") != std::string::npos);
    CHECK(svg.find(">cwnd</text>") != std::string::npos);
    CHECK(svg.find(">ssthresh</text>") != std::string::npos);
    CHECK(svg.find(">timeout</text>") != std::string::npos);
    CHECK(count(svg, "<circle") == 2);  // the timeout, and its legend entry
    CHECK(svg.find(">5.0</text>") != std::string::npos);  // the x axis reaches `end`
    CHECK(svg.find(">40k</text>") != std::string::npos);  // y ticks in thousands
    CHECK(count(svg, "<") == count(svg, ">"));
}

TEST_CASE("trace_writer_svg_reduces_a_long_trace_to_a_few_points_per_column")
{
    // A million records on 600 pixels: at most four points per column (entering,
    // lowest, highest, leaving), so the file stays small and the shape the same.
    const instant t0 = clocks::manual_timeline::start;
    std::vector<cc_record> r;
    r.reserve(1'000'000);
    for (std::uint32_t i = 0; i < 1'000'000; ++i)
        r.push_back({t0 + duration{i * 60}, 10000 + (i % 1000) * 10, 10000, cc_cause::ack});
    std::ostringstream out;
    write_svg(out, r, {.title = "", .note = "", .width = 600, .height = 300, .origin = {}, .end = {}, .mss = 0});
    const std::string svg = out.str();
    CHECK(count(svg, "<polyline") == 2);
    CHECK(count(svg, ",") < 2 * 4 * 600 + 100);  // one comma per point
    CHECK(svg.size() < 200'000);
}

TEST_CASE("trace_writer_svg_counts_segments_when_given_the_mss")
{
    const instant t0 = clocks::manual_timeline::start;
    const std::vector<cc_record> r{{t0, 14600, unset, cc_cause::established}, {t0 + 1s, 29200, unset, cc_cause::ack}};
    std::ostringstream out;
    write_svg(out, r, {.title = "", .note = "", .width = 800, .height = 400, .origin = {}, .end = {}, .mss = 1460});
    CHECK(out.str().find(">window (segments of 1460 bytes)</text>") != std::string::npos);
    CHECK(out.str().find(">20</text>") != std::string::npos);
}
