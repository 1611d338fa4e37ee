// Hosts files: read safely (no links followed, regular files only, 1 MiB at most, cli.md) and
// looked up by name.
#pragma once

#include "awf/base/file.hpp"
#include "awf/policy/address.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace awf {

std::vector<IpAddr> hosts_lookup(std::string_view content, std::string_view name);

using HostsFile = FileRef;

// Throws awf::Error (exit 3) when the file exists but is not safe to read: a link on the way,
// anything but a regular file (checked before it is opened for reading, so a FIFO or a device
// is never opened). A missing file reads as empty: most namespaces made with `ip netns` have
// none. At most 1 MiB is read.
std::string read_hosts_file(const HostsFile& where);

} // namespace awf
