// tcpx-http-get: fetches a URL over HTTP/1.1 from a server on the kernel's side of a
// TUN interface, through tcpx, and prints the response body to stdout.
//
//   python3 -m http.server 8000 --bind 10.0.0.2 &      # a kernel-side server
//   sudo tcpx-http-get http://10.0.0.2:8000/README.md
//
// RFC 9112 (HTTP/1.1 message syntax): a request line, Host, Connection: close; the
// response body delimited by chunked transfer coding, Content-Length, or the close of
// the connection, in that order of precedence (§6.3). Exit status 0 for a 2xx status.
#include <tcpx/blocking.hpp>
#include <tcpx/device/impaired.hpp>
#include <tcpx/device/tun.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "common/interface.hpp"

namespace {

[[noreturn]] void usage(const char* why, int status = 2)
{
    std::fprintf(status == 0 ? stdout : stderr,
                 "tcpx-http-get: %s\n"
                 "usage: tcpx-http-get http://A.B.C.D[:PORT]/PATH [--headers] [--tun NAME] [--addr A.B.C.D]\n"
                 "                     [--host A.B.C.D/N] [--mtu N] [--loss P] [--delay MS] [--reorder P] [--seed N]\n"
                 "  --headers          print the status line and headers to stderr\n"
                 "%s"
                 "The server must be on --host's network (the kernel's side of the interface).\n"
                 "Needs root or CAP_NET_ADMIN (it creates and configures the interface).\n",
                 why, example::interface_usage);
    std::exit(status);
}

struct url {
    tcpx::wire::ipv4_address address;
    std::uint16_t port = 80;
    std::string host;  ///< as written, for the Host header
    std::string path = "/";
};

std::optional<url> parse_url(std::string_view text)
{
    constexpr std::string_view scheme = "http://";
    if (text.substr(0, scheme.size()) != scheme) return std::nullopt;
    text.remove_prefix(scheme.size());
    url u;
    const auto slash = text.find('/');
    const std::string_view authority = text.substr(0, slash);
    if (slash != std::string_view::npos) u.path = std::string{text.substr(slash)};
    u.host = std::string{authority};
    const auto colon = authority.find(':');
    const auto addr = tcpx::wire::ipv4_address::parse(authority.substr(0, colon));
    if (!addr) return std::nullopt;
    u.address = *addr;
    if (colon != std::string_view::npos) {
        const std::string digits{authority.substr(colon + 1)};
        if (digits.empty() || digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return std::nullopt;
        const unsigned long p = std::stoul(digits);
        if (p == 0 || p > 65535) return std::nullopt;
        u.port = static_cast<std::uint16_t>(p);
    }
    return u;
}

std::string lower(std::string_view s)
{
    std::string out{s};
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// RFC 9112 §7.1: chunk-size [extensions] CRLF data CRLF ... 0 CRLF [trailers] CRLF.
/// Returns false if the coding is malformed or cut short.
bool decode_chunked(std::string_view in, std::string& out)
{
    for (;;) {
        const auto eol = in.find("\r\n");
        if (eol == std::string_view::npos) return false;
        std::size_t size = 0;
        std::size_t i = 0;
        for (; i < eol && std::isxdigit(static_cast<unsigned char>(in[i])); ++i) {
            if (size > (std::size_t{1} << 40)) return false;
            size = size * 16 + static_cast<std::size_t>(std::stoi(std::string{in[i]}, nullptr, 16));
        }
        if (i == 0) return false;
        in.remove_prefix(eol + 2);
        if (size == 0) return true;  // trailers, if any, are ignored
        if (in.size() < size + 2 || in.substr(size, 2) != "\r\n") return false;
        out.append(in.substr(0, size));
        in.remove_prefix(size + 2);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    example::interface_options net;
    std::optional<url> target;
    bool show_headers = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage("a flag is missing its value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") usage("an HTTP GET over tcpx on a TUN interface", 0);
        else if (a == "--headers") show_headers = true;
        else if (example::parse_interface_flag("tcpx-http-get", a, value, net)) {}
        else if (!a.starts_with("--") && !target) {
            target = parse_url(a);
            if (!target) usage("the URL must be http://A.B.C.D[:PORT]/PATH (an IPv4 address: there is no DNS)");
        }
        else usage("unknown flag");
    }
    if (!target) usage("which URL?");
    if (!net.host.contains(target->address))
        example::die("tcpx-http-get", target->address.to_string() + " is not on the interface's network " +
                                          net.host.address.to_string() + "/" + std::to_string(net.host.prefix) +
                                          " (--host)");

    tcpx::devices::tun tun = example::open_interface("tcpx-http-get", net);
    using device = tcpx::devices::impaired<tcpx::devices::tun&>;
    device dev{example::impairments(net), tun};
    tcpx::config cfg;
    cfg.address = net.addr;
    cfg.address6 = net.addr6;
    cfg.prefix_length = net.host.prefix;  // its directed broadcast is no source (RFC 1122 §3.2.1.3)
    cfg.connect_timeout = std::chrono::seconds{10};
    tcpx::blocking::runtime<device&> rt{dev, cfg};

    std::error_code ec;
    tcpx::blocking::stream s = rt.connect(target->address, target->port, ec);
    if (ec) example::die("tcpx-http-get", "connect to " + target->host + ": " + ec.message(), 1);

    // RFC 9112 §3: request line; RFC 9110 §7.2: Host; §9.6: Connection: close, so the
    // server's close ends a body that has no length of its own.
    const std::string request = "GET " + target->path + " HTTP/1.1\r\nHost: " + target->host +
                                "\r\nUser-Agent: tcpx-http-get\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    if (s.write({reinterpret_cast<const std::uint8_t*>(request.data()), request.size()}, ec) != request.size())
        example::die("tcpx-http-get", "sending the request: " + ec.message(), 1);

    std::string response;
    std::uint8_t buf[65536];
    while (const std::size_t n = s.read(buf, ec)) response.append(reinterpret_cast<const char*>(buf), n);
    if (ec != tcpx::errc::end_of_stream) example::die("tcpx-http-get", "reading the response: " + ec.message(), 1);
    s.close();

    const auto head_end = response.find("\r\n\r\n");
    if (head_end == std::string::npos || !response.starts_with("HTTP/1."))
        example::die("tcpx-http-get", "the response is not HTTP/1.x", 1);
    const std::string_view head{response.data(), head_end};
    const std::string_view status_line = head.substr(0, head.find("\r\n"));
    if (show_headers) std::fprintf(stderr, "%.*s\n", static_cast<int>(head.size()), head.data());
    const int status = status_line.size() >= 12 ? std::atoi(std::string{status_line.substr(9, 3)}.c_str()) : 0;

    std::optional<std::size_t> content_length;
    bool chunked = false;
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
        const std::size_t next = head.find("\r\n", at + 2);
        const std::string_view line = head.substr(at + 2, next == std::string_view::npos ? head.npos : next - at - 2);
        at = next;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string name = lower(line.substr(0, colon));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) chunked = true;
        if (name == "content-length") content_length = std::strtoull(std::string{value}.c_str(), nullptr, 10);
    }

    const std::string_view raw_body = std::string_view{response}.substr(head_end + 4);
    std::string body;
    if (chunked) {  // RFC 9112 §6.3: chunked wins over Content-Length
        if (!decode_chunked(raw_body, body)) example::die("tcpx-http-get", "malformed chunked body", 1);
    } else if (content_length) {
        if (raw_body.size() < *content_length)
            example::die("tcpx-http-get", "the body ended after " + std::to_string(raw_body.size()) + " of " +
                                              std::to_string(*content_length) + " bytes", 1);
        body = raw_body.substr(0, *content_length);
    } else {
        body = raw_body;  // delimited by the close
    }
    std::fwrite(body.data(), 1, body.size(), stdout);
    std::fflush(stdout);
    if (status < 200 || status > 299) {
        std::fprintf(stderr, "tcpx-http-get: %.*s\n", static_cast<int>(status_line.size()), status_line.data());
        return 1;
    }
    return 0;
}
