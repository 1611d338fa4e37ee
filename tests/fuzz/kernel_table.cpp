#include "awf/base/platform.hpp"

// What a namespace's ruleset can hold: a table called awf that anyone with NET_ADMIN there has
// changed, as the decoder hands it over. Starting from the table awf-net installs, the input
// drives edits of every kind of object and attribute (names, flags, hooks, set key types and
// lengths, element keys and ends, expressions added, removed or rewritten with any value, any
// bytes, any userdata); the result goes through lift, verify, the nft text and JSON printers,
// the comparison with the plan and explain, as dump, apply's read-back and explain do.
#include "awf/nft/kernel_model.hpp"
#include "awf/nft/lift.hpp"
#include "awf/nft/lower.hpp"
#include "awf/plan/explain.hpp"
#include "awf/plan/model_json.hpp"
#include "awf/plan/nft_text.hpp"
#include "awf/plan/verify.hpp"
#include "fuzz_support.hpp"
#include "kernel_edits.hpp"

#include <fuzzer/FuzzedDataProvider.h>

namespace {

using namespace awf;
using fuzz::bytes;
using fuzz::edit_expr;

void edit(FuzzedDataProvider& in, kernel::Table& t) {
    auto pick = [&](auto& v) -> decltype(&v[0]) {
        return v.empty() ? nullptr : &v[in.ConsumeIntegralInRange<size_t>(0, v.size() - 1)];
    };
    switch (in.ConsumeIntegralInRange<int>(0, 13)) {
    case 0:
        t.udata = bytes(in);
        break;
    case 1:
        t.flags = in.ConsumeIntegral<uint32_t>();
        break;
    case 2:
        if (auto* c = pick(t.chains)) {
            c->hooknum = in.ConsumeIntegralInRange<uint32_t>(0, 6);
            c->policy = in.ConsumeIntegralInRange<uint32_t>(0, 3);
            c->priority = in.ConsumeIntegral<int32_t>();
            c->type = in.PickValueInArray({"filter", "nat", "route", ""});
        }
        break;
    case 3:
        if (auto* c = pick(t.chains)) c->name = in.ConsumeRandomLengthString(300);
        break;
    case 4:
        if (auto* s = pick(t.sets)) {
            s->key_type = in.ConsumeIntegral<uint32_t>();
            s->key_len = in.ConsumeIntegralInRange<uint32_t>(0, 80);
        }
        break;
    case 5:
        if (auto* s = pick(t.sets)) s->flags = in.ConsumeIntegral<uint32_t>();
        break;
    case 6:
        if (auto* s = pick(t.sets))
            s->elems.push_back(
                {bytes(in), bytes(in), in.ConsumeIntegralInRange<uint32_t>(0, 3), bytes(in)});
        break;
    case 7:
        if (auto* s = pick(t.sets))
            if (auto* e = pick(s->elems)) e->key = bytes(in);
        break;
    case 8:
        if (auto* s = pick(t.sets)) s->name = in.ConsumeRandomLengthString(300);
        break;
    case 9:
        if (auto* r = pick(t.rules))
            if (auto* e = pick(r->exprs)) edit_expr(in, *e);
        break;
    case 10:
        if (auto* r = pick(t.rules)) {
            kernel::Expr e;
            edit_expr(in, e);
            edit_expr(in, e);
            r->exprs.insert(r->exprs.begin() + in.ConsumeIntegralInRange<long>(
                                                   0, static_cast<long>(r->exprs.size())),
                            e);
        }
        break;
    case 11:
        if (auto* r = pick(t.rules))
            if (!r->exprs.empty())
                r->exprs.erase(r->exprs.begin() + in.ConsumeIntegralInRange<long>(
                                                      0, static_cast<long>(r->exprs.size()) - 1));
        break;
    case 12:
        if (auto* r = pick(t.rules)) {
            r->udata = bytes(in);
            r->chain = in.PickValueInArray({"filter_output", "nat_output", "x"});
        }
        break;
    default:
        if (!t.rules.empty())
            t.rules.erase(t.rules.begin() + in.ConsumeIntegralInRange<long>(
                                                0, static_cast<long>(t.rules.size()) - 1));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const kernel::Table want = fuzz::installed();
    FuzzedDataProvider in(data, size);
    kernel::Table t = want;
    for (int n = in.ConsumeIntegralInRange<int>(1, 12); n > 0 && in.remaining_bytes() > 0; --n)
        edit(in, t);
    model::Table lifted = lift(t);
    (void)to_nft_text(lifted, NftTextOptions{true});
    (void)to_json(lifted).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)verify(t);
    (void)kernel::compare(want, t);
    for (const auto& r : t.rules)
        (void)kernel::describe(r);
    for (const char* f : {"tcp/203.0.113.7:443", "udp/8.8.8.8:53", "tcp/[2001:db8::1]:80",
                          "icmp/172.30.0.1", "tcp/172.30.0.10:3128"})
        (void)explain(lifted, parse_flow(f), ExplainContext{}).outcome_text();
    return 0;
}
