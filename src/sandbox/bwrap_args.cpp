#include "awf/base/platform.hpp"

#include "awf/sandbox/process_sandbox.hpp"

namespace awf {

std::vector<std::string> bwrap_argv(const ProcessSandbox& s) {
    std::vector<std::string> a = {kBwrap};
    auto add = [&](std::initializer_list<std::string> words) { a.insert(a.end(), words); };
    // A PID namespace: no host process can be signalled or ptraced, and the command's own
    // children die with it (bubblewrap is its init; --die-with-parent kills it with awf-net).
    add({"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
         "--die-with-parent"});
    if (s.user_namespace)
        // Ids inside mean the unprivileged outside ids; no further user namespace inside.
        add({"--unshare-user", "--uid", std::to_string(s.uid), "--gid", std::to_string(s.gid),
             "--disable-userns"});
    // Read-only root first (recursive: every submount too), then what covers parts of it.
    add({"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"});
    // bubblewrap's new /proc leaves /proc/sys writable, and the kernel lets uid 0 write a sysctl
    // without any capability (core_pattern would run a program as the host's root).
    add({"--ro-bind", "/proc/sys", "/proc/sys"});
    for (const auto& d : s.hidden)
        add({"--tmpfs", d});
    for (const auto& d : s.private_homes)
        add({"--tmpfs", d});
    for (const auto& [src, dst] : s.read_only_files)
        add({"--ro-bind", src, dst});
    for (const auto& w : s.writable)
        add({"--bind-fd", std::to_string(w.fd), w.dest});
    if (!s.cwd.empty()) add({"--chdir", s.cwd});
    if (s.seccomp_fd >= 0) add({"--seccomp", std::to_string(s.seccomp_fd)});
    add({"--cap-drop", "ALL"});
    if (!s.user_namespace) {
        // As root, bubblewrap empties every set but the bounding set; setpriv(1) empties that
        // too (CAP_SETPCAP), switches user (CAP_SETUID, CAP_SETGID) and keeps nothing after.
        add({"--cap-add", "CAP_SETPCAP"});
        if (s.uid != 0) add({"--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"});
    }
    a.push_back("--");
    if (!s.user_namespace) {
        a.push_back(kSetpriv);
        if (s.uid != 0)
            add({"--reuid", std::to_string(s.uid), "--regid", std::to_string(s.gid),
                 "--clear-groups"});
        add({"--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"});
    }
    a.insert(a.end(), s.command.begin(), s.command.end());
    return a;
}

} // namespace awf
