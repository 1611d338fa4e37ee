#include "awf/base/platform.hpp"

#include "awf/frontend/cni_request.hpp"

#include "awf/base/text.hpp"
#include "awf/frontend/oci_state.hpp"
#include "awf/policy/policy_name.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace awf {

using nlohmann::json;

namespace {

bool supported_version(const std::string& v) {
    return std::any_of(std::begin(kCniVersions), std::end(kCniVersions),
                       [&](const char* s) { return v == s; });
}

std::string supported_list() {
    std::string s;
    for (const char* v : kCniVersions)
        s += (s.empty() ? "" : ", ") + std::string(v);
    return s;
}

json parse_object(std::string_view text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception&) {
        // Never quoted: the configuration may hold anything, pod annotations included.
        throw CniError(CniCode::decode_failure, "network configuration", "not JSON");
    }
    if (!j.is_object())
        throw CniError(CniCode::decode_failure, "network configuration", "not a JSON object");
    return j;
}

CniCommand parse_command(const std::optional<std::string>& v) {
    if (!v) throw CniError(CniCode::invalid_environment, "CNI_COMMAND", "not set");
    static constexpr std::pair<const char*, CniCommand> names[] = {
        {"ADD", CniCommand::add},       {"DEL", CniCommand::del},
        {"CHECK", CniCommand::check},   {"VERSION", CniCommand::version},
        {"STATUS", CniCommand::status}, {"GC", CniCommand::gc},
    };
    for (const auto& [name, c] : names)
        if (*v == name) return c;
    throw CniError(CniCode::invalid_environment, "CNI_COMMAND",
                   "\"" + printable(*v) + "\": expected ADD, DEL, CHECK, VERSION, STATUS or GC");
}

// The spec's shape: an alphanumeric, then alphanumerics, '_', '.' or '-'.
bool is_container_id(const std::string& id) {
    if (id.empty() || id.size() > 1024 || !std::isalnum(static_cast<unsigned char>(id[0])))
        return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

std::optional<std::string> optional_string(const json& j, const char* key,
                                           const std::string& where) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) throw CniError(CniCode::invalid_config, where + key, "not a string");
    return it->get<std::string>();
}

std::string policy_name_field(const std::string& value, const std::string& where) {
    if (!is_policy_name(value))
        throw input_error(where, printable(value),
                          "not a policy name ([a-z0-9][a-z0-9._-]*, at most 64 characters)");
    return value;
}

// "K=V;K=V": only AWF_POLICY is awf-net's; the rest belongs to other plugins of the chain.
std::optional<std::string> policy_from_cni_args(const std::string& args) {
    std::optional<std::string> found;
    size_t start = 0, n = 0;
    while (start <= args.size()) {
        size_t end = args.find(';', start);
        if (end == std::string::npos) end = args.size();
        std::string pair = args.substr(start, end - start);
        ++n;
        if (!pair.empty()) {
            size_t eq = pair.find('=');
            if (eq == std::string::npos || eq == 0)
                throw CniError(CniCode::invalid_environment, "CNI_ARGS",
                               "pair " + std::to_string(n) + " is not KEY=VALUE");
            if (pair.compare(0, eq, kCniArgsPolicy) == 0 &&
                eq == std::string(kCniArgsPolicy).size()) {
                if (found)
                    throw CniError(CniCode::invalid_environment, "CNI_ARGS",
                                   std::string(kCniArgsPolicy) + " given twice");
                found = policy_name_field(pair.substr(eq + 1),
                                          std::string("CNI_ARGS ") + kCniArgsPolicy);
            }
        }
        start = end + 1;
    }
    return found;
}

std::optional<std::string> policy_from_runtime_config(const json& conf) {
    auto rc = conf.find("runtimeConfig");
    if (rc == conf.end() || rc->is_null()) return std::nullopt;
    if (!rc->is_object())
        throw CniError(CniCode::invalid_config, "runtimeConfig", "not a JSON object");
    auto pa = rc->find(kPodAnnotationsCapability);
    if (pa == rc->end() || pa->is_null()) return std::nullopt;
    const std::string where = std::string("runtimeConfig.") + kPodAnnotationsCapability;
    if (!pa->is_object()) throw CniError(CniCode::invalid_config, where, "not a JSON object");
    // As in the OCI hook: a pod still carrying the path annotation must not start believing it
    // got that file's policy.
    if (pa->contains(kRetiredConfigAnnotation))
        throw Error(ExitCode::invalid_input,
                    std::string("pod annotation ") + kRetiredConfigAnnotation,
                    std::string("no longer accepted: name a policy with ") + kPolicyAnnotation);
    auto p = pa->find(kPolicyAnnotation);
    if (p == pa->end()) return std::nullopt;
    const std::string who = std::string("pod annotation ") + kPolicyAnnotation;
    if (!p->is_string()) throw input_error(who, printable(p->dump()), "not a policy name");
    return policy_name_field(p->get<std::string>(), who);
}

