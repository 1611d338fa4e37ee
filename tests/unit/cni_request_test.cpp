#include "awf/base/platform.hpp"

// The CNI plugin's front end: the spec's environment and configuration, who picks the policy,
// what prevResult says about the container, and the answers' JSON.
#include "awf/frontend/cni_request.hpp"

#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>

using namespace awf;
using nlohmann::json;

namespace {

using Env = std::map<std::string, std::string>;

EnvLookup lookup(const Env& env) {
    return [env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

Env add_env() {
    return {{"CNI_COMMAND", "ADD"},
            {"CNI_CONTAINERID", "abc123"},
            {"CNI_NETNS", "/run/netns/cni-1"},
            {"CNI_IFNAME", "eth0"}};
}

const char* kConf = R"({"cniVersion":"1.0.0","name":"agents","type":"awf-net",
    "policy":"agent","policyDir":"/etc/awf-test/policies",
    "prevResult":{"cniVersion":"1.0.0",
      "interfaces":[{"name":"cni0","mac":"aa:bb:cc:dd:ee:ff"},{"name":"veth1"},
                    {"name":"eth0","sandbox":"/run/netns/cni-1"}],
      "ips":[{"address":"10.88.0.7/16","gateway":"10.88.0.1","interface":2},
             {"address":"10.88.0.1/16","interface":0},
             {"address":"fd00::7/64","gateway":"fd00::1","interface":2}],
      "routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}],
      "dns":{"nameservers":["10.88.0.1"]}}})";

// The CNI code of a refusal, and the message (never empty, always one line).
std::pair<int, std::string> refusal(const Env& env, const std::string& conf) {
    try {
        CniRequest r = parse_cni_request(lookup(env), conf);
        (void)selected_policy(r);
    } catch (const CniError& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        return {static_cast<int>(e.cni_code()), e.what()};
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        return {100 + static_cast<int>(e.code()), e.what()};
    }
    ADD_FAILURE() << "accepted " << conf;
    return {0, ""};
}

std::string with_annotation(const std::string& value) {
    return R"({"cniVersion":"1.0.0","name":"n","type":"awf-net","runtimeConfig":{
        "io.kubernetes.cri.pod-annotations":{"io.github.awf-net.policy":)" +
           value + "}}}";
}

} // namespace

TEST(CniRequest, ReadsEnvironmentConfigurationAndPrevResult) {
    CniRequest r = parse_cni_request(lookup(add_env()), kConf);
    EXPECT_EQ(r.command, CniCommand::add);
    EXPECT_EQ(r.cni_version, "1.0.0");
    EXPECT_EQ(r.network, "agents");
    EXPECT_EQ(r.container_id, "abc123");
    EXPECT_EQ(r.netns, "/run/netns/cni-1");
    EXPECT_EQ(r.policy_dir, "/etc/awf-test/policies");
    EXPECT_EQ(selected_policy(r), "agent");
    // The container's own IPv4 network only (not the bridge's address on the host side, not
    // IPv6); the default route has no gw, so the address's gateway is the next hop.
    ASSERT_EQ(r.prev.subnets.size(), 1u);
    EXPECT_EQ(r.prev.subnets[0].str(), "10.88.0.0/16");
    ASSERT_TRUE(r.prev.gateway_v4);
    EXPECT_EQ(r.prev.gateway_v4->str(), "10.88.0.1");
}

TEST(CniRequest, PrevResultOfSpec040AndAnExplicitRouteGateway) {
    Env env = add_env();
    CniRequest r = parse_cni_request(lookup(env), R"({"cniVersion":"0.4.0","name":"n",
        "type":"awf-net","prevResult":{"cniVersion":"0.4.0",
        "ips":[{"version":"4","address":"192.168.5.9/24","gateway":"192.168.5.1"}],
        "routes":[{"dst":"10.0.0.0/8","gw":"192.168.5.2"},{"dst":"0.0.0.0/0","gw":"192.168.5.254"}]}})");
    ASSERT_EQ(r.prev.subnets.size(), 1u);
    EXPECT_EQ(r.prev.subnets[0].str(), "192.168.5.0/24");
    EXPECT_EQ(r.prev.gateway_v4->str(), "192.168.5.254");
    EXPECT_EQ(selected_policy(r), "default");
    // Without a default route the result says nothing about the gateway: discovery decides.
    r = parse_cni_request(lookup(env), R"({"cniVersion":"1.0.0","name":"n","prevResult":{
        "ips":[{"address":"192.168.5.9/24","gateway":"192.168.5.1"}]}})");
    EXPECT_FALSE(r.prev.gateway_v4);
}

TEST(CniRequest, TheAddResultIsPrevResultInTheRequestedVersion) {
    CniRequest r = parse_cni_request(lookup(add_env()), kConf);
    json out = json::parse(cni_add_result(r));
    json prev = json::parse(kConf)["prevResult"];
    EXPECT_EQ(out, prev);
    r = parse_cni_request(lookup(add_env()), R"({"cniVersion":"0.4.0","name":"n"})");
    EXPECT_EQ(json::parse(cni_add_result(r)), json({{"cniVersion", "0.4.0"}}));
}

