// Network namespaces by name, path or pid (cli.md TARGET), and entering one for the calling
// thread with the previous one restored on scope exit.
#pragma once

#include "awf/base/fd.hpp"
#include "awf/policy/hosts_file.hpp"

#include <memory>
#include <string>

namespace awf {

// What a Target resolved to, the first time it was opened: every later open is a duplicate of
// the same namespace file, so facts, commit and `run`'s exec act on one namespace even if the
// name or pid comes to mean another one meanwhile. Shared by every copy of the Target.
struct ResolvedNamespace {
    Fd ns;       // the nsfs file, verified to be a network namespace
    Fd proc_dir; // --pid: /proc/PID, pinned to that process (lookups fail once it exits)
};

struct Target {
    std::string netns;      // --netns NAME|PATH
    int pid = 0;            // --pid PID
    std::string hosts_file; // --hosts-file, overrides the default for the target kind
    std::string hosts_root; // with hosts_file: resolve it inside this root (a bundle's rootfs)
    std::shared_ptr<ResolvedNamespace> resolved = std::make_shared<ResolvedNamespace>();

    bool empty() const { return netns.empty() && pid == 0; }
    std::string describe() const;
    std::string namespace_path() const;
    HostsFile default_hosts_file() const; // cli.md: where host.docker.internal is looked up
};

class NamespaceHandle {
public:
    // Throws awf::Error (exit 3) naming the target when it is missing or not a netns. Resolves
    // the target on its first call (see ResolvedNamespace); later calls duplicate that fd.
    static NamespaceHandle open(const Target& t);
    static NamespaceHandle current();
    // open(), refused (exit 3) when the target is awf-net's own network namespace: on a host
    // that is the host's (cli.md: awf-net never firewalls the namespace it runs in). Every
    // command that changes a namespace opens its target this way; `/proc/self/ns/net`,
    // `--pid $$` and a bind mount of either are all the same namespace by identity.
    static NamespaceHandle open_foreign(const Target& t);

    int fd() const { return fd_.get(); }
    const std::string& describe() const { return describe_; }
    // The network namespace awf-net itself runs in (the host's, for a hook or a CNI plugin):
    // never one to firewall on a container's behalf.
    bool is_own() const;

private:
    Fd fd_;
    std::string describe_;
};

// A process other than `except_pid` whose network namespace is `ns` (compared by identity: the
// device and inode of its nsfs file, however that namespace was named); 0 when there is none.
// Reads /proc; a process that exits meanwhile is passed over.
int other_process_in(const NamespaceHandle& ns, int except_pid);

// setns(2) into `target` for this thread; back to where it was when destroyed.
class NamespaceScope {
public:
    explicit NamespaceScope(const NamespaceHandle& target);
    ~NamespaceScope();
    NamespaceScope(const NamespaceScope&) = delete;
    NamespaceScope& operator=(const NamespaceScope&) = delete;

private:
    NamespaceHandle previous_;
};

} // namespace awf
