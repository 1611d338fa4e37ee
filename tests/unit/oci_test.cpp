#include "awf/base/platform.hpp"

// oci-hook input: every kind of bad state or bundle fails closed with the field named.
#include "awf/base/error.hpp"
#include "awf/frontend/oci_state.hpp"

#include <gtest/gtest.h>

using namespace awf;

namespace {

std::string error_of(const std::string& state) {
    try {
        parse_oci_state(state);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input);
        return e.what();
    }
    ADD_FAILURE() << "accepted " << state;
    return {};
}

} // namespace

TEST(OciState, ReadsTheFieldsAndThePolicyAnnotation) {
    auto s = parse_oci_state(R"({"ociVersion":"1.0.2","id":"c1","status":"creating","pid":4242,
        "bundle":"/run/b","annotations":{"io.github.awf-net.policy":"agent-v2.1"}})");
    EXPECT_EQ(s.id, "c1");
    EXPECT_EQ(s.pid, 4242);
    EXPECT_EQ(s.bundle, "/run/b");
    EXPECT_EQ(s.policy_name, std::optional<std::string>("agent-v2.1"));
    EXPECT_FALSE(parse_oci_state(R"({"status":"created","pid":1,"bundle":"/b"})").policy_name);
    // enable=true is the policy named default; a policy annotation beside it wins.
    EXPECT_EQ(parse_oci_state(R"({"status":"created","pid":1,"bundle":"/b",
        "annotations":{"io.github.awf-net.enable":"true"}})")
                  .policy_name,
              std::optional<std::string>("default"));
    EXPECT_EQ(parse_oci_state(R"({"status":"created","pid":1,"bundle":"/b",
        "annotations":{"io.github.awf-net.enable":"true","io.github.awf-net.policy":"x"}})")
                  .policy_name,
              std::optional<std::string>("x"));
}

TEST(OciState, ThePolicyAnnotationIsANameNeverAPath) {
    auto with = [](const std::string& value) {
        return R"({"status":"creating","pid":12,"bundle":"/b","annotations":{"io.github.awf-net.policy":)" +
               value + "}}";
    };
    for (const char* bad : {R"("/root/secret")", R"("../../root/secret")", R"("a/b")", R"("..")",
                            R"("a..b")", R"(".hidden")", R"("Agent")", R"("")", R"("a b")",
                            R"("agent\n")", "42", "null"}) {
        std::string e = error_of(with(bad));
        EXPECT_EQ(e.rfind("annotation io.github.awf-net.policy: ", 0), 0u) << bad << ": " << e;
        EXPECT_NE(e.find("not a policy name"), std::string::npos) << bad << ": " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
    }
    EXPECT_EQ(error_of(with("\"" + std::string(65, 'a') + "\"")).find("not a policy name") !=
                  std::string::npos,
              true);
    // The path-taking annotation of old is refused outright, its value never used.
    EXPECT_EQ(
        error_of(
            R"({"status":"creating","pid":12,"bundle":"/b","annotations":{"io.github.awf-net.config":"/etc/shadow"}})"),
        "annotation io.github.awf-net.config: no longer accepted: name a policy with "
        "io.github.awf-net.policy");
}

