// tcpx/trace_writer.hpp — a congestion-window trace (trace.hpp) as CSV, or as an SVG
// plot of cwnd and ssthresh over time.
//
// Have open: RFC 5681 §3 — the plot is its picture: slow start's exponential rise,
// congestion avoidance's linear one, the halving at each fast retransmit (the Reno
// "sawtooth"), the fall to one segment at a timeout.
//
// Library API rather than a tool's private code: any program that attached a trace
// (over TUN as well as in a simulation) can plot it, and the tests check the output.
// It is not on any packet's path: it may allocate, and is not included by stack.hpp.
//
//     tcpx::cc_trace trace{100'000};
//     st.set_trace(socket, &trace);
//     ... run ...
//     std::ofstream csv{"cwnd.csv"}, svg{"cwnd.svg"};
//     tcpx::write_csv(csv, trace.records());
//     tcpx::write_svg(svg, trace.records(), {.title = "reno, 100 Mbit/s, 20 ms"});
//
// CSV: a header line `time_s,cwnd,ssthresh,cause`, then one line per record; time in
// seconds from the origin, windows in bytes; an ssthresh not set yet (UINT32_MAX) is
// an empty field, which spreadsheets and pandas read as missing.
//
// SVG: plain SVG 1.1 text, no script, no external reference. Both windows are drawn
// as steps (a window keeps its value until the next record). A trace with more
// records than the plot has pixel columns is reduced to four points per column
// (entering, lowest, highest and leaving value), which draws the same picture.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tcpx/time.hpp>
#include <tcpx/trace.hpp>

