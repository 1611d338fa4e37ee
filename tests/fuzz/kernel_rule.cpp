#include "awf/base/platform.hpp"

// One rule of a table called awf, as the decoder hands it over, rewritten expression by
// expression (names, attributes, values, bytes; expressions added and removed), then lifted,
// described and printed in the context of the installed table's sets, and walked by explain.
// The same edits as kernel_table, one rule at a time: thousands of times faster per input than
// re-verifying a whole table, so the expression decoder gets the volume a parser deserves.
#include "awf/nft/lift.hpp"
#include "awf/plan/explain.hpp"
#include "awf/plan/nft_text.hpp"
#include "kernel_edits.hpp"

namespace {

using namespace awf;

// The installed table without its rules: sets and chains a lifted rule refers to.
kernel::Table frame(const kernel::Table& t) {
    kernel::Table f = t;
    f.rules.clear();
    return f;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const kernel::Table whole = fuzz::installed();
    static const kernel::Table empty = frame(whole);
    FuzzedDataProvider in(data, size);
    kernel::Table t = empty;
    kernel::Rule r = whole.rules[in.ConsumeIntegralInRange<size_t>(0, whole.rules.size() - 1)];
    for (int n = in.ConsumeIntegralInRange<int>(1, 8); n > 0 && in.remaining_bytes() > 0; --n) {
        switch (in.ConsumeIntegralInRange<int>(0, 3)) {
        case 0:
            if (!r.exprs.empty())
                fuzz::edit_expr(in,
                                r.exprs[in.ConsumeIntegralInRange<size_t>(0, r.exprs.size() - 1)]);
            break;
        case 1: {
            kernel::Expr e;
            fuzz::edit_expr(in, e);
            fuzz::edit_expr(in, e);
            r.exprs.insert(r.exprs.begin() + in.ConsumeIntegralInRange<long>(
                                                 0, static_cast<long>(r.exprs.size())),
                           e);
            break;
        }
        case 2:
            if (!r.exprs.empty())
                r.exprs.erase(r.exprs.begin() + in.ConsumeIntegralInRange<long>(
                                                    0, static_cast<long>(r.exprs.size()) - 1));
            break;
        default:
            r.udata = fuzz::bytes(in);
        }
    }
    (void)kernel::describe(r);
    t.rules.push_back(std::move(r));
    model::Table lifted = lift(t);
    (void)to_nft_text(lifted, NftTextOptions{true});
    (void)explain(lifted, parse_flow("tcp/203.0.113.7:443"), ExplainContext{}).outcome_text();
    return 0;
}
