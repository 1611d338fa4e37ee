// awf-net-faults: the real command line with the transaction's seams set from AWF_FAULT, for
// the transaction tests. Never installed; the production binary carries none of this.
//   AWF_FAULT=invalid-object   a last rule naming a set that does not exist: the kernel refuses
//                              the batch at its last object (atomicity, error mapping)
//   AWF_FAULT=invalid-middle-object  the same rule first among the rules: refused mid-batch,
//                              at a message that asked for no ack (only the last one does)
//   AWF_FAULT=fail-readback    the read-back reports a difference: the restore path runs
//   AWF_FAULT=concurrent:N     on the first N attempts another writer changes the ruleset
//                              between awf-net's read and its commit (generation guard)
//   AWF_FAULT=concurrent-readback:N  an element added to table awf between the commit and the
//                              read-back
//   AWF_FAULT=concurrent-restore     the same just before a restore
//   AWF_FAULT=abandoned-dump   a dump of the ruleset requested on awf-net's socket right after
//                              the commit and never read: its answers are queued ahead of the
//                              read-back's (as after a dump cut short by an error)
//   AWF_FAULT=cni-rewrite:N    cni-install: the first N times it is about to replace or remove
//                              the configuration it read, the network plugin rewrites it first
//                              (AWF_FAULT_CNI_SOURCE: the plugin's new text, copied over it,
//                              with blanks that differ each time)
// Several faults: comma-separated.
#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/kernel/commit.hpp"
#include "awf/kernel/netlink_socket.hpp"
#include "awf/nft/encode.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

class FaultHooks : public awf::ApplyHooks {
public:
    bool invalid_object = false;
    bool invalid_middle_object = false;
    bool fail_readback = false;
    int concurrent_changes = 0;
    int concurrent_readback = 0;
    bool concurrent_restore = false;
    bool abandoned_dump = false;
    mutable int cni_rewrites = 0;

    static void another_writer(awf::NetlinkSocket& nf) {
        awf::kernel::Table other;
        other.name = "awf_test_concurrent";
        other.family = NFPROTO_INET;
        awf::commit(nf, awf::encode_replace(other, nf.next_seq()));
        awf::commit(nf, awf::encode_delete(other.name, nf.next_seq()));
    }

    void planned(awf::kernel::Table& t) const override {
        if (!invalid_object && !invalid_middle_object) return;
        awf::kernel::Rule r;
        r.chain = t.chains.back().name;
        awf::kernel::Expr load{"meta", {}};
        load.set(NFTNL_EXPR_META_KEY, NFT_META_L4PROTO).set(NFTNL_EXPR_META_DREG, NFT_REG_1);
        awf::kernel::Expr lookup{"lookup", {}};
        lookup.set(NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1)
            .set_str(NFTNL_EXPR_LOOKUP_SET, "__awf_test_missing");
        r.exprs = {load, lookup};
        if (invalid_object) t.rules.push_back(r);
        if (invalid_middle_object) t.rules.insert(t.rules.begin(), r);
    }

    void before_commit(awf::NetlinkSocket& nf, int attempt) const override {
        if (attempt <= concurrent_changes) another_writer(nf);
    }

    // Changes awf-net's own table, as an operator's nft would: a read-back that saw this
    // would take it for a failed commit.
    void after_commit(awf::NetlinkSocket& nf, int attempt) const override {
        if (abandoned_dump && attempt == 1) {
            std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
            nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_INET,
                                                  NLM_F_DUMP, nf.next_seq());
            nf.send(nlh, nlh->nlmsg_len);
        }
        if (attempt <= concurrent_readback &&
            std::system("nft add element inet awf web_ports '{ 1 }'") != 0)
            throw std::runtime_error("awf-net-faults: nft add element failed");
    }

    void before_restore(awf::NetlinkSocket& nf) const override {
        if (concurrent_restore) another_writer(nf);
    }

    void before_replace(const std::string& path) const override {
        if (cni_rewrites <= 0) return;
        --cni_rewrites;
        const char* source = std::getenv("AWF_FAULT_CNI_SOURCE");
        if (!source)
            throw std::runtime_error("awf-net-faults: cni-rewrite needs AWF_FAULT_CNI_SOURCE");
        std::ifstream in(source);
        std::stringstream text;
        text << in.rdbuf();
        // Another rewrite each time (trailing blanks are still the same JSON), so that a file
        // that never stops changing can be made.
        std::ofstream(path, std::ios::trunc) << text.str() << std::string(cni_rewrites + 1, ' ');
    }

    void read_back(std::vector<std::string>& differences) const override {
        if (fail_readback) differences.insert(differences.begin(), "test-only read-back failure");
    }
};

} // namespace

int main(int argc, char** argv) {
    FaultHooks hooks;
    const char* env = std::getenv("AWF_FAULT");
    std::string faults = env ? env : "";
    for (size_t start = 0; start < faults.size();) {
        size_t end = std::min(faults.find(',', start), faults.size());
        std::string f = faults.substr(start, end - start);
        start = end + 1;
        auto count = [&](const std::string& name) {
            return f.rfind(name + ":", 0) == 0 ? std::atoi(f.c_str() + name.size() + 1) : 0;
        };
        if (f == "invalid-object")
            hooks.invalid_object = true;
        else if (f == "invalid-middle-object")
            hooks.invalid_middle_object = true;
        else if (f == "fail-readback")
            hooks.fail_readback = true;
        else if (f == "abandoned-dump")
            hooks.abandoned_dump = true;
        else if (f == "concurrent-restore")
            hooks.concurrent_restore = true;
        else if (int n = count("concurrent"))
            hooks.concurrent_changes = n;
        else if (int r = count("cni-rewrite"))
            hooks.cni_rewrites = r;
        else if (int m = count("concurrent-readback"))
            hooks.concurrent_readback = m;
        else {
            std::cerr << "awf-net-faults: unknown AWF_FAULT " << f << "\n";
            return 2;
        }
    }
    return awf::cli::cli_main(argc, argv, &hooks);
}
