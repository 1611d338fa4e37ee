#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/plan/model_json.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/plan/planner.hpp"

#include <iostream>

namespace awf::cli {

int cmd_apply(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc("awf-net apply TARGET [POLICY] [--dry-run] [--print nft|json]");
    desc.add(target_options()).add(policy_options_description());
    desc.add_options()("dry-run", po::bool_switch(),
                       "change nothing; print the ruleset that would be installed")(
        "print", po::value<std::string>()->value_name("nft|json"),
        "with --dry-run: output format (default nft)")("help,h", "this help");
    auto vm = parse(args, desc, "apply");
    if (printed_help(vm, desc)) return 0;
    Target target = read_target(vm);
    Policy policy = read_policy(vm, ctx.env);
    std::string format = vm.count("print") ? vm["print"].as<std::string>() : "nft";
    if (format != "nft" && format != "json")
        throw input_error("--print", format, "expected nft or json");
    bool dry = vm["dry-run"].as<bool>();
    if (vm.count("print") && !dry) throw input_error("--print", format, "only with --dry-run");
    if (!dry && target.empty())
        throw Error(ExitCode::target, "apply", "no target: give --netns or --pid");

    ResolvedPolicy resolved = resolve_for(policy, target);
    if (dry) {
        model::Table t = plan(resolved);
        if (format == "json")
            std::cout << to_json(t).dump(2) << "\n";
        else
            std::cout << to_nft_text(t);
        return 0;
    }
    ApplyResult r = apply(resolved, target, ctx.apply_hooks());
    for (const auto& w : r.warnings)
        std::cerr << "awf-net: warning: " << w << "\n";
    std::cout << r.summary << "\n";
    if (ctx.verbose)
        std::cerr << "awf-net: plan+encode " << r.timings.plan_ms << " ms, commit "
                  << r.timings.commit_ms << " ms, read-back " << r.timings.verify_ms
                  << " ms, total " << r.timings.total_ms << " ms\n";
    return 0;
}

} // namespace awf::cli
