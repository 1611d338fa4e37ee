#include "awf/base/platform.hpp"

// The old script's environment (--from-env): lines of NAME=VALUE.
#include "awf/policy/policy_options.hpp"
#include "fuzz_support.hpp"

#include <map>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::map<std::string, std::string> env;
    std::istringstream in(awf::fuzz::text(data, size));
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    auto lookup = [&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional(it->second);
    };
    try {
        awf::Policy p = awf::policy_from_raw(awf::raw_from_env(lookup));
        awf::Facts f;
        f.default_gateway_v4 = awf::IpAddr::parse("172.30.0.1");
        f.squid_resolved = awf::IpAddr::parse("172.30.0.10");
        // Planning arbitrary policies is the config target's; here: parse, validate, resolve.
        (void)awf::derive(awf::resolve(p, f));
    } catch (const awf::Error&) {
    }
    return 0;
}
