#include "awf/base/platform.hpp"

#include "awf/policy/domains.hpp"

#include "awf/base/error.hpp"
#include "awf/base/text.hpp"
#include "awf/policy/address.hpp"

#include <algorithm>
#include <sstream>

namespace awf {

namespace {

constexpr std::string_view kSpace = " \t\r\n";

std::string_view trimmed(std::string_view s) {
    auto b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(kSpace);
    return s.substr(b, e - b + 1);
}

bool label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::vector<std::string_view> labels_of(std::string_view name) {
    std::vector<std::string_view> out;
    size_t at = 0;
    while (true) {
        size_t dot = name.find('.', at);
        out.push_back(name.substr(at, dot == std::string_view::npos ? dot : dot - at));
        if (dot == std::string_view::npos) return out;
        at = dot + 1;
    }
}

// Normalises `entry` into `out`; returns why it is refused, empty when it is not. The reasons
// never quote the entry, so callers reading a file can report them without its content.
std::string problem(std::string_view entry, DomainPattern& out) {
    std::string s(trimmed(entry));
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    out.scheme = Scheme::any;
    if (s.starts_with("http://")) {
        out.scheme = Scheme::http;
        s.erase(0, 7);
    } else if (s.starts_with("https://")) {
        out.scheme = Scheme::https;
        s.erase(0, 8);
    }
    if (s.ends_with('/')) s.pop_back();
    if (s.ends_with('.')) s.pop_back();
    // Squid's own spelling of "and every subdomain": the same as the bare name here.
    if (s.starts_with('.')) s.erase(0, 1);
    if (s.empty()) return "an empty entry";
    for (char c : s)
        if (!label_char(c) && c != '.' && c != '*')
            return "a host name cannot hold this character (letters, digits, '-', '_', '.' and "
                   "the wildcard '*' only)";
    if (s.find("..") != std::string::npos || s.starts_with('.') || s.ends_with('.'))
        return "a double dot";
    if (s.size() > 253) return "longer than 253 characters";
    auto labels = labels_of(s);
    size_t star_labels = 0;
    bool fixed = false;
    for (auto l : labels) {
        if (l.size() > 63) return "a label longer than 63 characters";
        if (l.find("**") != std::string_view::npos) return "'**' in a label";
        star_labels += l == "*";
        fixed |= l.find_first_not_of('*') != std::string_view::npos;
    }
    if (!fixed) return "matches every name: a pattern needs a fixed label";
    // '*.*.com' admits nearly every name under a top-level domain: refused as upstream does.
    if (star_labels > 1 && star_labels + 1 >= labels.size())
        return "too many wildcard labels: a pattern needs a fixed label below the top level";
    if (IpAddr::parse(s) || labels.back().find_first_not_of("0123456789") == std::string_view::npos)
        return "an IP address: the list holds names only (a name is never reached by its IP)";
    out.name = std::move(s);
    return {};
}

// One label against one label pattern; '*' is one or more label characters. Dynamic
// programming: patterns such as 'a*a*a*a*b' must not cost exponential time.
bool label_matches(std::string_view pat, std::string_view s) {
    // reach[j]: pat[0..i) matches s[0..j).
    std::vector<char> reach(s.size() + 1, 0), next(s.size() + 1, 0);
    reach[0] = 1;
    for (char p : pat) {
        std::fill(next.begin(), next.end(), 0);
        if (p == '*') {
            bool any = false; // some k < j reached, with s[k..j) all label characters
            for (size_t j = 1; j <= s.size(); ++j) {
                if (!label_char(s[j - 1])) {
                    any = false;
                    continue;
                }
                any = any || reach[j - 1];
                next[j] = any;
            }
        } else {
            for (size_t j = 1; j <= s.size(); ++j)
                next[j] = reach[j - 1] && s[j - 1] == p;
        }
        reach.swap(next);
    }
    return reach[s.size()];
}

std::string host_key(std::string_view host) {
    std::string h(host);
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    if (h.ends_with('.')) h.pop_back();
    return h;
}

} // namespace

DomainPattern parse_domain_pattern(const std::string& field, std::string_view entry) {
    DomainPattern d;
    std::string why = problem(entry, d);
    if (!why.empty()) throw input_error(field, printable(std::string(entry)), why);
    return d;
}

std::vector<DomainPattern> parse_domain_list(const std::string& field, std::string_view text) {
    std::vector<DomainPattern> out;
    size_t at = 0;
    while (true) {
        size_t comma = text.find(',', at);
        out.push_back(parse_domain_pattern(
            field, text.substr(at, comma == std::string_view::npos ? comma : comma - at)));
        if (comma == std::string_view::npos) return out;
        at = comma + 1;
    }
}

std::vector<DomainPattern> parse_domain_file(std::string_view text, const std::string& where) {
    std::vector<DomainPattern> out;
    std::istringstream in{std::string(text)};
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::string_view rest = line;
        while (true) {
            size_t comma = rest.find(',');
            std::string_view entry = rest.substr(0, comma);
            if (!trimmed(entry).empty()) {
                DomainPattern d;
                std::string why = problem(entry, d);
                if (!why.empty())
                    throw Error(ExitCode::invalid_input, where + ":" + std::to_string(lineno), why);
                out.push_back(std::move(d));
            }
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return out;
}

bool domain_matches(const DomainPattern& pattern, std::string_view host_in) {
    std::string host = host_key(host_in);
    if (host.empty()) return false;
    if (!pattern.wildcard())
        return host == pattern.name ||
               (host.size() > pattern.name.size() && host.ends_with(pattern.name) &&
                host[host.size() - pattern.name.size() - 1] == '.');
    auto pl = labels_of(pattern.name);
    auto hl = labels_of(host);
    size_t first = 0;
    if (pl.front() == "*") {
        // One or more whole labels in front of the rest.
        if (hl.size() < pl.size()) return false;
        for (size_t i = 0; i + pl.size() - 1 < hl.size(); ++i)
            if (hl[i].empty() || !std::all_of(hl[i].begin(), hl[i].end(), label_char)) return false;
        first = 1;
        hl.erase(hl.begin(), hl.end() - static_cast<long>(pl.size() - 1));
    } else if (hl.size() != pl.size()) {
        return false;
    }
    for (size_t i = first; i < pl.size(); ++i)
        if (!label_matches(pl[i], hl[i - first])) return false;
    return true;
}

std::string domain_regex(const DomainPattern& pattern) {
    auto pl = labels_of(pattern.name);
    std::string re = "^";
    size_t first = 0;
    if (pl.front() == "*") {
        re += "([a-z0-9_-]+\\.)+";
        first = 1;
    }
    for (size_t i = first; i < pl.size(); ++i) {
        if (i > first) re += "\\.";
        for (char c : pl[i])
            re += c == '*' ? std::string("[a-z0-9_-]+") : std::string(1, c);
    }
    return re + "$";
}

bool domain_allowed(const DomainLists& lists, std::string_view host, Scheme scheme) {
    auto applies = [&](const DomainPattern& d) {
        return (d.scheme == Scheme::any || d.scheme == scheme) && domain_matches(d, host);
    };
    if (std::any_of(lists.block.begin(), lists.block.end(), applies)) return false;
    return std::any_of(lists.allow.begin(), lists.allow.end(), applies);
}

std::string to_string(const DomainPattern& pattern) {
    switch (pattern.scheme) {
    case Scheme::http:
        return "http://" + pattern.name;
    case Scheme::https:
        return "https://" + pattern.name;
    default:
        return pattern.name;
    }
}

} // namespace awf
