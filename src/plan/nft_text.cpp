#include "awf/base/platform.hpp"

#include "awf/plan/nft_text.hpp"

#include "awf/base/text.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cstdio>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>
#include <sstream>

namespace awf {

using namespace model;

namespace {

const char* field_name(Field f) {
    switch (f) {
    case Field::meta_oif:
        return "oif";
    case Field::meta_iif:
        return "iif";
    case Field::meta_nfproto:
        return "meta nfproto";
    case Field::meta_l4proto:
        return "meta l4proto";
    case Field::fib_daddr_type:
        return "fib daddr type";
    case Field::ct_state:
        return "ct state";
    case Field::ip_saddr:
        return "ip saddr";
    case Field::ip_daddr:
        return "ip daddr";
    case Field::ip6_saddr:
        return "ip6 saddr";
    case Field::ip6_daddr:
        return "ip6 daddr";
    case Field::ip6_hoplimit:
        return "ip6 hoplimit";
    case Field::tcp_dport:
        return "tcp dport";
    case Field::th_dport:
        return "th dport";
    case Field::icmpv6_type:
        return "icmpv6 type";
    case Field::meta_mark:
        return "meta mark";
    case Field::rt_nexthop4:
        return "rt ip nexthop";
    }
    return "?";
}

std::string proto_name(uint32_t p) {
    switch (p) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_ICMPV6:
        return "ipv6-icmp";
    default:
        return std::to_string(p);
    }
}

std::string scalar(Field f, uint32_t v) {
    switch (f) {
    case Field::meta_oif:
    case Field::meta_iif:
        // ifindex 1 is the loopback device in every namespace.
        return v == 1 ? "\"lo\"" : std::to_string(v);
    case Field::meta_nfproto:
        return v == NFPROTO_IPV4 ? "ipv4" : v == NFPROTO_IPV6 ? "ipv6" : std::to_string(v);
    case Field::meta_l4proto:
        return proto_name(v);
    case Field::fib_daddr_type:
        switch (v) {
        case RTN_LOCAL:
            return "local";
        case RTN_BROADCAST:
            return "broadcast";
        case RTN_MULTICAST:
            return "multicast";
        case RTN_UNICAST:
            return "unicast";
        default:
            return std::to_string(v);
        }
    case Field::ct_state: {
        static constexpr std::pair<uint32_t, const char*> bits[] = {
            {1u << 0, "invalid"}, {1u << 1, "established"}, {1u << 2, "related"}, {1u << 3, "new"}};
        std::string s;
        for (auto [bit, name] : bits)
            if (v & bit) s += (s.empty() ? "" : ",") + std::string(name);
        return s;
    }
    case Field::meta_mark: {
        char buf[11];
        std::snprintf(buf, sizeof buf, "0x%08x", v);
        return buf;
    }
    case Field::ip_saddr:
    case Field::ip_daddr:
    case Field::rt_nexthop4:
        return IpAddr::v4(static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v))
            .str();
    default:
        return std::to_string(v);
    }
}

const char* hook_name(Hook h) {
    switch (h) {
    case Hook::input:
        return "input";
    case Hook::output:
        return "output";
    case Hook::prerouting:
        return "prerouting";
    case Hook::forward:
        return "forward";
    case Hook::postrouting:
        return "postrouting";
    case Hook::none:
        return "";
    }
    return "";
}

std::string key_type_name(KeyType t) {
    switch (t) {
    case KeyType::ipv4_addr:
        return "ipv4_addr";
    case KeyType::ipv6_addr:
        return "ipv6_addr";
    case KeyType::inet_proto:
        return "inet_proto";
    case KeyType::inet_service:
        return "inet_service";
    }
    return "?";
}

IpAddr addr_of(KeyType t, const Bytes& b) {
    IpAddr a;
    a.family = t == KeyType::ipv4_addr ? Family::v4 : Family::v6;
    std::copy_n(b.begin(), std::min(b.size(), a.size()), a.bytes.begin());
    return a;
}

uint32_t number_of(const Bytes& b) {
    uint32_t v = 0;
    for (uint8_t c : b)
        v = v << 8 | c;
    return v;
}

// A range printed as a prefix when it is one, as nft lists it; otherwise lo-hi.
std::string addr_field(KeyType t, const ElementField& f) {
    IpAddr lo = addr_of(t, f.lo), hi = addr_of(t, f.hi);
    if (lo == hi) return lo.str();
    for (int prefix = 0; prefix <= static_cast<int>(lo.size() * 8); ++prefix) {
        Cidr c = Cidr::of(lo, static_cast<uint8_t>(prefix));
        if (c.addr == lo && c.last() == hi) return c.str();
    }
    return lo.str() + "-" + hi.str();
}

std::string element_text(const Set& s, const Element& el) {
    std::string out;
    for (size_t i = 0; i < el.size(); ++i) {
        if (i) out += " . ";
        KeyType t = s.key[i];
        const auto& f = el[i];
        if (t == KeyType::ipv4_addr || t == KeyType::ipv6_addr) {
            out += addr_field(t, f);
        } else if (t == KeyType::inet_proto) {
            out += proto_name(number_of(f.lo));
        } else {
            out += std::to_string(number_of(f.lo));
            if (f.lo != f.hi) out += "-" + std::to_string(number_of(f.hi));
        }
    }
    return out;
}

