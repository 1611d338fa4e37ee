#include "awf/base/platform.hpp"

// explain's FLOW syntax, walked through the default policy.
#include "awf/plan/explain.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const awf::model::Table table = awf::fuzz::default_table();
    try {
        awf::Flow f = awf::parse_flow(awf::fuzz::text(data, size));
        (void)awf::explain(table, f, awf::ExplainContext{}).outcome_text();
    } catch (const awf::Error&) {
    }
    return 0;
}