TEST(CniRequest, VersionProbeAndErrorShape) {
    json v = json::parse(cni_version_result(R"({"cniVersion":"1.0.0"})"));
    EXPECT_EQ(v["cniVersion"], "1.0.0");
    EXPECT_EQ(v["supportedVersions"], json({"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}));
    EXPECT_EQ(json::parse(cni_version_result("garbage"))["cniVersion"], "1.1.0");
    json e = json::parse(cni_error_json("1.0.0", 102, "msg", "details"));
    EXPECT_EQ(
        e, json({{"cniVersion", "1.0.0"}, {"code", 102}, {"msg", "msg"}, {"details", "details"}}));
    // Bytes that are not UTF-8 (a pod's annotation) still give JSON.
    json parsed;
    EXPECT_NO_THROW(parsed = json::parse(cni_error_json("", 102, "\xff\xfe", "x")));
    EXPECT_EQ(parsed["code"], 102);
    EXPECT_EQ(cni_version_of(R"({"cniVersion":"0.4.0","x":1})"), "0.4.0");
    EXPECT_EQ(cni_version_of("{"), "");
}

TEST(CniRequest, ThePodPicksByAnnotationOrCniArgsNeverAPath) {
    Env env = add_env();
    CniRequest r = parse_cni_request(lookup(env), with_annotation(R"("build-2")"));
    EXPECT_EQ(selected_policy(r), "build-2");
    EXPECT_EQ(policy_chooser(r), "pod annotation io.github.awf-net.policy");
    env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAME=x;AWF_POLICY=agent;K8S_POD_NAMESPACE=y";
    r = parse_cni_request(lookup(env), R"({"cniVersion":"1.0.0","policy":"default"})");
    EXPECT_EQ(selected_policy(r), "agent");
    EXPECT_EQ(policy_chooser(r), "CNI_ARGS AWF_POLICY");
    // Both agreeing is fine; disagreeing is refused rather than one silently winning.
    env["CNI_ARGS"] = "AWF_POLICY=build-2";
    EXPECT_EQ(selected_policy(parse_cni_request(lookup(env), with_annotation(R"("build-2")"))),
              "build-2");
    env["CNI_ARGS"] = "AWF_POLICY=agent";
    auto [code, msg] = refusal(env, with_annotation(R"("build-2")"));
    EXPECT_EQ(code, 102);
    EXPECT_NE(msg.find("choose one"), std::string::npos) << msg;

    env.erase("CNI_ARGS");
    for (const char* bad : {R"("/root/secret")", R"("../secret")", R"("a/b")", R"("")",
                            R"("Agent")", "7", R"(["agent"])"}) {
        auto [c, m] = refusal(env, with_annotation(bad));
        EXPECT_EQ(c, 102) << bad;
        EXPECT_NE(m.find("not a policy name"), std::string::npos) << bad << ": " << m;
    }
    for (const char* bad : {"AWF_POLICY=/etc/shadow", "AWF_POLICY=..", "AWF_POLICY="}) {
        env["CNI_ARGS"] = bad;
        auto [c, m] = refusal(env, R"({"cniVersion":"1.0.0"})");
        EXPECT_EQ(c, 102) << bad;
        EXPECT_EQ(m.rfind("CNI_ARGS AWF_POLICY: ", 0), 0u) << m;
    }
    env["CNI_ARGS"] = "AWF_POLICY=a;AWF_POLICY=b";
    EXPECT_EQ(refusal(env, R"({"cniVersion":"1.0.0"})").first, 4);
    // A malformed pair is named by its position, never echoed.
    env["CNI_ARGS"] = "IgnoreUnknown=1;SECRET-IN-HERE";
    auto [c2, m2] = refusal(env, R"({"cniVersion":"1.0.0"})");
    EXPECT_EQ(c2, 4);
    EXPECT_EQ(m2.find("SECRET"), std::string::npos) << m2;
}

TEST(CniRequest, AllowedPoliciesBoundWhatAPodMayPick) {
    Env env = add_env();
    std::string conf =
        R"({"cniVersion":"1.0.0","policy":"strict","allowedPolicies":["strict","build"],
        "runtimeConfig":{"io.kubernetes.cri.pod-annotations":{"io.github.awf-net.policy":"open"}}})";
    auto [code, msg] = refusal(env, conf);
    EXPECT_EQ(code, 102);
    EXPECT_NE(msg.find("not among the network's allowedPolicies"), std::string::npos) << msg;
    conf = R"({"cniVersion":"1.0.0","policy":"strict","allowedPolicies":["strict","build"],
        "runtimeConfig":{"io.kubernetes.cri.pod-annotations":{"io.github.awf-net.policy":"build"}}})";
    EXPECT_EQ(selected_policy(parse_cni_request(lookup(env), conf)), "build");
    // The conflist's own choice is root's and needs no listing.
    EXPECT_EQ(selected_policy(parse_cni_request(
                  lookup(env),
                  R"({"cniVersion":"1.0.0","policy":"strict","allowedPolicies":["build"]})")),
              "strict");
}

