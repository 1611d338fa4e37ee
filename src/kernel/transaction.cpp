#include "awf/base/platform.hpp"

#include "awf/kernel/transaction.hpp"

#include "awf/kernel/policy_routing.hpp"

#include "awf/base/error.hpp"
#include "awf/base/host_key.hpp"
#include "awf/kernel/commit.hpp"
#include "awf/kernel/conntrack.hpp"
#include "awf/kernel/facts.hpp"
#include "awf/nft/decode.hpp"
#include "awf/nft/encode.hpp"
#include "awf/nft/lift.hpp"
#include "awf/nft/lower.hpp"
#include "awf/plan/planner.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <netdb.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <thread>

namespace awf {

namespace {

std::optional<IpAddr> resolve_in_own_namespace(const std::string& name) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(res, freeaddrinfo);
    IpAddr a;
    std::memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, 4);
    return a;
}

// Last step of `disable` mode: it removes the namespace's IPv6 addresses and cannot be undone,
// so it runs only once the rules (which already deny) are in; failing it is a warning.
std::vector<std::string> disable_ipv6() {
    std::vector<std::string> warnings;
    for (const char* path : {"/proc/sys/net/ipv6/conf/all/disable_ipv6",
                             "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
        std::ofstream f(path);
        if (f) f << "1\n";
        if (!f)
            warnings.push_back(std::string("ipv6 disable: cannot write ") + path +
                               " (the rules deny IPv6 anyway)");
    }
    return warnings;
}

// The digest as dump shows it (hmac-sha256: when keyed), shortened.
std::string digest_shown(const std::string& comment) {
    size_t at = comment.find("hmac-sha256:");
    if (at == std::string::npos) at = comment.find("sha256:");
    if (at == std::string::npos) return "no digest";
    size_t colon = comment.find(':', at);
    return comment.substr(at, colon + 1 - at + 12);
}

size_t count_rules(const kernel::Table& t) {
    return t.rules.size();
}

} // namespace

ResolvedPolicy resolve_for(const Policy& policy, const Target& target, const KnownFacts& known) {
    Facts facts;
    if (!target.empty()) {
        NamespaceHandle ns = NamespaceHandle::open(target);
        if (needs_discovery(policy)) {
            NamespaceScope in(ns);
            NetlinkSocket route(NETLINK_ROUTE);
            facts = gather_facts(policy, target, route);
        }
        if (!facts.hosts_docker_internal.empty() || facts.squid_from_hosts_file) {
            NetlinkSocket own(NETLINK_ROUTE);
            for (const auto& ia : interface_addresses(own))
                if (!ia.host_scope) facts.host_addresses.push_back(ia.local);
        }
    } else if (policy.host_access && policy.host_gateways.empty()) {
        throw Error(ExitCode::target, "--dry-run",
                    "this policy discovers host gateways: give --netns or --pid");
    }
    if (known.default_gateway_v4) facts.default_gateway_v4 = known.default_gateway_v4;
    if (!known.subnets_v4.empty()) {
        std::erase_if(facts.local_subnets, [](const Cidr& c) { return c.addr.is_v4(); });
        facts.local_subnets.insert(facts.local_subnets.end(), known.subnets_v4.begin(),
                                   known.subnets_v4.end());
    }
    if (!IpAddr::parse(policy.squid_host) && !facts.squid_resolved)
        facts.squid_resolved = resolve_in_own_namespace(policy.squid_host);
    ResolvedPolicy r = resolve(policy, facts);
    // Installing makes the key on first use; a dry run only reads it (same digest as apply).
    r.digest_key = load_host_key(!target.empty());
    return r;
}

