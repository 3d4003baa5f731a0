// tcpx/wire/checksum.hpp — the Internet checksum (16-bit one's complement sum).
//
// RFCs to have open:
//   RFC 1071  computing the checksum; §2 its properties, §3 a numerical example
//   RFC 1624  incremental update, eqn. 3, and why eqn. 2 (RFC 1141) gets -0 wrong
//   RFC 791   §3.1 the IPv4 header checksum
//   RFC 9293  §3.1 the TCP checksum and its IPv4 pseudo-header
//
//   checksum_accumulator a;   a.add(bytes) ...   sum of any runs, odd lengths included
//   a.finish()                the value to store_big_u16 into a checksum field
//   a.sum() == 0xFFFF         verification: the sum over a header that includes a
//                             correct checksum field is -0 (RFC 1071 §1, step 3)
//   internet_checksum(bytes)  finish() of a single run
//   checksum_update(...)      RFC 1624 eqn. 3, when one aligned field changes
//   add_ipv4_pseudo_header    RFC 9293 §3.1 pseudo-header
//   copy_and_add              copy a payload and sum it on the way, touching
//                             memory once (RFC 1071 §2, "combine with data copying")
//
// Values in and out are host-order numbers, as boost::endian::load_big_u16 gives
// them; bytes are summed in native order and swapped once at the end, which the
// one's complement sum allows (RFC 1071 §2(B)). Nothing allocates, nothing
// throws, and every input, empty and misaligned spans included, is defined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpx::wire {

/// A running one's complement sum over a sequence of byte runs.
///
/// The runs are summed as if they were one contiguous buffer: a run that
/// follows an odd-length run starts on the second byte of a 16-bit word, so
/// adding [a,b,c] then [d,e] gives the sum of [a,b,c,d,e]. That is what lets a
/// sender sum a header, then a payload held in several buffers, without
/// copying them together. A default-constructed accumulator is empty (sum 0).
class checksum_accumulator {
public:
    /// Adds a run of bytes of any length, continuing at the current position.
    void add(std::span<const std::uint8_t> bytes) noexcept;

    /// Adds a 16-bit field given in host order, as if its two big-endian bytes
    /// were added at the current position.
    void add_u16(std::uint16_t value) noexcept;

    /// Adds a 32-bit field given in host order, as if its four big-endian
    /// bytes were added at the current position.
    void add_u32(std::uint32_t value) noexcept;

    /// The folded 16-bit one's complement sum, as a host-order number; not
    /// complemented. It is 0 only when every byte added was 0; otherwise a
    /// multiple of 0xFFFF reads as 0xFFFF (-0), as RFC 1071's fold gives it.
    std::uint16_t sum() const noexcept;

    /// ~sum(): the value to store (big-endian) in a checksum field that was
    /// zero while summing. Over bytes that include a correct checksum field,
    /// finish() is 0.
    std::uint16_t finish() const noexcept;

private:
    // A 64-bit one's complement partial sum in native byte order. 2^16 - 1
    // divides 2^64 - 1, so it folds to the same 16-bit sum (RFC 1071 §2(C)).
    std::uint64_t sum_ = 0;
    // Whether the next byte falls on the low (second) byte of a 16-bit word.
    bool odd_ = false;

    void add_partial(std::uint64_t partial) noexcept;

    friend void copy_and_add(checksum_accumulator& acc, std::span<std::uint8_t> dst,
                             std::span<const std::uint8_t> src) noexcept;
};

/// The checksum of one run: the value to store in its checksum field.
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) noexcept;

/// RFC 1624 eqn. 3: the checksum after one 16-bit field of the covered bytes
/// changes from `old_field` to `new_field`, without summing the rest again.
/// The field must start at an even offset from the start of the checksummed
/// bytes (every IPv4 and TCP header field that changes in flight does).
///
/// Given a correct old checksum, the result equals recomputation from scratch
/// whenever the covered bytes are not all zero after the change, which holds
/// for any real IP or TCP header: unlike eqn. 2 (RFC 1141) it never answers -0
/// (0xFFFF) where recomputation gives 0x0000 (RFC 1624 §3).
std::uint16_t checksum_update(std::uint16_t old_checksum, std::uint16_t old_field,
                              std::uint16_t new_field) noexcept;

/// RFC 1624 eqn. 3 for a 32-bit field (an address, a sequence number), which
/// is its two 16-bit halves changing at once.
std::uint16_t checksum_update(std::uint16_t old_checksum, std::uint32_t old_field,
                              std::uint32_t new_field) noexcept;

/// Adds the RFC 9293 §3.1 IPv4 pseudo-header: source and destination
/// addresses (host order), a zero byte, the protocol, and the TCP length
/// (header plus data, in bytes). Same sum as adding those 12 bytes.
void add_ipv4_pseudo_header(checksum_accumulator& acc, std::uint32_t source,
                            std::uint32_t destination, std::uint8_t protocol,
                            std::uint16_t length) noexcept;

/// Copies `src` into the first src.size() bytes of `dst` and adds `src` to
/// `acc`, so a payload comes from memory once for both (RFC 1071 §2,
/// "combine with data copying"). Same sum as acc.add(src).
/// Writes no byte of `dst` past src.size().
///
/// Precondition: dst.size() >= src.size(). If it does not hold, only the
/// first dst.size() bytes are copied and added (checked by assert in debug
/// builds), so nothing is ever written out of bounds. Overlapping spans are
/// allowed and behave as memmove, summing the bytes src held before the copy.
void copy_and_add(checksum_accumulator& acc, std::span<std::uint8_t> dst,
                  std::span<const std::uint8_t> src) noexcept;

}  // namespace tcpx::wire

#include <tcpx/wire/impl/checksum.ipp>
