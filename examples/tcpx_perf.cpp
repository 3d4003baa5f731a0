// tcpx-perf: measures tcpx. Mode `loopback` (the in-memory demo): two stacks in one
// process joined by an in-memory link with a rate-limited drop-tail bottleneck, on a
// simulated clock that jumps straight to the next deadline — so a minute of traffic
// takes a moment and the same seed gives the same run. N connections send the stream
// "byte i is i % 251" for --seconds of simulated time, or --bytes each; the receiver
// checks every byte. The congestion control is a compile-time policy: the three
// choices of --cc are three instantiations of the stack.
//
//   tcpx-perf loopback [--cc reno|newreno|cubic] [--flows N] [--seconds S | --bytes N]
//                      [--rate MBIT] [--queue PACKETS] [--delay MS] [--loss P] [--reorder P]
//                      [--mtu N] [--seed N] [--trace FILE.csv] [--plot FILE.svg] [--json]
//
// Mode `tun`: one stack on a Linux TUN interface against the kernel's TCP
// (perf/tun_run.hpp; `tcpx-perf tun --help`).
//
// Files: perf/options.hpp (the command line), perf/loopback_run.hpp (the run),
// perf/tun_run.hpp (the TUN mode).
#include <tcpx/stack.hpp>
#include <tcpx/trace.hpp>
#include <tcpx/trace_writer.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "perf/loopback_run.hpp"
#include "perf/options.hpp"
#include "perf/tun_run.hpp"

// NewReno and CUBIC are built when their headers exist (issue 4 adds them).
#if __has_include(<tcpx/cc/newreno.hpp>)
#include <tcpx/cc/newreno.hpp>
#define TCPX_PERF_NEWRENO 1
#endif
#if __has_include(<tcpx/cc/cubic.hpp>)
#include <tcpx/cc/cubic.hpp>
#define TCPX_PERF_CUBIC 1
#endif