namespace {

// One attempt of the transaction; throws GenerationChanged when someone else changed the
// ruleset between our read and our commit.
using Clock = std::chrono::steady_clock;
constexpr int kReadBackTries = 3;
double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Writers that collided once collide again if they retry in lockstep: wait a random fraction
// of a window that doubles with each attempt up to 16 ms (at most ~80 ms over all eight), never
// before the first.
void back_off(int attempt) {
    uint32_t r = 0;
    if (::getrandom(&r, sizeof r, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof r)) r = 0;
    auto window = std::chrono::microseconds(500 << std::min(attempt, 5));
    std::this_thread::sleep_for(window * (r % 1024) / 1024);
}

ApplyResult::Action apply_once(NetlinkSocket& nf, const model::Table& planned,
                               const kernel::Table& want, const ApplyHooks& hooks, int attempt,
                               ApplyTimings& timings, bool& committed, ApplyOptions opts) {
    uint32_t generation = read_generation(nf);
    std::optional<kernel::Table> previous = read_table(nf, want.name);
    hooks.before_commit(nf, attempt);
    if (previous && kernel::compare(want, *previous).empty()) return ApplyResult::Action::unchanged;
    if (previous && !opts.replace_other_policy)
        throw Error(ExitCode::target, "table inet " + want.name,
                    "already holds another policy (a namespace shared with another container?); "
                    "not replaced");
    auto t0 = Clock::now();
    Batch batch = encode_replace(want, nf.next_seq(), generation, previous.has_value());
    timings.plan_ms += ms_since(t0);
    t0 = Clock::now();
    commit(nf, batch);
    committed = true;
    timings.commit_ms = ms_since(t0);
    t0 = Clock::now();

    // The read-back is taken from a consistent snapshot (the generation the same before and
    // after it). What it finds decides: our table, verified, is success even if something else in
    // the ruleset changed meanwhile; a difference with nothing committed after us is a failed
    // commit (restore); a difference after another writer's commit is theirs to answer for, and
    // this apply decides again (a restore now would overwrite them).
    // Each commit moves the generation by exactly one (the kernel skips 0).
    uint32_t after_commit = generation + 1 == 0 ? 1 : generation + 1;
    hooks.after_commit(nf, attempt);
    std::optional<kernel::Table> installed;
    uint32_t seen = 0;
    for (int read = 1;; ++read) {
        seen = read_generation(nf);
        try {
            installed = read_table(nf, want.name);
            if (read_generation(nf) == seen) break;
        } catch (const GenerationChanged&) {
        }
        if (read == kReadBackTries)
            throw GenerationChanged(ExitCode::internal, "read-back",
                                    "the ruleset kept changing while awf-net read its table back");
    }
    std::vector<std::string> diffs = installed
                                         ? kernel::compare(want, *installed)
                                         : std::vector<std::string>{"table missing after commit"};
    // The decoder's view too: what it reads back must lift to exactly the planned model.
    if (installed && diffs.empty() && lift(*installed) != planned)
        diffs.push_back("the decoded table does not lift back to the planned model");
    if (!diffs.empty() && seen != after_commit)
        throw GenerationChanged(ExitCode::kernel_refused, "read-back",
                                "a concurrent writer changed table inet " + want.name +
                                    " right after awf-net's commit");
    auto restore = [&](const std::string& step, const std::string& why) {
        hooks.before_restore(nf);
        try {
            if (previous)
                commit(nf, encode_replace(*previous, nf.next_seq(), after_commit));
            else
                commit(nf, encode_delete(want.name, nf.next_seq(), after_commit));
        } catch (const Error& e) {
            // Never delete what we committed instead: no table at all would be no policy.
            throw Error(
                ExitCode::internal, step,
                why + "; restoring the previous state failed too (" + e.reason() +
                    "): table inet " + want.name +
                    " holds the new policy unverified or a concurrent writer's; apply again");
        }
        throw Error(ExitCode::restored, step, why + "; previous state restored");
    };
    hooks.read_back(diffs);
    timings.verify_ms = ms_since(t0);
    if (!diffs.empty()) restore("read-back of table inet " + want.name, diffs.front());
    if (!previous) {
        try {
            flush_conntrack(nf);
        } catch (const Error& e) {
            restore(e.where(), e.reason());
        }
    }
    return previous ? ApplyResult::Action::replaced : ApplyResult::Action::installed;
}

} // namespace

