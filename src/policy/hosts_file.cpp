#include "awf/base/platform.hpp"

#include "awf/policy/hosts_file.hpp"

#include "awf/base/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <sys/stat.h>
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

std::string read_hosts_file(const std::string& path) {
    constexpr size_t kMax = 1 << 20;
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return {};
        throw Error(ExitCode::target, "hosts file " + path, std::strerror(errno));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        throw Error(ExitCode::target, "hosts file " + path, "not a regular file");
    std::string data;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        data.append(buf, static_cast<size_t>(n));
        if (data.size() > kMax) {
            data.resize(kMax);
            break;
        }
    }
    return data;
}

} // namespace awf