namespace tcpx {

/// Writes `records` as CSV. Times are seconds since `origin` (default: the first record).
inline void write_csv(std::ostream& out, std::span<const cc_record> records,
                      std::optional<instant> origin = std::nullopt)
{
    const instant zero = origin ? *origin : records.empty() ? instant{} : records.front().t;
    out << "time_s,cwnd,ssthresh,cause\n";
    char line[96];
    for (const cc_record& r : records) {
        const double t = static_cast<double>((r.t - zero).count()) / 1e6;
        if (r.ssthresh == UINT32_MAX)
            std::snprintf(line, sizeof line, "%.6f,%u,,", t, r.cwnd);
        else
            std::snprintf(line, sizeof line, "%.6f,%u,%u,", t, r.cwnd, r.ssthresh);
        out << line << to_string(r.cause) << '\n';
    }
}

struct plot_options {
    std::string title = "cwnd and ssthresh";
    std::string note;                   ///< a smaller second line under the title
    unsigned width = 960;               ///< the whole picture, pixels
    unsigned height = 480;
    std::optional<instant> origin;      ///< time 0 of the x axis; default: the first record
    std::optional<instant> end;         ///< right end of the x axis; default: the last record
    std::uint32_t mss = 0;              ///< when set, the y axis counts segments of this size, not bytes
};

namespace detail {

struct plot_point {
    double x;
    double y;
};

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over `range`.
inline double tick_step(double range, double count) noexcept
{
    if (!(range > 0)) return 1;
    const double raw = range / count;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/// Decimals a tick label needs for steps of `step`.
inline int tick_decimals(double step) noexcept
{
    return step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
}

inline std::string format(const char* fmt, double v, int decimals = 0)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, decimals, v);
    return buf;
}

inline std::string escape_xml(std::string_view s)
{
    std::string out;
    for (const char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

/// One window's value over time as step polylines in pixels, broken where the value
/// is absent (UINT32_MAX), at most four points per pixel column. `x_of` and `y_of`
/// map record time and value to pixels.
template <class Value, class X, class Y>
std::vector<std::vector<plot_point>> step_lines(std::span<const cc_record> records, double x_end, Value value,
                                                X x_of, Y y_of)
{
    std::vector<std::vector<plot_point>> lines;
    std::vector<plot_point>* line = nullptr;  // the line being drawn; nullptr while absent
    const auto put = [&](double x, double y) {
        if (!line->empty() && line->back().x == x && line->back().y == y) return;
        line->push_back({x, y});
    };
    // The pixel column being gathered: the value entering it, its extremes, the last.
    double column = 0, enter = 0, low = 0, high = 0, last = 0;
    bool gathering = false;
    const auto flush = [&] {
        if (!gathering) return;
        put(column, enter);
        if (last >= (low + high) / 2) {  // end near the top: visit the bottom first
            put(column, low);
            put(column, high);
        } else {
            put(column, high);
            put(column, low);
        }
        put(column, last);
        gathering = false;
    };
    for (const cc_record& r : records) {
        const std::uint32_t v = value(r);
        if (v == UINT32_MAX) {  // absent: end the current line
            flush();
            line = nullptr;
            continue;
        }
        const double x = std::round(x_of(r.t));
        const double y = y_of(v);
        if (line == nullptr) {
            line = &lines.emplace_back();
            enter = y;
        } else if (!gathering || column != x) {
            const double before = gathering ? last : line->back().y;
            flush();
            enter = before;  // the step: the old value holds up to this column
        }
        if (!gathering) {
            gathering = true;
            column = x;
            low = high = enter;
        }
        low = std::min(low, y);
        high = std::max(high, y);
        last = y;
    }
    flush();
    if (line != nullptr && !line->empty() && line->back().x < x_end) put(x_end, line->back().y);
    return lines;
}

inline void write_polyline(std::ostream& out, const std::vector<plot_point>& line, std::string_view style)
{
    out << "<polyline fill=\"none\" " << style << " points=\"";
    char buf[48];
    for (const plot_point& p : line) {
        std::snprintf(buf, sizeof buf, "%.1f,%.1f ", p.x, p.y);
        out << buf;
    }
    out << "\"/>\n";
}

}  // namespace detail

/// Writes `records` as an SVG plot: cwnd and ssthresh against time, with axes, ticks,
/// labels and a legend; timeouts are marked on the cwnd line.
inline void write_svg(std::ostream& out, std::span<const cc_record> records, const plot_options& o = {})
{
    using detail::format;
    const double w = std::max(o.width, 200u), h = std::max(o.height, 150u);
    const double left = 78, right = 24, top = o.note.empty() ? 40 : 56, bottom = 52;
    const double pw = w - left - right, ph = h - top - bottom;

    const instant zero = o.origin ? *o.origin : records.empty() ? instant{} : records.front().t;
    const instant last_t = o.end ? *o.end : records.empty() ? zero : records.back().t;
    const double t_max = std::max(static_cast<double>((last_t - zero).count()) / 1e6, 1e-3);
    const double unit = o.mss != 0 ? o.mss : 1;
    double y_max = 0;
    for (const cc_record& r : records) {
        y_max = std::max(y_max, r.cwnd / unit);
        if (r.ssthresh != UINT32_MAX) y_max = std::max(y_max, r.ssthresh / unit);
    }
    const double y_step = detail::tick_step(std::max(y_max, 1.0), 6);
    y_max = std::max(y_step, std::ceil(y_max * 1.04 / y_step) * y_step);
    const double x_step = detail::tick_step(t_max, 8);
    const auto x_of = [&](instant t) { return left + static_cast<double>((t - zero).count()) / 1e6 / t_max * pw; };
    const auto x_at = [&](double s) { return left + s / t_max * pw; };
    const auto y_at = [&](double v) { return top + ph - v / y_max * ph; };
    const auto y_of = [&](std::uint32_t v) { return y_at(v / unit); };

    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << w << "\" height=\"" << h
        << "\" viewBox=\"0 0 " << w << ' ' << h << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        << "<text x=\"" << w / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
        << detail::escape_xml(o.title) << "</text>\n";
    if (!o.note.empty())
        out << "<text x=\"" << w / 2 << "\" y=\"40\" text-anchor=\"middle\" fill=\"#555\">"
            << detail::escape_xml(o.note) << "</text>\n";

    // Grid, ticks and tick labels.
    out << "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
    for (double v = y_step; v <= y_max + y_step / 2; v += y_step)
        out << "<line x1=\"" << left << "\" x2=\"" << left + pw << "\" y1=\"" << format("%.*f", y_at(v), 1)
            << "\" y2=\"" << format("%.*f", y_at(v), 1) << "\"/>\n";
    out << "</g>\n<g stroke=\"black\" stroke-width=\"1\">\n";
    const int xd = detail::tick_decimals(x_step);
    for (double s = 0; s <= t_max + x_step * 1e-6; s += x_step)
        out << "<line x1=\"" << format("%.*f", x_at(s), 1) << "\" x2=\"" << format("%.*f", x_at(s), 1) << "\" y1=\""
            << top + ph << "\" y2=\"" << top + ph + 5 << "\"/>\n";
    for (double v = 0; v <= y_max + y_step / 2; v += y_step)
        out << "<line x1=\"" << left - 5 << "\" x2=\"" << left << "\" y1=\"" << format("%.*f", y_at(v), 1)
            << "\" y2=\"" << format("%.*f", y_at(v), 1) << "\"/>\n";
    out << "</g>\n<g text-anchor=\"middle\">\n";
    for (double s = 0; s <= t_max + x_step * 1e-6; s += x_step)
        out << "<text x=\"" << format("%.*f", x_at(s), 1) << "\" y=\"" << top + ph + 19 << "\">"
            << format("%.*f", s, xd) << "</text>\n";
    out << "</g>\n<g text-anchor=\"end\">\n";
    // y labels: plain, or in thousands (k) or millions (M) when the numbers grow long.
    const double y_div = y_max >= 1e6 ? 1e6 : y_max >= 1e4 ? 1e3 : 1;
    const char* y_suffix = y_div == 1e6 ? "M" : y_div == 1e3 ? "k" : "";
    const int yd = detail::tick_decimals(y_step / y_div);
    for (double v = 0; v <= y_max + y_step / 2; v += y_step)
        out << "<text x=\"" << left - 8 << "\" y=\"" << format("%.*f", y_at(v) + 4, 1) << "\">"
            << (v == 0 ? std::string{"0"} : format("%.*f", v / y_div, yd) + y_suffix) << "</text>\n";
    out << "</g>\n";

    // Axes and their labels.
    out << "<path d=\"M" << left << ',' << top << " V" << top + ph << " H" << left + pw
        << "\" fill=\"none\" stroke=\"black\" stroke-width=\"1.2\"/>\n"
        << "<text x=\"" << left + pw / 2 << "\" y=\"" << h - 12 << "\" text-anchor=\"middle\">time (s)</text>\n"
        << "<text transform=\"translate(18," << top + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
        << (o.mss != 0 ? "window (segments of " + std::to_string(o.mss) + " bytes)" : std::string{"window (bytes)"})
        << "</text>\n";

    // The two windows.
    const double x_end = x_of(last_t);
    const auto ssthresh_lines = detail::step_lines(
        records, x_end, [](const cc_record& r) { return r.ssthresh; }, x_of, y_of);
    const auto cwnd_lines = detail::step_lines(
        records, x_end, [](const cc_record& r) { return r.cwnd; }, x_of, y_of);
    const std::string_view cwnd_style = "stroke=\"#1f5fbf\" stroke-width=\"1.5\" stroke-linejoin=\"round\"";
    const std::string_view ssthresh_style = "stroke=\"#e07000\" stroke-width=\"1.5\" stroke-dasharray=\"6,3\"";
    out << "<clipPath id=\"plot-area\"><rect x=\"" << left << "\" y=\"" << top - 2 << "\" width=\"" << pw + 2
        << "\" height=\"" << ph + 4 << "\"/></clipPath>\n<g clip-path=\"url(#plot-area)\">\n";
    for (const auto& line : ssthresh_lines) detail::write_polyline(out, line, ssthresh_style);
    for (const auto& line : cwnd_lines) detail::write_polyline(out, line, cwnd_style);
    out << "</g>\n";

    // Timeouts, marked where cwnd fell to the loss window (at most a few hundred marks).
    std::size_t timeouts = 0;
    for (const cc_record& r : records) {
        if (r.cause != cc_cause::timeout || ++timeouts > 500) continue;
        out << "<circle cx=\"" << format("%.*f", x_of(r.t), 1) << "\" cy=\"" << format("%.*f", y_of(r.cwnd), 1)
            << "\" r=\"3.5\" fill=\"none\" stroke=\"#c00000\" stroke-width=\"1.5\"/>\n";
    }

    // Legend, top right inside the plot.
    const double lx = left + pw - 150, ly = top + 10;
    const double lh = timeouts != 0 ? 66 : 48;
    out << "<rect x=\"" << lx << "\" y=\"" << ly << "\" width=\"140\" height=\"" << lh
        << "\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n"
        << "<line x1=\"" << lx + 10 << "\" x2=\"" << lx + 40 << "\" y1=\"" << ly + 16 << "\" y2=\"" << ly + 16
        << "\" " << cwnd_style << "/>\n"
        << "<text x=\"" << lx + 48 << "\" y=\"" << ly + 20 << "\">cwnd</text>\n"
        << "<line x1=\"" << lx + 10 << "\" x2=\"" << lx + 40 << "\" y1=\"" << ly + 34 << "\" y2=\"" << ly + 34
        << "\" " << ssthresh_style << "/>\n"
        << "<text x=\"" << lx + 48 << "\" y=\"" << ly + 38 << "\">ssthresh</text>\n";
    if (timeouts != 0)
        out << "<circle cx=\"" << lx + 25 << "\" cy=\"" << ly + 52
            << "\" r=\"3.5\" fill=\"none\" stroke=\"#c00000\" stroke-width=\"1.5\"/>\n"
            << "<text x=\"" << lx + 48 << "\" y=\"" << ly + 56 << "\">timeout</text>\n";
    out << "</svg>\n";
}

}  // namespace tcpx
