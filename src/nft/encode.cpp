#include "awf/base/platform.hpp"

#include "awf/nft/encode.hpp"

#include "awf/nft/nftnl_ptr.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <cstring>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <map>
#include <memory>
#include <stdexcept>

namespace awf {

using namespace nftnl;

namespace {

// The scratch buffer a message is built in, grown when a message's bound needs more: most
// messages are small, and a buffer cleared at 128 KiB up front cost more than the encoding.
constexpr size_t kScratch = 1 << 13;
// libmnl writes attributes without knowing the buffer's size, and a nested attribute's length
// is 16 bits: the element list of one NEWSETELEM message must stay below 64 KiB. Elements are
// cut into messages by count (cheap for awf-net's own sets) and by their bound (a table
// someone else wrote, restored as it was, may carry large keys and userdata).
constexpr size_t kElemsPerMessage = 512;
constexpr size_t kElemBytesPerMessage = 48 * 1024;
// Room for the headers and fixed attributes of any one message (names are at most 256 bytes).
constexpr size_t kMessageOverhead = 2048;

size_t attr_bound(size_t payload) {
    return 8 + payload; // header plus alignment padding
}

size_t elem_bound(const kernel::Elem& e) {
    return 64 + attr_bound(e.key.size()) + attr_bound(e.key_end.size()) +
           attr_bound(e.udata.size());
}

size_t rule_bound(const kernel::Rule& r) {
    size_t n = kMessageOverhead + attr_bound(r.udata.size()) + attr_bound(r.chain.size());
    for (const auto& e : r.exprs) {
        n += 32 + attr_bound(e.name.size());
        for (const auto& a : e.attrs)
            n += 16 + attr_bound(a.data.size()) + attr_bound(a.str.size());
    }
    return n;
}

ExprPtr encode_expr(const kernel::Expr& e, const std::map<std::string, uint32_t>& set_ids) {
    ExprPtr x(nftnl_expr_alloc(e.name.c_str()));
    if (!x) throw std::runtime_error("libnftnl has no expression " + e.name);
    for (const auto& a : e.attrs) {
        auto t = kernel::attr_type(e.name, a.id);
        if (!t)
            throw std::logic_error("attribute " + std::to_string(a.id) + " of " + e.name +
                                   " has no type");
        switch (*t) {
        case kernel::AttrType::u8:
            nftnl_expr_set_u8(x.get(), a.id, static_cast<uint8_t>(a.num));
            break;
        case kernel::AttrType::u16:
            nftnl_expr_set_u16(x.get(), a.id, static_cast<uint16_t>(a.num));
            break;
        case kernel::AttrType::u32:
        case kernel::AttrType::verdict:
            nftnl_expr_set_u32(x.get(), a.id, static_cast<uint32_t>(a.num));
            break;
        case kernel::AttrType::u64:
            nftnl_expr_set_u64(x.get(), a.id, a.num);
            break;
        case kernel::AttrType::str:
            nftnl_expr_set_str(x.get(), a.id, a.str.c_str());
            break;
        case kernel::AttrType::data:
            nftnl_expr_set(x.get(), a.id, a.data.data(), static_cast<uint32_t>(a.data.size()));
            break;
        }
    }
    // A set created in the same batch is bound by its batch id, as nft does.
    if (e.name == "lookup" && !e.get(NFTNL_EXPR_LOOKUP_SET_ID)) {
        auto it = set_ids.find(e.get(NFTNL_EXPR_LOOKUP_SET)->str);
        if (it != set_ids.end()) nftnl_expr_set_u32(x.get(), NFTNL_EXPR_LOOKUP_SET_ID, it->second);
    }
    return x;
}

} // namespace

Batch::Batch(uint32_t first_seq, std::optional<uint32_t> generation)
    : scratch_(kScratch), begin_seq_(first_seq), next_seq_(first_seq + 1) {
    nlmsghdr* nlh = nftnl_batch_begin(scratch(kMessageOverhead), begin_seq_);
    if (generation) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(*generation));
    append(nlh);
}

char* Batch::scratch(size_t bound) {
    // libmnl writes every header and attribute it emits, padding included; only the part a
    // message uses is ever copied out, so the buffer is cleared when it grows, not per message.
    if (scratch_.size() < bound) scratch_.resize(bound);
    return scratch_.data();
}

