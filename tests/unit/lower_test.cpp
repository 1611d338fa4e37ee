#include "awf/base/platform.hpp"

// Lowering: the kernel bytecode and set encodings nft 1.0.6 produces, pinned on the cases
// where nft's conventions are easy to get wrong (registers of concatenations, dependencies,
// the rbtree interval encoding).
#include "awf/nft/lower.hpp"

#include <gtest/gtest.h>
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

using namespace awf;
using namespace awf::model;

namespace {

std::vector<std::string> names(const std::vector<kernel::Expr>& exprs) {
    std::vector<std::string> n;
    for (const auto& e : exprs)
        n.push_back(e.name);
    return n;
}

uint64_t num(const kernel::Expr& e, uint16_t attr) {
    auto* a = e.get(attr);
    EXPECT_NE(a, nullptr) << e.name << " lacks attribute " << attr;
    return a ? a->num : 0;
}

} // namespace

TEST(Lower, ConcatenationUsesNftRegisterNumbering) {
    Rule r{{Match{Match::Kind::in_set,
                  {Field::ip6_daddr, Field::meta_l4proto, Field::th_dport},
                  0,
                  0,
                  "dns_v6"}},
           {},
           {}};
    auto x = lower_rule(r);
    ASSERT_EQ(names(x),
              (std::vector<std::string>{"meta", "cmp", "payload", "meta", "payload", "lookup"}));
    EXPECT_EQ(num(x[2], NFTNL_EXPR_PAYLOAD_DREG), NFT_REG_1);
    EXPECT_EQ(num(x[3], NFTNL_EXPR_META_DREG), NFT_REG_2); // slot 4: the second 128-bit register
    EXPECT_EQ(num(x[4], NFTNL_EXPR_PAYLOAD_DREG), NFT_REG32_05);
}

TEST(Lower, DependenciesAreInsertedOnceAsNftDoes) {
    Rule r{{Match{Match::Kind::range, {Field::icmpv6_type}, 133, 136, {}},
            Match{Match::Kind::eq, {Field::ip6_hoplimit}, 255, 0, {}}},
           {},
           {}};
    auto x = lower_rule(r);
    // nfproto ipv6, l4proto icmpv6, type range, then hoplimit without a second nfproto check.
    EXPECT_EQ(names(x), (std::vector<std::string>{"meta", "cmp", "meta", "cmp", "payload", "cmp",
                                                  "cmp", "payload", "cmp"}));
    EXPECT_EQ(num(x[5], NFTNL_EXPR_CMP_OP), NFT_CMP_GTE);
    EXPECT_EQ(num(x[6], NFTNL_EXPR_CMP_OP), NFT_CMP_LTE);
}

TEST(Lower, IntervalSetUsesRbtreeEncodingWithOpenEnd) {
    Set s{"x", {KeyType::ipv4_addr}, true, {}};
    s.elements.push_back({field_of(*Cidr::parse("169.254.0.0/16"))});
    s.elements.push_back({field_of(*Cidr::parse("255.255.255.255/32"))});
    auto e = lower_elements(s);
    ASSERT_EQ(e.size(), 4u);
    EXPECT_EQ(e[0].key, (Bytes{0, 0, 0, 0}));
    EXPECT_EQ(e[0].flags, NFT_SET_ELEM_INTERVAL_END);
    EXPECT_EQ(e[1].key, (Bytes{169, 254, 0, 0}));
    EXPECT_EQ(e[2].key, (Bytes{169, 255, 0, 0}));
    EXPECT_EQ(e[2].flags, NFT_SET_ELEM_INTERVAL_END);
    EXPECT_EQ(e[3].key, (Bytes{255, 255, 255, 255}));
    EXPECT_EQ(e[3].udata, (Bytes{1, 4, 1, 0, 0, 0})); // NFTNL_SET_ELEM_F_INTERVAL_OPEN
}

TEST(Lower, IntervalFromZeroHasNoLeadingEndElement) {
    Set s{"x", {KeyType::ipv4_addr}, true, {}};
    s.elements.push_back({field_of(*Cidr::parse("0.0.0.0/1"))});
    auto e = lower_elements(s);
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].key, (Bytes{0, 0, 0, 0}));
    EXPECT_EQ(e[0].flags, 0u);
    EXPECT_EQ(e[1].key, (Bytes{128, 0, 0, 0}));
}

TEST(Lower, ConcatenatedIntervalsCarryPaddedKeyEnds) {
    Set s{"p", {KeyType::ipv4_addr, KeyType::inet_service}, true, {}};
    s.elements.push_back({field_of(*IpAddr::parse("172.30.0.30")), field_of_port(10000, 10004)});
    auto k = lower(Table{"inet", "t", "", {s}, {}});
    const auto& ks = k.sets.at(0);
    EXPECT_EQ(ks.flags, static_cast<uint32_t>(NFT_SET_INTERVAL | NFT_SET_CONCAT));
    EXPECT_EQ(ks.key_len, 8u);
    EXPECT_EQ(ks.key_type, (7u << 6) | 13u);
    EXPECT_EQ(ks.field_lens, (std::vector<uint8_t>{4, 2}));
    EXPECT_EQ(ks.elems.at(0).key, (Bytes{172, 30, 0, 30, 0x27, 0x10, 0, 0}));
    EXPECT_EQ(ks.elems.at(0).key_end, (Bytes{172, 30, 0, 30, 0x27, 0x14, 0, 0}));
}

