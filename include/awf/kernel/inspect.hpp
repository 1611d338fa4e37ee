// Reading what is installed in a namespace, for operators (`dump`).
#pragma once

#include "awf/kernel/netns.hpp"
#include "awf/kernel/policy_routing.hpp"
#include "awf/nft/kernel_model.hpp"
#include "awf/plan/explain.hpp"
#include "awf/plan/model.hpp"
#include "awf/plan/verify.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

struct Installed {
    std::optional<kernel::Table> awf_kernel; // awf-net's table as the kernel holds it
    std::optional<model::Table> awf;         // the same, lifted, with counters
    std::vector<model::Table> others;        // with --all: every other table, decoded as far as the
                                             // model reaches (raw rules beyond that)
};

// The namespace's own and broadcast addresses, for explain (own namespace when empty).
ExplainContext read_explain_context(const Target& target);

// Reads the target (awf-net's own namespace when `target` is empty).
Installed read_installed(const Target& target, const std::string& table, bool all);

// What `dump` and the CNI plugin's CHECK decide on: the table as read, whether it is what its
// recorded policy plans (and the side of intercept mode `role` expects, when given), and an
// intercepting sandbox's policy routing, whose absence is tampering too.
struct Inspection {
    Installed installed;
    std::optional<Verification> verification; // whenever there is a table
    std::optional<Steering> steering;         // an intercepting sandbox table only
    bool tampered() const { return verification && verification->tampered(); }
};
Inspection inspect(const Target& target, const std::string& table, std::optional<Role> role,
                   bool all);

} // namespace awf
