// Hosts files: read safely (no links followed, regular files only, 1 MiB at most, cli.md) and
// looked up by name.
#pragma once

#include "awf/policy/address.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace awf {

std::vector<IpAddr> hosts_lookup(std::string_view content, std::string_view name);

// Throws awf::Error (exit 3) when the file exists but is not safe to read.
// A missing file reads as empty: most namespaces made with `ip netns` have none.
std::string read_hosts_file(const std::string& path);

} // namespace awf
