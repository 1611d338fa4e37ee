// facts: what the target namespace has (default route gateway and connected subnets over
// rtnetlink, its hosts file). Runs inside the target namespace.
#pragma once

#include "awf/kernel/netlink_socket.hpp"
#include "awf/kernel/netns.hpp"
#include "awf/policy/policy.hpp"

namespace awf {

std::optional<IpAddr> default_gateway_v4(NetlinkSocket& route);

struct InterfaceAddress {
    IpAddr local;   // the namespace's own address
    IpAddr address; // the peer on point-to-point links, else the same as `local`
    uint8_t prefix = 0;
    bool host_scope = false; // loopback's 127.0.0.1/8, ::1
};
std::vector<InterfaceAddress> interface_addresses(NetlinkSocket& route);
std::vector<Cidr> connected_subnets(NetlinkSocket& route);
// Every IPv4 destination prefix of every routing table but the default route's (a new link's
// subnet must overlap none of them).
std::vector<Cidr> routed_prefixes_v4(NetlinkSocket& route);

// Everything resolve() needs for this policy. `route` must be opened in the target namespace;
// hosts files are read through the paths of `target` (cli.md).
Facts gather_facts(const Policy& policy, const Target& target, NetlinkSocket& route);

// Everything discovery could use, read now (for `dump`: what changed since apply). Enters the
// target's namespace when there is one.
struct ObservedFacts {
    Facts facts;
    bool hosts_file_read = false;
};
ObservedFacts observe_facts(const Target& target);

} // namespace awf
