// Domain allowlists with the upstream awf CLI's semantics (run.md, DOMAINS): parsed and
// normalised once here, matched here (for summaries and tests) and rendered as Squid ACL values
// (plan/squid_conf.cpp). The one definition of what a pattern admits.
#pragma once

#include <compare>
#include <string>
#include <string_view>
#include <vector>

namespace awf {

// https://name: TLS only (CONNECT, intercepted TLS); http://name: plain HTTP only.
enum class Scheme { any, http, https };

struct DomainPattern {
    std::string name; // lower case, no scheme, no trailing dot or slash; may hold '*'
    Scheme scheme = Scheme::any;

    bool wildcard() const { return name.find('*') != std::string::npos; }
    auto operator<=>(const DomainPattern&) const = default;
};

struct DomainLists {
    std::vector<DomainPattern> allow;
    std::vector<DomainPattern> block; // wins over allow
    bool empty() const { return allow.empty() && block.empty(); }
    bool operator==(const DomainLists&) const = default;
};

// One entry. Throws input_error(field, entry, reason), exit 2, for an empty entry, a pattern
// with no fixed label ('*', '*.*'), a double dot, a character a hostname cannot hold, or an
// IP address.
DomainPattern parse_domain_pattern(const std::string& field, std::string_view entry);

// A flag's value: comma-separated entries, each as parse_domain_pattern.
std::vector<DomainPattern> parse_domain_list(const std::string& field, std::string_view text);

// A file's text: one entry per line or comma-separated, '#' comments. Errors name `where` and
// the line, never the entry (the file may be one the caller could not read otherwise).
std::vector<DomainPattern> parse_domain_file(std::string_view text, const std::string& where);

// Whether a host name (as a client asked for it) is admitted by the pattern, ignoring scheme.
// `name` matches itself and every subdomain; '*.' as the first label matches one or more labels;
// any other '*' matches one or more characters within one label.
bool domain_matches(const DomainPattern& pattern, std::string_view host);

// The same as a POSIX extended regular expression for Squid's dstdom_regex and
// ssl::server_name_regex (used with -i), anchored at both ends. Wildcard patterns only.
std::string domain_regex(const DomainPattern& pattern);

// What the lists decide for a host on a scheme (http or https): block wins, then allow.
bool domain_allowed(const DomainLists& lists, std::string_view host, Scheme scheme);

// "https://api-*.example.com": the entry as a user would write it.
std::string to_string(const DomainPattern& pattern);

} // namespace awf
