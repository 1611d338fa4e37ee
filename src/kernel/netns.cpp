#include "awf/base/platform.hpp"

#include "awf/kernel/netns.hpp"

#include "awf/base/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <memory>
#include <sched.h>
#include <string_view>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace awf {

std::string Target::describe() const {
    return pid ? "--pid " + std::to_string(pid) : "--netns " + netns;
}

std::string Target::namespace_path() const {
    if (pid) return "/proc/" + std::to_string(pid) + "/ns/net";
    if (netns.find('/') != std::string::npos) return netns;
    return "/run/netns/" + netns;
}

HostsFile Target::default_hosts_file() const {
    if (!hosts_file.empty()) return {hosts_root, hosts_file};
    // The container's own view of its root: links in it are resolved there, never on the host.
    if (pid) {
        std::string proc = resolved->proc_dir
                               ? "/proc/self/fd/" + std::to_string(resolved->proc_dir.get())
                               : "/proc/" + std::to_string(pid);
        return {proc + "/root", "etc/hosts"};
    }
    if (!netns.empty() && netns.find('/') == std::string::npos) {
        std::string per_ns = "/etc/netns/" + netns + "/hosts";
        struct stat st {};
        if (::lstat(per_ns.c_str(), &st) == 0) return {{}, per_ns};
        return {{}, "/etc/hosts"};
    }
    return {}; // a namespace path: no hosts file unless --hosts-file
}

namespace {

Fd reopen_readable(const Fd& path_fd) {
    return Fd(
        ::open(("/proc/self/fd/" + std::to_string(path_fd.get())).c_str(), O_RDONLY | O_CLOEXEC));
}

void resolve(const Target& t, const std::string& describe) {
    ResolvedNamespace& r = *t.resolved;
    if (!t.netns.empty() && t.netns.find('/') == std::string::npos &&
        (t.netns == "." || t.netns == ".."))
        throw Error(ExitCode::target, describe, "not a namespace name");
    std::string path = t.namespace_path();
    auto fail = [&](const std::string& why) {
        return Error(ExitCode::target, describe, why, path);
    };
    // O_PATH first: a FIFO or a device given as a path is never opened, so nothing blocks.
    Fd file;
    if (t.pid) {
        r.proc_dir = Fd(
            ::open(("/proc/" + std::to_string(t.pid)).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!r.proc_dir) throw fail(std::strerror(errno));
        file = Fd(::openat(r.proc_dir.get(), "ns/net", O_PATH | O_CLOEXEC));
    } else {
        file = Fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    }
    if (!file) throw fail(std::strerror(errno));
    struct statfs fs {};
    if (::fstatfs(file.get(), &fs) != 0 || fs.f_type != NSFS_MAGIC)
        throw fail("not a namespace file");
    Fd ns = reopen_readable(file);
    if (!ns) throw fail(std::strerror(errno));
    if (::ioctl(ns.get(), NS_GET_NSTYPE) != CLONE_NEWNET) throw fail("not a network namespace");
    r.ns = std::move(ns);
}

} // namespace

NamespaceHandle NamespaceHandle::open(const Target& t) {
    NamespaceHandle h;
    h.describe_ = t.describe();
    if (!t.resolved->ns) resolve(t, h.describe_);
    h.fd_ = Fd(::fcntl(t.resolved->ns.get(), F_DUPFD_CLOEXEC, 0));
    if (!h.fd_) throw Error(ExitCode::internal, h.describe_, std::strerror(errno));
    return h;
}

NamespaceHandle NamespaceHandle::open_foreign(const Target& t) {
    NamespaceHandle h = open(t);
    if (h.is_own())
        throw Error(ExitCode::target, h.describe_,
                    "is awf-net's own network namespace; refusing to change it (run awf-net "
                    "from another namespace, such as the host's)",
                    t.namespace_path());
    return h;
}

NamespaceHandle NamespaceHandle::current() {
    NamespaceHandle h;
    h.describe_ = "own namespace";
    h.fd_ = Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!h.fd_) throw Error(ExitCode::internal, "/proc/thread-self/ns/net", std::strerror(errno));
    return h;
}

bool NamespaceHandle::is_own() const {
    NamespaceHandle own = current();
    struct stat a {
    }, b{};
    return ::fstat(fd(), &a) == 0 && ::fstat(own.fd(), &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int other_process_in(const NamespaceHandle& ns, int except_pid) {
    struct stat want {};
    if (::fstat(ns.fd(), &want) != 0)
        throw Error(ExitCode::internal, ns.describe(), std::strerror(errno));
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    if (!proc) throw Error(ExitCode::internal, "/proc", std::strerror(errno));
    while (dirent* e = ::readdir(proc.get())) {
        std::string_view name = e->d_name;
        if (name.empty() || name.find_first_not_of("0123456789") != std::string_view::npos)
            continue;
        int pid = std::atoi(e->d_name);
        if (pid == except_pid) continue;
        struct stat st {};
        if (::fstatat(::dirfd(proc.get()), (std::string(name) + "/ns/net").c_str(), &st, 0) == 0 &&
            st.st_dev == want.st_dev && st.st_ino == want.st_ino)
            return pid;
    }
    return 0;
}

NamespaceScope::NamespaceScope(const NamespaceHandle& target)
    : previous_(NamespaceHandle::current()) {
    if (::setns(target.fd(), CLONE_NEWNET) != 0)
        throw Error(ExitCode::target, target.describe(),
                    std::string("setns: ") + std::strerror(errno));
}

NamespaceScope::~NamespaceScope() {
    // Failing to go back would leave later code acting on the wrong namespace; nothing sane
    // can continue from there.
    if (::setns(previous_.fd(), CLONE_NEWNET) != 0) std::abort();
}

} // namespace awf
