#include "awf/base/platform.hpp"

#include "awf/plan/explain.hpp"

#include "awf/base/error.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/policy/port_spec.hpp"

#include <algorithm>
#include <charconv>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

namespace awf {

using namespace model;

namespace {

constexpr uint8_t kIcmpv6EchoRequest = 128;
constexpr uint8_t kDefaultHopLimit = 64;

bool has_ports(uint8_t proto) {
    return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
           proto == IPPROTO_UDPLITE || proto == IPPROTO_DCCP;
}

std::optional<uint8_t> proto_of(const std::string& name) {
    static const std::pair<const char*, uint8_t> names[] = {
        {"tcp", IPPROTO_TCP},       {"udp", IPPROTO_UDP},          {"icmp", IPPROTO_ICMP},
        {"icmpv6", IPPROTO_ICMPV6}, {"ipv6-icmp", IPPROTO_ICMPV6}, {"sctp", IPPROTO_SCTP},
        {"gre", IPPROTO_GRE},       {"esp", IPPROTO_ESP},          {"udplite", IPPROTO_UDPLITE},
        {"dccp", IPPROTO_DCCP}};
    for (auto [n, p] : names)
        if (name == n) return p;
    unsigned v = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
    if (ec == std::errc{} && end == name.data() + name.size() && v <= 255 && !name.empty())
        return static_cast<uint8_t>(v);
    return std::nullopt;
}

Bytes bytes_of(const IpAddr& a) {
    return Bytes(a.bytes.begin(), a.bytes.begin() + static_cast<long>(a.size()));
}

bool in_range(const Bytes& v, const ElementField& f) {
    return f.lo <= v && v <= f.hi;
}

struct Packet {
    const Flow& flow;
    IpAddr daddr;
    uint16_t dport;
    const ExplainContext& ctx;
    std::optional<uint32_t> mark; // set by the route chain (intercept)

    bool is_local() const {
        if (daddr.is_v4() && daddr.bytes[0] == 127) return true;
        if (!daddr.is_v4() && daddr == *IpAddr::parse("::1")) return true;
        return std::find(ctx.local.begin(), ctx.local.end(), daddr) != ctx.local.end();
    }
    uint32_t addr_type() const {
        if (is_local()) return RTN_LOCAL;
        if (daddr == *IpAddr::parse("255.255.255.255") ||
            std::find(ctx.broadcast.begin(), ctx.broadcast.end(), daddr) != ctx.broadcast.end())
            return RTN_BROADCAST;
        if ((daddr.is_v4() && (daddr.bytes[0] & 0xf0) == 0xe0) ||
            (!daddr.is_v4() && daddr.bytes[0] == 0xff))
            return RTN_MULTICAST;
        return RTN_UNICAST;
    }
    // The value of a field for this packet; nullopt when the packet has no such field.
    std::optional<Bytes> value(Field f) const {
        auto byte = [](uint32_t v) { return Bytes{static_cast<uint8_t>(v)}; };
        auto port = [](uint16_t p) {
            return Bytes{static_cast<uint8_t>(p >> 8), static_cast<uint8_t>(p)};
        };
        switch (f) {
        case Field::meta_nfproto:
            return byte(daddr.is_v4() ? NFPROTO_IPV4 : NFPROTO_IPV6);
        case Field::meta_l4proto:
            return byte(flow.proto);
        case Field::ip_daddr:
            return daddr.is_v4() ? std::optional(bytes_of(daddr)) : std::nullopt;
        case Field::ip6_daddr:
            return !daddr.is_v4() ? std::optional(bytes_of(daddr)) : std::nullopt;
        case Field::tcp_dport:
            return flow.proto == IPPROTO_TCP ? std::optional(port(dport)) : std::nullopt;
        case Field::th_dport:
            return has_ports(flow.proto) ? std::optional(port(dport)) : std::nullopt;
        case Field::icmpv6_type:
            return flow.proto == IPPROTO_ICMPV6 && !daddr.is_v4()
                       ? std::optional(byte(kIcmpv6EchoRequest))
                       : std::nullopt;
        case Field::ip6_hoplimit:
            return !daddr.is_v4() ? std::optional(byte(kDefaultHopLimit)) : std::nullopt;
        default:
            return std::nullopt; // source fields: outbound flows are judged on destination
        }
    }

