// Edits of kernel objects driven by fuzz input, shared by the kernel_table and kernel_rule
// targets: any attribute of an expression set, removed or rewritten with any value or bytes.
#pragma once

#include "awf/nft/kernel_model.hpp"
#include "awf/nft/lower.hpp"
#include "fuzz_support.hpp"

#include <fuzzer/FuzzedDataProvider.h>

namespace awf::fuzz {

inline kernel::Bytes bytes(FuzzedDataProvider& in) {
    return in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 80));
}

inline void edit_expr(FuzzedDataProvider& in, kernel::Expr& e) {
    static const char* const names[] = {"payload", "cmp",   "lookup", "meta", "ct",     "bitwise",
                                        "counter", "log",   "limit",  "nat",  "reject", "immediate",
                                        "fib",     "queue", "range",  "jump", ""};
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
        e.name = in.PickValueInArray(names);
        break;
    case 1:
        if (!e.attrs.empty())
            e.erase(e.attrs[in.ConsumeIntegralInRange<size_t>(0, e.attrs.size() - 1)].id);
        break;
    case 2:
        e.set(in.ConsumeIntegralInRange<uint16_t>(0, 20), in.ConsumeIntegral<uint64_t>());
        break;
    case 3:
        e.set_data(in.ConsumeIntegralInRange<uint16_t>(0, 20), bytes(in));
        break;
    case 4:
        e.set_str(in.ConsumeIntegralInRange<uint16_t>(0, 20), in.ConsumeRandomLengthString(300));
        break;
    default:
        if (!e.attrs.empty()) {
            auto& a = e.attrs[in.ConsumeIntegralInRange<size_t>(0, e.attrs.size() - 1)];
            a.num = in.ConsumeIntegral<uint64_t>();
            a.data = bytes(in);
        }
    }
}

// The table awf-net installs, as the kernel reports it back.
inline kernel::Table installed() {
    kernel::Table k = lower(default_table());
    for (auto& r : k.rules)
        for (auto& e : r.exprs)
            e = kernel::as_kernel_reports(e);
    return k;
}

} // namespace awf::fuzz
