// Walking a netlink message's attributes from C++. libmnl's mnl_attr_for_each macros rely on
// C's implicit void* conversions; these are the same walks with the casts C++ needs.
#pragma once

#include <cstddef>
#include <libmnl/libmnl.h>

namespace awf {

template <typename F> void for_each_attr(const nlmsghdr* nlh, size_t offset, F&& f) {
    auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
    auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) {
        f(a);
        a = mnl_attr_next(a);
    }
}

// The attributes nested in `nest`; a length that runs past the nest ends the walk.
template <typename F> void for_each_nested(const nlattr* nest, F&& f) {
    auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
    auto* tail = reinterpret_cast<const char*>(nest) + mnl_attr_get_len(nest);
    while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) {
        f(a);
        a = mnl_attr_next(a);
    }
}

} // namespace awf
