#include "awf/base/platform.hpp"

#include "awf/kernel/inspect.hpp"

#include "awf/base/host_key.hpp"
#include "awf/kernel/facts.hpp"
#include "awf/kernel/netlink_socket.hpp"
#include "awf/nft/decode.hpp"
#include "awf/nft/lift.hpp"

#include <linux/netfilter.h>
#include <linux/netlink.h>

namespace awf {

namespace {

Installed read_once(NetlinkSocket& nf, const std::string& table, bool all) {
    Installed out;
    out.awf_kernel = read_table(nf, table);
    if (out.awf_kernel) out.awf = lift(*out.awf_kernel);
    if (all)
        for (const auto& t : list_tables(nf)) {
            if (t.family == NFPROTO_INET && t.name == table) continue;
            if (auto k = read_table(nf, t.name, t.family)) out.others.push_back(lift(*k));
        }
    return out;
}

// A table is read in several dumps; a change between them would give a view the kernel never
// held. Bracketing the reads by the ruleset generation makes the view one state or a retry.
Installed read_here(const std::string& table, bool all) {
    NetlinkSocket nf(NETLINK_NETFILTER);
    for (int attempt = 1;; ++attempt) {
        try {
            uint32_t before = read_generation(nf);
            Installed out = read_once(nf, table, all);
            if (read_generation(nf) == before) return out;
            if (attempt == 5)
                throw GenerationChanged(ExitCode::internal, "read table inet " + table,
                                        "the ruleset kept changing while awf-net read it");
        } catch (const GenerationChanged&) {
            if (attempt == 5) throw;
        }
    }
}

} // namespace

ExplainContext read_explain_context(const Target& target) {
    auto read = [] {
        NetlinkSocket route(NETLINK_ROUTE);
        ExplainContext ctx;
        for (const auto& ia : interface_addresses(route)) {
            ctx.local.push_back(ia.local);
            if (ia.local.is_v4() && ia.prefix < 31)
                ctx.broadcast.push_back(Cidr::of(ia.local, ia.prefix).last());
        }
        return ctx;
    };
    if (target.empty()) return read();
    NamespaceHandle ns = NamespaceHandle::open(target);
    NamespaceScope in(ns);
    return read();
}

Installed read_installed(const Target& target, const std::string& table, bool all) {
    if (target.empty()) return read_here(table, all);
    NamespaceHandle ns = NamespaceHandle::open(target);
    NamespaceScope in(ns);
    return read_here(table, all);
}

Inspection inspect(const Target& target, const std::string& table, std::optional<Role> role,
                   bool all) {
    Inspection out;
    out.installed = read_installed(target, table, all);
    if (!out.installed.awf_kernel) return out;
    Verification& v =
        out.verification.emplace(verify(*out.installed.awf_kernel, load_host_key(false)));
    if (!v.inputs) return out;
    if (role && v.inputs->proxy_role != (*role == Role::proxy)) {
        v.differences.push_back(std::string("the table is the ") +
                                (v.inputs->proxy_role ? "proxy" : "sandbox") +
                                " side of intercept mode, not the " +
                                (*role == Role::proxy ? "proxy" : "sandbox") + " side");
        v.checked = true;
    }
    // Missing or pointing elsewhere, steered traffic is refused (fail closed): still not what
    // apply installed.
    if (v.inputs->intercept && !v.inputs->proxy_role) {
        out.steering = read_steering_in(target);
        for (auto& d : steering_differences(*out.steering, v.inputs->squid))
            v.differences.push_back(d);
    }
    return out;
}

} // namespace awf
