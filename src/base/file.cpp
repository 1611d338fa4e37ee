#include "awf/base/platform.hpp"

#include "awf/base/file.hpp"

#include "awf/base/fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace awf {

namespace {

int open_path(int dirfd, const std::string& path, uint64_t resolve) {
    ::open_how how{};
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
}

} // namespace

std::optional<std::string> read_regular_file(const FileRef& where, size_t max, ExitCode code,
                                             const std::string& what) {
    auto fail = [&](const std::string& why) { return Error(code, what, why); };

    // O_PATH first: nothing is opened for reading before fstat says it is a regular file.
    int fd;
    if (where.root.empty()) {
        fd = open_path(AT_FDCWD, where.path, RESOLVE_NO_MAGICLINKS);
    } else {
        Fd root(::open(where.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (root.get() < 0) {
            if (errno == ENOENT) return std::nullopt;
            throw fail(std::strerror(errno));
        }
        fd = open_path(root.get(), where.path,
                       RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    }
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
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
    while (data.size() < max && (n = ::read(file.get(), buf, sizeof buf)) > 0)
        data.append(buf, static_cast<size_t>(n));
    if (data.size() > max) data.resize(max);
    return data;
}

} // namespace awf
