// custom_cc: a congestion-control policy of your own, in a few dozen lines.
//
// `halving_aimd` grows its window by one segment per window of acknowledged data
// and halves it on any loss signal — Reno without slow start or fast recovery.
// Anything that models tcpx::congestion_control (concepts.hpp has the table) can be
// the third template argument of tcpx::stack; the connection does the rest.
#include <tcpx/stack.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

class halving_aimd {
public:
    explicit halving_aimd(tcpx::cc::init i) : smss_{i.smss}, cwnd_{2 * i.smss} {}

    std::uint32_t cwnd() const { return cwnd_; }
    std::uint32_t ssthresh() const { return UINT32_MAX; }  // no slow start here
    bool in_recovery() const { return false; }

    tcpx::cc::action on_ack(const tcpx::cc::ack_event& e)
    {
        acked_ += e.bytes_acked;
        if (acked_ >= cwnd_) {  // one more segment per window acknowledged
            acked_ -= cwnd_;
            cwnd_ += smss_;
        }
        return tcpx::cc::action::none;
    }
    tcpx::cc::action on_duplicate_ack(const tcpx::cc::duplicate_ack_event& e)
    {
        if (e.count != 3) return tcpx::cc::action::none;
        cwnd_ = std::max(cwnd_ / 2, 2 * smss_);
        return tcpx::cc::action::retransmit;  // ask the sender for a fast retransmit
    }
    void on_timeout(std::uint32_t, tcpx::instant) { cwnd_ = smss_; }
    void on_idle(tcpx::instant) {}

private:
    std::uint32_t smss_;
    std::uint32_t cwnd_;
    std::uint32_t acked_ = 0;
};
static_assert(tcpx::congestion_control<halving_aimd>);

int main()
{
    using namespace tcpx;
    devices::loopback_link link;
    devices::impairment lossy;
    lossy.loss = 0.01;
    lossy.delay = 5ms;
    devices::impaired<devices::loopback&> path{devices::impairment_config{.transmit = lossy}, link.end(0)};
    clocks::manual_timeline time;
    config ca, cb;
    ca.address = wire::ipv4_address{10, 0, 0, 1};
    cb.address = wire::ipv4_address{10, 0, 0, 2};
    stack<devices::impaired<devices::loopback&>&, clocks::manual, halving_aimd> a{path, clocks::manual{time}, ca};
    stack<devices::loopback&, clocks::manual> b{link.end(1), clocks::manual{time}, cb};

    std::error_code ec;
    const listener l = b.listen(7, 4, ec);
    const socket s = a.connect(cb.address, 7, ec);
    std::vector<std::uint8_t> data(4 << 20, 0x42), in(1 << 16);
    std::size_t sent = 0, got = 0;
    socket t{};
    while (got < data.size()) {
        a.poll();
        b.poll();
        if (!t) t = b.accept(l, ec);
        if (a.writable(s)) sent += a.send(s, std::span{data}.subspan(sent), ec);
        if (t) got += b.receive(t, in, ec);
        const instant next = std::min(a.next_deadline(), b.next_deadline());
        if (next > time.now() && next != never) time.advance_to(next);
    }
    const auto* c = a.connection(s);
    std::printf("4 MiB over a 1%%-loss, 5 ms path with halving_aimd: %.2f s simulated, "
                "%llu fast retransmits, %llu timeouts, final cwnd %u\n",
                std::chrono::duration<double>(time.now() - clocks::manual_timeline::start).count(),
                static_cast<unsigned long long>(c->stats().fast_retransmits),
                static_cast<unsigned long long>(c->stats().timeouts), c->congestion().cwnd());
}