namespace {

// The create-or-replace transaction of one planned table on an open netfilter socket, decided
// again on a fresh read when another writer got in first.
ApplyResult commit_planned(NetlinkSocket& nf, const model::Table& planned,
                           const std::string& where, const ApplyHooks& hooks, ApplyOptions opts) {
    auto start = Clock::now();
    ApplyResult result;
    kernel::Table want = lower(planned);
    hooks.planned(want);
    result.timings.plan_ms = ms_since(start);

    // A concurrent writer (another awf-net, an operator's nft) makes the kernel refuse our
    // batch; decide again on a fresh read, a bounded number of times.
    // A change during the read-back after our commit is decided again the same way.
    constexpr int kAttempts = 8;
    for (int attempt = 1;; ++attempt) {
        bool committed = false;
        try {
            result.action =
                apply_once(nf, planned, want, hooks, attempt, result.timings, committed, opts);
            break;
        } catch (const GenerationChanged& e) {
            if (attempt < kAttempts) {
                back_off(attempt);
                continue;
            }
            // Only the last attempt decides: an earlier batch of ours that a later writer
            // replaced is gone as surely as one the kernel refused, and so is the last one when
            // the read-back found the writer's table in its place. Only a read-back that never
            // got a consistent view leaves our own table unverified.
            if (!committed || e.code() == ExitCode::kernel_refused)
                throw Error(ExitCode::kernel_refused, where,
                            e.reason() + " (" + std::to_string(kAttempts) + " attempts)");
            throw Error(ExitCode::internal, where,
                        e.reason() + "; this apply's batch had landed: the table is unverified");
        }
    }
    result.timings.total_ms = ms_since(start);
    static constexpr const char* verbs[] = {"installed", "replaced", "unchanged"};
    result.summary = std::string(verbs[static_cast<int>(result.action)]) + " " + where + " (" +
                     digest_shown(planned.comment) + ", " + std::to_string(want.chains.size()) +
                     " chains, " + std::to_string(want.sets.size()) + " sets, " +
                     std::to_string(count_rules(want)) + " rules)";
    return result;
}

} // namespace

ApplyResult apply_on(NetlinkSocket& nf, const ResolvedPolicy& policy, const std::string& where,
                     const ApplyHooks& hooks, ApplyOptions opts) {
    auto start = Clock::now();
    model::Table planned = plan(policy);
    ApplyResult result = commit_planned(nf, planned, where, hooks, opts);
    if (policy.policy.ipv6 == Ipv6Mode::disable) result.warnings = disable_ipv6();
    result.timings.total_ms = ms_since(start);
    return result;
}

ApplyResult apply_host_table(const model::Table& planned) {
    NetlinkSocket nf(NETLINK_NETFILTER);
    return commit_planned(nf, planned, "table inet " + planned.name + " in this namespace", {},
                          {});
}

bool remove_host_table(const std::string& table) {
    NetlinkSocket nf(NETLINK_NETFILTER);
    for (int attempt = 1;; ++attempt) {
        uint32_t generation = read_generation(nf);
        if (!read_table(nf, table)) return false;
        try {
            commit(nf, encode_delete(table, nf.next_seq(), generation));
            return true;
        } catch (const GenerationChanged&) {
            if (attempt == 8) throw;
            back_off(attempt);
        }
    }
}

ApplyResult apply(const ResolvedPolicy& policy, const Target& target, const ApplyHooks& hooks,
                  ApplyOptions opts) {
    NamespaceHandle ns = NamespaceHandle::open_foreign(target);
    NamespaceScope in(ns);
    NetlinkSocket nf(NETLINK_NETFILTER);
    const std::string where = "table inet " + policy.policy.table + " in " + target.describe();
    if (policy.policy.role == Role::proxy) return apply_on(nf, policy, where, hooks, opts);
    // Intercept's policy routing: in place before the commit that starts marking (inert until
    // then), as it was again if that commit fails, gone after a commit that stops marking.
    NetlinkSocket route(NETLINK_ROUTE);
    Steering before = read_steering(route);
    Steering want;
    if (policy.policy.intercept)
        want = Steering{true, policy.squid, onlink_interface(route, policy.squid), {}};
    if (want.rule) set_steering(route, want);
    ApplyResult r;
    try {
        r = apply_on(nf, policy, where, hooks, opts);
    } catch (...) {
        if (want.rule && !(before == want)) {
            try {
                set_steering(route, before);
            } catch (const Error&) {
                // The table is as it was; steering left in place only routes marked packets,
                // which the previous table does not mark.
            }
        }
        throw;
    }
    if (!want.rule && !before.empty()) set_steering(route, want);
    return r;
}

bool remove_table(const std::string& table, const Target& target) {
    NamespaceHandle ns = NamespaceHandle::open_foreign(target);
    NamespaceScope in(ns);
    NetlinkSocket nf(NETLINK_NETFILTER);
    // After the table: until it is gone, marked packets still need their route.
    auto unsteer = [&] {
        NetlinkSocket route(NETLINK_ROUTE);
        if (!read_steering(route).empty()) set_steering(route, Steering{});
    };
    for (int attempt = 1;; ++attempt) {
        uint32_t generation = read_generation(nf);
        if (!read_table(nf, table)) {
            unsteer();
            return false;
        }
        try {
            commit(nf, encode_delete(table, nf.next_seq(), generation));
            unsteer();
            return true;
        } catch (const GenerationChanged&) {
            if (attempt == 8) throw;
            back_off(attempt);
        }
    }
}

} // namespace awf
