// awf-net: installs the sandbox egress policy as one nftables table in a target namespace.
#include "awf/cli.hpp"
#include "awf/error.hpp"

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << awf::cli::usage();
        return static_cast<int>(awf::ExitCode::invalid_input);
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    awf::cli::Context ctx;
    ctx.env = [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
    try {
        return awf::cli::run_command(argv[1], args, ctx);
    } catch (const awf::Error& e) {
        std::cerr << "awf-net: error: " << e.what() << "\n";
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "awf-net: error: internal: " << e.what() << "\n";
        return static_cast<int>(awf::ExitCode::internal);
    }
}
