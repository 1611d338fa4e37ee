#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/base/text.hpp"
#include "awf/kernel/facts.hpp"
#include "awf/kernel/inspect.hpp"
#include "awf/kernel/policy_routing.hpp"
#include "awf/plan/facts_drift.hpp"
#include "awf/plan/model_json.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/plan/verify.hpp"

#include <iostream>

namespace awf::cli {

namespace {

std::string join(const std::vector<IpAddr>& v) {
    std::string s;
    for (const auto& a : v)
        s += (s.empty() ? "" : ", ") + a.str();
    return s.empty() ? "none" : s;
}

// The inputs read back from the sets and rules, one line each, for people.
std::vector<std::string> summary_lines(const PlanInputs& in) {
    if (in.proxy_role)
        return {"role proxy (Squid's namespace): steered TCP to ports " + in.web_ports.str() +
                " redirected to Squid's intercept ports: TLS (" + in.intercept_tls_ports.str() +
                ") to " + std::to_string(in.intercept_tls_port) + ", the rest to " +
                std::to_string(in.intercept_http_port)};
    std::string proxies;
    for (const auto& p : in.proxy_ports)
        proxies += (proxies.empty() ? "" : ", ") + p.addr.str() + ":" + p.ports.str();
    std::string inbound = in.inbound == PlanInputs::InboundKind::any    ? "any"
                          : in.inbound == PlanInputs::InboundKind::none ? "none"
                                                                        : "";
    for (const auto& c : in.inbound_sources)
        inbound += (inbound.empty() ? "" : ", ") + c.str();
    return {
        "squid " + in.squid.str() + ":" + std::to_string(in.squid_port) +
            (in.intercept ? "; intercepted TCP ports " + in.web_ports.str() + " (TLS " +
                                in.intercept_tls_ports.str() + "), steered to Squid as next hop"
                          : "; redirected TCP ports " + in.web_ports.str()),
        "proxies (TCP ports) " + proxies,
        "resolvers " + join(in.dns),
        "host gateways " + join(in.gateways) +
            (in.gateways.empty() ? "" : " (TCP ports " + in.gateway_ports.str() + ")") +
            (in.gateways_discovered ? ", discovered at apply" : ""),
        "dangerous ports " + in.dangerous_ports.str(),
        "inbound " + (inbound.empty() ? std::string("none") : inbound) +
            (in.inbound_connected && in.inbound == PlanInputs::InboundKind::sources
                 ? " (connected subnets and gateways at apply)"
                 : ""),
        std::string("ipv6 ") + (in.ipv6 == Ipv6Mode::disable ? "disable" : "block") +
            "; blocked action " + (in.blocked_action == BlockedAction::reject ? "reject" : "drop") +
            "; log " + (in.log_group ? "group " + std::to_string(*in.log_group) : "off"),
    };
}

// What discovery would find in the namespace now, against what the policy took at apply. Only
// for a table that verified: a tampered one's inputs say nothing about the namespace.
struct Drift {
    bool checked = false;
    std::vector<std::string> changes;
    std::string error;
};

Drift drift_of(const Target& target, const PlanInputs& in) {
    Drift d;
    if (!in.gateways_discovered && !in.inbound_connected) return d;
    try {
        ObservedFacts now = observe_facts(target);
        d.changes = facts_drift(in, now.facts, now.hosts_file_read);
        d.checked = true;
    } catch (const Error& e) {
        d.error = e.what();
    }
    return d;
}

} // namespace

int cmd_dump(const std::vector<std::string>& args, const Context&) {
    po::options_description desc("awf-net dump [TARGET] [--json] [--all] [--no-counters]");
    desc.add(target_options());
    desc.add(role_option());
    desc.add_options()("json", po::bool_switch(), "JSON for tools")(
        "all", po::bool_switch(), "also name every other table of the namespace")(
        "no-counters", po::bool_switch(),
        "omit counter values: output nft -f accepts (comments stay: they record the policy)")(
        "table", po::value<std::string>()->value_name("NAME"),
        "table name (default awf)")("help,h", "this help");
    auto vm = parse(args, desc, "dump");
    if (printed_help(vm, desc)) return 0;
    Target target = read_target(vm);
    std::string table = table_name(vm);
    Inspection insp = inspect(target, table, read_role(vm), vm["all"].as<bool>());
    const Installed& in = insp.installed;
    std::optional<Verification>& v = insp.verification;
    const std::optional<Steering>& steering = insp.steering;
    std::string where = target.empty() ? "own namespace" : target.describe();
    int rc = insp.tampered() ? static_cast<int>(ExitCode::tampered) : 0;
    Drift drift;
    if (v && v->inputs && v->checked && !v->tampered()) drift = drift_of(target, *v->inputs);

    if (vm["json"].as<bool>()) {
        nlohmann::json j;
        j["namespace"] = where;
        j["table"] = in.awf ? to_json(*in.awf) : nlohmann::json(nullptr);
        if (v) {
            j["recorded"] = {{"version", v->recorded_version}, {"digest", v->recorded_digest}};
            j["verified"] = v->checked && v->differences.empty();
            j["differences"] = v->differences;
            if (!v->note.empty()) j["note"] = v->note;
            if (v->inputs)
                j["policy"] = {{"summary", summary_lines(*v->inputs)},
                               {"canonical", v->inputs->canonical()}};
            if (steering) j["policy_routing"] = describe(*steering);
            if (drift.checked || !drift.error.empty()) {
                j["facts"] = {{"checked", drift.checked}, {"changed", drift.changes}};
                if (!drift.error.empty()) j["facts"]["error"] = drift.error;
            }
        }
        if (vm["all"].as<bool>()) {
            j["other_tables"] = nlohmann::json::array();
            for (const auto& t : in.others)
                j["other_tables"].push_back(to_json(t));
        }
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return rc;
    }
    bool counters = !vm["no-counters"].as<bool>();
    if (!in.awf) {
        std::cout << "# no table inet " << table << " in " << where << "\n";
    } else {
        if (counters) {
            std::cout << "# table inet " << table << " in " << where << "\n";
            if (!v->recorded_version.empty())
                std::cout << "# installed by awf-net " << printable(v->recorded_version)
                          << ", policy " << (v->recorded_keyed ? "hmac-sha256:" : "sha256:")
                          << v->recorded_digest.substr(0, 12) << "\n";
            if (v->inputs)
                for (const auto& line : summary_lines(*v->inputs))
                    std::cout << "#   " << line << "\n";
            if (steering) std::cout << "#   policy routing: " << describe(*steering) << "\n";
            if (!v->note.empty()) std::cout << "# " << printable(v->note) << "\n";
            if (v->tampered()) {
                std::cout << "# TAMPERED: differs from its recorded policy:\n";
                for (const auto& d : v->differences)
                    std::cout << "#   " << printable(d) << "\n";
            } else if (v->checked) {
                std::cout << "# verified: equal to what its recorded policy plans\n";
            }
            if (!drift.changes.empty()) {
                std::cout << "# facts changed since apply (the policy holds as installed; apply "
                             "again to follow the namespace):\n";
                for (const auto& c : drift.changes)
                    std::cout << "#   " << c << "\n";
            } else if (drift.checked) {
                std::cout << "# facts: as at apply (default route, connected subnets"
                          << (v->inputs->gateways_discovered ? ", host.docker.internal" : "")
                          << ")\n";
            } else if (!drift.error.empty()) {
                std::cout << "# facts not checked: " << printable(drift.error) << "\n";
            }
        }
        std::cout << to_nft_text(*in.awf, NftTextOptions{counters});
    }
    for (const auto& t : in.others) {
        std::cout << "\n# also in this namespace: table " << t.family << " " << printable(t.name)
                  << " (not awf-net's; rules outside awf-net's vocabulary are shown raw)\n";
        std::cout << to_nft_text(t, NftTextOptions{counters});
    }
    if (rc)
        std::cerr << "awf-net: error: dump: table inet " << table << " in " << where
                  << " differs from its recorded policy\n";
    return rc;
}

} // namespace awf::cli
