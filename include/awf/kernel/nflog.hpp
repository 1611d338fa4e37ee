// Denied-packet events through nfnetlink_log (kernel `log` is silent inside container
// namespaces; NFLOG works there). The listener binds one group in the namespace its socket
// was opened in.
#pragma once

#include "awf/kernel/netlink_socket.hpp"
#include "awf/policy/address.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace awf {

struct LogEvent {
    std::chrono::system_clock::time_point time;
    std::string prefix;
    uint8_t proto = 0;
    IpAddr src;
    IpAddr dst;
    std::optional<uint16_t> dport; // TCP, UDP, SCTP
    std::optional<uint32_t> uid;   // of the sending socket, when the kernel knows it

    std::string text() const; // one line for people
    std::string json() const; // one object for tools
};

// Pure: the network header NFLOG copied (NFULA_PAYLOAD) into the event's addressing fields.
bool parse_network_header(const uint8_t* data, size_t len, LogEvent& ev);

class NflogListener {
public:
    // Opens and binds in the calling thread's namespace. Throws awf::Error (exit 3) when the
    // group is held by another listener, naming the group.
    explicit NflogListener(uint16_t group);
    // Waits up to `timeout_ms` (-1: forever) for events; appends what arrived.
    // Returns false on timeout. `lost` counts socket overruns (events the kernel dropped).
    bool wait(std::vector<LogEvent>& out, int timeout_ms, uint64_t& lost);
    // The socket, for a caller that polls it with other descriptors (then wait(..., 0, ...)).
    int fd() const;

private:
    void configure(uint8_t command, bool with_mode);
    NetlinkSocket sock_;
    uint16_t group_;
};

} // namespace awf