std::optional<IpAddr> ipv4_of(const json& v, const std::string& where) {
    if (v.is_null()) return std::nullopt;
    if (!v.is_string()) throw CniError(CniCode::invalid_config, where, "not a string");
    auto a = IpAddr::parse(v.get<std::string>());
    if (!a) throw input_error(where, printable(v.get<std::string>()), "not an IP address");
    return a->is_v4() ? a : std::nullopt;
}

// "10.88.0.5/16" (host bits set, as results carry them).
std::optional<Cidr> address_of(const json& v, const std::string& where) {
    if (!v.is_string()) throw CniError(CniCode::invalid_config, where, "not a string");
    const std::string s = v.get<std::string>();
    size_t slash = s.find('/');
    auto a = IpAddr::parse(s.substr(0, slash));
    int prefix = -1;
    if (slash != std::string::npos && slash + 1 < s.size() && s.size() - slash <= 4 &&
        std::all_of(s.begin() + static_cast<long>(slash) + 1, s.end(),
                    [](char c) { return c >= '0' && c <= '9'; }))
        prefix = std::stoi(s.substr(slash + 1));
    if (!a || prefix < 0 || prefix > (a->is_v4() ? 32 : 128))
        throw input_error(where, printable(s), "not an address in CIDR notation");
    if (!a->is_v4()) return std::nullopt;
    return Cidr::of(*a, static_cast<uint8_t>(prefix));
}

const json& array_field(const json& j, const char* key, const std::string& where) {
    static const json empty = json::array();
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return empty;
    if (!it->is_array()) throw CniError(CniCode::invalid_config, where + key, "not an array");
    return *it;
}

// The container's IPv4 networks and its default route's next hop, as the earlier plugins of
// the chain set them up.
CniPrevFacts facts_of(const json& prev) {
    CniPrevFacts f;
    const std::string at = "prevResult.";
    const json& interfaces = array_field(prev, "interfaces", at);
    std::optional<IpAddr> first_gateway;
    size_t i = 0;
    for (const auto& ip : array_field(prev, "ips", at)) {
        const std::string where = at + "ips[" + std::to_string(i++) + "]";
        if (!ip.is_object()) throw CniError(CniCode::invalid_config, where, "not an object");
        if (auto idx = ip.find("interface"); idx != ip.end() && !idx->is_null()) {
            if (!idx->is_number_unsigned() || idx->get<uint64_t>() >= interfaces.size())
                throw CniError(CniCode::invalid_config, where + ".interface",
                               "not an index into prevResult.interfaces");
            const json& itf = interfaces[idx->get<size_t>()];
            // A host-side interface (a bridge, the veth's host end) has no sandbox.
            if (!itf.is_object() || !itf.contains("sandbox") || !itf["sandbox"].is_string() ||
                itf["sandbox"].get<std::string>().empty())
                continue;
        }
        auto addr = ip.find("address");
        if (addr == ip.end())
            throw CniError(CniCode::invalid_config, where + ".address", "missing");
        auto net = address_of(*addr, where + ".address");
        if (!net) continue;
        if (std::find(f.subnets.begin(), f.subnets.end(), *net) == f.subnets.end())
            f.subnets.push_back(*net);
        if (auto g = ip.find("gateway"); g != ip.end() && !first_gateway)
            first_gateway = ipv4_of(*g, where + ".gateway");
    }
    i = 0;
    for (const auto& route : array_field(prev, "routes", at)) {
        const std::string where = at + "routes[" + std::to_string(i++) + "]";
        if (!route.is_object()) throw CniError(CniCode::invalid_config, where, "not an object");
        auto dst = route.find("dst");
        if (dst == route.end() || !dst->is_string() || dst->get<std::string>() != "0.0.0.0/0")
            continue;
        auto gw = route.find("gw");
        // "If unset, a value in `gateway` in the `ips` array may be used" (SPEC.md).
        f.gateway_v4 =
            gw != route.end() && !gw->is_null() ? ipv4_of(*gw, where + ".gw") : first_gateway;
        break;
    }
    return f;
}

} // namespace

