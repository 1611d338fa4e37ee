#include "awf/base/platform.hpp"

#include "awf/sandbox/sandbox.hpp"

#include "awf/base/error.hpp"
#include "awf/base/fd.hpp"
#include "awf/sandbox/process_sandbox.hpp"
#include "awf/sandbox/seccomp.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <iostream>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <memory>
#include <pwd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace awf {

namespace {

std::optional<unsigned> number(const std::string& s) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

Error step_failed(const std::string& step) {
    return Error(ExitCode::internal, "run: " + step, std::strerror(errno));
}

// What `ip netns exec NAME` does: the namespace's own resolv.conf, hosts, ... over /etc.
std::vector<std::pair<std::string, std::string>> netns_etc_files(const Target& t) {
    std::vector<std::pair<std::string, std::string>> out;
    if (t.netns.empty() || t.netns.find('/') != std::string::npos) return out;
    std::string dir = "/etc/netns/" + t.netns;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        if (::lstat(("/etc/" + name).c_str(), &st) != 0) continue; // nothing to cover
        out.emplace_back(dir + "/" + name, "/etc/" + name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Only real directories: /var/run is a link to /run on most systems, hidden with it.
std::vector<std::string> existing_directories(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) out.push_back(p);
    }
    return out;
}

struct Outside {
    uid_t uid;
    gid_t gid;
};

// Root inside the sandbox is nobody outside: it owns nothing of the host's.
Outside outside_ids(const Identity& inside) {
    if (inside.uid != 0) return {inside.uid, inside.gid};
    const passwd* pw = ::getpwnam("nobody");
    return pw ? Outside{pw->pw_uid, pw->pw_gid} : Outside{65534, 65534};
}

// Become `who` for good: supplementary groups gone, then gid, then uid (which clears every
// capability, the bounding set aside; no_new_privs keeps exec from granting any back).
bool become(const Outside& who) {
    return ::setgroups(0, nullptr) == 0 && ::setresgid(who.gid, who.gid, who.gid) == 0 &&
           ::setresuid(who.uid, who.uid, who.uid) == 0;
}

// Whether `who` may make a user namespace here (user.max_user_namespaces, a distribution's
// unprivileged_userns_clone, an LSM): asked of the kernel in a child that then exits.
bool user_namespaces_allowed(const Outside& who) {
    pid_t child = ::fork();
    if (child < 0) throw step_failed("fork");
    if (child == 0) std::_Exit(become(who) && ::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0)
        if (errno != EINTR) throw step_failed("wait");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Fd seccomp_program() {
    auto filter = command_syscall_filter();
    // Inherited by bubblewrap (no close-on-exec), which reads it whole.
    Fd fd(static_cast<int>(::syscall(SYS_memfd_create, "awf-net-seccomp", 0)));
    if (!fd) throw step_failed("memfd_create");
    size_t size = filter.size() * sizeof(sock_filter);
    if (::write(fd.get(), filter.data(), size) != static_cast<ssize_t>(size) ||
        ::lseek(fd.get(), 0, SEEK_SET) != 0)
        throw step_failed("write the seccomp program");
    return fd;
}

bool within(const std::string& inner, const std::string& outer) {
    return inner == outer || outer == "/" ||
           (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
            inner[outer.size()] == '/');
}

// Each --writable path, opened once: its canonical path, then that path again with no symbolic
// link allowed anywhere on it, so the descriptor is the checked directory. bubblewrap mounts
// the descriptor (--bind-fd): a path re-resolved later could have been swapped meanwhile (by
// another sandbox writing the parent) for a link to a hidden directory. A path that is, holds
// or lies in a hidden directory would uncover it again: refused.
std::vector<std::pair<Fd, std::string>> open_writable(const std::vector<std::string>& writable,
                                                      const std::vector<std::string>& hidden) {
    std::vector<std::pair<Fd, std::string>> out;
    for (const auto& w : writable) {
        std::unique_ptr<char, void (*)(void*)> real(::realpath(w.c_str(), nullptr), std::free);
        if (!real) throw input_error("--writable", w, std::strerror(errno));
        std::string r = real.get();
        for (const auto& h : hidden)
            if (within(r, h) || within(h, r))
                throw input_error("--writable", w,
                                  "would uncover " + h + ", which the command must not reach");
        open_how how{};
        how.flags = O_PATH | O_CLOEXEC;
        how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        Fd fd(static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, r.c_str(), &how, sizeof how)));
        if (!fd)
            throw input_error("--writable", w,
                              errno == ELOOP ? "changed while it was checked (a symbolic link "
                                               "appeared on its path)"
                                             : std::strerror(errno));
        out.emplace_back(std::move(fd), r);
    }
    return out;
}

