#include "awf/base/platform.hpp"

#include "awf/nft/decode.hpp"

#include "awf/base/error.hpp"
#include "awf/kernel/netlink_attrs.hpp"
#include "awf/nft/nftnl_ptr.hpp"

#include <array>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <memory>

namespace awf {

using namespace nftnl;

namespace {

kernel::Bytes bytes_of(const void* p, uint32_t len) {
    auto* b = static_cast<const uint8_t*>(p);
    return kernel::Bytes(b, b + len);
}

// Builds a GET request; `fill` adds the selecting attributes (table, set name).
template <typename Fill>
std::vector<char> request(uint16_t type, uint16_t flags, uint32_t seq, uint16_t family,
                          Fill&& fill) {
    // Built in place (libmnl writes every byte it emits), then copied out at its real size.
    alignas(nlmsghdr) std::array<char, 8192> tmp; // GET requests are a few dozen bytes
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(tmp.data(), type, family, flags, seq);
    fill(nlh);
    return std::vector<char>(tmp.data(), tmp.data() + nlh->nlmsg_len);
}

// The bytes of a data attribute of any libnftnl object, empty when unset. The length is only
// known after the getter ran, hence the two statements.
template <typename Obj, typename IsSet, typename GetData>
kernel::Bytes attr_bytes(Obj* obj, uint16_t attr, IsSet is_set, GetData get) {
    if (!is_set(obj, attr)) return {};
    uint32_t len = 0;
    const void* d = get(obj, attr, &len);
    return bytes_of(d, len);
}

kernel::Expr decode_expr(nftnl_expr* x) {
    kernel::Expr e;
    e.name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);
    for (uint16_t id : kernel::known_attrs(e.name)) {
        if (!nftnl_expr_is_set(x, id)) continue;
        switch (*kernel::attr_type(e.name, id)) {
        case kernel::AttrType::u8:
            e.set(id, nftnl_expr_get_u8(x, id));
            break;
        case kernel::AttrType::u16:
            e.set(id, nftnl_expr_get_u16(x, id));
            break;
        case kernel::AttrType::u32:
        case kernel::AttrType::verdict:
            e.set(id, nftnl_expr_get_u32(x, id));
            break;
        case kernel::AttrType::u64:
            e.set(id, nftnl_expr_get_u64(x, id));
            break;
        case kernel::AttrType::str:
            e.set_str(id, nftnl_expr_get_str(x, id));
            break;
        case kernel::AttrType::data: {
            uint32_t len = 0;
            const void* d = nftnl_expr_get(x, id, &len);
            e.set_data(id, bytes_of(d, len));
            break;
        }
        }
    }
    return e;
}

// libnftnl trusts the kernel's framing: it dereferences an expression's name without checking
// it is there (libnftnl 1.2.4, nftnl_expr_parse). The kernel always sends it; these bytes may
// come from elsewhere (the fuzz target), so a rule's expressions are checked first.
bool expressions_well_formed(const nlmsghdr* nlh) {
    struct Walk {
        static int top(const nlattr* a, void* ok) {
            if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS) return MNL_CB_OK;
            if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0) return fail(ok);
            const char* end =
                static_cast<const char*>(mnl_attr_get_payload(a)) + mnl_attr_get_payload_len(a);
            for (auto* elem = static_cast<const nlattr*>(mnl_attr_get_payload(a));
                 mnl_attr_ok(elem, static_cast<int>(end - reinterpret_cast<const char*>(elem)));
                 elem = mnl_attr_next(elem)) {
                bool named = false;
                if (mnl_attr_validate(elem, MNL_TYPE_NESTED) < 0 ||
                    mnl_attr_parse_nested(elem, name, &named) < 0 || !named)
                    return fail(ok);
            }
            return MNL_CB_OK;
        }
        static int name(const nlattr* a, void* named) {
            if (mnl_attr_get_type(a) == NFTA_EXPR_NAME &&
                mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                *static_cast<bool*>(named) = true;
            return MNL_CB_OK;
        }
        static int fail(void* ok) {
            *static_cast<bool*>(ok) = false;
            return MNL_CB_ERROR;
        }
    };
    bool ok = true;
    if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(nfgenmsg)) return false;
    if (mnl_attr_parse(nlh, sizeof(nfgenmsg), Walk::top, &ok) < 0) return false;
    return ok;
}

// libnftnl returns NULL for an attribute the message lacks; the kernel always sends them, but
// these functions also see arbitrary bytes (the decoder's fuzz target).
std::string str_or_empty(const char* s) {
    return s ? std::string(s) : std::string();
}

} // namespace

