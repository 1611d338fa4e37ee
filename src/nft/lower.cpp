#include "awf/base/platform.hpp"

#include "awf/nft/lower.hpp"

#include <cstring>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <stdexcept>

namespace awf {

using kernel::Bytes;
using kernel::Expr;
using model::Field;
using model::KeyType;

namespace {

// nft's numbering of set key datatypes (datatype.h) and how it folds a concatenation.
constexpr uint32_t kTypeBits = 6;
uint32_t datatype_id(KeyType t) {
    switch (t) {
    case KeyType::ipv4_addr:
        return 7;
    case KeyType::ipv6_addr:
        return 8;
    case KeyType::inet_proto:
        return 12;
    case KeyType::inet_service:
        return 13;
    }
    return 0;
}

// Userdata TLVs (libnftnl udata format: type, length, value).
void put_tlv(Bytes& b, uint8_t type, const Bytes& value) {
    b.push_back(type);
    b.push_back(static_cast<uint8_t>(value.size()));
    b.insert(b.end(), value.begin(), value.end());
}
Bytes u32_host(uint32_t v) {
    Bytes b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
}
Bytes string_z(const std::string& s) {
    Bytes b(s.begin(), s.end());
    b.push_back(0);
    return b;
}

// What nft stores in a set's userdata for a `type` declaration: the key byte order, and for a
// concatenation a typeof nest naming a concat expression with no sub-expression data.
Bytes set_userdata(const model::Set& s) {
    constexpr uint8_t kKeyByteorder = 0, kKeyTypeof = 3, kTypeofExpr = 0, kTypeofData = 1;
    constexpr uint32_t kBigEndian = 2, kInvalidOrder = 0, kExprConcat = 13;
    Bytes b;
    if (s.key.size() == 1) {
        put_tlv(b, kKeyByteorder, u32_host(kBigEndian));
    } else {
        put_tlv(b, kKeyByteorder, u32_host(kInvalidOrder));
        Bytes nest;
        put_tlv(nest, kTypeofExpr, u32_host(kExprConcat));
        put_tlv(nest, kTypeofData, {});
        put_tlv(b, kKeyTypeof, nest);
    }
    return b;
}

struct FieldInfo {
    enum class Load { meta, payload, fib, ct, rt } load;
    uint32_t key = 0; // meta/ct key, payload base, fib result
    uint32_t offset = 0;
    uint32_t len = 0;        // bytes loaded into the register
    bool host_order = false; // 32-bit host-order values (ifindex, fib type, ct state)
    uint8_t nfproto = 0;     // dependency nft inserts in an inet table
    uint8_t l4proto = 0;
};

FieldInfo info(Field f) {
    using L = FieldInfo::Load;
    switch (f) {
    case Field::meta_oif:
        return {L::meta, NFT_META_OIF, 0, 4, true, 0, 0};
    case Field::meta_iif:
        return {L::meta, NFT_META_IIF, 0, 4, true, 0, 0};
    case Field::meta_nfproto:
        return {L::meta, NFT_META_NFPROTO, 0, 1, false, 0, 0};
    case Field::meta_l4proto:
        return {L::meta, NFT_META_L4PROTO, 0, 1, false, 0, 0};
    case Field::fib_daddr_type:
        return {L::fib, NFT_FIB_RESULT_ADDRTYPE, 0, 4, true, 0, 0};
    case Field::ct_state:
        return {L::ct, NFT_CT_STATE, 0, 4, true, 0, 0};
    case Field::ip_saddr:
        return {L::payload, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, false, NFPROTO_IPV4, 0};
    case Field::ip_daddr:
        return {L::payload, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, false, NFPROTO_IPV4, 0};
    case Field::ip6_saddr:
        return {L::payload, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, false, NFPROTO_IPV6, 0};
    case Field::ip6_daddr:
        return {L::payload, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, false, NFPROTO_IPV6, 0};
    case Field::ip6_hoplimit:
        return {L::payload, NFT_PAYLOAD_NETWORK_HEADER, 7, 1, false, NFPROTO_IPV6, 0};
    case Field::tcp_dport:
        return {L::payload, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, false, 0, IPPROTO_TCP};
    case Field::th_dport:
        return {L::payload, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, false, 0, 0};
    case Field::icmpv6_type:
        return {L::payload,    NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, false, NFPROTO_IPV6,
                IPPROTO_ICMPV6};
    case Field::meta_mark:
        return {L::meta, NFT_META_MARK, 0, 4, true, 0, 0};
    case Field::rt_nexthop4:
        // nft inserts no nfproto dependency: the kernel's rt expression breaks on IPv6.
        return {L::rt, NFT_RT_NEXTHOP4, 0, 4, false, 0, 0};
    }
    throw std::logic_error("unknown field");
}

// nft addresses registers in 32-bit slots; a slot on a 16-byte boundary is spelled as the
// matching legacy 128-bit register, as nft does.
uint32_t reg_of_slot(uint32_t slot) {
    return slot % 4 == 0 ? NFT_REG_1 + slot / 4 : NFT_REG32_00 + slot;
}

Bytes value_bytes(const FieldInfo& fi, uint32_t v) {
    if (fi.host_order) return u32_host(v);
    Bytes b(fi.len);
    // A scalar is at most 32 bits; wider fields (IPv6 addresses) keep zero high bytes.
    for (uint32_t i = 0; i < fi.len && i < 4; ++i)
        b[fi.len - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
    return b;
}

Expr load(const FieldInfo& fi, uint32_t dreg) {
    Expr e;
    switch (fi.load) {
    case FieldInfo::Load::meta:
        e.name = "meta";
        e.set(NFTNL_EXPR_META_KEY, fi.key).set(NFTNL_EXPR_META_DREG, dreg);
        break;
    case FieldInfo::Load::payload:
        e.name = "payload";
        e.set(NFTNL_EXPR_PAYLOAD_DREG, dreg)
            .set(NFTNL_EXPR_PAYLOAD_BASE, fi.key)
            .set(NFTNL_EXPR_PAYLOAD_OFFSET, fi.offset)
            .set(NFTNL_EXPR_PAYLOAD_LEN, fi.len);
        break;
    case FieldInfo::Load::fib:
        e.name = "fib";
        e.set(NFTNL_EXPR_FIB_DREG, dreg)
            .set(NFTNL_EXPR_FIB_RESULT, fi.key)
            .set(NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
        break;
    case FieldInfo::Load::ct:
        e.name = "ct";
        e.set(NFTNL_EXPR_CT_KEY, fi.key).set(NFTNL_EXPR_CT_DREG, dreg);
        break;
    case FieldInfo::Load::rt:
        e.name = "rt";
        e.set(NFTNL_EXPR_RT_KEY, fi.key).set(NFTNL_EXPR_RT_DREG, dreg);
        break;
    }
    return e;
}

Expr cmp(uint32_t op, Bytes data) {
    Expr e;
    e.name = "cmp";
    e.set(NFTNL_EXPR_CMP_SREG, NFT_REG_1)
        .set(NFTNL_EXPR_CMP_OP, op)
        .set_data(NFTNL_EXPR_CMP_DATA, std::move(data));
    return e;
}

Expr immediate_data(uint32_t dreg, Bytes data) {
    Expr e;
    e.name = "immediate";
    e.set(NFTNL_EXPR_IMM_DREG, dreg).set_data(NFTNL_EXPR_IMM_DATA, std::move(data));
    return e;
}

// Protocol context of the rule so far, to insert dependencies only where nft does.
struct Context {
    uint8_t nfproto = 0;
    uint8_t l4proto = 0;
};

void add_dependencies(std::vector<Expr>& out, Context& ctx, const FieldInfo& fi) {
    if (fi.nfproto && ctx.nfproto != fi.nfproto) {
        out.push_back(load(info(Field::meta_nfproto), NFT_REG_1));
        out.push_back(cmp(NFT_CMP_EQ, {fi.nfproto}));
        ctx.nfproto = fi.nfproto;
    }
    if (fi.l4proto && ctx.l4proto != fi.l4proto) {
        out.push_back(load(info(Field::meta_l4proto), NFT_REG_1));
        out.push_back(cmp(NFT_CMP_EQ, {fi.l4proto}));
        ctx.l4proto = fi.l4proto;
    }
}

void lower_match(std::vector<Expr>& out, Context& ctx, const model::Match& m) {
    using K = model::Match::Kind;
    for (Field f : m.fields)
        add_dependencies(out, ctx, info(f));
    if (m.kind == K::in_set) {
        uint32_t slot = 0;
        for (Field f : m.fields) {
            FieldInfo fi = info(f);
            out.push_back(load(fi, reg_of_slot(slot)));
            slot += (fi.len + 3) / 4;
        }
        Expr e;
        e.name = "lookup";
        e.set(NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1).set_str(NFTNL_EXPR_LOOKUP_SET, m.set);
        out.push_back(e);
        return;
    }
    FieldInfo fi = info(m.fields.at(0));
    out.push_back(load(fi, NFT_REG_1));
    switch (m.kind) {
    case K::eq:
        out.push_back(cmp(NFT_CMP_EQ, value_bytes(fi, m.value)));
        if (m.fields[0] == Field::meta_nfproto) ctx.nfproto = static_cast<uint8_t>(m.value);
        if (m.fields[0] == Field::meta_l4proto) ctx.l4proto = static_cast<uint8_t>(m.value);
        break;
    case K::range:
        out.push_back(cmp(NFT_CMP_GTE, value_bytes(fi, m.value)));
        out.push_back(cmp(NFT_CMP_LTE, value_bytes(fi, m.value_hi)));
        break;
    case K::any_bit: {
        Expr b;
        b.name = "bitwise";
        b.set(NFTNL_EXPR_BITWISE_SREG, NFT_REG_1)
            .set(NFTNL_EXPR_BITWISE_DREG, NFT_REG_1)
            .set(NFTNL_EXPR_BITWISE_LEN, fi.len)
            .set_data(NFTNL_EXPR_BITWISE_MASK, value_bytes(fi, m.value))
            .set_data(NFTNL_EXPR_BITWISE_XOR, value_bytes(fi, 0));
        out.push_back(b);
        out.push_back(cmp(NFT_CMP_NEQ, value_bytes(fi, 0)));
        break;
    }
    case K::in_set:
        break;
    }
}

struct StmtLowering {
    std::vector<Expr>& out;
    Context& ctx;

    void operator()(const model::Match& m) { lower_match(out, ctx, m); }
    void operator()(const model::Counter&) { out.push_back(Expr{"counter", {}}); }
    void operator()(const model::Limit& l) {
        Expr e{"limit", {}};
        e.set(NFTNL_EXPR_LIMIT_RATE, l.rate)
            .set(NFTNL_EXPR_LIMIT_UNIT, l.unit_seconds)
            .set(NFTNL_EXPR_LIMIT_BURST, l.burst)
            .set(NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS)
            .set(NFTNL_EXPR_LIMIT_FLAGS, 0);
        out.push_back(e);
    }
    void operator()(const model::Log& l) {
        Expr e{"log", {}};
        e.set_str(NFTNL_EXPR_LOG_PREFIX, l.prefix).set(NFTNL_EXPR_LOG_GROUP, l.group);
        out.push_back(e);
    }
    void operator()(const model::Verdict& v) {
        Expr e{"immediate", {}};
        e.set(NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT)
            .set(NFTNL_EXPR_IMM_VERDICT,
                 v.code == model::VerdictCode::accept ? NF_ACCEPT : NF_DROP);
        out.push_back(e);
    }
    void operator()(const model::RejectTcpReset&) {
        Expr e{"reject", {}};
        e.set(NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST).set(NFTNL_EXPR_REJECT_CODE, 0);
        out.push_back(e);
    }
    void operator()(const model::MarkSet& m) {
        out.push_back(immediate_data(NFT_REG_1, u32_host(m.mark)));
        Expr e{"meta", {}};
        e.set(NFTNL_EXPR_META_KEY, NFT_META_MARK).set(NFTNL_EXPR_META_SREG, NFT_REG_1);
        out.push_back(e);
    }
    void operator()(const model::Redirect& r) {
        out.push_back(immediate_data(
            NFT_REG_1, {static_cast<uint8_t>(r.port >> 8), static_cast<uint8_t>(r.port)}));
        // The kernel stores one port as a range of one (and reports its end).
        Expr e{"redir", {}};
        e.set(NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1)
            .set(NFTNL_EXPR_REDIR_REG_PROTO_MAX, NFT_REG_1)
            .set(NFTNL_EXPR_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
        out.push_back(e);
    }
    void operator()(const model::Dnat& d) {
        out.push_back(
            immediate_data(NFT_REG_1, Bytes(d.addr.bytes.begin(), d.addr.bytes.begin() + 4)));
        out.push_back(immediate_data(
            NFT_REG_2, {static_cast<uint8_t>(d.port >> 8), static_cast<uint8_t>(d.port)}));
        Expr e{"nat", {}};
        e.set(NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT)
            .set(NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4)
            .set(NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1)
            .set(NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2)
            .set(NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
        out.push_back(e);
    }
};

// A concatenation's field, padded to its 32-bit register, appended to the key being built.
void append_pad4(Bytes& key, const Bytes& field) {
    key.insert(key.end(), field.begin(), field.end());
    key.resize(key.size() + (4 - field.size() % 4) % 4, 0);
}

Bytes successor(Bytes b) {
    for (size_t i = b.size(); i-- > 0;)
        if (++b[i] != 0) break;
    return b;
}

bool all_ones(const Bytes& b) {
    for (uint8_t c : b)
        if (c != 0xff) return false;
    return true;
}

bool all_zero(const Bytes& b) {
    for (uint8_t c : b)
        if (c != 0) return false;
    return true;
}

} // namespace

std::vector<Expr> lower_rule(const model::Rule& rule, uint32_t family) {
    std::vector<Expr> out;
    Context ctx;
    if (family == NFPROTO_IPV4 || family == NFPROTO_IPV6)
        ctx.nfproto = static_cast<uint8_t>(family);
    for (const auto& s : rule.stmts)
        std::visit(StmtLowering{out, ctx}, s);
    return out;
}

std::vector<kernel::Elem> lower_elements(const model::Set& s) {
    std::vector<kernel::Elem> out;
    if (s.key.size() > 1) {
        // Concatenations: each field padded to a 32-bit register; intervals carry a key end.
        out.reserve(s.elements.size());
        for (const auto& el : s.elements) {
            kernel::Elem e;
            for (const auto& f : el) {
                append_pad4(e.key, f.lo);
                if (s.interval) append_pad4(e.key_end, f.hi);
            }
            out.push_back(std::move(e));
        }
        return out;
    }
    if (!s.interval) {
        out.reserve(s.elements.size());
        for (const auto& el : s.elements)
            out.push_back(kernel::Elem{el.at(0).lo, {}, 0, {}});
        return out;
    }
    // Single-field intervals use the rbtree encoding: each interval is a start element and an
    // end element (first address past it, flagged), with a leading zero end element unless the
    // first interval starts at zero; an interval reaching the top has no end element and marks
    // its start "open" in the element userdata. The planner hands over merged, sorted intervals.
    constexpr uint8_t kElemFlags = 1;
    constexpr uint32_t kIntervalOpen = 1;
    if (s.elements.empty()) return out;
    out.reserve(2 * s.elements.size() + 1);
    if (!all_zero(s.elements.front().at(0).lo)) {
        out.push_back(kernel::Elem{
            Bytes(s.elements.front().at(0).lo.size(), 0), {}, NFT_SET_ELEM_INTERVAL_END, {}});
    }
    for (const auto& el : s.elements) {
        const auto& f = el.at(0);
        kernel::Elem start{f.lo, {}, 0, {}};
        if (all_ones(f.hi)) {
            put_tlv(start.udata, kElemFlags, u32_host(kIntervalOpen));
            out.push_back(std::move(start));
        } else {
            out.push_back(std::move(start));
            out.push_back(kernel::Elem{successor(f.hi), {}, NFT_SET_ELEM_INTERVAL_END, {}});
        }
    }
    return out;
}

Bytes table_userdata(const std::string& comment) {
    constexpr uint8_t kTableComment = 0;
    Bytes b;
    if (!comment.empty()) put_tlv(b, kTableComment, string_z(comment));
    return b;
}

kernel::Table lower(const model::Table& t) {
    kernel::Table k;
    k.name = t.name;
    k.family = NFPROTO_INET;
    k.udata = table_userdata(t.comment);
    for (const auto& s : t.sets) {
        kernel::Set ks;
        ks.name = s.name;
        ks.flags = s.interval ? NFT_SET_INTERVAL : 0;
        if (s.interval && s.key.size() > 1) ks.flags |= NFT_SET_CONCAT;
        for (KeyType kt : s.key) {
            ks.key_type = (ks.key_type << kTypeBits) | datatype_id(kt);
            ks.key_len +=
                s.key.size() > 1 ? (model::key_size(kt) + 3) / 4 * 4 : model::key_size(kt);
            if (s.interval && s.key.size() > 1)
                ks.field_lens.push_back(static_cast<uint8_t>(model::key_size(kt)));
        }
        ks.udata = set_userdata(s);
        ks.elems = lower_elements(s);
        k.sets.push_back(std::move(ks));
    }
    for (const auto& c : t.chains) {
        kernel::Chain kc;
        kc.name = c.name;
        kc.type = c.type == model::ChainType::nat     ? "nat"
                  : c.type == model::ChainType::route ? "route"
                                                      : "filter";
        switch (c.hook) {
        case model::Hook::output:
            kc.hooknum = NF_INET_LOCAL_OUT;
            break;
        case model::Hook::input:
            kc.hooknum = NF_INET_LOCAL_IN;
            break;
        case model::Hook::prerouting:
            kc.hooknum = NF_INET_PRE_ROUTING;
            break;
        case model::Hook::forward:
            kc.hooknum = NF_INET_FORWARD;
            break;
        default:
            throw std::logic_error(
                "the planner makes input, output, prerouting and forward chains only");
        }
        kc.priority = c.priority;
        kc.policy = c.policy == model::VerdictCode::accept ? NF_ACCEPT : NF_DROP;
        k.chains.push_back(kc);
        for (const auto& r : c.rules) {
            kernel::Rule kr;
            kr.chain = c.name;
            kr.exprs = lower_rule(r);
            if (!r.comment.empty())
                put_tlv(kr.udata, 0 /* NFTNL_UDATA_RULE_COMMENT */, string_z(r.comment));
            k.rules.push_back(std::move(kr));
        }
    }
    return k;
}

} // namespace awf
