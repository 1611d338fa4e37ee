// kernel -> kernel model: reads one inet table with its chains, sets (and elements) and rules
// (with counters) over netlink. The reverse of encode; the read-back check, tamper detection
// and restore all stand on it.
#pragma once

#include "awf/kernel/netlink_socket.hpp"
#include "awf/nft/kernel_model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

// The ruleset generation: read before deciding, handed to the batch (see Batch).
uint32_t read_generation(NetlinkSocket& sock);

std::optional<kernel::Table> read_table(NetlinkSocket& sock, const std::string& name,
                                        uint32_t family = 1 /* NFPROTO_INET */);

struct TableId {
    uint32_t family;
    std::string name;
};
std::vector<TableId> list_tables(NetlinkSocket& sock);

} // namespace awf
