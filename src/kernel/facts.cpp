#include "awf/base/platform.hpp"

#include "awf/kernel/facts.hpp"

#include "awf/base/error.hpp"
#include "awf/base/file.hpp"
#include "awf/kernel/netlink_attrs.hpp"
#include "awf/policy/hosts_file.hpp"

#include <algorithm>
#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netdb.h>
#include <sys/socket.h>

namespace awf {

namespace {

std::vector<char> dump_request(uint16_t type, uint8_t family, uint32_t seq, size_t payload) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq;
    auto* hdr = static_cast<uint8_t*>(mnl_nlmsg_put_extra_header(nlh, payload));
    hdr[0] = family; // rtm_family and ifa_family are both the first byte
    buf.resize(nlh->nlmsg_len);
    return buf;
}

std::optional<IpAddr> addr_from(const nlattr* a, uint8_t family) {
    IpAddr ip;
    ip.family = family == AF_INET ? Family::v4 : Family::v6;
    if (mnl_attr_get_payload_len(a) != ip.size()) return std::nullopt;
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), ip.size());
    return ip;
}

} // namespace

std::optional<IpAddr> default_gateway_v4(NetlinkSocket& route) {
    uint32_t seq = route.next_seq();
    auto req = dump_request(RTM_GETROUTE, AF_INET, seq, sizeof(rtmsg));
    std::optional<IpAddr> gw;
    route.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
        if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
            return;
        uint32_t table = rtm->rtm_table;
        std::optional<IpAddr> via;
        for_each_attr(nlh, sizeof(*rtm), [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == RTA_TABLE) table = mnl_attr_get_u32(a);
            if (mnl_attr_get_type(a) == RTA_GATEWAY) via = addr_from(a, AF_INET);
        });
        if (table == RT_TABLE_MAIN && via && !gw) gw = via;
    });
    return gw;
}

std::vector<Cidr> routed_prefixes_v4(NetlinkSocket& route) {
    uint32_t seq = route.next_seq();
    auto req = dump_request(RTM_GETROUTE, AF_INET, seq, sizeof(rtmsg));
    std::vector<Cidr> out;
    route.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
        // The default route is everything: not a prefix a new link could collide with.
        if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len == 0) return;
        for_each_attr(nlh, sizeof(*rtm), [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == RTA_DST)
                if (auto d = addr_from(a, AF_INET)) out.push_back(Cidr::of(*d, rtm->rtm_dst_len));
        });
    });
    return out;
}

std::vector<InterfaceAddress> interface_addresses(NetlinkSocket& route) {
    uint32_t seq = route.next_seq();
    auto req = dump_request(RTM_GETADDR, AF_UNSPEC, seq, sizeof(ifaddrmsg));
    std::vector<InterfaceAddress> out;
    route.dump(req.data(), req.size(), seq, [&](const nlmsghdr* nlh) {
        auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
        if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return;
        InterfaceAddress ia;
        ia.prefix = ifa->ifa_prefixlen;
        ia.host_scope = ifa->ifa_scope == RT_SCOPE_HOST;
        bool have_local = false;
        for_each_attr(nlh, sizeof(*ifa), [&](const nlattr* a) {
            // IFA_LOCAL is our own address; IFA_ADDRESS is the peer on point-to-point links
            // and the same address otherwise, so it names the directly reachable subnet.
            if (mnl_attr_get_type(a) == IFA_LOCAL) {
                if (auto x = addr_from(a, ifa->ifa_family)) ia.local = *x, have_local = true;
            } else if (mnl_attr_get_type(a) == IFA_ADDRESS) {
                if (auto x = addr_from(a, ifa->ifa_family)) ia.address = *x;
            }
        });
        if (!have_local) ia.local = ia.address; // IPv6 reports IFA_ADDRESS only
        out.push_back(ia);
    });
    return out;
}

std::vector<Cidr> connected_subnets(NetlinkSocket& route) {
    std::vector<Cidr> out;
    for (const auto& ia : interface_addresses(route)) {
        // Loopback's host-scope addresses are covered by the loopback rule.
        if (ia.host_scope) continue;
        Cidr c = Cidr::of(ia.address, ia.prefix);
        if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
    return out;
}

Facts gather_facts(const Policy& policy, const Target& target, NetlinkSocket& route) {
    Facts f;
    std::string hosts;
    HostsFile where = target.default_hosts_file();
    if (!where.path.empty()) hosts = read_hosts_file(where);
    if (policy.host_access && policy.host_gateways.empty()) {
        f.hosts_docker_internal = hosts_lookup(hosts, "host.docker.internal");
        f.default_gateway_v4 = default_gateway_v4(route);
    }
    if (policy.inbound.kind == Inbound::Kind::local) f.local_subnets = connected_subnets(route);
    if (!IpAddr::parse(policy.squid_host)) {
        for (const auto& a : hosts_lookup(hosts, policy.squid_host))
            if (a.is_v4()) {
                f.squid_resolved = a;
                f.squid_from_hosts_file = true;
                break;
            }
    }
    // What a hosts-file address is checked against (resolve()): the subnets and gateway this
    // namespace has; the host's own addresses are read by the caller, outside it.
    if (!f.hosts_docker_internal.empty() || f.squid_from_hosts_file) {
        if (f.local_subnets.empty()) f.local_subnets = connected_subnets(route);
        if (!f.default_gateway_v4) f.default_gateway_v4 = default_gateway_v4(route);
    }
    return f;
}

ObservedFacts observe_facts(const Target& target) {
    auto observe = [&] {
        ObservedFacts o;
        NetlinkSocket route(NETLINK_ROUTE);
        o.facts.default_gateway_v4 = default_gateway_v4(route);
        o.facts.local_subnets = connected_subnets(route);
        HostsFile where = target.default_hosts_file();
        if (!where.path.empty())
            if (auto hosts = read_regular_file(where, 1 << 20, ExitCode::target,
                                               "hosts file " + where.describe())) {
                o.hosts_file_read = true;
                o.facts.hosts_docker_internal = hosts_lookup(*hosts, "host.docker.internal");
            }
        return o;
    };
    if (target.empty()) return observe();
    NamespaceHandle ns = NamespaceHandle::open(target);
    NamespaceScope in(ns);
    return observe();
}

} // namespace awf