namespace {

[[noreturn]] void not_built(perf::congestion c)
{
    std::fprintf(stderr, "tcpx-perf: --cc %s is not built (its header tcpx/cc/%s.hpp is missing)\n",
                 std::string{to_string(c)}.c_str(), std::string{to_string(c)}.c_str());
    std::exit(2);
}

perf::run_result run(const perf::options& o, tcpx::cc_trace* trace)
{
    switch (o.cc) {
    case perf::congestion::reno: return perf::run_loopback<tcpx::cc::reno>(o, trace);
    case perf::congestion::newreno:
#ifdef TCPX_PERF_NEWRENO
        return perf::run_loopback<tcpx::cc::newreno>(o, trace);
#else
        not_built(o.cc);
#endif
    case perf::congestion::cubic:
#ifdef TCPX_PERF_CUBIC
        return perf::run_loopback<tcpx::cc::cubic>(o, trace);
#else
        not_built(o.cc);
#endif
    }
    not_built(o.cc);
}

double ms(tcpx::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string rate_text(const perf::options& o)
{
    return o.rate_mbit > 0 ? std::to_string(static_cast<long long>(o.rate_mbit)) + " Mbit/s" : "unlimited";
}

void print_json(const perf::options& o, const perf::run_result& r, const tcpx::cc_trace* trace)
{
    std::printf("{\"mode\":\"loopback\",\"cc\":\"%s\",\"rate_bps\":%.0f,\"queue_packets\":%zu,\"delay_ms\":%g,"
                "\"loss\":%g,\"mtu\":%zu,\"seed\":%llu,"
                "\"throughput_bps\":%.0f,\"bytes\":%llu,\"seconds\":%.6f,\"wall_seconds\":%.3f,"
                "\"segments\":%llu,\"retransmits\":%llu,\"fast_retransmits\":%llu,\"timeouts\":%llu,"
                "\"lost\":%llu,\"dropped_queue\":%llu,\"jain_index\":%.4f,\"verified\":%s,",
                std::string{to_string(o.cc)}.c_str(), o.rate_mbit * 1e6, o.queue, o.delay_ms, o.loss, o.mtu,
                static_cast<unsigned long long>(o.seed), r.throughput_bps, static_cast<unsigned long long>(r.bytes),
                r.seconds, r.wall_seconds, static_cast<unsigned long long>(r.segments_sent),
                static_cast<unsigned long long>(r.retransmits), static_cast<unsigned long long>(r.fast_retransmits),
                static_cast<unsigned long long>(r.timeouts), static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.dropped_queue), r.jain_index, r.verified ? "true" : "false");
    if (trace != nullptr)
        std::printf("\"trace_records\":%zu,\"trace_dropped\":%llu,", trace->size(),
                    static_cast<unsigned long long>(trace->dropped()));
    std::printf("\"flows\":[");
    for (std::size_t i = 0; i < r.flows.size(); ++i) {
        const perf::flow_result& f = r.flows[i];
        std::printf("%s{\"throughput_bps\":%.0f,\"bytes\":%llu,\"seconds\":%.6f,\"retransmits\":%llu,"
                    "\"fast_retransmits\":%llu,\"timeouts\":%llu,\"duplicate_acks\":%llu,\"cwnd\":%u,\"ssthresh\":%s,"
                    "\"srtt_ms\":%.3f,\"rttvar_ms\":%.3f,\"rto_ms\":%.1f,\"delivery_rate_bps\":%llu,\"verified\":%s}",
                    i == 0 ? "" : ",", f.throughput_bps, static_cast<unsigned long long>(f.bytes), f.seconds,
                    static_cast<unsigned long long>(f.info.retransmitted_segments),
                    static_cast<unsigned long long>(f.info.fast_retransmits),
                    static_cast<unsigned long long>(f.info.timeouts),
                    static_cast<unsigned long long>(f.info.duplicate_acks), f.info.cwnd,
                    f.info.ssthresh == UINT32_MAX ? "null" : std::to_string(f.info.ssthresh).c_str(), ms(f.info.srtt),
                    ms(f.info.rttvar), ms(f.info.rto), static_cast<unsigned long long>(f.info.delivery_rate * 8),
                    f.verified ? "true" : "false");
    }
    std::printf("]}\n");
}

void print_summary(const perf::options& o, const perf::run_result& r, const tcpx::cc_trace* trace)
{
    std::printf("tcpx-perf loopback: two tcpx stacks over an in-memory link (MTU %zu), simulated clock, %s\n", o.mtu,
                std::string{to_string(o.cc)}.c_str());
    std::printf("  path        rate %s  queue %zu packets  delay %.1f ms  loss %.2f%%  reorder %.2f%%  seed %llu\n",
                rate_text(o).c_str(), o.queue, o.delay_ms, o.loss * 100, o.reorder * 100,
                static_cast<unsigned long long>(o.seed));
    if (r.seconds > 0)
        std::printf("  transfer    %llu bytes in %.3f s simulated over %zu flow%s: %.1f Mbit/s goodput\n",
                    static_cast<unsigned long long>(r.bytes), r.seconds, r.flows.size(), r.flows.size() == 1 ? "" : "s",
                    r.throughput_bps / 1e6);
    else
        std::printf("  transfer    %llu bytes in no simulated time (no delay, no rate limit)\n",
                    static_cast<unsigned long long>(r.bytes));
    std::printf("  cpu         %.3f s wall for both stacks on one thread: %.0f Mbit/s of processing\n", r.wall_seconds,
                r.wall_seconds > 0 ? static_cast<double>(r.bytes) * 8 / r.wall_seconds / 1e6 : 0);
    std::printf("  verified    %s (byte i == i %% 251 for every byte)\n", r.verified ? "yes" : "NO");
    std::printf("  segments    %llu sent, %llu received by the peer\n",
                static_cast<unsigned long long>(r.segments_sent), static_cast<unsigned long long>(r.segments_received));
    std::printf("  recovery    %llu retransmitted (%llu fast retransmits, %llu timeouts); %llu packets lost on the "
                "path, %llu dropped by the bottleneck queue\n",
                static_cast<unsigned long long>(r.retransmits), static_cast<unsigned long long>(r.fast_retransmits),
                static_cast<unsigned long long>(r.timeouts), static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.dropped_queue));
    if (r.flows.size() > 1) {
        std::printf("  fairness    Jain's index %.4f over %zu flows\n", r.jain_index, r.flows.size());
        for (std::size_t i = 0; i < r.flows.size(); ++i)
            std::printf("  flow %-6zu %.1f Mbit/s, %llu retransmitted, %llu timeouts\n", i,
                        r.flows[i].throughput_bps / 1e6,
                        static_cast<unsigned long long>(r.flows[i].info.retransmitted_segments),
                        static_cast<unsigned long long>(r.flows[i].info.timeouts));
    }
    std::printf("  sender      %s\n", to_string(r.flows[0].info).c_str());
    if (trace != nullptr)
        std::printf("  trace       %zu changes of cwnd/ssthresh recorded for flow 0%s\n", trace->size(),
                    trace->dropped() != 0 ? (", " + std::to_string(trace->dropped()) + " dropped (full)").c_str() : "");
}

