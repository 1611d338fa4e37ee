#include "awf/base/platform.hpp"

// Policy input: flags, config file, --from-env with each variable, precedence, and one clear
// error (exit 2) per kind of bad input.
#include "awf/base/error.hpp"
#include "awf/plan/planner.hpp"
#include "awf/policy/policy.hpp"
#include "test_support.hpp"

#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>

using namespace awf;
using test::policy_from_args;

namespace {

using test::TempFile;

// Runs the whole reading and returns the one-line error, asserting exit code 2.
std::string input_error_of(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env = {}) {
    try {
        Policy p = policy_from_args(args, env);
        Facts f;
        f.default_gateway_v4 = IpAddr::parse("172.30.0.1");
        resolve(p, f);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input) << e.what();
        return e.what();
    } catch (const po::error& e) {
        return std::string("boost: ") + e.what();
    }
    ADD_FAILURE() << "no error for the given input";
    return {};
}

} // namespace

TEST(Policy, DefaultsMatchPolicyMd) {
    Policy p = policy_from_args({});
    EXPECT_EQ(p.squid_host, "172.30.0.10");
    EXPECT_EQ(p.squid_port, 3128);
    ASSERT_EQ(p.dns_servers.size(), 2u);
    EXPECT_EQ(p.dns_servers[0].str(), "8.8.8.8");
    EXPECT_EQ(p.dns_servers[1].str(), "8.8.4.4");
    EXPECT_FALSE(p.host_access);
    EXPECT_EQ(p.dangerous_ports.str(),
              "22-23,25,110,143,445,1433,1521,3306,3389,5432,6379,27017-27018,28017");
    EXPECT_EQ(p.inbound.kind, Inbound::Kind::local);
    EXPECT_EQ(p.ipv6, Ipv6Mode::disable);
    EXPECT_EQ(p.blocked_action, BlockedAction::reject);
    EXPECT_EQ(p.log_group, std::optional<uint16_t>(1));
    EXPECT_EQ(p.table, "awf");
}

TEST(Policy, EveryFlagIsRead) {
    Policy p = policy_from_args(test::split_args(
        "--squid 10.1.2.3:8080 --dns-servers 1.1.1.1,2606:4700::1111 --doh-proxy 10.0.0.53 "
        "--enable-host-access "
        "--host-gateway 172.17.0.1 --host-gateway 172.30.0.1 --allow-host-ports 8080,3000-3010 "
        "--allow-host-service-ports 5432 --api-proxy 172.30.0.30 --cli-proxy "
        "172.30.0.31:12000-12001 "
        "--dangerous-ports 22 --inbound 10.0.0.0/8 --ipv6 block --blocked-action drop --log-group "
        "5 --table t1"));
    EXPECT_EQ(p.squid_host, "10.1.2.3");
    EXPECT_EQ(p.squid_port, 8080);
    EXPECT_EQ(p.dns_servers.size(), 2u);
    EXPECT_EQ(p.doh_proxy->str(), "10.0.0.53");
    EXPECT_TRUE(p.host_access);
    EXPECT_EQ(p.host_gateways.size(), 2u);
    EXPECT_EQ(p.allow_host_ports.str(), "3000-3010,8080");
    EXPECT_EQ(p.host_service_ports.str(), "5432");
    EXPECT_EQ(p.api_proxy->ports.str(), "10000-10004");
    EXPECT_EQ(p.cli_proxy->ports.str(), "12000-12001");
    EXPECT_EQ(p.dangerous_ports.str(), "22");
    EXPECT_EQ(p.inbound.kind, Inbound::Kind::cidrs);
    EXPECT_EQ(p.ipv6, Ipv6Mode::block);
    EXPECT_EQ(p.blocked_action, BlockedAction::drop);
    EXPECT_EQ(*p.log_group, 5);
    EXPECT_EQ(p.table, "t1");
    EXPECT_FALSE(policy_from_args({"--no-log"}).log_group.has_value());
}

