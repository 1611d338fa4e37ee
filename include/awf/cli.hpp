// Subcommands of cli.md. Each returns the process exit code; errors are thrown as awf::Error
// and printed by main as one line.
#pragma once

#include "awf/policy_options.hpp"

#include <string>
#include <vector>

namespace awf::cli {

struct Context {
    EnvLookup env;
    bool verbose = false;
};

int run_command(const std::string& command, const std::vector<std::string>& args,
                const Context& ctx);
std::string usage();

} // namespace awf::cli
