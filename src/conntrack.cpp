#include "awf/conntrack.hpp"

#include "awf/error.hpp"

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
    uint32_t seq = initial_sequence();
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC; // both IPv4 and IPv6 entries
    nfg->version = NFNETLINK_V0;
    nf.send(nlh, nlh->nlmsg_len);
    std::vector<char> rx;
    if (!nf.receive(rx, 5000))
        throw Error(ExitCode::restored, "conntrack flush", "no answer from the kernel");
    int len = static_cast<int>(rx.size());
    for (auto* m = reinterpret_cast<const nlmsghdr*>(rx.data()); mnl_nlmsg_ok(m, len);
         m = mnl_nlmsg_next(m, &len)) {
        if (m->nlmsg_type != NLMSG_ERROR) continue;
        int err = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
        if (err != 0 && err != ENOENT)
            throw Error(ExitCode::restored, "conntrack flush", std::strerror(err));
        return;
    }
}

} // namespace awf
