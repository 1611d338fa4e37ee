#include "awf/base/platform.hpp"

#include "awf/kernel/policy_routing.hpp"

#include "awf/kernel/netlink_attrs.hpp"
#include "awf/plan/planner.hpp"

#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

namespace awf {

namespace {

struct Message {
    std::vector<char> buf = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh;
    Message(uint16_t type, uint16_t flags, uint32_t seq) {
        nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        nlh->nlmsg_seq = seq;
    }
};

std::optional<IpAddr> v4_of(const nlattr* a) {
    if (mnl_attr_get_payload_len(a) != 4) return std::nullopt;
    IpAddr ip = IpAddr::v4(0, 0, 0, 0);
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), 4);
    return ip;
}

// A route of the table as the kernel keeps it: RTA_TABLE carries the 32-bit id.
uint32_t table_of(const nlmsghdr* nlh) {
    auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    uint32_t table = rtm->rtm_table;
    for_each_attr(nlh, sizeof(rtmsg), [&](const nlattr* a) {
        if (mnl_attr_get_type(a) == RTA_TABLE && mnl_attr_get_payload_len(a) == 4)
            table = mnl_attr_get_u32(a);
    });
    return table;
}

void rule_message(Message& m) {
    auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(m.nlh, sizeof(fib_rule_hdr)));
    frh->family = AF_INET;
    frh->action = FR_ACT_TO_TBL;
    mnl_attr_put_u32(m.nlh, FRA_FWMARK, kInterceptMark);
    mnl_attr_put_u32(m.nlh, FRA_FWMASK, 0xffffffff);
    mnl_attr_put_u32(m.nlh, FRA_TABLE, kInterceptTable);
    mnl_attr_put_u32(m.nlh, FRA_PRIORITY, kInterceptRulePriority);
}

void route_message(Message& m, const Steering* s) {
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(m.nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    rtm->rtm_table = RT_TABLE_UNSPEC;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(m.nlh, RTA_TABLE, kInterceptTable);
    if (s && s->via) {
        mnl_attr_put(m.nlh, RTA_GATEWAY, 4, s->via->bytes.data());
        mnl_attr_put_u32(m.nlh, RTA_OIF, static_cast<uint32_t>(s->oif));
    }
}

void expect_ok(int err, const char* what, std::initializer_list<int> tolerated) {
    if (err == 0) return;
    for (int t : tolerated)
        if (err == t) return;
    throw Error(ExitCode::kernel_refused, what, std::strerror(err));
}

} // namespace

Steering read_steering(NetlinkSocket& route) {
    Steering s;
    uint32_t seq = route.next_seq();
    {
        Message m(RTM_GETRULE, NLM_F_DUMP, seq);
        auto* frh =
            static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(m.nlh, sizeof(fib_rule_hdr)));
        frh->family = AF_INET;
        route.dump(m.buf.data(), m.nlh->nlmsg_len, seq, [&](const nlmsghdr* nlh) {
            uint32_t mark = 0, mask = 0, table = 0;
            for_each_attr(nlh, sizeof(fib_rule_hdr), [&](const nlattr* a) {
                if (mnl_attr_get_payload_len(a) != 4) return;
                switch (mnl_attr_get_type(a)) {
                case FRA_FWMARK:
                    mark = mnl_attr_get_u32(a);
                    break;
                case FRA_FWMASK:
                    mask = mnl_attr_get_u32(a);
                    break;
                case FRA_TABLE:
                    table = mnl_attr_get_u32(a);
                    break;
                }
            });
            if (mark == kInterceptMark && mask == 0xffffffff && table == kInterceptTable)
                s.rule = true;
        });
    }
    seq = route.next_seq();
    Message m(RTM_GETROUTE, NLM_F_DUMP, seq);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(m.nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    route.dump(m.buf.data(), m.nlh->nlmsg_len, seq, [&](const nlmsghdr* nlh) {
        auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
        if (table_of(nlh) != kInterceptTable || r->rtm_dst_len != 0) return;
        for_each_attr(nlh, sizeof(rtmsg), [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == RTA_GATEWAY) s.via = v4_of(a);
            if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == 4)
                s.oif = static_cast<int>(mnl_attr_get_u32(a));
        });
    });
    char name[IF_NAMESIZE] = {};
    if (s.oif) s.dev = ::if_indextoname(static_cast<unsigned>(s.oif), name) ? name : "";
    return s;
}

