// Turning this process into the sandboxed command (`awf-net run`): join the target network
// namespace, then exec bubblewrap with the sandbox process_sandbox.hpp plans (PID, IPC, mount
// and, where allowed, user namespaces; private /dev, /tmp, /run; no capability; no_new_privs;
// the requested user). Every step before exec is checked; nothing runs half-done.
#pragma once

#include "awf/kernel/netns.hpp"

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace awf {

struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string describe;
};

// USER[:GROUP], names or numbers; throws awf::Error (exit 2) naming the value.
Identity parse_identity(const std::string& spec);

struct SandboxSpec {
    Target target;
    std::optional<Identity> user; // nullopt: stay root (--as-root), still without capabilities
    std::vector<std::string> command;
    // The whole file system is read-only for the command but these (absolute paths the operator
    // names with --writable): root without capabilities still owns /etc, /usr and awf-net's
    // own files, and could otherwise undo the policy later (a cron job, a replaced binary).
    std::vector<std::string> writable;
    // false: no user namespace even where the platform allows one (AWF_RUN_NO_USERNS=1, so that
    // the fallback for platforms without them is tested where they exist).
    bool user_namespaces = true;
};

// Does not return on success. Throws awf::Error when a step fails before exec; exits 126/127
// (like env(1)) when the command cannot be executed.
[[noreturn]] void enter_sandbox_and_exec(const SandboxSpec& spec);

} // namespace awf
