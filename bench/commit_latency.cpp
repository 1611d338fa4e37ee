#include "awf/base/platform.hpp"

// In-process commit latency: plan + encode + commit + read back + compare of the default policy,
// alternating with a slightly different one so that every iteration really replaces the table,
// on one long-lived netfilter socket in the target namespace.
// usage: commit-latency NETNS ITERATIONS [CONFIG]   -> one JSON object on stdout
#include "awf/base/error.hpp"
#include "awf/kernel/netlink_socket.hpp"
#include "awf/kernel/netns.hpp"
#include "awf/kernel/transaction.hpp"
#include "awf/policy/policy_options.hpp"

#include <linux/netlink.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        std::fprintf(stderr, "usage: commit-latency NETNS ITERATIONS [CONFIG]\n");
        return 2;
    }
    try {
        awf::Target target;
        target.netns = argv[1];
        int n = std::stoi(argv[2]);
        awf::Policy a = awf::Policy::defaults();
        if (argc == 4) {
            awf::RawOptions raw = awf::raw_from_config_file(argv[3]);
            a = awf::policy_from_raw(raw);
        }
        awf::Policy b = a;
        b.dangerous_ports |= awf::PortSet{{9999, 9999}};
        auto ra = awf::resolve_for(a, target), rb = awf::resolve_for(b, target);
        awf::NamespaceHandle ns = awf::NamespaceHandle::open(target);
        awf::NamespaceScope in(ns);
        awf::NetlinkSocket nf(NETLINK_NETFILTER);
        awf::apply_on(nf, ra,
                      "bench"); // the first install (with its conntrack flush) is not measured
        std::vector<double> total, commit, plan, verify;
        for (int i = 0; i < n; ++i) {
            auto r = awf::apply_on(nf, i % 2 ? ra : rb, "bench");
            total.push_back(r.timings.total_ms * 1000);
            commit.push_back(r.timings.commit_ms * 1000);
            plan.push_back(r.timings.plan_ms * 1000);
            verify.push_back(r.timings.verify_ms * 1000);
        }
        auto pct = [](std::vector<double> v, double p) {
            std::sort(v.begin(), v.end());
            return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
        };
        std::printf(
            "{\"iterations\": %d, \"p50_us\": %.1f, \"p99_us\": %.1f, \"commit_p50_us\": %.1f, "
            "\"plan_encode_p50_us\": %.1f, \"verify_p50_us\": %.1f}\n",
            n, pct(total, 0.5), pct(total, 0.99), pct(commit, 0.5), pct(plan, 0.5),
            pct(verify, 0.5));
    } catch (const awf::Error& e) {
        std::fprintf(stderr, "commit-latency: %s\n", e.what());
        return 1;
    }
    return 0;
}
