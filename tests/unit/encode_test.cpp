#include "awf/base/platform.hpp"

// The batch encoder on tables shaped by someone else: a previous table restored as it was may
// carry keys, ends and userdata at the kernel's maxima. Every message must fit its buffer (ASan
// watches the writes) and stay a well-formed netlink message (no 16-bit length wrapped).
#include "awf/nft/encode.hpp"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

using namespace awf;

namespace {

kernel::Table large_foreign_table() {
    kernel::Table t;
    t.name = std::string(255, 't');
    t.family = NFPROTO_INET;
    t.udata = kernel::Bytes(256, 0x41);
    t.chains.push_back({std::string(255, 'c'), "filter", NF_INET_LOCAL_OUT, 0, NF_ACCEPT, 0});
    kernel::Set s;
    s.name = std::string(255, 's');
    s.key_type = 7;
    s.key_len = 64;
    s.flags = NFT_SET_INTERVAL;
    s.udata = kernel::Bytes(256, 0x42);
    for (int i = 0; i < 3000; ++i) {
        kernel::Bytes key(64, static_cast<uint8_t>(i));
        key[0] = static_cast<uint8_t>(i >> 8);
        s.elems.push_back({key, kernel::Bytes(64, 0xff), 0, kernel::Bytes(255, 0x43)});
    }
    t.sets.push_back(s);
    kernel::Rule r;
    r.chain = t.chains.front().name;
    r.udata = kernel::Bytes(256, 0x44);
    for (int i = 0; i < 128; ++i) {
        kernel::Expr cmp{"cmp", {}};
        cmp.set(NFTNL_EXPR_CMP_SREG, NFT_REG_1)
            .set(NFTNL_EXPR_CMP_OP, NFT_CMP_EQ)
            .set_data(NFTNL_EXPR_CMP_DATA, kernel::Bytes(64, 0x45));
        r.exprs.push_back(cmp);
    }
    t.rules.push_back(r);
    return t;
}

// Attributes of a message's payload, walked by libmnl: a wrapped length stops the walk early.
size_t walked_bytes(const nlmsghdr* nlh) {
    size_t total = 0;
    auto cb = [](const nlattr* a, void* data) {
        *static_cast<size_t*>(data) += MNL_ALIGN(mnl_attr_get_len(a));
        return MNL_CB_OK;
    };
    EXPECT_GE(mnl_attr_parse(nlh, sizeof(nfgenmsg), cb, &total), MNL_CB_STOP);
    return total;
}

} // namespace

TEST(Encode, LargeForeignShapedTableFitsItsMessages) {
    kernel::Table t = large_foreign_table();
    Batch b = encode_replace(t, 1000);
    const auto& bytes = b.bytes();
    size_t messages = 0, element_messages = 0;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data());
    int left = static_cast<int>(bytes.size());
    while (mnl_nlmsg_ok(nlh, left)) {
        ++messages;
        uint16_t type = nlh->nlmsg_type & 0xff;
        if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN && nlh->nlmsg_type != NFNL_MSG_BATCH_END) {
            EXPECT_EQ(walked_bytes(nlh),
                      nlh->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(sizeof(nfgenmsg)))
                << "message " << messages << " type " << type;
            if (type == NFT_MSG_NEWSETELEM) ++element_messages;
        }
        nlh = mnl_nlmsg_next(nlh, &left);
    }
    EXPECT_EQ(left, 0) << "the batch ends on a message boundary";
    EXPECT_EQ(messages, b.objects().size() + 2);
    // 3000 elements of about 450 bytes: cut by size, not only by count.
    EXPECT_GT(element_messages, 3000u / 512u + 1);
}

#include "awf/nft/decode.hpp"

// Found by fuzzing the decoder: libnftnl dereferences an expression's name without checking it
// is there. A rule message with a nameless expression is refused before libnftnl sees it.
TEST(Decode, ARuleWithANamelessExpressionIsRefusedNotCrashed) {
    std::vector<uint32_t> buf(1024);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
    auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    g->nfgen_family = NFPROTO_INET;
    mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "awf");
    mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "filter_output");
    nlattr* list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
    nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
    mnl_attr_put_u32(nlh, NFTA_EXPR_DATA, 0); // data, but no NFTA_EXPR_NAME
    mnl_attr_nest_end(nlh, elem);
    mnl_attr_nest_end(nlh, list);
    EXPECT_FALSE(decode_rule(nlh, "awf").has_value());

    // The same message with the name is decoded.
    nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
    g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    g->nfgen_family = NFPROTO_INET;
    mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "awf");
    mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "filter_output");
    list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
    elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
    mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "counter");
    mnl_attr_nest_end(nlh, elem);
    mnl_attr_nest_end(nlh, list);
    auto rule = decode_rule(nlh, "awf");
    ASSERT_TRUE(rule.has_value());
    ASSERT_EQ(rule->exprs.size(), 1u);
    EXPECT_EQ(rule->exprs[0].name, "counter");
}