    bool matches(const Match& m, const Table& t) const {
        switch (m.kind) {
        case Match::Kind::any_bit:
            return false; // ct state established,related: explain judges new connections
        case Match::Kind::eq:
        case Match::Kind::range: {
            uint32_t v = 0;
            switch (m.fields[0]) {
            case Field::meta_oif:
                v = is_local() ? 1 : 0;
                break; // local traffic leaves through lo
            case Field::meta_iif:
                return false;
            case Field::fib_daddr_type:
                v = addr_type();
                break;
            case Field::meta_mark:
                v = mark.value_or(0);
                break;
            case Field::rt_nexthop4:
                // A marked packet's next hop is the one awf-net's route table names.
                return mark.has_value();
            default: {
                auto b = value(m.fields[0]);
                if (!b) return false;
                for (uint8_t c : *b)
                    v = v << 8 | c;
            }
            }
            return m.kind == Match::Kind::eq ? v == m.value : v >= m.value && v <= m.value_hi;
        }
        case Match::Kind::in_set: {
            std::vector<Bytes> key;
            for (Field f : m.fields) {
                auto b = value(f);
                if (!b) return false;
                key.push_back(*b);
            }
            for (const auto& s : t.sets) {
                if (s.name != m.set) continue;
                for (const auto& el : s.elements) {
                    bool all = el.size() == key.size();
                    for (size_t i = 0; all && i < key.size(); ++i)
                        all = in_range(key[i], el[i]);
                    if (all) return true;
                }
            }
            return false;
        }
        }
        return false;
    }
};

struct RuleWalk {
    const Rule* rule = nullptr;
    int index = 0;
};

// First rule whose matches all hold and that ends the walk (a verdict, reject or DNAT); log
// rules that hold on the way are reported through `logged`.
RuleWalk walk(const Chain& c, const Table& t, const Packet& p, std::optional<std::string>& logged) {
    int i = 0;
    for (const auto& r : c.rules) {
        ++i;
        bool all = true, terminal = false;
        const Log* log = nullptr;
        for (const auto& st : r.stmts) {
            if (auto* m = std::get_if<Match>(&st)) {
                all = all && p.matches(*m, t);
            } else if (auto* l = std::get_if<Log>(&st)) {
                log = l;
            } else if (std::holds_alternative<Verdict>(st) ||
                       std::holds_alternative<RejectTcpReset>(st) ||
                       std::holds_alternative<Dnat>(st) || std::holds_alternative<MarkSet>(st)) {
                terminal = true;
            }
        }
        if (!all) continue;
        if (log && !logged) logged = log->prefix;
        if (terminal) return {&r, i};
    }
    return {};
}

HookVerdict describe(const Chain& c, const RuleWalk& w) {
    HookVerdict h;
    h.chain = c.name;
    h.rule = w.index;
    if (w.rule) {
        h.comment = w.rule->comment;
        h.text = rule_text(Rule{w.rule->stmts, {}, w.rule->raw});
    } else {
        h.text = std::string("policy ") + (c.policy == VerdictCode::accept ? "accept" : "drop");
    }
    return h;
}

const Chain* hook_chain(const Table& t, ChainType type, Hook hook) {
    for (const auto& c : t.chains)
        if (c.type == type && c.hook == hook) return &c;
    return nullptr;
}

} // namespace

Flow parse_flow(const std::string& text) {
    auto bad = [&](const std::string& why) { return input_error("FLOW", text, why); };
    auto slash = text.find('/');
    if (slash == std::string::npos) throw bad("expected PROTO/ADDR[:PORT]");
    Flow f;
    f.text = text;
    auto proto = proto_of(text.substr(0, slash));
    if (!proto) throw bad("unknown protocol");
    f.proto = *proto;
    std::string rest = text.substr(slash + 1), addr, port;
    if (!rest.empty() && rest[0] == '[') {
        auto close = rest.find(']');
        if (close == std::string::npos) throw bad("unclosed [");
        addr = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') throw bad("expected :PORT after ]");
            port = rest.substr(close + 2);
        }
    } else if (!has_ports(f.proto) && std::count(rest.begin(), rest.end(), ':') != 1) {
        addr = rest; // icmp/2001:db8::1: no port to split off
    } else {
        auto colon = rest.find(':');
        if (colon != std::string::npos && rest.find(':', colon + 1) != std::string::npos)
            throw bad("write IPv6 addresses as [ADDR]:PORT");
        addr = rest.substr(0, colon);
        if (colon != std::string::npos) port = rest.substr(colon + 1);
    }
    auto a = IpAddr::parse(addr);
    if (!a) throw bad("not an IP address");
    f.daddr = *a;
    if (has_ports(f.proto)) {
        auto r = parse_port_spec(port);
        if (!r.range || r.range->first != r.range->last) throw bad("needs one destination port");
        f.dport = r.range->first;
    } else if (!port.empty()) {
        throw bad("this protocol has no ports");
    }
    if (f.proto == IPPROTO_ICMP && !f.daddr.is_v4()) f.proto = IPPROTO_ICMPV6;
    return f;
}

