#include "awf/base/platform.hpp"

#include "awf/policy/policy.hpp"

#include "awf/base/error.hpp"

#include <algorithm>

namespace awf {

PortSet default_dangerous_ports() {
    PortSet s;
    for (uint16_t p :
         {22, 23, 25, 110, 143, 445, 1433, 1521, 3306, 3389, 5432, 6379, 27017, 27018, 28017})
        s.add({p, p});
    return s;
}

Policy Policy::defaults() {
    Policy p;
    p.dns_servers = {IpAddr::v4(8, 8, 8, 8), IpAddr::v4(8, 8, 4, 4)};
    p.dangerous_ports = default_dangerous_ports();
    return p;
}

bool needs_discovery(const Policy& p) {
    return (p.host_access && p.host_gateways.empty()) || p.inbound.kind == Inbound::Kind::local ||
           !IpAddr::parse(p.squid_host).has_value();
}

namespace {

template <typename T> void add_unique(std::vector<T>& v, const T& x) {
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// The container writes its own hosts file: an address found there must be one the sandbox
// could reach anyway (a subnet it is connected to, its default gateway) or one of the host's
// own, never an arbitrary private host elsewhere on the operator's network.
bool within_reach(const IpAddr& a, const Facts& f) {
    if (f.default_gateway_v4 && *f.default_gateway_v4 == a) return true;
    if (std::find(f.host_addresses.begin(), f.host_addresses.end(), a) != f.host_addresses.end())
        return true;
    return std::any_of(f.local_subnets.begin(), f.local_subnets.end(),
                       [&](const Cidr& c) { return c.contains(a); });
}

void check_reach(const std::string& field, const std::string& shown, const IpAddr& a,
                 const Facts& f, const char* override_flag) {
    if (!within_reach(a, f))
        throw input_error(field, shown,
                          std::string("found in the target's hosts file but on no subnet of the "
                                      "target, not its default gateway and not an address of "
                                      "this host; pass ") +
                              override_flag + " to override");
}

std::vector<IpAddr> discover_gateways(const Policy& p, const Facts& f) {
    std::vector<IpAddr> found;
    for (const auto& a : f.hosts_docker_internal)
        if (is_private(a)) check_reach("host gateway discovery", a.str(), a, f, "--host-gateway");
    std::vector<IpAddr> candidates = f.hosts_docker_internal;
    if (candidates.empty() && p.fallback_gateway) candidates.push_back(*p.fallback_gateway);
    if (f.default_gateway_v4) candidates.push_back(*f.default_gateway_v4);
    for (const auto& a : candidates) {
        // A container can write its own hosts file: an attacker-chosen public address must
        // never become an exemption.
        if (!is_private(a))
            throw input_error("host gateway discovery", a.str(),
                              "not in a private range; pass --host-gateway to override");
        add_unique(found, a);
    }
    if (found.empty())
        throw Error(ExitCode::invalid_input, "host gateway discovery",
                    "no host.docker.internal in the hosts file and no default route; pass "
                    "--host-gateway");
    return found;
}

} // namespace

ResolvedPolicy resolve(const Policy& p, const Facts& f) {
    ResolvedPolicy r;
    r.policy = p;
    if (auto lit = IpAddr::parse(p.squid_host)) {
        r.squid = *lit;
    } else if (f.squid_resolved) {
        r.squid = *f.squid_resolved;
        // The same rule as for discovered gateways: the container may write that file.
        if (f.squid_from_hosts_file && !is_private(r.squid))
            throw input_error("--squid", p.squid_host + " -> " + r.squid.str(),
                              "found in the target's hosts file but not in a private range; give "
                              "an address");
        if (f.squid_from_hosts_file)
            check_reach("--squid", p.squid_host + " -> " + r.squid.str(), r.squid, f,
                        "an address with --squid");
    } else {
        throw input_error("--squid", p.squid_host, "name not found");
    }
    if (!r.squid.is_v4()) throw input_error("--squid", p.squid_host, "Squid must be IPv4");

    if (p.host_access) {
        if (!p.host_gateways.empty()) {
            for (const auto& g : p.host_gateways)
                add_unique(r.gateways, g);
        } else {
            r.gateways = discover_gateways(p, f);
        }
    }
    if (!p.host_service_ports.empty() && !p.host_access)
        throw input_error("--allow-host-service-ports", p.host_service_ports.str(),
                          "requires --enable-host-access");

    switch (p.inbound.kind) {
    case Inbound::Kind::local:
        // In disable mode the last step removes every IPv6 address; planning with them would
        // make the next apply of the same policy see different facts and replace the table.
        for (const auto& c : f.local_subnets)
            if (c.addr.is_v4() || p.ipv6 == Ipv6Mode::block) add_unique(r.inbound_sources, c);
        for (const auto& g : r.gateways)
            add_unique(r.inbound_sources, Cidr::of(g, g.is_v4() ? 32 : 128));
        break;
    case Inbound::Kind::cidrs:
        r.inbound_sources = p.inbound.cidrs;
        break;
    default:
        break;
    }
    if (p.doh_proxy)
        r.dns = {*p.doh_proxy};
    else {
        // Sorted and unique: thousands of resolvers must not cost a quadratic scan.
        r.dns = p.dns_servers;
        std::sort(r.dns.begin(), r.dns.end());
        r.dns.erase(std::unique(r.dns.begin(), r.dns.end()), r.dns.end());
    }
    return r;
}

} // namespace awf
