// The transaction of policy.md: resolve against the target, install atomically, read back and
// compare, restore on failure, flush conntrack on first install, IPv6 sysctl last.
#pragma once

#include "awf/kernel/netns.hpp"
#include "awf/nft/kernel_model.hpp"
#include "awf/plan/model.hpp"
#include "awf/policy/policy.hpp"

#include <string>
#include <vector>

namespace awf {

// Facts a caller was told by whoever set the namespace up (a CNI prevResult): they replace
// what discovery reads for the same thing.
struct KnownFacts {
    std::optional<IpAddr> default_gateway_v4;
    std::vector<Cidr> subnets_v4; // empty: discovery's IPv4 subnets stand
};

// Facts of the target (entering it when it needs discovery) and the resolved policy.
ResolvedPolicy resolve_for(const Policy& policy, const Target& target,
                           const KnownFacts& known = {});

class NetlinkSocket;

// Seams for fault-injection tests (tests/fault/): production passes the no-op base, so the
// transaction carries no test branches of its own.
class ApplyHooks {
public:
    virtual ~ApplyHooks() = default;
    // The lowered table, just before it is encoded.
    virtual void planned(kernel::Table&) const {}
    // After the generation and the previous table were read, before the batch is committed.
    virtual void before_commit(NetlinkSocket&, int /*attempt*/) const {}
    // Right after the commit landed, before the table is read back.
    virtual void after_commit(NetlinkSocket&, int /*attempt*/) const {}
    // Before the previous state is restored.
    virtual void before_restore(NetlinkSocket&) const {}
    // What the read-back found different from the plan; a hook may add differences.
    virtual void read_back(std::vector<std::string>& /*differences*/) const {}
    // cni-install: the node's configuration was read and merged; `path` is about to be replaced
    // or removed (another writer, the network plugin, may act in between).
    virtual void before_replace(const std::string& /*path*/) const {}
};

struct ApplyOptions {
    // false: a table of this name holding another policy is left alone and the apply refused
    // (exit 3). The OCI hook sets it: a container must never replace the policy of a namespace
    // it shares with another container.
    bool replace_other_policy = true;
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
                  const ApplyHooks& hooks = ApplyHooks{}, ApplyOptions opts = {});

// The same transaction on a netfilter socket already open in the target namespace (the calling
// thread must be in it too, for the IPv6 sysctl). A long-lived caller keeps the socket and so
// never waits, at close, for the kernel to free what a replacement deleted.
ApplyResult apply_on(NetlinkSocket& nf, const ResolvedPolicy& policy, const std::string& where,
                     const ApplyHooks& hooks = ApplyHooks{}, ApplyOptions opts = {});

// Removes the table; absent is not an error. Returns whether there was one.
bool remove_table(const std::string& table, const Target& target);

// A table in the namespace awf-net itself runs in: only the host side of a sandbox's link
// (plan_host_link), which its caller names, makes and removes. Create-or-replace, one batch.
ApplyResult apply_host_table(const model::Table& planned);
bool remove_host_table(const std::string& table);

} // namespace awf
