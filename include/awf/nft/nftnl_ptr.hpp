// unique_ptr owners for libnftnl objects, so no logic code frees anything by hand.
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <memory>
#include <new>

namespace awf::nftnl {

template <auto Free> struct Deleter {
    template <typename T> void operator()(T* p) const { Free(p); }
};

using TablePtr = std::unique_ptr<nftnl_table, Deleter<nftnl_table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Deleter<nftnl_chain_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Deleter<nftnl_set_free>>;
using RulePtr = std::unique_ptr<nftnl_rule, Deleter<nftnl_rule_free>>;
using ExprPtr = std::unique_ptr<nftnl_expr, Deleter<nftnl_expr_free>>;
using ExprIterPtr = std::unique_ptr<nftnl_expr_iter, Deleter<nftnl_expr_iter_destroy>>;
using GenPtr = std::unique_ptr<nftnl_gen, Deleter<nftnl_gen_free>>;

// Allocates with libnftnl's allocator; throws instead of handing out null.
template <typename Ptr, typename Alloc> Ptr make(Alloc alloc) {
    Ptr p(alloc());
    if (!p) throw std::bad_alloc();
    return p;
}

} // namespace awf::nftnl
