#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"

#include "awf/base/error.hpp"

#include <cstdlib>
#include <iostream>

namespace awf::cli {

namespace {

struct CommandEntry {
    const char* name;
    const char* synopsis;
    const char* summary;
    int (*run)(const Args&, const Context&);
};

int cmd_version(const Args& args, const Context&) {
    if (!args.empty()) throw Error(ExitCode::invalid_input, "version", "takes no arguments");
    std::cout << "awf-net " << AWF_VERSION << "\n";
    return 0;
}

// Every command, once: dispatch, the usage text, `help COMMAND` and the bash completion read it.
constexpr CommandEntry kCommands[] = {
    {"apply", "TARGET [POLICY] [--dry-run] [--print nft|json]", "install the egress policy",
     cmd_apply},
    {"delete", "TARGET", "remove awf-net's table", cmd_delete},
    {"dump", "[TARGET] [--json] [--all] [--no-counters]", "what is installed, with counters",
     cmd_dump},
    {"explain", "[TARGET | POLICY] FLOW...", "which rule decides a flow, and the outcome",
     cmd_explain},
    {"watch", "[TARGET] [--json] [--count N] [--timeout SECONDS]", "denied packets as they happen",
     cmd_watch},
    {"run", "[TARGET] [POLICY] [DOMAINS] [--user U[:G] | --as-root] -- COMMAND",
     "run COMMAND in a sandbox (built here without TARGET)", cmd_run},
    {"ps", "[--json]", "the live sandboxes of this host", cmd_ps},
    {"gc", "", "remove what a killed run left", cmd_gc},
    {"oci-hook", "[POLICY] [--allow-caps]", "createRuntime hook: OCI state on stdin", cmd_oci_hook},
    {"squid-conf", "[POLICY] [DOMAINS] [--state-dir DIR] [--tls-cert FILE] [--fragment]",
     "Squid's configuration for the policy and its domain lists", cmd_squid_conf},
    {"cni-install", "[--conf-dir DIR] [--policy NAME] [--uninstall]",
     "chain the CNI plugin into the node's network", cmd_cni_install},
    {"version", "", "print the version", cmd_version},
};

const CommandEntry* find_command(const std::string& name) {
    for (const auto& c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

} // namespace

std::string usage() {
    std::string s = "usage: awf-net [-v] COMMAND [OPTIONS]\n\ncommands:\n";
    for (const auto& c : kCommands) {
        std::string line = std::string("  ") + c.name;
        line.resize(14, ' ');
        line += c.synopsis;
        if (line.size() < 67) line.resize(67, ' ');
        s += line + " " + c.summary + "\n";
    }
    s += "  help [COMMAND]\n\nTARGET is --netns NAME|PATH or --pid PID. `awf-net help COMMAND` "
         "lists every option.\nWith no arguments and CNI_COMMAND set, awf-net is the CNI plugin of "
         "type "
         "awf-net.\n";
    return s;
}

int run_command(const std::string& command, const Args& args, const Context& ctx) {
    if (const CommandEntry* c = find_command(command)) return c->run(args, ctx);
    if (command == "--help" || command == "-h" || command == "help") {
        if (!args.empty() && command == "help") {
            const CommandEntry* c = find_command(args.front());
            if (!c) throw Error(ExitCode::invalid_input, "help", "unknown command", args.front());
            if (c->run == cmd_version) {
                std::cout << "awf-net version\n";
                return 0;
            }
            return c->run({"--help"}, ctx);
        }
        std::cout << usage();
        return 0;
    }
    if (command == "--version") return cmd_version({}, ctx);
    throw Error(ExitCode::invalid_input, "command", "unknown command", command);
}

int cli_main(int argc, char** argv, const ApplyHooks* hooks) {
    Context ctx;
    ctx.hooks = hooks;
    ctx.env = [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
    // A runtime execs its CNI plugins with no arguments and CNI_COMMAND set (the plugin type
    // awf-net is a link to this binary in its CNI bin dir).
    if (argc < 2 && ctx.env("CNI_COMMAND")) return cni_plugin(ctx);
    if (argc < 2) {
        std::cerr << usage();
        return static_cast<int>(ExitCode::invalid_input);
    }
    // -v / --verbose, anywhere before a run's "--", is awf-net's own.
    Args all(argv + 1, argv + argc);
    Args words;
    bool passthrough = false;
    for (auto& a : all) {
        if (a == "--") passthrough = true;
        if (!passthrough && (a == "-v" || a == "--verbose"))
            ctx.verbose = true;
        else
            words.push_back(a);
    }
    if (words.empty()) {
        std::cerr << usage();
        return static_cast<int>(ExitCode::invalid_input);
    }
    std::string command = words.front();
    Args args(words.begin() + 1, words.end());
    try {
        return run_command(command, args, ctx);
    } catch (const Error& e) {
        std::cerr << "awf-net: error: " << e.what() << "\n";
        if (ctx.verbose)
            std::cerr << "awf-net: exit " << static_cast<int>(e.code()) << " ("
                      << exit_code_meaning(e.code()) << ")\n";
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "awf-net: error: internal: " << e.what() << "\n";
        return static_cast<int>(ExitCode::internal);
    }
}

} // namespace awf::cli