Steering read_steering_in(const Target& target) {
    if (target.empty()) {
        NetlinkSocket route(NETLINK_ROUTE);
        return read_steering(route);
    }
    NamespaceHandle ns = NamespaceHandle::open(target);
    NamespaceScope in(ns);
    NetlinkSocket route(NETLINK_ROUTE);
    return read_steering(route);
}

int onlink_interface(NetlinkSocket& route, const IpAddr& squid) {
    uint32_t seq = route.next_seq();
    Message m(RTM_GETROUTE, NLM_F_DUMP, seq);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(m.nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    int best_oif = 0, best_len = -1;
    route.dump(m.buf.data(), m.nlh->nlmsg_len, seq, [&](const nlmsghdr* nlh) {
        auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
        if (table_of(nlh) != RT_TABLE_MAIN || r->rtm_type != RTN_UNICAST ||
            r->rtm_scope != RT_SCOPE_LINK)
            return;
        std::optional<IpAddr> dst = IpAddr::v4(0, 0, 0, 0);
        int oif = 0;
        bool gateway = false;
        for_each_attr(nlh, sizeof(rtmsg), [&](const nlattr* a) {
            switch (mnl_attr_get_type(a)) {
            case RTA_DST:
                dst = v4_of(a);
                break;
            case RTA_OIF:
                if (mnl_attr_get_payload_len(a) == 4) oif = static_cast<int>(mnl_attr_get_u32(a));
                break;
            case RTA_GATEWAY:
                gateway = true;
                break;
            }
        });
        if (!dst || gateway || !oif || r->rtm_dst_len > 32) return;
        if (Cidr::of(*dst, r->rtm_dst_len).contains(squid) && r->rtm_dst_len > best_len) {
            best_len = r->rtm_dst_len;
            best_oif = oif;
        }
    });
    if (!best_oif)
        throw Error(ExitCode::invalid_input, "--intercept",
                    "\"" + squid.str() +
                        "\": Squid is not on a network of the target (no connected route "
                        "to it); intercept hands packets to Squid as the next hop, so it must "
                        "share the sandbox's network");
    return best_oif;
}

void set_steering(NetlinkSocket& route, const Steering& want) {
    Steering have = read_steering(route);
    // The route first, then the rule: a rule without its route would send marked packets to
    // an empty table (unreachable), never around the policy, but is still a broken state.
    if (want.via && (have.via != want.via || have.oif != want.oif)) {
        Message m(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, route.next_seq());
        route_message(m, &want);
        expect_ok(route.request(m.nlh), "policy routing: route table", {});
    }
    if (want.rule && !have.rule) {
        Message m(RTM_NEWRULE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, route.next_seq());
        rule_message(m);
        expect_ok(route.request(m.nlh), "policy routing: ip rule", {EEXIST});
    }
    if (!want.rule && have.rule) {
        Message m(RTM_DELRULE, NLM_F_ACK, route.next_seq());
        rule_message(m);
        expect_ok(route.request(m.nlh), "policy routing: ip rule", {ENOENT});
    }
    if (!want.via && have.via) {
        Message m(RTM_DELROUTE, NLM_F_ACK, route.next_seq());
        route_message(m, nullptr);
        expect_ok(route.request(m.nlh), "policy routing: route table", {ESRCH, ENOENT});
    }
}

std::string describe(const Steering& s) {
    std::string out;
    if (s.rule)
        out += "ip rule fwmark 0x" +
               [] {
                   char b[9];
                   std::snprintf(b, sizeof b, "%x", kInterceptMark);
                   return std::string(b);
               }() +
               " lookup " + std::to_string(kInterceptTable);
    if (s.via) {
        std::string dev = s.dev.empty() ? "#" + std::to_string(s.oif) : s.dev;
        out += (out.empty() ? "" : "; ") + std::string("table ") + std::to_string(kInterceptTable) +
               ": default via " + s.via->str() + " dev " + dev;
    }
    return out.empty() ? "none" : out;
}

std::vector<std::string> steering_differences(const Steering& have, const IpAddr& squid) {
    std::vector<std::string> d;
    if (!have.rule)
        d.push_back("policy routing: the ip rule for the intercept mark is missing (steered "
                    "traffic is refused)");
    if (!have.via)
        d.push_back("policy routing: route table " + std::to_string(kInterceptTable) +
                    " has no route to Squid (steered traffic is refused)");
    else if (*have.via != squid)
        d.push_back("policy routing: route table " + std::to_string(kInterceptTable) +
                    " sends steered traffic via " + have.via->str() + ", not Squid at " +
                    squid.str() + " (the filter refuses it)");
    return d;
}

} // namespace awf