std::optional<kernel::Table> decode_table(const nlmsghdr* nlh) {
    TablePtr t(nftnl_table_alloc());
    if (nftnl_table_nlmsg_parse(nlh, t.get()) < 0) return std::nullopt;
    kernel::Table k;
    k.name = str_or_empty(nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME));
    k.family = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FAMILY);
    k.flags = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS);
    k.handle = nftnl_table_get_u64(t.get(), NFTNL_TABLE_HANDLE);
    k.udata = attr_bytes(t.get(), NFTNL_TABLE_USERDATA, nftnl_table_is_set, nftnl_table_get_data);
    return k;
}

std::optional<kernel::Chain> decode_chain(const nlmsghdr* nlh, const std::string& table) {
    ChainPtr c(nftnl_chain_alloc());
    if (nftnl_chain_nlmsg_parse(nlh, c.get()) < 0) return std::nullopt;
    if (table != str_or_empty(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE))) return std::nullopt;
    kernel::Chain k;
    k.name = str_or_empty(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME));
    k.handle = nftnl_chain_get_u64(c.get(), NFTNL_CHAIN_HANDLE);
    if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
        k.type = str_or_empty(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE));
        k.hooknum = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
        k.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
        k.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY);
    }
    return k;
}

std::optional<kernel::Set> decode_set(const nlmsghdr* nlh, const std::string& table) {
    SetPtr s(nftnl_set_alloc());
    if (nftnl_set_nlmsg_parse(nlh, s.get()) < 0) return std::nullopt;
    if (table != str_or_empty(nftnl_set_get_str(s.get(), NFTNL_SET_TABLE))) return std::nullopt;
    kernel::Set k;
    k.name = str_or_empty(nftnl_set_get_str(s.get(), NFTNL_SET_NAME));
    k.flags = nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS);
    k.key_type = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE);
    k.key_len = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_LEN);
    k.field_lens = attr_bytes(s.get(), NFTNL_SET_DESC_CONCAT, nftnl_set_is_set, nftnl_set_get_data);
    k.udata = attr_bytes(s.get(), NFTNL_SET_USERDATA, nftnl_set_is_set, nftnl_set_get_data);
    return k;
}

namespace {

// The value inside a data attribute (NFTA_DATA_VALUE nested in a key); empty when absent.
kernel::Bytes data_value(const nlattr* attr) {
    kernel::Bytes v;
    for_each_nested(attr, [&](const nlattr* a) {
        if (mnl_attr_get_type(a) == NFTA_DATA_VALUE)
            v = bytes_of(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
    });
    return v;
}

} // namespace

// Read straight from the attributes with libmnl: through libnftnl every element of a
// 10,000-entry read-back cost a calloc'd nftnl_set_elem, a list insertion and a copy.
// The walks stop at the first attribute that does not fit in what is left.
void decode_elements(const nlmsghdr* nlh, std::vector<kernel::Elem>& out) {
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) return;
    const nlattr* list = nullptr;
    for_each_attr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
        if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS) list = a;
    });
    if (!list) return;
    // Every item of the list is an element whatever its type (the kernel sends NFTA_LIST_ELEM;
    // libnftnl numbers them 1, 2, 3...), as the kernel's and libnftnl's own parsers read them.
    for_each_nested(list, [&](const nlattr* item) {
        kernel::Elem k;
        for_each_nested(item, [&](const nlattr* a) {
            switch (mnl_attr_get_type(a)) {
            case NFTA_SET_ELEM_KEY:
                k.key = data_value(a);
                break;
            case NFTA_SET_ELEM_KEY_END:
                k.key_end = data_value(a);
                break;
            case NFTA_SET_ELEM_FLAGS:
                if (mnl_attr_get_payload_len(a) == sizeof(uint32_t))
                    k.flags = ntohl(mnl_attr_get_u32(a));
                break;
            case NFTA_SET_ELEM_USERDATA:
                k.udata = bytes_of(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
                break;
            default:
                break;
            }
        });
        out.push_back(std::move(k));
    });
}

std::optional<kernel::Rule> decode_rule(const nlmsghdr* nlh, const std::string& table) {
    if (!expressions_well_formed(nlh)) return std::nullopt;
    RulePtr r(nftnl_rule_alloc());
    if (nftnl_rule_nlmsg_parse(nlh, r.get()) < 0) return std::nullopt;
    if (table != str_or_empty(nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE))) return std::nullopt;
    kernel::Rule k;
    k.chain = str_or_empty(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN));
    k.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
    k.udata = attr_bytes(r.get(), NFTNL_RULE_USERDATA, nftnl_rule_is_set, nftnl_rule_get_data);
    ExprIterPtr it(nftnl_expr_iter_create(r.get()));
    if (!it) return k;
    for (nftnl_expr* x = nftnl_expr_iter_next(it.get()); x; x = nftnl_expr_iter_next(it.get()))
        k.exprs.push_back(decode_expr(x));
    return k;
}