void Batch::append(const nlmsghdr* nlh) {
    const char* p = reinterpret_cast<const char*>(nlh);
    buf_.insert(buf_.end(), p, p + NLMSG_ALIGN(nlh->nlmsg_len));
}

template <typename Build>
void Batch::add(uint16_t type, uint16_t flags, std::string what, size_t bound, Build&& build) {
    size_t offset = buf_.size();
    uint32_t seq = next_seq_++;
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(scratch(bound), type, NFPROTO_INET, flags, seq);
    build(nlh);
    // The bound is what keeps libmnl inside the buffer; past it memory is already corrupt.
    if (nlh->nlmsg_len > bound) std::abort();
    append(nlh);
    objects_.push_back(Object{seq, std::move(what), offset});
}

void Batch::finish() {
    // Only the last message asks for an ack: the kernel answers every refused message whether
    // or not it asked, and all answers are queued in message order before the send returns, so
    // that one ack closes the answer. An ack per message cost the kernel a buffer and us a
    // receive each: a fifth of the commit at the default policy (1.17 -> 0.89 ms in-process).
    if (!objects_.empty())
        reinterpret_cast<nlmsghdr*>(buf_.data() + objects_.back().offset)->nlmsg_flags |= NLM_F_ACK;
    append(nftnl_batch_end(scratch(kMessageOverhead), next_seq_++));
}

const Batch::Object* Batch::find(uint32_t seq) const {
    for (const auto& o : objects_)
        if (o.seq == seq) return &o;
    return nullptr;
}

Batch encode_delete(const std::string& name, uint32_t first_seq,
                    std::optional<uint32_t> generation) {
    Batch b(first_seq, generation);
    auto t = nftnl::make<TablePtr>(nftnl_table_alloc);
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
    b.add(NFT_MSG_DELTABLE, 0, "table inet " + name, kMessageOverhead + attr_bound(name.size()),
          [&](nlmsghdr* n) { nftnl_table_nlmsg_build_payload(n, t.get()); });
    b.finish();
    return b;
}

