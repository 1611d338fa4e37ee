// Hosts files: read safely (no links followed, regular files only, 1 MiB at most, cli.md) and
// looked up by name.
#pragma once

#include "awf/policy/address.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace awf {

std::vector<IpAddr> hosts_lookup(std::string_view content, std::string_view name);

// Where a hosts file is. With `root` (a container's root directory: /proc/PID/root, a bundle's
// rootfs), `path` is resolved inside it as the container would and no symbolic link is
// followed on the way (an absolute link would otherwise point into the host's tree). Without,
// `path` is a host path chosen by the operator or the runtime; its last component must not be
// a link.
struct HostsFile {
    std::string root;
    std::string path;
    std::string describe() const { return root.empty() ? path : root + " : " + path; }
};

// Throws awf::Error (exit 3) when the file exists but is not safe to read: a link on the way,
// anything but a regular file (checked before it is opened for reading, so a FIFO or a device
// is never opened). A missing file reads as empty: most namespaces made with `ip netns` have
// none. At most 1 MiB is read.
std::string read_hosts_file(const HostsFile& where);

} // namespace awf
