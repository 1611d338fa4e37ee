// awf-net-faults: the real command line with the transaction's seams set from AWF_FAULT, for
// the transaction tests. Never installed; the production binary carries none of this.
//   AWF_FAULT=invalid-object   a last rule naming a set that does not exist: the kernel refuses
//                              the batch at its last object (atomicity, error mapping)
//   AWF_FAULT=fail-readback    the read-back reports a difference: the restore path runs
//   AWF_FAULT=concurrent:N     on the first N attempts another writer changes the ruleset
//                              between awf-net's read and its commit (generation guard)
#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/kernel/commit.hpp"
#include "awf/kernel/netlink_socket.hpp"
#include "awf/nft/encode.hpp"

#include <cstdlib>
#include <iostream>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string>

namespace {

class FaultHooks : public awf::ApplyHooks {
public:
    bool invalid_object = false;
    bool fail_readback = false;
    int concurrent_changes = 0;

    void planned(awf::kernel::Table& t) const override {
        if (!invalid_object) return;
        awf::kernel::Rule r;
        r.chain = t.chains.back().name;
        awf::kernel::Expr load{"meta", {}};
        load.set(NFTNL_EXPR_META_KEY, NFT_META_L4PROTO).set(NFTNL_EXPR_META_DREG, NFT_REG_1);
        awf::kernel::Expr lookup{"lookup", {}};
        lookup.set(NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1)
            .set_str(NFTNL_EXPR_LOOKUP_SET, "__awf_test_missing");
        r.exprs = {load, lookup};
        t.rules.push_back(r);
    }

    void before_commit(awf::NetlinkSocket& nf, int attempt) const override {
        if (attempt > concurrent_changes) return;
        awf::kernel::Table other;
        other.name = "awf_test_concurrent";
        other.family = NFPROTO_INET;
        awf::commit(nf, awf::encode_replace(other, awf::initial_sequence()));
        awf::commit(nf, awf::encode_delete(other.name, awf::initial_sequence()));
    }

    void read_back(std::vector<std::string>& differences) const override {
        if (fail_readback) differences.insert(differences.begin(), "test-only read-back failure");
    }
};

} // namespace

int main(int argc, char** argv) {
    FaultHooks hooks;
    const char* fault = std::getenv("AWF_FAULT");
    std::string f = fault ? fault : "";
    if (f == "invalid-object")
        hooks.invalid_object = true;
    else if (f == "fail-readback")
        hooks.fail_readback = true;
    else if (f.rfind("concurrent:", 0) == 0)
        hooks.concurrent_changes = std::atoi(f.c_str() + 11);
    else if (!f.empty()) {
        std::cerr << "awf-net-faults: unknown AWF_FAULT " << f << "\n";
        return 2;
    }
    return awf::cli::cli_main(argc, argv, &hooks);
}
