// tcpx/tcp/icmp_error.hpp — what an ICMP error message means to a TCP connection.
//
// Have open: RFC 1122 §4.2.3.9 (which messages are soft and which hard), RFC 5927
// (ICMP attacks against TCP: act on hard errors only while opening, validate the
// quoted sequence number), RFC 1191 §4 (fragmentation needed: a smaller path MTU),
// RFC 6633 (source quench is ignored), RFC 1812 §5.2.7.1 (code 13, administratively
// prohibited).
#pragma once

#include <cstdint>

#include <tcpx/error.hpp>
#include <tcpx/wire/icmp.hpp>

namespace tcpx::tcp {

/// An ICMP error, classified for TCP.
struct icmp_error {
    enum class kind : std::uint8_t {
        ignored,               ///< nothing for TCP to do (source quench, RFC 6633)
        soft,                  ///< remembered; reported if the connection times out
        hard,                  ///< aborts a connection attempt (RFC 5927 §4.2: only then)
        fragmentation_needed,  ///< RFC 1191: send smaller segments
    };
    kind severity = kind::ignored;
    errc error{};                    ///< what the user is told
    std::uint16_t next_hop_mtu = 0;  ///< fragmentation_needed: the MTU the router reported
};

/// RFC 1122 §4.2.3.9 applied to an ICMP error message (a view that passed check()).
inline icmp_error classify_icmp(const wire::icmp_view& m) noexcept
{
    using k = icmp_error::kind;
    using u = wire::unreachable_code;
    switch (m.type()) {
    case wire::icmp_type::destination_unreachable:
        switch (static_cast<u>(m.code())) {
        // "codes 0, 1, 5: ... soft error conditions, TCP MUST NOT abort the connection";
        // the codes RFC 1122 §3.2.2.1 added about networks and hosts are alike.
        case u::network: case u::host: case u::source_route_failed: case u::network_unknown:
        case u::host_unknown: case u::source_host_isolated: case u::network_unreachable_for_tos:
        case u::host_unreachable_for_tos:
            return {k::soft, errc::host_unreachable, 0};
        // "codes 2-4: These are hard error conditions": protocol and port unreachable
        // mean nobody is there, which the user sees as "refused".
        case u::protocol: case u::port:
            return {k::hard, errc::protocol_unreachable, 0};
        case u::fragmentation_needed:  // RFC 1191 path MTU discovery
            return {k::fragmentation_needed, errc::message_too_long, m.next_hop_mtu()};
        // RFC 1812 §5.2.7.1 / RFC 1122 codes 9, 10: administratively prohibited — a
        // filter, as final as a closed port (Linux treats them as hard too).
        case u::network_prohibited: case u::host_prohibited: case u::communication_prohibited:
            return {k::hard, errc::host_unreachable, 0};
        case u::host_precedence_violation: case u::precedence_cutoff:
            return {k::soft, errc::host_unreachable, 0};
        }
        return {k::soft, errc::host_unreachable, 0};  // a code from after RFC 1812
    case wire::icmp_type::source_quench:  // RFC 6633 §1: "MUST silently discard"
    case wire::icmp_type::redirect:       // a router's business (RFC 1122 §3.2.2.2), not TCP's
        return {};
    case wire::icmp_type::time_exceeded:      // "tell AL, don't abort"
    case wire::icmp_type::parameter_problem:  // likewise
        return {k::soft, errc::host_unreachable, 0};
    case wire::icmp_type::echo_reply:
    case wire::icmp_type::echo_request:
        return {};
    }
    return {};
}

}  // namespace tcpx::tcp
