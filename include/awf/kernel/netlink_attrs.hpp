// Walking a netlink message's attributes from C++. libmnl's mnl_attr_for_each macros rely on
// C's implicit void* conversions; these are the same walks with the casts C++ needs.
#pragma once

#include <cstddef>
#include <libmnl/libmnl.h>

namespace awf {

// The walk ends at nlmsg_len itself, not at libmnl's payload tail (nlmsg_len rounded up to 4):
// a message whose length is not a multiple of 4 is never read past its end.
template <typename F> void for_each_attr(const nlmsghdr* nlh, size_t offset, F&& f) {
    auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
    auto* tail = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
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
