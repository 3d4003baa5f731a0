// tcpx/trace.hpp — a congestion-window trace: every change of cwnd and ssthresh,
// with its time and its cause, as the sender saw it.
//
// Have open: RFC 5681 §3.1 (slow start, congestion avoidance, the loss window),
// §3.2 (fast retransmit / fast recovery), §4.1 (restart after idle); RFC 6582 §3.2
// (partial acknowledgments).
//
// A trace is attached to one connection (stack::set_trace). After each call into the
// congestion-control policy the connection compares cwnd and ssthresh with their
// values before the call and appends a record when either moved; with no trace
// attached that costs one pointer test. Records live in memory reserved up front —
// either by the trace (a capacity) or by the caller (a span) — so recording never
// allocates; when it is full further records are dropped and counted, never grown
// into. tcpx/trace_writer.hpp turns a trace into CSV or an SVG plot.
//
// Not thread-safe, like the stack it is attached to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <tcpx/time.hpp>

namespace tcpx {

/// Why cwnd or ssthresh changed: which call into the policy moved it.
enum class cc_cause : std::uint8_t {
    established,      ///< the policy was (re)created at the end of the handshake: IW (RFC 5681 §3.1),
                      ///< or the trace was attached to a synchronized connection (a snapshot)
    ack,              ///< new data acknowledged outside recovery: slow start or congestion avoidance (§3.1)
    duplicate_ack,    ///< a duplicate ACK that did not trigger fast retransmit: window inflation (§3.2 step 4)
    fast_retransmit,  ///< the duplicate ACK that triggered fast retransmit (§3.2 steps 2 and 3)
    partial_ack,      ///< new data acknowledged and recovery goes on (RFC 6582 §3.2 step 3)
    recovery_exit,    ///< new data acknowledged that ended recovery: deflation (§3.2 step 6, RFC 6582 §3.2 step 3)
    timeout,          ///< the retransmission timer expired: the loss window (§3.1 eq. 4)
    idle_restart,     ///< sending resumed after an idle period longer than the RTO (§4.1)
    undo,             ///< D-SACK showed every retransmission of a recovery needless: the
                      ///< reduction is undone (RFC 3708 detection, RFC 9438 §4.9 response)
};

/// The cause's name as the CSV writer prints it ("fast_retransmit").
constexpr std::string_view to_string(cc_cause c) noexcept
{
    switch (c) {
    case cc_cause::established: return "established";
    case cc_cause::ack: return "ack";
    case cc_cause::duplicate_ack: return "duplicate_ack";
    case cc_cause::fast_retransmit: return "fast_retransmit";
    case cc_cause::partial_ack: return "partial_ack";
    case cc_cause::recovery_exit: return "recovery_exit";
    case cc_cause::timeout: return "timeout";
    case cc_cause::idle_restart: return "idle_restart";
    case cc_cause::undo: return "undo";
    }
    return "?";
}

/// One change: the values after it. ssthresh == UINT32_MAX is "not set yet" (RFC 5681
/// §3.1: "arbitrarily high"), as Linux's TCP_INFINITE_SSTHRESH.
struct cc_record {
    instant t{};
    std::uint32_t cwnd = 0;      ///< bytes
    std::uint32_t ssthresh = 0;  ///< bytes
    cc_cause cause = cc_cause::ack;
    friend bool operator==(const cc_record&, const cc_record&) = default;
};

/// A bounded sink of cc_records. One trace per connection: records carry no
/// connection id, so two connections sharing a trace would interleave.
/// Neither copyable nor movable: a connection holds its address.
class cc_trace {
public:
    /// Keeps up to `capacity` records, in storage allocated here, once.
    explicit cc_trace(std::size_t capacity) : owned_(capacity), storage_{owned_} {}
    /// Keeps up to storage.size() records in the caller's memory, which must
    /// outlive the trace.
    explicit cc_trace(std::span<cc_record> storage) noexcept : storage_{storage} {}
    cc_trace(const cc_trace&) = delete;
    cc_trace& operator=(const cc_trace&) = delete;

    /// Appends r, or counts it as dropped when the storage is full.
    void record(const cc_record& r) noexcept
    {
        if (size_ == storage_.size()) {
            ++dropped_;
            return;
        }
        storage_[size_++] = r;
    }

    /// The records so far, oldest first.
    std::span<const cc_record> records() const noexcept { return storage_.first(size_); }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return storage_.size(); }
    bool full() const noexcept { return size_ == storage_.size(); }
    /// Records that arrived while the storage was full.
    std::uint64_t dropped() const noexcept { return dropped_; }
    /// Forgets every record (and the dropped count); keeps the storage.
    void clear() noexcept
    {
        size_ = 0;
        dropped_ = 0;
    }

private:
    std::vector<cc_record> owned_;
    std::span<cc_record> storage_;
    std::size_t size_ = 0;
    std::uint64_t dropped_ = 0;
};

}  // namespace tcpx
