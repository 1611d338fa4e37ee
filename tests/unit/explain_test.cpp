#include "awf/base/platform.hpp"

// explain: flows walked through planned models give the outcomes policy.md states.
#include "awf/base/error.hpp"
#include "awf/plan/explain.hpp"
#include "awf/plan/planner.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace awf;

namespace {

std::string outcome(const std::vector<std::string>& policy, const std::string& flow,
                    ExplainContext ctx = {}) {
    Facts f;
    model::Table t = plan(resolve(test::policy_from_args(policy), f));
    return explain(t, parse_flow(flow), ctx).outcome_text();
}

const std::vector<std::string> kHostAccess = {"--enable-host-access",
                                              "--host-gateway",
                                              "172.17.0.1",
                                              "--allow-host-ports",
                                              "8080,22",
                                              "--allow-host-service-ports",
                                              "5432"};

} // namespace

TEST(Explain, WebPortsAreRedirectedToSquid) {
    EXPECT_EQ(outcome({}, "tcp/203.0.113.7:80"), "redirected to Squid at 172.30.0.10:3128");
    EXPECT_EQ(outcome({}, "tcp/203.0.113.7:443"), "redirected to Squid at 172.30.0.10:3128");
    EXPECT_EQ(outcome({"--allow-host-ports", "3000-3010"}, "tcp/203.0.113.7:3005"),
              "redirected to Squid at 172.30.0.10:3128");
    EXPECT_EQ(outcome({}, "tcp/203.0.113.7:3005"), "rejected");
}

TEST(Explain, ExemptionsGoDirect) {
    EXPECT_EQ(outcome({}, "tcp/127.0.0.1:80"), "direct");
    EXPECT_EQ(outcome({}, "tcp/172.30.0.10:3128"), "direct");
    EXPECT_EQ(outcome({}, "udp/8.8.8.8:53"), "direct");
    EXPECT_EQ(outcome({}, "tcp/8.8.4.4:53"), "direct");
    ExplainContext ctx;
    ctx.local = {*IpAddr::parse("172.30.0.20")};
    EXPECT_EQ(outcome({}, "tcp/172.30.0.20:80", ctx), "direct");
    EXPECT_EQ(outcome(kHostAccess, "tcp/172.17.0.1:8080"), "direct");
    EXPECT_EQ(outcome(kHostAccess, "tcp/172.17.0.1:5432"), "direct");
}

TEST(Explain, AttacksAreDenied) {
    EXPECT_EQ(outcome(kHostAccess, "tcp/203.0.113.7:22"), "rejected"); // dangerous though listed
    EXPECT_EQ(outcome(kHostAccess, "tcp/203.0.113.7:5432"), "rejected");
    EXPECT_EQ(outcome(kHostAccess, "tcp/172.17.0.1:9999"), "rejected");
    EXPECT_EQ(outcome({}, "udp/1.1.1.1:53"), "dropped");
    EXPECT_EQ(outcome({}, "udp/203.0.113.7:443"), "dropped"); // QUIC
    EXPECT_EQ(outcome({}, "icmp/1.1.1.1"), "dropped");
    EXPECT_EQ(outcome({}, "sctp/1.1.1.1:80"), "dropped");
    EXPECT_EQ(outcome({}, "gre/1.1.1.1"), "dropped");
    EXPECT_EQ(outcome({}, "tcp/[2001:db8::1]:443"), "rejected");
    EXPECT_EQ(outcome({}, "tcp/169.254.169.254:80"), "rejected"); // never reaches Squid
    EXPECT_EQ(outcome({}, "tcp/224.0.0.1:80"), "rejected");
    EXPECT_EQ(outcome({"--blocked-action", "drop"}, "tcp/203.0.113.7:22"), "dropped");
}

TEST(Explain, NamesTheDecidingRulesAndTheEvent) {
    Facts f;
    model::Table t = plan(resolve(test::policy_from_args({}), f));
    Explanation e = explain(t, parse_flow("tcp/203.0.113.7:22"), {});
    EXPECT_EQ(e.nat.comment, "nat: dangerous port");
    EXPECT_EQ(e.filter.comment, "deny dangerous port");
    EXPECT_EQ(e.logged, std::optional<std::string>("[FW_BLOCKED_DANGEROUS_PORT] "));
    Explanation d = explain(t, parse_flow("tcp/203.0.113.7:80"), {});
    EXPECT_EQ(d.filter.comment, "proxies"); // the filter hook sees the translated packet
    EXPECT_FALSE(d.logged.has_value());
}

TEST(Explain, FlowSyntaxErrorsNameTheFlow) {
    EXPECT_EQ(parse_flow("tcp/[2001:db8::1]:443").daddr.str(), "2001:db8::1");
    EXPECT_EQ(parse_flow("icmp/::1").proto, 58);
    for (const char* bad :
         {"tcp203.0.113.7:80", "foo/1.1.1.1", "tcp/1.1.1.1", "tcp/1.1.1.1:080", "icmp/1.1.1.1:80",
          "tcp/2001:db8::1:443", "tcp/[2001:db8::1", "udp/999.1.1.1:53"}) {
        try {
            parse_flow(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ExitCode::invalid_input);
            EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
        }
    }
}
