// tcpx/tcp/prr.hpp — Proportional Rate Reduction (RFC 6937): how much a sender in loss
// recovery may send on each ACK, so that the window falls smoothly from where it was
// to the congestion policy's ssthresh instead of in one step (RFC 5681's halving sends
// nothing for half a round trip, then a burst), and a recovery that loses more than
// the reduction asked for rebuilds towards ssthresh by slow start, not further down.
//
// Have open: RFC 6937 §3 (the algorithm, with PRR-SSRB as the reduction bound, the
// one it recommends), §3.1 (examples). Quantities are bytes.
//
// The connection owns the loss recovery (RFC 6675); the policy only chose ssthresh
// when recovery began. PRR is independent of which policy that was.
#pragma once

#include <algorithm>
#include <cstdint>

namespace tcpx::tcp {

class prr {
public:
    /// RFC 6937 §3 "At the beginning of recovery": prr_delivered = prr_out = 0,
    /// RecoverFS = snd.nxt - snd.una (the RFC's snd.nxt: the highest sent).
    void start(std::uint32_t recover_fs) noexcept
    {
        prr_delivered_ = 0;
        prr_out_ = 0;
        recover_fs_ = std::max<std::uint32_t>(recover_fs, 1);
    }

    /// RFC 6937 §3 "On every ACK during recovery": `delivered` is DeliveredData (the
    /// change in snd.una plus the change in SACKed bytes), `pipe` RFC 6675's estimate
    /// after this ACK. Returns sndcnt, the bytes that may be sent now.
    std::uint32_t on_ack(std::uint32_t delivered, std::uint32_t pipe, std::uint32_t ssthresh,
                         std::uint32_t smss) noexcept
    {
        prr_delivered_ += delivered;
        std::int64_t sndcnt = 0;
        if (pipe > ssthresh) {
            // Proportional part: sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
            const std::uint64_t due = (prr_delivered_ * ssthresh + recover_fs_ - 1) / recover_fs_;
            sndcnt = static_cast<std::int64_t>(due) - static_cast<std::int64_t>(prr_out_);
        } else {
            // PRR-SSRB: limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS;
            // sndcnt = MIN(ssthresh - pipe, limit).
            const std::int64_t owed = static_cast<std::int64_t>(prr_delivered_) - static_cast<std::int64_t>(prr_out_);
            const std::int64_t limit = std::max<std::int64_t>(owed, delivered) + smss;
            sndcnt = std::min<std::int64_t>(static_cast<std::int64_t>(ssthresh - pipe), limit);
        }
        return static_cast<std::uint32_t>(std::max<std::int64_t>(sndcnt, 0));
    }

    /// RFC 6937 §3 "On any data transmission or retransmission": prr_out += data sent.
    void on_sent(std::uint32_t bytes) noexcept { prr_out_ += bytes; }

    std::uint64_t delivered() const noexcept { return prr_delivered_; }
    std::uint64_t out() const noexcept { return prr_out_; }
    std::uint32_t recover_fs() const noexcept { return recover_fs_; }

private:
    std::uint64_t prr_delivered_ = 0;
    std::uint64_t prr_out_ = 0;
    std::uint32_t recover_fs_ = 1;
};

}  // namespace tcpx::tcp