// The target's network namespace must belong to awf-net's own user namespace: one that a user
// namespace of the command's uid owned would give the command every capability over it (a
// rootless container's), policy included.
void refuse_foreign_owner(const NamespaceHandle& ns) {
    Fd owner(::ioctl(ns.fd(), NS_GET_USERNS));
    Fd own(::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
    struct stat a {
    }, b{};
    if (!owner || !own || ::fstat(owner.get(), &a) != 0 || ::fstat(own.get(), &b) != 0)
        throw step_failed("find the owner of the target's namespace");
    if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        throw Error(ExitCode::target, ns.describe(),
                    "belongs to another user namespace; without a user namespace of its own, "
                    "COMMAND could hold capabilities over its policy");
}

// execvp's search, done before the sandbox exists so that a missing command is 127 (as env(1)
// says it), not bubblewrap's 1. The sandbox sees the same tree, read-only.
std::optional<std::string> find_command(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        struct stat st {};
        if (::stat(name.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return std::nullopt;
        return name;
    }
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t colon = dirs.find(':', start);
        std::string dir = dirs.substr(start, colon == std::string::npos ? colon : colon - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return candidate;
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return std::nullopt;
}

} // namespace

Identity parse_identity(const std::string& spec) {
    Identity id;
    id.describe = spec;
    auto colon = spec.find(':');
    std::string user = spec.substr(0, colon);
    if (user.empty()) throw input_error("--user", spec, "no user");
    if (auto n = number(user)) {
        id.uid = *n;
        const passwd* pw = ::getpwuid(id.uid);
        id.gid = pw ? pw->pw_gid : id.uid;
    } else {
        const passwd* pw = ::getpwnam(user.c_str());
        if (!pw) throw input_error("--user", spec, "no such user");
        id.uid = pw->pw_uid;
        id.gid = pw->pw_gid;
    }
    if (colon != std::string::npos) {
        std::string group = spec.substr(colon + 1);
        if (auto n = number(group)) {
            id.gid = *n;
        } else {
            const struct group* g = ::getgrnam(group.c_str());
            if (!g) throw input_error("--user", spec, "no such group");
            id.gid = g->gr_gid;
        }
    }
    return id;
}

void enter_sandbox_and_exec(const SandboxSpec& spec) {
    if (spec.command.empty()) throw Error(ExitCode::invalid_input, "run", "no COMMAND after --");
    if (::access(kBwrap, X_OK) != 0)
        throw Error(ExitCode::internal, "run", "bubblewrap is needed for the command's sandbox",
                    kBwrap);
    auto program = find_command(spec.command[0]);
    if (!program) {
        std::cerr << "awf-net: error: run: " << spec.command[0] << ": command not found\n";
        std::_Exit(127);
    }

    // The process joins the namespace for good (NamespaceScope would switch back); bubblewrap
    // and the command inherit it. It is owned by the host's user namespace, so no capability
    // the command could gain in a namespace of its own reaches its policy or /proc/sys/net.
    NamespaceHandle ns = NamespaceHandle::open_foreign(spec.target);
    if (::setns(ns.fd(), CLONE_NEWNET) != 0)
        throw Error(ExitCode::target, spec.target.describe(), std::strerror(errno));

    Identity inside = spec.user.value_or(Identity{0, 0, "root"});
    Outside outside = outside_ids(inside);
    ProcessSandbox box;
    box.uid = inside.uid;
    box.gid = inside.gid;
    box.user_namespace = spec.user_namespaces && user_namespaces_allowed(outside);
    if (!box.user_namespace) {
        // Root without a user namespace is the host's root without capabilities: it owns the
        // host's files (setuid files left in a --writable path, /etc/shadow), which no wall
        // here takes away. Refused rather than half-sandboxed.
        if (inside.uid == 0)
            throw Error(ExitCode::invalid_input, "run --as-root",
                        "needs a user namespace (root inside, nobody outside), which this "
                        "platform refuses; run COMMAND with --user");
        refuse_foreign_owner(ns);
    }
    box.read_only_files = netns_etc_files(spec.target);
    box.hidden = existing_directories(sensitive_directories());
    box.private_homes = existing_directories(home_directories());
    auto writable = open_writable(spec.writable, sensitive_directories());
    for (const auto& [fd, dest] : writable)
        box.writable.push_back({fd.get(), dest});
    Fd seccomp = seccomp_program();
    box.seccomp_fd = seccomp.get();
    box.command = spec.command;
    box.command[0] = *program;
    std::vector<std::string> args = bwrap_argv(box);

    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw step_failed("no_new_privs");
    // Nothing the caller holds open passes in (a directory descriptor is a way out of every
    // mount above), but the seccomp program bubblewrap reads.
    if (::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        throw step_failed("close descriptors on exec");
    if (::fcntl(seccomp.get(), F_SETFD, 0) != 0) throw step_failed("keep the seccomp program");
    for (const auto& [fd, dest] : writable)
        if (::fcntl(fd.get(), F_SETFD, 0) != 0) throw step_failed("keep " + dest + " open");
    // A session keyring of its own: the caller's keys are not the command's.
    if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) < 0)
        throw step_failed("join a new session keyring");
    if (box.user_namespace && !become(outside))
        throw step_failed("switch to uid " + std::to_string(outside.uid));
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(kBwrap, argv.data());
    throw step_failed(std::string("exec ") + kBwrap);
}

} // namespace awf
