// ICMP around TCP for tcpx/basic_stack.hpp: echo (ping), errors about our connections,
// protocol unreachable for what we do not speak. Not to be included directly.
//
// Have open: RFC 792, RFC 1122 §3.2.2 (host ICMP), §4.2.3.9 (TCP and ICMP errors),
// RFC 5927 (validating ICMP errors), RFC 1812 §4.3.2.8 (rate-limiting errors).
#pragma once

namespace tcpx {

template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::on_icmp(const wire::ipv4_view& ip, instant now)
{
    const wire::icmp_view msg{ip.payload()};
    if (const auto ec = msg.check(); ec) return drop(drop_reason_for(static_cast<errc>(ec.value())));

    if (msg.type() == wire::icmp_type::echo_request) {
        // RFC 1122 §3.2.2.6 (MUST): answer, returning the data entirely. Only packets to
        // our own address reach here, so the reply's source is cfg_.address.
        if (!cfg_.answer_ping) return drop(drop_reason::icmp_unhandled);
        // A source that names no single host never gets here (stack::source_rejected).
        if (ip.total_length() > device_.mtu()) return send_large_echo_reply(ip, msg, now);
        const std::span<std::uint8_t> out = device_.transmit_buffer(ip.total_length());
        std::size_t written = 0;
        if (out.size() < ip.total_length()) return drop(drop_reason::device_full);
        if (wire::emit_echo_reply(ip, cfg_.address, out, written)) return drop(drop_reason::icmp_unhandled);
        device_.transmit(written, now);
        ++counters_.packets_sent;
        ++counters_.icmp_echo_replies;
        return;
    }
    // Source quench (RFC 6633), redirect (a router's business) and types we do not know
    // change nothing for TCP.
    const tcp::icmp_error error = tcp::classify_icmp(msg);
    if (!wire::is_icmp_error(msg.type()) || error.severity == tcp::icmp_error::kind::ignored)
        return drop(drop_reason::icmp_unhandled);

    // An error about a datagram we sent: find its connection by the quoted 4-tuple. The
    // quote is the header we wrote, so its source is us and its destination the peer.
    const auto quote = msg.quoted_transport();
    if (!quote || quote->protocol != static_cast<std::uint8_t>(wire::ip_protocol::tcp) ||
        quote->source != cfg_.address)
        return drop(drop_reason::icmp_unmatched);
    const std::uint32_t* found = table_.find(key_of(quote->destination, quote->destination_port, quote->source_port));
    if (found == nullptr) return drop(drop_reason::icmp_unmatched);
    const std::uint32_t index = *found;
    slot& s = slots_[index];
    const tcp::state before = s.conn.state();
    // RFC 5927 §4.1: the connection checks that the quoted sequence number is in flight.
    if (!s.conn.on_icmp_error(error, quote->sequence)) return drop(drop_reason::icmp_unmatched);
    ++counters_.icmp_errors_received;
    after_input(index, before, now);
}

// RFC 1122 §3.2.2.6: the reply to a request that came in fragments returns all of its
// data too, in fragments (the truncation §3.2.2.6 allows is for a host that does not
// fragment). The request's checksum, verified, is updated for the changed type (RFC
// 1624) rather than summed again, and the fragments are cut from the request itself.
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_large_echo_reply(const wire::ipv4_view& ip, const wire::icmp_view& msg, instant now)
{
    const std::span<const std::uint8_t> message = ip.payload();
    const auto head =
        detail::echo_reply_head(message, msg.checksum(), static_cast<std::uint8_t>(wire::icmp_type::echo_reply));
    wire::ipv4_header reply;
    reply.source = cfg_.address;
    reply.destination = ip.source();
    reply.protocol = static_cast<std::uint8_t>(wire::ip_protocol::icmp);
    reply.tos = ip.tos() & 0xfcu;  // RFC 1349 §5.1, without the ECN field (as emit_echo_reply)
    send_fragmented_icmp(reply, head, message, now);
    ++counters_.icmp_echo_replies;
}

// RFC 1122 §3.2.2.1: "A host SHOULD generate Destination Unreachable messages with code
// 2 (Protocol Unreachable), when the designated transport protocol is not supported".
template <device Device, clock Clock, congestion_control CC>
void stack<Device, Clock, CC>::send_protocol_unreachable(const wire::ipv4_view& ip, instant now)
{
    if (!wire::may_send_icmp_error(ip)) return;  // RFC 1122 §3.2.2: never about an error, a broadcast ...
    if (!take_icmp_error_token(now)) {
        ++counters_.icmp_errors_limited;
        return;
    }
    const std::size_t room = std::min<std::size_t>(device_.mtu(), wire::icmp_error_max_size);
    const std::span<std::uint8_t> out = device_.transmit_buffer(room);
    std::size_t written = 0;
    if (out.empty()) return drop(drop_reason::device_full);
    if (wire::emit_destination_unreachable(wire::unreachable_code::protocol, ip, cfg_.address, out, written)) return;
    device_.transmit(written, now);
    ++counters_.packets_sent;
    ++counters_.icmp_errors_sent;
}

// RFC 1812 §4.3.2.8: a token bucket of icmp_errors_per_second tokens, refilled continuously.
template <device Device, clock Clock, congestion_control CC>
bool stack<Device, Clock, CC>::take_icmp_error_token(instant now) noexcept
{
    const double rate = cfg_.icmp_errors_per_second;
    if (rate == 0) return false;
    const double elapsed = std::chrono::duration<double>(now - icmp_tokens_at_).count();
    icmp_tokens_ = std::min(rate, icmp_tokens_ + elapsed * rate);
    icmp_tokens_at_ = now;
    if (icmp_tokens_ < 1) return false;
    icmp_tokens_ -= 1;
    return true;
}

}  // namespace tcpx
