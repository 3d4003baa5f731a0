// Must NOT compile: a congestion-control policy without on_timeout.
#include <tcpx/stack.hpp>

struct half_a_policy {
    explicit half_a_policy(tcpx::cc::init) {}
    std::uint32_t cwnd() const { return 0; }
};

int main()
{
    tcpx::devices::loopback_link link;
    tcpx::clocks::manual_timeline time;
    tcpx::stack<tcpx::devices::loopback&, tcpx::clocks::manual, half_a_policy> s{link.end(0), tcpx::clocks::manual{time}};
    (void)s;
}
