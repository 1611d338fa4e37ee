// The egress policy of policy.md: every input validated and typed, nothing resolved against a
// namespace yet (names, discovered gateways and local subnets come from Facts).
#pragma once

#include "awf/policy/address.hpp"
#include "awf/policy/domains.hpp"
#include "awf/policy/port_spec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace awf {

enum class Ipv6Mode { disable, block };
enum class BlockedAction { reject, drop };
// sandbox: the agent's namespace. proxy: Squid's own, where intercepted traffic is redirected
// to Squid's intercept ports (policy.md, Transparent interception).
enum class Role { sandbox, proxy };

struct Inbound {
    enum class Kind { local, any, none, cidrs } kind = Kind::local;
    std::vector<Cidr> cidrs; // Kind::cidrs only
};

struct ProxyEndpoint {
    IpAddr addr;
    PortSet ports;
};

struct Policy {
    std::string squid_host = "172.30.0.10"; // an IPv4 literal or a name (resolved with Facts)
    uint16_t squid_port = 3128;
    std::vector<IpAddr> dns_servers;
    std::optional<IpAddr> doh_proxy;
    bool host_access = false;
    std::vector<IpAddr> host_gateways; // explicit: replaces discovery
    std::optional<IpAddr>
        fallback_gateway; // AWF_HOST_GATEWAY_IP: used when the hosts file has none
    PortSet allow_host_ports;
    PortSet host_service_ports;
    std::optional<ProxyEndpoint> api_proxy;
    std::optional<ProxyEndpoint> cli_proxy;
    PortSet dangerous_ports;
    Inbound inbound;
    Ipv6Mode ipv6 = Ipv6Mode::disable;
    BlockedAction blocked_action = BlockedAction::reject;
    std::optional<uint16_t> log_group = 1;
    std::string table = "awf";
    bool intercept = false;
    PortSet intercept_tls_ports = PortSet{{443, 443}};
    uint16_t intercept_http_port = 3129;
    uint16_t intercept_tls_port = 3130;
    Role role = Role::sandbox;
    // Squid's allowlist (squid-conf, run): names, not addresses, so not in the nft table.
    DomainLists domains;

    static Policy defaults();
};

PortSet default_dangerous_ports();

// What the namespace has, read by the facts layer; plain data so the planner stays pure.
struct Facts {
    std::vector<IpAddr> hosts_docker_internal; // from the target's hosts file
    std::optional<IpAddr> default_gateway_v4;  // gateway of the default IPv4 route
    std::vector<Cidr> local_subnets;           // directly connected (from interface addresses)
    std::optional<IpAddr> squid_resolved;      // when squid_host is a name
    bool squid_from_hosts_file = false;        // ... found in the target's (writable) hosts file
    // Addresses of awf-net's own namespace (the host's, for a hook, CNI or run): a hosts-file
    // address may name one of them, as Docker's host.docker.internal names docker0's address
    // from a container on another bridge. Read only when the hosts file supplied something.
    std::vector<IpAddr> host_addresses;
};

// The policy with everything a namespace decides filled in (plan_inputs.hpp derives what the
// planner consumes from it).
struct ResolvedPolicy {
    Policy policy;
    IpAddr squid;
    std::vector<IpAddr> gateways;      // empty when host access is off
    std::vector<Cidr> inbound_sources; // Kind::local or Kind::cidrs
    std::vector<IpAddr> dns;           // DoH proxy alone when set, else the DNS servers
    std::string digest_key;            // the host's key for the recorded digest; empty: none
};

// Pure: applies the discovery rules of policy.md (private ranges only, explicit replaces).
// Throws awf::Error (exit 2) when the policy cannot be resolved.
ResolvedPolicy resolve(const Policy& policy, const Facts& facts);

// Whether resolution needs to look at a namespace at all (--dry-run without a target).
bool needs_discovery(const Policy& policy);

} // namespace awf