TEST(Lower, TableCommentIsAUserdataTlvWithTerminator) {
    auto u = table_userdata("ab");
    EXPECT_EQ(u, (Bytes{0, 3, 'a', 'b', 0}));
}

TEST(Lower, DnatLoadsAddressAndPortThenNats) {
    Rule r{{Dnat{*IpAddr::parse("172.30.0.10"), 3128}}, {}, {}};
    auto x = lower_rule(r);
    ASSERT_EQ(names(x), (std::vector<std::string>{"immediate", "immediate", "nat"}));
    EXPECT_EQ(x[1].get(NFTNL_EXPR_IMM_DATA)->data, (Bytes{0x0c, 0x38}));
    EXPECT_EQ(num(x[2], NFTNL_EXPR_NAT_TYPE), NFT_NAT_DNAT);
}

TEST(KernelCompare, CountersAndKernelFilledAttributesDoNotMakeADifference) {
    Rule r{{Match{Match::Kind::in_set, {Field::tcp_dport}, 0, 0, "web_ports"}, Counter{},
            Dnat{*IpAddr::parse("172.30.0.10"), 3128}},
           {},
           {}};
    kernel::Table want =
        lower(Table{"inet",
                    "t",
                    "",
                    {},
                    {Chain{"c", ChainType::nat, Hook::output, -99, VerdictCode::accept, {r}}}});
    kernel::Table have = want;
    for (auto& e : have.rules[0].exprs)
        e = kernel::as_kernel_reports(e);
    ASSERT_EQ(have.rules[0].exprs[4].name, "counter");
    have.rules[0].exprs[4].set(NFTNL_EXPR_CTR_PACKETS, 42);
    EXPECT_TRUE(kernel::compare(want, have).empty());
    have.rules[0].exprs.pop_back();
    EXPECT_FALSE(kernel::compare(want, have).empty());
}

#include "awf/nft/lift.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/plan/planner.hpp"
#include "test_support.hpp"

// lift(lower(plan)) gives back the plan, for every golden policy: the decoder's model is the
// planner's model.
TEST(Lift, RoundTripsEveryGoldenPolicy) {
    Facts f;
    f.hosts_docker_internal = {*IpAddr::parse("172.17.0.1")};
    f.default_gateway_v4 = IpAddr::parse("172.30.0.1");
    f.local_subnets = {*Cidr::parse("172.30.0.0/24"), *Cidr::parse("fe80::/64")};
    f.host_addresses = {*IpAddr::parse("172.17.0.1")};
    for (const auto& np : test::policy_list()) {
        model::Table planned = plan(resolve(test::policy_from_args(test::split_args(np.args)), f));
        kernel::Table k = lower(planned);
        for (auto& r : k.rules)
            for (auto& e : r.exprs)
                e = kernel::as_kernel_reports(e);
        model::Table lifted = lift(k);
        EXPECT_EQ(to_nft_text(lifted), to_nft_text(planned)) << np.name;
        EXPECT_EQ(lifted, planned) << np.name;
    }
}

TEST(Lift, ForeignRuleIsKeptRawNotGuessed) {
    kernel::Rule r{std::string("c"), {kernel::Expr{"queue", {}}}, {}, 0};
    EXPECT_FALSE(lift_rule(r).has_value());
}

#include "awf/plan/verify.hpp"

namespace {

kernel::Table installed_default() {
    Facts f;
    f.local_subnets = {*Cidr::parse("172.30.0.0/24")};
    kernel::Table k = lower(plan(resolve(test::policy_from_args({"--ipv6", "block"}), f)));
    for (auto& r : k.rules)
        for (auto& e : r.exprs)
            e = kernel::as_kernel_reports(e);
    return k;
}

} // namespace

TEST(Verify, AnUntouchedTableIsVerifiedWithItsInputsAndMode) {
    Verification v = verify(installed_default());
    EXPECT_TRUE(v.checked);
    EXPECT_TRUE(v.differences.empty()) << v.differences.front();
    ASSERT_TRUE(v.inputs.has_value());
    EXPECT_EQ(v.inputs->ipv6, Ipv6Mode::block);
    EXPECT_EQ(v.inputs->squid.str(), "172.30.0.10");
}

TEST(Verify, AnAddedRuleIsTampering) {
    kernel::Table k = installed_default();
    kernel::Rule extra = k.rules.front();
    k.rules.insert(k.rules.begin(), extra);
    Verification v = verify(k);
    EXPECT_TRUE(v.tampered());
}

TEST(Verify, AnAddedSetElementIsTampering) {
    kernel::Table k = installed_default();
    for (auto& s : k.sets)
        if (s.name == "proxies_v4") s.elems.push_back({{203, 0, 113, 7}, {}, 0, {}});
    Verification v = verify(k);
    EXPECT_TRUE(v.tampered());
    EXPECT_EQ(v.differences.front(),
              "the sets and rules no longer match the recorded policy digest");
}

TEST(Verify, ADeletedRuleIsTampering) {
    kernel::Table k = installed_default();
    k.rules.pop_back();
    EXPECT_TRUE(verify(k).tampered());
}
