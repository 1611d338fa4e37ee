// Is an installed awf-net table what its recorded policy plans? Pure: works on a kernel model
// read by the decoder. The inputs are read back from the sets and rules, checked against the
// digest recorded in the table's userdata, planned again and compared object by object.
#pragma once

#include "awf/nft/kernel_model.hpp"
#include "awf/plan/plan_inputs.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

struct Verification {
    std::string recorded_version; // empty: no awf-net comment at all
    std::string recorded_digest;
    bool recorded_keyed = false;          // an HMAC under the host's key
    std::optional<PlanInputs> inputs;     // read back from the sets and rules
    std::vector<std::string> differences; // empty and `checked`: the table is as planned
    bool checked = false;                 // false only for a table without awf-net's rules
    std::string note;

    bool tampered() const { return checked && !differences.empty(); }
};

// `key`: the host's digest key (empty when there is none); a table recorded with another kind
// of digest than the key calls for is tampered.
Verification verify(const kernel::Table& installed, std::string_view key = {});

} // namespace awf
