#include "awf/base/platform.hpp"

// The batch encoder on tables shaped by someone else: a previous table restored as it was may
// carry keys, ends and userdata at the kernel's maxima. Every message must fit its buffer (ASan
// watches the writes) and stay a well-formed netlink message (no 16-bit length wrapped).
#include "awf/nft/encode.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <memory>

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

// The commit reads answers until the last message's: that message alone asks for an ack (a
// refused one is answered whether it asked or not), and it is the last before the batch end.
TEST(Encode, OnlyTheLastMessageAsksForAnAck) {
    kernel::Table t = large_foreign_table();
    Batch b = encode_replace(t, 1000);
    std::vector<uint32_t> acked;
    uint32_t last_object = 0;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(b.bytes().data());
    int left = static_cast<int>(b.bytes().size());
    while (mnl_nlmsg_ok(nlh, left)) {
        if (nlh->nlmsg_flags & NLM_F_ACK) acked.push_back(nlh->nlmsg_seq);
        if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN && nlh->nlmsg_type != NFNL_MSG_BATCH_END)
            last_object = nlh->nlmsg_seq;
        nlh = mnl_nlmsg_next(nlh, &left);
    }
    ASSERT_GT(b.objects().size(), 10u);
    EXPECT_EQ(acked, std::vector<uint32_t>{b.objects().back().seq});
    EXPECT_EQ(last_object, b.objects().back().seq);
    EXPECT_EQ(b.end_seq(), last_object + 2) << "the batch end follows it";
}

#include "awf/nft/decode.hpp"

namespace {

// An nf_tables message header of `type` for the inet family in `buf`; attributes follow.
nlmsghdr* nft_message(std::vector<uint32_t>& buf, uint16_t type) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type);
    auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    g->nfgen_family = NFPROTO_INET;
    return nlh;
}

} // namespace

// Found by fuzzing the decoder: libnftnl dereferences an expression's name without checking it
// is there. A rule message with a nameless expression is refused before libnftnl sees it.
TEST(Decode, ARuleWithANamelessExpressionIsRefusedNotCrashed) {
    std::vector<uint32_t> buf(1024);
    nlmsghdr* nlh = nft_message(buf, NFT_MSG_NEWRULE);
    mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "awf");
    mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "filter_output");
    nlattr* list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
    nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
    mnl_attr_put_u32(nlh, NFTA_EXPR_DATA, 0); // data, but no NFTA_EXPR_NAME
    mnl_attr_nest_end(nlh, elem);
    mnl_attr_nest_end(nlh, list);
    EXPECT_FALSE(decode_rule(nlh, "awf").has_value());

    // The same message with the name is decoded.
    nlh = nft_message(buf, NFT_MSG_NEWRULE);
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

// Elements are decoded straight from the netlink attributes (no libnftnl objects): what the
// encoder wrote, the decoder reads back, element for element, at the kernel's maxima too.
TEST(Decode, ElementsRoundTripThroughTheirMessages) {
    kernel::Table t = large_foreign_table();
    auto& elems = t.sets.front().elems;
    elems[1].flags = NFT_SET_ELEM_INTERVAL_END;
    elems[2].key_end.clear();
    elems[3].udata.clear();
    Batch b = encode_replace(t, 1000);
    std::vector<kernel::Elem> decoded;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(b.bytes().data());
    int left = static_cast<int>(b.bytes().size());
    for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
        if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWSETELEM) decode_elements(nlh, decoded);
    ASSERT_EQ(decoded.size(), elems.size());
    for (size_t i = 0; i < elems.size(); ++i)
        ASSERT_EQ(decoded[i], elems[i]) << "element " << i;
}

// A length that runs past its container stops the walk there: the whole elements before it are
// read, nothing is made up, nothing outside the message is read.
TEST(Decode, ElementsOfACutMessageStopAtTheCut) {
    std::vector<uint32_t> buf(1024);
    nlmsghdr* nlh = nft_message(buf, NFT_MSG_NEWSETELEM);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "awf");
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "web_ports");
    nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
    nlattr* last = nullptr;
    for (uint16_t port : {80, 443, 8080}) {
        nlattr* e = last = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        nlattr* key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
        mnl_attr_put_u16(nlh, NFTA_DATA_VALUE, htons(port));
        mnl_attr_nest_end(nlh, key);
        mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
        mnl_attr_nest_end(nlh, e);
    }
    mnl_attr_nest_end(nlh, list);
    std::vector<kernel::Elem> whole;
    decode_elements(nlh, whole);
    ASSERT_EQ(whole.size(), 3u);
    EXPECT_EQ(whole[1].key, (kernel::Bytes{443 >> 8, 443 & 0xff}));
    EXPECT_EQ(whole[1].flags, static_cast<uint32_t>(NFT_SET_ELEM_INTERVAL_END));

    // The last element claims 8 more bytes than the list holds: the two before it are read,
    // it is not.
    last->nla_len = static_cast<uint16_t>(last->nla_len + 8);
    std::vector<kernel::Elem> two;
    decode_elements(nlh, two);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[0], whole[0]);
    EXPECT_EQ(two[1], whole[1]);
    last->nla_len = static_cast<uint16_t>(last->nla_len - 8);

    // The list claims 8 more bytes than the message holds: it is not walked at all.
    list->nla_len = static_cast<uint16_t>(list->nla_len + 8);
    std::vector<kernel::Elem> cut;
    decode_elements(nlh, cut);
    EXPECT_TRUE(cut.empty()) << "a list longer than its message is not walked";
    // A message too short for its own header yields nothing.
    nlh->nlmsg_len = 8;
    decode_elements(nlh, cut);
    EXPECT_TRUE(cut.empty());
}

// Found by the set_elements fuzz target: libmnl's walk ends at nlmsg_len rounded up to 4, so a
// message of 101 bytes had 3 bytes read past its end. The walk now ends at nlmsg_len itself.
TEST(Decode, ElementsOfAnUnalignedMessageAreNotReadPastItsEnd) {
    const uint8_t payload[] = {
        0x08, 0x00, 0x01, 0x00, 0x61, 0x77, 0x66, 0x00, 0x0e, 0x00, 0x02, 0x00, 0x77, 0x65,
        0x62, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x73, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x03, 0x80,
        0x10, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0xc0, 0x06, 0x00, 0x01, 0x00, 0x00, 0x50,
        0x00, 0x80, 0x18, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x80, 0x06, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x54, 0x00, 0x00, 0x10, 0x01, 0x10, 0x00,
        0x01, 0x80, 0x0c, 0x00, 0x01, 0x80, 0x06, 0x00, 0x01, 0x00, 0x05};
    size_t head = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg));
    // Exactly the message's bytes on the heap: ASan reports a read one byte past them.
    auto buf = std::make_unique<uint8_t[]>(head + sizeof payload);
    std::memset(buf.get(), 0, head);
    std::memcpy(buf.get() + head, payload, sizeof payload);
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.get());
    nlh->nlmsg_len = static_cast<uint32_t>(head + sizeof payload);
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM;
    std::vector<kernel::Elem> elems;
    decode_elements(nlh, elems);
    EXPECT_TRUE(elems.empty()) << "the element list claims 60 bytes where 57 are left";
}
