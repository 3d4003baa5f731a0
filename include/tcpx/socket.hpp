// tcpx/socket.hpp — handles to a stack's connections and listeners.
//
// A handle is a slot index and the slot's generation when the handle was made. When
// the slot is reused its generation moves on, so an old handle is recognised as
// stale (errc::bad_handle) instead of reaching somebody else's connection.
#pragma once

#include <cstdint>

namespace tcpx {

namespace detail {
template <class Tag>
struct handle {
    static constexpr std::uint32_t no_index = UINT32_MAX;
    std::uint32_t index = no_index;
    std::uint32_t generation = 0;

    constexpr bool valid() const noexcept { return index != no_index; }
    constexpr explicit operator bool() const noexcept { return valid(); }
    friend constexpr bool operator==(handle, handle) noexcept = default;
};
struct socket_tag {};
struct listener_tag {};
}  // namespace detail

/// A connection: from connect() or accept(), valid until close() or abort().
using socket = detail::handle<detail::socket_tag>;
/// A listening port: from listen(), valid until close().
using listener = detail::handle<detail::listener_tag>;

}  // namespace tcpx
