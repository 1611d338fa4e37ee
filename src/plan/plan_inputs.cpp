#include "awf/base/platform.hpp"

#include "awf/plan/plan_inputs.hpp"

#include "awf/base/digest.hpp"

#include <algorithm>
#include <sstream>

namespace awf {

namespace {

template <typename T> std::vector<T> sorted_unique(std::vector<T> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

void add_proxy_ports(std::vector<ProxyPorts>& v, const IpAddr& a, const PortSet& ports) {
    for (auto& p : v)
        if (p.addr == a) {
            p.ports |= ports;
            return;
        }
    v.push_back({a, ports});
}

std::string addrs(const std::vector<IpAddr>& v) {
    std::string s;
    for (const auto& a : v)
        s += (s.empty() ? "" : ",") + a.str();
    return s;
}

} // namespace

std::vector<Cidr> fold_prefixes(std::vector<Cidr> v) {
    std::sort(v.begin(), v.end(), [](const Cidr& a, const Cidr& b) {
        return a.addr != b.addr ? a.addr < b.addr : a.prefix < b.prefix;
    });
    std::vector<Cidr> kept;
    for (const auto& c : v)
        if (kept.empty() || !kept.back().contains(c.addr)) // contains() also compares families
            kept.push_back(c);
    return kept;
}

PlanInputs derive(const ResolvedPolicy& r) {
    const Policy& p = r.policy;
    PlanInputs in;
    in.table = p.table;
    if (p.role == Role::proxy) {
        // Squid's namespace: nothing of the sandbox's exemptions or denials applies there.
        in.proxy_role = true;
        in.intercept = true;
        in.web_ports = PortSet{{80, 80}, {443, 443}};
        in.web_ports |= p.allow_host_ports;
        in.web_ports = in.web_ports - p.dangerous_ports;
        in.intercept_tls_ports = p.intercept_tls_ports;
        in.intercept_http_port = p.intercept_http_port;
        in.intercept_tls_port = p.intercept_tls_port;
        in.log_group.reset();
        return in;
    }
    in.squid = r.squid;
    in.squid_port = p.squid_port;
    in.proxies = {r.squid};
    add_proxy_ports(in.proxy_ports, r.squid, PortSet{{p.squid_port, p.squid_port}});
    if (p.api_proxy) {
        in.proxies.push_back(p.api_proxy->addr);
        add_proxy_ports(in.proxy_ports, p.api_proxy->addr, p.api_proxy->ports);
    }
    if (p.cli_proxy) {
        in.proxies.push_back(p.cli_proxy->addr);
        add_proxy_ports(in.proxy_ports, p.cli_proxy->addr, p.cli_proxy->ports);
    }
    if (p.doh_proxy) in.proxies.push_back(*p.doh_proxy);
    in.proxies = sorted_unique(in.proxies);
    std::sort(in.proxy_ports.begin(), in.proxy_ports.end(),
              [](const ProxyPorts& a, const ProxyPorts& b) { return a.addr < b.addr; });
    in.dns = sorted_unique(r.dns);
    in.gateways = sorted_unique(r.gateways);
    in.web_ports = PortSet{{80, 80}, {443, 443}};
    in.web_ports |= p.allow_host_ports;
    in.web_ports = in.web_ports - p.dangerous_ports;
    if (!in.gateways.empty()) {
        in.gateway_ports = in.web_ports;
        in.gateway_ports |= p.host_service_ports;
    }
    in.dangerous_ports = p.dangerous_ports;
    switch (p.inbound.kind) {
    case Inbound::Kind::any:
        in.inbound = PlanInputs::InboundKind::any;
        break;
    case Inbound::Kind::none:
        in.inbound = PlanInputs::InboundKind::none;
        break;
    default:
        in.inbound = PlanInputs::InboundKind::sources;
        in.inbound_sources = fold_prefixes(r.inbound_sources);
    }
    in.blocked_action = p.blocked_action;
    in.log_group = p.log_group;
    in.ipv6 = p.ipv6;
    in.gateways_discovered = p.host_access && p.host_gateways.empty();
    in.inbound_connected = p.inbound.kind == Inbound::Kind::local;
    if (p.intercept) {
        in.intercept = true;
        in.intercept_tls_ports = p.intercept_tls_ports;
    }
    return in;
}

std::string PlanInputs::canonical() const {
    std::ostringstream o;
    o << "table=" << table << "\n";
    if (proxy_role) {
        o << "role=proxy\nweb_ports=" << web_ports.str()
          << "\nintercept_tls_ports=" << intercept_tls_ports.str()
          << "\nintercept_http_port=" << intercept_http_port
          << "\nintercept_tls_port=" << intercept_tls_port << "\n";
        return o.str();
    }
    o << "squid=" << squid.str() << ":" << squid_port << "\n";
    o << "proxies=" << addrs(proxies) << "\n";
    o << "proxy_ports=";
    for (const auto& p : proxy_ports)
        o << p.addr.str() << ":" << p.ports.str() << ";";
    o << "\n";
    o << "dns=" << addrs(dns) << "\n";
    o << "gateways=" << addrs(gateways) << "\n";
    o << "gateway_ports=" << gateway_ports.str() << "\n";
    o << "web_ports=" << web_ports.str() << "\n";
    o << "dangerous_ports=" << dangerous_ports.str() << "\n";
    static constexpr const char* kinds[] = {"sources", "any", "none"};
    o << "inbound=" << kinds[static_cast<int>(inbound)];
    for (const auto& c : inbound_sources)
        o << "," << c.str();
    o << "\n";
    o << "blocked_action=" << (blocked_action == BlockedAction::reject ? "reject" : "drop") << "\n";
    o << "log_group=" << (log_group ? std::to_string(*log_group) : "off") << "\n";
    o << "ipv6=" << (ipv6 == Ipv6Mode::disable ? "disable" : "block") << "\n";
    o << "discovered=" << (gateways_discovered ? "gateways," : "")
      << (inbound_connected ? "inbound," : "") << "\n";
    if (intercept) o << "intercept=tls:" << intercept_tls_ports.str() << "\n";
    return o.str();
}

std::string PlanInputs::digest(std::string_view key) const {
    return key.empty() ? sha256_hex(canonical()) : hmac_sha256_hex(key, canonical());
}

namespace {

// A set the decoder could not read (its key is outside the model) is as good as missing.
const model::Set* find_set(const model::Table& t, const std::string& name) {
    for (const auto& s : t.sets)
        if (s.name == name) return s.key.empty() ? nullptr : &s;
    return nullptr;
}

const model::Chain* find_chain(const model::Table& t, const std::string& name) {
    for (const auto& c : t.chains)
        if (c.name == name) return &c;
    return nullptr;
}

// Set contents come from the kernel, where anyone with NET_ADMIN in the namespace may have
// put them: a key of the wrong length is not an input awf-net wrote.
struct Unrecoverable {};

IpAddr addr_of(const model::Bytes& b) {
    if (b.size() != 4 && b.size() != 16) throw Unrecoverable{};
    IpAddr a;
    a.family = b.size() == 4 ? Family::v4 : Family::v6;
    std::copy(b.begin(), b.end(), a.bytes.begin());
    return a;
}

uint16_t port_of(const model::Bytes& b) {
    if (b.size() != 2) throw Unrecoverable{};
    return static_cast<uint16_t>(b[0] << 8 | b[1]);
}

const model::ElementField& field_of(const model::Element& el, size_t i) {
    if (i >= el.size()) throw Unrecoverable{};
    return el[i];
}

std::optional<PortSet> ports_of(const model::Table& t, const std::string& name) {
    const model::Set* s = find_set(t, name);
    if (!s) return std::nullopt;
    std::vector<PortRange> r;
    for (const auto& el : s->elements)
        r.push_back({port_of(field_of(el, 0).lo), port_of(field_of(el, 0).hi)});
    return PortSet(r);
}

bool addrs_of(const model::Table& t, const std::string& name, std::vector<IpAddr>& out) {
    const model::Set* s = find_set(t, name);
    if (!s) return false;
    for (const auto& el : s->elements)
        out.push_back(addr_of(field_of(el, 0).lo));
    return true;
}

bool cidrs_of(const model::Table& t, const std::string& name, std::vector<Cidr>& out) {
    const model::Set* s = find_set(t, name);
    if (!s) return false;
    for (const auto& el : s->elements) {
        IpAddr lo = addr_of(field_of(el, 0).lo), hi = addr_of(field_of(el, 0).hi);
        bool found = false;
        for (int prefix = 0; prefix <= static_cast<int>(lo.size() * 8) && !found; ++prefix) {
            Cidr c = Cidr::of(lo, static_cast<uint8_t>(prefix));
            if (c.addr == lo && c.last() == hi) {
                out.push_back(c);
                found = true;
            }
        }
        if (!found) return false; // not a prefix: not something awf-net writes
    }
    return true;
}

template <typename T> const T* find_stmt(const model::Chain& c) {
    for (const auto& r : c.rules)
        for (const auto& st : r.stmts)
            if (auto* x = std::get_if<T>(&st)) return x;
    return nullptr;
}

// The proxy side: the redirect ports are in the rules, the port sets in the sets.
std::optional<PlanInputs> recover_proxy(const model::Table& t, const model::Chain& pre) {
    PlanInputs in;
    in.table = t.name;
    in.proxy_role = true;
    in.intercept = true;
    in.log_group.reset();
    auto web = ports_of(t, "web_ports");
    auto tls = ports_of(t, "intercept_tls_ports");
    if (!web || !tls) return std::nullopt;
    in.web_ports = *web;
    in.intercept_tls_ports = *tls;
    for (const auto& r : pre.rules) {
        const model::Redirect* to = nullptr;
        bool tls_rule = false;
        for (const auto& st : r.stmts) {
            if (auto* m = std::get_if<model::Match>(&st))
                tls_rule = tls_rule || m->set == "intercept_tls_ports";
            to = to ? to : std::get_if<model::Redirect>(&st);
        }
        if (to) (tls_rule ? in.intercept_tls_port : in.intercept_http_port) = to->port;
    }
    if (!in.intercept_http_port || !in.intercept_tls_port) return std::nullopt;
    return in;
}

// Intercept mode has no DNAT: Squid is the next hop the filter requires of steered packets,
// and its port the one port recorded for it among the proxies.
bool recover_intercepted_squid(const model::Chain& out, PlanInputs& in) {
    for (const auto& r : out.rules)
        for (const auto& st : r.stmts)
            if (auto* m = std::get_if<model::Match>(&st);
                m && m->kind == model::Match::Kind::eq &&
                m->fields[0] == model::Field::rt_nexthop4) {
                in.squid = IpAddr::v4(
                    static_cast<uint8_t>(m->value >> 24), static_cast<uint8_t>(m->value >> 16),
                    static_cast<uint8_t>(m->value >> 8), static_cast<uint8_t>(m->value));
                for (const auto& p : in.proxy_ports)
                    if (p.addr == in.squid && !p.ports.ranges().empty())
                        in.squid_port = p.ports.ranges().front().first;
                return true;
            }
    return false;
}

std::optional<PlanInputs> recover_checked(const model::Table& t, Ipv6Mode ipv6) {
    if (const model::Chain* pre = find_chain(t, "nat_prerouting")) return recover_proxy(t, *pre);
    PlanInputs in;
    in.table = t.name;
    in.ipv6 = ipv6;
    const model::Chain* nat = find_chain(t, "nat_output");
    const model::Chain* steer = find_chain(t, "route_output");
    const model::Chain* out = find_chain(t, "filter_output");
    const model::Chain* input = find_chain(t, "filter_input");
    if ((!nat && !steer) || !out || !input) return std::nullopt;
    if (nat) {
        const model::Dnat* dnat = find_stmt<model::Dnat>(*nat);
        if (!dnat) return std::nullopt;
        in.squid = dnat->addr;
        in.squid_port = dnat->port;
    }

    if (!addrs_of(t, "proxies_v4", in.proxies)) return std::nullopt;
    const model::Set* pp = find_set(t, "proxy_ports_v4");
    if (!pp) return std::nullopt;
    for (const auto& el : pp->elements)
        add_proxy_ports(in.proxy_ports, addr_of(field_of(el, 0).lo),
                        PortSet{{port_of(field_of(el, 1).lo), port_of(field_of(el, 1).hi)}});
    for (const char* name : {"dns_v4", "dns_v6"}) {
        const model::Set* s = find_set(t, name);
        if (!s) return std::nullopt;
        for (const auto& el : s->elements)
            in.dns.push_back(addr_of(field_of(el, 0).lo));
    }
    in.dns = sorted_unique(in.dns);
    if (!addrs_of(t, "gateways_v4", in.gateways) || !addrs_of(t, "gateways_v6", in.gateways))
        return std::nullopt;
    in.gateways = sorted_unique(in.gateways);
    auto gw = ports_of(t, "gateway_ports");
    auto web = ports_of(t, "web_ports");
    auto dangerous = ports_of(t, "dangerous_ports");
    if (!gw || !web || !dangerous) return std::nullopt;
    in.gateway_ports = *gw;
    in.web_ports = *web;
    in.dangerous_ports = *dangerous;
    if (steer) {
        auto tls = ports_of(t, "intercept_tls_ports");
        if (!tls || !recover_intercepted_squid(*out, in)) return std::nullopt;
        in.intercept = true;
        in.intercept_tls_ports = *tls;
    }

    bool has_sources = find_set(t, "inbound_v4") != nullptr;
    if (has_sources) {
        if (!cidrs_of(t, "inbound_v4", in.inbound_sources) ||
            !cidrs_of(t, "inbound_v6", in.inbound_sources))
            return std::nullopt;
        in.inbound = PlanInputs::InboundKind::sources;
        in.inbound_sources = fold_prefixes(in.inbound_sources);
    } else {
        // `inbound any` ends the input chain with an accept; `none` with the drop alone.
        const auto& last = input->rules.empty() ? model::Rule{} : input->rules.back();
        bool accepts =
            !last.stmts.empty() && std::holds_alternative<model::Verdict>(last.stmts.back()) &&
            std::get<model::Verdict>(last.stmts.back()).code == model::VerdictCode::accept;
        in.inbound = accepts ? PlanInputs::InboundKind::any : PlanInputs::InboundKind::none;
    }
    in.blocked_action =
        find_stmt<model::RejectTcpReset>(*out) ? BlockedAction::reject : BlockedAction::drop;
    const model::Log* log = find_stmt<model::Log>(*out);
    in.log_group = log ? std::optional<uint16_t>(log->group) : std::nullopt;
    return in;
}

} // namespace

std::optional<PlanInputs> recover(const model::Table& t, Ipv6Mode ipv6) {
    try {
        return recover_checked(t, ipv6);
    } catch (const Unrecoverable&) {
        return std::nullopt;
    }
}

} // namespace awf
