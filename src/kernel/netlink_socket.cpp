#include "awf/base/platform.hpp"

#include "awf/kernel/netlink_socket.hpp"

#include "awf/base/error.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <libmnl/libmnl.h>
#include <poll.h>
#include <sys/socket.h>

namespace awf {

void NetlinkSocket::Closer::operator()(mnl_socket* s) const {
    mnl_socket_close(s);
}

NetlinkSocket::NetlinkSocket(int bus) : sock_(mnl_socket_open2(bus, SOCK_CLOEXEC)) {
    if (!sock_) throw Error(ExitCode::internal, "netlink socket", std::strerror(errno));
    if (mnl_socket_bind(sock_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        throw Error(ExitCode::internal, "netlink bind", std::strerror(errno));
    portid_ = mnl_socket_get_portid(sock_.get());
    int one = 1;
    // Extended acks name the offending attribute and carry the kernel's reason text.
    mnl_socket_setsockopt(sock_.get(), NETLINK_EXT_ACK, &one, sizeof one);
}

void NetlinkSocket::set_buffers(size_t bytes) {
    int size = static_cast<int>(std::min<size_t>(bytes, 64u << 20));
    setsockopt(mnl_socket_get_fd(sock_.get()), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    setsockopt(mnl_socket_get_fd(sock_.get()), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
}

void NetlinkSocket::send(const void* data, size_t len) {
    if (mnl_socket_sendto(sock_.get(), data, len) < 0)
        throw Error(ExitCode::internal, "netlink send", std::strerror(errno));
}

std::optional<std::string_view> NetlinkSocket::receive(int timeout_ms) {
    pollfd p{mnl_socket_get_fd(sock_.get()), POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0) throw Error(ExitCode::internal, "netlink poll", std::strerror(errno));
    if (r == 0) return std::nullopt;
    if (rx_.empty()) rx_.resize(1 << 17);
    ssize_t n = mnl_socket_recvfrom(sock_.get(), rx_.data(), rx_.size());
    if (n < 0) throw Error(ExitCode::internal, "netlink receive", std::strerror(errno));
    return std::string_view(rx_.data(), static_cast<size_t>(n));
}

void NetlinkSocket::dump(const void* request, size_t len, uint32_t seq,
                         const std::function<void(const nlmsghdr*)>& cb) {
    send(request, len);
    // Exceptions must not unwind through libmnl's C frames: park them and rethrow here.
    struct Ctx {
        const std::function<void(const nlmsghdr*)>* cb;
        std::exception_ptr error;
    } ctx{&cb, nullptr};
    auto trampoline = [](const nlmsghdr* nlh, void* data) -> int {
        auto* c = static_cast<Ctx*>(data);
        try {
            (*c->cb)(nlh);
        } catch (...) {
            c->error = std::current_exception();
            return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
    };
    if (rx_.empty()) rx_.resize(1 << 17);
    std::vector<char>& buf = rx_;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
        if (n < 0) throw Error(ExitCode::internal, "netlink dump", std::strerror(errno));
        int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid_, trampoline, &ctx);
        if (ctx.error) std::rethrow_exception(ctx.error);
        if (r < 0) {
            // ENOENT: the object (table, set) is not there; callers treat that as empty.
            if (errno == ENOENT) return;
            // libmnl reports NLM_F_DUMP_INTR as EINTR: the ruleset changed mid-dump.
            if (errno == EINTR)
                throw GenerationChanged(ExitCode::internal, "netlink dump",
                                        "the ruleset changed during the dump");
            throw Error(ExitCode::internal, "netlink dump", std::strerror(errno));
        }
        if (r == MNL_CB_STOP) return;
    }
}

int NetlinkSocket::request(const nlmsghdr* nlh, int timeout_ms) {
    send(nlh, nlh->nlmsg_len);
    auto rx = receive(timeout_ms);
    if (!rx) throw Error(ExitCode::internal, "netlink", "no answer from the kernel");
    int len = static_cast<int>(rx->size());
    for (auto* m = reinterpret_cast<const nlmsghdr*>(rx->data()); mnl_nlmsg_ok(m, len);
         m = mnl_nlmsg_next(m, &len))
        if (m->nlmsg_type == NLMSG_ERROR && m->nlmsg_seq == nlh->nlmsg_seq)
            return -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
    throw Error(ExitCode::internal, "netlink", "no acknowledgement from the kernel");
}

uint32_t initial_sequence() {
    return static_cast<uint32_t>(std::time(nullptr));
}

} // namespace awf
