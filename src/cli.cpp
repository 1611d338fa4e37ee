#include "awf/cli.hpp"

#include "awf/apply.hpp"
#include "awf/decode.hpp"
#include "awf/error.hpp"
#include "awf/explain.hpp"
#include "awf/inspect.hpp"
#include "awf/model_json.hpp"
#include "awf/netlink_socket.hpp"
#include "awf/nflog.hpp"
#include "awf/nft_text.hpp"
#include "awf/oci.hpp"
#include "awf/planner.hpp"
#include "awf/sandbox.hpp"
#include "awf/verify.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <linux/netlink.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace awf::cli {

namespace {

po::options_description target_options() {
    po::options_description d("Target");
    d.add_options()("netns", po::value<std::string>()->value_name("NAME|PATH"),
                    "network namespace by name (/run/netns) or path")(
        "pid", po::value<std::string>()->value_name("PID"),
        "the network namespace of this process")("hosts-file",
                                                 po::value<std::string>()->value_name("PATH"),
                                                 "where host.docker.internal is looked up");
    return d;
}

Target read_target(const po::variables_map& vm) {
    Target t;
    if (vm.count("netns")) t.netns = vm["netns"].as<std::string>();
    if (vm.count("pid")) {
        const std::string& s = vm["pid"].as<std::string>();
        if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos ||
            s[0] == '0')
            throw input_error("--pid", s, "not a process id");
        t.pid = std::stoi(s);
    }
    if (vm.count("netns") && vm.count("pid"))
        throw input_error("--pid", vm["pid"].as<std::string>(), "conflicts with --netns");
    if (vm.count("netns") && t.netns.empty()) throw input_error("--netns", "", "empty");
    if (vm.count("hosts-file")) t.hosts_file = vm["hosts-file"].as<std::string>();
    return t;
}

// The table option shared by delete and dump, validated like the policy's --table.
std::string table_name(const po::variables_map& vm) {
    RawOptions raw;
    if (vm.count("table")) raw["table"] = {vm["table"].as<std::string>()};
    return policy_from_raw(raw).table;
}

// --help: prints the command's options; the caller then returns 0.
bool printed_help(const po::variables_map& vm, const po::options_description& desc) {
    if (!vm.count("help")) return false;
    std::cout << desc;
    return true;
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const std::string& command) {
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        // Boost names the option in its own words; keep them, but in our one-line shape.
        throw Error(ExitCode::invalid_input, command, e.what());
    }
    return vm;
}

int cmd_apply(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc("awf-net apply TARGET [POLICY] [--dry-run] [--print nft|json]");
    desc.add(target_options()).add(policy_options_description());
    desc.add_options()("dry-run", po::bool_switch(),
                       "change nothing; print the ruleset that would be installed")(
        "print", po::value<std::string>()->value_name("nft|json"),
        "with --dry-run: output format (default nft)")("help,h", "this help");
    po::options_description hidden;
    // Test-only fault injection (ApplyOptions); not in --help.
    hidden.add_options()("test-invalid-object", po::bool_switch(),
                         "")("test-fail-readback", po::bool_switch(),
                             "")("test-concurrent-changes", po::value<int>()->default_value(0), "");
    po::options_description all;
    all.add(desc).add(hidden);
    auto vm = parse(args, all, "apply");
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
    ApplyOptions opts;
    opts.inject_invalid_object = vm["test-invalid-object"].as<bool>();
    opts.fail_readback = vm["test-fail-readback"].as<bool>();
    opts.concurrent_changes = vm["test-concurrent-changes"].as<int>();
    ApplyResult r = apply(resolved, target, opts);
    for (const auto& w : r.warnings)
        std::cerr << "awf-net: warning: " << w << "\n";
    std::cout << r.summary << "\n";
    return 0;
}

int cmd_delete(const std::vector<std::string>& args, const Context&) {
    po::options_description desc("awf-net delete TARGET [--table NAME]");
    desc.add(target_options());
    desc.add_options()("table", po::value<std::string>()->value_name("NAME"),
                       "table name (default awf)")("help,h", "this help");
    auto vm = parse(args, desc, "delete");
    if (printed_help(vm, desc)) return 0;
    Target target = read_target(vm);
    if (target.empty()) throw Error(ExitCode::target, "delete", "no target: give --netns or --pid");
    std::string table = table_name(vm);
    bool existed = remove_table(table, target);
    std::cout << (existed ? "deleted" : "absent") << " table inet " << table << " in "
              << target.describe() << "\n";
    return 0;
}

std::string join(const std::vector<IpAddr>& v) {
    std::string s;
    for (const auto& a : v)
        s += (s.empty() ? "" : ", ") + a.str();
    return s.empty() ? "none" : s;
}

