#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/sandbox/sandbox.hpp"

#include <algorithm>
#include <iostream>
#include <sys/stat.h>

namespace awf::cli {

int cmd_run(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc(
        "awf-net run TARGET [POLICY] (--user USER[:GROUP] | --as-root) -- COMMAND [ARG...]");
    desc.add(target_options()).add(policy_options_description());
    desc.add_options()("user", po::value<std::string>()->value_name("USER[:GROUP]"),
                       "run COMMAND as this user (groups reset)")(
        "as-root", po::bool_switch(), "run COMMAND as root (still without any capability)")(
        "writable", po::value<std::vector<std::string>>()->value_name("PATH"),
        "a path COMMAND may write (repeatable); everything else is read-only")("help,h",
                                                                               "this help");
    // Everything after "--" is the command, untouched by option parsing.
    auto dashes = std::find(args.begin(), args.end(), "--");
    std::vector<std::string> own(args.begin(), dashes);
    std::vector<std::string> command(dashes == args.end() ? dashes : dashes + 1, args.end());
    auto vm = parse(own, desc, "run");
    if (printed_help(vm, desc)) return 0;
    Target target = read_target(vm);
    if (target.empty()) throw Error(ExitCode::target, "run", "no target: give --netns or --pid");
    bool as_root = vm["as-root"].as<bool>();
    if (vm.count("user") == as_root)
        throw Error(ExitCode::invalid_input, "run",
                    "give exactly one of --user USER[:GROUP] and --as-root");
    if (command.empty()) throw Error(ExitCode::invalid_input, "run", "no COMMAND after --");
    SandboxSpec spec{target, std::nullopt, command, {}};
    spec.user_namespaces = ctx.env("AWF_RUN_NO_USERNS").value_or("") != "1";
    if (!as_root) spec.user = parse_identity(vm["user"].as<std::string>());
    if (vm.count("writable"))
        for (const auto& w : vm["writable"].as<std::vector<std::string>>()) {
            struct stat st {};
            if (w.empty() || w[0] != '/' || ::stat(w.c_str(), &st) != 0)
                throw input_error("--writable", w, "not an existing absolute path");
            spec.writable.push_back(w);
        }

    Policy policy = read_policy(vm, ctx.env);
    ApplyResult r = apply(resolve_for(policy, target), target, ctx.apply_hooks());
    for (const auto& w : r.warnings)
        std::cerr << "awf-net: warning: " << w << "\n";
    if (ctx.verbose) std::cerr << "awf-net: " << r.summary << "\n";
    enter_sandbox_and_exec(spec);
}

} // namespace awf::cli
