// Squid's configuration for a policy (policy.md, Transparent interception; run.md, DOMAINS).
// Pure: text from the policy and a few paths, for `awf-net squid-conf` and `awf-net run`.
//  - squid_conf(): a complete squid.conf: the proxy-aware port, the intercept ports when the
//    policy intercepts, the domain allowlist on every path (CONNECT, plain HTTP, intercepted
//    Host and SNI), no bare IPs, no cache, logs in one place.
//  - squid_intercept_lines(): only the lines intercept mode adds, for an operator who keeps a
//    configuration of their own.
#pragma once

#include "awf/policy/policy.hpp"

#include <string>

namespace awf {

struct SquidConfPaths {
    std::string tls_cert; // PEM certificate Squid's https_port needs to start (never shown
    std::string tls_key;  // to a client: nothing is bumped); key file, empty: in the cert
    // Where pid file and logs go; empty: Debian's squid layout (/run/squid.pid,
    // /var/log/squid/{access,cache}.log), so the text can replace /etc/squid/squid.conf.
    std::string state_dir;
    std::string listen = "0.0.0.0"; // the IPv4 address Squid's ports bind
    std::vector<IpAddr> dns;        // Squid's resolvers; empty: the host's resolv.conf
    // Who may use this Squid at all (src ACL); empty: anyone who reaches its port. A run's
    // Squid serves its sandbox only, whatever else can route to the host end of the link.
    std::vector<Cidr> clients;
    // Destinations Squid never connects to, beyond those it always refuses (loopback, 0/8,
    // link-local, the unspecified and IPv6 loopback and link-local): a run adds the host's own
    // addresses, so an allowed name that resolves to the host reaches nothing of it.
    std::vector<Cidr> internal;
};

// The access log's format, one request per line, space-separated (Squid's logformat
// directive); awf-net reads it back for run's summary and audit log:
// time client method host port status squid-result sni
inline constexpr const char* kSquidLogFormat = "%ts.%03tu %>a %rm %>rd %>rP %>Hs %Ss %ssl::>sni";

// Throws awf::Error (exit 2) for a path squid.conf could not hold safely (relative, or with
// quotes, spaces or control characters that would end the directive), or intercept without a
// certificate.
std::string squid_conf(const Policy& policy, const SquidConfPaths& paths);
std::string squid_intercept_lines(const Policy& policy, const SquidConfPaths& paths);

} // namespace awf
