// The command-line front end of cli.md: one function per command, each returning the process
// exit code. Errors are thrown as awf::Error and printed by cli_main as one line.
#pragma once

#include "awf/kernel/transaction.hpp"
#include "awf/policy/policy_options.hpp"

#include <string>
#include <vector>

namespace awf::cli {

struct Context {
    EnvLookup env;
    bool verbose = false;
    // The transaction's seams; only the fault-injection test binary sets other hooks.
    const ApplyHooks* hooks = nullptr;

    const ApplyHooks& apply_hooks() const {
        static const ApplyHooks none;
        return hooks ? *hooks : none;
    }
};

using Args = std::vector<std::string>;

int cmd_apply(const Args& args, const Context& ctx);
int cmd_delete(const Args& args, const Context& ctx);
int cmd_dump(const Args& args, const Context& ctx);
int cmd_explain(const Args& args, const Context& ctx);
int cmd_watch(const Args& args, const Context& ctx);
int cmd_run(const Args& args, const Context& ctx);
int cmd_oci_hook(const Args& args, const Context& ctx);
int cmd_squid_conf(const Args& args, const Context& ctx);
int cmd_cni_install(const Args& args, const Context& ctx);
int cmd_ps(const Args& args, const Context& ctx);
int cmd_gc(const Args& args, const Context& ctx);

// The chained CNI plugin (CNI_COMMAND in the environment, no arguments): answers in CNI's JSON
// on standard output and exits 0 or 1 as the CNI spec wants.
int cni_plugin(const Context& ctx);

int run_command(const std::string& command, const Args& args, const Context& ctx);
std::string usage();

// The whole process: argv in, exit code out, every error printed as one line.
int cli_main(int argc, char** argv, const ApplyHooks* hooks = nullptr);

} // namespace awf::cli
