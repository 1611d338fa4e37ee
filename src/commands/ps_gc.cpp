#include "awf/base/platform.hpp"

// `awf-net ps` and `awf-net gc` (run.md): the one-line runs of this host, from their records.
#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/text.hpp"
#include "awf/launch/launcher.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

namespace awf::cli {

int cmd_ps(const Args& args, const Context&) {
    po::options_description desc("awf-net ps [--json]");
    desc.add_options()("json", po::bool_switch(), "one JSON array of objects")("help,h",
                                                                               "this help");
    auto vm = parse(args, desc, "ps");
    if (printed_help(vm, desc)) return 0;
    auto runs = recorded_runs();
    std::erase_if(runs, [](const LiveRun& r) { return !r.alive; });
    if (vm["json"].as<bool>()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : runs)
            out.push_back({{"name", r.name},
                           {"netns", r.netns},
                           {"address", r.sandbox_addr},
                           {"pid", r.command_pid},
                           {"squid", r.squid},
                           {"command", r.command}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::cout << "NAME          ADDRESS        PID      SQUID               COMMAND\n";
    for (const auto& r : runs) {
        char line[128];
        std::snprintf(line, sizeof line, "%-13s %-14s %-8ld %-19s ", r.name.c_str(),
                      r.sandbox_addr.c_str(), r.command_pid, r.squid.c_str());
        std::cout << line << printable(r.command) << "\n";
    }
    return 0;
}

int cmd_gc(const Args& args, const Context&) {
    po::options_description desc("awf-net gc");
    desc.add_options()("help,h", "this help");
    auto vm = parse(args, desc, "gc");
    if (printed_help(vm, desc)) return 0;
    int n = sweep_dead_runs();
    std::cout << "awf-net gc: " << n << (n == 1 ? " sandbox" : " sandboxes") << " swept\n";
    return 0;
}

} // namespace awf::cli
