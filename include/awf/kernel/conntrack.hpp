// Flushes the conntrack table of the namespace the socket lives in, so no flow opened before
// the first policy is grandfathered in by `ct state established`.
#pragma once

#include "awf/kernel/netlink_socket.hpp"

namespace awf {
void flush_conntrack(NetlinkSocket& netfilter);
}
