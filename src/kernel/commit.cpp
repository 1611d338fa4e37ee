#include "awf/base/platform.hpp"

#include "awf/kernel/commit.hpp"

#include "awf/base/error.hpp"

#include <cerrno>
#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

namespace awf {

namespace {

struct Refusal {
    uint32_t seq = 0;
    int error = 0;
    std::string message; // NLMSGERR_ATTR_MSG
    uint32_t offset = 0; // NLMSGERR_ATTR_OFFS, into the refused message
};

// Extended-ack attributes follow the nlmsgerr and, unless capped, the echoed request.
void read_ext_ack(const nlmsghdr* nlh, Refusal& r) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return;
    auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    size_t hdr = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) hdr += err->msg.nlmsg_len - sizeof(nlmsghdr);
    const char* start = static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + hdr;
    const char* end = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
    while (start + sizeof(nlattr) <= end) {
        auto* a = reinterpret_cast<const nlattr*>(start);
        if (a->nla_len < sizeof(nlattr) || start + a->nla_len > end) break;
        const char* val = start + NLA_HDRLEN;
        size_t len = a->nla_len - NLA_HDRLEN;
        if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && len > 0)
            r.message.assign(val, strnlen(val, len));
        else if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_OFFS && len >= 4)
            std::memcpy(&r.offset, val, 4);
        start += NLA_ALIGN(a->nla_len);
    }
}

// Names what sits at `offset` (from the kernel's extended ack) inside the refused message:
// for a rule, the expression by position and name, e.g. "expression 2 (lookup)".
std::string locate(const Batch& batch, const Batch::Object& obj, uint32_t offset) {
    const char* msg = batch.bytes().data() + obj.offset;
    auto* nlh = reinterpret_cast<const nlmsghdr*>(msg);
    if (offset < sizeof(nlmsghdr) + sizeof(nfgenmsg) || offset >= nlh->nlmsg_len) return {};
    const char* at = msg + offset;
    std::string where;
    auto walk = [&](const char* start, const char* end, auto&& on_attr) {
        while (start + sizeof(nlattr) <= end) {
            auto* a = reinterpret_cast<const nlattr*>(start);
            if (a->nla_len < sizeof(nlattr) || start + a->nla_len > end) return;
            on_attr(a, start, start + a->nla_len);
            start += NLA_ALIGN(a->nla_len);
        }
    };
    walk(msg + sizeof(nlmsghdr) + sizeof(nfgenmsg), msg + nlh->nlmsg_len,
         [&](const nlattr* a, const char* b, const char* e) {
             if (at < b || at >= e) return;
             where = "attribute " + std::to_string(a->nla_type & NLA_TYPE_MASK);
             if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE ||
                 (a->nla_type & NLA_TYPE_MASK) != NFTA_RULE_EXPRESSIONS)
                 return;
             int index = 0;
             walk(b + NLA_HDRLEN, e, [&](const nlattr*, const char* eb, const char* ee) {
                 ++index;
                 if (at < eb || at >= ee) return;
                 std::string name;
                 walk(eb + NLA_HDRLEN, ee, [&](const nlattr* x, const char* xb, const char* xe) {
                     if ((x->nla_type & NLA_TYPE_MASK) == NFTA_EXPR_NAME)
                         name.assign(
                             xb + NLA_HDRLEN,
                             strnlen(xb + NLA_HDRLEN, static_cast<size_t>(xe - xb) - NLA_HDRLEN));
                 });
                 where = "expression " + std::to_string(index) +
                         (name.empty() ? "" : " (" + name + ")");
             });
         });
    return where;
}

} // namespace

void commit(NetlinkSocket& sock, const Batch& batch) {
    sock.set_buffers(batch.bytes().size() * 2 + (1 << 20));
    sock.send(batch.bytes().data(), batch.bytes().size());

    sock.seq_used_until(batch.end_seq());
    auto ours = [&](uint32_t seq) {
        return seq - batch.begin_seq() < batch.end_seq() - batch.begin_seq();
    };
    // Only the last message asked for an ack. The kernel answers a refused message whether or
    // not it asked, after a failed commit's error (at the batch's first message), and in message
    // order; so the last message's answer closes the batch's. A stale generation or a batch the
    // kernel could not take is refused at the first message and nothing else answers.
    const uint32_t last = batch.objects().empty() ? batch.begin_seq() : batch.objects().back().seq;
    std::vector<Refusal> refused;
    for (bool closed = false; !closed;) {
        auto buf = sock.receive(refused.empty() ? 10000 : 50);
        if (!buf) {
            if (refused.empty())
                throw Error(ExitCode::internal, "netlink",
                            "no answer from the kernel to the batch");
            break;
        }
        int len = static_cast<int>(buf->size());
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf->data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            // Answers to earlier requests still queued are not about this batch.
            if (nlh->nlmsg_type != NLMSG_ERROR || !ours(nlh->nlmsg_seq) ||
                nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
                continue;
            auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
            if (nlh->nlmsg_seq == last) closed = true;
            if (err->error == 0) continue;
            Refusal r;
            r.seq = nlh->nlmsg_seq;
            r.error = -err->error;
            read_ext_ack(nlh, r);
            refused.push_back(r);
        }
        if (!refused.empty() && refused.front().error == ERESTART) break;
    }
    if (refused.empty()) return;
    const Refusal& first = refused.front();
    if (first.error == ERESTART)
        throw GenerationChanged(ExitCode::kernel_refused, "commit",
                                "the ruleset changed while awf-net was deciding");
    const Batch::Object* obj = batch.find(first.seq);
    std::string what = std::strerror(first.error);
    if (!first.message.empty()) what += ": " + first.message;
    if (first.offset && obj) {
        std::string at = locate(batch, *obj, first.offset);
        if (!at.empty()) what += " at " + at;
    }
    if (refused.size() > 1) what += "; " + std::to_string(refused.size() - 1) + " more refused";
    throw Error(ExitCode::kernel_refused,
                "kernel refused " + (obj ? obj->what : "seq " + std::to_string(first.seq)), what);
}

} // namespace awf
