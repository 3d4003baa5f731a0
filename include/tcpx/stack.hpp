// tcpx/stack.hpp — the one header a user includes.
//
//     #include <tcpx/stack.hpp>
//     tcpx::devices::loopback_link link;
//     tcpx::clocks::manual_timeline time;
//     tcpx::stack<tcpx::devices::loopback&, tcpx::clocks::manual> a{link.end(0), tcpx::clocks::manual{time}};
//
// Brings the stack (basic_stack.hpp), every device (the Linux TUN interface
// included), clock and congestion-control policy, wait_for_work, and the wire layer.
// The blocking facade is separate: <tcpx/blocking.hpp>. README.md maps each header to the RFCs it implements.
#pragma once

#include <tcpx/basic_stack.hpp>
#include <tcpx/cc/cubic.hpp>
#include <tcpx/cc/newreno.hpp>
#include <tcpx/cc/reno.hpp>
#include <tcpx/clock/manual.hpp>
#include <tcpx/clock/steady.hpp>
#include <tcpx/concepts.hpp>
#include <tcpx/config.hpp>
#include <tcpx/counters.hpp>
#include <tcpx/device/impaired.hpp>
#include <tcpx/device/loopback.hpp>
#include <tcpx/device/pcap.hpp>
#include <tcpx/device/tun.hpp>
#include <tcpx/error.hpp>
#include <tcpx/socket.hpp>
#include <tcpx/time.hpp>
#include <tcpx/wait.hpp>
#include <tcpx/wakeup.hpp>
#include <tcpx/wire/checksum.hpp>
#include <tcpx/wire/icmp.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/seq32.hpp>
#include <tcpx/wire/tcp_header.hpp>
#include <tcpx/wire/tcp_options.hpp>
