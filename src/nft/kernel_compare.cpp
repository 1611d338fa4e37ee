#include "awf/base/platform.hpp"

// Attribute schema of the expressions awf-net uses, and the object-by-object comparison that
// backs read-back verification and tamper detection.
#include "awf/nft/kernel_model.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>
#include <map>
#include <set>

namespace awf::kernel {

namespace {

struct Schema {
    std::map<std::string, std::vector<std::pair<uint16_t, AttrType>>, std::less<>> by_expr;
};

const Schema& schema() {
    using T = AttrType;
    static const Schema s{{
        {"payload",
         {{NFTNL_EXPR_PAYLOAD_DREG, T::u32},
          {NFTNL_EXPR_PAYLOAD_BASE, T::u32},
          {NFTNL_EXPR_PAYLOAD_OFFSET, T::u32},
          {NFTNL_EXPR_PAYLOAD_LEN, T::u32},
          {NFTNL_EXPR_PAYLOAD_SREG, T::u32},
          {NFTNL_EXPR_PAYLOAD_CSUM_TYPE, T::u32},
          {NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, T::u32},
          {NFTNL_EXPR_PAYLOAD_FLAGS, T::u32}}},
        {"meta",
         {{NFTNL_EXPR_META_KEY, T::u32},
          {NFTNL_EXPR_META_DREG, T::u32},
          {NFTNL_EXPR_META_SREG, T::u32}}},
        {"cmp",
         {{NFTNL_EXPR_CMP_SREG, T::u32},
          {NFTNL_EXPR_CMP_OP, T::u32},
          {NFTNL_EXPR_CMP_DATA, T::data}}},
        {"range",
         {{NFTNL_EXPR_RANGE_SREG, T::u32},
          {NFTNL_EXPR_RANGE_OP, T::u32},
          {NFTNL_EXPR_RANGE_FROM_DATA, T::data},
          {NFTNL_EXPR_RANGE_TO_DATA, T::data}}},
        {"immediate",
         {{NFTNL_EXPR_IMM_DREG, T::u32},
          {NFTNL_EXPR_IMM_DATA, T::data},
          {NFTNL_EXPR_IMM_VERDICT, T::verdict},
          {NFTNL_EXPR_IMM_CHAIN, T::str}}},
        {"counter", {{NFTNL_EXPR_CTR_PACKETS, T::u64}, {NFTNL_EXPR_CTR_BYTES, T::u64}}},
        {"bitwise",
         {{NFTNL_EXPR_BITWISE_SREG, T::u32},
          {NFTNL_EXPR_BITWISE_DREG, T::u32},
          {NFTNL_EXPR_BITWISE_LEN, T::u32},
          {NFTNL_EXPR_BITWISE_MASK, T::data},
          {NFTNL_EXPR_BITWISE_XOR, T::data},
          {NFTNL_EXPR_BITWISE_OP, T::u32},
          {NFTNL_EXPR_BITWISE_DATA, T::data}}},
        {"nat",
         {{NFTNL_EXPR_NAT_TYPE, T::u32},
          {NFTNL_EXPR_NAT_FAMILY, T::u32},
          {NFTNL_EXPR_NAT_REG_ADDR_MIN, T::u32},
          {NFTNL_EXPR_NAT_REG_ADDR_MAX, T::u32},
          {NFTNL_EXPR_NAT_REG_PROTO_MIN, T::u32},
          {NFTNL_EXPR_NAT_REG_PROTO_MAX, T::u32},
          {NFTNL_EXPR_NAT_FLAGS, T::u32}}},
        {"lookup",
         {{NFTNL_EXPR_LOOKUP_SREG, T::u32},
          {NFTNL_EXPR_LOOKUP_DREG, T::u32},
          {NFTNL_EXPR_LOOKUP_SET, T::str},
          {NFTNL_EXPR_LOOKUP_SET_ID, T::u32},
          {NFTNL_EXPR_LOOKUP_FLAGS, T::u32}}},
        {"log",
         {{NFTNL_EXPR_LOG_PREFIX, T::str},
          {NFTNL_EXPR_LOG_GROUP, T::u16},
          {NFTNL_EXPR_LOG_SNAPLEN, T::u32},
          {NFTNL_EXPR_LOG_QTHRESHOLD, T::u16},
          {NFTNL_EXPR_LOG_LEVEL, T::u32},
          {NFTNL_EXPR_LOG_FLAGS, T::u32}}},
        {"ct",
         {{NFTNL_EXPR_CT_DREG, T::u32},
          {NFTNL_EXPR_CT_KEY, T::u32},
          {NFTNL_EXPR_CT_DIR, T::u8},
          {NFTNL_EXPR_CT_SREG, T::u32}}},
        {"limit",
         {{NFTNL_EXPR_LIMIT_RATE, T::u64},
          {NFTNL_EXPR_LIMIT_UNIT, T::u64},
          {NFTNL_EXPR_LIMIT_BURST, T::u32},
          {NFTNL_EXPR_LIMIT_TYPE, T::u32},
          {NFTNL_EXPR_LIMIT_FLAGS, T::u32}}},
        {"reject", {{NFTNL_EXPR_REJECT_TYPE, T::u32}, {NFTNL_EXPR_REJECT_CODE, T::u8}}},
        {"rt", {{NFTNL_EXPR_RT_KEY, T::u32}, {NFTNL_EXPR_RT_DREG, T::u32}}},
        {"redir",
         {{NFTNL_EXPR_REDIR_REG_PROTO_MIN, T::u32},
          {NFTNL_EXPR_REDIR_REG_PROTO_MAX, T::u32},
          {NFTNL_EXPR_REDIR_FLAGS, T::u32}}},
        // iptables-nft's xtables compatibility expressions: named, never interpreted.
        {"target", {{NFTNL_EXPR_TG_NAME, T::str}, {NFTNL_EXPR_TG_REV, T::u32}}},
        {"match", {{NFTNL_EXPR_MT_NAME, T::str}, {NFTNL_EXPR_MT_REV, T::u32}}},
        {"fib",
         {{NFTNL_EXPR_FIB_DREG, T::u32},
          {NFTNL_EXPR_FIB_RESULT, T::u32},
          {NFTNL_EXPR_FIB_FLAGS, T::u32}}},
        {"byteorder",
         {{NFTNL_EXPR_BYTEORDER_DREG, T::u32},
          {NFTNL_EXPR_BYTEORDER_SREG, T::u32},
          {NFTNL_EXPR_BYTEORDER_OP, T::u32},
          {NFTNL_EXPR_BYTEORDER_LEN, T::u32},
          {NFTNL_EXPR_BYTEORDER_SIZE, T::u32}}},
    }};
    return s;
}

std::string hex(const Bytes& b) {
    std::string s;
    char buf[3];
    for (uint8_t c : b) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        s += buf;
    }
    return s;
}

std::string describe(const Elem& e) {
    std::string s = "key 0x" + hex(e.key);
    if (!e.key_end.empty()) s += " end 0x" + hex(e.key_end);
    if (e.flags) s += " flags " + std::to_string(e.flags);
    if (!e.udata.empty()) s += " udata 0x" + hex(e.udata);
    return s;
}

} // namespace

