#include "awf/base/platform.hpp"

#include "awf/policy/hosts_file.hpp"

#include "awf/base/error.hpp"
#include "awf/base/fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace awf {

std::vector<IpAddr> hosts_lookup(std::string_view content, std::string_view name) {
    std::vector<IpAddr> out;
    std::istringstream in{std::string(content)};
    std::string line;
    while (std::getline(in, line)) {
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string addr, host;
        if (!(words >> addr)) continue;
        auto a = IpAddr::parse(addr);
        if (!a) continue;
        while (words >> host)
            if (host == name) {
                out.push_back(*a);
                break;
            }
    }
    return out;
}

namespace {

int open_path(int dirfd, const std::string& path, uint64_t resolve) {
    ::open_how how{};
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
}

} // namespace

std::string read_hosts_file(const HostsFile& where) {
    constexpr size_t kMax = 1 << 20;
    const std::string what = "hosts file " + where.describe();
    auto fail = [&](const std::string& why) { return Error(ExitCode::target, what, why); };

    // O_PATH first: nothing is opened for reading before fstat says it is a regular file.
    int fd;
    if (where.root.empty()) {
        fd = open_path(AT_FDCWD, where.path, RESOLVE_NO_MAGICLINKS);
    } else {
        Fd root(::open(where.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (root.get() < 0) {
            if (errno == ENOENT) return {};
            throw fail(std::strerror(errno));
        }
        fd = open_path(root.get(), where.path,
                       RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    }
    if (fd < 0) {
        if (errno == ENOENT) return {};
        if (errno == ELOOP) throw fail("a symbolic link on the way; refused");
        throw fail(std::strerror(errno));
    }
    Fd path_fd(fd);
    struct stat st {};
    if (::fstat(path_fd.get(), &st) != 0) throw fail(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw fail("not a regular file");
    // Reopen the very inode we checked, for reading.
    Fd file(::open(("/proc/self/fd/" + std::to_string(path_fd.get())).c_str(),
                   O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (file.get() < 0) throw fail(std::strerror(errno));
    std::string data;
    char buf[8192];
    ssize_t n;
    while (data.size() < kMax && (n = ::read(file.get(), buf, sizeof buf)) > 0)
        data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMax) data.resize(kMax);
    return data;
}

} // namespace awf
