// The OCI side of `awf-net oci-hook`: the container state a runtime writes on the hook's
// standard input, and what the bundle's config.json says about the container. Pure parsing;
// every bad input is an awf::Error (exit 2) naming the field.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace awf {

// Names the container's policy (policy_name.hpp): a name, never a path.
inline constexpr const char* kPolicyAnnotation = "io.github.awf-net.policy";
// Selects the hook with the policy named "default"; "true" only.
inline constexpr const char* kEnableAnnotation = "io.github.awf-net.enable";
// Named a config file by path until policies had names: it let whoever starts a container make
// the hook read any file on the node. Refused, so a container still carrying it never starts
// believing it is protected by a policy it did not get.
inline constexpr const char* kRetiredConfigAnnotation = "io.github.awf-net.config";

struct OciState {
    std::string id;
    std::string status;
    int pid = 0;
    std::string bundle;
    std::optional<std::string> policy_name; // the policy annotation, or "default" for enable
};

OciState parse_oci_state(const std::string& json);

struct OciBundle {
    std::vector<std::string> capabilities; // union of every capability set of the process
    std::string hosts_file;                // the /etc/hosts mount's source, else etc/hosts ...
    std::string hosts_root;                // ... inside the rootfs
    bool own_network_namespace = false;    // linux.namespaces has a network entry
    // linux.namespaces' network "path": a namespace the engine made (podman: /run/netns/...) or
    // one a running process already has (/proc/PID/ns/net: `--network container:other`).
    std::string network_namespace_path;
};

// `config_json` is the text of BUNDLE/config.json.
OciBundle parse_oci_bundle(const std::string& config_json, const std::string& bundle_dir);

// Capabilities that let a process around the IP hooks (raw frames) or the policy itself.
std::vector<std::string> refused_capabilities(const OciBundle& b);

} // namespace awf
