// What changed in a namespace since its policy was applied. The installed table keeps what the
// namespace had then (the gateways and inbound sources it discovered, marked so in the digest);
// a process with NET_ADMIN inside can add addresses and change routes afterwards. The policy
// still holds for what it governs (own addresses by `fib daddr type local`, everything else by
// the sets), but it no longer follows the namespace: `dump` says so, line by line. Pure.
#pragma once

#include "awf/plan/plan_inputs.hpp"
#include "awf/policy/policy.hpp"

#include <string>
#include <vector>

namespace awf {

// `now`: the facts read from the namespace with everything asked for (hosts file, default
// route, connected subnets). `hosts_file_read`: whether `now` includes a hosts file; without
// one, a gateway that came from it cannot be told apart from one that is gone.
std::vector<std::string> facts_drift(const PlanInputs& recorded, const Facts& now,
                                     bool hosts_file_read);

} // namespace awf