// A name as nft reads it: bare when it is an identifier, else quoted.
std::string ident(const std::string& s) {
    bool bare = !s.empty() && std::isalpha(static_cast<unsigned char>(s[0]));
    for (char c : s)
        bare = bare && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                        c == '-' || c == '/');
    return bare ? s : quote(s);
}

std::string unit_name(uint64_t seconds) {
    switch (seconds) {
    case 1:
        return "second";
    case 60:
        return "minute";
    case 3600:
        return "hour";
    case 86400:
        return "day";
    default:
        return "second";
    }
}

struct StmtText {
    const NftTextOptions& opts;
    std::string operator()(const Match& m) const {
        std::string fields;
        for (size_t i = 0; i < m.fields.size(); ++i)
            fields += (i ? " . " : "") + std::string(field_name(m.fields[i]));
        switch (m.kind) {
        case Match::Kind::eq:
        case Match::Kind::any_bit:
            return fields + " " + scalar(m.fields[0], m.value);
        case Match::Kind::range:
            return fields + " " + scalar(m.fields[0], m.value) + "-" +
                   scalar(m.fields[0], m.value_hi);
        case Match::Kind::in_set:
            return fields + " @" + ident(m.set);
        }
        return {};
    }
    std::string operator()(const Counter& c) const {
        return opts.counters ? "counter packets " + std::to_string(c.packets) + " bytes " +
                                   std::to_string(c.bytes)
                             : "counter";
    }
    std::string operator()(const Limit& l) const {
        return "limit rate " + std::to_string(l.rate) + "/" + unit_name(l.unit_seconds) +
               " burst " + std::to_string(l.burst) + " packets";
    }
    std::string operator()(const Log& l) const {
        return "log prefix " + quote(l.prefix) + " group " + std::to_string(l.group);
    }
    std::string operator()(const Verdict& v) const {
        return v.code == VerdictCode::accept ? "accept" : "drop";
    }
    std::string operator()(const RejectTcpReset&) const { return "reject with tcp reset"; }
    std::string operator()(const Dnat& d) const {
        return "dnat ip to " + d.addr.str() + ":" + std::to_string(d.port);
    }
    std::string operator()(const MarkSet& m) const {
        return "meta mark set " + scalar(Field::meta_mark, m.mark);
    }
    std::string operator()(const Redirect& r) const {
        return "redirect to :" + std::to_string(r.port);
    }
};

} // namespace

std::string quote(const std::string& s) {
    return "\"" + printable(s) + "\"";
}

std::string rule_text(const Rule& r, const NftTextOptions& opts) {
    if (!r.raw.empty()) return "# not an awf-net rule: " + printable(r.raw);
    std::string s;
    for (const auto& st : r.stmts) {
        if (!s.empty()) s += " ";
        s += std::visit(StmtText{opts}, st);
    }
    if (!r.comment.empty()) s += " comment " + quote(r.comment);
    return s;
}

std::string to_nft_text(const Table& t, const NftTextOptions& opts) {
    std::ostringstream o;
    o << "table " << t.family << " " << ident(t.name) << " {\n";
    if (!t.comment.empty()) o << "\tcomment " << quote(t.comment) << "\n";
    for (const auto& s : t.sets) {
        if (s.key.empty()) { // a key type outside this model (a foreign table's)
            o << "\n\t# set " << printable(s.name) << ": not decoded (nft list set " << t.family
              << " " << printable(t.name) << " " << printable(s.name) << ")\n";
            continue;
        }
        o << "\n\tset " << ident(s.name) << " {\n\t\ttype ";
        for (size_t i = 0; i < s.key.size(); ++i)
            o << (i ? " . " : "") << key_type_name(s.key[i]);
        o << "\n";
        if (s.interval) o << "\t\tflags interval\n";
        if (!s.elements.empty()) {
            o << "\t\telements = {";
            for (size_t i = 0; i < s.elements.size(); ++i)
                o << (i ? ",\n\t\t\t     " : " ") << element_text(s, s.elements[i]);
            o << " }\n";
        }
        o << "\t}\n";
    }
    for (const auto& c : t.chains) {
        o << "\n\tchain " << ident(c.name) << " {\n";
        if (c.hook != Hook::none)
            o << "\t\ttype "
              << (c.type == ChainType::nat     ? "nat"
                  : c.type == ChainType::route ? "route"
                                               : "filter")
              << " hook " << hook_name(c.hook) << " priority " << c.priority << "; policy "
              << (c.policy == VerdictCode::accept ? "accept" : "drop") << ";\n";
        for (const auto& r : c.rules)
            o << "\t\t" << rule_text(r, opts) << "\n";
        o << "\t}\n";
    }
    o << "}\n";
    return o.str();
}

} // namespace awf
