#include "awf/base/platform.hpp"

// Transparent interception, the pure parts: options, explain's outcome and the Squid lines.
#include "awf/base/error.hpp"
#include "awf/plan/explain.hpp"
#include "awf/plan/planner.hpp"
#include "awf/plan/squid_conf.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace awf;

namespace {

model::Table planned(const std::vector<std::string>& args) {
    Facts f;
    f.local_subnets = {*Cidr::parse("172.30.0.0/24")};
    return plan(resolve(test::policy_from_args(args), f));
}

std::string outcome(const model::Table& t, const std::string& flow) {
    return explain(t, parse_flow(flow), ExplainContext{}).outcome_text();
}

std::string error_of(const std::vector<std::string>& args) {
    try {
        planned(args);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input);
        return e.what();
    }
    ADD_FAILURE() << "accepted";
    return {};
}

} // namespace

TEST(Intercept, ExplainNamesSquidAndTheProtocol) {
    auto t =
        planned({"--intercept", "--allow-host-ports", "8443", "--intercept-tls-ports", "443,8443"});
    EXPECT_EQ(outcome(t, "tcp/203.0.113.7:443"), "intercepted by Squid at 172.30.0.10, TLS");
    EXPECT_EQ(outcome(t, "tcp/203.0.113.7:8443"), "intercepted by Squid at 172.30.0.10, TLS");
    EXPECT_EQ(outcome(t, "tcp/203.0.113.7:80"), "intercepted by Squid at 172.30.0.10, HTTP");
    // Everything the exemptions and denials decide stays as in proxy mode.
    EXPECT_EQ(outcome(t, "tcp/203.0.113.7:22"), "rejected");
    EXPECT_EQ(outcome(t, "tcp/[2001:db8::1]:443"), "rejected"); // IPv6 web stays denied
    EXPECT_EQ(outcome(t, "udp/8.8.8.8:53"), "direct");
    EXPECT_EQ(outcome(t, "tcp/172.30.0.10:3128"), "direct");
    EXPECT_EQ(outcome(t, "tcp/169.254.169.254:80"), "rejected");
}

TEST(Intercept, NothingIsTranslatedInTheSandbox) {
    auto t = planned({"--intercept"});
    for (const auto& c : t.chains)
        for (const auto& r : c.rules)
            for (const auto& st : r.stmts)
                EXPECT_FALSE(std::holds_alternative<model::Dnat>(st)) << r.comment;
}

TEST(Intercept, OptionsAreCheckedTogether) {
    EXPECT_NE(error_of({"--role", "proxy"}).find("needs --intercept"), std::string::npos);
    EXPECT_NE(error_of({"--intercept-tls-port", "4000"}).find("needs --intercept"),
              std::string::npos);
    EXPECT_NE(error_of({"--intercept", "--intercept-tls-ports", "8443"}).find("never intercepted"),
              std::string::npos);
    EXPECT_NE(error_of({"--intercept", "--intercept-http-port", "3130"}).find("the same as"),
              std::string::npos);
    EXPECT_NE(error_of({"--intercept", "--role", "squid"}).find("expected sandbox or proxy"),
              std::string::npos);
}

TEST(SquidConf, InterceptLinesWithoutCertificateGeneration) {
    Policy p = test::policy_from_args({"--intercept"});
    std::string s = squid_conf(p, {"/etc/squid/tls.pem", "", "/etc/squid/allowed.txt"});
    for (const char* line :
         {"http_port 3129 intercept name=awf_intercept_http\n",
          "https_port 3130 intercept ssl-bump name=awf_intercept_tls tls-cert=/etc/squid/tls.pem "
          "generate-host-certificates=off\n",
          "acl awf_allowed_sni ssl::server_name --client-requested \"/etc/squid/allowed.txt\"\n",
          "ssl_bump peek awf_step1\n", "ssl_bump splice awf_allowed_sni\n",
          "ssl_bump terminate all\n", "host_verify_strict on\n",
          "http_access deny awf_intercept_http awf_ip_host\n"})
        EXPECT_NE(s.find(line), std::string::npos) << line;
    EXPECT_EQ(s.find("bump all"), std::string::npos);
}

TEST(SquidConf, PathsThatWouldBreakTheDirectiveAreRefused) {
    Policy p = test::policy_from_args({"--intercept"});
    for (const char* bad :
         {"relative.pem", "/a b.pem", "/a\"b", "/a\nhttp_access allow all", "/a#b", ""})
        EXPECT_THROW(squid_conf(p, {bad, "", "/etc/l"}), Error) << bad;
    EXPECT_THROW(squid_conf(p, {"/etc/c.pem", "", "/etc/l ist"}), Error);
    EXPECT_THROW(squid_conf(test::policy_from_args({}), {"/c", "", "/l"}), Error);
}
