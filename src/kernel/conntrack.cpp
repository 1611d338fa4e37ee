#include "awf/base/platform.hpp"

#include "awf/kernel/conntrack.hpp"

#include "awf/base/error.hpp"

#include <cerrno>
#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

namespace awf {

void flush_conntrack(NetlinkSocket& nf) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    uint32_t seq = nf.next_seq();
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC; // both IPv4 and IPv6 entries
    nfg->version = NFNETLINK_V0;
    int err = nf.request(nlh);
    // ENOENT: nothing to flush.
    if (err != 0 && err != ENOENT)
        throw Error(ExitCode::restored, "conntrack flush", std::strerror(err));
}

} // namespace awf