TEST(Policy, ConfigFileUsesFlagNamesAndComments) {
    TempFile f("# sandbox policy\nsquid = 10.9.9.9:3129\nenable-host-access = true\n"
               "allow-host-ports = 8080 # the dev server\nhost-gateway = 172.17.0.1\nhost-gateway "
               "= 172.17.0.2\n");
    Policy p = policy_from_args({"--config", f.path()});
    EXPECT_EQ(p.squid_host, "10.9.9.9");
    EXPECT_EQ(p.squid_port, 3129);
    EXPECT_TRUE(p.host_access);
    EXPECT_EQ(p.allow_host_ports.str(), "8080");
    EXPECT_EQ(p.host_gateways.size(), 2u);
}

TEST(Policy, FromEnvReadsEveryVariableOfTheOldScript) {
    std::map<std::string, std::string> env = {
        {"SQUID_PROXY_HOST", "172.30.0.11"}, {"SQUID_PROXY_PORT", "3129"},
        {"AWF_DNS_SERVERS", "9.9.9.9"},      {"AWF_DOH_PROXY_IP", "172.30.0.53"},
        {"AWF_ENABLE_HOST_ACCESS", "1"},     {"AWF_HOST_GATEWAY_IP", "172.17.0.9"},
        {"AWF_ALLOW_HOST_PORTS", "9999"},    {"AWF_VALID_ALLOW_HOST_PORTS", "8080"},
        {"AWF_HOST_SERVICE_PORTS", "6379"},  {"AWF_VALID_HOST_SERVICE_PORTS", "5432"},
        {"AWF_API_PROXY_IP", "172.30.0.30"}, {"AWF_CLI_PROXY_IP", "172.30.0.31"}};
    Policy p = policy_from_args({"--from-env"}, env);
    EXPECT_EQ(p.squid_host, "172.30.0.11");
    EXPECT_EQ(p.squid_port, 3129);
    EXPECT_EQ(p.dns_servers.at(0).str(), "9.9.9.9");
    EXPECT_EQ(p.doh_proxy->str(), "172.30.0.53");
    EXPECT_TRUE(p.host_access);
    EXPECT_EQ(p.fallback_gateway->str(), "172.17.0.9");
    EXPECT_EQ(p.allow_host_ports.str(), "8080");   // the VALID_ variant wins
    EXPECT_EQ(p.host_service_ports.str(), "5432"); // likewise
    EXPECT_EQ(p.api_proxy->addr.str(), "172.30.0.30");
    EXPECT_EQ(p.cli_proxy->addr.str(), "172.30.0.31");

    env["AWF_DOH_ENABLED"] = "false";
    EXPECT_FALSE(policy_from_args({"--from-env"}, env).doh_proxy.has_value());
    env.erase("AWF_VALID_ALLOW_HOST_PORTS");
    EXPECT_EQ(policy_from_args({"--from-env"}, env).allow_host_ports.str(), "9999");
    // Without --from-env the environment is never read.
    EXPECT_EQ(policy_from_args({}, env).squid_host, "172.30.0.10");
}

TEST(Policy, HostGatewayFallbackFromEnvOnlyWhenHostsFileHasNone) {
    Policy p = policy_from_args(
        {"--from-env"}, {{"AWF_ENABLE_HOST_ACCESS", "1"}, {"AWF_HOST_GATEWAY_IP", "172.17.0.9"}});
    Facts none;
    EXPECT_EQ(resolve(p, none).gateways.at(0).str(), "172.17.0.9");
    Facts hosts;
    hosts.hosts_docker_internal = {*IpAddr::parse("172.17.0.1")};
    hosts.host_addresses = {*IpAddr::parse("172.17.0.1")};
    auto r = resolve(p, hosts);
    ASSERT_EQ(r.gateways.size(), 1u);
    EXPECT_EQ(r.gateways[0].str(), "172.17.0.1");
}

TEST(Policy, PrecedenceFlagsThenConfigThenEnv) {
    TempFile f("squid = 10.0.0.2:3128\nallow-host-ports = 8081\n");
    std::map<std::string, std::string> env = {{"SQUID_PROXY_HOST", "10.0.0.3"},
                                              {"AWF_ALLOW_HOST_PORTS", "8082"},
                                              {"AWF_DNS_SERVERS", "9.9.9.9"}};
    Policy p =
        policy_from_args({"--from-env", "--config", f.path(), "--squid", "10.0.0.1:3128"}, env);
    EXPECT_EQ(p.squid_host, "10.0.0.1");             // flag beats config and env
    EXPECT_EQ(p.allow_host_ports.str(), "8081");     // config beats env
    EXPECT_EQ(p.dns_servers.at(0).str(), "9.9.9.9"); // env fills what neither gives
}

