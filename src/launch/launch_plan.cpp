#include "awf/base/platform.hpp"

#include "awf/launch/launch_plan.hpp"

#include "awf/base/error.hpp"
#include "awf/base/text.hpp"

#include <algorithm>

namespace awf {

namespace {

uint32_t v4_number(const IpAddr& a) {
    return (uint32_t(a.bytes[0]) << 24) | (uint32_t(a.bytes[1]) << 16) |
           (uint32_t(a.bytes[2]) << 8) | uint32_t(a.bytes[3]);
}

IpAddr v4_of(uint32_t n) {
    return IpAddr::v4(uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n));
}

bool overlap(const Cidr& a, const Cidr& b) {
    if (a.addr.is_v4() != b.addr.is_v4()) return false;
    return a.prefix <= b.prefix ? a.contains(b.addr) : b.contains(a.addr);
}

} // namespace

void check_run_name(const std::string& name) {
    // The host's link is "awf" + NAME: 12 characters leave IFNAMSIZ room.
    bool ok =
        !name.empty() && name.size() <= 12 &&
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos &&
        name[0] != '-';
    if (!ok)
        throw input_error(
            "--name", printable(name),
            "expected 1-12 lower-case letters, digits and '-', not starting with '-'");
}

std::optional<Cidr> pick_link_subnet(const Cidr& pool, const std::vector<Cidr>& taken) {
    if (!pool.addr.is_v4() || pool.prefix > 30) return std::nullopt;
    uint32_t base = v4_number(pool.addr);
    uint64_t count = uint64_t(1) << (30 - pool.prefix);
    for (uint64_t i = 0; i < count; ++i) {
        Cidr c = Cidr::of(v4_of(base + uint32_t(i * 4)), 30);
        if (std::none_of(taken.begin(), taken.end(), [&](const Cidr& t) { return overlap(c, t); }))
            return c;
    }
    return std::nullopt;
}

LaunchPlan plan_launch(const std::string& name, const Cidr& subnet, const Policy& caller) {
    check_run_name(name);
    LaunchPlan p;
    p.name = name;
    p.netns = "awf-" + name;
    p.host_link = "awf" + name;
    p.subnet = subnet;
    uint32_t net = v4_number(subnet.addr);
    p.host_addr = v4_of(net + 1);
    p.sandbox_addr = v4_of(net + 2);
    p.dir = std::string(kRunStateDir) + "/" + name;
    p.sandbox_policy = caller;
    p.sandbox_policy.squid_host = p.host_addr.str();
    // The sandbox resolves through the host end (a forwarder there asks the real resolvers),
    // so the policy's only resolver is that address.
    p.sandbox_policy.dns_servers = {p.host_addr};
    p.sandbox_policy.doh_proxy.reset();
    return p;
}

std::string sandbox_resolv_conf(const LaunchPlan& plan) {
    return "# awf-net run " + plan.name + ": the resolver at the host end of the link\n" +
           "nameserver " + plan.host_addr.str() + "\noptions timeout:2 attempts:2\n";
}

std::string sandbox_hosts(const LaunchPlan& plan) {
    return "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" +
           plan.sandbox_addr.str() + " awf-" + plan.name + "\n" + plan.host_addr.str() +
           " host.docker.internal\n";
}

std::vector<std::string> resolver_domain_args(const DomainLists& lists,
                                              const std::vector<IpAddr>& upstream) {
    auto servers_for = [&](const std::string& suffix) {
        std::vector<std::string> out;
        if (upstream.empty()) out.push_back("--server=/" + suffix + "/#");
        for (const auto& a : upstream)
            out.push_back("--server=/" + suffix + "/" + a.str());
        return out;
    };
    std::vector<std::string> suffixes;
    for (const auto& d : lists.allow) {
        auto star = d.name.rfind('*');
        std::string suffix = d.name;
        if (star != std::string::npos) {
            auto dot = d.name.find('.', star);
            if (dot == std::string::npos) {
                // No fixed suffix: everything resolves, as without a list.
                std::vector<std::string> all;
                for (const auto& a : upstream)
                    all.push_back("--server=" + a.str());
                return all;
            }
            suffix = d.name.substr(dot + 1);
        }
        if (std::find(suffixes.begin(), suffixes.end(), suffix) == suffixes.end())
            suffixes.push_back(suffix);
    }
    std::vector<std::string> args;
    for (const auto& s : suffixes)
        for (auto& a : servers_for(s))
            args.push_back(std::move(a));
    for (const auto& d : lists.block)
        if (!d.wildcard() && d.scheme == Scheme::any) args.push_back("--address=/" + d.name + "/");
    args.push_back("--address=/#/");
    return args;
}

std::vector<std::pair<std::string, std::string>> proxy_environment(const LaunchPlan& plan) {
    const std::string url =
        "http://" + plan.host_addr.str() + ":" + std::to_string(plan.sandbox_policy.squid_port);
    const std::string none = "localhost,127.0.0.1";
    return {{"HTTP_PROXY", url},  {"HTTPS_PROXY", url}, {"http_proxy", url},
            {"https_proxy", url}, {"NO_PROXY", none},   {"no_proxy", none}};
}

} // namespace awf
