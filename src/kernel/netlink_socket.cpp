#include "awf/base/platform.hpp"

#include "awf/kernel/netlink_socket.hpp"

#include "awf/base/error.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace awf {

void NetlinkSocket::Closer::operator()(mnl_socket* s) const {
    mnl_socket_close(s);
}

NetlinkSocket::NetlinkSocket(int bus)
    : sock_(mnl_socket_open2(bus, SOCK_CLOEXEC)), seq_(initial_sequence()) {
    if (!sock_) throw Error(ExitCode::internal, "netlink socket", std::strerror(errno));
    if (mnl_socket_bind(sock_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        throw Error(ExitCode::internal, "netlink bind", std::strerror(errno));
    portid_ = mnl_socket_get_portid(sock_.get());
    int one = 1;
    // Extended acks name the offending attribute and carry the kernel's reason text.
    mnl_socket_setsockopt(sock_.get(), NETLINK_EXT_ACK, &one, sizeof one);
}

char* NetlinkSocket::rx() {
    if (!rx_) rx_ = std::make_unique_for_overwrite<char[]>(kRxSize);
    return rx_.get();
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

ssize_t NetlinkSocket::recv(int flags) {
    // As mnl_socket_recvfrom, with flags: only the kernel's messages, never a cut one.
    sockaddr_nl addr{};
    iovec iov{rx(), kRxSize};
    msghdr msg{};
    msg.msg_name = &addr;
    msg.msg_namelen = sizeof addr;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = ::recvmsg(mnl_socket_get_fd(sock_.get()), &msg, flags);
    if (n < 0) return n;
    if (msg.msg_flags & MSG_TRUNC) {
        errno = ENOSPC;
        return -1;
    }
    if (addr.nl_pid != 0) {
        errno = ESRCH;
        return -1;
    }
    return n;
}

std::optional<std::string_view> NetlinkSocket::receive(int timeout_ms) {
    // The kernel answers most requests before the send returns: poll only when nothing is
    // queued yet.
    ssize_t n = recv(MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{mnl_socket_get_fd(sock_.get()), POLLIN, 0};
        int r = ::poll(&p, 1, timeout_ms);
        if (r < 0) throw Error(ExitCode::internal, "netlink poll", std::strerror(errno));
        if (r == 0) return std::nullopt;
        n = recv(0);
    }
    if (n < 0) throw Error(ExitCode::internal, "netlink receive", std::strerror(errno));
    return std::string_view(rx_.get(), static_cast<size_t>(n));
}

void NetlinkSocket::dump(const void* request, size_t len, uint32_t seq,
                         const std::function<void(const nlmsghdr*)>& cb) {
    send(request, len);
    const bool single =
        !(static_cast<const nlmsghdr*>(request)->nlmsg_flags & (NLM_F_DUMP | NLM_F_ACK));
    // Read to the end of the answer whatever happens on the way: a failed callback or an
    // interrupted dump leaves nothing queued for the next request to trip over.
    bool interrupted = false;
    int error = 0;
    std::exception_ptr failure;
    for (bool done = false; !done;) {
        ssize_t n = recv(0);
        if (n < 0) throw Error(ExitCode::internal, "netlink dump", std::strerror(errno));
        int left = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rx_.get()); mnl_nlmsg_ok(nlh, left);
             nlh = mnl_nlmsg_next(nlh, &left)) {
            if (nlh->nlmsg_seq != seq || (nlh->nlmsg_pid != portid_ && nlh->nlmsg_pid != 0))
                continue; // the rest of an earlier, abandoned answer
            // The kernel flags a dump whose objects changed while it was being written.
            if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
            if (nlh->nlmsg_type == NLMSG_DONE) {
                // A dump that failed part-way says so here (negative errno), never silently.
                int status = 0;
                if (mnl_nlmsg_get_payload_len(nlh) >= sizeof status)
                    std::memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof status);
                if (status < 0) error = -status;
                done = true;
                break;
            }
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
                    error = EBADMSG;
                else
                    error = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh))->error;
                done = true;
                break;
            }
            if (nlh->nlmsg_type < NLMSG_MIN_TYPE) continue;
            if (!interrupted && !failure) {
                try {
                    cb(nlh);
                } catch (...) {
                    failure = std::current_exception();
                }
            }
            if (single) {
                done = true;
                break;
            }
        }
    }
    if (failure) std::rethrow_exception(failure);
    if (interrupted)
        throw GenerationChanged(ExitCode::internal, "netlink dump",
                                "the ruleset changed during the dump");
    // ENOENT: the object (table, set) is not there; callers treat that as empty.
    if (error != 0 && error != ENOENT)
        throw Error(ExitCode::internal, "netlink dump", std::strerror(error));
}

int NetlinkSocket::request(const nlmsghdr* nlh, int timeout_ms) {
    send(nlh, nlh->nlmsg_len);
    // Bounded by the number of answers, not by time alone: stale ones are skipped.
    for (int answers = 0; answers < 64; ++answers) {
        auto rx = receive(timeout_ms);
        if (!rx) throw Error(ExitCode::internal, "netlink", "no answer from the kernel");
        int len = static_cast<int>(rx->size());
        for (auto* m = reinterpret_cast<const nlmsghdr*>(rx->data()); mnl_nlmsg_ok(m, len);
             m = mnl_nlmsg_next(m, &len))
            if (m->nlmsg_type == NLMSG_ERROR && m->nlmsg_seq == nlh->nlmsg_seq &&
                m->nlmsg_len >= mnl_nlmsg_size(sizeof(nlmsgerr)))
                return -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
    }
    throw Error(ExitCode::internal, "netlink", "no acknowledgement from the kernel");
}

uint32_t initial_sequence() {
    return static_cast<uint32_t>(std::time(nullptr));
}

} // namespace awf
