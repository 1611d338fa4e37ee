// SHA-256 (FIPS 180-4) for the policy digest recorded in the table's userdata. Small enough
// to own rather than pull a crypto library into a tool that only needs a fingerprint.
#pragma once

#include <string>
#include <string_view>

namespace awf {
std::string sha256_hex(std::string_view data);
}
