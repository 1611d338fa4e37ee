// Named policies: whatever a less trusted party chooses (an annotation, CNI args, a pod
// annotation) names a policy, `[a-z0-9][a-z0-9._-]*`, resolved as DIR/NAME.conf in a directory
// that only root's own configuration sets (build default, root's flags, the conflist). It is
// never a path: a path would let a tenant make root read any file on the node.
#pragma once

#include "awf/policy/policy_options.hpp"

#include <string>
#include <string_view>

namespace awf {

// The build's default, /etc/awf-net/policies unless meson's policy_dir says otherwise.
std::string default_policy_dir();

// [a-z0-9][a-z0-9._-]*, at most 64 characters, no "..".
bool is_policy_name(std::string_view name);

// The options of policy NAME. `where` names who chose it in errors ("--policy", "annotation
// io.github.awf-net.policy"). Not a name, or no such policy: exit 2, naming the policy; a
// malformed file: exit 2 with its line number and key, never a line of it.
RawOptions raw_from_named_policy(const std::string& dir, const std::string& name,
                                 const std::string& where);

// The same, for a name a tenant chose (an annotation, CNI_ARGS): a policy of role proxy filters
// nothing in the namespace it is installed in (it only redirects, for Squid's own namespace), so
// it is root's own choice only (flags, the conflist's "policy") and refused here, exit 2.
RawOptions raw_from_tenant_policy(const std::string& dir, const std::string& name,
                                  const std::string& where);

} // namespace awf
