// plan: resolved policy -> ruleset model. Pure: no kernel, no files, no clock.
#pragma once

#include "awf/model.hpp"
#include "awf/policy.hpp"

#include <string>

namespace awf {

// The DNS port, the web ports every policy redirects, and the log prefixes of the old script
// (existing log searches depend on them).
inline constexpr uint16_t kDnsPort = 53;
inline constexpr const char* kPrefixDangerous = "[FW_BLOCKED_DANGEROUS_PORT] ";
inline constexpr const char* kPrefixTcp = "[FW_BLOCKED_TCP] ";
inline constexpr const char* kPrefixUdp = "[FW_BLOCKED_UDP_AGENT] ";
inline constexpr const char* kPrefixOther = "[FW_BLOCKED_OTHER] ";

// The ports DNAT'd to Squid: 80, 443 and allow-host-ports, less the dangerous ones.
PortSet web_ports(const Policy& p);
// TCP ports reachable directly on a host gateway.
PortSet gateway_ports(const Policy& p);

std::string table_comment(const ResolvedPolicy& r);

model::Table plan(const ResolvedPolicy& r);

} // namespace awf
