#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/base/file.hpp"
#include "awf/base/text.hpp"
#include "awf/frontend/oci_state.hpp"
#include "awf/policy/policy_name.hpp"

#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace awf::cli {

namespace {

constexpr size_t kMaxBundleConfig = 4 << 20;

// Like every file a less trusted party may shape: no link at the end, a regular file (a FIFO is
// never opened), bounded; its content never goes into an error.
std::string read_bundle_config(const std::string& bundle) {
    const std::string what = "OCI bundle config " + printable(bundle) + "/config.json";
    auto text = read_regular_file({{}, bundle + "/config.json"}, kMaxBundleConfig,
                                  ExitCode::invalid_input, what);
    if (!text) throw Error(ExitCode::invalid_input, what, "no such file");
    if (text->size() >= kMaxBundleConfig)
        throw Error(ExitCode::invalid_input, what,
                    "larger than " + std::to_string(kMaxBundleConfig >> 20) + " MiB");
    return *text;
}

} // namespace

int cmd_oci_hook(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc(
        "awf-net oci-hook [POLICY] [--allow-caps]  (OCI state JSON on standard input)");
    desc.add(policy_options_description());
    desc.add_options()("allow-caps", po::bool_switch(),
                       "accept containers that keep CAP_NET_RAW, CAP_NET_ADMIN or CAP_SYS_ADMIN")(
        "help,h", "this help");
    auto vm = parse(args, desc, "oci-hook");
    if (printed_help(vm, desc)) return 0;

    OciState state = parse_oci_state(read_stdin_bounded(1 << 20, "OCI state"));
    const std::string who =
        "container " + (state.id.empty() ? "pid " + std::to_string(state.pid) : state.id);
    std::string proc = "/proc/" + std::to_string(state.pid);
    if (::access(proc.c_str(), F_OK) != 0)
        throw Error(ExitCode::target, "OCI state.pid", "no such process",
                    std::to_string(state.pid));
    OciBundle bundle = parse_oci_bundle(read_bundle_config(state.bundle), state.bundle);
    auto refused = refused_capabilities(bundle);
    if (!refused.empty() && !vm["allow-caps"].as<bool>()) {
        std::string list;
        for (const auto& c : refused)
            list += (list.empty() ? "" : ",") + c;
        throw Error(ExitCode::invalid_input, who,
                    "keeps capabilities that bypass or change the policy; refused (--allow-caps "
                    "accepts them)",
                    list);
    }
    // Resolved once: everything below acts on this namespace, whatever the pid comes to mean.
    Target target;
    target.pid = state.pid;
    NamespaceHandle ns = NamespaceHandle::open(target);
    // Without its own network namespace the container is in the runtime's (the host's): the
    // hook must never firewall that.
    if (ns.is_own())
        throw Error(ExitCode::target, who,
                    "shares awf-net's own network namespace; refusing to firewall the host");
    // `--network container:other`, a reused namespace: the namespace and its policy are the
    // other process's. Decided by the namespace's identity, so no spelling of the path
    // (//proc/..., a link, a bind mount of /proc/PID/ns/net) gets around it. A namespace the
    // runtime made for this container has nobody else in it.
    if (!bundle.network_namespace_path.empty())
        if (int other = other_process_in(ns, state.pid))
            throw Error(ExitCode::target, who,
                        "joins the network namespace of a running process (pid " +
                            std::to_string(other) + "); its policy is not this container's to set",
                        printable(bundle.network_namespace_path));

    // The hook's own flags and files are root's; the annotation only names a policy in root's
    // directory, and loses to them key by key.
    RawOptions raw = raw_from_variables(vm);
    merge_lower_precedence(raw, raw_from_config_flags(vm));
    if (state.policy_name)
        merge_lower_precedence(
            raw, raw_from_tenant_policy(policy_dir(vm), *state.policy_name,
                                        std::string("annotation ") + kPolicyAnnotation));
    if (vm["from-env"].as<bool>()) merge_lower_precedence(raw, raw_from_env(ctx.env));
    Policy policy = policy_from_raw(raw);

    // Never /proc/PID/root: at createRuntime that is still the host's.
    target.hosts_file = bundle.hosts_file;
    target.hosts_root = bundle.hosts_root;
    ApplyResult r = apply(resolve_for(policy, target), target, ctx.apply_hooks(),
                          ApplyOptions{.replace_other_policy = false});
    for (const auto& w : r.warnings)
        std::cerr << "awf-net: warning: " << w << "\n";
    std::cout << who << ": " << r.summary << "\n";
    return 0;
}

} // namespace awf::cli