bool write_trace(const perf::options& o, const perf::run_result& r, const tcpx::cc_trace& trace)
{
    bool ok = true;
    if (!o.trace_csv.empty()) {
        std::ofstream csv{o.trace_csv};
        tcpx::write_csv(csv, trace.records(), r.start);
        ok = ok && static_cast<bool>(csv);
    }
    if (!o.plot_svg.empty()) {
        tcpx::plot_options p;
        p.title = "tcpx " + std::string{to_string(o.cc)} + ": cwnd and ssthresh of flow 0";
        char note[200];
        std::snprintf(note, sizeof note, "%s bottleneck, %zu-packet drop-tail queue, %.1f ms one-way delay, loss %g%s",
                      rate_text(o).c_str(), o.queue, o.delay_ms, o.loss,
                      o.flows > 1 ? (", " + std::to_string(o.flows) + " flows").c_str() : "");
        p.note = note;
        if (trace.dropped() != 0) p.note += " (trace full: later changes not shown)";
        p.origin = r.start;
        p.end = trace.dropped() != 0 && trace.size() != 0 ? trace.records().back().t : r.end;
        std::ofstream svg{o.plot_svg};
        tcpx::write_svg(svg, trace.records(), p);
        ok = ok && static_cast<bool>(svg);
    }
    if (!ok) std::fprintf(stderr, "tcpx-perf: could not write the trace\n");
    return ok;
}

}  // namespace

int run_tun(const perf::tun_options& o)
{
    switch (o.cc) {
    case perf::congestion::reno: return perf::run_tun<tcpx::cc::reno>(o);
    case perf::congestion::newreno: return perf::run_tun<tcpx::cc::newreno>(o);
    case perf::congestion::cubic: return perf::run_tun<tcpx::cc::cubic>(o);
    }
    return 2;
}

int main(int argc, char** argv)
{
    if (argc >= 2 && std::string_view{argv[1]} == "tun") return run_tun(perf::parse_tun(argc, argv));
    const perf::options o = perf::parse(argc, argv);
    // A million records (24 MiB) covers minutes of a gigabit flow; the rest is counted.
    std::unique_ptr<tcpx::cc_trace> trace;
    if (!o.trace_csv.empty() || !o.plot_svg.empty()) trace = std::make_unique<tcpx::cc_trace>(std::size_t{1} << 20);
    const perf::run_result r = run(o, trace.get());
    if (o.json) print_json(o, r, trace.get());
    else print_summary(o, r, trace.get());
    const bool written = trace == nullptr || write_trace(o, r, *trace);
    return r.verified && written ? 0 : 1;
}
