// tcpx/device/pcap.hpp — pcap<D>: a device that wraps any device and records every
// packet it carries, both directions, in a capture file that tcpdump, tshark and
// Wireshark read.
//
// Format: the classic libpcap file (not pcapng), as tcpdump.org's "pcap(5)" page
// and draft-ietf-opsawg-pcap describe it:
//   file header   magic 0xa1b2c3d4 (microsecond timestamps), version 2.4,
//                 thiszone 0, sigfigs 0, snaplen 65535, link type 101
//   per packet    ts_sec, ts_usec, captured length, original length, then the bytes
// Every field is written in this machine's byte order; a reader tells which from
// how the magic number reads. Link type 101 is LINKTYPE_RAW: each record is a bare
// IP packet (RFC 791), the version nibble telling IPv4 from IPv6, which is exactly
// what a tcpx device carries.
//
// Timestamps are the instant t given to receive() or transmit(), counted from the
// instant epoch (the manual clock starts at 1 s, so a simulation's capture starts
// near 1970-01-01 00:00:01; that is only display).
//
//   std::error_code ec;
//   tcpx::devices::pcap dev{"/tmp/run.pcap", ec, link.end(0)};
//   if (ec) { ... }   // the device still works; it just records nothing
//
// Cost: two fwrite() calls per packet into a 256 KiB stdio buffer, no allocation.
// A write error is kept (error()) and ends recording; it is never thrown from the
// per-packet path.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <tcpx/concepts.hpp>
#include <tcpx/time.hpp>

namespace tcpx::devices {

/// A classic pcap file being written. Move-only; the destructor closes it.
class pcap_file {
public:
    static constexpr std::uint32_t magic = 0xa1b2c3d4;  ///< microsecond resolution
    static constexpr std::uint16_t version_major = 2;
    static constexpr std::uint16_t version_minor = 4;
    static constexpr std::uint32_t snaplen = 65535;
    static constexpr std::uint32_t linktype_raw = 101;  ///< LINKTYPE_RAW: bare IP packets

    pcap_file() noexcept = default;
    pcap_file(const std::string& path, std::error_code& ec) { open(path, ec); }
    ~pcap_file() { close(); }

    pcap_file(pcap_file&& o) noexcept
        : file_{std::exchange(o.file_, nullptr)}, buffer_{std::move(o.buffer_)},
          error_{o.error_}, packets_{o.packets_}
    {
    }
    pcap_file& operator=(pcap_file&& o) noexcept
    {
        if (this != &o) {
            close();
            file_ = std::exchange(o.file_, nullptr);
            buffer_ = std::move(o.buffer_);
            error_ = o.error_;
            packets_ = o.packets_;
        }
        return *this;
    }

    /// Creates (or truncates) the file at path and writes the file header.
    void open(const std::string& path, std::error_code& ec)
    {
        close();
        error_.clear();
        packets_ = 0;
        ec.clear();
        file_ = std::fopen(path.c_str(), "wb");
        if (file_ == nullptr) {
            ec = last_error();
            return;
        }
        buffer_.reset(new char[buffer_size]);
        std::setvbuf(file_, buffer_.get(), _IOFBF, buffer_size);
        std::uint8_t header[24];
        put32(header + 0, magic);
        put16(header + 4, version_major);
        put16(header + 6, version_minor);
        put32(header + 8, 0);   // thiszone: timestamps are UTC
        put32(header + 12, 0);  // sigfigs: always 0
        put32(header + 16, snaplen);
        put32(header + 20, linktype_raw);
        put(header, sizeof header);
        ec = error_;
    }

    bool is_open() const noexcept { return file_ != nullptr; }

    /// Appends one packet seen at t (at most snaplen bytes of it). Does nothing
    /// when the file is not open or a write has failed.
    void write(instant t, std::span<const std::uint8_t> packet) noexcept
    {
        if (file_ == nullptr || error_) {
            return;
        }
        const auto us = std::max<duration::rep>(t.time_since_epoch().count(), 0);
        const auto captured = static_cast<std::uint32_t>(std::min<std::size_t>(packet.size(), snaplen));
        std::uint8_t header[16];
        put32(header + 0, static_cast<std::uint32_t>(us / 1'000'000));
        put32(header + 4, static_cast<std::uint32_t>(us % 1'000'000));
        put32(header + 8, captured);
        put32(header + 12, static_cast<std::uint32_t>(packet.size()));
        put(header, sizeof header);
        put(packet.data(), captured);
        if (!error_) {
            ++packets_;
        }
    }

