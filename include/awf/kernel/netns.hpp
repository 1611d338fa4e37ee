// Network namespaces by name, path or pid (cli.md TARGET), and entering one for the calling
// thread with the previous one restored on scope exit.
#pragma once

#include <string>

namespace awf {

// Owns a file descriptor; the one RAII owner for every fd this project opens.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();

    int get() const { return fd_; }
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

struct Target {
    std::string netns;      // --netns NAME|PATH
    int pid = 0;            // --pid PID
    std::string hosts_file; // --hosts-file, overrides the default for the target kind

    bool empty() const { return netns.empty() && pid == 0; }
    std::string describe() const;
    std::string namespace_path() const;
    std::string default_hosts_file() const; // cli.md: where host.docker.internal is looked up
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
