// The ruleset model: a plain description of awf-net's table, chains, sets and rules at the
// level of nft statements. The planner builds it, nft_text prints it, lower() turns it into
// kernel bytecode (kernel_model.hpp) exactly as nft would linearize the printed text.
#pragma once

#include "awf/policy/address.hpp"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace awf::model {

using Bytes = std::vector<uint8_t>;

// Packet fields the policy matches on. Each knows its nft spelling, its kernel load and the
// protocol dependency nft inserts in an inet table (lower.cpp).
enum class Field : uint8_t {
    meta_oif,
    meta_iif,
    meta_nfproto,
    meta_l4proto,
    fib_daddr_type,
    ct_state,
    ip_saddr,
    ip_daddr,
    ip6_saddr,
    ip6_daddr,
    ip6_hoplimit,
    tcp_dport,
    th_dport,
    icmpv6_type,
    meta_mark,   // the packet mark (intercept: steered to Squid)
    rt_nexthop4, // the IPv4 next hop the route lookup chose
};

struct Match {
    enum class Kind { eq, range, in_set, any_bit } kind = Kind::eq;
    std::vector<Field> fields; // more than one only for in_set (a concatenation)
    uint32_t value = 0;        // eq, range low, any_bit mask (scalar fields only)
    uint32_t value_hi = 0;     // range high
    std::string set;           // in_set
    bool operator==(const Match&) const = default;
};

struct Counter {
    uint64_t packets = 0; // filled by the decoder; the planner leaves them zero
    uint64_t bytes = 0;
    bool operator==(const Counter&) const { return true; } // counters never make rules differ
};
struct Limit {
    uint64_t rate = 0;
    uint64_t unit_seconds = 60;
    uint32_t burst = 0;
    bool operator==(const Limit&) const = default;
};
struct Log {
    std::string prefix;
    uint16_t group = 0;
    bool operator==(const Log&) const = default;
};
enum class VerdictCode { accept, drop };
struct Verdict {
    VerdictCode code = VerdictCode::accept;
    bool operator==(const Verdict&) const = default;
};
struct RejectTcpReset {
    bool operator==(const RejectTcpReset&) const = default;
};
struct Dnat {
    IpAddr addr;
    uint16_t port = 0;
    bool operator==(const Dnat&) const = default;
};

// meta mark set: the packet is re-routed by the route chain (intercept's policy routing).
struct MarkSet {
    uint32_t mark = 0;
    bool operator==(const MarkSet&) const = default;
};
// redirect to :PORT (the proxy side of intercept: to Squid's own intercept port).
struct Redirect {
    uint16_t port = 0;
    bool operator==(const Redirect&) const = default;
};

using Stmt =
    std::variant<Match, Counter, Limit, Log, Verdict, RejectTcpReset, Dnat, MarkSet, Redirect>;

struct Rule {
    std::vector<Stmt> stmts;
    std::string comment; // names the policy.md rule it implements; shown by dump and explain
    std::string raw;     // set by the decoder when a rule is outside this vocabulary
    bool operator==(const Rule&) const = default;
};

enum class KeyType : uint8_t { ipv4_addr, ipv6_addr, inet_proto, inet_service };

// One field of one element: a value (lo == hi) or an inclusive range, network byte order.
struct ElementField {
    Bytes lo;
    Bytes hi;
    bool operator==(const ElementField&) const = default;
};
using Element = std::vector<ElementField>; // one ElementField per key type

struct Set {
    std::string name;
    std::vector<KeyType> key; // more than one: a concatenation
    bool interval = false;
    std::vector<Element> elements;
    bool operator==(const Set&) const = default;
};

enum class ChainType { filter, nat, route };
// awf-net's own chains use input and output; the rest appear in foreign tables (dump --all).
enum class Hook { input, output, prerouting, forward, postrouting, none };

struct Chain {
    std::string name;
    ChainType type = ChainType::filter;
    Hook hook = Hook::output;
    int32_t priority = 0;
    VerdictCode policy = VerdictCode::accept;
    std::vector<Rule> rules;
    bool operator==(const Chain&) const = default;
};

struct Table {
    std::string family = "inet";
    std::string name;
    std::string comment; // "awf-net VERSION sha256:DIGEST": the userdata of policy.md
    std::vector<Set> sets;
    std::vector<Chain> chains;
    bool operator==(const Table&) const = default;
};

// Helpers the planner and tests use to build elements.
size_t key_size(KeyType t);
ElementField field_of(const IpAddr& a);
ElementField field_of(const Cidr& c);
ElementField field_of_port(uint16_t lo, uint16_t hi);
ElementField field_of_proto(uint8_t proto);

} // namespace awf::model
