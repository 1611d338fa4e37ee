// kernel -> model: the reverse of lower(). Rules are lifted by pattern and then lowered again;
// a rule whose round trip is not exact (a foreign or hand-made rule) is kept as its raw
// expressions, never guessed at.
#pragma once

#include "awf/nft/kernel_model.hpp"
#include "awf/plan/model.hpp"

namespace awf {

model::Table lift(const kernel::Table& table);
model::Set lift_set(const kernel::Set& set);
// nullopt when the expressions are not in awf-net's vocabulary.
std::optional<model::Rule> lift_rule(const kernel::Rule& rule, uint32_t family = 1 /* inet */);

} // namespace awf