TEST(OciState, BadInputFailsClosedNamingTheField) {
    EXPECT_EQ(error_of(""), "OCI state: \"\": empty");
    EXPECT_EQ(error_of("not json"), "OCI state: not JSON"); // content is never echoed
    EXPECT_EQ(error_of("[1,2]"), "OCI state: not a JSON object");
    EXPECT_EQ(error_of(R"({"status":"creating","bundle":"/b"})"), "OCI state.pid: \"\": missing");
    EXPECT_EQ(error_of(R"({"status":"creating","pid":"12","bundle":"/b"})"),
              "OCI state.pid: \"\"12\"\": not a process id");
    EXPECT_EQ(error_of(R"({"status":"creating","pid":-3,"bundle":"/b"})"),
              "OCI state.pid: \"-3\": not a process id");
    EXPECT_EQ(error_of(R"({"status":"creating","pid":1.5,"bundle":"/b"})"),
              "OCI state.pid: \"1.5\": not a process id");
    EXPECT_EQ(error_of(R"({"status":"running","pid":12,"bundle":"/b"})"),
              "OCI state.status: \"running\": expected creating or created");
    EXPECT_EQ(error_of(R"({"pid":12,"bundle":"/b"})"), "OCI state.status: \"\": missing");
    EXPECT_EQ(error_of(R"({"status":"creating","pid":12})"), "OCI state.bundle: \"\": missing");
    EXPECT_EQ(error_of(R"({"status":"creating","pid":12,"bundle":"relative"})"),
              "OCI state.bundle: \"relative\": not an absolute path");
}

TEST(OciBundle, HostsFileComesFromTheEtcHostsMountElseTheRootfs) {
    auto b = parse_oci_bundle(
        R"({"root":{"path":"rootfs"},"mounts":[{"destination":"/proc","source":"proc"},
        {"destination":"/etc/hosts","source":"/var/lib/c/hosts"}]})",
        "/run/b");
    EXPECT_EQ(b.hosts_file, "/var/lib/c/hosts");
    EXPECT_EQ(b.hosts_root, "") << "the runtime's file is a host path";
    // The image's own file is resolved inside the rootfs, where its links cannot reach out.
    auto rel = parse_oci_bundle(R"({"root":{"path":"rootfs"}})", "/run/b");
    EXPECT_EQ(rel.hosts_root, "/run/b/rootfs");
    EXPECT_EQ(rel.hosts_file, "etc/hosts");
    EXPECT_EQ(parse_oci_bundle(R"({"root":{"path":"/abs/root"}})", "/run/b").hosts_root,
              "/abs/root");
}

TEST(OciBundle, CapabilitiesThatBypassThePolicyAreFound) {
    auto b = parse_oci_bundle(R"({"process":{"capabilities":{"bounding":["CAP_KILL","CAP_NET_RAW"],
        "effective":["CAP_SYS_ADMIN"],"ambient":["CAP_NET_ADMIN"]}},"linux":{"namespaces":[{"type":"network"}]}})",
                              "/b");
    EXPECT_EQ(refused_capabilities(b),
              (std::vector<std::string>{"CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"}));
    EXPECT_TRUE(b.own_network_namespace);
    auto safe = parse_oci_bundle(
        R"({"process":{"capabilities":{"bounding":["CAP_KILL","CAP_NET_BIND_SERVICE"]}}})", "/b");
    EXPECT_TRUE(refused_capabilities(safe).empty());
    EXPECT_FALSE(safe.own_network_namespace);
    EXPECT_THROW(parse_oci_bundle("{", "/b"), Error);
    EXPECT_THROW(
        parse_oci_bundle(R"({"process":{"capabilities":{"bounding":"CAP_NET_RAW"}}})", "/b"),
        Error);
}

// Found by the oci fuzz target: a number JSON cannot hold threw out_of_range (exit 1), not 2.
TEST(OciState, ANumberOutOfRangeIsBadInputNotAnInternalError) {
    try {
        parse_oci_state(R"({"pid": 7755555555554.777e777, "bundle": "/b", "status": "creating"})");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input);
        EXPECT_EQ(std::string(e.what()).find("7755"), std::string::npos) << "no content echoed";
    }
}

// Found by the oci fuzz target: a non-string "type" or "destination" threw type_error (exit 1).
TEST(OciBundle, FieldsOfTheWrongTypeReadAsAbsent) {
    auto b = parse_oci_bundle(
        R"({"mounts":[{"destination":7,"source":"/x"}],"linux":{"namespaces":[{"type":1}]}})",
        "/run/b");
    EXPECT_EQ(b.hosts_file, "etc/hosts");
    EXPECT_FALSE(b.own_network_namespace);
}
