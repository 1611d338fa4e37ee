#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/plan/squid_conf.hpp"

#include <iostream>
#include <sys/stat.h>

namespace awf::cli {

int cmd_squid_conf(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc(
        "awf-net squid-conf [POLICY] --intercept --tls-cert FILE --allow-domains-file LIST");
    desc.add(policy_options_description());
    desc.add_options()("tls-cert", po::value<std::string>()->value_name("FILE"),
                       "certificate for Squid's intercept https_port (never shown to clients)")(
        "tls-key", po::value<std::string>()->value_name("FILE"),
        "its key (default: in the certificate file)")(
        "allow-domains-file", po::value<std::string>()->value_name("LIST"),
        "the allowlist, one domain per line, that the operator's dstdomain ACL also reads")(
        "help,h", "this help");
    auto vm = parse(args, desc, "squid-conf");
    if (printed_help(vm, desc)) return 0;
    Policy policy = read_policy(vm, ctx.env);
    for (const char* required : {"tls-cert", "allow-domains-file"})
        if (!vm.count(required))
            throw Error(ExitCode::invalid_input, std::string("--") + required, "required");
    // Squid would start without them and fail later, far from the typo.
    for (const char* file : {"tls-cert", "tls-key", "allow-domains-file"}) {
        if (!vm.count(file)) continue;
        const std::string& path = vm[file].as<std::string>();
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            throw input_error(std::string("--") + file, path, "no such regular file");
    }
    SquidConfPaths paths{vm["tls-cert"].as<std::string>(),
                         vm.count("tls-key") ? vm["tls-key"].as<std::string>() : "",
                         vm["allow-domains-file"].as<std::string>()};
    std::cout << squid_conf(policy, paths);
    return 0;
}

} // namespace awf::cli
