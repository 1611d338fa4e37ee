#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/kernel/inspect.hpp"
#include "awf/kernel/nflog.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <limits>

namespace awf::cli {

int cmd_watch(const std::vector<std::string>& args, const Context&) {
    po::options_description desc("awf-net watch [TARGET] [--json] [--count N] [--timeout SECONDS]");
    desc.add(target_options());
    desc.add_options()("json", po::bool_switch(), "one JSON object per line")(
        "count", po::value<unsigned>()->value_name("N"), "stop after N events")(
        "timeout", po::value<unsigned>()->value_name("SECONDS"), "stop after this long")(
        "group", po::value<unsigned>()->value_name("N"),
        "NFLOG group (default: the installed policy's)")("help,h", "this help");
    auto vm = parse(args, desc, "watch");
    if (printed_help(vm, desc)) return 0;
    Target target = read_target(vm);
    std::string where = target.empty() ? "own namespace" : target.describe();
    uint16_t group = 0;
    if (vm.count("group")) {
        unsigned g = vm["group"].as<unsigned>();
        if (g > 65535) throw input_error("--group", std::to_string(g), "out of range 0-65535");
        group = static_cast<uint16_t>(g);
    } else {
        Installed in = read_installed(target, "awf", false);
        if (!in.awf)
            throw Error(ExitCode::target, where, "no table inet awf installed; give --group");
        std::optional<uint16_t> g;
        for (const auto& c : in.awf->chains)
            for (const auto& r : c.rules)
                for (const auto& st : r.stmts)
                    if (auto* l = std::get_if<model::Log>(&st)) g = l->group;
        if (!g)
            throw Error(ExitCode::target, where,
                        "the installed policy logs nothing (--no-log); give --group");
        group = *g;
    }
    std::optional<NflogListener> listener;
    if (target.empty()) {
        listener.emplace(group);
    } else {
        NamespaceHandle ns = NamespaceHandle::open(target);
        NamespaceScope in(ns);
        listener.emplace(group); // the socket stays bound to the target namespace
    }
    std::cerr << "awf-net: watching NFLOG group " << group << " in " << where << "\n";

    using clock = std::chrono::steady_clock;
    std::optional<clock::time_point> deadline;
    if (vm.count("timeout"))
        deadline = clock::now() + std::chrono::seconds(vm["timeout"].as<unsigned>());
    std::optional<unsigned> remaining;
    if (vm.count("count")) remaining = vm["count"].as<unsigned>();
    uint64_t lost = 0, reported_lost = 0;
    while (!remaining || *remaining > 0) {
        int wait_ms = -1;
        if (deadline) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock::now())
                    .count();
            if (left <= 0) break;
            // poll takes an int: a long --timeout waits in slices.
            wait_ms = static_cast<int>(std::min<long long>(left, std::numeric_limits<int>::max()));
        }
        std::vector<LogEvent> events;
        listener->wait(events, wait_ms, lost);
        if (lost != reported_lost) {
            std::cerr << "awf-net: warning: the kernel dropped events (socket overrun)\n";
            reported_lost = lost;
        }
        for (const auto& e : events) {
            std::cout << (vm["json"].as<bool>() ? e.json() : e.text()) << std::endl;
            if (remaining && --*remaining == 0) break;
        }
    }
    return 0;
}

} // namespace awf::cli