TEST(Policy, ErrorsNameTheFieldAndTheValue) {
    EXPECT_EQ(input_error_of({"--allow-host-ports", "80,080"}),
              "--allow-host-ports: \"080\": leading zero");
    EXPECT_EQ(input_error_of({"--allow-host-ports", "3000-3010,abc"}),
              "--allow-host-ports: \"abc\": not a port number");
    EXPECT_EQ(input_error_of({"--squid", "172.30.0.300:3128"}),
              "--squid: \"172.30.0.300\": name not found");
    EXPECT_EQ(input_error_of({"--squid", "172.30.0.10"}),
              "--squid: \"172.30.0.10\": expected ADDR:PORT");
    EXPECT_EQ(input_error_of({"--squid", "172.30.0.10:0"}),
              "--squid: \"172.30.0.10:0\": bad port: out of range 1-65535");
    EXPECT_EQ(input_error_of({"--dns-servers", "8.8.8.8,8.8.8"}),
              "--dns-servers: \"8.8.8\": not an IP address");
    EXPECT_EQ(input_error_of({"--host-gateway", "gw"}),
              "--host-gateway: \"gw\": not an IP address");
    EXPECT_EQ(input_error_of({"--inbound", "10.0.0.1/8"}),
              "--inbound: \"10.0.0.1/8\": not local, any, none or a CIDR");
    EXPECT_EQ(input_error_of({"--ipv6", "enable"}),
              "--ipv6: \"enable\": expected disable or block");
    EXPECT_EQ(input_error_of({"--blocked-action", "allow"}),
              "--blocked-action: \"allow\": expected reject or drop");
    EXPECT_EQ(input_error_of({"--log-group", "070"}), "--log-group: \"070\": not a number");
    EXPECT_EQ(input_error_of({"--log-group", "65536"}),
              "--log-group: \"65536\": out of range 0-65535");
    EXPECT_EQ(input_error_of({"--api-proxy", "172.30.0.30:10000-9999"}),
              "--api-proxy: \"10000-9999\": range end below start");
    EXPECT_EQ(input_error_of({"--doh-proxy", "2001:db8::1"}),
              "--doh-proxy: \"2001:db8::1\": must be an IPv4 address");
    EXPECT_EQ(input_error_of({"--table", "bad name"}),
              "--table: \"bad name\": expected a name of letters, digits, '_' and '-'");
    EXPECT_EQ(input_error_of({"--allow-host-service-ports", "5432"}),
              "--allow-host-service-ports: \"5432\": requires --enable-host-access");
    EXPECT_EQ(input_error_of({"--from-env"}, {{"AWF_ALLOW_HOST_PORTS", "3000-3010,99999"}}),
              "AWF_ALLOW_HOST_PORTS: --allow-host-ports: \"99999\": out of range 1-65535");
}

TEST(Policy, ConfigFileErrorsNameFileLineAndKey) {
    TempFile unknown("squid = 10.0.0.1:3128\nbogus-key = 1\n");
    EXPECT_EQ(input_error_of({"--config", unknown.path()}),
              "--config " + unknown.path() + ":2: \"bogus-key\": unknown key");
    TempFile missing("allow-host-ports =\n");
    EXPECT_EQ(input_error_of({"--config", missing.path()}),
              "--config " + missing.path() + ":1: \"allow-host-ports\": missing value");
    EXPECT_EQ(input_error_of({"--config", "/nonexistent/awf.conf"}),
              "--config: \"/nonexistent/awf.conf\": cannot be read");
    // A bad value is reported at its line, with the flag it stands for.
    TempFile bad_value("# mine\nsquid = 10.0.0.1:3128\ndns-servers = 10.0.0.1, bogus\n");
    EXPECT_EQ(input_error_of({"--config", bad_value.path()}),
              "--config " + bad_value.path() + ":3: --dns-servers: \"bogus\": not an IP address");
    TempFile twice("host-gateway = 10.0.0.1\nipv6 = block\nhost-gateway = nope\n");
    EXPECT_EQ(input_error_of({"--config", twice.path()}),
              "--config " + twice.path() + ":1,3: --host-gateway: \"nope\": not an IP address");
    TempFile ipv6("table = t\nipv6 = maybe\n");
    EXPECT_EQ(input_error_of({"--config", ipv6.path()}),
              "--config " + ipv6.path() + ":2: --ipv6: \"maybe\": expected disable or block");
    // The command line's value wins, and its error names no file.
    EXPECT_EQ(input_error_of({"--config", bad_value.path(), "--dns-servers", "x"}),
              "--dns-servers: \"x\": not an IP address");
}

