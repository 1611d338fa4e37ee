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

// Where the time of one transaction went (steady clock), for the benchmarks.
struct ApplyTimings {
    double plan_ms = 0;   // plan + lower + encode
    double commit_ms = 0; // the batch in the kernel, acks included: the floor
    double verify_ms = 0; // read back + compare
    double total_ms = 0;
};

struct ApplyResult {
    enum class Action { installed, replaced, unchanged } action = Action::installed;
    std::string summary;
    std::vector<std::string> warnings;
    ApplyTimings timings;
};

ApplyResult apply(const ResolvedPolicy& policy, const Target& target,
                  const ApplyOptions& opts = {});

class NetlinkSocket;
// The same transaction on a netfilter socket already open in the target namespace (the calling
// thread must be in it too, for the IPv6 sysctl). A long-lived caller keeps the socket and so
// never waits, at close, for the kernel to free what a replacement deleted.
ApplyResult apply_on(NetlinkSocket& nf, const ResolvedPolicy& policy, const std::string& where,
                     const ApplyOptions& opts = {});

// Removes the table; absent is not an error. Returns whether there was one.
bool remove_table(const std::string& table, const Target& target);

} // namespace awf
