// tcpx/concepts.hpp — the policy contracts. A stack is
//
//     tcpx::stack<Device, Clock, CongestionControl = cc::reno>
//
// and each template argument must model the concept of the same name below. The
// tables are the specification; the concepts check the syntax, the tests check the
// semantics (tests/tcp/concepts.cpp compiles a minimal model of each, and shows
// that a type missing one expression is rejected with the concept's name).
//
// Legend for the tables:
//   D, C, K  a model type (device, clock, congestion control)
//   d, c, k  an lvalue of that type
//   t        a tcpx::instant (time.hpp)
//   n        a std::size_t byte count
//   f        a callable taking std::span<const std::uint8_t> (one IP packet)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <concepts>

#include <tcpx/cc/events.hpp>
#include <tcpx/time.hpp>

namespace tcpx {

// --------------------------------------------------------------------------------
// clock
//
// | Expression  | Type           | Semantics                                          |
// |-------------|----------------|----------------------------------------------------|
// | c.now()     | tcpx::instant  | the current time; never decreases between calls    |
//
// Exemplar:
//     struct my_clock { tcpx::instant now() const { return tcpx::instant{}; } };
// Models: clocks::steady (real time), clocks::tsc (the same time, read through the
// time-stamp counter), clocks::manual (advanced by the caller).
template <class C>
concept clock = requires(C& c) {
    { c.now() } -> std::same_as<instant>;
};

namespace detail {
/// The packet visitor a device is handed in the concept check (any callable works).
struct packet_visitor_archetype {
    void operator()(std::span<const std::uint8_t>) const {}
};
}  // namespace detail

// --------------------------------------------------------------------------------
// device — moves whole IPv4 packets (no link-layer header).
//
// | Expression                 | Type                      | Semantics                     |
// |----------------------------|---------------------------|-------------------------------|
// | d.mtu()                    | std::size_t               | largest packet d carries      |
// | d.receive(t, f, n)         | std::size_t               | calls f once for each of up   |
// |                            |                           | to n waiting packets, in      |
// |                            |                           | arrival order; returns how    |
// |                            |                           | many. The span is valid only  |
// |                            |                           | during the call to f.         |
// | d.transmit_buffer(n)       | std::span<std::uint8_t>   | writable space for one packet |
// |                            |                           | of up to n (<= mtu()) bytes,  |
// |                            |                           | or an empty span when d can   |
// |                            |                           | take no packet now (the packet|
// |                            |                           | is then dropped by the caller)|
// | d.transmit(n, t)           | void                      | sends the first n bytes of the|
// |                            |                           | last transmit_buffer as one   |
// |                            |                           | packet                        |
// | d.next_deadline()          | tcpx::instant             | when d next has work of its   |
// |                            |                           | own (a delayed packet falls   |
// |                            |                           | due), or tcpx::never          |
//
// No expression allocates per packet. Exemplar: a device that drops everything:
//     struct null_device {
//         std::array<std::uint8_t, 1500> buf;
//         std::size_t mtu() const { return buf.size(); }
//         template <class F> std::size_t receive(tcpx::instant, F&&, std::size_t) { return 0; }
//         std::span<std::uint8_t> transmit_buffer(std::size_t) { return buf; }
//         void transmit(std::size_t, tcpx::instant) {}
//         tcpx::instant next_deadline() const { return tcpx::never; }
//     };
// Models: devices::loopback (in memory), devices::tun (Linux, issue 5), and the decorators
// devices::impaired<D> and devices::pcap<D>, which are devices around a device.
template <class D>
concept device = requires(D& d, const D& cd, instant t, std::size_t n,
                          detail::packet_visitor_archetype f) {
    { cd.mtu() } -> std::same_as<std::size_t>;
    { d.receive(t, f, n) } -> std::same_as<std::size_t>;
    { d.transmit_buffer(n) } -> std::same_as<std::span<std::uint8_t>>;
    { d.transmit(n, t) } -> std::same_as<void>;
    { cd.next_deadline() } -> std::same_as<instant>;
};

// --------------------------------------------------------------------------------
// pollable_device — a device a thread can sleep on (an optional refinement).
//
// | Expression         | Type | Semantics                                              |
// |--------------------|------|--------------------------------------------------------|
// | cd.native_handle() | int  | a file descriptor that poll(2) reports readable (POLLIN)|
// |                    |      | whenever d.receive() would deliver a packet            |
//
// tcpx::wait_for_work (wait.hpp) sleeps on it until a packet arrives or the stack's
// next deadline, whichever comes first. Models: devices::tun, devices::channel; the
// decorators impaired<D> and pcap<D> when D is one. A device without a handle is
// still driven by wait_for_work: it sleeps until the next deadline only.
template <class D>
concept pollable_device = device<D> && requires(const D& cd) {
    { cd.native_handle() } -> std::same_as<int>;
};

// --------------------------------------------------------------------------------
// offload_device — a device whose other side checksums and cuts segments (an optional
// refinement; Linux TUN with IFF_VNET_HDR is one).
//
// | Expression          | Type              | Semantics                                   |
// |---------------------|-------------------|---------------------------------------------|
// | cd.offloads()       | device_offloads   | what the device does for the stack          |
// | d.transmit(n, t, o) | void              | as d.transmit(n, t); o: transmit_offload    |
// |                     |                   | says how to finish the packet               |
//
// Its transmit_buffer(n) takes n up to max_segment_bytes (beyond mtu()) when it cuts
// segments. And on receive, such a device may call f(packet, info) with a packet_info instead of
// f(packet): info.checksum_valid says the transport checksum was verified (or, for a
// packet that never left the host, need not be). The stack accepts both forms.
struct device_offloads {
    bool checksum = false;             ///< transmit: the device fills in TCP checksums
    std::size_t max_segment_bytes = 0; ///< transmit: the largest IPv4 packet it cuts into MSS-sized ones; 0: none
};
struct transmit_offload {
    std::uint16_t segment_size = 0;    ///< cut the payload into pieces of this size; 0: send as it is
    std::uint16_t checksum_start = 0;  ///< checksum_partial: the offset the TCP header starts at
    std::uint16_t checksum_offset = 0; ///< ... and of the checksum field within it
    bool checksum_partial = false;     ///< the checksum field holds only the pseudo-header sum
};
struct packet_info {
    bool checksum_valid = false;
};

template <class D>
concept offload_device = device<D> && requires(D& d, const D& cd, std::size_t n, instant t, transmit_offload o) {
    { cd.offloads() } -> std::same_as<device_offloads>;
    { d.transmit(n, t, o) } -> std::same_as<void>;
};

// --------------------------------------------------------------------------------
// congestion_control — how much may be in flight, per RFC 5681-style events.
//
// |  Expression               | Type         | Semantics                               |
// |---------------------------|--------------|-----------------------------------------|
// | K{i}                      |              | i: cc::init; fresh state at the end of  |
// |                           |              | the handshake (IW from i, §3.1)         |
// | ck.cwnd()                 | uint32_t     | bytes the sender may have in flight     |
// | ck.ssthresh()             | uint32_t     | slow-start threshold, bytes             |
// | ck.in_recovery()          | bool         | inside fast recovery                    |
// | k.on_ack(e)               | cc::action   | e: cc::ack_event; new data acknowledged |
// | k.on_duplicate_ack(e)     | cc::action   | e: cc::duplicate_ack_event              |
// | k.on_timeout(f, t)        | void         | f: FlightSize; RTO fired (§3.1 eq. 4)   |
// | k.on_idle(t)              | void         | sending resumes after an idle period    |
// |                           |              | longer than one RTO (§4.1)              |
//
// | k.on_loss(e)   (optional) | void         | e: cc::loss_event; the sender found a   |
// |                           |              | loss by SACK or time and runs recovery  |
// |                           |              | itself (RFC 6675, PRR): set ssthresh,   |
// |                           |              | cwnd = ssthresh; the next on_ack shown  |
// |                           |              | ends it. Without it, the sender calls   |
// |                           |              | on_duplicate_ack with count 3 instead.  |
//
// A copy-assignable policy also gets undo (RFC 3708, RFC 9438 §4.9): the sender keeps a
// copy from before a SACK recovery's reduction and assigns it back when D-SACK shows
// every retransmission of that recovery needless (config::undo_spurious_reductions).
//
// A policy only reads its arguments and writes itself. Exemplar (no congestion
// control at all: only the receive window limits sending):
//     struct unlimited {
//         explicit unlimited(tcpx::cc::init) {}
//         std::uint32_t cwnd() const { return UINT32_MAX; }
//         std::uint32_t ssthresh() const { return UINT32_MAX; }
//         bool in_recovery() const { return false; }
//         tcpx::cc::action on_ack(const tcpx::cc::ack_event&) { return {}; }
//         tcpx::cc::action on_duplicate_ack(const tcpx::cc::duplicate_ack_event& e)
//         { return e.count == 3 ? tcpx::cc::action::retransmit : tcpx::cc::action::none; }
//         void on_timeout(std::uint32_t, tcpx::instant) {}
//         void on_idle(tcpx::instant) {}
//     };
// Models: cc::reno (RFC 5681, the default), cc::newreno (RFC 6582), cc::cubic (RFC 9438).
template <class K>
concept congestion_control =
    std::constructible_from<K, cc::init> &&
    requires(K& k, const K& ck, const cc::ack_event& a, const cc::duplicate_ack_event& d,
             std::uint32_t flight, instant t) {
        { ck.cwnd() } -> std::same_as<std::uint32_t>;
        { ck.ssthresh() } -> std::same_as<std::uint32_t>;
        { ck.in_recovery() } -> std::same_as<bool>;
        { k.on_ack(a) } -> std::same_as<cc::action>;
        { k.on_duplicate_ack(d) } -> std::same_as<cc::action>;
        { k.on_timeout(flight, t) } -> std::same_as<void>;
        { k.on_idle(t) } -> std::same_as<void>;
    };

}  // namespace tcpx
