// facts: what the target namespace has (default route gateway and connected subnets over
// rtnetlink, its hosts file). Runs inside the target namespace.
#pragma once

#include "awf/netlink_socket.hpp"
#include "awf/netns.hpp"
#include "awf/policy.hpp"

namespace awf {

std::optional<IpAddr> default_gateway_v4(NetlinkSocket& route);
std::vector<Cidr> connected_subnets(NetlinkSocket& route);

// Everything resolve() needs for this policy. `route` must be opened in the target namespace;
// hosts files are read through the paths of `target` (cli.md).
Facts gather_facts(const Policy& policy, const Target& target, NetlinkSocket& route);

} // namespace awf
