#include "awf/base/platform.hpp"

#include "awf/policy/port_spec.hpp"

#include "awf/base/error.hpp"

#include <algorithm>

namespace awf {

namespace {

// Digits only: from_chars would accept things the grammar forbids, and std::isdigit is locale
// dependent (the vectors include Arabic-Indic digits).
std::optional<unsigned> parse_port_number(std::string_view s, std::string& error) {
    if (s.empty()) {
        error = "empty port";
        return std::nullopt;
    }
    for (char c : s)
        if (c < '0' || c > '9') {
            error = "not a port number";
            return std::nullopt;
        }
    if (s.size() > 1 && s[0] == '0') {
        error = "leading zero";
        return std::nullopt;
    }
    if (s.size() > 5) {
        error = "out of range 1-65535";
        return std::nullopt;
    }
    unsigned v = 0;
    for (char c : s)
        v = v * 10 + static_cast<unsigned>(c - '0');
    if (v < 1 || v > 65535) {
        error = "out of range 1-65535";
        return std::nullopt;
    }
    return v;
}

} // namespace

std::string PortRange::str() const {
    return first == last ? std::to_string(first)
                         : std::to_string(first) + "-" + std::to_string(last);
}

PortSpecResult parse_port_spec(std::string_view text) {
    PortSpecResult r;
    if (text.empty()) {
        r.error = "empty port spec";
        return r;
    }
    auto dash = text.find('-');
    auto first = parse_port_number(text.substr(0, dash), r.error);
    if (!first) return r;
    unsigned last = *first;
    if (dash != std::string_view::npos) {
        auto l = parse_port_number(text.substr(dash + 1), r.error);
        if (!l) return r;
        if (*l < *first) {
            r.error = "range end below start";
            return r;
        }
        last = *l;
    }
    r.range = PortRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(last)};
    return r;
}

std::vector<PortRange> parse_port_list(std::string_view text, const std::string& field) {
    std::vector<PortRange> out;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos) comma = text.size();
        std::string_view entry = text.substr(pos, comma - pos);
        // Blanks around an entry are ignored; blanks inside it are an error (grammar).
        size_t b = entry.find_first_not_of(" \t");
        size_t e = entry.find_last_not_of(" \t");
        entry = b == std::string_view::npos ? std::string_view{} : entry.substr(b, e - b + 1);
        if (!entry.empty()) {
            auto r = parse_port_spec(entry);
            if (!r.range) throw input_error(field, std::string(entry), r.error);
            out.push_back(*r.range);
        }
        pos = comma + 1;
    }
    return out;
}

PortSet::PortSet(std::initializer_list<PortRange> ranges) : ranges_(ranges) {
    normalize();
}

PortSet::PortSet(const std::vector<PortRange>& ranges) : ranges_(ranges) {
    normalize();
}

void PortSet::normalize() {
    std::sort(ranges_.begin(), ranges_.end(),
              [](const PortRange& a, const PortRange& b) { return a.first < b.first; });
    std::vector<PortRange> merged;
    merged.reserve(ranges_.size());
    for (auto x : ranges_) {
        if (!merged.empty() && static_cast<unsigned>(merged.back().last) + 1 >= x.first)
            merged.back().last = std::max(merged.back().last, x.last);
        else
            merged.push_back(x);
    }
    ranges_ = std::move(merged);
}

void PortSet::add(PortRange r) {
    ranges_.push_back(r);
    normalize();
}

PortSet& PortSet::operator|=(const PortSet& other) {
    ranges_.insert(ranges_.end(), other.ranges_.begin(), other.ranges_.end());
    normalize();
    return *this;
}

PortSet PortSet::operator-(const PortSet& other) const {
    // Both sides are sorted and disjoint: one linear sweep.
    std::vector<PortRange> out;
    size_t j = 0;
    for (auto r : ranges_) {
        unsigned lo = r.first;
        while (j < other.ranges_.size() && other.ranges_[j].last < lo)
            ++j;
        for (size_t k = j; k < other.ranges_.size() && other.ranges_[k].first <= r.last; ++k) {
            const auto& cut = other.ranges_[k];
            if (cut.first > lo)
                out.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(cut.first - 1)});
            lo = std::max<unsigned>(lo, static_cast<unsigned>(cut.last) + 1);
        }
        if (lo <= r.last) out.push_back({static_cast<uint16_t>(lo), r.last});
    }
    return PortSet(out);
}

bool PortSet::contains(uint16_t port) const {
    for (auto r : ranges_)
        if (port >= r.first && port <= r.last) return true;
    return false;
}

std::string PortSet::str() const {
    std::string s;
    for (auto r : ranges_) {
        if (!s.empty()) s += ",";
        s += r.str();
    }
    return s;
}

} // namespace awf
