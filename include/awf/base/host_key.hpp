// The host's key for the digest recorded in every table (planner.hpp): 32 random bytes in a file
// only root can read, made on first use. With it, a table whose sets someone changed cannot be
// given a digest that verifies, unless that someone can read root's files on the host.
#pragma once

#include <string>

namespace awf {

// The key file; fixed at build time (meson option key_file), never chosen at run time.
const char* host_key_path();

// The key, or "" when there is none and `create` is false, or when this process may not read
// it (a dry run as an ordinary user). Throws awf::Error (exit 1) when the file exists but is not
// a root-only regular file of 32 bytes, or cannot be made.
std::string load_host_key(bool create);

} // namespace awf
