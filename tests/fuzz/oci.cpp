#include "awf/base/platform.hpp"

// OCI state (standard input of the hook) and the bundle's config.json, separated by a NUL.
#include "awf/frontend/oci_state.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string s = awf::fuzz::text(data, size);
    auto nul = s.find('\0');
    std::string state = s.substr(0, nul);
    std::string bundle = nul == std::string::npos ? "" : s.substr(nul + 1);
    try {
        (void)awf::parse_oci_state(state);
    } catch (const awf::Error&) {
    }
    try {
        awf::OciBundle b = awf::parse_oci_bundle(bundle, "/run/bundle");
        (void)awf::refused_capabilities(b);
    } catch (const awf::Error&) {
    }
    return 0;
}
