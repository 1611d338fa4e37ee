#include "awf/base/platform.hpp"

// New TCP connections per second, for the packet-path benchmark: every connection's first
// packet walks the policy's chains and sets; the rest match `ct state established` first.
//   connrate serve PORT                  accept and close, forever
//   connrate connect ADDR PORT SECONDS   connect and close (RST) in a loop; prints connections/s
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int serve(int port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 4096) != 0) {
        std::perror("connrate serve");
        return 1;
    }
    for (;;) {
        int c = ::accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) ::close(c);
    }
}

int connect_loop(const char* addr, int port, double seconds) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, addr, &a.sin_addr) != 1) return 2;
    // Closing with a reset leaves no TIME_WAIT, so the loop never runs out of ports.
    linger lg{1, 0};
    long ok = 0, failed = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto end = t0 + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ::setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
            ++ok;
        else
            ++failed;
        ::close(s);
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"connections_per_s\": %.0f, \"ok\": %ld, \"failed\": %ld}\n", ok / elapsed, ok,
                failed);
    return failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 3 && !std::strcmp(argv[1], "serve")) return serve(std::atoi(argv[2]));
    if (argc == 5 && !std::strcmp(argv[1], "connect"))
        return connect_loop(argv[2], std::atoi(argv[3]), std::atof(argv[4]));
    std::fprintf(stderr, "usage: connrate serve PORT | connrate connect ADDR PORT SECONDS\n");
    return 2;
}
