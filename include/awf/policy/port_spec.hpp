// The port-spec grammar of policy.md (tests/data/port-spec-vectors.json is normative) and the
// port sets built from it: sorted, disjoint, merged intervals, the shape nft sets want.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf {

struct PortRange {
    uint16_t first = 0;
    uint16_t last = 0;

    std::string str() const;
    bool operator==(const PortRange&) const = default;
};

// One spec: "N" or "N-M". Returns the reason on failure.
struct PortSpecResult {
    std::optional<PortRange> range;
    std::string error;
};
PortSpecResult parse_port_spec(std::string_view text);

// A comma-separated list; throws awf::Error (exit 2) naming `field` and the bad entry.
std::vector<PortRange> parse_port_list(std::string_view text, const std::string& field);

class PortSet {
public:
    PortSet() = default;
    PortSet(std::initializer_list<PortRange> ranges);
    explicit PortSet(const std::vector<PortRange>& ranges);

    void add(PortRange r);
    PortSet& operator|=(const PortSet& other);
    PortSet operator-(const PortSet& other) const;
    bool contains(uint16_t port) const;
    bool empty() const { return ranges_.empty(); }
    const std::vector<PortRange>& ranges() const { return ranges_; }
    std::string str() const; // "80,443,3000-3010"
    bool operator==(const PortSet&) const = default;

private:
    void normalize();
    std::vector<PortRange> ranges_; // sorted, disjoint, adjacent ranges merged
};

} // namespace awf