namespace {

std::string reg(uint64_t r) {
    return "reg " + std::to_string(r);
}

// nft --debug=netlink's spelling of the expressions operators meet most; attribute numbers for
// the rest.
std::optional<std::string> debug_style(const Expr& e) {
    auto num = [&](uint16_t id) -> std::optional<uint64_t> {
        auto* a = e.get(id);
        return a ? std::optional<uint64_t>(a->num) : std::nullopt;
    };
    auto data = [&](uint16_t id) {
        return e.get(id) ? "0x" + hex(e.get(id)->data) : std::string("?");
    };
    if (e.name == "payload" && num(NFTNL_EXPR_PAYLOAD_DREG)) {
        static const char* bases[] = {"link", "network", "transport", "inner"};
        uint64_t base = num(NFTNL_EXPR_PAYLOAD_BASE).value_or(0);
        return "payload load " + std::to_string(num(NFTNL_EXPR_PAYLOAD_LEN).value_or(0)) + "b @ " +
               (base < 4 ? bases[base] : "?") + " header + " +
               std::to_string(num(NFTNL_EXPR_PAYLOAD_OFFSET).value_or(0)) + " => " +
               reg(*num(NFTNL_EXPR_PAYLOAD_DREG));
    }
    if (e.name == "meta" && num(NFTNL_EXPR_META_DREG))
        return "meta load " + std::to_string(num(NFTNL_EXPR_META_KEY).value_or(0)) + " => " +
               reg(*num(NFTNL_EXPR_META_DREG));
    if (e.name == "cmp") {
        static const char* ops[] = {"eq", "neq", "lt", "lte", "gt", "gte"};
        uint64_t op = num(NFTNL_EXPR_CMP_OP).value_or(0);
        return std::string("cmp ") + (op < 6 ? ops[op] : "?") + " " +
               reg(num(NFTNL_EXPR_CMP_SREG).value_or(0)) + " " + data(NFTNL_EXPR_CMP_DATA);
    }
    if (e.name == "lookup" && e.get(NFTNL_EXPR_LOOKUP_SET))
        return "lookup " + reg(num(NFTNL_EXPR_LOOKUP_SREG).value_or(0)) + " set " +
               e.get(NFTNL_EXPR_LOOKUP_SET)->str;
    if (e.name == "counter")
        return "counter pkts " + std::to_string(num(NFTNL_EXPR_CTR_PACKETS).value_or(0)) +
               " bytes " + std::to_string(num(NFTNL_EXPR_CTR_BYTES).value_or(0));
    if (e.name == "immediate" && num(NFTNL_EXPR_IMM_DREG) == 0u && num(NFTNL_EXPR_IMM_VERDICT)) {
        switch (static_cast<int32_t>(*num(NFTNL_EXPR_IMM_VERDICT))) {
        case 1:
            return std::string("immediate reg 0 accept");
        case 0:
            return std::string("immediate reg 0 drop");
        case NFT_CONTINUE:
            return std::string("immediate reg 0 continue");
        case NFT_RETURN:
            return std::string("immediate reg 0 return");
        case NFT_JUMP:
            return "immediate reg 0 jump " +
                   (e.get(NFTNL_EXPR_IMM_CHAIN) ? e.get(NFTNL_EXPR_IMM_CHAIN)->str : "?");
        case NFT_GOTO:
            return "immediate reg 0 goto " +
                   (e.get(NFTNL_EXPR_IMM_CHAIN) ? e.get(NFTNL_EXPR_IMM_CHAIN)->str : "?");
        default:
            break;
        }
    }
    if ((e.name == "target" || e.name == "match") && e.get(NFTNL_EXPR_TG_NAME))
        return e.name + " name " + e.get(NFTNL_EXPR_TG_NAME)->str + " rev " +
               std::to_string(num(NFTNL_EXPR_TG_REV).value_or(0));
    return std::nullopt;
}

} // namespace

