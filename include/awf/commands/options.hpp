// Option handling the commands share: TARGET flags, the table name, --help and Boost's errors
// in awf-net's one-line shape.
#pragma once

#include "awf/kernel/netns.hpp"
#include "awf/policy/policy_options.hpp"

#include <string>
#include <vector>

namespace awf::cli {

po::options_description target_options();
// --role sandbox|proxy of delete and dump (apply takes it as a policy flag).
po::options_description role_option();
// nullopt when not given; exit 2 for anything else than sandbox or proxy.
std::optional<Role> read_role(const po::variables_map& vm);
Target read_target(const po::variables_map& vm);

// The --table option of delete and dump, validated like the policy's --table.
std::string table_name(const po::variables_map& vm);

// Standard input, at most `max` bytes (a runtime's JSON); more is exit 2 naming `what`.
std::string read_stdin_bounded(size_t max, const std::string& what);
// --help: prints the command's options; the caller then returns 0.
bool printed_help(const po::variables_map& vm, const po::options_description& desc);

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const std::string& command,
                        const po::positional_options_description* positional = nullptr);

} // namespace awf::cli
