// kernel model -> one nfnetlink batch (libnftnl builds every message). Each message gets its
// own sequence number, remembered with a description of the object, so a kernel error can be
// reported as the object that caused it.
#pragma once

#include "awf/nft/kernel_model.hpp"

#include <cstdint>
#include <linux/netlink.h>
#include <optional>
#include <string>
#include <vector>

namespace awf {

class Batch {
public:
    // With `generation`, the kernel refuses the batch (ERESTART) if the ruleset changed since
    // that generation was read, so a decision taken on a stale read never lands.
    explicit Batch(uint32_t first_seq, std::optional<uint32_t> generation = std::nullopt);

    struct Object {
        uint32_t seq;
        std::string what;
        size_t offset; // of the message inside the batch, to resolve ext-ack attribute offsets
    };

    // Appends a message; `build` fills the payload after the header is in place and writes at
    // most `bound` bytes in all (libmnl cannot check: the bound is the caller's estimate).
    template <typename Build>
    void add(uint16_t type, uint16_t flags, std::string what, size_t bound, Build&& build);
    void finish(); // appends the batch end message

    const std::vector<char>& bytes() const { return buf_; }
    const std::vector<Object>& objects() const { return objects_; }
    const Object* find(uint32_t seq) const;
    uint32_t begin_seq() const { return begin_seq_; }
    uint32_t end_seq() const { return next_seq_; } // one past the batch end message's

private:
    char* scratch(size_t bound); // one message is built here, then copied out at its size
    void append(const nlmsghdr* nlh);

    std::vector<char> buf_;
    std::vector<char> scratch_;
    std::vector<Object> objects_;
    uint32_t begin_seq_;
    uint32_t next_seq_;
};

// The whole table in one batch. With `replace`: add the table (so the delete cannot fail),
// delete it, add it again with everything in it, so at no point is there a partial policy or
// none. Without: a plain add (refused if the table appeared meanwhile), which spares the kernel
// the deferred destruction of a deleted table (an RCU grace period, paid when the socket
// closes). Callers pass the generation their decision was read at.
Batch encode_replace(const kernel::Table& table, uint32_t first_seq,
                     std::optional<uint32_t> generation = std::nullopt, bool replace = true);
// Removes the table and all in it.
Batch encode_delete(const std::string& table, uint32_t first_seq,
                    std::optional<uint32_t> generation = std::nullopt);

} // namespace awf
