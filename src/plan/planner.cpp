#include "awf/base/platform.hpp"

#include "awf/plan/planner.hpp"

#include <algorithm>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

namespace awf {

using namespace model;

namespace {

// ct state bits as the kernel's ct expression reports them (NF_CT_STATE_BIT).
constexpr uint32_t kCtEstablished = 1u << 1;
constexpr uint32_t kCtRelated = 1u << 2;
constexpr int32_t kNatPriority = -99; // just after Docker's DNAT at -100 (policy.md)

Match eq(Field f, uint32_t v) {
    return Match{Match::Kind::eq, {f}, v, 0, {}};
}
Match range(Field f, uint32_t lo, uint32_t hi) {
    return Match{Match::Kind::range, {f}, lo, hi, {}};
}
Match in_set(std::vector<Field> fields, std::string set) {
    return Match{Match::Kind::in_set, std::move(fields), 0, 0, std::move(set)};
}
Match any_bit(Field f, uint32_t mask) {
    return Match{Match::Kind::any_bit, {f}, mask, 0, {}};
}

Rule rule(std::string comment, std::vector<Stmt> stmts) {
    return Rule{std::move(stmts), std::move(comment), {}};
}
const Verdict accept{VerdictCode::accept};
const Verdict drop{VerdictCode::drop};

Set addr_set(std::string name, Family fam, const std::vector<IpAddr>& addrs) {
    Set s{
        std::move(name), {fam == Family::v4 ? KeyType::ipv4_addr : KeyType::ipv6_addr}, false, {}};
    std::vector<IpAddr> sorted;
    for (const auto& a : addrs)
        if (a.family == fam && std::find(sorted.begin(), sorted.end(), a) == sorted.end())
            sorted.push_back(a);
    std::sort(sorted.begin(), sorted.end());
    for (const auto& a : sorted)
        s.elements.push_back({field_of(a)});
    return s;
}

// Interval set of prefixes, folded (adjacent prefixes are kept apart, as nft keeps them).
Set cidr_set(std::string name, Family fam, const std::vector<Cidr>& cidrs) {
    Set s{std::move(name), {fam == Family::v4 ? KeyType::ipv4_addr : KeyType::ipv6_addr}, true, {}};
    for (const auto& c : fold_prefixes(cidrs))
        if (c.addr.family == fam) s.elements.push_back({field_of(c)});
    return s;
}

Set port_set(std::string name, const PortSet& ports) {
    Set s{std::move(name), {KeyType::inet_service}, true, {}};
    for (auto r : ports.ranges())
        s.elements.push_back({field_of_port(r.first, r.last)});
    return s;
}

// Address . TCP port intervals for the proxies' own ports (Squid, API proxy, CLI proxy).
Set proxy_ports_set(const PlanInputs& in) {
    Set s{"proxy_ports_v4", {KeyType::ipv4_addr, KeyType::inet_service}, true, {}};
    for (const auto& [addr, ports] : in.proxy_ports)
        for (auto pr : ports.ranges())
            s.elements.push_back({field_of(addr), field_of_port(pr.first, pr.last)});
    return s;
}

Set dns_set(std::string name, Family fam, const std::vector<IpAddr>& servers) {
    Set s{std::move(name),
          {fam == Family::v4 ? KeyType::ipv4_addr : KeyType::ipv6_addr, KeyType::inet_proto,
           KeyType::inet_service},
          false,
          {}};
    std::vector<IpAddr> sorted;
    for (const auto& a : servers)
        if (a.family == fam) sorted.push_back(a);
    std::sort(sorted.begin(), sorted.end());
    for (const auto& a : sorted)
        for (uint8_t proto : {IPPROTO_TCP, IPPROTO_UDP})
            s.elements.push_back(
                {field_of(a), field_of_proto(proto), field_of_port(kDnsPort, kDnsPort)});
    return s;
}

// The denial of one class: a rate-limited NFLOG event (whose counter counts events), then the
// verdict (whose counter counts every denied packet). The limit never gates the verdict.
void deny(std::vector<Rule>& rules, const PlanInputs& in, const std::string& what,
          std::vector<Stmt> match, const char* prefix, Limit limit, bool tcp) {
    if (in.log_group) {
        std::vector<Stmt> log = match;
        log.push_back(limit);
        log.push_back(Counter{});
        log.push_back(Log{prefix, *in.log_group});
        rules.push_back(rule("log " + what, log));
    }
    std::vector<Stmt> v = std::move(match);
    v.push_back(Counter{});
    if (tcp && in.blocked_action == BlockedAction::reject)
        v.push_back(RejectTcpReset{});
    else
        v.push_back(drop); // a local UDP/ICMP sender gets EPERM at once from a drop in output
    rules.push_back(rule("deny " + what, v));
}

std::vector<Rule> neighbour_discovery() {
    return {rule("ipv6 neighbour discovery", {range(Field::icmpv6_type, 133, 136),
                                              eq(Field::ip6_hoplimit, 255), Counter{}, accept}),
            rule("ipv6 mld report", {eq(Field::icmpv6_type, 143), Counter{}, accept})};
}

} // namespace

std::string table_comment(const PlanInputs& in, std::string_view key) {
    return std::string("awf-net ") + AWF_VERSION + (key.empty() ? " sha256:" : " hmac-sha256:") +
           in.digest(key);
}

std::optional<Recorded> parse_table_comment(const std::string& comment) {
    const std::string head = "awf-net ";
    if (comment.rfind(head, 0) != 0) return std::nullopt;
    bool keyed = comment.find(" hmac-sha256:") != std::string::npos;
    const std::string mark = keyed ? " hmac-sha256:" : " sha256:";
    auto at = comment.find(mark);
    if (at == std::string::npos) return std::nullopt;
    Recorded r{comment.substr(head.size(), at - head.size()), comment.substr(at + mark.size()),
               keyed};
    // Both parts come from the kernel, where anyone with NET_ADMIN may have written them.
    auto all_of = [](const std::string& x, std::string_view allowed) {
        return x.find_first_not_of(allowed) == std::string::npos;
    };
    constexpr std::string_view lower_hex = "0123456789abcdef";
    constexpr std::string_view version_chars =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~-";
    if (r.digest.size() != 64 || !all_of(r.digest, lower_hex)) return std::nullopt;
    if (r.version.empty() || r.version.size() > 32 || !all_of(r.version, version_chars))
        return std::nullopt;
    return r;
}

namespace {

// Squid's namespace in intercept mode: steered packets arrive addressed to the real
// destination and are redirected to Squid's intercept ports, where Squid finds the original
// destination in this namespace's conntrack table. Every destination, those local to this
// namespace included: a sandbox reaches through it exactly what it reaches in proxy mode
// (Squid), never a service that listens here on a web port. Only TCP to the web ports of new
// connections arriving from outside is touched (prerouting sees nothing Squid itself sends).
model::Table plan_proxy(const PlanInputs& in, std::string_view key) {
    Table t;
    t.name = in.table;
    t.comment = table_comment(in, key);
    t.sets.push_back(port_set("web_ports", in.web_ports));
    t.sets.push_back(port_set("intercept_tls_ports", in.intercept_tls_ports));
    Chain pre{"nat_prerouting", ChainType::nat,      Hook::prerouting,
              kNatPriority,     VerdictCode::accept, {}};
    pre.rules = {
        rule("proxy: tls to squid's intercept port",
             {eq(Field::meta_nfproto, NFPROTO_IPV4),
              in_set({Field::tcp_dport}, "intercept_tls_ports"), Counter{},
              Redirect{in.intercept_tls_port}}),
        rule("proxy: web to squid's intercept port",
             {eq(Field::meta_nfproto, NFPROTO_IPV4), in_set({Field::tcp_dport}, "web_ports"),
              Counter{}, Redirect{in.intercept_http_port}}),
    };
    t.chains = {std::move(pre)};
    return t;
}

uint32_t u32_of(const IpAddr& a) {
    return uint32_t{a.bytes[0]} << 24 | uint32_t{a.bytes[1]} << 16 | uint32_t{a.bytes[2]} << 8 |
           a.bytes[3];
}

} // namespace

model::Table plan_host_link(const HostLinkInputs& in) {
    Table t;
    t.name = in.table;
    t.comment = "awf-net " AWF_VERSION " host end of a sandbox's link";
    t.sets.push_back(addr_set("link_host_v4", Family::v4, {in.host_addr}));
    Set services{"link_services_v4", {KeyType::ipv4_addr, KeyType::inet_service}, true, {}};
    PortSet ports = in.services;
    if (in.intercept) {
        ports.add({in.intercept_http_port, in.intercept_http_port});
        ports.add({in.intercept_tls_port, in.intercept_tls_port});
    }
    for (auto pr : ports.ranges())
        services.elements.push_back({field_of(in.host_addr), field_of_port(pr.first, pr.last)});
    t.sets.push_back(std::move(services));
    t.sets.push_back(dns_set("link_dns_v4", Family::v4, {in.host_addr}));
    const Match from_link = eq(Field::meta_iif, in.ifindex);

    Chain pre{"nat_prerouting", ChainType::nat,      Hook::prerouting,
              kNatPriority,     VerdictCode::accept, {}};
    pre.rules.push_back(rule("link: to the host end",
                             {from_link, in_set({Field::ip_daddr}, "link_host_v4"), Counter{},
                              accept}));
    if (in.intercept) {
        t.sets.push_back(port_set("link_web_ports", in.web_ports));
        t.sets.push_back(port_set("link_tls_ports", in.intercept_tls_ports));
        pre.rules.push_back(rule("link: tls to squid's intercept port",
                                 {from_link, eq(Field::meta_nfproto, NFPROTO_IPV4),
                                  in_set({Field::tcp_dport}, "link_tls_ports"), Counter{},
                                  Redirect{in.intercept_tls_port}}));
        pre.rules.push_back(rule("link: web to squid's intercept port",
                                 {from_link, eq(Field::meta_nfproto, NFPROTO_IPV4),
                                  in_set({Field::tcp_dport}, "link_web_ports"), Counter{},
                                  Redirect{in.intercept_http_port}}));
    }
    Chain input{"filter_input", ChainType::filter, Hook::input, 0, VerdictCode::accept, {}};
    input.rules = {
        rule("link: established",
             {from_link, any_bit(Field::ct_state, kCtEstablished | kCtRelated), Counter{},
              accept}),
        rule("link: services",
             {from_link, in_set({Field::ip_daddr, Field::tcp_dport}, "link_services_v4"),
              Counter{}, accept}),
        rule("link: dns",
             {from_link,
              in_set({Field::ip_daddr, Field::meta_l4proto, Field::th_dport}, "link_dns_v4"),
              Counter{}, accept}),
        rule("link: anything else", {from_link, Counter{}, drop}),
    };
    Chain fwd{"filter_forward", ChainType::filter, Hook::forward, 0, VerdictCode::accept, {}};
    fwd.rules = {
        rule("link: nothing forwarded from it", {from_link, Counter{}, drop}),
        rule("link: nothing forwarded to it", {eq(Field::meta_oif, in.ifindex), Counter{}, drop}),
    };
    t.chains = {std::move(pre), std::move(input), std::move(fwd)};
    return t;
}

model::Table plan(const PlanInputs& in, std::string_view key) {
    if (in.proxy_role) return plan_proxy(in, key);
    Table t;
    t.name = in.table;
    t.comment = table_comment(in, key);

    std::vector<Cidr> nonunicast = {*Cidr::parse("169.254.0.0/16"), *Cidr::parse("224.0.0.0/4"),
                                    *Cidr::parse("255.255.255.255/32")};

    t.sets.push_back(addr_set("proxies_v4", Family::v4, in.proxies));
    t.sets.push_back(proxy_ports_set(in));
    t.sets.push_back(addr_set("gateways_v4", Family::v4, in.gateways));
    t.sets.push_back(addr_set("gateways_v6", Family::v6, in.gateways));
    t.sets.push_back(port_set("gateway_ports", in.gateway_ports));
    t.sets.push_back(dns_set("dns_v4", Family::v4, in.dns));
    t.sets.push_back(dns_set("dns_v6", Family::v6, in.dns));
    t.sets.push_back(port_set("web_ports", in.web_ports));
    t.sets.push_back(port_set("dangerous_ports", in.dangerous_ports));
    t.sets.push_back(cidr_set("nonunicast_v4", Family::v4, nonunicast));
    if (in.inbound == PlanInputs::InboundKind::sources) {
        t.sets.push_back(cidr_set("inbound_v4", Family::v4, in.inbound_sources));
        t.sets.push_back(cidr_set("inbound_v6", Family::v6, in.inbound_sources));
    }
    // Used by no rule here: which steered ports Squid's side treats as TLS (explain, dump).
    if (in.intercept) t.sets.push_back(port_set("intercept_tls_ports", in.intercept_tls_ports));

    const std::vector<Field> dns4 = {Field::ip_daddr, Field::meta_l4proto, Field::th_dport};
    const std::vector<Field> dns6 = {Field::ip6_daddr, Field::meta_l4proto, Field::th_dport};

    // NAT output: first match wins; everything exempt is accepted here (left untranslated) and
    // meets the filter chain's verdict.
    Chain nat{"nat_output", ChainType::nat, Hook::output, kNatPriority, VerdictCode::accept, {}};
    nat.rules = {
        rule("nat: loopback", {eq(Field::meta_oif, 1), Counter{}, accept}),
        rule("nat: local address", {eq(Field::fib_daddr_type, RTN_LOCAL), Counter{}, accept}),
        rule("nat: proxies", {in_set({Field::ip_daddr}, "proxies_v4"), Counter{}, accept}),
        rule("nat: host gateways", {in_set({Field::ip_daddr}, "gateways_v4"), Counter{}, accept}),
        rule("nat: dns", {in_set(dns4, "dns_v4"), Counter{}, accept}),
        rule("nat: link-local, multicast, broadcast",
             {in_set({Field::ip_daddr}, "nonunicast_v4"), Counter{}, accept}),
        rule("nat: subnet broadcast",
             {eq(Field::fib_daddr_type, RTN_BROADCAST), Counter{}, accept}),
        rule("nat: dangerous port",
             {in_set({Field::tcp_dport}, "dangerous_ports"), Counter{}, accept}),
        rule("nat: web to squid",
             {eq(Field::meta_nfproto, NFPROTO_IPV4), in_set({Field::tcp_dport}, "web_ports"),
              Counter{}, Dnat{in.squid, in.squid_port}}),
    };
    // Intercept mode: the same exemptions, first match wins, in a route chain; web traffic is
    // marked instead of translated, and the mark's route table sends it to Squid unchanged.
    Chain steer{"route_output", ChainType::route,    Hook::output,
                kRoutePriority, VerdictCode::accept, {}};
    if (in.intercept) {
        for (const auto& r : nat.rules) {
            if (r.comment == "nat: web to squid") continue;
            Rule x = r;
            x.comment = "steer: " + r.comment.substr(5);
            steer.rules.push_back(x);
        }
        steer.rules.push_back(rule("steer: web to squid", {eq(Field::meta_nfproto, NFPROTO_IPV4),
                                                           in_set({Field::tcp_dport}, "web_ports"),
                                                           Counter{}, MarkSet{kInterceptMark}}));
    }

    Chain out{"filter_output", ChainType::filter, Hook::output, 0, VerdictCode::drop, {}};
    // Steered packets leave only towards Squid, whatever state their connection is in: a route
    // changed under the policy (someone deleting the ip rule) must not send them anywhere else.
    if (in.intercept) {
        out.rules.push_back(rule("intercepted: squid is the next hop",
                                 {eq(Field::meta_mark, kInterceptMark),
                                  eq(Field::rt_nexthop4, u32_of(in.squid)), Counter{}, accept}));
        // Only TCP is marked; nft makes a tcp reset depend on l4proto tcp, and so does this.
        deny(out.rules, in, "intercepted off squid's route",
             {eq(Field::meta_l4proto, IPPROTO_TCP), eq(Field::meta_mark, kInterceptMark)},
             kPrefixTcp, Limit{10, 60, 20}, true);
    }
    for (auto& r : std::vector<Rule>{
             rule("established",
                  {any_bit(Field::ct_state, kCtEstablished | kCtRelated), Counter{}, accept}),
             rule("loopback", {eq(Field::meta_oif, 1), Counter{}, accept}),
             rule("local address", {eq(Field::fib_daddr_type, RTN_LOCAL), Counter{}, accept}),
         })
        out.rules.push_back(r);
    for (auto& nd : neighbour_discovery())
        out.rules.push_back(nd);
    out.rules.push_back(
        rule("proxies",
             {in_set({Field::ip_daddr, Field::tcp_dport}, "proxy_ports_v4"), Counter{}, accept}));
    out.rules.push_back(rule("dns", {in_set(dns4, "dns_v4"), Counter{}, accept}));
    out.rules.push_back(rule("dns ipv6", {in_set(dns6, "dns_v6"), Counter{}, accept}));
    out.rules.push_back(
        rule("host gateways", {in_set({Field::ip_daddr}, "gateways_v4"),
                               in_set({Field::tcp_dport}, "gateway_ports"), Counter{}, accept}));
    out.rules.push_back(rule("host gateways ipv6",
                             {in_set({Field::ip6_daddr}, "gateways_v6"),
                              in_set({Field::tcp_dport}, "gateway_ports"), Counter{}, accept}));
    deny(out.rules, in, "dangerous port", {in_set({Field::tcp_dport}, "dangerous_ports")},
         kPrefixDangerous, Limit{5, 60, 10}, true);
    deny(out.rules, in, "tcp", {eq(Field::meta_l4proto, IPPROTO_TCP)}, kPrefixTcp,
         Limit{10, 60, 20}, true);
    deny(out.rules, in, "udp", {eq(Field::meta_l4proto, IPPROTO_UDP)}, kPrefixUdp,
         Limit{10, 60, 20}, false);
    deny(out.rules, in, "other", {}, kPrefixOther, Limit{10, 60, 20}, false);

    Chain input{"filter_input", ChainType::filter, Hook::input, 0, VerdictCode::drop, {}};
    input.rules = {
        rule("established",
             {any_bit(Field::ct_state, kCtEstablished | kCtRelated), Counter{}, accept}),
        rule("loopback", {eq(Field::meta_iif, 1), Counter{}, accept}),
    };
    for (auto& nd : neighbour_discovery())
        input.rules.push_back(nd);
    switch (in.inbound) {
    case PlanInputs::InboundKind::any:
        input.rules.push_back(rule("inbound any", {Counter{}, accept}));
        break;
    case PlanInputs::InboundKind::sources:
        input.rules.push_back(
            rule("inbound", {in_set({Field::ip_saddr}, "inbound_v4"), Counter{}, accept}));
        input.rules.push_back(
            rule("inbound ipv6", {in_set({Field::ip6_saddr}, "inbound_v6"), Counter{}, accept}));
        [[fallthrough]];
    case PlanInputs::InboundKind::none:
        input.rules.push_back(rule("deny inbound", {Counter{}, drop}));
        break;
    }

    if (in.intercept)
        t.chains = {std::move(steer), std::move(out), std::move(input)};
    else
        t.chains = {std::move(nat), std::move(out), std::move(input)};
    return t;
}

} // namespace awf
