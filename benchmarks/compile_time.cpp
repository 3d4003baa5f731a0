// How long one translation unit that uses tcpx takes to compile (benchmarks/run,
// benchmarks/compile-profile). It includes <tcpx/stack.hpp> and uses one stack per
// congestion policy, calling enough of the API that each stack's members are
// instantiated. Compiled, never linked or run.
//
//   -DTCPX_COMPILE_POLICIES=1   only cc::reno (one stack)
//   -DTCPX_COMPILE_POLICIES=0   nothing but the include
#include <tcpx/stack.hpp>

#include <cstddef>
#include <cstdint>

#ifndef TCPX_COMPILE_POLICIES
#define TCPX_COMPILE_POLICIES 3
#endif

#if TCPX_COMPILE_POLICIES > 0
namespace {
template <class CongestionControl>
std::size_t exercise()
{
    using stack = tcpx::stack<tcpx::devices::loopback&, tcpx::clocks::steady, CongestionControl>;
    tcpx::devices::loopback_link link;
    stack a{link.end(0), {}, {}};
    stack b{link.end(1), {}, {}};
    std::error_code ec;
    const tcpx::listener l = b.listen(80, 16, ec);
    const tcpx::socket c = a.connect(tcpx::wire::ipv4_address{10, 0, 0, 2}, 80, ec);
    a.poll();
    b.poll();
    const tcpx::socket s = b.accept(l, ec);
    std::uint8_t buffer[64] = {};
    a.set_nodelay(c, true);
    std::size_t n = a.send(c, buffer, ec);
    a.poll();
    b.poll();
    n += b.receive(s, buffer, ec);
    n += a.readable(c) + a.writable(c) + b.peer_closed(s);
    a.shutdown(c);
    a.close(c);
    b.abort(s);
    b.close(l);
    return n + a.connection_count() + b.table_memory_bytes();
}
}  // namespace

std::size_t exercise_reno() { return exercise<tcpx::cc::reno>(); }
#endif
#if TCPX_COMPILE_POLICIES > 1
std::size_t exercise_newreno() { return exercise<tcpx::cc::newreno>(); }
std::size_t exercise_cubic() { return exercise<tcpx::cc::cubic>(); }
#endif
