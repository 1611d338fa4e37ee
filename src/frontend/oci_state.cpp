#include "awf/base/platform.hpp"

#include "awf/frontend/oci_state.hpp"

#include "awf/base/error.hpp"
#include "awf/base/text.hpp"
#include "awf/policy/policy_name.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace awf {

using nlohmann::json;

namespace {

// How deep arrays and objects nest, outside strings, up to `limit` + 1. Real OCI documents nest
// a handful of levels; a hostile one could nest a million, and a recursive walk of that (a
// copy, a dump) would run out of stack.
size_t nesting(const std::string& text, size_t limit) {
    size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

constexpr size_t kMaxNesting = 64;

// What a JSON value is, for an error that must not show it.
std::string kind_of(const json& j) {
    return j.is_object()    ? "an object"
           : j.is_array()   ? "a list"
           : j.is_string()  ? "a string"
           : j.is_boolean() ? "a boolean"
           : j.is_number()  ? "a number"
                            : "null";
}

// The five sets of the runtime spec: the only key of the file an error may name.
bool is_capability_set(const std::string& s) {
    for (const char* known : {"bounding", "effective", "inheritable", "permitted", "ambient"})
        if (s == known) return true;
    return false;
}

json parse_json(const std::string& text, const std::string& what) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw input_error(what, "", "empty");
    if (nesting(text, kMaxNesting) > kMaxNesting)
        throw Error(ExitCode::invalid_input, what,
                    "nested deeper than " + std::to_string(kMaxNesting) + " levels");
    // No part of the text goes into an error: it may be any file, chosen by someone else.
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) { // parse errors, and numbers out of range (406)
        throw Error(ExitCode::invalid_input, what, "not JSON");
    }
    if (!j.is_object()) throw Error(ExitCode::invalid_input, what, "not a JSON object");
    return j;
}

// A field that must be a string to mean anything; any other type reads as absent.
std::string string_or_empty(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string string_field(const json& j, const char* key, const std::string& what) {
    auto it = j.find(key);
    if (it == j.end()) throw input_error(what + "." + key, "", "missing");
    if (!it->is_string()) throw input_error(what + "." + key, it->dump(), "not a string");
    return it->get<std::string>();
}

} // namespace

OciState parse_oci_state(const std::string& text) {
    const std::string what = "OCI state";
    json j = parse_json(text, what);
    OciState s;
    s.id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : "";
    s.status = string_field(j, "status", what);
    // createRuntime and prestart run while the runtime is creating the container; a container
    // already running or stopped is not one to protect by a hook any more.
    if (s.status != "creating" && s.status != "created")
        throw input_error(what + ".status", s.status, "expected creating or created");
    auto pid = j.find("pid");
    if (pid == j.end()) throw input_error(what + ".pid", "", "missing");
    if (!pid->is_number_integer() || pid->get<long long>() <= 0 || pid->get<long long>() > 4194304)
        throw input_error(what + ".pid", pid->dump(), "not a process id");
    s.pid = static_cast<int>(pid->get<long long>());
    s.bundle = string_field(j, "bundle", what);
    if (s.bundle.empty() || s.bundle[0] != '/')
        throw input_error(what + ".bundle", s.bundle, "not an absolute path");
    if (auto a = j.find("annotations"); a != j.end() && a->is_object()) {
        if (a->contains(kRetiredConfigAnnotation))
            throw Error(ExitCode::invalid_input,
                        std::string("annotation ") + kRetiredConfigAnnotation,
                        std::string("no longer accepted: name a policy with ") + kPolicyAnnotation);
        if (auto c = a->find(kPolicyAnnotation); c != a->end()) {
            if (!c->is_string())
                throw input_error(std::string("annotation ") + kPolicyAnnotation,
                                  printable(c->dump()), "not a policy name");
            if (!is_policy_name(c->get<std::string>()))
                throw input_error(
                    std::string("annotation ") + kPolicyAnnotation,
                    printable(c->get<std::string>()),
                    "not a policy name ([a-z0-9][a-z0-9._-]*, at most 64 characters)");
            s.policy_name = c->get<std::string>();
        }
        // The hook file selects on either annotation with any value; a value that is not
        // "true" must not silently leave the container unprotected, nor be ignored.
        if (auto e = a->find(kEnableAnnotation);
            e != a->end() && (!e->is_string() || e->get<std::string>() != "true"))
            throw input_error(std::string("annotation ") + kEnableAnnotation,
                              e->is_string() ? printable(e->get<std::string>()) : kind_of(*e),
                              "expected true (remove the annotation to run without awf-net)");
        if (!s.policy_name && a->contains(kEnableAnnotation)) s.policy_name = "default";
    }
    return s;
}

OciBundle parse_oci_bundle(const std::string& text, const std::string& bundle_dir) {
    const std::string what = bundle_dir + "/config.json";
    json j = parse_json(text, what);
    OciBundle b;
    if (auto proc = j.find("process"); proc != j.end() && proc->is_object()) {
        if (auto caps = proc->find("capabilities"); caps != proc->end() && caps->is_object())
            for (const auto& [set, list] : caps->items()) {
                if (!list.is_array())
                    throw Error(ExitCode::invalid_input,
                                what + ".process.capabilities." +
                                    (is_capability_set(set) ? set : "(a set of another name)"),
                                "not a list (" + kind_of(list) + ")");
                for (const auto& c : list)
                    if (c.is_string() && std::find(b.capabilities.begin(), b.capabilities.end(),
                                                   c) == b.capabilities.end())
                        b.capabilities.push_back(c.get<std::string>());
            }
    }
    std::string rootfs = "rootfs";
    if (auto root = j.find("root"); root != j.end() && root->is_object() &&
                                    root->contains("path") && (*root)["path"].is_string())
        rootfs = (*root)["path"].get<std::string>();
    if (rootfs.empty() || rootfs[0] != '/') rootfs = bundle_dir + "/" + rootfs;
    b.hosts_root = rootfs; // the image's file: resolved inside the rootfs, links refused
    b.hosts_file = "etc/hosts";
    if (auto mounts = j.find("mounts"); mounts != j.end() && mounts->is_array())
        for (const auto& m : *mounts)
            if (m.is_object() && string_or_empty(m, "destination") == "/etc/hosts" &&
                m.contains("source") && m["source"].is_string()) {
                b.hosts_root.clear(); // the runtime's own file on the host
                b.hosts_file = m["source"].get<std::string>();
            }
    if (auto linux_ = j.find("linux"); linux_ != j.end() && linux_->is_object())
        if (auto ns = linux_->find("namespaces"); ns != linux_->end() && ns->is_array())
            for (const auto& n : *ns)
                if (n.is_object() && string_or_empty(n, "type") == "network") {
                    b.own_network_namespace = true;
                    if (n.contains("path") && n["path"].is_string())
                        b.network_namespace_path = n["path"].get<std::string>();
                }
    return b;
}

std::vector<std::string> refused_capabilities(const OciBundle& b) {
    std::vector<std::string> out;
    for (const char* c : {"CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"})
        if (std::find(b.capabilities.begin(), b.capabilities.end(), c) != b.capabilities.end())
            out.push_back(c);
    return out;
}

} // namespace awf
