#include "awf/base/platform.hpp"

// Port specs (--allow-host-ports and friends, environment, config files).
#include "awf/policy/port_spec.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string s = awf::fuzz::text(data, size);
    awf::parse_port_spec(s);
    try {
        awf::PortSet set(awf::parse_port_list(s, "--allow-host-ports"));
        (void)set.str();
    } catch (const awf::Error&) {
    }
    return 0;
}
