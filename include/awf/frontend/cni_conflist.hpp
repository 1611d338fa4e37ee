// `awf-net cni-install`: awf-net's entry merged into a node's primary CNI configuration, and
// taken out again. containerd and CRI-O use only the first configuration of the directory
// (libcni's order), so the entry must go into that one, at the end of its chain. Pure: text in,
// text out; the command reads and writes the files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf {

struct CniEntry {
    std::string policy = "default";
    std::vector<std::string> allowed_policies; // empty: any named policy
    std::string policy_dir;                    // empty: the plugin's build default
};

struct ConflistChange {
    enum class Action { merged, updated, unchanged, removed, absent } action = Action::unchanged;
    std::string text;       // the whole new file (the input, byte for byte, when unchanged)
    bool from_conf = false; // the input was a single-plugin .conf, now a conflist
};

// Which of `names` (a directory's entries) runtimes load: the first, in byte order, ending in
// .conf, .conflist or .json. nullopt when there is none.
std::optional<std::string> primary_cni_config(std::vector<std::string> names);

// Appends awf-net's entry (or brings an existing one up to date in place). `file` names the
// input in errors; its content is never shown. Throws awf::Error (exit 2): not JSON, neither a
// conflist nor a plugin configuration, a cniVersion awf-net does not speak.
ConflistChange merge_awf_entry(std::string_view text, const std::string& file,
                               const CniEntry& entry);
// Every awf-net entry removed; the rest of the chain as it was.
ConflistChange remove_awf_entry(std::string_view text, const std::string& file);

} // namespace awf
