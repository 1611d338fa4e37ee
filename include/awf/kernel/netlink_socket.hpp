// A libmnl socket owned by RAII, opened in whatever namespace the thread is in at the time
// (a netlink socket stays bound to the namespace it was created in).
#pragma once

#include "awf/base/error.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

struct mnl_socket;
struct nlmsghdr;

namespace awf {

// The ruleset changed under a reader or a writer: between the read a decision was based on and
// the commit (ERESTART), or during a dump (NLM_F_DUMP_INTR). Callers decide again, a bounded
// number of times.
struct GenerationChanged : Error {
    using Error::Error;
};

class NetlinkSocket {
public:
    explicit NetlinkSocket(int bus); // NETLINK_NETFILTER, NETLINK_ROUTE
    uint32_t portid() const { return portid_; }
    mnl_socket* get() const { return sock_.get(); }

    // Sequence numbers: every request and every batch message takes one no earlier request on
    // this socket used, so a late answer to an abandoned request (a dump cut short by an error,
    // the acks of a refused batch) is recognised by its number and skipped, never taken for the
    // answer to the next one.
    uint32_t next_seq() { return seq_++; }
    // A batch built from next_seq() used the numbers up to `end` (exclusive).
    void seq_used_until(uint32_t end) {
        if (static_cast<int32_t>(end - seq_) > 0) seq_ = end;
    }

    void send(const void* data, size_t len);
    // Runs `cb` on every message answering `seq` (a dump, a reply and its ack, or the one reply
    // to a request that is neither a dump nor asked for an ack) until the answer ends. The whole
    // answer is read even when it fails, so nothing of it is left queued.
    void dump(const void* request, size_t len, uint32_t seq,
              const std::function<void(const nlmsghdr*)>& cb);
    // Receives whatever is queued into the socket's own buffer, waiting up to `timeout_ms` for
    // the first message. Returns the bytes received (valid until the next call), or nothing on
    // timeout.
    std::optional<std::string_view> receive(int timeout_ms);
    // Sends one request that asked for an ack (NLM_F_ACK) and waits for the answer: 0 on
    // success, else the errno the kernel reported.
    int request(const nlmsghdr* nlh, int timeout_ms = 5000);
    // Raises the socket buffers for a large batch (CAP_NET_ADMIN allows forcing them).
    void set_buffers(size_t bytes);

private:
    struct Closer {
        void operator()(mnl_socket* s) const;
    };
    std::unique_ptr<mnl_socket, Closer> sock_;
    uint32_t portid_ = 0;
    uint32_t seq_;
    // Receive buffer, allocated once per socket and never cleared: the kernel writes what is read.
    std::unique_ptr<char[]> rx_;
    static constexpr size_t kRxSize = 1 << 17;
    char* rx();
    ssize_t recv(int flags); // into rx()
};

// The first sequence number of a socket: unique enough per process run (nft uses time(NULL)).
uint32_t initial_sequence();

} // namespace awf
