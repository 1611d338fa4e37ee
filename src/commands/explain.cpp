#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/kernel/inspect.hpp"
#include "awf/plan/explain.hpp"
#include "awf/plan/planner.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

namespace awf::cli {

namespace {

bool policy_given(const po::variables_map& vm) {
    return !raw_from_variables(vm).empty() || vm.count("config") || vm["from-env"].as<bool>();
}

} // namespace

int cmd_explain(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc(
        "awf-net explain [TARGET | POLICY] FLOW...\n"
        "FLOW: PROTO/ADDR[:PORT], e.g. tcp/203.0.113.7:443, udp/8.8.8.8:53, "
        "icmp/1.1.1.1, tcp/[2001:db8::1]:443");
    desc.add(target_options()).add(policy_options_description());
    desc.add_options()("json", po::bool_switch(), "JSON for tools")("help,h", "this help");
    po::options_description hidden;
    hidden.add_options()("flow", po::value<std::vector<std::string>>(), "");
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description pos;
    pos.add("flow", -1);
    auto vm = parse(args, all, "explain", &pos);
    if (printed_help(vm, desc)) return 0;
    if (!vm.count("flow")) throw Error(ExitCode::invalid_input, "explain", "no FLOW given");
    std::vector<Flow> flows;
    for (const auto& f : vm["flow"].as<std::vector<std::string>>())
        flows.push_back(parse_flow(f));
    Target target = read_target(vm);

    model::Table table;
    std::string source;
    if (policy_given(vm)) {
        table = plan(resolve_for(read_policy(vm, ctx.env), target));
        source = "the given policy";
    } else {
        Installed in = read_installed(target, "awf", false);
        std::string where = target.empty() ? "own namespace" : target.describe();
        if (!in.awf)
            throw Error(ExitCode::target, where,
                        "no table inet awf installed; give POLICY flags to explain a policy");
        table = *in.awf;
        source = "table inet awf in " + where;
    }
    ExplainContext ectx =
        target.empty() && policy_given(vm) ? ExplainContext{} : read_explain_context(target);

    nlohmann::json out = nlohmann::json::array();
    for (const auto& f : flows) {
        Explanation e = explain(table, f, ectx);
        if (vm["json"].as<bool>()) {
            auto hook = [](const HookVerdict& h) {
                return nlohmann::json{
                    {"chain", h.chain}, {"rule", h.rule}, {"comment", h.comment}, {"nft", h.text}};
            };
            nlohmann::json j{{"flow", f.text},
                             {"outcome", e.outcome_text()},
                             {"nat", hook(e.nat)},
                             {"filter", hook(e.filter)}};
            if (e.logged) j["event"] = *e.logged;
            out.push_back(j);
            continue;
        }
        std::cout << f.text << "  =>  " << e.outcome_text() << "\n";
        for (const HookVerdict* h : {&e.nat, &e.filter}) {
            if (h->chain.empty()) continue;
            std::cout << "  " << h->chain << "  ";
            if (!h->rule) {
                std::cout << h->text << "\n"; // "policy accept": no rule decided
                continue;
            }
            std::cout << "rule " << h->rule;
            if (!h->comment.empty()) std::cout << " \"" << h->comment << "\"";
            std::cout << ": " << h->text << "\n";
        }
        if (e.logged) std::cout << "  event: NFLOG \"" << *e.logged << "\" (rate-limited)\n";
    }
    if (vm["json"].as<bool>())
        std::cout << nlohmann::json{{"source", source}, {"flows", out}}.dump(
                         2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    return 0;
}

} // namespace awf::cli
