// IPv4/IPv6 addresses and prefixes as the policy and the kernel see them: network byte order.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf {

enum class Family : uint8_t { v4 = 4, v6 = 6 };

struct IpAddr {
    Family family = Family::v4;
    std::array<uint8_t, 16> bytes{}; // v4 uses the first 4

    size_t size() const { return family == Family::v4 ? 4 : 16; }
    bool is_v4() const { return family == Family::v4; }
    std::string str() const;
    auto operator<=>(const IpAddr&) const = default;

    static std::optional<IpAddr> parse(std::string_view text);
    static IpAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
};

struct Cidr {
    IpAddr addr; // host bits cleared
    uint8_t prefix = 32;

    std::string str() const;
    bool contains(const IpAddr& a) const;
    IpAddr last() const; // highest address inside
    auto operator<=>(const Cidr&) const = default;

    // "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). Host bits must be zero.
    static std::optional<Cidr> parse(std::string_view text);
    static Cidr of(const IpAddr& a, uint8_t prefix); // clears host bits
};

// Ranges policy.md accepts for discovered host gateways: the hosts file is writable from
// inside a running container, so a discovered address must never be a public one.
bool is_private(const IpAddr& a);

} // namespace awf
