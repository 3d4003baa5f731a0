// tcpx/stack.hpp — the one header a user includes.
//
//     #include <tcpx/stack.hpp>
//     tcpx::devices::loopback_link link;
//     tcpx::clocks::manual_timeline time;
//     tcpx::stack<tcpx::devices::loopback&, tcpx::clocks::manual> a{link.end(0), tcpx::clocks::manual{time}};
//
// Brings the stack (basic_stack.hpp), every in-memory device, clock and
// congestion-control policy, wait_for_work, and the wire layer. Two headers are
// separate because they bring system headers along: <tcpx/device/tun.hpp> (the Linux
// TUN interface; <sys/socket.h> declares a ::socket that an unqualified `socket`
// would clash with under `using namespace tcpx`) and <tcpx/blocking.hpp> (threads). README.md maps each header to the RFCs it implements.
#pragma once

#include <tcpx/basic_stack.hpp>
#include <tcpx/cc/cubic.hpp>
#include <tcpx/cc/newreno.hpp>
#include <tcpx/cc/reno.hpp>
#include <tcpx/clock/manual.hpp>
#include <tcpx/clock/steady.hpp>
#include <tcpx/clock/tsc.hpp>
#include <tcpx/concepts.hpp>
#include <tcpx/config.hpp>
#include <tcpx/counters.hpp>
#include <tcpx/device/impaired.hpp>
#include <tcpx/device/loopback.hpp>
#include <tcpx/device/pcap.hpp>
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
