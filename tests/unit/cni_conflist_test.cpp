#include "awf/base/platform.hpp"

// cni-install's merge on real-world conflists (tests/data/cni): goldens of the merged and the
// removed file (tests/golden/cni; regenerate deliberately with AWF_UPDATE_GOLDEN=1), idempotence,
// and the refusals.
#include "awf/base/error.hpp"
#include "awf/frontend/cni_conflist.hpp"
#include "test_support.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace awf;
using nlohmann::json;
using Action = ConflistChange::Action;

namespace {

const char* kInputs[] = {"87-podman-bridge.conflist", "10-flannel.conflist", "10-calico.conflist",
                         "10-containerd-net.conflist", "10-bridge.conf"};

std::string input(const std::string& name) {
    return test::read_file(std::string(AWF_TEST_DATA) + "/cni/" + name);
}

void expect_golden(const std::string& name, const std::string& text) {
    std::string path = std::string(AWF_GOLDEN_DIR) + "/cni/" + name;
    if (std::getenv("AWF_UPDATE_GOLDEN")) std::ofstream(path) << text;
    std::string golden = test::read_file(path);
    ASSERT_FALSE(golden.empty()) << "missing golden file " << path;
    EXPECT_EQ(text, golden) << path;
}

json chain(const std::string& text) {
    json j = json::parse(text);
    if (!j.contains("plugins")) {
        json plugin = j;
        plugin.erase("cniVersion");
        plugin.erase("name");
        return json::array({plugin});
    }
    return j["plugins"];
}

} // namespace

TEST(CniConflist, GoldenMergeAndRemoval) {
    CniEntry entry;
    for (const char* name : kInputs) {
        std::string in = input(name);
        ConflistChange merged = merge_awf_entry(in, name, entry);
        EXPECT_NE(merged.action, Action::unchanged) << name;
        expect_golden(std::string(name) + ".merged", merged.text);
        json plugins = chain(merged.text);
        EXPECT_EQ(plugins.back()["type"], "awf-net") << "last in the chain: " << name;
        EXPECT_EQ(plugins.back()["policy"], "default") << name;
        EXPECT_EQ(plugins.back()["capabilities"]["io.kubernetes.cri.pod-annotations"], true);

        // Idempotent: merging again changes nothing, byte for byte.
        ConflistChange again = merge_awf_entry(merged.text, name, entry);
        EXPECT_EQ(again.action, Action::unchanged) << name;
        EXPECT_EQ(again.text, merged.text) << name;

        // Removal gives back the chain as it was before awf-net (the other plugins untouched).
        ConflistChange removed = remove_awf_entry(merged.text, name);
        EXPECT_EQ(removed.action, Action::removed) << name;
        expect_golden(std::string(name) + ".removed", removed.text);
        json original = chain(in);
        original.erase(std::remove_if(original.begin(), original.end(),
                                      [](const json& p) { return p["type"] == "awf-net"; }),
                       original.end());
        EXPECT_EQ(chain(removed.text), original) << name;
        EXPECT_EQ(remove_awf_entry(removed.text, name).action, Action::absent) << name;
    }
}

TEST(CniConflist, AnExistingEntryIsUpdatedInPlaceKeepingItsOtherFields) {
    std::string in = input("10-containerd-net.conflist");
    CniEntry same;
    same.policy = "agents-v1";
    ConflistChange c = merge_awf_entry(in, "f", same);
    EXPECT_EQ(c.action, Action::unchanged);
    EXPECT_EQ(c.text, in) << "an up-to-date file is not rewritten";
    CniEntry other;
    other.policy = "strict";
    other.allowed_policies = {"strict", "build"};
    c = merge_awf_entry(in, "f", other);
    EXPECT_EQ(c.action, Action::updated);
    json awf = chain(c.text).back();
    EXPECT_EQ(awf["policy"], "strict");
    EXPECT_EQ(awf["allowedPolicies"], json({"strict", "build"}));
    EXPECT_TRUE(awf.contains("logNote"));
    EXPECT_EQ(chain(c.text).size(), 3u);
    // Two entries (merged by hand twice) become one.
    json twice = json::parse(in);
    twice["plugins"].push_back(twice["plugins"].back());
    c = merge_awf_entry(twice.dump(), "f", same);
    EXPECT_EQ(c.action, Action::updated);
    EXPECT_EQ(chain(c.text).size(), 3u);
}

TEST(CniConflist, TheKeyOrderOfTheOperatorsFileStays) {
    ConflistChange c = merge_awf_entry(input("10-flannel.conflist"), "f", CniEntry{});
    EXPECT_LT(c.text.find("\"name\""), c.text.find("\"cniVersion\"")) << c.text;
    EXPECT_LT(c.text.find("\"delegate\""), c.text.find("\"portmap\"")) << c.text;
}

TEST(CniConflist, TheFirstConfigurationInByteOrderIsThePrimary) {
    EXPECT_EQ(primary_cni_config({"99-loopback.conf", "10-calico.conflist", "README", "05-x.json"}),
              std::optional<std::string>("05-x.json"));
    EXPECT_EQ(primary_cni_config({"87-podman-bridge.conflist", "10-calico.conflist.bak"}),
              std::optional<std::string>("87-podman-bridge.conflist"));
    EXPECT_FALSE(primary_cni_config({"README", "calico-kubeconfig"}));
}

TEST(CniConflist, RefusesWhatItCannotMergeWithoutQuotingIt) {
    auto refused = [](const std::string& text) {
        try {
            merge_awf_entry(text, "/etc/cni/net.d/10-x.conflist", CniEntry{});
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ExitCode::invalid_input);
            EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
            return std::string(e.what());
        }
        ADD_FAILURE() << "accepted " << text;
        return std::string();
    };
    EXPECT_NE(refused("SECRET not json").find("not JSON"), std::string::npos);
    EXPECT_NE(refused(R"({"cniVersion":"0.2.0","name":"SECRET","plugins":[{"type":"x"}]})")
                  .find("cniVersion \"0.2.0\""),
              std::string::npos);
    EXPECT_NE(refused(R"({"cniVersion":"1.0.0","name":"SECRET"})").find("neither"),
              std::string::npos);
    EXPECT_NE(refused(R"({"cniVersion":"1.0.0","plugins":[{"SECRET":1}]})").find("without"),
              std::string::npos);
    EXPECT_NE(refused(R"({"cniVersion":"1.0.0","plugins":[]})").find("plugins"), std::string::npos);
}
