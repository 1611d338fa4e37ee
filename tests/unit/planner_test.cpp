#include "awf/base/platform.hpp"

// Planner golden tests: each policy of tests/data/policies.txt, resolved against fixed facts,
// rendered as nft text and compared with tests/golden/NAME.nft. Regenerate deliberately with
// AWF_UPDATE_GOLDEN=1 and review the diff.
#include "awf/nft/lower.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/plan/planner.hpp"
#include "awf/plan/verify.hpp"
#include "test_support.hpp"

#include <cstdlib>
#include <gtest/gtest.h>

using namespace awf;

namespace {

Facts fixed_facts() {
    Facts f;
    f.hosts_docker_internal = {*IpAddr::parse("172.17.0.1")};
    f.default_gateway_v4 = IpAddr::parse("172.30.0.1");
    f.local_subnets = {*Cidr::parse("172.30.0.0/24"), *Cidr::parse("fe80::/64")};
    f.host_addresses = {*IpAddr::parse("172.17.0.1")}; // docker0's, as Docker maps it
    return f;
}

class Golden : public testing::TestWithParam<test::NamedPolicy> {};

} // namespace

TEST_P(Golden, PlanRendersAsItsGoldenNftText) {
    const auto& np = GetParam();
    Policy p = test::policy_from_args(test::split_args(np.args));
    std::string text = to_nft_text(plan(resolve(p, fixed_facts())));
    std::string path = std::string(AWF_GOLDEN_DIR) + "/" + np.name + ".nft";
    if (std::getenv("AWF_UPDATE_GOLDEN")) std::ofstream(path) << text;
    std::string golden = test::read_file(path);
    ASSERT_FALSE(golden.empty()) << "missing golden file " << path;
    EXPECT_EQ(text, golden) << "policy " << np.name << " (" << np.args << ")";
}

INSTANTIATE_TEST_SUITE_P(Policies, Golden, testing::ValuesIn(test::policy_list()),
                         [](const auto& info) {
                             std::string n = info.param.name;
                             for (auto& c : n)
                                 if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                             return n;
                         });

TEST(Planner, AtLeastTenGoldenPolicies) {
    EXPECT_GE(test::policy_list().size(), 10u);
}

TEST(Planner, RuleCountDoesNotGrowWithThePolicy) {
    // Sets, not rules: 10,000 ports and addresses cost the packet path what 10 do.
    std::string many_ports;
    for (int i = 0; i < 10000; ++i)
        many_ports += (i ? "," : "") + std::to_string(20000 + 2 * i);
    Policy small = test::policy_from_args({"--allow-host-ports", "8080"});
    Policy big = test::policy_from_args({"--allow-host-ports", many_ports});
    auto count = [](const model::Table& t) {
        size_t n = 0;
        for (const auto& c : t.chains)
            n += c.rules.size();
        return n;
    };
    auto ts = plan(resolve(small, fixed_facts()));
    auto tb = plan(resolve(big, fixed_facts()));
    EXPECT_EQ(count(ts), count(tb));
    size_t web = 0;
    for (const auto& s : tb.sets)
        if (s.name == "web_ports") web = s.elements.size();
    // 10,000 listed ports plus 80 and 443, less the one that is dangerous (27018).
    EXPECT_EQ(web, 10001u);
}

TEST(Planner, WebTrafficIsRedirectedOnlyAfterEveryExemption) {
    auto t = plan(resolve(test::policy_from_args({}), fixed_facts()));
    const auto& nat = t.chains.at(0);
    ASSERT_EQ(nat.name, "nat_output");
    EXPECT_EQ(nat.rules.back().comment, "nat: web to squid");
    EXPECT_TRUE(std::holds_alternative<model::Dnat>(nat.rules.back().stmts.back()));
    for (size_t i = 0; i + 1 < nat.rules.size(); ++i)
        EXPECT_FALSE(std::holds_alternative<model::Dnat>(nat.rules[i].stmts.back()));
}

// dump's tamper check stands on this: the inputs read back from a planned table are the inputs
// it was planned from, digest included.
TEST(PlanInputs, RecoveredFromEveryGoldenPlan) {
    for (const auto& np : test::policy_list()) {
        PlanInputs in =
            derive(resolve(test::policy_from_args(test::split_args(np.args)), fixed_facts()));
        // The rules show everything but the IPv6 mode and which inputs were discovered;
        // verify finds those from the digest.
        auto back = recover(plan(in), in.ipv6);
        ASSERT_TRUE(back.has_value()) << np.name;
        back->gateways_discovered = in.gateways_discovered;
        back->inbound_connected = in.inbound_connected;
        EXPECT_EQ(back->canonical(), in.canonical()) << np.name;
        EXPECT_EQ(back->digest(), in.digest()) << np.name;
        kernel::Table k = lower(plan(in));
        for (auto& r : k.rules)
            for (auto& e : r.exprs)
                e = kernel::as_kernel_reports(e);
        Verification v = verify(k);
        EXPECT_FALSE(v.tampered()) << np.name;
        ASSERT_TRUE(v.inputs.has_value()) << np.name;
        EXPECT_EQ(v.inputs->canonical(), in.canonical()) << np.name;
    }
}

TEST(PlanInputs, DiscoveredInputsAreRecordedInTheDigest) {
    auto discovered =
        derive(resolve(test::policy_from_args({"--enable-host-access"}), fixed_facts()));
    EXPECT_TRUE(discovered.gateways_discovered);
    EXPECT_TRUE(discovered.inbound_connected);
    // The same addresses given explicitly plan the same rules but record another digest.
    std::vector<std::string> args = {"--enable-host-access", "--inbound"};
    std::string cidrs;
    for (const auto& c : discovered.inbound_sources)
        cidrs += (cidrs.empty() ? "" : ",") + c.str();
    args.push_back(cidrs);
    for (const auto& g : discovered.gateways) {
        args.push_back("--host-gateway");
        args.push_back(g.str());
    }
    auto explicit_ = derive(resolve(test::policy_from_args(args), fixed_facts()));
    EXPECT_FALSE(explicit_.gateways_discovered);
    EXPECT_FALSE(explicit_.inbound_connected);
    model::Table a = plan(explicit_), b = plan(discovered);
    EXPECT_NE(a.comment, b.comment);
    a.comment = b.comment = "";
    EXPECT_EQ(to_nft_text(a), to_nft_text(b));
    EXPECT_NE(explicit_.digest(), discovered.digest());
}

TEST(PlanInputs, TableCommentRoundTrips) {
    PlanInputs in = derive(resolve(test::policy_from_args({}), fixed_facts()));
    auto r = parse_table_comment(table_comment(in));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->version, AWF_VERSION);
    EXPECT_EQ(r->digest, in.digest());
    EXPECT_FALSE(parse_table_comment("something else").has_value());
}
