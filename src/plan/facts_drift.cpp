#include "awf/base/platform.hpp"

#include "awf/plan/facts_drift.hpp"

#include <algorithm>

namespace awf {

namespace {

template <typename T> bool contains(const std::vector<T>& v, const T& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// The gateways discovery would find now (policy.md: hosts file, then the default route),
// without its refusals: a public address here is reported, not an error.
std::vector<IpAddr> discoverable(const Facts& now) {
    std::vector<IpAddr> out = now.hosts_docker_internal;
    if (now.default_gateway_v4) out.push_back(*now.default_gateway_v4);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

} // namespace

std::vector<std::string> facts_drift(const PlanInputs& in, const Facts& now, bool hosts_file_read) {
    std::vector<std::string> out;
    if (in.gateways_discovered) {
        auto found = discoverable(now);
        for (const auto& g : found)
            if (!contains(in.gateways, g)) {
                bool route = now.default_gateway_v4 && *now.default_gateway_v4 == g;
                out.push_back(
                    (route ? "the default route now goes via " : "host.docker.internal is now ") +
                    g.str() + ", which is not a host gateway of the policy");
            }
        if (!now.default_gateway_v4) out.push_back("the namespace has no default IPv4 route now");
        if (hosts_file_read)
            for (const auto& g : in.gateways)
                if (!contains(found, g))
                    out.push_back("host gateway " + g.str() +
                                  " is neither the default route nor host.docker.internal now; "
                                  "it stays reachable on the host ports");
    }
    if (in.inbound == PlanInputs::InboundKind::sources && in.inbound_connected) {
        std::vector<Cidr> subnets;
        for (const auto& c : now.local_subnets)
            if (c.addr.is_v4() || in.ipv6 == Ipv6Mode::block) subnets.push_back(c);
        std::vector<Cidr> then = in.inbound_sources;
        std::vector<Cidr> folded = fold_prefixes(subnets);
        for (const auto& c : folded) {
            // The gateways were added as /32s; a subnet inside a recorded one is no change.
            bool covered = std::any_of(then.begin(), then.end(), [&](const Cidr& t) {
                return t.prefix <= c.prefix && t.contains(c.addr);
            });
            if (!covered)
                out.push_back("subnet " + c.str() +
                              " is connected now but was not at apply: its hosts are not "
                              "admitted inbound");
        }
        for (const auto& t : then) {
            bool host = t.prefix == (t.addr.is_v4() ? 32 : 128);
            if (host && contains(in.gateways, t.addr)) continue; // a gateway, not a subnet
            bool still = std::any_of(folded.begin(), folded.end(), [&](const Cidr& c) {
                return c.prefix <= t.prefix && c.contains(t.addr);
            });
            if (!still)
                out.push_back("subnet " + t.str() +
                              " was connected at apply but is not now: still admitted inbound");
        }
    }
    return out;
}

} // namespace awf
