// The transaction of policy.md: resolve against the target, install atomically, read back and
// compare, restore on failure, flush conntrack on first install, IPv6 sysctl last.
#pragma once

#include "awf/kernel_model.hpp"
#include "awf/model.hpp"
#include "awf/netns.hpp"
#include "awf/policy.hpp"

#include <string>
#include <vector>

namespace awf {

// Facts of the target (entering it when it needs discovery) and the resolved policy.
ResolvedPolicy resolve_for(const Policy& policy, const Target& target);

struct ApplyOptions {
    // Test-only: append a rule that refers to a set that does not exist, so the kernel refuses
    // the batch at its last object (proves atomicity and error mapping).
    bool inject_invalid_object = false;
    // Test-only: treat the read-back as different from the plan, so the restore path runs.
    bool fail_readback = false;
    // Test-only: on this many first attempts, change the ruleset between awf-net's read and its
    // commit, as a concurrent writer would (the generation guard must refuse and retry).
    int concurrent_changes = 0;
};

struct ApplyResult {
    enum class Action { installed, replaced, unchanged } action = Action::installed;
    std::string summary;
    std::vector<std::string> warnings;
};

ApplyResult apply(const ResolvedPolicy& policy, const Target& target,
                  const ApplyOptions& opts = {});

// Removes the table; absent is not an error. Returns whether there was one.
bool remove_table(const std::string& table, const Target& target);

} // namespace awf
