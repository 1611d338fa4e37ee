// What `awf-net run` asks of bubblewrap (Debian's `bubblewrap`, the sandbox Flatpak uses) for the
// command: its own PID, IPC and mount namespaces; a private /dev, /tmp and /run; awf-net's state
// out of sight; the root file system read-only but the paths the operator names; no capability,
// no_new_privs; and, where the platform allows user namespaces, ids that mean nothing on the
// host (root inside is `nobody` outside). Pure: the argument vector is planned here and
// unit-tested; sandbox.cpp carries it out.
#pragma once

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace awf {

inline constexpr const char* kBwrap = "/usr/bin/bwrap";
inline constexpr const char* kSetpriv = "/usr/bin/setpriv";

struct ProcessSandbox {
    // true: bubblewrap runs unprivileged (as `outside_uid`) and makes a user namespace in which
    // the command is `uid`/`gid`. false (the platform refuses user namespaces): bubblewrap runs
    // as root and setpriv(1) switches to `uid`/`gid` after it, with every capability gone.
    bool user_namespace = true;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::pair<std::string, std::string>> read_only_files; // source, destination
    std::vector<std::string> hidden; // directories replaced by an empty tmpfs
    // The same, but --writable paths (the current directory) inside them are bound back: home
    // directories hold the caller's sockets (ssh ControlMaster, an agent, a desktop engine's
    // docker.sock), which a read-only mount does not stop anyone connecting to.
    std::vector<std::string> private_homes;
    // Bound read-write, after everything else: each an open O_PATH descriptor (what was checked
    // is what is mounted, whatever is renamed meanwhile) and where it goes.
    struct Writable {
        int fd = -1;
        std::string dest;
    };
    std::vector<Writable> writable;
    std::string cwd;
    int seccomp_fd = -1; // a BPF program for --seccomp, or -1
    std::vector<std::string> command;
};

// argv for execv(kBwrap, ...), argv[0] included.
std::vector<std::string> bwrap_argv(const ProcessSandbox& s);

// Host directories whose contents the command must not reach: the runtime directories (every
// container engine's and systemd's sockets live below /run), awf-net's key. Only those that
// exist are hidden (bubblewrap cannot mount over a missing directory of a read-only tree).
inline const std::vector<std::string>& sensitive_directories() {
    static const std::vector<std::string> dirs = {"/run", "/var/run", "/var/lib/awf-net"};
    return dirs;
}
inline const std::vector<std::string>& home_directories() {
    static const std::vector<std::string> dirs = {"/home", "/root"};
    return dirs;
}

} // namespace awf
