#include "awf/base/platform.hpp"

#include "awf/policy/policy_name.hpp"

#include "awf/base/error.hpp"
#include "awf/base/file.hpp"
#include "awf/base/text.hpp"

namespace awf {

std::string default_policy_dir() {
    return AWF_POLICY_DIR;
}

bool is_policy_name(std::string_view n) {
    constexpr std::string_view first = "abcdefghijklmnopqrstuvwxyz0123456789";
    constexpr std::string_view rest = "abcdefghijklmnopqrstuvwxyz0123456789._-";
    return !n.empty() && n.size() <= 64 && first.find(n[0]) != std::string_view::npos &&
           n.find_first_not_of(rest) == std::string_view::npos &&
           n.find("..") == std::string_view::npos;
}

RawOptions raw_from_named_policy(const std::string& dir, const std::string& name,
                                 const std::string& where) {
    // The value may hold anything its author typed (newlines included): shown escaped.
    if (!is_policy_name(name))
        throw input_error(where, printable(name),
                          "not a policy name ([a-z0-9][a-z0-9._-]*, at most 64 characters)");
    if (dir.empty() || dir[0] != '/')
        throw input_error("--policy-dir", dir, "not an absolute path");
    const std::string path = dir + "/" + name + ".conf";
    // The directory is root's; the file itself must be a regular file there (not a link).
    auto text = read_regular_file({{}, path}, 1 << 20, ExitCode::invalid_input, "policy " + name);
    if (!text) throw input_error(where, name, "no such policy (" + path + ")");
    return raw_from_config_text(*text, "policy " + name);
}

RawOptions raw_from_tenant_policy(const std::string& dir, const std::string& name,
                                  const std::string& where) {
    RawOptions raw = raw_from_named_policy(dir, name, where);
    if (policy_from_raw(raw).role == Role::proxy)
        throw input_error(where, name,
                          "a proxy-role policy filters nothing; only root's own configuration "
                          "may choose it");
    return raw;
}

} // namespace awf
