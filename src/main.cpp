// awf-net: installs the sandbox egress policy as one nftables table in a target namespace.
#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"

int main(int argc, char** argv) {
    return awf::cli::cli_main(argc, argv);
}
