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

model::Table plan(const PlanInputs& in, std::string_view key = {});
inline model::Table plan(const ResolvedPolicy& r) {
    return plan(derive(r), r.digest_key);
}

} // namespace awf
