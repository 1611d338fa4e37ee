#include "awf/base/platform.hpp"

#include "awf/plan/squid_conf.hpp"

#include "awf/base/error.hpp"
#include "awf/base/text.hpp"

namespace awf {

namespace {

// A path becomes a token of squid.conf: anything that could end it or start another directive
// is refused rather than escaped (Squid has no escaping for these).
std::string conf_path(const std::string& flag, const std::string& path) {
    if (path.empty() || path[0] != '/')
        throw input_error(flag, printable(path), "not an absolute path");
    for (unsigned char c : path)
        if (c <= ' ' || c == '"' || c == '\'' || c == '\\' || c == '#' || c >= 0x7f)
            throw input_error(flag, printable(path),
                              "squid.conf cannot hold a path with spaces, quotes, '#', '\\\\' "
                              "or control characters");
    return path;
}

} // namespace

std::string squid_conf(const Policy& p, const SquidConfPaths& paths) {
    if (!p.intercept) throw input_error("--intercept", "", "squid-conf is for intercept mode");
    const std::string cert = conf_path("--tls-cert", paths.tls_cert);
    const std::string key = paths.tls_key.empty() ? "" : conf_path("--tls-key", paths.tls_key);
    const std::string list = conf_path("--allow-domains-file", paths.allow_domains);
    const std::string http = std::to_string(p.intercept_http_port);
    const std::string tls = std::to_string(p.intercept_tls_port);
    std::string s;
    s += "# awf-net squid-conf: transparent interception. Place after your acl definitions and\n"
         "# before your http_access rules; " +
         list +
         " is the allowlist your dstdomain ACL\n"
         "# reads too (one domain per line, Squid syntax).\n";
    s += "http_port " + http + " intercept name=awf_intercept_http\n";
    s += "https_port " + tls + " intercept ssl-bump name=awf_intercept_tls tls-cert=" + cert +
         (key.empty() ? "" : " tls-key=" + key) + " generate-host-certificates=off\n";
    s += "acl awf_intercept_http myportname awf_intercept_http\n";
    s += "acl awf_intercept_tls myportname awf_intercept_tls\n";
    // The name the client asked for: a server's certificate is chosen by whoever runs the IP.
    s += "acl awf_allowed_sni ssl::server_name --client-requested \"" + list + "\"\n";
    s += "acl awf_step1 at_step SslBump1\n";
    // -n: the host as written; dstdomain would match an IP by its reverse DNS, which the IP's
    // owner controls.
    s += "acl awf_ip_host dstdom_regex -n ^[0-9.]+$ ^\\[?[0-9a-fA-F:]+\\]?$\n";
    s += "ssl_bump peek awf_step1\n";
    s += "ssl_bump splice awf_allowed_sni\n";
    s += "ssl_bump terminate all\n";
    // The Host header (or SNI) must resolve to the address the client really connected to.
    s += "host_verify_strict on\n";
    s += "http_access deny awf_intercept_http awf_ip_host\n";
    s += "http_access deny awf_intercept_tls awf_ip_host !awf_step1\n";
    // The TLS port's fake CONNECTs are decided by ssl_bump (splice or terminate) above.
    s += "http_access allow awf_intercept_tls\n";
    return s;
}

} // namespace awf