uint32_t read_generation(NetlinkSocket& sock) {
    uint32_t seq = sock.next_seq();
    auto req = request(NFT_MSG_GETGEN, 0, seq, NFPROTO_UNSPEC, [](nlmsghdr*) {});
    std::optional<uint32_t> gen;
    sock.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        GenPtr g(nftnl_gen_alloc());
        if (nftnl_gen_nlmsg_parse(nlh, g.get()) == 0)
            gen = nftnl_gen_get_u32(g.get(), NFTNL_GEN_ID);
    });
    if (!gen)
        throw Error(ExitCode::internal, "netlink",
                    "the kernel did not report the ruleset generation");
    return *gen;
}

std::vector<TableId> list_tables(NetlinkSocket& sock) {
    std::vector<TableId> out;
    uint32_t seq = sock.next_seq();
    auto req = request(NFT_MSG_GETTABLE, NLM_F_DUMP, seq, NFPROTO_UNSPEC, [](nlmsghdr*) {});
    sock.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        TablePtr t(nftnl_table_alloc());
        if (nftnl_table_nlmsg_parse(nlh, t.get()) < 0) return;
        out.push_back({nftnl_table_get_u32(t.get(), NFTNL_TABLE_FAMILY),
                       nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME)});
    });
    return out;
}

std::optional<kernel::Table> read_table(NetlinkSocket& sock, const std::string& name,
                                        uint32_t family) {
    uint32_t seq = sock.next_seq();
    std::optional<kernel::Table> table;

    TablePtr sel(nftnl_table_alloc());
    nftnl_table_set_str(sel.get(), NFTNL_TABLE_NAME, name.c_str());
    auto req = request(NFT_MSG_GETTABLE, 0, seq, static_cast<uint16_t>(family),
                       [&](nlmsghdr* n) { nftnl_table_nlmsg_build_payload(n, sel.get()); });
    sock.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        if (auto t = decode_table(nlh)) table = std::move(t);
    });
    if (!table) return std::nullopt;

    seq = sock.next_seq();
    ChainPtr csel(nftnl_chain_alloc());
    nftnl_chain_set_str(csel.get(), NFTNL_CHAIN_TABLE, name.c_str());
    req = request(NFT_MSG_GETCHAIN, NLM_F_DUMP, seq, static_cast<uint16_t>(family),
                  [&](nlmsghdr* n) { nftnl_chain_nlmsg_build_payload(n, csel.get()); });
    sock.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        if (auto c = decode_chain(nlh, name)) table->chains.push_back(std::move(*c));
    });

    seq = sock.next_seq();
    SetPtr ssel(nftnl_set_alloc());
    nftnl_set_set_str(ssel.get(), NFTNL_SET_TABLE, name.c_str());
    req = request(NFT_MSG_GETSET, NLM_F_DUMP, seq, static_cast<uint16_t>(family),
                  [&](nlmsghdr* n) { nftnl_set_nlmsg_build_payload(n, ssel.get()); });
    sock.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        if (auto s = decode_set(nlh, name)) table->sets.push_back(std::move(*s));
    });
    // Anonymous sets belong to the rules that use them; they are not objects of the table.
    std::erase_if(table->sets, [](const kernel::Set& s) { return s.flags & NFT_SET_ANONYMOUS; });

    for (auto& set : table->sets) {
        seq = sock.next_seq();
        SetPtr esel(nftnl_set_alloc());
        nftnl_set_set_str(esel.get(), NFTNL_SET_TABLE, name.c_str());
        nftnl_set_set_str(esel.get(), NFTNL_SET_NAME, set.name.c_str());
        req = request(NFT_MSG_GETSETELEM, NLM_F_DUMP, seq, static_cast<uint16_t>(family),
                      [&](nlmsghdr* n) { nftnl_set_elems_nlmsg_build_payload(n, esel.get()); });
        sock.dump(req.data(), req.size(), seq,
                  [&](const nlmsghdr* nlh) { decode_elements(nlh, set.elems); });
    }

    seq = sock.next_seq();
    RulePtr rsel(nftnl_rule_alloc());
    nftnl_rule_set_str(rsel.get(), NFTNL_RULE_TABLE, name.c_str());
    req = request(NFT_MSG_GETRULE, NLM_F_DUMP, seq, static_cast<uint16_t>(family),
                  [&](nlmsghdr* n) { nftnl_rule_nlmsg_build_payload(n, rsel.get()); });
    std::vector<kernel::Rule> rules;
    sock.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        if (auto r = decode_rule(nlh, name)) rules.push_back(std::move(*r));
    });
    // Dumps list rules per chain in order; keep them grouped by the chain order above.
    for (const auto& c : table->chains)
        for (auto& r : rules)
            if (r.chain == c.name) table->rules.push_back(r);
    return table;
}

} // namespace awf
