#include "awf/base/platform.hpp"

// Named policies: the only thing a less trusted party may choose. Never a path, never a file
// outside root's directory, and no error shows a line of a file.
#include "awf/base/error.hpp"
#include "awf/policy/policy_name.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace awf;

namespace {

struct PolicyDir {
    std::string path;
    PolicyDir() {
        char tmpl[] = "/tmp/awf-policy-test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~PolicyDir() { std::filesystem::remove_all(path); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path + "/" + name) << text;
    }
};

std::string error_of(const std::string& dir, const std::string& name) {
    try {
        raw_from_named_policy(dir, name, "annotation io.github.awf-net.policy");
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input) << name;
        return e.what();
    }
    ADD_FAILURE() << "accepted " << name;
    return {};
}

} // namespace

TEST(PolicyName, Shape) {
    for (const char* ok : {"default", "agent", "a", "0", "agent-v2.1", "team_a", "x.y-z_0"})
        EXPECT_TRUE(is_policy_name(ok)) << ok;
    for (const char* bad : {"", "/etc/passwd", "../x", "a/b", "..", "a..b", ".a", "-a", "_a",
                            "Agent", "a b", "a\n", "a\\b", "a:b", "\xc3\xa9"})
        EXPECT_FALSE(is_policy_name(bad)) << bad;
    EXPECT_TRUE(is_policy_name(std::string(64, 'a')));
    EXPECT_FALSE(is_policy_name(std::string(65, 'a')));
}

TEST(PolicyName, ReadsNameDotConfFromTheDirectory) {
    PolicyDir d;
    d.write("agent.conf", "allow-host-ports = 8443\nblocked-action = drop\n");
    RawOptions raw = raw_from_named_policy(d.path, "agent", "--policy");
    EXPECT_EQ(raw["allow-host-ports"], std::vector<std::string>{"8443"});
    EXPECT_EQ(raw["blocked-action"], std::vector<std::string>{"drop"});
}

TEST(PolicyName, RefusalsNameThePolicyNeverTheFile) {
    PolicyDir d;
    d.write("secret.conf", "TOP-SECRET-LINE-1\n");
    d.write("bad.conf", "allow-host-ports = 22\nthe-secret-value = hunter2\n");
    EXPECT_NE(error_of(d.path, "missing").find("no such policy"), std::string::npos);
    EXPECT_NE(error_of(d.path, "/root/secret").find("not a policy name"), std::string::npos);
    std::string e = error_of(d.path, "secret");
    EXPECT_EQ(e.find("TOP-SECRET"), std::string::npos) << e;
    EXPECT_NE(e.find("policy secret:1"), std::string::npos) << e;
    e = error_of(d.path, "bad");
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    // A link in the directory, even to a policy of the same directory, is not a policy file.
    std::filesystem::create_symlink("/etc/passwd", d.path + "/passwd.conf");
    e = error_of(d.path, "passwd");
    EXPECT_EQ(e.find("root:"), std::string::npos) << e;
    EXPECT_NE(e.find("not a regular file"), std::string::npos) << e;
    // The directory comes from root's own configuration, and must be absolute.
    EXPECT_THROW(raw_from_named_policy("relative/dir", "agent", "--policy"), Error);
}

TEST(PolicyName, ATenantCannotChooseAProxyRolePolicy) {
    PolicyDir d;
    d.write("squid.conf", "role = proxy\nintercept = true\n");
    d.write("agent.conf", "intercept = true\n");
    // Root's own configuration may name it (the Squid pod's conflist entry, flags).
    EXPECT_NO_THROW(raw_from_named_policy(d.path, "squid", "--policy"));
    try {
        raw_from_tenant_policy(d.path, "squid", "annotation io.github.awf-net.policy");
        ADD_FAILURE() << "a tenant chose a proxy-role policy";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input);
        EXPECT_NE(std::string(e.what()).find("proxy-role policy filters nothing"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_NO_THROW(raw_from_tenant_policy(d.path, "agent", "annotation io.github.awf-net.policy"));
}
