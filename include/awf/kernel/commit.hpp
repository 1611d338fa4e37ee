// Sends one batch and collects the kernel's answer to every message in it. The kernel applies
// all of it or none of it; a refusal is reported as the object that caused it.
#pragma once

#include "awf/base/error.hpp"
#include "awf/kernel/netlink_socket.hpp"
#include "awf/nft/encode.hpp"

namespace awf {

// Throws GenerationChanged, or awf::Error(kernel_refused) naming the first refused object, the
// errno text and the kernel's extended-ack message when it gave one.
void commit(NetlinkSocket& sock, const Batch& batch);

} // namespace awf
