#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"

#include <iostream>

namespace awf::cli {

int cmd_delete(const std::vector<std::string>& args, const Context&) {
    po::options_description desc("awf-net delete TARGET [--table NAME]");
    desc.add(target_options());
    desc.add(role_option());
    desc.add_options()("table", po::value<std::string>()->value_name("NAME"),
                       "table name (default awf)")("help,h", "this help");
    auto vm = parse(args, desc, "delete");
    if (printed_help(vm, desc)) return 0;
    Target target = read_target(vm);
    (void)read_role(vm); // either side is one table; the sandbox's policy routing goes with it
    if (target.empty()) throw Error(ExitCode::target, "delete", "no target: give --netns or --pid");
    std::string table = table_name(vm);
    bool existed = remove_table(table, target);
    std::cout << (existed ? "deleted" : "absent") << " table inet " << table << " in "
              << target.describe() << "\n";
    return 0;
}

} // namespace awf::cli
