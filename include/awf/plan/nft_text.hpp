// model -> nft text that `nft -f` accepts and turns into the same kernel ruleset as
// `awf-net apply` (the equivalence test proves it).
#pragma once

#include "awf/plan/model.hpp"

#include <string>

namespace awf {

struct NftTextOptions {
    bool counters = false; // print decoded counter values ("counter packets N bytes M")
};

std::string to_nft_text(const model::Table& table, const NftTextOptions& opts = {});
std::string rule_text(const model::Rule& rule, const NftTextOptions& opts = {});

// printable(s) in double quotes: an nft string.
std::string quote(const std::string& s);

} // namespace awf
