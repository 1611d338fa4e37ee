// Network namespaces by name, path or pid (cli.md TARGET), and entering one for the calling
// thread with the previous one restored on scope exit.
#pragma once

#include "awf/base/fd.hpp"
#include "awf/policy/hosts_file.hpp"

#include <string>

namespace awf {

struct Target {
    std::string netns;      // --netns NAME|PATH
    int pid = 0;            // --pid PID
    std::string hosts_file; // --hosts-file, overrides the default for the target kind
    std::string hosts_root; // with hosts_file: resolve it inside this root (a bundle's rootfs)

    bool empty() const { return netns.empty() && pid == 0; }
    std::string describe() const;
    std::string namespace_path() const;
    HostsFile default_hosts_file() const; // cli.md: where host.docker.internal is looked up
};

class NamespaceHandle {
public:
    // Throws awf::Error (exit 3) naming the target when it is missing or not a netns.
    static NamespaceHandle open(const Target& t);
    static NamespaceHandle current();

    int fd() const { return fd_.get(); }
    const std::string& describe() const { return describe_; }

private:
    Fd fd_;
    std::string describe_;
};

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