std::string describe(const Expr& e) {
    if (auto s = debug_style(e)) return "[ " + *s + " ]";
    std::string s = "[ " + e.name;
    for (const auto& a : e.attrs) {
        s += " " + std::to_string(a.id) + "=";
        auto t = attr_type(e.name, a.id).value_or(AttrType::data);
        if (t == AttrType::str)
            s += "\"" + a.str + "\"";
        else if (t == AttrType::data)
            s += "0x" + hex(a.data);
        else
            s += std::to_string(a.num);
    }
    return s + " ]";
}

std::string describe(const Rule& r) {
    std::string s;
    for (const auto& e : r.exprs)
        s += describe(e);
    return s;
}

bool reported_as_sent(const std::vector<Expr>& sent, const std::vector<Expr>& got) {
    if (sent.size() != got.size()) return false;
    for (size_t i = 0; i < sent.size(); ++i) {
        const Expr& s = sent[i];
        const Expr& g = got[i];
        if (s.name != g.name) return false;
        if (s.name == "counter") continue;
        // Only a copy where the report differs from what was sent (two copies of every
        // expression were most of a read-back's comparison).
        if (reported_differently(s.name) ? as_kernel_reports(s) != g : s != g) return false;
    }
    return true;
}

// A fresh attribute `id` in its place by id (the vector stays sorted and unique): decoding sets
// every attribute of every expression through here.
Attr& Expr::slot(uint16_t id) {
    auto it = std::lower_bound(attrs.begin(), attrs.end(), id,
                               [](const Attr& a, uint16_t v) { return a.id < v; });
    if (it == attrs.end() || it->id != id) it = attrs.insert(it, Attr{});
    *it = Attr{};
    it->id = id;
    return *it;
}

