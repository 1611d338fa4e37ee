// POLICY flags of cli.md, the --config file with the same names, and --from-env, merged with
// the precedence flags > config file > environment, then validated into a Policy.
#pragma once

#include "awf/policy/policy.hpp"

#include <boost/program_options.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf {

namespace po = boost::program_options;

// Looks up an environment variable; injected so tests never touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

po::options_description policy_options_description();

// Raw values by option name (without dashes), each as given; repeatable options keep order.
// `origin` says where a key came from ("--config FILE:LINE", "AWF_DNS_SERVERS"), so a value
// refused later is reported there; the command line's own keys have none.
struct RawOptions : std::map<std::string, std::vector<std::string>> {
    using map::map;
    std::map<std::string, std::string> origin;
};

// "a, b,,c" -> {"a", "b", "c"}: the comma-separated lists of flags and config files.
std::vector<std::string> split_list(const std::string& text);
RawOptions raw_from_variables(const po::variables_map& vm);
RawOptions raw_from_config_file(const std::string& path);
// The same from the file's text; `where` names it in errors. No error shows a line of the text,
// only its number and, where the line is shaped like one, the key.
RawOptions raw_from_config_text(std::string_view text, const std::string& where);
RawOptions raw_from_env(const EnvLookup& env);
// Keys present in `higher` win whole (a repeatable flag given on the command line replaces the
// config file's list rather than appending to it).
void merge_lower_precedence(RawOptions& higher, const RawOptions& lower);

Policy policy_from_raw(const RawOptions& raw);
// "sandbox" or "proxy"; exit 2 naming --role otherwise.
Role parse_role(const std::string& value);

// What --config FILE or --policy NAME (under --policy-dir) hold; empty without either.
RawOptions raw_from_config_flags(const po::variables_map& vm);
std::string policy_dir(const po::variables_map& vm);

// The whole POLICY reading of one command line: flags, --config, --from-env.
Policy read_policy(const po::variables_map& vm, const EnvLookup& env);

} // namespace awf
