#include "awf/base/platform.hpp"

#include "awf/plan/verify.hpp"

#include "awf/nft/lift.hpp"
#include "awf/nft/lower.hpp"
#include "awf/plan/planner.hpp"

namespace awf {

Verification verify(const kernel::Table& installed, std::string_view key) {
    Verification v;
    model::Table lifted = lift(installed);
    auto recorded = parse_table_comment(lifted.comment);
    if (!recorded) {
        v.checked = true;
        v.differences.push_back("the table comment does not record an awf-net version and digest");
        v.inputs = recover(lifted, Ipv6Mode::disable);
        return v;
    }
    v.recorded_version = recorded->version;
    v.recorded_digest = recorded->digest;
    v.recorded_keyed = recorded->keyed;
    v.checked = true;
    // Whoever can change the table can write any version into it: a version other than this
    // one is not a reason to stop judging. After an upgrade, apply again to replace the table.
    if (recorded->version != AWF_VERSION) {
        v.differences.push_back("records awf-net " + recorded->version + ", not this awf-net (" +
                                AWF_VERSION + "): apply again to replace it");
        v.inputs = recover(lifted, Ipv6Mode::disable);
        return v;
    }
    v.checked = true;
    if (recorded->keyed != !key.empty()) {
        v.differences.push_back(recorded->keyed
                                    ? "the digest is keyed but this host has no key to check it"
                                    : "the digest is not keyed with this host's key");
        v.inputs = recover(lifted, Ipv6Mode::disable);
        return v;
    }
    // The rules are the same in both IPv6 modes and whatever the origin of the gateways and
    // inbound sources; the digest tells which of the eight was recorded.
    if (auto base = recover(lifted, Ipv6Mode::disable))
        for (unsigned bits = 0; bits < 8 && !v.inputs; ++bits) {
            PlanInputs in = *base;
            in.ipv6 = bits & 1 ? Ipv6Mode::block : Ipv6Mode::disable;
            in.gateways_discovered = bits & 2;
            in.inbound_connected = bits & 4;
            if (in.digest(key) == recorded->digest) v.inputs = in;
        }
    if (!v.inputs) {
        v.inputs = recover(lifted, Ipv6Mode::disable);
        if (!v.inputs) {
            v.differences.push_back(
                "a set, chain or rule awf-net always installs is missing or altered");
            return v;
        }
        v.differences.push_back("the sets and rules no longer match the recorded policy digest");
    }
    kernel::Table want = lower(plan(*v.inputs, key));
    for (auto& d : kernel::compare(want, installed))
        // After a digest mismatch the re-planned comment differs by construction; say it once.
        if (v.differences.empty() || d.find("userdata") == std::string::npos)
            v.differences.push_back(d);
    return v;
}

} // namespace awf
