// model -> kernel: the bytecode, set encoding and userdata nft 1.0.6 produces for the same
// ruleset text, so `awf-net apply` and `nft -f` of `--print nft` build identical kernel state.
#pragma once

#include "awf/nft/kernel_model.hpp"
#include "awf/plan/model.hpp"

namespace awf {

kernel::Table lower(const model::Table& table);

// Pieces exposed for tests and for the decoder's reverse mapping.
// `family`: the table's (NFPROTO_*); in an ip or ip6 table nft inserts no nfproto dependency.
std::vector<kernel::Expr> lower_rule(const model::Rule& rule, uint32_t family = 1 /* inet */);
std::vector<kernel::Elem> lower_elements(const model::Set& set);
kernel::Bytes table_userdata(const std::string& comment);

} // namespace awf
