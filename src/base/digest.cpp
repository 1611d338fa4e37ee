#include "awf/base/platform.hpp"

#include "awf/base/digest.hpp"

#include <array>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

namespace awf {

namespace {

std::string hex_of(const std::array<uint8_t, SHA256_DIGEST_SIZE>& out) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * out.size());
    for (uint8_t b : out) {
        s += hex[b >> 4];
        s += hex[b & 0xf];
    }
    return s;
}

const uint8_t* bytes(std::string_view s) {
    return reinterpret_cast<const uint8_t*>(s.data());
}

} // namespace

std::string sha256_hex(std::string_view data) {
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, data.size(), bytes(data));
    std::array<uint8_t, SHA256_DIGEST_SIZE> out{};
    sha256_digest(&ctx, out.size(), out.data());
    return hex_of(out);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, key.size(), bytes(key));
    hmac_sha256_update(&ctx, data.size(), bytes(data));
    std::array<uint8_t, SHA256_DIGEST_SIZE> out{};
    hmac_sha256_digest(&ctx, out.size(), out.data());
    return hex_of(out);
}

} // namespace awf
