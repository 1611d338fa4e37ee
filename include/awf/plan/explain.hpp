// explain: walks a new outbound flow through the model (NAT output, then filter output) and
// names the rule that decided each hook. Pure: the namespace's addresses come in as data.
#pragma once

#include "awf/plan/model.hpp"
#include "awf/policy/address.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

struct Flow {
    uint8_t proto = 6; // IPPROTO_*
    IpAddr daddr;
    uint16_t dport = 0; // TCP, UDP, SCTP only
    std::string text;
};

// "tcp/203.0.113.7:443", "udp/8.8.8.8:53", "icmp/1.1.1.1", "tcp/[2001:db8::1]:443",
// "sctp/…", "gre/…", or a protocol number. Throws awf::Error (exit 2) naming the flow.
Flow parse_flow(const std::string& text);

struct ExplainContext {
    std::vector<IpAddr> local;     // the namespace's own addresses (fib daddr type local)
    std::vector<IpAddr> broadcast; // its subnets' broadcast addresses
};

struct HookVerdict {
    std::string chain;
    int rule = 0; // 1-based; 0: the chain's policy decided
    std::string comment;
    std::string text; // the rule as dump prints it
};

struct Explanation {
    Flow flow;
    HookVerdict nat;
    HookVerdict filter;
    std::optional<std::string> logged; // the NFLOG prefix an event would carry
    std::optional<std::pair<IpAddr, uint16_t>> redirected_to;
    // Intercept mode: steered to Squid as the next hop (with the policy routing awf-net
    // installs); `true`: a TLS port on Squid's side.
    std::optional<std::pair<IpAddr, bool>> intercepted_by;
    enum class Outcome {
        direct,
        redirected,
        intercepted,
        rejected,
        dropped
    } outcome = Outcome::dropped;
    std::string outcome_text() const;
};

Explanation explain(const model::Table& table, const Flow& flow, const ExplainContext& ctx);

} // namespace awf