std::string Explanation::outcome_text() const {
    switch (outcome) {
    case Outcome::direct:
        return "direct";
    case Outcome::redirected:
        return "redirected to Squid at " + redirected_to->first.str() + ":" +
               std::to_string(redirected_to->second);
    case Outcome::intercepted:
        return "intercepted by Squid at " + intercepted_by->first.str() + ", " +
               (intercepted_by->second ? "TLS" : "HTTP");
    case Outcome::rejected:
        return "rejected";
    case Outcome::dropped:
        return "dropped";
    }
    return {};
}

Explanation explain(const Table& t, const Flow& flow, const ExplainContext& ctx) {
    Explanation e;
    e.flow = flow;
    Packet p{flow, flow.daddr, flow.dport, ctx, std::nullopt};
    std::optional<std::string> nat_log;
    if (const Chain* steer = hook_chain(t, ChainType::route, Hook::output)) {
        RuleWalk w = walk(*steer, t, p, nat_log);
        e.nat = describe(*steer, w);
        if (w.rule)
            for (const auto& st : w.rule->stmts)
                if (auto* m = std::get_if<MarkSet>(&st)) p.mark = m->mark;
    }
    if (const Chain* nat = hook_chain(t, ChainType::nat, Hook::output)) {
        RuleWalk w = walk(*nat, t, p, nat_log);
        e.nat = describe(*nat, w);
        if (w.rule)
            for (const auto& st : w.rule->stmts)
                if (auto* d = std::get_if<Dnat>(&st)) {
                    e.redirected_to = std::make_pair(d->addr, d->port);
                    p.daddr = d->addr; // the filter hook sees the translated packet
                    p.dport = d->port;
                }
    }
    const Chain* filter = hook_chain(t, ChainType::filter, Hook::output);
    if (!filter) {
        e.outcome =
            e.redirected_to ? Explanation::Outcome::redirected : Explanation::Outcome::direct;
        return e;
    }
    RuleWalk w = walk(*filter, t, p, e.logged);
    e.filter = describe(*filter, w);
    bool accepted = w.rule ? std::holds_alternative<Verdict>(w.rule->stmts.back()) &&
                                 std::get<Verdict>(w.rule->stmts.back()).code == VerdictCode::accept
                           : filter->policy == VerdictCode::accept;
    bool rejected = w.rule && std::holds_alternative<RejectTcpReset>(w.rule->stmts.back());
    if (accepted && p.mark) {
        // The next hop the filter required: the address in its rt nexthop match.
        IpAddr squid;
        for (const auto& st : w.rule->stmts)
            if (auto* m = std::get_if<Match>(&st); m && m->fields[0] == Field::rt_nexthop4)
                squid = IpAddr::v4(
                    static_cast<uint8_t>(m->value >> 24), static_cast<uint8_t>(m->value >> 16),
                    static_cast<uint8_t>(m->value >> 8), static_cast<uint8_t>(m->value));
        Flow tls_probe = flow;
        Packet tp{tls_probe, p.daddr, p.dport, ctx, std::nullopt};
        bool tls = tp.matches(
            Match{Match::Kind::in_set, {Field::tcp_dport}, 0, 0, "intercept_tls_ports"}, t);
        e.intercepted_by = std::make_pair(squid, tls);
        e.outcome = Explanation::Outcome::intercepted;
        return e;
    }
    if (accepted)
        e.outcome =
            e.redirected_to ? Explanation::Outcome::redirected : Explanation::Outcome::direct;
    else
        e.outcome = rejected ? Explanation::Outcome::rejected : Explanation::Outcome::dropped;
    return e;
}

} // namespace awf
