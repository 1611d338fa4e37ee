// The one-line `awf-net run` (run.md): the sandbox awf-net builds itself when no TARGET is
// given. Pure: from the run's name, the address pool and what is already taken on the host,
// everything the launcher will make (names, addresses, files' text, the sandbox's policy), so
// that it is decided, printed and unit-tested before anything changes in the kernel.
#pragma once

#include "awf/policy/policy.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

inline constexpr const char* kRunStateDir = "/run/awf-net/runs"; // one directory per live run
inline constexpr const char* kDefaultRunPool = "10.213.0.0/16";

// NAME of --name: what a network namespace file, a link name suffix and a directory can hold.
// Throws input_error("--name", ...) otherwise.
void check_run_name(const std::string& name);

// The first /30 of `pool` that overlaps nothing in `taken` (the host's routes and addresses,
// other live runs' links); nullopt when the pool is full.
std::optional<Cidr> pick_link_subnet(const Cidr& pool, const std::vector<Cidr>& taken);

struct LaunchPlan {
    std::string name;      // --name, or generated
    std::string netns;     // awf-NAME, under /run/netns while the run lives
    std::string host_link; // the host's end of the veth pair (at most 15 characters)
    std::string sandbox_link = "eth0";
    Cidr subnet;           // a /30
    IpAddr host_addr;      // .1: the sandbox's gateway, Squid and its resolver listen here
    IpAddr sandbox_addr;   // .2: where the host reaches a server inside the sandbox
    std::string dir;       // kRunStateDir/NAME: state, Squid's config and logs
    Policy sandbox_policy; // the caller's policy with Squid and DNS pointed at the host end
};

// `name` checked; `subnet` a /30 from pick_link_subnet.
LaunchPlan plan_launch(const std::string& name, const Cidr& subnet, const Policy& caller);

// The sandbox's /etc/resolv.conf and /etc/hosts (bound over the host's for COMMAND).
std::string sandbox_resolv_conf(const LaunchPlan& plan);
std::string sandbox_hosts(const LaunchPlan& plan);

// The resolver's (dnsmasq's) arguments that make it answer only names the allowlist could
// admit: each pattern's fixed suffix (github.com for github.com, *.github.com and
// api-*.github.com) is forwarded to `upstream` (empty: the host's own resolvers), a blocked
// name and every other name get NXDOMAIN, so DNS carries nothing to a name off the list. A
// pattern without a fixed suffix (github.*) leaves every name resolvable.
std::vector<std::string> resolver_domain_args(const DomainLists& lists,
                                              const std::vector<IpAddr>& upstream);

// What COMMAND's environment gains: the proxy variables, upper and lower case.
std::vector<std::pair<std::string, std::string>> proxy_environment(const LaunchPlan& plan);

} // namespace awf
