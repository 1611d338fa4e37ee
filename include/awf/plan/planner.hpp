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

// "awf-net VERSION sha256:DIGEST", and its reading (nullopt when not in that shape).
std::string table_comment(const PlanInputs& in);
struct Recorded {
    std::string version;
    std::string digest;
};
std::optional<Recorded> parse_table_comment(const std::string& comment);

model::Table plan(const PlanInputs& in);
inline model::Table plan(const ResolvedPolicy& r) {
    return plan(derive(r));
}

} // namespace awf
