#include "awf/base/platform.hpp"

// The one-line run's pure parts: what it will build (names, a free /30, files' text, the
// sandbox's policy) and what it reports (the summary from Squid's log).
#include "awf/base/error.hpp"
#include "awf/launch/launch_plan.hpp"
#include "awf/launch/run_summary.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/plan/planner.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace awf;

namespace {

Cidr cidr(const char* s) {
    return *Cidr::parse(s);
}

} // namespace

TEST(LaunchPlan, PicksTheFirstFreeSlash30) {
    Cidr pool = cidr("10.213.0.0/16");
    EXPECT_EQ(pick_link_subnet(pool, {})->str(), "10.213.0.0/30");
    // A host route over the pool's start, an address, another run's link.
    EXPECT_EQ(pick_link_subnet(
                  pool, {cidr("10.213.0.0/29"), cidr("10.213.0.9/32"), cidr("10.213.0.12/30")})
                  ->str(),
              "10.213.0.16/30");
    // A route wider than the pool covers it all.
    EXPECT_FALSE(pick_link_subnet(pool, {cidr("10.0.0.0/8")}).has_value());
    EXPECT_FALSE(pick_link_subnet(cidr("10.0.0.0/31"), {}).has_value());
    EXPECT_EQ(pick_link_subnet(cidr("192.168.7.4/30"), {})->str(), "192.168.7.4/30");
    // IPv6 routes never collide with an IPv4 link.
    EXPECT_EQ(pick_link_subnet(pool, {cidr("::/0")})->str(), "10.213.0.0/30");
}

TEST(LaunchPlan, NamesAddressesFilesAndPolicy) {
    Policy caller = test::policy_from_args({"--allow-domains", "github.com", "--dns-servers",
                                            "10.0.0.53", "--allow-host-ports", "3000"});
    LaunchPlan p = plan_launch("ci-42", cidr("10.213.0.8/30"), caller);
    EXPECT_EQ(p.netns, "awf-ci-42");
    EXPECT_EQ(p.host_link, "awfci-42");
    EXPECT_EQ(p.host_addr.str(), "10.213.0.9");
    EXPECT_EQ(p.sandbox_addr.str(), "10.213.0.10");
    EXPECT_EQ(p.dir, "/run/awf-net/runs/ci-42");
    EXPECT_EQ(p.sandbox_policy.squid_host, "10.213.0.9");
    ASSERT_EQ(p.sandbox_policy.dns_servers.size(), 1u);
    EXPECT_EQ(p.sandbox_policy.dns_servers[0].str(), "10.213.0.9");
    EXPECT_EQ(p.sandbox_policy.allow_host_ports.str(), "3000");
    EXPECT_EQ(p.sandbox_policy.domains, caller.domains);
    EXPECT_EQ(sandbox_resolv_conf(p).find("nameserver 10.213.0.9\n") != std::string::npos, true);
    EXPECT_NE(sandbox_hosts(p).find("10.213.0.9 host.docker.internal\n"), std::string::npos);
    auto env = proxy_environment(p);
    EXPECT_EQ(env.size(), 6u);
    EXPECT_EQ(env[0],
              (std::pair<std::string, std::string>{"HTTP_PROXY", "http://10.213.0.9:3128"}));
    EXPECT_EQ(env[4], (std::pair<std::string, std::string>{"NO_PROXY", "localhost,127.0.0.1"}));
}

TEST(LaunchPlan, TheResolverAnswersOnlyWhatTheListCouldAdmit) {
    Policy p = test::policy_from_args(
        {"--allow-domains", "github.com,*.npmjs.org,api-*.x.org,https://github.com",
         "--block-domains", "gist.github.com,*.bad.org,http://old.org"});
    IpAddr up = *IpAddr::parse("10.0.0.53");
    EXPECT_EQ(resolver_domain_args(p.domains, {up}),
              (std::vector<std::string>{
                  "--server=/github.com/10.0.0.53", "--server=/npmjs.org/10.0.0.53",
                  "--server=/x.org/10.0.0.53", "--address=/gist.github.com/", "--address=/#/"}));
    EXPECT_EQ(resolver_domain_args(p.domains, {}).front(), "--server=/github.com/#");
    Policy none = test::policy_from_args({});
    EXPECT_EQ(resolver_domain_args(none.domains, {up}),
              (std::vector<std::string>{"--address=/#/"}));
    Policy open = test::policy_from_args({"--allow-domains", "github.com,github.*"});
    EXPECT_EQ(resolver_domain_args(open.domains, {up}),
              (std::vector<std::string>{"--server=10.0.0.53"}));
}

