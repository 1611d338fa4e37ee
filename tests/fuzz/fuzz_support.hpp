// Shared by the fuzz targets: each turns the input into one kind of untrusted text or bytes
// and runs every layer that would see it. awf::Error is the documented refusal; anything else
// escaping (another exception, a sanitizer report, a crash) is a finding.
#pragma once

#include "awf/base/error.hpp"
#include "awf/plan/planner.hpp"
#include "awf/policy/policy.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace awf::fuzz {

inline std::string text(const uint8_t* data, size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// A policy as awf-net would install it, for targets that need a table to walk.
inline model::Table default_table() {
    Facts f;
    f.local_subnets = {*Cidr::parse("172.30.0.0/24")};
    return plan(resolve(Policy{}, f));
}

} // namespace awf::fuzz