Batch encode_replace(const kernel::Table& k, uint32_t first_seq, std::optional<uint32_t> generation,
                     bool replace) {
    Batch b(first_seq, generation);
    const std::string tname = "table inet " + k.name;
    // Every message names the table; names come from the kernel when a table is restored.
    const size_t base = kMessageOverhead + attr_bound(k.name.size());

    if (replace) {
        auto bare = nftnl::make<TablePtr>(nftnl_table_alloc);
        nftnl_table_set_str(bare.get(), NFTNL_TABLE_NAME, k.name.c_str());
        nftnl_table_set_u32(bare.get(), NFTNL_TABLE_FLAGS, k.flags);
        b.add(NFT_MSG_NEWTABLE, NLM_F_CREATE, tname, base,
              [&](nlmsghdr* n) { nftnl_table_nlmsg_build_payload(n, bare.get()); });
        b.add(NFT_MSG_DELTABLE, 0, tname, base,
              [&](nlmsghdr* n) { nftnl_table_nlmsg_build_payload(n, bare.get()); });
    }

    auto full = nftnl::make<TablePtr>(nftnl_table_alloc);
    nftnl_table_set_str(full.get(), NFTNL_TABLE_NAME, k.name.c_str());
    nftnl_table_set_u32(full.get(), NFTNL_TABLE_FLAGS, k.flags);
    if (!k.udata.empty())
        nftnl_table_set_data(full.get(), NFTNL_TABLE_USERDATA, k.udata.data(),
                             static_cast<uint32_t>(k.udata.size()));
    b.add(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, tname, base + attr_bound(k.udata.size()),
          [&](nlmsghdr* n) { nftnl_table_nlmsg_build_payload(n, full.get()); });

    for (const auto& c : k.chains) {
        auto ch = nftnl::make<ChainPtr>(nftnl_chain_alloc);
        nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, k.name.c_str());
        nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, c.name.c_str());
        if (!c.type.empty()) {
            nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TYPE, c.type.c_str());
            nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_HOOKNUM, c.hooknum);
            nftnl_chain_set_s32(ch.get(), NFTNL_CHAIN_PRIO, c.priority);
            nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_POLICY, c.policy);
        }
        b.add(NFT_MSG_NEWCHAIN, NLM_F_CREATE, "chain " + c.name,
              base + attr_bound(c.name.size()) + attr_bound(c.type.size()),
              [&](nlmsghdr* n) { nftnl_chain_nlmsg_build_payload(n, ch.get()); });
    }

    // Batch-local set ids bind lookups to sets created in the same batch.
    std::map<std::string, uint32_t> set_ids;
    for (const auto& s : k.sets) {
        uint32_t id = static_cast<uint32_t>(set_ids.size()) + 1;
        set_ids[s.name] = id;
        auto st = nftnl::make<SetPtr>(nftnl_set_alloc);
        nftnl_set_set_str(st.get(), NFTNL_SET_TABLE, k.name.c_str());
        nftnl_set_set_str(st.get(), NFTNL_SET_NAME, s.name.c_str());
        nftnl_set_set_u32(st.get(), NFTNL_SET_FLAGS, s.flags);
        nftnl_set_set_u32(st.get(), NFTNL_SET_KEY_TYPE, s.key_type);
        nftnl_set_set_u32(st.get(), NFTNL_SET_KEY_LEN, s.key_len);
        nftnl_set_set_u32(st.get(), NFTNL_SET_ID, id);
        if (!s.field_lens.empty())
            nftnl_set_set_data(st.get(), NFTNL_SET_DESC_CONCAT, s.field_lens.data(),
                               static_cast<uint32_t>(s.field_lens.size()));
        if (!s.udata.empty())
            nftnl_set_set_data(st.get(), NFTNL_SET_USERDATA, s.udata.data(),
                               static_cast<uint32_t>(s.udata.size()));
        b.add(NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL, "set " + s.name,
              base + attr_bound(s.name.size()) + attr_bound(s.udata.size()) +
                  attr_bound(s.field_lens.size()),
              [&](nlmsghdr* n) { nftnl_set_nlmsg_build_payload(n, st.get()); });

        for (size_t first = 0, last = 0; first < s.elems.size(); first = last) {
            auto batch = nftnl::make<SetPtr>(nftnl_set_alloc);
            nftnl_set_set_str(batch.get(), NFTNL_SET_TABLE, k.name.c_str());
            nftnl_set_set_str(batch.get(), NFTNL_SET_NAME, s.name.c_str());
            nftnl_set_set_u32(batch.get(), NFTNL_SET_ID, id);
            size_t bytes = 0;
            for (last = first; last < s.elems.size() && last - first < kElemsPerMessage; ++last) {
                size_t n = elem_bound(s.elems[last]);
                if (last > first && bytes + n > kElemBytesPerMessage) break;
                bytes += n;
            }
            for (size_t i = first; i < last; ++i) {
                const auto& e = s.elems[i];
                nftnl_set_elem* el = nftnl_set_elem_alloc();
                if (!el) throw std::bad_alloc();
                nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e.key.data(),
                                   static_cast<uint32_t>(e.key.size()));
                if (!e.key_end.empty())
                    nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e.key_end.data(),
                                       static_cast<uint32_t>(e.key_end.size()));
                if (e.flags) nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, e.flags);
                if (!e.udata.empty())
                    nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, e.udata.data(),
                                       static_cast<uint32_t>(e.udata.size()));
                nftnl_set_elem_add(batch.get(), el); // the set owns it from here
            }
            b.add(NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL,
                  "elements " + std::to_string(first + 1) + "-" + std::to_string(last) +
                      " of set " + s.name,
                  base + attr_bound(s.name.size()) + bytes,
                  [&](nlmsghdr* n) { nftnl_set_elems_nlmsg_build_payload(n, batch.get()); });
        }
    }

    std::map<std::string, int> rule_index;
    for (const auto& r : k.rules) {
        auto rl = nftnl::make<RulePtr>(nftnl_rule_alloc);
        nftnl_rule_set_str(rl.get(), NFTNL_RULE_TABLE, k.name.c_str());
        nftnl_rule_set_str(rl.get(), NFTNL_RULE_CHAIN, r.chain.c_str());
        if (!r.udata.empty())
            nftnl_rule_set_data(rl.get(), NFTNL_RULE_USERDATA, r.udata.data(),
                                static_cast<uint32_t>(r.udata.size()));
        for (const auto& e : r.exprs)
            nftnl_rule_add_expr(rl.get(), encode_expr(e, set_ids).release());
        b.add(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
              "rule " + std::to_string(++rule_index[r.chain]) + " of chain " + r.chain,
              base + rule_bound(r),
              [&](nlmsghdr* n) { nftnl_rule_nlmsg_build_payload(n, rl.get()); });
    }
    b.finish();
    return b;
}

} // namespace awf
