#include "awf/base/platform.hpp"

#include "awf/kernel/netns.hpp"

#include "awf/base/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
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
    if (pid) return {"/proc/" + std::to_string(pid) + "/root", "etc/hosts"};
    if (!netns.empty() && netns.find('/') == std::string::npos) {
        std::string per_ns = "/etc/netns/" + netns + "/hosts";
        struct stat st {};
        if (::lstat(per_ns.c_str(), &st) == 0) return {{}, per_ns};
        return {{}, "/etc/hosts"};
    }
    return {}; // a namespace path: no hosts file unless --hosts-file
}

NamespaceHandle NamespaceHandle::open(const Target& t) {
    NamespaceHandle h;
    h.describe_ = t.describe();
    if (!t.netns.empty() && t.netns.find('/') == std::string::npos &&
        (t.netns == "." || t.netns == ".." || t.netns.empty()))
        throw Error(ExitCode::target, h.describe_, "not a namespace name");
    std::string path = t.namespace_path();
    h.fd_ = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!h.fd_) throw Error(ExitCode::target, h.describe_, std::strerror(errno), path);
    struct statfs fs {};
    // A network namespace file lives on nsfs; anything else (a plain file, a mount namespace)
    // is refused before setns gets a chance to misread it.
    if (::fstatfs(h.fd_.get(), &fs) != 0 ||
        (fs.f_type != NSFS_MAGIC && fs.f_type != PROC_SUPER_MAGIC))
        throw Error(ExitCode::target, h.describe_, "not a namespace file", path);
    return h;
}

NamespaceHandle NamespaceHandle::current() {
    NamespaceHandle h;
    h.describe_ = "own namespace";
    h.fd_ = Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!h.fd_) throw Error(ExitCode::internal, "/proc/thread-self/ns/net", std::strerror(errno));
    return h;
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
