#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/launch/launcher.hpp"
#include "awf/sandbox/sandbox.hpp"

#include <algorithm>
#include <iostream>
#include <sys/stat.h>

namespace awf::cli {

namespace {

// The sudo user when there is one (run.md): `sudo awf-net run ... -- npm test` runs npm as the
// person who typed it, not as root.
std::optional<Identity> sudo_user(const Context& ctx) {
    auto uid = ctx.env("SUDO_UID"), gid = ctx.env("SUDO_GID");
    if (!uid || uid->empty()) return std::nullopt;
    Identity id = parse_identity(*uid + (gid && !gid->empty() ? ":" + *gid : ""));
    if (id.uid == 0) return std::nullopt;
    id.describe = "SUDO_UID " + *uid;
    return id;
}

} // namespace

int cmd_run(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc(
        "awf-net run [TARGET] [POLICY] [DOMAINS] [SANDBOX] [--user USER[:GROUP] | --as-root] -- "
        "COMMAND [ARG...]\n(no TARGET: awf-net builds the sandbox, its link and its Squid)");
    desc.add(target_options()).add(policy_options_description());
    desc.add_options()("user", po::value<std::string>()->value_name("USER[:GROUP]"),
                       "run COMMAND as this user (groups reset; default without TARGET: the "
                       "sudo user)")("as-root", po::bool_switch(),
                                     "run COMMAND as root (still without any capability)")(
        "writable", po::value<std::vector<std::string>>()->value_name("PATH"),
        "a path COMMAND may write (repeatable); everything else is read-only")("help,h",
                                                                               "this help");
    po::options_description sandbox("Sandbox (without TARGET)");
    sandbox.add_options()("name", po::value<std::string>()->value_name("NAME"),
                          "the sandbox's name: namespace awf-NAME (default generated)")(
        "subnet", po::value<std::string>()->value_name("CIDR"),
        (std::string("the pool of the sandbox's link addresses (default ") + kDefaultRunPool + ")")
            .c_str())("quiet,q", po::bool_switch(), "no summary at exit")(
        "no-intercept", po::bool_switch(),
        "serve proxy-aware clients only (default: proxy-unaware ones too, intercepted)")(
        "audit-log", po::value<std::string>()->value_name("FILE"),
        "one JSON object per line for every decision (Squid's requests, denied packets)");
    desc.add(sandbox);
    // Everything after "--" is the command, untouched by option parsing.
    auto dashes = std::find(args.begin(), args.end(), "--");
    std::vector<std::string> own(args.begin(), dashes);
    std::vector<std::string> command(dashes == args.end() ? dashes : dashes + 1, args.end());
    auto vm = parse(own, desc, "run");
    if (printed_help(vm, desc)) return 0;
    Target target = read_target(vm);
    bool as_root = vm["as-root"].as<bool>();
    std::optional<Identity> sudo = target.empty() ? sudo_user(ctx) : std::nullopt;
    if (vm.count("user") && as_root)
        throw Error(ExitCode::invalid_input, "run", "give one of --user and --as-root, not both");
    if (!vm.count("user") && !as_root && !sudo)
        throw Error(ExitCode::invalid_input, "run",
                    target.empty() ? "no sudo user: give --user USER[:GROUP] or --as-root"
                                   : "give exactly one of --user USER[:GROUP] and --as-root");
    if (command.empty()) throw Error(ExitCode::invalid_input, "run", "no COMMAND after --");
    if (!target.empty())
        for (const char* only : {"name", "subnet", "audit-log", "no-intercept"})
            if (vm.count(only) && !vm[only].defaulted())
                throw Error(ExitCode::invalid_input, std::string("--") + only,
                            "only without a TARGET (awf-net builds that sandbox)");
    SandboxSpec spec{target, std::nullopt, command, {}};
    spec.user_namespaces = ctx.env("AWF_RUN_NO_USERNS").value_or("") != "1";
    if (vm.count("user"))
        spec.user = parse_identity(vm["user"].as<std::string>());
    else if (!as_root)
        spec.user = sudo;
    if (vm.count("writable"))
        for (const auto& w : vm["writable"].as<std::vector<std::string>>()) {
            struct stat st {};
            if (w.empty() || w[0] != '/' || ::stat(w.c_str(), &st) != 0)
                throw input_error("--writable", w, "not an existing absolute path");
            spec.writable.push_back(w);
        }

    Policy policy = read_policy(vm, ctx.env);
    if (target.empty()) {
        LaunchRequest req;
        if (vm.count("name")) {
            req.name = vm["name"].as<std::string>();
            check_run_name(*req.name);
        }
        std::string pool = vm.count("subnet") ? vm["subnet"].as<std::string>() : kDefaultRunPool;
        auto cidr = Cidr::parse(pool);
        if (!cidr || !cidr->addr.is_v4() || cidr->prefix > 30)
            throw input_error("--subnet", pool, "expected an IPv4 CIDR of /30 or wider");
        req.pool = *cidr;
        req.policy = policy;
        // Explicit resolvers are what the host end's forwarder and Squid ask; the default
        // (the upstream CLI's public resolvers) gives way to the host's own.
        req.dns_given = policy.dns_servers != Policy::defaults().dns_servers;
        if (req.dns_given) req.upstream_dns = policy.dns_servers;
        req.sandbox = spec;
        req.quiet = vm["quiet"].as<bool>();
        if (vm.count("audit-log")) req.audit_log = vm["audit-log"].as<std::string>();
        req.intercept = !vm["no-intercept"].as<bool>();
        return launch_and_run(req, ctx.apply_hooks());
    }
    ApplyResult r = apply(resolve_for(policy, target), target, ctx.apply_hooks());
    for (const auto& w : r.warnings)
        std::cerr << "awf-net: warning: " << w << "\n";
    if (ctx.verbose) std::cerr << "awf-net: " << r.summary << "\n";
    enter_sandbox_and_exec(spec);
}

} // namespace awf::cli
