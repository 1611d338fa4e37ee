#include "awf/base/platform.hpp"

#include "awf/plan/squid_conf.hpp"

#include "awf/base/error.hpp"
#include "awf/base/text.hpp"

#include <algorithm>

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

// Which entries a rule for `scheme` takes: those of exactly that scheme.
std::vector<DomainPattern> of_scheme(const std::vector<DomainPattern>& v, Scheme scheme,
                                     bool wildcard) {
    std::vector<DomainPattern> out;
    for (const auto& d : v)
        if (d.scheme == scheme && d.wildcard() == wildcard) out.push_back(d);
    return out;
}

// dstdomain / ssl::server_name values: ".name" is the name and its subdomains. A name already
// covered by another of the same list is left out (Squid warns about it and ignores it).
std::string plain_values(const std::vector<DomainPattern>& v) {
    std::string s;
    for (const auto& d : v) {
        bool covered = std::any_of(v.begin(), v.end(), [&](const DomainPattern& o) {
            return &o != &d && domain_matches(o, d.name) && (o.name != d.name || &o < &d);
        });
        if (!covered) s += " ." + d.name;
    }
    return s;
}

std::string regex_values(const std::vector<DomainPattern>& v) {
    std::string s;
    for (const auto& d : v)
        s += " " + domain_regex(d);
    return s;
}

// The ACLs of one list, by scheme and kind: awf_<list>[_http|_https][_re]. Returns the names
// defined, so rules never name an ACL that has no values (Squid refuses those).
struct Acls {
    std::string text;
    std::vector<std::string> any, http, https; // ACL names per scheme
};

Acls domain_acls(const std::string& list, const std::vector<DomainPattern>& v,
                 const char* plain_type, const char* regex_type) {
    Acls a;
    const std::pair<Scheme, const char*> schemes[] = {
        {Scheme::any, ""}, {Scheme::http, "_http"}, {Scheme::https, "_https"}};
    for (const auto& [scheme, suffix] : schemes) {
        auto& names = scheme == Scheme::any ? a.any : scheme == Scheme::http ? a.http : a.https;
        auto plain = of_scheme(v, scheme, false);
        if (!plain.empty()) {
            std::string name = "awf_" + list + suffix;
            a.text += "acl " + name + " " + plain_type + plain_values(plain) + "\n";
            names.push_back(name);
        }
        auto wild = of_scheme(v, scheme, true);
        if (!wild.empty()) {
            std::string name = "awf_" + list + suffix + "_re";
            a.text += "acl " + name + " " + regex_type + " -i" + regex_values(wild) + "\n";
            names.push_back(name);
        }
    }
    return a;
}

std::string port_list(const PortSet& ports) {
    std::string s;
    for (const auto& r : ports.ranges())
        s += " " + (r.first == r.last ? std::to_string(r.first)
                                      : std::to_string(r.first) + "-" + std::to_string(r.last));
    return s;
}

} // namespace

namespace {

// `internal`: the complete configuration's awf_internal is defined, and a spliced connection
// to such an address is refused too.
std::string intercept_lines(const Policy& p, const SquidConfPaths& paths, bool internal) {
    if (!p.intercept)
        throw input_error("--intercept", "", "squid-conf --fragment is for intercept mode");
    const std::string cert = conf_path("--tls-cert", paths.tls_cert);
    const std::string key = paths.tls_key.empty() ? "" : conf_path("--tls-key", paths.tls_key);
    const std::string at = paths.listen == "0.0.0.0" ? "" : paths.listen + ":";
    const std::string http = std::to_string(p.intercept_http_port);
    const std::string tls = std::to_string(p.intercept_tls_port);
    // TLS names only: http://name admits plain HTTP alone.
    auto tls_only = [](std::vector<DomainPattern> v) {
        std::erase_if(v, [](const DomainPattern& d) { return d.scheme == Scheme::http; });
        return v;
    };
    Acls sni =
        domain_acls("sni", tls_only(p.domains.allow), "ssl::server_name", "ssl::server_name_regex");
    Acls sni_block = domain_acls("sni_block", tls_only(p.domains.block), "ssl::server_name",
                                 "ssl::server_name_regex");
    std::string s;
    s += "http_port " + at + http + " intercept name=awf_intercept_http\n";
    s += "https_port " + at + tls + " intercept ssl-bump name=awf_intercept_tls tls-cert=" + cert +
         (key.empty() ? "" : " tls-key=" + key) + " generate-host-certificates=off\n";
    s += "acl awf_intercept_http myportname awf_intercept_http\n";
    s += "acl awf_intercept_tls myportname awf_intercept_tls\n";
    // The name the client asked for: a server's certificate is chosen by whoever runs the IP.
    s += sni.text + sni_block.text;
    s += "acl awf_step1 at_step SslBump1\n";
    // -n: the host as written; dstdomain would match an IP by its reverse DNS, which the IP's
    // owner controls.
    s += "acl awf_ip_host dstdom_regex -n ^[0-9.]+$ ^\\[?[0-9a-fA-F:]+\\]?$\n";
    s += "ssl_bump peek awf_step1\n";
    // Block wins.
    for (const auto& list : {sni_block.any, sni_block.https})
        for (const auto& n : list)
            s += "ssl_bump terminate " + n + "\n";
    for (const auto& list : {sni.any, sni.https})
        for (const auto& n : list)
            s += "ssl_bump splice " + n + "\n";
    s += "ssl_bump terminate all\n";
    // The Host header (or SNI) must resolve to the address the client really connected to.
    s += "host_verify_strict on\n";
    s += "http_access deny awf_intercept_http awf_ip_host\n";
    s += "http_access deny awf_intercept_tls awf_ip_host !awf_step1\n";
    // The TLS port's fake CONNECTs are decided by ssl_bump (splice or terminate) above.
    if (internal) s += "http_access deny awf_intercept_tls awf_internal\n";
    s += "http_access allow awf_intercept_tls\n";
    return s;
}

} // namespace

