// What the planner needs, and nothing the kernel cannot give back: the effective port sets,
// the proxies' endpoints, gateways, resolvers and modes. The digest in the table's userdata is
// taken over these, so `dump` can read them back from the sets and rules, check the digest,
// plan again and show any difference (tampering).
#pragma once

#include "awf/plan/model.hpp"
#include "awf/policy/policy.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

struct ProxyPorts {
    IpAddr addr;
    PortSet ports;
    bool operator==(const ProxyPorts&) const = default;
};

struct PlanInputs {
    enum class InboundKind { sources, any, none };

    std::string table = "awf";
    IpAddr squid;
    uint16_t squid_port = 3128;
    std::vector<IpAddr> proxies;         // exempt from DNAT on every port (Squid, API, CLI, DoH)
    std::vector<ProxyPorts> proxy_ports; // TCP accepted: Squid's port, the API and CLI proxies'
    std::vector<IpAddr> dns;             // resolvers (or the DoH proxy alone), IPv4 and IPv6
    std::vector<IpAddr> gateways;        // host gateways, IPv4 and IPv6 (empty: no host access)
    PortSet gateway_ports;               // TCP reachable directly on the gateways
    PortSet web_ports;                   // TCP DNAT'd to Squid
    PortSet dangerous_ports;
    InboundKind inbound = InboundKind::sources;
    std::vector<Cidr> inbound_sources;
    BlockedAction blocked_action = BlockedAction::reject;
    std::optional<uint16_t> log_group = 1;
    // Neither the rules nor the sets show these three; `verify` finds them from the digest.
    Ipv6Mode ipv6 = Ipv6Mode::disable;
    // Which inputs came from the namespace rather than the policy: `dump` compares them with
    // what the namespace has now (facts_drift.hpp).
    bool gateways_discovered = false; // the host gateways (default route, hosts file)
    bool inbound_connected = false;   // the inbound sources (connected subnets and gateways)

    // Transparent interception. The sandbox side steers web_ports to Squid as next hop and
    // records which of them are TLS; the proxy side (role proxy) plans only the redirect to
    // Squid's intercept ports, from web_ports and the fields below.
    bool intercept = false;
    bool proxy_role = false;
    PortSet intercept_tls_ports;
    uint16_t intercept_http_port = 0; // proxy side only
    uint16_t intercept_tls_port = 0;  // proxy side only

    std::string canonical() const;
    // sha256 hex of canonical(); with the host's key, HMAC-SHA256 (see planner.hpp).
    std::string digest(std::string_view key = {}) const;
    bool operator==(const PlanInputs&) const = default;
};

// Sorted, with every prefix that lies inside another listed prefix dropped: such a prefix adds
// nothing to an interval set, and the kernel gives the folded list back.
std::vector<Cidr> fold_prefixes(std::vector<Cidr> v);

// policy.md semantics: dangerous ports out of the web ports, DoH replaces the resolvers, ...
// Every list sorted and deduplicated, so equal policies give equal inputs.
PlanInputs derive(const ResolvedPolicy& r);

// From a table lifted out of the kernel; nullopt when a set or rule the planner always makes
// is missing. `ipv6` is supplied by the caller (the rules are the same in both modes).
std::optional<PlanInputs> recover(const model::Table& table, Ipv6Mode ipv6);

} // namespace awf
