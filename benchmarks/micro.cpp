// tcpx-micro — per-packet costs of the wire layer, against memcpy measured in the same run.
//
// Absolute numbers depend on the machine and on whoever else shares it; the ratio
// against memcpy of the same size, measured minutes apart in one process, is what
// carries from one machine to the next (DESIGN.md, "Tests, in layers"). So after the
// usual Google Benchmark output this prints a table: for every benchmark named
// BM_<what>/<size> whose partner BM_memcpy/<size> ran too, its speed in Gbit/s and
// as a multiple of memcpy's speed.
//
// Sizes: 1500 B (one Ethernet-MTU packet) and 64 KiB (a large GSO/TSO-sized
// segment); source and destination together fit in a current L2 cache, so this
// measures the code, not DRAM.
//
//   tcpx-micro [--benchmark_filter=...] [--benchmark_min_time=...] [--benchmark_repetitions=N]
#include <tcpx/wire/checksum.hpp>
#include <tcpx/wire/ipv4.hpp>
#include <tcpx/wire/tcp_header.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

namespace {

constexpr std::int64_t mtu_packet = 1500;
constexpr std::int64_t large_segment = 64 * 1024;

// A source filled with a fixed pattern and a destination of the same size, in one
// allocation. The destination sits half a page (mod 4 KiB) from the source: a copy
// whose destination is a few bytes ahead of its source modulo 4 KiB stalls on false
// store-to-load dependencies ("4K aliasing"), which would slow the reference, not
// the code under test, depending on where the allocator happened to put two buffers.
struct payload {
    std::vector<std::uint8_t> storage;
    std::span<std::uint8_t> src;
    std::span<std::uint8_t> dst;

    explicit payload(std::int64_t size_in)
    {
        const auto size = static_cast<std::size_t>(size_in);
        const std::size_t dst_at = (size + 4095) / 4096 * 4096 + 2048;
        storage.resize(dst_at + size);
        src = std::span{storage}.first(size);
        dst = std::span{storage}.subspan(dst_at, size);
        std::uint32_t x = 0x9E3779B9u;
        for (auto& b : src) {
            x = x * 1664525u + 1013904223u;
            b = static_cast<std::uint8_t>(x >> 24);
        }
    }
    payload(const payload&) = delete;  // the spans point into storage
    payload& operator=(const payload&) = delete;
};

void set_bytes(benchmark::State& state)
{
    state.SetBytesProcessed(state.iterations() * state.range(0));
}

// The reference: the C library's copy, the fastest the machine has.
void BM_memcpy(benchmark::State& state)
{
    payload p(state.range(0));
    for (auto _ : state) {
        std::memcpy(p.dst.data(), p.src.data(), p.src.size());
        benchmark::ClobberMemory();
    }
    set_bytes(state);
}

void BM_checksum(benchmark::State& state)
{
    payload p(state.range(0));
    for (auto _ : state) {
        auto c = tcpx::wire::internet_checksum(p.src);
        benchmark::DoNotOptimize(c);
        benchmark::ClobberMemory();  // the bytes may have changed: sum them again
    }
    set_bytes(state);
}

// The send and receive paths' copy: payload into place and summed on the way.
void BM_copy_and_add(benchmark::State& state)
{
    payload p(state.range(0));
    for (auto _ : state) {
        tcpx::wire::checksum_accumulator acc;
        tcpx::wire::copy_and_add(acc, p.dst, p.src);
        auto s = acc.sum();
        benchmark::DoNotOptimize(s);
        benchmark::ClobberMemory();
    }
    set_bytes(state);
}

BENCHMARK(BM_memcpy)->Arg(mtu_packet)->Arg(large_segment);
BENCHMARK(BM_checksum)->Arg(mtu_packet)->Arg(large_segment);
BENCHMARK(BM_copy_and_add)->Arg(mtu_packet)->Arg(large_segment);

// header parse/build benchmarks: see wire_headers below

}  // namespace

