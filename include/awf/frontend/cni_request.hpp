// The CNI side of awf-net: a runtime execs the plugin type `awf-net` with CNI_* in its
// environment and the network configuration on standard input (CNI spec 0.3.0 to 1.1.0; 0.3.x
// because flannel's and calico's stock conflists still say 0.3.1, and it has no CHECK).
// Pure parsing; a bad request is a CniError carrying the spec's well-known code.
#pragma once

#include "awf/base/error.hpp"
#include "awf/policy/address.hpp"
#include "awf/policy/policy_options.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf {

inline constexpr const char* kCniVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
// The runtimeConfig capability through which containerd and CRI-O hand over pod annotations.
inline constexpr const char* kPodAnnotationsCapability = "io.kubernetes.cri.pod-annotations";
// podman's way: `--network NAME:...` cannot set annotations for CNI, CNI_ARGS it can.
inline constexpr const char* kCniArgsPolicy = "AWF_POLICY";

// The spec's well-known error codes (SPEC.md, Error); awf-net's own are 100 + its exit code.
enum class CniCode : int {
    incompatible_version = 1,
    invalid_environment = 4,
    io_failure = 5,
    decode_failure = 6,
    invalid_config = 7,
    not_available = 50,
};

class CniError : public Error {
public:
    CniError(CniCode code, std::string where, std::string what)
        : Error(ExitCode::invalid_input, std::move(where), std::move(what)), cni_(code) {}
    CniCode cni_code() const noexcept { return cni_; }

private:
    CniCode cni_;
};

enum class CniCommand { add, del, check, version, status, gc };

// What prevResult says about the container's side, where it says anything.
struct CniPrevFacts {
    std::optional<IpAddr> gateway_v4; // the default route's next hop
    std::vector<Cidr> subnets;        // IPv4 networks of the container's own addresses
};

struct CniRequest {
    CniCommand command = CniCommand::version;
    std::string cni_version; // the configuration's, echoed in every answer
    std::string network;     // the configuration's "name"
    std::string container_id;
    std::string netns; // CNI_NETNS: empty on a DEL after the namespace is gone
    std::string ifname;

    // Root's: the conflist entry.
    std::optional<std::string> conf_policy; // "policy"
    std::string policy_dir;                 // "policyDir", else the build's default
    // "allowedPolicies": what pods may pick; absent: any policy, [] none (a pod's choice is
    // then refused).
    std::optional<std::vector<std::string>> allowed_policies;
    // The pod's: at most one may choose, and only a name.
    std::optional<std::string> annotation_policy; // runtimeConfig pod annotation
    std::optional<std::string> args_policy;       // CNI_ARGS AWF_POLICY

    std::optional<std::string> prev_result; // the object as given, compact JSON
    CniPrevFacts prev;
};

// `stdin_text` is the configuration (for VERSION: {"cniVersion": ...}). Throws CniError.
CniRequest parse_cni_request(const EnvLookup& env, std::string_view stdin_text);

// Which named policy applies: the pod's choice (annotation or AWF_POLICY; both must agree, and
// "allowedPolicies" must list it when the conflist has one), else the conflist's, else
// "default". Throws awf::Error (exit 2) naming who chose what.
std::string selected_policy(const CniRequest& r);

// Who chose the policy selected_policy returns, for its error messages.
std::string policy_chooser(const CniRequest& r);

// ADD's output: prevResult unchanged but for the version asked for, or an empty result.
std::string cni_add_result(const CniRequest& r);
// The input's "cniVersion" as far as it can be read, for answers to a request that failed.
std::string cni_version_of(std::string_view stdin_text);
std::string cni_version_result(std::string_view stdin_text);
std::string cni_error_json(const std::string& version, int code, const std::string& msg,
                           const std::string& details);

} // namespace awf
