// Must NOT compile: a stack over a type that is no device. The build log must name
// the concept that was violated (tests/meson.build checks for "device").
#include <tcpx/stack.hpp>

struct not_a_device {
    std::size_t mtu() const { return 1500; }  // and nothing else
};

int main()
{
    tcpx::clocks::manual_timeline time;
    tcpx::stack<not_a_device, tcpx::clocks::manual> s{not_a_device{}, tcpx::clocks::manual{time}};
    (void)s;
}
