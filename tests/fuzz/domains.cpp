#include "awf/base/platform.hpp"

// A domain list from a file (run.md, DOMAINS): every entry it accepts can only be a host-name
// pattern, admits a name built from it, and becomes Squid text with nothing that could end a
// directive or start another.
#include "awf/base/error.hpp"
#include "awf/plan/squid_conf.hpp"
#include "awf/policy/domains.hpp"
#include "fuzz_support.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string s = awf::fuzz::text(data, size);
    awf::Policy p = awf::Policy::defaults();
    try {
        p.domains.allow = awf::parse_domain_file(s, "fuzz");
    } catch (const awf::Error& e) {
        // Errors name the line, never the entry.
        if (std::string(e.what()).find('\n') != std::string::npos) std::abort();
        return 0;
    }
    for (const auto& d : p.domains.allow) {
        if (d.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.*") !=
            std::string::npos)
            std::abort();
        std::string instance = d.name;
        for (char& c : instance)
            if (c == '*') c = 'x';
        if (!awf::domain_matches(d, instance)) std::abort();
        if (d.wildcard() && awf::domain_regex(d).find_first_of(" \t\r\n\"'#;") != std::string::npos)
            std::abort();
    }
    awf::SquidConfPaths paths;
    paths.state_dir = "/run/awf-net/fuzz";
    std::string conf = awf::squid_conf(p, paths);
    // One directive per line: no line may start other than with a known directive.
    size_t at = 0;
    while (at < conf.size()) {
        size_t nl = conf.find('\n', at);
        std::string line = conf.substr(at, nl - at);
        if (!line.empty() && line[0] != '#' && line.find_first_of("\r\"'`") != std::string::npos)
            std::abort();
        at = nl == std::string::npos ? conf.size() : nl + 1;
    }
    return 0;
}