TEST(Policy, MissingFlagValueIsAUsageError) {
    EXPECT_THROW(policy_from_args({"--squid"}), po::error);
}

TEST(Policy, DiscoveryRefusesPublicAddressesFromTheHostsFile) {
    Policy p = policy_from_args({"--enable-host-access"});
    Facts f;
    f.hosts_docker_internal = {*IpAddr::parse("203.0.113.7")};
    try {
        resolve(p, f);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input);
        EXPECT_NE(std::string(e.what()).find("203.0.113.7"), std::string::npos);
    }
    // An explicit gateway replaces discovery (the operator's word, not the container's).
    Policy q = policy_from_args({"--enable-host-access", "--host-gateway", "203.0.113.7"});
    EXPECT_EQ(resolve(q, f).gateways.at(0).str(), "203.0.113.7");
}

TEST(Policy, DiscoveryUsesHostsFileAndDefaultRouteBothWhenTheyDiffer) {
    Policy p = policy_from_args({"--enable-host-access"});
    Facts f;
    f.hosts_docker_internal = {*IpAddr::parse("172.17.0.1")};
    f.default_gateway_v4 = IpAddr::parse("172.30.0.1");
    f.host_addresses = {*IpAddr::parse("172.17.0.1")};
    auto r = resolve(p, f);
    ASSERT_EQ(r.gateways.size(), 2u);
    f.default_gateway_v4 = IpAddr::parse("172.17.0.1");
    EXPECT_EQ(resolve(p, f).gateways.size(), 1u);
    Facts empty;
    EXPECT_THROW(resolve(p, empty), Error);
}

// A hosts file the container writes may only point where the sandbox reaches anyway: a
// connected subnet, its default gateway, or an address of the host itself.
TEST(Policy, HostsFileAddressesMustBeWithinReach) {
    auto refused = [](const Policy& p, const Facts& f, const std::string& field) {
        try {
            resolve(p, f);
            return false;
        } catch (const Error& e) {
            std::string m = e.what();
            return e.code() == ExitCode::invalid_input && m.find(field) != std::string::npos &&
                   m.find("10.9.9.9") != std::string::npos &&
                   m.find("on no subnet of the target") != std::string::npos;
        }
    };
    Policy host = policy_from_args({"--enable-host-access"});
    Facts f;
    f.default_gateway_v4 = IpAddr::parse("172.30.0.1");
    f.local_subnets = {*Cidr::parse("172.30.0.0/24")};
    f.host_addresses = {*IpAddr::parse("172.17.0.1")};
    f.hosts_docker_internal = {*IpAddr::parse("10.9.9.9")};
    EXPECT_TRUE(refused(host, f, "host gateway discovery"));
    for (const char* ok : {"172.30.0.7", "172.30.0.1", "172.17.0.1"}) {
        f.hosts_docker_internal = {*IpAddr::parse(ok)};
        EXPECT_NO_THROW(resolve(host, f)) << ok;
    }
    // Nothing gathered is nothing within reach: the check never passes by default.
    Facts bare;
    bare.hosts_docker_internal = {*IpAddr::parse("172.17.0.1")};
    EXPECT_THROW(resolve(host, bare), Error);
    // The operator's --host-gateway is not checked: it is not the container's word.
    Policy given = policy_from_args({"--enable-host-access", "--host-gateway", "10.9.9.9"});
    EXPECT_NO_THROW(resolve(given, bare));

    Policy named = policy_from_args({"--squid", "squid:3128"});
    Facts s = f;
    s.hosts_docker_internal.clear();
    s.squid_from_hosts_file = true;
    s.squid_resolved = IpAddr::parse("10.9.9.9");
    EXPECT_TRUE(refused(named, s, "--squid"));
    s.squid_resolved = IpAddr::parse("172.30.0.10");
    EXPECT_EQ(resolve(named, s).squid.str(), "172.30.0.10");
    // Resolved by the host's own resolver, not from the target's file: not the container's word.
    s.squid_from_hosts_file = false;
    s.squid_resolved = IpAddr::parse("10.9.9.9");
    EXPECT_EQ(resolve(named, s).squid.str(), "10.9.9.9");
}