TEST(LaunchPlan, NamesARunCanCarry) {
    for (const char* ok : {"a", "ci-42", "abcdefghijkl"})
        EXPECT_NO_THROW(check_run_name(ok)) << ok;
    for (const char* bad : {"", "-a", "abcdefghijklm", "A", "a/b", "a b", "..", "a_b"})
        EXPECT_THROW(check_run_name(bad), Error) << bad;
}

TEST(RunSummary, CountsWhatSquidDecided) {
    RunSummary s =
        summarise_access_text("1.000 10.213.0.1 - - - 0 NONE_NONE -\n"
                              "1.100 10.213.0.2 GET - - 400 NONE_NONE -\n"
                              "1.200 10.213.0.2 CONNECT github.com 443 200 TCP_TUNNEL -\n"
                              "1.300 10.213.0.2 GET api.github.com 80 404 TCP_MISS -\n"
                              "1.400 10.213.0.2 CONNECT evil.com 443 403 TCP_DENIED -\n"
                              "1.500 10.213.0.2 CONNECT evil.com 443 403 TCP_DENIED -\n"
                              "not a line\n"
                              "1.600 10.213.0.2 GET ev\"il 80 403 TCP_DENIED -\n");
    EXPECT_EQ(s.total_allowed(), 2);
    EXPECT_EQ(s.total_denied(), 4);
    EXPECT_EQ(s.denied.at("evil.com"), 2);
    EXPECT_EQ(s.denied.at("(no host: not a proxy request)"), 1);
    EXPECT_EQ(s.denied.count("ev\\x22il"), 1u);
    std::string text = format_summary("r1", s);
    EXPECT_EQ(text.rfind("awf-net run r1: 2 requests allowed, 4 denied\n", 0), 0u) << text;
    EXPECT_NE(text.find("  denied   evil.com (2)\n"), std::string::npos) << text;
}

TEST(RunSummary, AuditLinesAreOneObjectPerRequest) {
    auto lines =
        audit_requests("1796307978.276 10.213.0.2 CONNECT allowed.test 443 200 TCP_TUNNEL -\n"
                       "1796307978.283 10.213.0.2 CONNECT denied.test 443 403 TCP_DENIED -\n"
                       "1796307978.300 10.213.0.1 - - - 0 NONE_NONE -\n");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(
        lines[0].json,
        "{\"_schema\":\"awf-net.audit/1\",\"client\":\"10.213.0.2\",\"decision\":\"allowed\","
        "\"domain\":\"allowed.test\",\"event\":\"request\",\"method\":\"CONNECT\",\"port\":"
        "\"443\",\"squid_result\":\"TCP_TUNNEL\",\"status\":\"200\",\"timestamp\":\"2026-12-03T"
        "14:26:18.276Z\"}");
    EXPECT_NE(lines[1].json.find("\"decision\":\"denied\""), std::string::npos);
    EXPECT_EQ(iso8601_utc(0.9996), "1970-01-01T00:00:01.000Z");
}

// The wall on the host's end of a run's link: golden nft text, with and without interception.
TEST(HostLink, PlansTheHostEndsWall) {
    HostLinkInputs in;
    in.table = "awf_link_ci-42";
    in.ifindex = 7;
    in.host_addr = *IpAddr::parse("10.213.0.9");
    in.services.add({3128, 3128});
    in.services.add({3000, 3010});
    test::expect_golden("host-link.nft", to_nft_text(plan_host_link(in)));
    in.intercept = true;
    in.web_ports.add({80, 80});
    in.web_ports.add({443, 443});
    in.intercept_tls_ports.add({443, 443});
    test::expect_golden("host-link-intercept.nft", to_nft_text(plan_host_link(in)));
}

// Intercepted TLS: a peek line, then a tunnel line when spliced; a peek alone was terminated.
TEST(RunSummary, InterceptedTlsIsCountedOncePerConnection) {
    RunSummary s = summarise_access_text(
        "1.1 10.213.0.2 CONNECT 203.0.113.10 443 0 NONE_NONE allowed.test\n"
        "1.2 10.213.0.2 CONNECT allowed.test 443 500 TCP_TUNNEL allowed.test\n"
        "1.3 10.213.0.2 CONNECT 203.0.113.10 443 0 NONE_NONE denied.test\n"
        "1.4 10.213.0.2 CONNECT allowed.test 443 200 TCP_TUNNEL -\n");
    EXPECT_EQ(s.allowed.at("allowed.test"), 2);
    EXPECT_EQ(s.denied.at("denied.test"), 1);
    EXPECT_EQ(s.total_allowed() + s.total_denied(), 3);
    auto audit =
        audit_requests("1.3 10.213.0.2 CONNECT 203.0.113.10 443 0 NONE_NONE denied.test\n");
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_NE(audit[0].json.find("\"decision\":\"denied\""), std::string::npos);
    EXPECT_NE(audit[0].json.find("\"squid_result\":\"TERMINATED\""), std::string::npos);
}
