#include "awf/base/platform.hpp"

// The CNI plugin's input: CNI_* variables, then the network configuration (prevResult and the
// pod's annotations in it), separated by a NUL. Lines before the NUL are NAME=VALUE.
#include "awf/frontend/cni_request.hpp"
#include "fuzz_support.hpp"

#include <map>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string s = awf::fuzz::text(data, size);
    auto nul = s.find('\0');
    std::string vars = s.substr(0, nul);
    std::string conf = nul == std::string::npos ? "" : s.substr(nul + 1);
    std::map<std::string, std::string> env;
    size_t start = 0;
    while (start < vars.size()) {
        size_t end = vars.find('\n', start);
        if (end == std::string::npos) end = vars.size();
        std::string line = vars.substr(start, end - start);
        if (auto eq = line.find('='); eq != std::string::npos)
            env[line.substr(0, eq)] = line.substr(eq + 1);
        start = end + 1;
    }
    awf::EnvLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    (void)awf::cni_version_result(conf);
    (void)awf::cni_error_json(awf::cni_version_of(conf), 107, conf, vars);
    try {
        awf::CniRequest r = awf::parse_cni_request(lookup, conf);
        (void)awf::policy_chooser(r);
        (void)awf::cni_add_result(r);
        (void)awf::selected_policy(r);
    } catch (const awf::Error&) {
    }
    return 0;
}