std::string squid_intercept_lines(const Policy& p, const SquidConfPaths& paths) {
    return intercept_lines(p, paths, false);
}

std::string squid_conf(const Policy& p, const SquidConfPaths& paths) {
    if (!IpAddr::parse(paths.listen) || !IpAddr::parse(paths.listen)->is_v4())
        throw input_error("--squid", paths.listen, "Squid listens on an IPv4 address");
    const bool debian = paths.state_dir.empty();
    const std::string dir = debian ? "" : conf_path("--state-dir", paths.state_dir);
    const std::string logs = debian ? "/var/log/squid" : dir;
    std::string s;
    s += "# awf-net squid-conf: the complete Squid configuration for this policy.\n";
    s += "http_port " + paths.listen + ":" + std::to_string(p.squid_port) + " name=awf_proxy\n";
    s += "pid_filename " + (debian ? std::string("/run/squid.pid") : dir + "/squid.pid") + "\n";
    s += "logformat awf " + std::string(kSquidLogFormat) + "\n";
    s += "access_log stdio:" + logs + "/access.log logformat=awf\n";
    s += "cache_log " + logs + "/cache.log\n";
    s += "cache_store_log none\n";
    s += "cache deny all\n";
    s += "cache_mem 0 MB\n";
    s += "coredump_dir " + (debian ? std::string("/var/spool/squid") : dir) + "\n";
    // The run waits for Squid to stop; nothing of a proxy without a cache outlives its clients.
    s += "shutdown_lifetime 0 seconds\n";
    s += "forwarded_for delete\n";
    s += "httpd_suppress_version_string on\n";
    // Its ICMP helper outlives a Squid that is killed, and measures nothing awf-net reads.
    s += "pinger_enable off\n";
    if (!paths.dns.empty()) {
        s += "dns_nameservers";
        for (const auto& a : paths.dns)
            s += " " + a.str();
        s += "\n";
    }
    if (!paths.clients.empty()) {
        s += "acl awf_clients src";
        for (const auto& c : paths.clients)
            s += " " + c.str();
        s += "\n";
    }
    Acls allow = domain_acls("allow", p.domains.allow, "dstdomain", "dstdom_regex");
    Acls block = domain_acls("block", p.domains.block, "dstdomain", "dstdom_regex");
    s += allow.text + block.text;
    // Where an allowed name may resolve but a proxy must never go: the host itself, a cloud's
    // metadata service. Checked on the address Squid connects to, CONNECT included.
    s += "acl awf_internal dst 127.0.0.0/8 0.0.0.0/8 169.254.0.0/16 ::1/128 ::/128 fe80::/10";
    for (const auto& c : paths.internal)
        s += " " + c.str();
    s += "\n";
    s += "acl CONNECT method CONNECT\n";
    s += "acl awf_plain_http proto HTTP\n";
    // The ports the sandbox's policy sends to Squid: web ports and the host ports.
    PortSet web = PortSet{{80, 80}};
    web.add({443, 443});
    for (const auto& r : p.allow_host_ports.ranges())
        web.add(r);
    s += "acl awf_web_ports port" + port_list(web) + "\n";
    // -n: the host as written (see squid_intercept_lines).
    if (!p.intercept) s += "acl awf_ip_host dstdom_regex -n ^[0-9.]+$ ^\\[?[0-9a-fA-F:]+\\]?$\n";
    // Before every other rule, the intercept ports' included.
    if (!paths.clients.empty()) s += "http_access deny !awf_clients\n";
    if (p.intercept) s += intercept_lines(p, paths, true);
    s += "http_access deny !awf_web_ports\n";
    s += "http_access deny awf_ip_host\n";

    for (const auto& n : block.http)
        s += "http_access deny !CONNECT " + n + "\n";
    for (const auto& n : block.https)
        s += "http_access deny CONNECT " + n + "\n";
    for (const auto& n : block.any)
        s += "http_access deny " + n + "\n";
    // http://name: plain HTTP only; a proxy-aware GET https://name is Squid speaking TLS.
    // awf_internal last on each line: a dst ACL needs the name resolved, which only a name the
    // list allows is worth (a refused one is refused at once, DNS or none).
    for (const auto& n : allow.http)
        s += "http_access allow !CONNECT awf_plain_http " + n + " !awf_internal\n";
    for (const auto& n : allow.https)
        s += "http_access allow CONNECT " + n + " !awf_internal\n";
    for (const auto& n : allow.any)
        s += "http_access allow " + n + " !awf_internal\n";
    s += "http_access deny all\n";
    return s;
}

} // namespace awf
