#include "awf/base/platform.hpp"

// Set elements as a dump delivers them, decoded by awf-net's own attribute walk (not libnftnl):
// any bytes after the message header, any lengths. Nothing may be read outside the message, and
// what comes out goes through the key order the read-back sorts by.
#include "awf/nft/decode.hpp"

#include <algorithm>
#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <memory>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 65535 - MNL_NLMSG_HDRLEN - MNL_ALIGN(sizeof(nfgenmsg))) return 0;
    size_t len = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg)) + size;
    // Exactly the message's size on the heap, so ASan sees a read one byte past it.
    auto buf = std::make_unique<uint8_t[]>(len);
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.get());
    *nlh = {};
    nlh->nlmsg_len = static_cast<uint32_t>(len);
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM;
    std::memset(buf.get() + MNL_NLMSG_HDRLEN, 0, MNL_ALIGN(sizeof(nfgenmsg)));
    if (size) std::memcpy(buf.get() + MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg)), data, size);
    std::vector<awf::kernel::Elem> elems;
    awf::decode_elements(nlh, elems);
    std::sort(elems.begin(), elems.end(), awf::kernel::key_order);
    return 0;
}
