#include "awf/base/platform.hpp"

#include "awf/base/host_key.hpp"

#include "awf/base/error.hpp"
#include "awf/base/fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace awf {

namespace {

constexpr size_t kKeySize = 32;

Error key_error(const std::string& why) {
    return Error(ExitCode::internal, std::string("host key ") + host_key_path(), why);
}

std::string read_key(const Fd& fd) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw key_error(std::strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) != 0)
        throw key_error("not a regular file readable by root alone; refusing to use it");
    if (st.st_size != static_cast<off_t>(kKeySize)) throw key_error("not 32 bytes");
    std::string key(kKeySize, '\0');
    if (::pread(fd.get(), key.data(), kKeySize, 0) != static_cast<ssize_t>(kKeySize))
        throw key_error("short read");
    return key;
}

std::string make_key() {
    std::string path = host_key_path();
    std::string dir = path.substr(0, path.rfind('/'));
    if (!dir.empty() && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw key_error("cannot make " + dir + ": " + std::strerror(errno));
    // Written aside and linked into place: a process killed half-way leaves no short key
    // behind, and of two racing processes one key wins and both use it.
    std::string tmp = path + ".new." + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) throw key_error(std::strerror(errno));
    std::string key(kKeySize, '\0');
    bool written = ::getrandom(key.data(), kKeySize, 0) == static_cast<ssize_t>(kKeySize) &&
                   ::write(fd.get(), key.data(), kKeySize) == static_cast<ssize_t>(kKeySize) &&
                   ::fsync(fd.get()) == 0;
    int linked = written ? ::link(tmp.c_str(), path.c_str()) : -1;
    int err = errno;
    ::unlink(tmp.c_str());
    if (!written) throw key_error(std::strerror(err));
    if (linked != 0) {
        if (err == EEXIST) return {}; // another awf-net made it first: read theirs
        throw key_error(std::strerror(err));
    }
    return key;
}

} // namespace

const char* host_key_path() {
    return AWF_KEY_FILE;
}

std::string load_host_key(bool create) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        Fd fd(::open(host_key_path(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        if (fd) return read_key(fd);
        if (errno == EACCES || errno == EPERM) return {};
        if (errno == ENOTDIR || (errno == ENOENT && !create)) return {};
        if (errno != ENOENT) throw key_error(std::strerror(errno));
        if (std::string key = make_key(); !key.empty()) return key;
    }
    throw key_error("made by another process but not readable");
}

} // namespace awf
