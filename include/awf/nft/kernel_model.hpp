// The ruleset as the kernel holds it: tables, chains, sets with their elements in the kernel's
// interval encoding, and rules as expression lists with typed attributes. The encoder sends
// exactly this, the decoder reads exactly this back, so plan, kernel and restore can be
// compared and replayed object by object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf::kernel {

using Bytes = std::vector<uint8_t>;

enum class AttrType { u8, u16, u32, u64, str, data, verdict };

struct Attr {
    uint16_t id = 0; // libnftnl NFTNL_EXPR_* attribute
    uint64_t num = 0;
    std::string str;
    Bytes data;
    bool operator==(const Attr&) const = default;
};

struct Expr {
    std::string name;        // "payload", "cmp", "lookup", ...
    std::vector<Attr> attrs; // sorted by id
    Expr& set(uint16_t id, uint64_t num);
    Expr& set_str(uint16_t id, std::string s);
    Expr& set_data(uint16_t id, Bytes d);
    const Attr* get(uint16_t id) const;
    void erase(uint16_t id);
    bool operator==(const Expr&) const = default;

private:
    Attr& slot(uint16_t id);
};

// The libnftnl type of each attribute this project reads or writes, so one generic encoder and
// one generic decoder serve every expression. Unknown pairs return nullopt.
std::optional<AttrType> attr_type(std::string_view expr, uint16_t attr);
// Every attribute the decoder asks libnftnl for, per expression name.
const std::vector<uint16_t>& known_attrs(std::string_view expr);

struct Rule {
    std::string chain;
    std::vector<Expr> exprs;
    Bytes udata;
    uint64_t handle = 0;
};

struct Elem {
    Bytes key;
    Bytes key_end;
    uint32_t flags = 0; // NFT_SET_ELEM_INTERVAL_END
    Bytes udata;
    bool operator==(const Elem&) const = default;
    auto operator<=>(const Elem&) const = default;
};

// A cheap total order for sorting thousands of elements: keys are unique within a set but for
// an interval's end marker, which the flags tell apart; the rest breaks remaining ties.
inline bool key_order(const Elem& a, const Elem& b) {
    if (auto c = a.key <=> b.key; c != 0) return c < 0; // one memcmp, not two
    if (a.flags != b.flags) return a.flags < b.flags;
    return a < b;
}

struct Set {
    std::string name;
    uint32_t flags = 0;
    uint32_t key_type = 0;
    uint32_t key_len = 0;
    std::vector<uint8_t> field_lens; // concatenated interval sets only
    Bytes udata;
    std::vector<Elem> elems;
};

struct Chain {
    std::string name;
    std::string type;
    uint32_t hooknum = 0;
    int32_t priority = 0;
    uint32_t policy = 0; // NF_DROP 0, NF_ACCEPT 1
    uint64_t handle = 0;
};

struct Table {
    std::string name;
    uint32_t family = 0;
    uint32_t flags = 0;
    Bytes udata;
    uint64_t handle = 0;
    std::vector<Chain> chains;
    std::vector<Set> sets;
    std::vector<Rule> rules; // in chain order, then rule order
};

// Differences between what was meant (`want`, from lower()) and what the kernel holds (`have`,
// from the decoder), one line each; empty means equal. Handles, counters and batch ids are
// not compared; set elements are compared as sets.
std::vector<std::string> compare(const Table& want, const Table& have);

// The kernel reports some attributes nft never sends (it fills them in); this turns what we
// send into what we will read back.
Expr as_kernel_reports(const Expr& sent);
// The expressions as_kernel_reports may change; every other one is reported as sent.
bool reported_differently(std::string_view expr);

// Whether `got` is what the kernel reports for the expressions `sent` (as_kernel_reports of
// each); counter values never make two rules differ.
bool reported_as_sent(const std::vector<Expr>& sent, const std::vector<Expr>& got);

std::string describe(const Expr& e);
std::string describe(const Rule& r);

} // namespace awf::kernel
