// The two ends of an in-memory link (loopback_link, channel_link), each the other's peer.
#pragma once

#include <cassert>
#include <cstddef>

namespace tcpx::devices::detail {

/// Two `End`s built from the same arguments, whose `peer_` members point at each other.
/// `End` befriends end_pair<End>. Not copyable, not movable: the ends point at each
/// other, so moving them would leave the pointers behind.
template <class End>
class end_pair {
public:
    template <class... Args>
    explicit end_pair(const Args&... args) : ends_{End{args...}, End{args...}}
    {
        ends_[0].peer_ = &ends_[1];
        ends_[1].peer_ = &ends_[0];
    }

    end_pair(const end_pair&) = delete;
    end_pair& operator=(const end_pair&) = delete;

    /// End i, i in {0, 1}.
    End& end(std::size_t i) noexcept
    {
        assert(i < 2);
        return ends_[i & 1];
    }
    const End& end(std::size_t i) const noexcept
    {
        assert(i < 2);
        return ends_[i & 1];
    }

private:
    End ends_[2];
};

}  // namespace tcpx::devices::detail
