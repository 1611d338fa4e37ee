#include "awf/base/platform.hpp"

#include "awf/base/digest.hpp"

#include <array>
#include <nettle/sha2.h>

namespace awf {

std::string sha256_hex(std::string_view data) {
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, data.size(), reinterpret_cast<const uint8_t*>(data.data()));
    std::array<uint8_t, SHA256_DIGEST_SIZE> out{};
    sha256_digest(&ctx, out.size(), out.data());
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * out.size());
    for (uint8_t b : out) {
        s += hex[b >> 4];
        s += hex[b & 0xf];
    }
    return s;
}

} // namespace awf
