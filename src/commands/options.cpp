#include "awf/base/platform.hpp"

#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/policy/policy.hpp"

#include <iostream>
#include <sstream>

namespace awf::cli {

std::string read_stdin_bounded(size_t max, const std::string& what) {
    std::string data;
    char buf[8192];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
        data.append(buf, static_cast<size_t>(std::cin.gcount()));
        if (data.size() > max)
            throw Error(ExitCode::invalid_input, what,
                        "larger than " + std::to_string(max >> 10) + " KiB");
    }
    return data;
}

po::options_description target_options() {
    po::options_description d("Target");
    d.add_options()("netns", po::value<std::string>()->value_name("NAME|PATH"),
                    "network namespace by name (/run/netns) or path")(
        "pid", po::value<std::string>()->value_name("PID"),
        "the network namespace of this process")("hosts-file",
                                                 po::value<std::string>()->value_name("PATH"),
                                                 "where host.docker.internal is looked up");
    return d;
}

po::options_description role_option() {
    po::options_description d("Role");
    d.add_options()("role", po::value<std::string>()->value_name("sandbox|proxy"),
                    "which side of intercept mode the table is (checked by dump)");
    return d;
}

std::optional<Role> read_role(const po::variables_map& vm) {
    if (!vm.count("role")) return std::nullopt;
    return parse_role(vm["role"].as<std::string>());
}

Target read_target(const po::variables_map& vm) {
    Target t;
    if (vm.count("netns")) t.netns = vm["netns"].as<std::string>();
    if (vm.count("pid")) {
        const std::string& s = vm["pid"].as<std::string>();
        if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos ||
            s[0] == '0')
            throw input_error("--pid", s, "not a process id");
        t.pid = std::stoi(s);
    }
    if (vm.count("netns") && vm.count("pid"))
        throw input_error("--pid", vm["pid"].as<std::string>(), "conflicts with --netns");
    if (vm.count("netns") && t.netns.empty()) throw input_error("--netns", "", "empty");
    if (vm.count("hosts-file")) t.hosts_file = vm["hosts-file"].as<std::string>();
    return t;
}

std::string table_name(const po::variables_map& vm) {
    RawOptions raw;
    if (vm.count("table")) raw["table"] = {vm["table"].as<std::string>()};
    return policy_from_raw(raw).table;
}

bool printed_help(const po::variables_map& vm, const po::options_description& desc) {
    if (!vm.count("help")) return false;
    // Boost pads every line to its column width; the padding is not part of the help.
    std::ostringstream text;
    text << desc;
    std::istringstream lines(text.str());
    for (std::string line; std::getline(lines, line);) {
        line.erase(line.find_last_not_of(' ') + 1);
        std::cout << line << "\n";
    }
    return true;
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const std::string& command,
                        const po::positional_options_description* positional) {
    po::variables_map vm;
    try {
        po::command_line_parser parser(args);
        parser.options(desc);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        // Boost names the option in its own words; keep them, but in our one-line shape.
        throw Error(ExitCode::invalid_input, command, e.what());
    }
    return vm;
}

} // namespace awf::cli
