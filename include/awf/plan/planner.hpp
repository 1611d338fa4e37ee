// plan: resolved policy -> ruleset model. Pure: no kernel, no files, no clock.
#pragma once

#include "awf/plan/model.hpp"
#include "awf/plan/plan_inputs.hpp"
#include "awf/policy/policy.hpp"

#include <string>

namespace awf {

// The DNS port, the web ports every policy redirects, and the log prefixes of the old script
// (existing log searches depend on them).
inline constexpr uint16_t kDnsPort = 53;
inline constexpr const char* kPrefixDangerous = "[FW_BLOCKED_DANGEROUS_PORT] ";
inline constexpr const char* kPrefixTcp = "[FW_BLOCKED_TCP] ";
inline constexpr const char* kPrefixUdp = "[FW_BLOCKED_UDP_AGENT] ";
inline constexpr const char* kPrefixOther = "[FW_BLOCKED_OTHER] ";

// Intercept mode: steered packets carry this mark ("awf" in ASCII), and an ip rule sends the
// mark to the route table of the same number, whose one route is Squid as the next hop.
inline constexpr uint32_t kInterceptMark = 0x617766;
inline constexpr uint32_t kInterceptTable = 0x617766;
inline constexpr uint32_t kInterceptRulePriority = 100; // before the main table (32766)
inline constexpr int32_t kRoutePriority = -150;         // nft's "mangle"

// "awf-net VERSION sha256:DIGEST", and its reading (nullopt when not in that shape).
// With the host's key (a root-only secret, host_key.hpp) the digest is an HMAC, "hmac-sha256:":
// whoever can edit the table's sets cannot compute the digest that would make it verify.
// Without one (tests, a dry run without root) it is a plain "sha256:".
std::string table_comment(const PlanInputs& in, std::string_view key = {});
struct Recorded {
    std::string version;
    std::string digest;
    bool keyed = false;
};
std::optional<Recorded> parse_table_comment(const std::string& comment);

// The wall on the host's end of a sandbox's link (run.md), in the namespace awf-net runs in:
// from that link only the services at the link's own address (Squid's ports, the resolver,
// host ports the policy allows) and replies; nothing forwarded from or to it; with
// interception, web traffic to anywhere else redirected to Squid's intercept ports. Every rule
// matches the link's interface, so nothing else of the host's traffic meets it.
struct HostLinkInputs {
    std::string table;
    uint32_t ifindex = 0; // the host's end of the link
    IpAddr host_addr;     // its address: the sandbox's gateway, where Squid and DNS listen
    PortSet services;     // TCP ports accepted at host_addr (Squid's, allowed host ports)
    bool intercept = false;
    PortSet web_ports;           // redirected to intercept_http_port
    PortSet intercept_tls_ports; // redirected to intercept_tls_port (a subset of web_ports)
    uint16_t intercept_http_port = 3129;
    uint16_t intercept_tls_port = 3130;
};
model::Table plan_host_link(const HostLinkInputs& in);

model::Table plan(const PlanInputs& in, std::string_view key = {});
inline model::Table plan(const ResolvedPolicy& r) {
    return plan(derive(r), r.digest_key);
}

} // namespace awf
