#include "awf/base/platform.hpp"

// A hosts file a container can rewrite: looked up, and its answers resolved as gateways.
#include "awf/policy/hosts_file.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string s = awf::fuzz::text(data, size);
    awf::Facts f;
    f.hosts_docker_internal = awf::hosts_lookup(s, "host.docker.internal");
    for (const auto& a : awf::hosts_lookup(s, "squid.test"))
        if (a.is_v4()) {
            f.squid_resolved = a;
            f.squid_from_hosts_file = true;
        }
    awf::Policy p;
    p.host_access = true;
    p.squid_host = "squid.test";
    try {
        // Planning arbitrary addresses is the config target's; here: lookup and resolution.
        (void)awf::derive(awf::resolve(p, f));
    } catch (const awf::Error&) {
    }
    return 0;
}
