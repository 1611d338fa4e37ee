// Fingerprints recorded in the table's userdata (policy.md): SHA-256 from nettle.
#pragma once

#include <string>
#include <string_view>

namespace awf {

// Lower-case hex SHA-256 of data.
std::string sha256_hex(std::string_view data);
// Lower-case hex HMAC-SHA256 of data under key.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

} // namespace awf
