// Intercept mode's policy routing in the sandbox's namespace (rtnetlink): an ip rule sends
// packets marked kInterceptMark to route table kInterceptTable, whose one route is Squid as the
// on-link next hop. Created before the nftables commit that starts marking (until then it is
// inert), removed after a commit that stops it, and put back as it was when a commit fails.
// Runs in whatever namespace the socket was opened in.
#pragma once

#include "awf/kernel/netlink_socket.hpp"
#include "awf/kernel/netns.hpp"
#include "awf/policy/address.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

struct Steering {
    bool rule = false;         // ip rule fwmark kInterceptMark lookup kInterceptTable
    std::optional<IpAddr> via; // table kInterceptTable: default via ADDR ...
    int oif = 0;               // ... dev (ifindex)
    std::string dev;           // its name, as read (for people)
    bool operator==(const Steering& o) const {
        return rule == o.rule && via == o.via && oif == o.oif;
    }
    bool empty() const { return !rule && !via; }
};

Steering read_steering(NetlinkSocket& route);
// The same, entering the target's namespace (awf-net's own when empty).
Steering read_steering_in(const Target& target);

// The interface Squid is directly connected on; throws (exit 2) when Squid is not on-link:
// packets can only be handed to it unchanged as a next hop on a shared network.
int onlink_interface(NetlinkSocket& route, const IpAddr& squid);

// Makes the state exactly `want` (an empty `want` removes both).
void set_steering(NetlinkSocket& route, const Steering& want);

// For dump: what differs from the steering towards `squid` that intercept mode needs.
std::vector<std::string> steering_differences(const Steering& have, const IpAddr& squid);
std::string describe(const Steering& s);

} // namespace awf
