// The Squid lines intercept mode needs (policy.md, Transparent interception): intercept ports
// for HTTP and TLS, peek at the client's SNI and splice only names on the allowlist (nothing is
// decrypted, no certificate is ever generated), strict Host verification, no bare-IP hosts.
// Pure: text from the policy and two paths, for `awf-net squid-conf`.
#pragma once

#include "awf/policy/policy.hpp"

#include <string>

namespace awf {

struct SquidConfPaths {
    std::string tls_cert;      // PEM certificate Squid's https_port needs to start (never shown
    std::string tls_key;       // to a client: nothing is bumped); key file, empty: in the cert
    std::string allow_domains; // the allowlist the operator's dstdomain ACL also reads
};

// Throws awf::Error (exit 2) for a path squid.conf could not hold safely (relative, or with
// quotes, spaces or control characters that would end the directive).
std::string squid_conf(const Policy& policy, const SquidConfPaths& paths);

} // namespace awf