Expr& Expr::set(uint16_t id, uint64_t num) {
    slot(id).num = num;
    return *this;
}

Expr& Expr::set_str(uint16_t id, std::string s) {
    slot(id).str = std::move(s);
    return *this;
}

Expr& Expr::set_data(uint16_t id, Bytes d) {
    slot(id).data = std::move(d);
    return *this;
}

const Attr* Expr::get(uint16_t id) const {
    for (const auto& a : attrs)
        if (a.id == id) return &a;
    return nullptr;
}

void Expr::erase(uint16_t id) {
    std::erase_if(attrs, [id](const Attr& a) { return a.id == id; });
}

std::optional<AttrType> attr_type(std::string_view expr, uint16_t attr) {
    auto it = schema().by_expr.find(expr);
    if (it == schema().by_expr.end()) return std::nullopt;
    for (auto [id, t] : it->second)
        if (id == attr) return t;
    return std::nullopt;
}

const std::vector<uint16_t>& known_attrs(std::string_view expr) {
    static const auto ids = [] {
        std::map<std::string, std::vector<uint16_t>, std::less<>> m;
        for (const auto& [name, attrs] : schema().by_expr)
            for (auto [id, t] : attrs)
                m[name].push_back(id);
        return m;
    }();
    static const std::vector<uint16_t> none;
    auto it = ids.find(expr);
    return it == ids.end() ? none : it->second;
}

bool reported_differently(std::string_view expr) {
    return expr == "lookup" || expr == "nat" || expr == "bitwise" || expr == "reject" ||
           expr == "counter";
}

Expr as_kernel_reports(const Expr& sent) {
    if (!reported_differently(sent.name)) return sent;
    Expr e = sent;
    if (e.name == "lookup") {
        // The set id only binds within a batch; the kernel reports flags even when zero.
        e.erase(NFTNL_EXPR_LOOKUP_SET_ID);
        if (!e.get(NFTNL_EXPR_LOOKUP_FLAGS)) e.set(NFTNL_EXPR_LOOKUP_FLAGS, 0);
    } else if (e.name == "nat") {
        // A single address/port is stored as a range of one; NF_NAT_RANGE_MAP_IPS is implied
        // by an address register.
        if (auto a = e.get(NFTNL_EXPR_NAT_REG_ADDR_MIN); a && !e.get(NFTNL_EXPR_NAT_REG_ADDR_MAX)) {
            e.set(NFTNL_EXPR_NAT_REG_ADDR_MAX, a->num);
            auto f = e.get(NFTNL_EXPR_NAT_FLAGS);
            e.set(NFTNL_EXPR_NAT_FLAGS, (f ? f->num : 0) | 1u);
        }
        if (auto p = e.get(NFTNL_EXPR_NAT_REG_PROTO_MIN); p && !e.get(NFTNL_EXPR_NAT_REG_PROTO_MAX))
            e.set(NFTNL_EXPR_NAT_REG_PROTO_MAX, p->num);
    } else if (e.name == "bitwise") {
        if (!e.get(NFTNL_EXPR_BITWISE_OP)) e.set(NFTNL_EXPR_BITWISE_OP, 0);
    } else if (e.name == "reject") {
        // A TCP reset has no ICMP code; nft sends one anyway and the kernel drops it.
        if (auto t = e.get(NFTNL_EXPR_REJECT_TYPE); t && t->num == NFT_REJECT_TCP_RST)
            e.erase(NFTNL_EXPR_REJECT_CODE);
    } else if (e.name == "counter") {
        e.set(NFTNL_EXPR_CTR_PACKETS, 0).set(NFTNL_EXPR_CTR_BYTES, 0);
    }
    return e;
}

