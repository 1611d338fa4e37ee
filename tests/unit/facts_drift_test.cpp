#include "awf/base/platform.hpp"

// What dump reports when a namespace changed after apply (a sandbox with NET_ADMIN adding
// addresses or changing its default route): only inputs that came from the namespace count.
#include "awf/plan/facts_drift.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace awf;

namespace {

Facts at_apply() {
    Facts f;
    f.hosts_docker_internal = {*IpAddr::parse("172.17.0.1")};
    f.default_gateway_v4 = IpAddr::parse("172.30.0.1");
    f.local_subnets = {*Cidr::parse("172.30.0.0/24")};
    f.host_addresses = {*IpAddr::parse("172.17.0.1")};
    return f;
}

PlanInputs applied(const std::vector<std::string>& args) {
    return derive(resolve(test::policy_from_args(args), at_apply()));
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v)
        s += x + "\n";
    return s;
}

} // namespace

TEST(FactsDrift, NothingChangedSaysNothing) {
    EXPECT_TRUE(facts_drift(applied({"--enable-host-access"}), at_apply(), true).empty());
    EXPECT_TRUE(facts_drift(applied({}), at_apply(), false).empty());
}

TEST(FactsDrift, NewSubnetAndDefaultRouteAreNamed) {
    Facts now = at_apply();
    now.local_subnets.push_back(*Cidr::parse("10.77.0.0/24"));
    now.default_gateway_v4 = IpAddr::parse("10.77.0.1");
    auto d = facts_drift(applied({"--enable-host-access"}), now, true);
    std::string s = joined(d);
    EXPECT_NE(s.find("subnet 10.77.0.0/24 is connected now but was not at apply"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("the default route now goes via 10.77.0.1, which is not a host gateway"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("host gateway 172.30.0.1 is neither the default route"), std::string::npos)
        << s;
    EXPECT_EQ(d.size(), 3u) << s;
}

TEST(FactsDrift, RemovedSubnetStaysAdmitted) {
    Facts now = at_apply();
    now.local_subnets = {*Cidr::parse("192.168.5.0/24")};
    auto d = facts_drift(applied({}), now, false);
    std::string s = joined(d);
    EXPECT_NE(s.find("subnet 172.30.0.0/24 was connected at apply but is not now"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("subnet 192.168.5.0/24 is connected now"), std::string::npos) << s;
}

TEST(FactsDrift, ExplicitInputsAreNotFacts) {
    Facts now = at_apply();
    now.local_subnets = {*Cidr::parse("10.77.0.0/24")};
    now.default_gateway_v4 = IpAddr::parse("10.77.0.1");
    EXPECT_TRUE(facts_drift(applied({"--enable-host-access", "--host-gateway", "172.17.0.1",
                                     "--inbound", "172.30.0.0/24"}),
                            now, true)
                    .empty());
}

TEST(FactsDrift, WithoutTheHostsFileAGatewayFromItIsNotCalledGone) {
    Facts now = at_apply();
    now.hosts_docker_internal.clear();
    EXPECT_TRUE(facts_drift(applied({"--enable-host-access"}), now, false).empty());
    auto d = facts_drift(applied({"--enable-host-access"}), now, true);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NE(d[0].find("host gateway 172.17.0.1"), std::string::npos) << d[0];
}

TEST(FactsDrift, AnAddressInsideAConnectedSubnetIsNoChange) {
    Facts now = at_apply();
    now.local_subnets.push_back(*Cidr::parse("172.30.0.0/25"));
    EXPECT_TRUE(facts_drift(applied({}), now, false).empty());
}
