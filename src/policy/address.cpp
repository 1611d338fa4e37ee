#include "awf/base/platform.hpp"

#include "awf/policy/address.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>

namespace awf {

std::string IpAddr::str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
    // inet_pton is strict (no leading zeros surprises for v4 in glibc, no trailing junk), which
    // is what a firewall input wants; the copy bounds the length before it sees the text.
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    IpAddr a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.family = Family::v4;
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.family = Family::v6;
        return a;
    }
    return std::nullopt;
}

IpAddr IpAddr::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    IpAddr r;
    r.bytes[0] = a;
    r.bytes[1] = b;
    r.bytes[2] = c;
    r.bytes[3] = d;
    return r;
}

Cidr Cidr::of(const IpAddr& a, uint8_t prefix) {
    Cidr c{a, prefix};
    for (size_t i = 0; i < a.size(); ++i) {
        int keep = static_cast<int>(prefix) - static_cast<int>(i * 8);
        if (keep >= 8) continue;
        c.addr.bytes[i] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    }
    return c;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
    auto slash = text.find('/');
    auto addr = IpAddr::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    unsigned max = addr->is_v4() ? 32 : 128;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
        auto p = text.substr(slash + 1);
        if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return std::nullopt;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (ec != std::errc{} || end != p.data() + p.size() || prefix > max) return std::nullopt;
    }
    Cidr c = of(*addr, static_cast<uint8_t>(prefix));
    if (c.addr != *addr) return std::nullopt; // host bits set: ambiguous intent, refuse
    return c;
}

bool Cidr::contains(const IpAddr& a) const {
    return a.family == addr.family && of(a, prefix).addr == addr;
}

IpAddr Cidr::last() const {
    IpAddr r = addr;
    for (size_t i = 0; i < r.size(); ++i) {
        int keep = static_cast<int>(prefix) - static_cast<int>(i * 8);
        if (keep >= 8) continue;
        r.bytes[i] |= keep <= 0 ? 0xff : static_cast<uint8_t>(0xff >> keep);
    }
    return r;
}

std::string Cidr::str() const {
    return addr.str() + "/" + std::to_string(prefix);
}

bool is_private(const IpAddr& a) {
    static constexpr const char* ranges[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                             "100.64.0.0/10", "fc00::/7"};
    for (const char* r : ranges)
        if (Cidr::parse(r)->contains(a)) return true;
    return false;
}

} // namespace awf
