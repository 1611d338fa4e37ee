// Reading what is installed in a namespace, for operators (`dump`).
#pragma once

#include "awf/model.hpp"
#include "awf/netns.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

struct Installed {
    std::optional<model::Table> awf;      // awf-net's table, lifted, with counters
    std::vector<model::Table> others;     // with --all: every other inet/ip/ip6 table
    std::vector<std::string> other_names; // "ip nat", "ip6 filter", ...
};

// Reads the target (awf-net's own namespace when `target` is empty).
Installed read_installed(const Target& target, const std::string& table, bool all);

} // namespace awf