TEST(Policy, DangerousPortsAreRemovedFromAllowHostPortsButNotServicePorts) {
    Policy p = policy_from_args(
        test::split_args("--enable-host-access --host-gateway 172.17.0.1 --allow-host-ports "
                         "22,8080,5432 --allow-host-service-ports 6379"));
    Facts f;
    PlanInputs in = derive(resolve(p, f));
    EXPECT_EQ(in.web_ports.str(), "80,443,8080");
    EXPECT_EQ(in.gateway_ports.str(), "80,443,6379,8080");
}

TEST(Policy, DigestChangesWithEveryInput) {
    Facts f;
    auto digest = [&](std::vector<std::string> args) {
        return derive(resolve(policy_from_args(args), f)).digest();
    };
    auto a = digest({});
    EXPECT_EQ(a.size(), 64u);
    EXPECT_EQ(a, digest({}));
    EXPECT_NE(a, digest({"--ipv6", "block"}));
    EXPECT_NE(a, digest({"--allow-host-ports", "8080"}));
    // Policies that plan the same ruleset have the same digest: 22 is dangerous either way.
    EXPECT_EQ(a, digest({"--allow-host-ports", "22"}));
}

TEST(Policy, InboundLocalIgnoresIpv6SubnetsThatDisableModeRemoves) {
    Facts f;
    f.local_subnets = {*Cidr::parse("172.30.0.0/24"), *Cidr::parse("fe80::/64")};
    EXPECT_EQ(resolve(policy_from_args({"--ipv6", "disable"}), f).inbound_sources.size(), 1u);
    EXPECT_EQ(resolve(policy_from_args({"--ipv6", "block"}), f).inbound_sources.size(), 2u);
}

// A config file named by someone else may be any file: its lines never reach an error message.
TEST(ConfigText, ALineThatIsNotAnOptionIsNotEchoed) {
    const std::string secret = "root:$6$saltsalt$hashhashhash:19000:0:99999:7:::";
    try {
        raw_from_config_text("# comment\n" + secret + "\n", "--config /etc/shadow");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).find("saltsalt"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()), "--config /etc/shadow:2: not a key = value line");
    }
    try {
        raw_from_config_text("password = hunter2 secret\n", "--config f");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    }
}

TEST(ConfigText, AnOptionShapedUnknownKeyIsNamed) {
    try {
        raw_from_config_text("allow-host-port = 80\n", "--config f");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("allow-host-port"), std::string::npos) << e.what();
    }
}

TEST(ConfigText, AKnownKeyWrittenAnotherWayIsNamedWithWhatWasMeant) {
    for (const char* line : {"dns_servers = 10.88.0.1", "dns-servers: 10.0.0.1",
                             "DNS_SERVERS 10.0.0.1", "enable_host_access = true"}) {
        try {
            raw_from_config_text(std::string(line) + "\n", "--config f");
            ADD_FAILURE() << "accepted " << line;
        } catch (const Error& e) {
            std::string want =
                std::string(line).rfind("enable", 0) == 0 ? "enable-host-access" : "dns-servers";
            EXPECT_EQ(std::string(e.what()),
                      "--config f:1: not a key = value line; did you mean \"" + want + " = ...\"?");
            EXPECT_EQ(std::string(e.what()).find("10."), std::string::npos) << e.what();
        }
    }
}

// Precedence (cli.md): flags, then the config file. --no-log and --log-group set one thing.
TEST(Precedence, NoLogOnTheCommandLineWinsOverALogGroupInTheConfigFile) {
    RawOptions flags{{"no-log", {"true"}}};
    merge_lower_precedence(flags, raw_from_config_text("log-group = 7\n", "--config f"));
    EXPECT_FALSE(policy_from_raw(flags).log_group.has_value());
    RawOptions group{{"log-group", {"9"}}};
    merge_lower_precedence(group, raw_from_config_text("no-log = true\n", "--config f"));
    EXPECT_EQ(policy_from_raw(group).log_group, std::optional<uint16_t>(9));
}