// The inputs read back from the sets and rules, one line each, for people.
std::vector<std::string> summary_lines(const PlanInputs& in) {
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
            "; redirected TCP ports " + in.web_ports.str(),
        "proxies (TCP ports) " + proxies,
        "resolvers " + join(in.dns),
        "host gateways " + join(in.gateways) +
            (in.gateways.empty() ? "" : " (TCP ports " + in.gateway_ports.str() + ")"),
        "dangerous ports " + in.dangerous_ports.str(),
        "inbound " + (inbound.empty() ? std::string("none") : inbound),
        std::string("ipv6 ") + (in.ipv6 == Ipv6Mode::disable ? "disable" : "block") +
            "; blocked action " + (in.blocked_action == BlockedAction::reject ? "reject" : "drop") +
            "; log " + (in.log_group ? "group " + std::to_string(*in.log_group) : "off"),
    };
}

int cmd_dump(const std::vector<std::string>& args, const Context&) {
    po::options_description desc("awf-net dump [TARGET] [--json] [--all] [--no-counters]");
    desc.add(target_options());
    desc.add_options()("json", po::bool_switch(), "JSON for tools")(
        "all", po::bool_switch(), "also name every other table of the namespace")(
        "no-counters", po::bool_switch(), "omit counters and comments: output nft -f accepts")(
        "table", po::value<std::string>()->value_name("NAME"),
        "table name (default awf)")("help,h", "this help");
    auto vm = parse(args, desc, "dump");
    if (printed_help(vm, desc)) return 0;
    Target target = read_target(vm);
    std::string table = table_name(vm);
    Installed in = read_installed(target, table, vm["all"].as<bool>());
    std::string where = target.empty() ? "own namespace" : target.describe();
    std::optional<Verification> v;
    if (in.awf_kernel) v = verify(*in.awf_kernel);
    int rc = v && v->tampered() ? static_cast<int>(ExitCode::tampered) : 0;

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
        }
        if (vm["all"].as<bool>()) {
            j["other_tables"] = nlohmann::json::array();
            for (const auto& t : in.others)
                j["other_tables"].push_back(to_json(t));
        }
        std::cout << j.dump(2) << "\n";
        return rc;
    }
    bool counters = !vm["no-counters"].as<bool>();
    if (!in.awf) {
        std::cout << "# no table inet " << table << " in " << where << "\n";
    } else {
        if (counters) {
            std::cout << "# table inet " << table << " in " << where << "\n";
            if (!v->recorded_version.empty())
                std::cout << "# installed by awf-net " << v->recorded_version
                          << ", policy sha256:" << v->recorded_digest.substr(0, 12) << "\n";
            if (v->inputs)
                for (const auto& line : summary_lines(*v->inputs))
                    std::cout << "#   " << line << "\n";
            if (!v->note.empty()) std::cout << "# " << v->note << "\n";
            if (v->tampered()) {
                std::cout << "# TAMPERED: differs from its recorded policy:\n";
                for (const auto& d : v->differences)
                    std::cout << "#   " << d << "\n";
            } else if (v->checked) {
                std::cout << "# verified: equal to what its recorded policy plans\n";
            }
        }
        std::cout << to_nft_text(*in.awf, NftTextOptions{counters});
    }
    for (const auto& t : in.others) {
        std::cout << "\n# also in this namespace: table " << t.family << " " << t.name
                  << " (not awf-net's; rules outside awf-net's vocabulary are shown raw)\n";
        std::cout << to_nft_text(t, NftTextOptions{counters});
    }
    if (rc)
        std::cerr << "awf-net: error: dump: table inet " << table << " in " << where
                  << " differs from its recorded policy\n";
    return rc;
}

bool policy_given(const po::variables_map& vm) {
    return !raw_from_variables(vm).empty() || vm.count("config") || vm["from-env"].as<bool>();
}

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
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw Error(ExitCode::invalid_input, "explain", e.what());
    }
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
        std::cout << nlohmann::json{{"source", source}, {"flows", out}}.dump(2) << "\n";
    return 0;
}

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
            wait_ms = static_cast<int>(left);
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

int cmd_run(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc(
        "awf-net run TARGET [POLICY] (--user USER[:GROUP] | --as-root) -- COMMAND [ARG...]");
    desc.add(target_options()).add(policy_options_description());
    desc.add_options()("user", po::value<std::string>()->value_name("USER[:GROUP]"),
                       "run COMMAND as this user (groups reset)")(
        "as-root", po::bool_switch(),
        "run COMMAND as root (still without any capability)")("help,h", "this help");
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
    SandboxSpec spec{target, std::nullopt, command};
    if (!as_root) spec.user = parse_identity(vm["user"].as<std::string>());

    Policy policy = read_policy(vm, ctx.env);
    ApplyResult r = apply(resolve_for(policy, target), target, ApplyOptions{});
    for (const auto& w : r.warnings)
        std::cerr << "awf-net: warning: " << w << "\n";
    if (ctx.verbose) std::cerr << "awf-net: " << r.summary << "\n";
    enter_sandbox_and_exec(spec);
}