namespace wire_headers {
// Header parse and build: the whole per-packet wire work of the receive and send
// paths for one packet of `size` bytes (a 20-byte IPv4 header, a 32-byte TCP header
// with timestamps, the rest payload). Parse = IPv4 checks and header checksum, TCP
// checks, checksum over pseudo-header and payload, header and options; build = IPv4
// and TCP headers, payload copied with its checksum folded in. Each reports bytes/s,
// so the ratio table sets it beside memcpy of the same packet size.

using namespace tcpx::wire;

tcp_header data_header()
{
    tcp_header h;
    h.source_port = 40000;
    h.destination_port = 80;
    h.seq = tcpx::seq32{123456789};
    h.ack = tcpx::seq32{987654321};
    h.flags = tcp_flags::ack | tcp_flags::psh;
    h.window = 502;
    h.options.timestamp = timestamps{111, 222};
    return h;
}

std::vector<std::uint8_t> packet_of(std::size_t size)
{
    const tcp_header h = data_header();
    std::vector<std::uint8_t> p(size);
    ipv4_header ip;
    ip.source = ipv4_address{10, 0, 0, 1};
    ip.destination = ipv4_address{10, 0, 0, 2};
    ip.payload_length = static_cast<std::uint16_t>(size - ipv4_header::size);
    (void)ip.emit(p);
    auto seg = std::span{p}.subspan(ipv4_header::size);
    (void)h.emit(seg);
    for (std::size_t i = h.size(); i < seg.size(); ++i) seg[i] = static_cast<std::uint8_t>(i * 7);
    fill_tcp_checksum(seg, ip.source, ip.destination);
    return p;
}

void BM_parse(benchmark::State& state)
{
    const auto p = packet_of(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        benchmark::DoNotOptimize(p.data());
        const ipv4_view ip{p};
        bool ok = !ip.check();
        const tcp_view tv{ip.payload()};
        ok = ok && !tv.check() && tv.checksum_ok(ip.source(), ip.destination());
        tcp_header h;
        ok = ok && !tcp_header::parse(tv, h);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(h);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_build(benchmark::State& state)
{
    const auto size = static_cast<std::size_t>(state.range(0));
    const tcp_header h = data_header();
    const std::vector<std::uint8_t> payload(size - ipv4_header::size - h.size(), 0x5a);
    std::vector<std::uint8_t> out(size);
    for (auto _ : state) {
        ipv4_header ip;
        ip.source = ipv4_address{10, 0, 0, 1};
        ip.destination = ipv4_address{10, 0, 0, 2};
        ip.payload_length = static_cast<std::uint16_t>(size - ipv4_header::size);
        (void)ip.emit(out);
        auto seg = std::span{out}.subspan(ipv4_header::size);
        (void)h.emit(seg);
        checksum_accumulator sum;
        copy_and_add(sum, seg.subspan(h.size()), payload);
        store_tcp_checksum(seg.first(h.size()), sum, ip.source, ip.destination, seg.size());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// 52 bytes: headers alone (a pure ACK); 1500: a full Ethernet-MTU data packet.
BENCHMARK(BM_parse)->Arg(52)->Arg(mtu_packet);
BENCHMARK(BM_build)->Arg(52)->Arg(mtu_packet);
}  // namespace wire_headers

namespace {
BENCHMARK(BM_memcpy)->Arg(52);
}  // namespace

namespace {

// The console output as usual, then the ratio table once every benchmark has run.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    using benchmark::ConsoleReporter::ConsoleReporter;

    void ReportRuns(const std::vector<Run>& runs) override
    {
        benchmark::ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            // Aggregates (mean, median ...) are recomputed below from the repetitions.
            if (run.run_type != Run::RT_Iteration || run.error_occurred || run.iterations <= 0)
                continue;
            const key k{run.run_name.function_name, run.run_name.args};
            if (seconds_.find(k) == seconds_.end())
                order_.push_back(k);
            seconds_[k].push_back(run.cpu_accumulated_time / static_cast<double>(run.iterations));
        }
    }

    void Finalize() override
    {
        std::ostream& out = GetOutputStream();
        std::vector<key> rows;
        for (const key& k : order_)
            if (seconds_.count({reference, k.args}) != 0)
                rows.push_back(k);
        if (rows.empty())
            return;
        // By size, then in the order the benchmarks ran; memcpy first in each size.
        std::stable_sort(rows.begin(), rows.end(), [](const key& a, const key& b) {
            const auto sa = size_of(a.args), sb = size_of(b.args);
            if (sa != sb) return sa < sb;
            return a.function != b.function && a.function == reference;
        });
        out << "\nAgainst memcpy of the same size, this run (median CPU time per iteration):\n";
        char line[160];
        std::snprintf(line, sizeof line, "  %-28s %10s %10s %10s\n", "benchmark", "size", "Gbit/s", "x memcpy");
        out << line;
        for (const key& k : rows) {
            const double t = median(seconds_.at(k));
            const double t_ref = median(seconds_.at({reference, k.args}));
            const std::string name = k.function.rfind("BM_", 0) == 0 ? k.function.substr(3) : k.function;
            const std::string size = k.args + " B";
            const double bytes = static_cast<double>(size_of(k.args));
            std::snprintf(line, sizeof line, "  %-28s %10s %10.1f %10.2f\n", name.c_str(), size.c_str(),
                          t > 0 ? bytes * 8 / t / 1e9 : 0.0, t > 0 ? t_ref / t : 0.0);
            out << line;
        }
        out.flush();
    }

private:
    struct key {
        std::string function;
        std::string args;
        bool operator<(const key& o) const { return std::tie(function, args) < std::tie(o.function, o.args); }
    };
    static constexpr const char* reference = "BM_memcpy";

    // "1500" -> 1500; the first argument of "1500/3" and so on.
    static long long size_of(const std::string& args) { return std::atoll(args.c_str()); }

    static double median(std::vector<double> v)
    {
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        return n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    std::map<key, std::vector<double>> seconds_;
    std::vector<key> order_;
};

}  // namespace

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    ratio_reporter reporter(isatty(STDOUT_FILENO) != 0 ? benchmark::ConsoleReporter::OO_ColorTabular
                                                       : benchmark::ConsoleReporter::OO_Tabular);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
