#include "awf/base/platform.hpp"

// Tables someone else wrote (anyone with NET_ADMIN in the namespace can forge a table called
// awf): the decoder's model, verification and the printers must neither read out of bounds
// (ASan+UBSan run these) nor call such a table verified, nor print text that escapes its line.
#include "awf/nft/lift.hpp"
#include "awf/nft/lower.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/plan/planner.hpp"
#include "awf/plan/verify.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

using namespace awf;

namespace {

kernel::Table installed_default() {
    Facts f;
    f.local_subnets = {*Cidr::parse("172.30.0.0/24")};
    kernel::Table k = lower(plan(resolve(test::policy_from_args({}), f)));
    for (auto& r : k.rules)
        for (auto& e : r.exprs)
            e = kernel::as_kernel_reports(e);
    return k;
}

kernel::Set& set_named(kernel::Table& k, const std::string& name) {
    for (auto& s : k.sets)
        if (s.name == name) return s;
    throw std::runtime_error("no set " + name);
}

kernel::Bytes comment_udata(const std::string& text) {
    // Built byte by byte: GCC's -O2 -Warray-bounds misreads an insert into a 2-byte vector.
    kernel::Bytes u;
    u.reserve(text.size() + 3);
    u.push_back(0);
    u.push_back(static_cast<uint8_t>(text.size() + 1));
    for (char c : text)
        u.push_back(static_cast<uint8_t>(c));
    u.push_back(0);
    return u;
}

// Every line of nft text is one statement or a comment: no quote left open, no injected line.
void expect_inert(const std::string& text) {
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        std::string line = text.substr(start, end - start);
        EXPECT_EQ(std::count(line.begin(), line.end(), '"') % 2, 0) << line;
        size_t first = line.find_first_not_of('\t');
        bool injected = first != std::string::npos && line.compare(first, 5, "flush") == 0;
        EXPECT_FALSE(injected) << line;
        start = end == std::string::npos ? text.size() : end + 1;
    }
}

} // namespace

TEST(HostileTable, OversizedAddressKeyIsTamperingNotAnOverflow) {
    kernel::Table k = installed_default();
    set_named(k, "proxies_v4").elems.push_back({kernel::Bytes(64, 0xab), {}, 0, {}});
    Verification v = verify(k);
    EXPECT_TRUE(v.tampered());
    model::Table lifted = lift(k);
    expect_inert(to_nft_text(lifted));
    EXPECT_FALSE(recover(lifted, Ipv6Mode::disable).has_value());
}

TEST(HostileTable, ShortConcatenatedKeyIsNotSlicedPastItsEnd) {
    kernel::Table k = installed_default();
    auto& s = set_named(k, "proxy_ports_v4");
    s.elems.push_back({kernel::Bytes{1}, kernel::Bytes{2}, 0, {}});
    EXPECT_TRUE(verify(k).tampered());
    model::Table lifted = lift(k);
    for (const auto& ls : lifted.sets) {
        if (ls.name == "proxy_ports_v4") {
            EXPECT_TRUE(ls.key.empty()) << "kept out of the model";
        }
    }
}

TEST(HostileTable, DeclaredKeyLengthThatDisagreesWithTheTypeIsRefused) {
    kernel::Table k = installed_default();
    auto& s = set_named(k, "dns_v4");
    s.key_len = 64;
    for (auto& e : s.elems)
        e.key.resize(64);
    EXPECT_TRUE(verify(k).tampered());
}

TEST(HostileTable, IntervalEndOfAnotherLengthIsRefused) {
    kernel::Table k = installed_default();
    auto& s = set_named(k, "web_ports");
    s.elems.push_back({kernel::Bytes{0, 1, 2, 3, 4, 5, 6, 7}, {}, NFT_SET_ELEM_INTERVAL_END, {}});
    EXPECT_TRUE(verify(k).tampered());
}

TEST(HostileTable, ExpressionsWithoutTheirAttributesStayRaw) {
    for (uint16_t drop : {uint16_t(NFTNL_EXPR_CMP_DATA), uint16_t(NFTNL_EXPR_BITWISE_MASK),
                          uint16_t(NFTNL_EXPR_LOOKUP_SET)}) {
        kernel::Table k = installed_default();
        bool removed = false;
        for (auto& r : k.rules)
            for (auto& e : r.exprs)
                if (e.get(drop)) {
                    e.erase(drop);
                    removed = true;
                }
        ASSERT_TRUE(removed) << "attribute " << drop << " occurs in the default table";
        Verification v = verify(k);
        EXPECT_TRUE(v.tampered()) << "attribute " << drop;
        expect_inert(to_nft_text(lift(k)));
    }
}

TEST(HostileTable, AnUnknownExpressionIsShownRawAndIsTampering) {
    kernel::Table k = installed_default();
    kernel::Expr odd{"queue", {}};
    odd.set(1, 7);
    k.rules.front().exprs.insert(k.rules.front().exprs.begin(), odd);
    EXPECT_TRUE(verify(k).tampered());
    std::string text = to_nft_text(lift(k));
    EXPECT_NE(text.find("# not an awf-net rule: "), std::string::npos);
}

TEST(HostileTable, AForgedVersionIsTamperingNotANote) {
    kernel::Table k = installed_default();
    std::string comment = lift(k).comment;
    comment.replace(comment.find(' ') + 1, comment.find(" sha256:") - comment.find(' ') - 1,
                    "9.9.9");
    k.udata = comment_udata(comment);
    Verification v = verify(k);
    EXPECT_TRUE(v.tampered());
    EXPECT_EQ(v.recorded_version, "9.9.9");
}

