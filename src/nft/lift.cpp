#include "awf/base/platform.hpp"

#include "awf/nft/lift.hpp"

#include "awf/nft/lower.hpp"

#include <algorithm>
#include <cstring>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

namespace awf {

using kernel::Bytes;
using kernel::Expr;
using namespace model;

namespace {

uint64_t num(const Expr& e, uint16_t id) {
    auto* a = e.get(id);
    return a ? a->num : ~0ull;
}

const Bytes* data(const Expr& e, uint16_t id) {
    auto* a = e.get(id);
    return a ? &a->data : nullptr;
}

// The field a load expression reads; tcp_dport is decided later from the rule's context.
std::optional<Field> field_of_load(const Expr& e) {
    if (e.name == "meta") {
        if (!e.get(NFTNL_EXPR_META_DREG)) return std::nullopt; // meta set: a statement
        switch (num(e, NFTNL_EXPR_META_KEY)) {
        case NFT_META_MARK:
            return Field::meta_mark;
        case NFT_META_OIF:
            return Field::meta_oif;
        case NFT_META_IIF:
            return Field::meta_iif;
        case NFT_META_NFPROTO:
            return Field::meta_nfproto;
        case NFT_META_L4PROTO:
            return Field::meta_l4proto;
        }
    } else if (e.name == "rt") {
        if (num(e, NFTNL_EXPR_RT_KEY) == NFT_RT_NEXTHOP4 && e.get(NFTNL_EXPR_RT_DREG))
            return Field::rt_nexthop4;
    } else if (e.name == "fib") {
        if (num(e, NFTNL_EXPR_FIB_RESULT) == NFT_FIB_RESULT_ADDRTYPE &&
            num(e, NFTNL_EXPR_FIB_FLAGS) == NFTA_FIB_F_DADDR)
            return Field::fib_daddr_type;
    } else if (e.name == "ct") {
        if (num(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATE && !e.get(NFTNL_EXPR_CT_DIR))
            return Field::ct_state;
    } else if (e.name == "payload") {
        auto base = num(e, NFTNL_EXPR_PAYLOAD_BASE), off = num(e, NFTNL_EXPR_PAYLOAD_OFFSET),
             len = num(e, NFTNL_EXPR_PAYLOAD_LEN);
        if (base == NFT_PAYLOAD_NETWORK_HEADER) {
            if (off == 12 && len == 4) return Field::ip_saddr;
            if (off == 16 && len == 4) return Field::ip_daddr;
            if (off == 8 && len == 16) return Field::ip6_saddr;
            if (off == 24 && len == 16) return Field::ip6_daddr;
            if (off == 7 && len == 1) return Field::ip6_hoplimit;
        } else if (base == NFT_PAYLOAD_TRANSPORT_HEADER) {
            if (off == 2 && len == 2) return Field::th_dport;
            if (off == 0 && len == 1) return Field::icmpv6_type;
        }
    }
    return std::nullopt;
}

// Bytes a load of this field puts in its register (lower.cpp's table, restated for reading).
size_t field_width(Field f) {
    switch (f) {
    case Field::meta_nfproto:
    case Field::meta_l4proto:
    case Field::ip6_hoplimit:
    case Field::icmpv6_type:
        return 1;
    case Field::tcp_dport:
    case Field::th_dport:
        return 2;
    case Field::ip6_saddr:
    case Field::ip6_daddr:
        return 16;
    default:
        return 4;
    }
}

uint32_t value_of(Field f, const Bytes& b) {
    // Host-order 32-bit fields (ifindex, fib type, ct state) versus network-order payloads.
    bool host = f == Field::meta_oif || f == Field::meta_iif || f == Field::fib_daddr_type ||
                f == Field::ct_state || f == Field::meta_mark;
    uint32_t v = 0;
    if (host && b.size() == 4) {
        std::memcpy(&v, b.data(), 4);
        return v;
    }
    for (uint8_t c : b)
        v = v << 8 | c;
    return v;
}

// Pattern-matches the expression list; the round trip in lift_rule checks the result.
std::optional<std::vector<Stmt>> match_exprs(const std::vector<Expr>& x) {
    std::vector<Stmt> out;
    size_t i = 0;
    auto is = [&](size_t k, const char* name) { return k < x.size() && x[k].name == name; };
    while (i < x.size()) {
        const Expr& e = x[i];
        if (auto f = field_of_load(e)) {
            // A run of loads into increasing registers ended by a lookup: a concatenation.
            std::vector<Field> fields{*f};
            size_t k = i + 1;
            while (k < x.size() && field_of_load(x[k]))
                fields.push_back(*field_of_load(x[k++]));
            if (is(k, "lookup")) {
                const auto* set = x[k].get(NFTNL_EXPR_LOOKUP_SET);
                if (!set) return std::nullopt;
                out.push_back(Match{Match::Kind::in_set, fields, 0, 0, set->str});
                i = k + 1;
                continue;
            }
            // Every attribute below may be missing from a table someone else wrote, and a
            // compared value must have the field's width and fit a scalar: awf-net compares
            // nothing wider than 32 bits (an IPv6 address compared by cmp stays raw).
            auto scalar_data = [&](size_t k) -> const Bytes* {
                const Bytes* d = k < x.size() ? data(x[k], NFTNL_EXPR_CMP_DATA) : nullptr;
                bool host = *f == Field::meta_oif || *f == Field::meta_iif ||
                            *f == Field::fib_daddr_type || *f == Field::ct_state ||
                            *f == Field::meta_mark;
                size_t width = host ? 4 : field_width(*f);
                return d && d->size() == width && width <= 4 ? d : nullptr;
            };
            const Bytes* d1 = scalar_data(i + 1);
            const Bytes* d2 = scalar_data(i + 2);
            const Bytes* mask =
                i + 1 < x.size() ? data(x[i + 1], NFTNL_EXPR_BITWISE_MASK) : nullptr;
            if (is(i + 1, "cmp") && d1 && num(x[i + 1], NFTNL_EXPR_CMP_OP) == NFT_CMP_EQ) {
                out.push_back(Match{Match::Kind::eq, {*f}, value_of(*f, *d1), 0, {}});
                i += 2;
                continue;
            }
            if (is(i + 1, "cmp") && is(i + 2, "cmp") && d1 && d2 &&
                num(x[i + 1], NFTNL_EXPR_CMP_OP) == NFT_CMP_GTE &&
                num(x[i + 2], NFTNL_EXPR_CMP_OP) == NFT_CMP_LTE) {
                out.push_back(
                    Match{Match::Kind::range, {*f}, value_of(*f, *d1), value_of(*f, *d2), {}});
                i += 3;
                continue;
            }
            if (is(i + 1, "bitwise") && is(i + 2, "cmp") && mask &&
                num(x[i + 2], NFTNL_EXPR_CMP_OP) == NFT_CMP_NEQ) {
                out.push_back(Match{Match::Kind::any_bit, {*f}, value_of(*f, *mask), 0, {}});
                i += 3;
                continue;
            }
            return std::nullopt;
        }
        if (e.name == "counter") {
            out.push_back(Counter{
                num(e, NFTNL_EXPR_CTR_PACKETS) == ~0ull ? 0 : num(e, NFTNL_EXPR_CTR_PACKETS),
                num(e, NFTNL_EXPR_CTR_BYTES) == ~0ull ? 0 : num(e, NFTNL_EXPR_CTR_BYTES)});
        } else if (e.name == "limit") {
            out.push_back(Limit{num(e, NFTNL_EXPR_LIMIT_RATE), num(e, NFTNL_EXPR_LIMIT_UNIT),
                                static_cast<uint32_t>(num(e, NFTNL_EXPR_LIMIT_BURST))});
        } else if (e.name == "log" && e.get(NFTNL_EXPR_LOG_PREFIX) && e.get(NFTNL_EXPR_LOG_GROUP)) {
            out.push_back(Log{e.get(NFTNL_EXPR_LOG_PREFIX)->str,
                              static_cast<uint16_t>(num(e, NFTNL_EXPR_LOG_GROUP))});
        } else if (e.name == "reject") {
            out.push_back(RejectTcpReset{});
        } else if (e.name == "immediate" && num(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT) {
            out.push_back(Verdict{num(e, NFTNL_EXPR_IMM_VERDICT) == NF_ACCEPT ? VerdictCode::accept
                                                                              : VerdictCode::drop});
        } else if (e.name == "immediate" && is(i + 1, "meta") &&
                   num(x[i + 1], NFTNL_EXPR_META_KEY) == NFT_META_MARK &&
                   num(x[i + 1], NFTNL_EXPR_META_SREG) == num(e, NFTNL_EXPR_IMM_DREG)) {
            const Bytes* m = data(e, NFTNL_EXPR_IMM_DATA);
            if (!m || m->size() != 4) return std::nullopt;
            uint32_t mark = 0;
            std::memcpy(&mark, m->data(), 4);
            out.push_back(MarkSet{mark});
            i += 2;
            continue;
        } else if (e.name == "immediate" && is(i + 1, "redir")) {
            const Bytes* p = data(e, NFTNL_EXPR_IMM_DATA);
            if (!p || p->size() != 2) return std::nullopt;
            out.push_back(Redirect{static_cast<uint16_t>((*p)[0] << 8 | (*p)[1])});
            i += 2;
            continue;
        } else if (e.name == "immediate" && is(i + 1, "immediate") && is(i + 2, "nat")) {
            Dnat d;
            const Bytes* a = data(e, NFTNL_EXPR_IMM_DATA);
            const Bytes* p = data(x[i + 1], NFTNL_EXPR_IMM_DATA);
            if (!a || !p || a->size() != 4 || p->size() != 2) return std::nullopt;
            std::copy(a->begin(), a->end(), d.addr.bytes.begin());
            d.port = static_cast<uint16_t>((*p)[0] << 8 | (*p)[1]);
            out.push_back(d);
            i += 3;
            continue;
        } else {
            return std::nullopt;
        }
        ++i;
    }
    return out;
}

bool implies(Field f, const Match& dep) {
    bool v4 = f == Field::ip_saddr || f == Field::ip_daddr;
    bool v6 = f == Field::ip6_saddr || f == Field::ip6_daddr || f == Field::ip6_hoplimit ||
              f == Field::icmpv6_type;
    if (dep.fields[0] == Field::meta_nfproto)
        return (v4 && dep.value == NFPROTO_IPV4) || (v6 && dep.value == NFPROTO_IPV6);
    if (dep.fields[0] == Field::meta_l4proto)
        return (f == Field::th_dport && dep.value == IPPROTO_TCP) ||
               (f == Field::icmpv6_type && dep.value == IPPROTO_ICMPV6);
    return false;
}

// nft's dependency matches (meta nfproto / l4proto inserted before a protocol field) become
// implicit again; `th dport` after `meta l4proto tcp` is `tcp dport`.
std::vector<Stmt> drop_dependencies(std::vector<Stmt> stmts) {
    for (size_t i = 0; i < stmts.size(); ++i) {
        auto* dep = std::get_if<Match>(&stmts[i]);
        if (!dep || dep->kind != Match::Kind::eq ||
            (dep->fields[0] != Field::meta_nfproto && dep->fields[0] != Field::meta_l4proto))
            continue;
        // The next match that uses a protocol field decides whether this one was implied.
        for (size_t k = i + 1; k < stmts.size(); ++k) {
            auto* m = std::get_if<Match>(&stmts[k]);
            if (!m) break;
            if (m->kind == Match::Kind::eq &&
                (m->fields[0] == Field::meta_nfproto || m->fields[0] == Field::meta_l4proto))
                continue;
            bool used = false;
            for (auto& f : m->fields)
                if (implies(f, *dep)) {
                    if (f == Field::th_dport) f = Field::tcp_dport;
                    used = true;
                }
            if (used) {
                stmts.erase(stmts.begin() + static_cast<long>(i));
                --i;
            }
            break;
        }
    }
    return stmts;
}

std::string comment_of(const Bytes& udata) {
    // NFTNL_UDATA_RULE_COMMENT / NFTNL_UDATA_TABLE_COMMENT: type 0, NUL-terminated string.
    if (udata.size() < 3 || udata[0] != 0 || udata[1] + 2u > udata.size()) return {};
    return std::string(reinterpret_cast<const char*>(udata.data() + 2),
                       strnlen(reinterpret_cast<const char*>(udata.data() + 2), udata[1]));
}

std::vector<KeyType> key_types(uint32_t key_type, uint32_t key_len) {
    std::vector<KeyType> out;
    uint32_t t = key_type;
    do {
        switch (t & 0x3f) {
        case 7:
            out.insert(out.begin(), KeyType::ipv4_addr);
            break;
        case 8:
            out.insert(out.begin(), KeyType::ipv6_addr);
            break;
        case 12:
            out.insert(out.begin(), KeyType::inet_proto);
            break;
        case 13:
            out.insert(out.begin(), KeyType::inet_service);
            break;
        default:
            return {};
        }
        t >>= 6;
    } while (t);
    (void)key_len;
    return out;
}

// Sorting on one flattened key per element keeps this cheap for sets of thousands.
void sort_by_key(std::vector<Element>& elements) {
    std::vector<std::pair<Bytes, size_t>> keys;
    keys.reserve(elements.size());
    for (size_t i = 0; i < elements.size(); ++i) {
        Bytes k;
        for (const auto& f : elements[i])
            k.insert(k.end(), f.lo.begin(), f.lo.end());
        keys.emplace_back(std::move(k), i);
    }
    std::sort(keys.begin(), keys.end());
    std::vector<Element> sorted;
    sorted.reserve(keys.size());
    for (auto& [k, i] : keys)
        sorted.push_back(std::move(elements[i]));
    elements = std::move(sorted);
}

} // namespace

std::optional<model::Rule> lift_rule(const kernel::Rule& r, uint32_t family) {
    auto stmts = match_exprs(r.exprs);
    if (!stmts) return std::nullopt;
    Rule rule{drop_dependencies(*stmts), comment_of(r.udata), {}};
    // Exact or nothing: lowering the lifted rule must give back what the kernel holds.
    if (!kernel::reported_as_sent(lower_rule(rule, family), r.exprs)) return std::nullopt;
    return rule;
}

// Whether every element has exactly the key the set declares: anything else (a table written
// by someone else) is kept out of the model rather than sliced past its end.
bool keys_fit(const kernel::Set& ks, const std::vector<KeyType>& key) {
    size_t want = 0;
    for (KeyType t : key)
        want += key.size() > 1 ? (key_size(t) + 3) / 4 * 4 : key_size(t);
    if (ks.key_len != want) return false;
    for (const auto& e : ks.elems)
        if (e.key.size() != want || (!e.key_end.empty() && e.key_end.size() != want)) return false;
    return true;
}

model::Set lift_set(const kernel::Set& ks) {
    Set s{ks.name, key_types(ks.key_type, ks.key_len), (ks.flags & NFT_SET_INTERVAL) != 0, {}};
    if (s.key.empty()) return s;
    if (!keys_fit(ks, s.key)) {
        s.key.clear(); // outside awf-net's vocabulary: shown and judged as such
        return s;
    }
    s.elements.reserve(ks.elems.size());
    if (s.key.size() > 1) {
        for (const auto& e : ks.elems) {
            Element el;
            el.reserve(s.key.size());
            size_t off = 0;
            for (KeyType t : s.key) {
                size_t n = key_size(t);
                auto at = [&](const Bytes& b) {
                    return Bytes(b.begin() + static_cast<long>(off),
                                 b.begin() + static_cast<long>(off + n));
                };
                Bytes lo = at(e.key);
                el.push_back({lo, e.key_end.empty() ? lo : at(e.key_end)});
                off += (n + 3) / 4 * 4;
            }
            s.elements.push_back(std::move(el));
        }
    } else if (!s.interval) {
        for (const auto& e : ks.elems)
            s.elements.push_back({{e.key, e.key}});
    } else {
        // rbtree encoding back to ranges: starts and end markers in key order. Sorted by
        // pointer (thousands of elements are not copied), one three-way key comparison each.
        std::vector<const kernel::Elem*> elems;
        elems.reserve(ks.elems.size());
        for (const auto& e : ks.elems)
            elems.push_back(&e);
        std::sort(elems.begin(), elems.end(), [](const kernel::Elem* a, const kernel::Elem* b) {
            if (auto c = a->key <=> b->key; c != 0) return c < 0;
            return a->flags > b->flags; // an end sorts before a start at the same key
        });
        for (size_t i = 0; i < elems.size(); ++i) {
            if (elems[i]->flags & NFT_SET_ELEM_INTERVAL_END) continue;
            Bytes hi(elems[i]->key.size(), 0xff);
            if (i + 1 < elems.size() && (elems[i + 1]->flags & NFT_SET_ELEM_INTERVAL_END)) {
                hi = elems[i + 1]->key;
                for (size_t k = hi.size(); k-- > 0;)
                    if (hi[k]-- != 0) break;
            }
            s.elements.push_back({{elems[i]->key, std::move(hi)}});
        }
    }
    // Hash and concatenated sets list in kernel order; the planner's order is key byte order.
    // (The interval branch above already produced its ranges in key order.)
    if (!s.interval || s.key.size() > 1) sort_by_key(s.elements);
    return s;
}

model::Table lift(const kernel::Table& k) {
    Table t;
    t.name = k.name;
    switch (k.family) {
    case NFPROTO_IPV4:
        t.family = "ip";
        break;
    case NFPROTO_IPV6:
        t.family = "ip6";
        break;
    case NFPROTO_ARP:
        t.family = "arp";
        break;
    case NFPROTO_BRIDGE:
        t.family = "bridge";
        break;
    case NFPROTO_NETDEV:
        t.family = "netdev";
        break;
    default:
        t.family = "inet";
    }
    t.comment = comment_of(k.udata);
    for (const auto& s : k.sets)
        t.sets.push_back(lift_set(s));
    for (const auto& c : k.chains) {
        Chain ch;
        ch.name = c.name;
        ch.type = c.type == "nat"     ? ChainType::nat
                  : c.type == "route" ? ChainType::route
                                      : ChainType::filter;
        if (c.type.empty()) {
            ch.hook = Hook::none; // a regular chain, reached by jump or goto
        } else {
            switch (c.hooknum) {
            case NF_INET_PRE_ROUTING:
                ch.hook = Hook::prerouting;
                break;
            case NF_INET_LOCAL_IN:
                ch.hook = Hook::input;
                break;
            case NF_INET_FORWARD:
                ch.hook = Hook::forward;
                break;
            case NF_INET_LOCAL_OUT:
                ch.hook = Hook::output;
                break;
            default:
                ch.hook = Hook::postrouting;
                break;
            }
        }
        ch.priority = c.priority;
        ch.policy = c.policy == NF_ACCEPT ? VerdictCode::accept : VerdictCode::drop;
        for (const auto& r : k.rules) {
            if (r.chain != c.name) continue;
            if (auto lifted = lift_rule(r, k.family)) {
                // Counters carry the kernel's values.
                size_t ci = 0;
                std::vector<const Expr*> counters;
                for (const auto& e : r.exprs)
                    if (e.name == "counter") counters.push_back(&e);
                for (auto& st : lifted->stmts)
                    if (auto* cnt = std::get_if<Counter>(&st); cnt && ci < counters.size()) {
                        cnt->packets = num(*counters[ci], NFTNL_EXPR_CTR_PACKETS);
                        cnt->bytes = num(*counters[ci++], NFTNL_EXPR_CTR_BYTES);
                    }
                ch.rules.push_back(*lifted);
            } else {
                ch.rules.push_back(Rule{{}, comment_of(r.udata), kernel::describe(r)});
            }
        }
        t.chains.push_back(ch);
    }
    return t;
}

} // namespace awf
