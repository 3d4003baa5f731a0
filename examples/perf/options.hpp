// tcpx-perf's command line: what a run is asked to do, and the usage text.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../common/size.hpp"

namespace perf {

enum class congestion { reno, newreno, cubic };

constexpr std::string_view to_string(congestion c) noexcept
{
    switch (c) {
    case congestion::reno: return "reno";
    case congestion::newreno: return "newreno";
    case congestion::cubic: return "cubic";
    }
    return "?";
}

struct options {
    congestion cc = congestion::reno;
    std::uint64_t bytes = 64ull << 20;  ///< per flow, when seconds == 0
    double seconds = 0;                 ///< simulated duration; 0: send `bytes` per flow instead
    std::size_t flows = 1;
    std::size_t mtu = 1500;
    double loss = 0;
    double reorder = 0;
    double delay_ms = 1;
    double rate_mbit = 1000;
    std::size_t queue = 1000;
    std::uint64_t seed = 1;
    std::string trace_csv;  ///< flow 0's cwnd trace as CSV, if named
    std::string plot_svg;   ///< ... and as an SVG plot
    bool json = false;
    bool sack = true;           ///< config::sack on both stacks
    bool sack_recovery = true;  ///< config::sack_recovery on both stacks
};

[[noreturn]] inline void usage(const char* why, int status = 2)
{
    std::fprintf(status == 0 ? stdout : stderr,
                 "tcpx-perf: %s\n"
                 "usage: tcpx-perf loopback [--cc reno|newreno|cubic] [--flows N] [--seconds S | --bytes N]\n"
                 "                          [--rate MBIT] [--queue PACKETS] [--delay MS] [--loss P] [--reorder P]\n"
                 "                          [--mtu N] [--seed N] [--trace FILE.csv] [--plot FILE.svg] [--json]\n"
                 "                          [--no-sack] [--no-sack-recovery]\n"
                 "  --cc NAME      congestion control: reno (default, RFC 5681), newreno (RFC 6582), cubic (RFC 9438)\n"
                 "  --flows N      parallel connections sharing the bottleneck (default 1)\n"
                 "  --seconds S    send for S seconds of simulated time, as fast as the path allows\n"
                 "  --bytes N      or: each flow sends N bytes, then closes (default 64 MiB; suffixes k, M, G)\n"
                 "  --rate MBIT    bottleneck rate in Mbit/s (default 1000; 0: unlimited)\n"
                 "  --queue N      drop-tail queue at the bottleneck, packets (default 1000)\n"
                 "  --delay MS     one-way delay in milliseconds (default 1)\n"
                 "  --loss P       random loss per packet and direction, a fraction (0.01 = 1%%)\n"
                 "  --reorder P    fraction of packets held back so later ones overtake them\n"
                 "  --mtu N        link MTU, 576..65535 (default 1500)\n"
                 "  --seed N       seed of the impairments (default 1)\n"
                 "  --trace FILE   write flow 0's cwnd and ssthresh changes as CSV (time_s,cwnd,ssthresh,cause)\n"
                 "  --plot FILE    draw them as an SVG plot\n"
                 "  --json         print one JSON object instead of the summary\n"
                 "  --no-sack      neither side offers SACK (RFC 2018)\n"
                 "  --no-sack-recovery  SACK negotiated, but loss recovery by the policy (RFC 5681/6582), not RFC 6675\n",
                 why);
    std::exit(status);
}

inline std::uint64_t parse_size(const char* text)
{
    const auto n = example::parse_size(text);
    if (!n) usage("bad number");
    return *n;
}

inline double parse_double(const char* text, double lo, double hi)
{
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= lo && v <= hi)) usage("number out of range");
    return v;
}

inline options parse(int argc, char** argv)
{
    if (argc < 2 || std::string_view{argv[1]} != "loopback") {
        usage("the mode must be `loopback` or `tun` (tcpx-perf tun --help)");
    }
    options o;
    bool bytes_given = false;
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") usage("measures tcpx", 0);
        else if (a == "--cc") {
            const std::string_view v = value();
            if (v == "reno") o.cc = congestion::reno;
            else if (v == "newreno") o.cc = congestion::newreno;
            else if (v == "cubic") o.cc = congestion::cubic;
            else usage("--cc takes reno, newreno or cubic");
        }
        else if (a == "--flows") o.flows = static_cast<std::size_t>(parse_double(value(), 1, 1000));
        else if (a == "--seconds") o.seconds = parse_double(value(), 0.001, 1e6);
        else if (a == "--bytes") { o.bytes = parse_size(value()); bytes_given = true; }
        else if (a == "--mtu") o.mtu = static_cast<std::size_t>(parse_double(value(), 576, 65535));
        else if (a == "--loss") o.loss = parse_double(value(), 0, 0.9);
        else if (a == "--reorder") o.reorder = parse_double(value(), 0, 0.9);
        else if (a == "--delay") o.delay_ms = parse_double(value(), 0, 10000);
        else if (a == "--rate") o.rate_mbit = parse_double(value(), 0, 1e6);
        else if (a == "--queue") o.queue = static_cast<std::size_t>(parse_double(value(), 1, 1e6));
        else if (a == "--seed") o.seed = static_cast<std::uint64_t>(parse_double(value(), 0, 1e18));
        else if (a == "--trace") o.trace_csv = value();
        else if (a == "--plot") o.plot_svg = value();
        else if (a == "--json") o.json = true;
        else if (a == "--no-sack") o.sack = false;
        else if (a == "--no-sack-recovery") o.sack_recovery = false;
        else usage("unknown flag");
    }
    if (bytes_given && o.seconds > 0) usage("--seconds and --bytes exclude each other");
    if (o.seconds > 0 && o.rate_mbit == 0 && o.delay_ms == 0)
        usage("--seconds needs a rate or a delay: with neither, no simulated time passes");
    return o;
}

}  // namespace perf
