#include "awf/base/platform.hpp"

#include "awf/kernel/nflog.hpp"

#include "awf/base/text.hpp"

#include "awf/base/error.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>

namespace awf {

namespace {

std::string proto_name(uint8_t p) {
    switch (p) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_ICMP:
        return "icmp";
    case IPPROTO_ICMPV6:
        return "icmpv6";
    case IPPROTO_SCTP:
        return "sctp";
    case IPPROTO_GRE:
        return "gre";
    default:
        return std::to_string(p);
    }
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[80];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
}

std::string endpoint(const IpAddr& a, std::optional<uint16_t> port) {
    if (!port) return a.str();
    return (a.is_v4() ? a.str() : "[" + a.str() + "]") + ":" + std::to_string(*port);
}

} // namespace

std::string LogEvent::text() const {
    std::string s = iso_time(time) + " " + printable(prefix) + proto_name(proto) + " " + src.str() +
                    " -> " + endpoint(dst, dport);
    if (uid) s += " uid " + std::to_string(*uid);
    return s;
}

std::string LogEvent::json() const {
    nlohmann::json j{{"time", iso_time(time)},
                     {"prefix", prefix},
                     {"protocol", proto_name(proto)},
                     {"source", src.str()},
                     {"destination", dst.str()}};
    if (dport) j["port"] = *dport;
    if (uid) j["uid"] = *uid;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool parse_network_header(const uint8_t* d, size_t len, LogEvent& ev) {
    if (len < 1) return false;
    size_t l4 = 0;
    if ((d[0] >> 4) == 4) {
        if (len < 20) return false;
        size_t ihl = static_cast<size_t>(d[0] & 0x0f) * 4;
        ev.proto = d[9];
        ev.src = IpAddr::v4(d[12], d[13], d[14], d[15]);
        ev.dst = IpAddr::v4(d[16], d[17], d[18], d[19]);
        bool first_fragment = (((d[6] & 0x1f) << 8) | d[7]) == 0;
        if (!first_fragment) return true;
        l4 = ihl;
    } else if ((d[0] >> 4) == 6) {
        if (len < 40) return false;
        ev.proto = d[6]; // extension headers are not walked: the event names the next header
        ev.src.family = ev.dst.family = Family::v6;
        std::memcpy(ev.src.bytes.data(), d + 8, 16);
        std::memcpy(ev.dst.bytes.data(), d + 24, 16);
        l4 = 40;
    } else {
        return false;
    }
    bool ports = ev.proto == IPPROTO_TCP || ev.proto == IPPROTO_UDP || ev.proto == IPPROTO_SCTP;
    if (ports && len >= l4 + 4) ev.dport = static_cast<uint16_t>(d[l4 + 2] << 8 | d[l4 + 3]);
    return true;
}

NflogListener::NflogListener(uint16_t group) : sock_(NETLINK_NETFILTER), group_(group) {
    configure(NFULNL_CFG_CMD_BIND, true);
}

void NflogListener::configure(uint8_t command, bool with_mode) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = sock_.next_seq();
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(group_);
    nfulnl_msg_config_cmd cmd{command};
    mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof cmd, &cmd);
    if (with_mode) {
        // Headers are all an event needs; deliver each packet at once, not in batches.
        nfulnl_msg_config_mode mode{htonl(128), NFULNL_COPY_PACKET, 0};
        mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof mode, &mode);
        mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
        mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(1));
    }
    int err = sock_.request(nlh);
    // The kernel answers EPERM when another socket owns the group's instance (EBUSY only when
    // this socket binds twice); without CAP_NET_ADMIN it is EPERM too.
    if (err == EBUSY || err == EPERM)
        throw Error(ExitCode::target, "NFLOG group " + std::to_string(group_),
                    "already held by another listener in this namespace (ulogd, another awf-net "
                    "watch), or not permitted");
    if (err != 0)
        throw Error(ExitCode::internal, "NFLOG group " + std::to_string(group_),
                    std::strerror(err));
}

int NflogListener::fd() const {
    return mnl_socket_get_fd(sock_.get());
}

bool NflogListener::wait(std::vector<LogEvent>& out, int timeout_ms, uint64_t& lost) {
    pollfd p{mnl_socket_get_fd(sock_.get()), POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR)
        throw Error(ExitCode::internal, "nflog poll", std::strerror(errno));
    if (r <= 0) return false;
    std::vector<char> buf(1 << 16);
    ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
    if (n < 0) {
        if (errno == ENOBUFS) { // the kernel dropped events we were too slow for: say so, go on
            ++lost;
            return true;
        }
        throw Error(ExitCode::internal, "nflog receive", std::strerror(errno));
    }
    int len = static_cast<int>(n);
    for (auto* m = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(m, len);
         m = mnl_nlmsg_next(m, &len)) {
        if (m->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) continue;
        LogEvent ev;
        ev.time = std::chrono::system_clock::now();
        bool ok = false;
        auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(m, sizeof(nfgenmsg)));
        auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(m));
        while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) {
            auto* data = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
            size_t dlen = mnl_attr_get_payload_len(a);
            switch (mnl_attr_get_type(a)) {
            case NFULA_PREFIX:
                ev.prefix.assign(reinterpret_cast<const char*>(data),
                                 strnlen(reinterpret_cast<const char*>(data), dlen));
                break;
            case NFULA_PAYLOAD:
                ok = parse_network_header(data, dlen, ev);
                break;
            case NFULA_UID:
                ev.uid = ntohl(mnl_attr_get_u32(a));
                break;
            default:
                break;
            }
            a = mnl_attr_next(a);
        }
        if (ok) out.push_back(std::move(ev));
    }
    return true;
}

} // namespace awf