    /// Pushes buffered records to the file.
    void flush(std::error_code& ec) noexcept
    {
        if (file_ != nullptr && !error_ && std::fflush(file_) != 0) {
            error_ = last_error();
        }
        ec = error_;
    }
    void flush()
    {
        std::error_code ec;
        flush(ec);
        if (ec) {
            throw std::system_error{ec, "pcap_file::flush"};
        }
    }

    /// Flushes and closes; ec is the first error of the file's life, if any.
    void close(std::error_code& ec) noexcept
    {
        if (file_ != nullptr) {
            if (std::fclose(std::exchange(file_, nullptr)) != 0 && !error_) {
                error_ = last_error();
            }
        }
        buffer_.reset();
        ec = error_;
    }
    void close() noexcept
    {
        std::error_code ignored;
        close(ignored);
    }

    /// The first error met while writing (sticky), or none.
    std::error_code error() const noexcept { return error_; }
    /// Packets recorded so far.
    std::uint64_t packets() const noexcept { return packets_; }

private:
    static constexpr std::size_t buffer_size = 256 * 1024;

    static std::error_code last_error() noexcept
    {
        const int e = errno;
        return e != 0 ? std::error_code{e, std::generic_category()}
                      : std::make_error_code(std::errc::io_error);
    }

    // Native byte order, as the format wants (the magic number tells readers).
    static void put32(std::uint8_t* at, std::uint32_t v) noexcept { std::memcpy(at, &v, 4); }
    static void put16(std::uint8_t* at, std::uint16_t v) noexcept { std::memcpy(at, &v, 2); }

    void put(const void* data, std::size_t n) noexcept
    {
        if (n != 0 && !error_) {
            errno = 0;
            if (std::fwrite(data, 1, n, file_) != n) {
                error_ = last_error();
            }
        }
    }

    std::FILE* file_ = nullptr;
    std::unique_ptr<char[]> buffer_;  // stdio's buffer; outlives file_
    std::error_code error_;
    std::uint64_t packets_ = 0;
};

/// Inner: a type modelling tcpx::device, or an lvalue reference to one.
template <class Inner>
class pcap {
    using inner_device = std::remove_reference_t<Inner>;
    static_assert(tcpx::device<inner_device>,
                  "tcpx::devices::pcap<Inner>: Inner must model tcpx::device (concepts.hpp)");

public:
    /// Opens path for writing (ec says whether it worked; the device works either
    /// way) and builds the inner device from inner_args, or binds it.
    template <class... Args>
    pcap(const std::string& path, std::error_code& ec, Args&&... inner_args)
        : inner_(std::forward<Args>(inner_args)...), file_{path, ec}
    {
    }

    std::size_t mtu() const { return inner_.mtu(); }
    /// The inner device's file descriptor, when it has one (tcpx::pollable_device).
    int native_handle() const
        requires tcpx::pollable_device<inner_device>
    {
        return inner_.native_handle();
    }

    template <class F>
    std::size_t receive(instant t, F&& f, std::size_t n)
    {
        return inner_.receive(
            t,
            [&](std::span<const std::uint8_t> p) {
                file_.write(t, p);
                f(p);
            },
            n);
    }

    std::span<std::uint8_t> transmit_buffer(std::size_t n)
    {
        last_ = inner_.transmit_buffer(n);
        return last_;
    }

    /// Records the packet, then sends it (the inner device may consume the buffer).
    void transmit(std::size_t n, instant t)
    {
        if (!last_.empty() && n != 0) {
            file_.write(t, last_.first(std::min(n, last_.size())));
        }
        last_ = {};
        inner_.transmit(n, t);
    }

    instant next_deadline() const { return inner_.next_deadline(); }

    inner_device& inner() noexcept { return inner_; }
    const inner_device& inner() const noexcept { return inner_; }
    pcap_file& file() noexcept { return file_; }
    const pcap_file& file() const noexcept { return file_; }

    void flush(std::error_code& ec) noexcept { file_.flush(ec); }
    void flush() { file_.flush(); }
    std::error_code error() const noexcept { return file_.error(); }

private:
    Inner inner_;
    pcap_file file_;
    std::span<std::uint8_t> last_;  // the open transmit_buffer
};

/// pcap dev{path, ec, some_device} wraps an lvalue by reference and takes an
/// rvalue by value.
template <class D>
pcap(const std::string&, std::error_code&, D&&) -> pcap<D>;

}  // namespace tcpx::devices
