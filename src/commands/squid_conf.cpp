#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/plan/squid_conf.hpp"

#include <iostream>
#include <sys/stat.h>

namespace awf::cli {

int cmd_squid_conf(const std::vector<std::string>& args, const Context& ctx) {
    po::options_description desc(
        "awf-net squid-conf [POLICY] [DOMAINS] [--listen ADDR] [--state-dir DIR] "
        "[--tls-cert FILE [--tls-key FILE]] [--fragment]");
    desc.add(policy_options_description());
    desc.add_options()("listen", po::value<std::string>()->value_name("ADDR"),
                       "the IPv4 address Squid's ports bind (default 0.0.0.0); the proxy port "
                       "is --squid's")("state-dir", po::value<std::string>()->value_name("DIR"),
                                       "pid file and logs (default Debian's: /run/squid.pid, "
                                       "/var/log/squid)")(
        "tls-cert", po::value<std::string>()->value_name("FILE"),
        "certificate for Squid's intercept https_port (never shown to clients); with --intercept")(
        "tls-key", po::value<std::string>()->value_name("FILE"),
        "its key (default: in the certificate file)")(
        "resolvers", po::value<std::string>()->value_name("LIST"),
        "Squid's own DNS servers (dns_nameservers; default: the host's resolv.conf)")(
        "fragment", po::bool_switch(),
        "only the lines --intercept adds to a configuration of your own")("help,h", "this help");
    auto vm = parse(args, desc, "squid-conf");
    if (printed_help(vm, desc)) return 0;
    // Squid would start without them and fail later, far from the typo.
    for (const char* file : {"tls-cert", "tls-key"}) {
        if (!vm.count(file)) continue;
        const std::string& path = vm[file].as<std::string>();
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            throw input_error(std::string("--") + file, path, "no such regular file");
    }
    Policy policy = read_policy(vm, ctx.env);
    if (policy.intercept && !vm.count("tls-cert"))
        throw Error(ExitCode::invalid_input, "--tls-cert",
                    "required with --intercept (Squid's https_port needs one to start)");
    SquidConfPaths paths;
    if (vm.count("tls-cert")) paths.tls_cert = vm["tls-cert"].as<std::string>();
    if (vm.count("tls-key")) paths.tls_key = vm["tls-key"].as<std::string>();
    if (vm.count("state-dir")) paths.state_dir = vm["state-dir"].as<std::string>();
    if (vm.count("listen")) paths.listen = vm["listen"].as<std::string>();
    if (vm.count("resolvers"))
        for (const auto& r : split_list(vm["resolvers"].as<std::string>())) {
            auto a = IpAddr::parse(r);
            if (!a) throw input_error("--resolvers", r, "not an IP address");
            paths.dns.push_back(*a);
        }
    bool fragment = vm["fragment"].as<bool>();
    std::cout << (fragment ? squid_intercept_lines(policy, paths) : squid_conf(policy, paths));
    return 0;
}

} // namespace awf::cli
