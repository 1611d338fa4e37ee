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

std::string read_hosts_file(const HostsFile& where) {
    return read_regular_file(where, 1 << 20, ExitCode::target, "hosts file " + where.describe())
        .value_or("");
}

} // namespace awf
