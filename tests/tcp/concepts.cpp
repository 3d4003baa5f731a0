// The policy concepts (concepts.hpp): the exemplars of each requirements table model
// their concept, tcpx's own policies do, and a type missing one expression does not.
// tests/compile_fail/ shows that misuse stops the build with the concept's name.
#include <tcpx/concepts.hpp>

#include <doctest/doctest.h>

#include <array>

#include <tcpx/cc/reno.hpp>
#include <tcpx/clock/manual.hpp>
#include <tcpx/clock/steady.hpp>
#include <tcpx/device/impaired.hpp>
#include <tcpx/device/loopback.hpp>
#include <tcpx/device/pcap.hpp>

namespace {

// The exemplars from the requirement tables, verbatim.
struct my_clock {
    tcpx::instant now() const { return tcpx::instant{}; }
};
struct null_device {
    std::array<std::uint8_t, 1500> buf;
    std::size_t mtu() const { return buf.size(); }
    template <class F>
    std::size_t receive(tcpx::instant, F&&, std::size_t) { return 0; }
    std::span<std::uint8_t> transmit_buffer(std::size_t) { return buf; }
    void transmit(std::size_t, tcpx::instant) {}
    tcpx::instant next_deadline() const { return tcpx::never; }
};
struct unlimited {
    explicit unlimited(tcpx::cc::init) {}
    std::uint32_t cwnd() const { return UINT32_MAX; }
    std::uint32_t ssthresh() const { return UINT32_MAX; }
    bool in_recovery() const { return false; }
    tcpx::cc::action on_ack(const tcpx::cc::ack_event&) { return {}; }
    tcpx::cc::action on_duplicate_ack(const tcpx::cc::duplicate_ack_event& e)
    {
        return e.count == 3 ? tcpx::cc::action::retransmit : tcpx::cc::action::none;
    }
    void on_timeout(std::uint32_t, tcpx::instant) {}
    void on_idle(tcpx::instant) {}
};

// Negative models: each lacks exactly one requirement.
struct clock_with_wrong_type {
    long now() const { return 0; }
};
struct device_without_next_deadline {
    std::size_t mtu() const { return 1500; }
    template <class F>
    std::size_t receive(tcpx::instant, F&&, std::size_t) { return 0; }
    std::span<std::uint8_t> transmit_buffer(std::size_t) { return {}; }
    void transmit(std::size_t, tcpx::instant) {}
};
struct cc_without_timeout {
    explicit cc_without_timeout(tcpx::cc::init) {}
    std::uint32_t cwnd() const { return 0; }
    std::uint32_t ssthresh() const { return 0; }
    bool in_recovery() const { return false; }
    tcpx::cc::action on_ack(const tcpx::cc::ack_event&) { return {}; }
    tcpx::cc::action on_duplicate_ack(const tcpx::cc::duplicate_ack_event&) { return {}; }
    void on_idle(tcpx::instant) {}
};
struct cc_not_constructible_from_init {
    std::uint32_t cwnd() const { return 0; }
    std::uint32_t ssthresh() const { return 0; }
    bool in_recovery() const { return false; }
    tcpx::cc::action on_ack(const tcpx::cc::ack_event&) { return {}; }
    tcpx::cc::action on_duplicate_ack(const tcpx::cc::duplicate_ack_event&) { return {}; }
    void on_timeout(std::uint32_t, tcpx::instant) {}
    void on_idle(tcpx::instant) {}
};

}  // namespace

TEST_CASE("concepts_exemplars_and_tcpx_policies_are_models")
{
    static_assert(tcpx::clock<my_clock>);
    static_assert(tcpx::clock<tcpx::clocks::steady>);
    static_assert(tcpx::clock<tcpx::clocks::manual>);
    static_assert(tcpx::device<null_device>);
    static_assert(tcpx::device<tcpx::devices::loopback>);
    static_assert(tcpx::device<tcpx::devices::loopback&>);
    static_assert(tcpx::device<tcpx::devices::impaired<tcpx::devices::loopback&>>);
    static_assert(tcpx::device<tcpx::devices::pcap<tcpx::devices::loopback&>>);
    static_assert(tcpx::congestion_control<unlimited>);
    static_assert(tcpx::congestion_control<tcpx::cc::reno>);
    CHECK(true);
}

TEST_CASE("concepts_a_type_missing_one_requirement_is_not_a_model")
{
    static_assert(!tcpx::clock<clock_with_wrong_type>);
    static_assert(!tcpx::clock<int>);
    static_assert(!tcpx::device<device_without_next_deadline>);
    static_assert(!tcpx::device<my_clock>);
    static_assert(!tcpx::congestion_control<cc_without_timeout>);
    static_assert(!tcpx::congestion_control<cc_not_constructible_from_init>);
    CHECK(true);
}
