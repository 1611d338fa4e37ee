#include "awf/base/platform.hpp"

#include "awf/frontend/cni_conflist.hpp"

#include "awf/base/error.hpp"
#include "awf/base/text.hpp"
#include "awf/frontend/cni_request.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace awf {

// The operator's file keeps its key order.
using ojson = nlohmann::ordered_json;

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct Parsed {
    ojson list; // always a conflist
    bool from_conf = false;
};

Parsed parse_config(std::string_view text, const std::string& file) {
    ojson j;
    try {
        j = ojson::parse(text);
    } catch (const ojson::exception&) {
        throw Error(ExitCode::invalid_input, file, "not JSON");
    }
    if (!j.is_object()) throw Error(ExitCode::invalid_input, file, "not a JSON object");
    auto version = j.find("cniVersion");
    if (version == j.end() || !version->is_string())
        throw Error(ExitCode::invalid_input, file, "no cniVersion");
    const std::string v = version->get<std::string>();
    if (std::none_of(std::begin(kCniVersions), std::end(kCniVersions),
                     [&](const char* s) { return v == s; }))
        throw Error(ExitCode::invalid_input, file,
                    "cniVersion \"" + printable(v) +
                        "\": the awf-net plugin speaks 0.3.0 to 1.1.0; not merged");
    Parsed p;
    if (j.contains("plugins")) {
        if (!j["plugins"].is_array() || j["plugins"].empty())
            throw Error(ExitCode::invalid_input, file, "\"plugins\" is not a list of plugins");
        for (const auto& plugin : j["plugins"])
            if (!plugin.is_object() || !plugin.contains("type") || !plugin["type"].is_string())
                throw Error(ExitCode::invalid_input, file, "a plugin without a \"type\"");
        p.list = std::move(j);
        return p;
    }
    // A single plugin's .conf: the same network as a conflist of one.
    if (!j.contains("type") || !j["type"].is_string())
        throw Error(ExitCode::invalid_input, file, "neither a conflist nor a plugin configuration");
    p.from_conf = true;
    p.list["cniVersion"] = j["cniVersion"];
    if (j.contains("name")) p.list["name"] = j["name"];
    ojson plugin = j;
    plugin.erase("cniVersion");
    plugin.erase("name");
    p.list["plugins"] = ojson::array({plugin});
    return p;
}

bool is_awf(const ojson& plugin) {
    return plugin.is_object() && plugin.value("type", std::string()) == "awf-net";
}

ojson entry_json(const CniEntry& e) {
    ojson j;
    j["type"] = "awf-net";
    j["policy"] = e.policy;
    if (!e.allowed_policies.empty()) j["allowedPolicies"] = e.allowed_policies;
    if (!e.policy_dir.empty()) j["policyDir"] = e.policy_dir;
    // containerd and CRI-O hand the pod's annotations only to plugins that ask for them.
    j["capabilities"] = ojson{{kPodAnnotationsCapability, true}};
    return j;
}

std::string render(const ojson& j) {
    return j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

} // namespace

std::optional<std::string> primary_cni_config(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    for (const auto& n : names)
        if (ends_with(n, ".conf") || ends_with(n, ".conflist") || ends_with(n, ".json")) return n;
    return std::nullopt;
}

ConflistChange merge_awf_entry(std::string_view text, const std::string& file,
                               const CniEntry& entry) {
    Parsed p = parse_config(text, file);
    ConflistChange c;
    c.from_conf = p.from_conf;
    ojson want = entry_json(entry);
    ojson& plugins = p.list["plugins"];
    auto it = std::find_if(plugins.begin(), plugins.end(), is_awf);
    if (it == plugins.end()) {
        plugins.push_back(want);
        c.action = ConflistChange::Action::merged;
    } else {
        // Fields of awf-net's own that the operator added by hand stay, where they are; the
        // managed ones follow the flags.
        ojson updated = *it;
        for (const char* key : {"policy", "allowedPolicies", "policyDir"}) {
            if (want.contains(key))
                updated[key] = want[key];
            else
                updated.erase(key);
        }
        if (!updated.contains("capabilities") || !updated["capabilities"].is_object())
            updated["capabilities"] = ojson::object();
        updated["capabilities"][kPodAnnotationsCapability] = true;
        bool same = updated == *it;
        *it = updated;
        // One awf-net entry: a second would install its table twice.
        size_t before = plugins.size();
        plugins.erase(std::remove_if(std::next(it), plugins.end(), is_awf), plugins.end());
        c.action = same && plugins.size() == before && !p.from_conf
                       ? ConflistChange::Action::unchanged
                       : ConflistChange::Action::updated;
    }
    c.text = c.action == ConflistChange::Action::unchanged ? std::string(text) : render(p.list);
    return c;
}

ConflistChange remove_awf_entry(std::string_view text, const std::string& file) {
    Parsed p = parse_config(text, file);
    ConflistChange c;
    c.from_conf = p.from_conf;
    ojson& plugins = p.list["plugins"];
    size_t before = plugins.size();
    plugins.erase(std::remove_if(plugins.begin(), plugins.end(), is_awf), plugins.end());
    if (plugins.size() == before) {
        c.action = ConflistChange::Action::absent;
        c.text = std::string(text);
        return c;
    }
    c.action = ConflistChange::Action::removed;
    c.text = render(p.list);
    return c;
}

} // namespace awf