std::string read_stdin_bounded(size_t max) {
    std::string data;
    char buf[8192];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
        data.append(buf, static_cast<size_t>(std::cin.gcount()));
        if (data.size() > max) throw input_error("OCI state", "", "larger than 1 MiB");
    }
    return data;
}

std::string read_file_bounded(const std::string& path, const std::string& what) {
    std::ifstream in(path);
    if (!in) throw input_error(what, path, "cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Same inode: the container would share awf-net's own network namespace.
bool same_namespace(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int cmd_oci_hook(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc(
        "awf-net oci-hook [POLICY] [--allow-caps]  (OCI state JSON on standard input)");
    desc.add(policy_options_description());
    desc.add_options()("allow-caps", po::bool_switch(),
                       "accept containers that keep CAP_NET_RAW, CAP_NET_ADMIN or CAP_SYS_ADMIN")(
        "help,h", "this help");
    auto vm = parse(args, desc, "oci-hook");
    if (printed_help(vm, desc)) return 0;

    OciState state = parse_oci_state(read_stdin_bounded(1 << 20));
    const std::string who =
        "container " + (state.id.empty() ? "pid " + std::to_string(state.pid) : state.id);
    std::string proc = "/proc/" + std::to_string(state.pid);
    if (::access(proc.c_str(), F_OK) != 0)
        throw Error(ExitCode::target, "OCI state.pid", "no such process",
                    std::to_string(state.pid));
    OciBundle bundle = parse_oci_bundle(
        read_file_bounded(state.bundle + "/config.json", "OCI bundle config"), state.bundle);
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
    // Without its own network namespace the container is in the runtime's (the host's): the
    // hook must never firewall that.
    if (same_namespace(proc + "/ns/net", "/proc/self/ns/net"))
        throw Error(ExitCode::target, who,
                    "shares awf-net's own network namespace; refusing to firewall the host");

    RawOptions raw = raw_from_variables(vm);
    if (vm.count("config"))
        merge_lower_precedence(raw, raw_from_config_file(vm["config"].as<std::string>()));
    if (state.config_file) {
        if ((*state.config_file)[0] != '/')
            throw input_error(std::string("annotation ") + kConfigAnnotation, *state.config_file,
                              "not an absolute path");
        merge_lower_precedence(raw, raw_from_config_file(*state.config_file));
    }
    if (vm["from-env"].as<bool>()) merge_lower_precedence(raw, raw_from_env(ctx.env));
    Policy policy = policy_from_raw(raw);

    Target target;
    target.pid = state.pid;
    target.hosts_file =
        bundle.hosts_file; // never /proc/PID/root: at createRuntime that is the host's
    ApplyResult r = apply(resolve_for(policy, target), target, ApplyOptions{});
    for (const auto& w : r.warnings)
        std::cerr << "awf-net: warning: " << w << "\n";
    std::cout << who << ": " << r.summary << "\n";
    return 0;
}

} // namespace

std::string usage() {
    return "usage: awf-net COMMAND [OPTIONS]\n"
           "\n"
           "commands:\n"
           "  apply    TARGET [POLICY] [--dry-run] [--print nft|json]   install the egress policy\n"
           "  delete   TARGET                                          remove awf-net's table\n"
           "  dump     [TARGET] [--json] [--all] [--no-counters]       what is installed, with "
           "counters\n"
           "  version                                                  print the version\n"
           "\n"
           "TARGET is --netns NAME|PATH or --pid PID. `awf-net COMMAND --help` lists every "
           "option.\n";
}

int run_command(const std::string& command, const std::vector<std::string>& args,
                const Context& ctx) {
    if (command == "apply") return cmd_apply(args, ctx);
    if (command == "delete") return cmd_delete(args, ctx);
    if (command == "dump") return cmd_dump(args, ctx);
    if (command == "explain") return cmd_explain(args, ctx);
    if (command == "watch") return cmd_watch(args, ctx);
    if (command == "run") return cmd_run(args, ctx);
    if (command == "oci-hook") return cmd_oci_hook(args, ctx);
    if (command == "version") {
        std::cout << "awf-net " << AWF_VERSION << "\n";
        return 0;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << usage();
        return 0;
    }
    throw Error(ExitCode::invalid_input, "command", "unknown command", command);
}

} // namespace awf::cli