CniRequest parse_cni_request(const EnvLookup& env, std::string_view stdin_text) {
    CniRequest r;
    r.command = parse_command(env("CNI_COMMAND"));
    json conf = parse_object(stdin_text);
    auto version = conf.find("cniVersion");
    if (version == conf.end() || !version->is_string())
        throw CniError(CniCode::decode_failure, "cniVersion", "missing or not a string");
    r.cni_version = version->get<std::string>();
    if (!supported_version(r.cni_version))
        throw CniError(CniCode::incompatible_version, "cniVersion",
                       "\"" + printable(r.cni_version) + "\": awf-net speaks " + supported_list());
    if (r.command == CniCommand::version) return r;
    if (r.command == CniCommand::check && r.cni_version.rfind("0.3.", 0) == 0)
        throw CniError(CniCode::incompatible_version, "cniVersion", "CHECK is a CNI 0.4.0 command");
    if ((r.command == CniCommand::status || r.command == CniCommand::gc) &&
        r.cni_version != "1.1.0")
        throw CniError(CniCode::incompatible_version, "cniVersion",
                       "STATUS and GC are CNI 1.1.0 commands");

    r.network = optional_string(conf, "name", "").value_or("");
    r.conf_policy = optional_string(conf, "policy", "");
    if (r.conf_policy) policy_name_field(*r.conf_policy, "network configuration \"policy\"");
    r.policy_dir = optional_string(conf, "policyDir", "").value_or(default_policy_dir());
    if (r.policy_dir.empty() || r.policy_dir[0] != '/')
        throw CniError(CniCode::invalid_config, "policyDir", "not an absolute path");
    if (conf.contains("allowedPolicies")) r.allowed_policies.emplace();
    for (const auto& p : array_field(conf, "allowedPolicies", "")) {
        if (!p.is_string())
            throw CniError(CniCode::invalid_config, "allowedPolicies", "not a list of names");
        r.allowed_policies->push_back(
            policy_name_field(p.get<std::string>(), "network configuration \"allowedPolicies\""));
    }
    if (r.command == CniCommand::status || r.command == CniCommand::gc) return r;

    auto require = [&](const char* name) {
        auto v = env(name);
        if (!v || v->empty()) throw CniError(CniCode::invalid_environment, name, "not set");
        return *v;
    };
    r.container_id = require("CNI_CONTAINERID");
    if (!is_container_id(r.container_id))
        throw CniError(CniCode::invalid_environment, "CNI_CONTAINERID",
                       "not a container id (an alphanumeric, then alphanumerics, '_', '.', '-')");
    r.ifname = require("CNI_IFNAME");
    if (r.command == CniCommand::del)
        r.netns = env("CNI_NETNS").value_or("");
    else
        r.netns = require("CNI_NETNS");
    if (!r.netns.empty() && r.netns[0] != '/')
        throw CniError(CniCode::invalid_environment, "CNI_NETNS", "not an absolute path");

    r.args_policy = policy_from_cni_args(env("CNI_ARGS").value_or(""));
    r.annotation_policy = policy_from_runtime_config(conf);
    if (auto prev = conf.find("prevResult"); prev != conf.end() && !prev->is_null()) {
        if (!prev->is_object())
            throw CniError(CniCode::invalid_config, "prevResult", "not a JSON object");
        r.prev = facts_of(*prev);
        r.prev_result = prev->dump();
    }
    return r;
}

std::string policy_chooser(const CniRequest& r) {
    if (r.annotation_policy) return std::string("pod annotation ") + kPolicyAnnotation;
    if (r.args_policy) return std::string("CNI_ARGS ") + kCniArgsPolicy;
    if (r.conf_policy) return "network configuration \"policy\"";
    return "the default policy";
}

std::string selected_policy(const CniRequest& r) {
    if (r.annotation_policy && r.args_policy && *r.annotation_policy != *r.args_policy)
        throw Error(ExitCode::invalid_input, "policy",
                    "the pod annotation names \"" + *r.annotation_policy + "\", CNI_ARGS " +
                        kCniArgsPolicy + " \"" + *r.args_policy + "\": choose one");
    const std::optional<std::string>& pod =
        r.annotation_policy ? r.annotation_policy : r.args_policy;
    if (pod) {
        if (r.allowed_policies && std::find(r.allowed_policies->begin(), r.allowed_policies->end(),
                                            *pod) == r.allowed_policies->end())
            throw input_error(policy_chooser(r), *pod,
                              r.allowed_policies->empty()
                                  ? "the network's allowedPolicies is empty: pods choose none"
                                  : "not among the network's allowedPolicies");
        return *pod;
    }
    return r.conf_policy.value_or("default");
}

std::string cni_add_result(const CniRequest& r) {
    json out = r.prev_result ? json::parse(*r.prev_result) : json::object();
    out["cniVersion"] = r.cni_version;
    return out.dump();
}

std::string cni_version_of(std::string_view stdin_text) {
    try {
        json j = json::parse(stdin_text);
        if (j.is_object() && j.contains("cniVersion") && j["cniVersion"].is_string())
            return j["cniVersion"].get<std::string>();
    } catch (const json::exception&) {
    }
    return {};
}

std::string cni_version_result(std::string_view stdin_text) {
    // The probe answers whatever it is asked with: the input's version, when it has one.
    std::string version = cni_version_of(stdin_text);
    json out = {{"cniVersion", version.empty() ? "1.1.0" : version},
                {"supportedVersions", json::array()}};
    for (const char* v : kCniVersions)
        out["supportedVersions"].push_back(v);
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string cni_error_json(const std::string& version, int code, const std::string& msg,
                           const std::string& details) {
    json out = {{"cniVersion", version.empty() ? "1.1.0" : version},
                {"code", code},
                {"msg", msg},
                {"details", details}};
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace awf
