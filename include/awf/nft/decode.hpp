// kernel -> kernel model: reads one inet table with its chains, sets (and elements) and rules
// (with counters) over netlink. The reverse of encode; the read-back check, tamper detection
// and restore all stand on it.
#pragma once

#include "awf/kernel/netlink_socket.hpp"
#include "awf/nft/kernel_model.hpp"

#include <optional>
#include <string>
#include <vector>

struct nlmsghdr;

namespace awf {

// The ruleset generation: read before deciding, handed to the batch (see Batch).
// One message of a dump, as the kernel (or anyone, in the fuzz target) sent it; nullopt when
// libnftnl cannot parse it or it belongs to another table. Pure: no socket.
std::optional<kernel::Table> decode_table(const nlmsghdr* nlh);
std::optional<kernel::Chain> decode_chain(const nlmsghdr* nlh, const std::string& table);
std::optional<kernel::Set> decode_set(const nlmsghdr* nlh, const std::string& table);
void decode_elements(const nlmsghdr* nlh, std::vector<kernel::Elem>& out);
std::optional<kernel::Rule> decode_rule(const nlmsghdr* nlh, const std::string& table);

uint32_t read_generation(NetlinkSocket& sock);

std::optional<kernel::Table> read_table(NetlinkSocket& sock, const std::string& name,
                                        uint32_t family = 1 /* NFPROTO_INET */);

struct TableId {
    uint32_t family;
    std::string name;
};
std::vector<TableId> list_tables(NetlinkSocket& sock);

} // namespace awf
