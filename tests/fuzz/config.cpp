#include "awf/base/platform.hpp"

// A config file (named by an operator, or by an annotation): parsed, validated, planned,
// printed and lowered as apply would.
#include "awf/nft/lower.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/policy/policy_options.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        awf::Policy p = awf::policy_from_raw(
            awf::raw_from_config_text(awf::fuzz::text(data, size), "--config fuzz"));
        awf::Facts f;
        f.local_subnets = {*awf::Cidr::parse("172.30.0.0/24")};
        f.default_gateway_v4 = awf::IpAddr::parse("172.30.0.1");
        f.squid_resolved = awf::IpAddr::parse("172.30.0.10");
        awf::model::Table t = awf::plan(awf::resolve(p, f));
        (void)awf::to_nft_text(t);
        (void)awf::lower(t);
    } catch (const awf::Error&) {
    }
    return 0;
}