TEST(CniRequest, AnEmptyAllowedPoliciesAllowsNoChoice) {
    Env env = add_env();
    auto [code, msg] = refusal(env, R"({"cniVersion":"1.0.0","policy":"strict","allowedPolicies":[],
        "runtimeConfig":{"io.kubernetes.cri.pod-annotations":{"io.github.awf-net.policy":"strict"}}})");
    EXPECT_EQ(code, 102);
    EXPECT_NE(msg.find("allowedPolicies is empty"), std::string::npos) << msg;
    // No choice by the pod: the network's own policy, as with the key absent.
    EXPECT_EQ(selected_policy(parse_cni_request(
                  lookup(env), R"({"cniVersion":"1.0.0","policy":"strict","allowedPolicies":[]})")),
              "strict");
    // Absent: any policy of the directory.
    EXPECT_EQ(selected_policy(parse_cni_request(lookup(env), R"({"cniVersion":"1.0.0",
        "runtimeConfig":{"io.kubernetes.cri.pod-annotations":{"io.github.awf-net.policy":"build"}}})")),
              "build");
}

TEST(CniRequest, TheRetiredPathAnnotationIsRefusedUnread) {
    auto [code, msg] = refusal(add_env(), R"({"cniVersion":"1.0.0","runtimeConfig":{
        "io.kubernetes.cri.pod-annotations":{"io.github.awf-net.config":"/root/secret"}}})");
    EXPECT_EQ(code, 102);
    EXPECT_NE(msg.find("no longer accepted"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("/root/secret"), std::string::npos) << msg;
}

TEST(CniRequest, BadRequestsGetTheSpecsCodes) {
    Env env = add_env();
    EXPECT_EQ(refusal(env, R"({"cniVersion":"0.2.0"})").first, 1);
    Env check = env;
    check["CNI_COMMAND"] = "CHECK";
    EXPECT_EQ(refusal(check, R"({"cniVersion":"0.3.1"})").first, 1);
    EXPECT_NO_THROW(parse_cni_request(lookup(env), R"({"cniVersion":"0.3.1"})"));
    EXPECT_EQ(refusal(env, R"({"cniVersion":"2.0.0"})").first, 1);
    EXPECT_EQ(refusal(env, R"({"name":"n"})").first, 6);
    EXPECT_EQ(refusal(env, "not json at all").first, 6);
    EXPECT_EQ(refusal(env, "[1,2]").first, 6);
    EXPECT_EQ(refusal(env, R"({"cniVersion":"1.0.0","policyDir":"relative/dir"})").first, 7);
    EXPECT_EQ(refusal(env, R"({"cniVersion":"1.0.0","policy":"../x"})").first, 102);
    EXPECT_EQ(refusal(env, R"({"cniVersion":"1.0.0","allowedPolicies":"agent"})").first, 7);
    EXPECT_EQ(refusal(env, R"({"cniVersion":"1.0.0","prevResult":[]})").first, 7);
    EXPECT_EQ(
        refusal(env, R"({"cniVersion":"1.0.0","prevResult":{"ips":[{"address":"10.0.0.1"}]}})")
            .first,
        102);
    EXPECT_EQ(refusal(env, R"({"cniVersion":"1.0.0","prevResult":{"ips":[{"address":"10.0.0.1/24",
        "interface":5}]}})")
                  .first,
              7);
    // STATUS and GC are 1.1.0's.
    EXPECT_EQ(refusal({{"CNI_COMMAND", "STATUS"}}, R"({"cniVersion":"1.0.0"})").first, 1);
    EXPECT_NO_THROW(
        parse_cni_request(lookup({{"CNI_COMMAND", "GC"}}), R"({"cniVersion":"1.1.0"})"));

    for (const char* var : {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}) {
        Env e = env;
        e.erase(var);
        auto [code, msg] = refusal(e, R"({"cniVersion":"1.0.0"})");
        EXPECT_EQ(code, 4) << var;
        EXPECT_EQ(msg.rfind(var, 0), 0u) << msg;
    }
    Env e = env;
    e["CNI_COMMAND"] = "REMOVE";
    EXPECT_EQ(refusal(e, R"({"cniVersion":"1.0.0"})").first, 4);
    e = env;
    e["CNI_CONTAINERID"] = "-starts-with-dash";
    EXPECT_EQ(refusal(e, R"({"cniVersion":"1.0.0"})").first, 4);
    e = env;
    e["CNI_NETNS"] = "cni-1";
    EXPECT_EQ(refusal(e, R"({"cniVersion":"1.0.0"})").first, 4);
    // DEL needs no namespace: it may be gone already.
    e = env;
    e["CNI_COMMAND"] = "DEL";
    e.erase("CNI_NETNS");
    EXPECT_EQ(parse_cni_request(lookup(e), R"({"cniVersion":"1.0.0"})").netns, "");
}