TEST(HostileTable, ADigestOfTheWrongShapeIsTampering) {
    for (std::string forged :
         {std::string("awf-net ") + AWF_VERSION + " sha256:" + std::string(64, 'Z'),
          std::string("awf-net ") + AWF_VERSION + " sha256:abc",
          std::string("awf-net \n\"x\" sha256:") + std::string(64, 'a'),
          std::string(250, '\xff')}) {
        kernel::Table k = installed_default();
        k.udata = comment_udata(forged);
        Verification v = verify(k);
        EXPECT_TRUE(v.tampered()) << forged;
        EXPECT_TRUE(v.recorded_version.empty()) << forged;
    }
}

TEST(HostileTable, TableFlagsLikeDormantOrOwnerAreTampering) {
    for (uint32_t flags : {uint32_t(NFT_TABLE_F_DORMANT), uint32_t(2) /* NFT_TABLE_F_OWNER */}) {
        kernel::Table k = installed_default();
        k.flags = flags;
        EXPECT_TRUE(verify(k).tampered()) << flags;
    }
}

TEST(HostileTable, AChainAtAnotherHookIsTampering) {
    kernel::Table k = installed_default();
    k.chains.front().hooknum = 0; // prerouting
    EXPECT_TRUE(verify(k).tampered());
}

TEST(NftText, CommentsNamesAndRawTextCannotInjectStatements) {
    model::Table t;
    t.family = "inet";
    t.name = "awf\n}\nflush ruleset";
    t.comment = "x\" ; flush ruleset ; \"";
    model::Chain c;
    c.name = "c\"hain";
    c.rules.push_back(model::Rule{{model::Counter{}}, "a\"\nflush ruleset\n", {}});
    c.rules.push_back(model::Rule{{}, {}, "raw\nflush ruleset"});
    t.chains.push_back(c);
    model::Set s;
    s.name = "s et\n";
    t.sets.push_back(s);
    std::string text = to_nft_text(t);
    expect_inert(text);
    EXPECT_NE(text.find("comment \"x\\x22 ; flush ruleset ; \\x22\""), std::string::npos) << text;
}

#include "awf/base/digest.hpp"

TEST(Digest, HmacSha256MatchesRfc4231) {
    EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

namespace {

const std::string kHostKey(32, '\x5a');

kernel::Table installed_keyed(const std::string& key) {
    Facts f;
    f.local_subnets = {*Cidr::parse("172.30.0.0/24")};
    ResolvedPolicy r = resolve(test::policy_from_args({}), f);
    r.digest_key = key;
    kernel::Table k = lower(plan(r));
    for (auto& rule : k.rules)
        for (auto& e : rule.exprs)
            e = kernel::as_kernel_reports(e);
    return k;
}

} // namespace

// Whoever edits a set can recompute a plain digest; without the host's key, not an HMAC.
TEST(KeyedDigest, ATableVerifiesOnlyUnderTheKeyItWasMadeWith) {
    kernel::Table k = installed_keyed(kHostKey);
    EXPECT_NE(lift(k).comment.find(" hmac-sha256:"), std::string::npos);
    Verification ok = verify(k, kHostKey);
    EXPECT_TRUE(ok.checked);
    EXPECT_TRUE(ok.differences.empty()) << ok.differences.front();
    EXPECT_TRUE(ok.recorded_keyed);
    EXPECT_TRUE(verify(k, std::string(32, 'x')).tampered()) << "another host's key";
    EXPECT_TRUE(verify(k, "").tampered()) << "no key to check it with";
}

TEST(KeyedDigest, AnEditedSetWithARecomputedPlainDigestIsTampering) {
    // The forger adds an exemption and writes the digest it can compute: a plain one.
    Facts f;
    f.local_subnets = {*Cidr::parse("172.30.0.0/24")};
    kernel::Table forged =
        lower(plan(resolve(test::policy_from_args({"--allow-host-ports", "22"}), f)));
    for (auto& rule : forged.rules)
        for (auto& e : rule.exprs)
            e = kernel::as_kernel_reports(e);
    Verification v = verify(forged, kHostKey);
    EXPECT_TRUE(v.tampered());
    EXPECT_EQ(v.differences.front(), "the digest is not keyed with this host's key");
}

// Found by the kernel_rule fuzz target: `ip6 daddr == ADDR` compared with cmp (awf-net never
// writes it) was lifted as a 32-bit scalar and lowered again with shifts past 32 bits (UBSan:
// tools/test halts on it). A compared value wider than a scalar now stays raw.
TEST(HostileTable, WideComparedValueStaysRaw) {
    kernel::Table k = installed_default();
    kernel::Rule r;
    r.chain = "filter_output";
    kernel::Expr load{"payload", {}};
    load.set(NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1)
        .set(NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER)
        .set(NFTNL_EXPR_PAYLOAD_OFFSET, 24)
        .set(NFTNL_EXPR_PAYLOAD_LEN, 16);
    kernel::Expr cmp{"cmp", {}};
    cmp.set(NFTNL_EXPR_CMP_SREG, NFT_REG_1)
        .set(NFTNL_EXPR_CMP_OP, NFT_CMP_EQ)
        .set_data(NFTNL_EXPR_CMP_DATA, kernel::Bytes(16, 0x20));
    kernel::Expr accept{"immediate", {}};
    accept.set(NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT).set(NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
    r.exprs = {load, cmp, accept};
    k.rules.insert(k.rules.begin(), r);
    model::Table lifted = lift(k);
    bool raw = false;
    for (const auto& c : lifted.chains)
        for (const auto& rule : c.rules)
            raw =
                raw || rule.raw.find("payload load 16b @ network header + 24") != std::string::npos;
    EXPECT_TRUE(raw);
    EXPECT_TRUE(verify(k).tampered());
    expect_inert(to_nft_text(lifted));
}
