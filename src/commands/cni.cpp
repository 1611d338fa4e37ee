#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/base/text.hpp"
#include "awf/frontend/cni_request.hpp"
#include "awf/kernel/inspect.hpp"
#include "awf/plan/plan_inputs.hpp"
#include "awf/policy/policy_name.hpp"

#include <iostream>
#include <sys/stat.h>

namespace awf::cli {

namespace {

// The pod's own choice (annotation, CNI_ARGS) is a tenant's; the conflist's is root's.
Policy named_policy(const CniRequest& r, const std::string& name) {
    bool tenant = r.annotation_policy || r.args_policy;
    return policy_from_raw(tenant ? raw_from_tenant_policy(r.policy_dir, name, policy_chooser(r))
                                  : raw_from_named_policy(r.policy_dir, name, policy_chooser(r)));
}

KnownFacts known_facts(const CniRequest& r) {
    return KnownFacts{r.prev.gateway_v4, r.prev.subnets};
}

std::string who(const CniRequest& r) {
    return "container " + r.container_id + " (" + r.ifname + ")";
}

// The namespace CNI_NETNS names, which must not be awf-net's own: the runtime runs plugins in
// the host's, and a policy there would firewall the node.
Target target_of(const CniRequest& r) {
    Target t;
    t.netns = r.netns;
    if (NamespaceHandle::open(t).is_own())
        throw Error(ExitCode::target, "CNI_NETNS",
                    "is the plugin's own network namespace; refusing to firewall the host");
    return t;
}

void add(const CniRequest& r, const Context& ctx) {
    std::string name = selected_policy(r);
    Policy policy = named_policy(r, name);
    Target target = target_of(r);
    ApplyResult res = apply(resolve_for(policy, target, known_facts(r)), target, ctx.apply_hooks(),
                            ApplyOptions{.replace_other_policy = true});
    for (const auto& w : res.warnings)
        std::cerr << "awf-net: warning: " << w << "\n";
    std::cerr << "awf-net: " << who(r) << ": policy " << name << ": " << res.summary << "\n";
    std::cout << cni_add_result(r) << "\n";
}

// As `dump` decides, and beyond it: the table must also be the policy this container selects
// now (its file edited since ADD, the table is stale, not tampered).
void check(const CniRequest& r) {
    std::string name = selected_policy(r);
    Policy policy = named_policy(r, name);
    Target target = target_of(r);
    Inspection insp = inspect(target, policy.table, policy.role, false);
    const std::string table = "table inet " + policy.table;
    if (!insp.installed.awf_kernel)
        throw Error(ExitCode::tampered, who(r), table + " is missing: the policy is not installed");
    const Verification& v = *insp.verification;
    if (insp.tampered()) {
        std::string more = v.differences.size() > 1
                               ? " (and " + std::to_string(v.differences.size() - 1) + " more)"
                               : "";
        throw Error(ExitCode::tampered, who(r),
                    table + " differs from its recorded policy: " +
                        printable(v.differences.front()) + more);
    }
    if (!v.checked || !v.inputs)
        throw Error(ExitCode::tampered, who(r), table + " is not awf-net's");
    PlanInputs want = derive(resolve_for(policy, target, known_facts(r)));
    if (want.canonical() != v.inputs->canonical())
        throw Error(ExitCode::tampered, who(r),
                    table + " holds another policy than " + name +
                        " (its file or the namespace changed since ADD)");
}

// Best effort and repeatable (SPEC.md, DEL): the namespace or the table already gone is
// success; a policy that cannot be read any more still leaves the default table name.
void del(const CniRequest& r) {
    if (r.netns.empty()) return;
    std::string table = "awf";
    try {
        table = named_policy(r, selected_policy(r)).table;
    } catch (const Error& e) {
        std::cerr << "awf-net: warning: " << e.what() << "; removing table inet awf\n";
    }
    Target target;
    target.netns = r.netns;
    try {
        if (NamespaceHandle::open(target).is_own()) return;
        bool removed = remove_table(table, target);
        std::cerr << "awf-net: " << who(r) << ": table inet " << table
                  << (removed ? " removed" : " was not there") << "\n";
    } catch (const Error& e) {
        if (e.code() != ExitCode::target) throw;
        std::cerr << "awf-net: " << who(r) << ": namespace gone (" << e.what() << ")\n";
    }
}

// Ready when every policy this network can select is there and valid.
void status(const CniRequest& r) {
    struct stat st {};
    if (::stat(r.policy_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw CniError(CniCode::not_available, "policyDir " + r.policy_dir, "not a directory");
    std::vector<std::string> names = r.allowed_policies.value_or(std::vector<std::string>{});
    names.push_back(r.conf_policy.value_or("default"));
    for (const auto& n : names) {
        try {
            named_policy(r, n);
        } catch (const Error& e) {
            throw CniError(CniCode::not_available, "policy " + n, e.what());
        }
    }
}

int fail(const std::string& version, int code, const std::string& msg, const std::string& details) {
    std::cerr << "awf-net: error: " << msg << "\n";
    std::cout << cni_error_json(version, code, msg, details) << "\n";
    return 1;
}

} // namespace

int cni_plugin(const Context& ctx) {
    std::string input;
    std::string version;
    try {
        input = read_stdin_bounded(1 << 20, "network configuration");
        if (ctx.env("CNI_COMMAND").value_or("") == "VERSION") {
            std::cout << cni_version_result(input) << "\n";
            return 0;
        }
        version = cni_version_of(input);
        CniRequest r = parse_cni_request(ctx.env, input);
        switch (r.command) {
        case CniCommand::add:
            add(r, ctx);
            break;
        case CniCommand::check:
            check(r);
            break;
        case CniCommand::del:
            del(r);
            break;
        case CniCommand::status:
            status(r);
            break;
        case CniCommand::gc:
            // Everything awf-net installs (the table, intercept's rule and route) lives in the
            // container's namespace and goes with it: there is nothing outside to collect.
        case CniCommand::version:
            break;
        }
        return 0;
    } catch (const CniError& e) {
        return fail(version, static_cast<int>(e.cni_code()), e.what(), "awf-net CNI plugin");
    } catch (const Error& e) {
        int exit = static_cast<int>(e.code());
        return fail(version, 100 + exit, e.what(),
                    "awf-net exit code " + std::to_string(exit) + ": " +
                        exit_code_meaning(e.code()));
    } catch (const std::exception& e) {
        return fail(version, 101, std::string("internal: ") + e.what(),
                    "awf-net exit code 1: " + std::string(exit_code_meaning(ExitCode::internal)));
    }
}

} // namespace awf::cli
