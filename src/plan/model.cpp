#include "awf/base/platform.hpp"

#include "awf/plan/model.hpp"

namespace awf::model {

size_t key_size(KeyType t) {
    switch (t) {
    case KeyType::ipv4_addr:
        return 4;
    case KeyType::ipv6_addr:
        return 16;
    case KeyType::inet_proto:
        return 1;
    case KeyType::inet_service:
        return 2;
    }
    return 0;
}

ElementField field_of(const IpAddr& a) {
    Bytes b(a.bytes.begin(), a.bytes.begin() + static_cast<long>(a.size()));
    return {b, b};
}

ElementField field_of(const Cidr& c) {
    IpAddr last = c.last();
    return {Bytes(c.addr.bytes.begin(), c.addr.bytes.begin() + static_cast<long>(c.addr.size())),
            Bytes(last.bytes.begin(), last.bytes.begin() + static_cast<long>(last.size()))};
}

ElementField field_of_port(uint16_t lo, uint16_t hi) {
    return {Bytes{static_cast<uint8_t>(lo >> 8), static_cast<uint8_t>(lo)},
            Bytes{static_cast<uint8_t>(hi >> 8), static_cast<uint8_t>(hi)}};
}

ElementField field_of_proto(uint8_t proto) {
    return {Bytes{proto}, Bytes{proto}};
}

} // namespace awf::model
