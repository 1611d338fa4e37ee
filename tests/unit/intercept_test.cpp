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

namespace {

SquidConfPaths cert_paths(const std::string& cert) {
    SquidConfPaths paths;
    paths.tls_cert = cert;
    return paths;
}

} // namespace

TEST(SquidConf, InterceptLinesWithoutCertificateGeneration) {
    Policy p = test::policy_from_args({"--intercept", "--allow-domains",
                                       "allowed.test,*.cdn.test,https://tls.test,http://plain.test",
                                       "--block-domains", "bad.allowed.test"});
    std::string s = squid_intercept_lines(p, cert_paths("/etc/squid/tls.pem"));
    for (const char* line :
         {"http_port 3129 intercept name=awf_intercept_http\n",
          "https_port 3130 intercept ssl-bump name=awf_intercept_tls tls-cert=/etc/squid/tls.pem "
          "generate-host-certificates=off\n",
          "acl awf_sni ssl::server_name .allowed.test\n",
          "acl awf_sni_re ssl::server_name_regex -i ^([a-z0-9_-]+\\.)+cdn\\.test$\n",
          "acl awf_sni_https ssl::server_name .tls.test\n",
          "ssl_bump peek awf_step1\nssl_bump terminate awf_sni_block\nssl_bump splice awf_sni\n"
          "ssl_bump splice awf_sni_re\nssl_bump splice awf_sni_https\nssl_bump terminate all\n",
          "host_verify_strict on\n", "http_access deny awf_intercept_http awf_ip_host\n"})
        EXPECT_NE(s.find(line), std::string::npos) << line << "\n---\n" << s;
    EXPECT_EQ(s.find("bump all"), std::string::npos);
    // http://plain.test admits no TLS.
    EXPECT_EQ(s.find("plain.test"), std::string::npos) << s;
}

TEST(SquidConf, PathsThatWouldBreakTheDirectiveAreRefused) {
    Policy p = test::policy_from_args({"--intercept"});
    for (const char* bad :
         {"relative.pem", "/a b.pem", "/a\"b", "/a\nhttp_access allow all", "/a#b", ""})
        EXPECT_THROW(squid_intercept_lines(p, cert_paths(bad)), Error) << bad;
    SquidConfPaths dir = cert_paths("/etc/c.pem");
    dir.state_dir = "/var/lib/a b";
    EXPECT_THROW(squid_conf(p, dir), Error);
    EXPECT_THROW(squid_intercept_lines(test::policy_from_args({}), cert_paths("/c")), Error);
    SquidConfPaths v6 = cert_paths("/c");
    v6.listen = "::1";
    EXPECT_THROW(squid_conf(p, v6), Error);
}

// The whole configuration for a policy: golden text, every scheme and kind of entry.
TEST(SquidConf, CompleteConfiguration) {
    Policy p = test::policy_from_args(
        {"--squid", "10.0.0.1:3128", "--allow-host-ports", "8080", "--allow-domains",
         "github.com,api.github.com,*.npmjs.org,https://secure.test,http://plain.test,"
         "https://*.tls.test",
         "--block-domains", "gist.github.com,http://old.npmjs.org"});
    SquidConfPaths paths;
    paths.state_dir = "/run/awf-net/s1";
    paths.listen = "10.0.0.1";
    paths.dns = {*IpAddr::parse("10.0.0.53")};
    paths.clients = {*Cidr::parse("10.213.0.2/32")};
    test::expect_golden("squid-complete.conf", squid_conf(p, paths));
    Policy i = test::policy_from_args({"--intercept", "--allow-domains", "github.com"});
    SquidConfPaths ip = cert_paths("/etc/awf-net/squid-tls.pem");
    test::expect_golden("squid-complete-intercept.conf", squid_conf(i, ip));
}