std::vector<std::string> compare(const Table& want, const Table& have) {
    std::vector<std::string> d;
    if (want.name != have.name || want.family != have.family)
        d.push_back("table: " + want.name + " vs " + have.name);
    if (want.flags != have.flags) d.push_back("table flags differ");
    if (want.udata != have.udata) d.push_back("table userdata (version and digest) differs");

    auto find_chain = [](const Table& t, const std::string& n) -> const Chain* {
        for (const auto& c : t.chains)
            if (c.name == n) return &c;
        return nullptr;
    };
    for (const auto& c : want.chains) {
        const Chain* h = find_chain(have, c.name);
        if (!h) {
            d.push_back("chain " + c.name + ": missing");
            continue;
        }
        if (h->type != c.type || h->hooknum != c.hooknum || h->priority != c.priority ||
            h->policy != c.policy)
            d.push_back("chain " + c.name + ": type, hook, priority or policy differs");
    }
    for (const auto& c : have.chains)
        if (!find_chain(want, c.name)) d.push_back("chain " + c.name + ": not in the plan");

    auto find_set = [](const Table& t, const std::string& n) -> const Set* {
        for (const auto& s : t.sets)
            if (s.name == n) return &s;
        return nullptr;
    };
    for (const auto& s : want.sets) {
        const Set* h = find_set(have, s.name);
        if (!h) {
            d.push_back("set " + s.name + ": missing");
            continue;
        }
        if (h->flags != s.flags || h->key_type != s.key_type || h->key_len != s.key_len ||
            h->field_lens != s.field_lens || h->udata != s.udata)
            d.push_back("set " + s.name + ": type or flags differ");
        // Compared as sets: the kernel lists hash and rbtree sets in its own order. Sorted by
        // reference, not copied: a policy's sets hold thousands of elements.
        auto sorted = [](const std::vector<Elem>& v) {
            std::vector<const Elem*> out;
            out.reserve(v.size());
            for (const auto& e : v)
                out.push_back(&e);
            // The plan lists in key order and the kernel walks a set in one order or its
            // reverse: an O(n) check spares most sorts.
            auto less = [](const Elem* x, const Elem* y) { return key_order(*x, *y); };
            if (std::is_sorted(out.begin(), out.end(), less)) return out;
            if (std::is_sorted(out.rbegin(), out.rend(), less)) {
                std::reverse(out.begin(), out.end());
                return out;
            }
            std::sort(out.begin(), out.end(), less);
            return out;
        };
        std::vector<const Elem*> a = sorted(s.elems), b = sorted(h->elems);
        if (!std::equal(a.begin(), a.end(), b.begin(), b.end(),
                        [](const Elem* x, const Elem* y) { return *x == *y; })) {
            auto by_key = [](const Elem* x, const Elem* y) { return key_order(*x, *y); };
            std::string first;
            std::vector<const Elem*> missing, extra;
            std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(missing),
                                by_key);
            std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(extra),
                                by_key);
            if (!missing.empty())
                first += "; planned, not installed: " + describe(*missing.front());
            if (!extra.empty()) first += "; installed, not planned: " + describe(*extra.front());
            d.push_back("set " + s.name + ": elements differ (" + std::to_string(a.size()) +
                        " planned, " + std::to_string(b.size()) + " installed" + first + ")");
        }
    }
    for (const auto& s : have.sets)
        if (!find_set(want, s.name)) d.push_back("set " + s.name + ": not in the plan");

    for (const auto& c : want.chains) {
        std::vector<const Rule*> w, h;
        for (const auto& r : want.rules)
            if (r.chain == c.name) w.push_back(&r);
        for (const auto& r : have.rules)
            if (r.chain == c.name) h.push_back(&r);
        size_t n = std::max(w.size(), h.size());
        for (size_t i = 0; i < n; ++i) {
            std::string where = "chain " + c.name + " rule " + std::to_string(i + 1);
            if (i >= h.size()) {
                d.push_back(where + ": missing " + describe(*w[i]));
            } else if (i >= w.size()) {
                d.push_back(where + ": not in the plan " + describe(*h[i]));
            } else {
                if (!reported_as_sent(w[i]->exprs, h[i]->exprs) || w[i]->udata != h[i]->udata)
                    d.push_back(where + ": planned " + describe(*w[i]) + " installed " +
                                describe(*h[i]));
            }
        }
    }
    return d;
}

} // namespace awf::kernel
