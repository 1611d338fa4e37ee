#include "awf/base/platform.hpp"

#include "awf/sandbox/sandbox.hpp"

#include "awf/base/error.hpp"

#include <cap-ng.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <iostream>
#include <linux/mount.h>
#include <memory>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

void mount_or_throw(const char* src, const char* dst, const char* type, unsigned long flags,
                    const std::string& step) {
    if (::mount(src, dst, type, flags, nullptr) != 0) throw step_failed(step);
}

// What `ip netns exec NAME` does: the namespace's own resolv.conf, hosts, ... over /etc.
void bind_netns_etc(const Target& t) {
    if (t.netns.empty() || t.netns.find('/') != std::string::npos) return;
    std::string dir = "/etc/netns/" + t.netns;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        std::string src = dir + "/" + name, dst = "/etc/" + name;
        struct stat st {};
        if (::lstat(dst.c_str(), &st) != 0) continue; // nothing to cover
        mount_or_throw(src.c_str(), dst.c_str(), nullptr, MS_BIND, "bind " + src + " over " + dst);
    }
}

// mount_setattr(2) (Linux 5.12): one call changes a whole tree of mounts and keeps each mount's
// other flags (nosuid, nodev, noexec) as they were.
void set_read_only(const std::string& path, bool read_only, bool recursive) {
    mount_attr attr{};
    (read_only ? attr.attr_set : attr.attr_clr) = MOUNT_ATTR_RDONLY;
    unsigned flags = recursive ? AT_RECURSIVE : 0;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), flags, &attr, sizeof attr) != 0)
        throw step_failed(std::string(read_only ? "make " : "make writable ") + path +
                          (read_only ? " read-only" : ""));
}

// The kernel's own account of this process's capability sets, not libcap-ng's cached one.
void verify_no_capabilities() {
    std::ifstream status("/proc/self/status");
    std::string line;
    int seen = 0;
    while (std::getline(status, line)) {
        for (const char* key : {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"}) {
            if (line.rfind(key, 0) != 0) continue;
            ++seen;
            if (line.find_first_not_of("0 \t", std::strlen(key)) != std::string::npos)
                throw Error(ExitCode::internal, "run: drop capabilities",
                            "the kernel still reports " + line);
        }
        if (line.rfind("NoNewPrivs:", 0) == 0) {
            ++seen;
            if (line.find('1') == std::string::npos)
                throw Error(ExitCode::internal, "run: no_new_privs", "not set: " + line);
        }
    }
    if (seen != 6)
        throw Error(ExitCode::internal, "run: drop capabilities",
                    "cannot read the capability sets from /proc/self/status");
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

    // The process joins the namespace for good (NamespaceScope would switch back).
    NamespaceHandle ns = NamespaceHandle::open(spec.target);
    if (::setns(ns.fd(), CLONE_NEWNET) != 0)
        throw Error(ExitCode::target, spec.target.describe(), std::strerror(errno));

    // A private mount namespace: the read-only /proc/sys and /etc binds are the command's alone.
    if (::unshare(CLONE_NEWNS) != 0) throw step_failed("unshare mount namespace");
    mount_or_throw(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, "make mounts private");
    bind_netns_etc(spec.target);
    // Root without capabilities can still write files it owns; /proc/sys/net (IPv6,
    // route_localnet, ...) must not be one of them.
    mount_or_throw("/proc/sys", "/proc/sys", nullptr, MS_BIND | MS_REC, "bind /proc/sys");
    mount_or_throw(nullptr, "/proc/sys", nullptr,
                   MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "remount /proc/sys read-only");
    // Each writable path becomes a mount of its own, so that it can stay writable below.
    for (const auto& w : spec.writable)
        mount_or_throw(w.c_str(), w.c_str(), nullptr, MS_BIND | MS_REC, "bind --writable " + w);
    set_read_only("/", true, true);
    for (const auto& w : spec.writable)
        set_read_only(w, false, false);

    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw step_failed("no_new_privs");

    // Every set empty, bounding and ambient included; the securebits locked so that exec as
    // root grants nothing back.
    capng_clear(CAPNG_SELECT_ALL);
    if (spec.user) {
        int rc =
            capng_change_id(static_cast<int>(spec.user->uid), static_cast<int>(spec.user->gid),
                            static_cast<capng_flags_t>(CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
                                                       CAPNG_CLEAR_AMBIENT));
        if (rc != 0)
            throw Error(ExitCode::internal, "run: switch to " + spec.user->describe,
                        "libcap-ng error " + std::to_string(rc));
    } else {
        if (::setgroups(0, nullptr) != 0) throw step_failed("drop supplementary groups");
        if (capng_lock() != 0)
            throw Error(ExitCode::internal, "run: lock securebits", "libcap-ng refused");
        if (capng_apply(CAPNG_SELECT_ALL) != 0)
            throw Error(ExitCode::internal, "run: drop capabilities", "libcap-ng refused");
    }
    if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
        throw Error(ExitCode::internal, "run: drop capabilities", "some remained");
    verify_no_capabilities();

    std::vector<char*> argv;
    for (const auto& a : spec.command)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    int err = errno;
    std::cerr << "awf-net: error: run: " << spec.command[0] << ": " << std::strerror(err) << "\n";
    std::_Exit(err == ENOENT ? 127 : 126);
}

} // namespace awf
