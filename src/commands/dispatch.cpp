#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"

#include "awf/base/error.hpp"

#include <cstdlib>
#include <iostream>

namespace awf::cli {

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

int cli_main(int argc, char** argv, const ApplyHooks* hooks) {
    if (argc < 2) {
        std::cerr << usage();
        return static_cast<int>(ExitCode::invalid_input);
    }
    Args args(argv + 2, argv + argc);
    Context ctx;
    ctx.hooks = hooks;
    ctx.env = [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
    try {
        return run_command(argv[1], args, ctx);
    } catch (const Error& e) {
        std::cerr << "awf-net: error: " << e.what() << "\n";
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "awf-net: error: internal: " << e.what() << "\n";
        return static_cast<int>(ExitCode::internal);
    }
}

} // namespace awf::cli
