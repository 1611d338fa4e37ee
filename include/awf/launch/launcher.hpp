// The one-line `awf-net run` carried out (run.md): records the run, builds its namespace and
// link, starts its Squid and resolver at the host end, installs the sandbox's policy, runs
// COMMAND in run's process sandbox, reports, and takes everything down again. `ps` and `gc`
// read the same records. Every kernel object and process a run makes is written to its record
// before it is made, so a run killed at any point is swept from the record alone, never by
// guessing at names.
#pragma once

#include "awf/kernel/transaction.hpp"
#include "awf/launch/launch_plan.hpp"
#include "awf/sandbox/sandbox.hpp"

#include <optional>
#include <string>
#include <vector>

namespace awf {

struct LaunchRequest {
    std::optional<std::string> name; // --name; generated when absent
    Cidr pool;                       // --subnet
    Policy policy;                   // the caller's POLICY and DOMAINS
    // --dns-servers as given: what the resolver at the host end asks; empty: the host's own
    // resolv.conf (a local stub such as 127.0.0.53 included: the resolver runs on the host).
    std::vector<IpAddr> upstream_dns;
    bool dns_given = false;
    SandboxSpec sandbox; // user, command, writable; its target is filled in here
    bool quiet = false;  // -q: no summary
    // --audit-log: one JSON object per line for every decision, written when the run ends;
    // opened (created, never through a link) before anything is built.
    std::string audit_log;
    // Interception (default): proxy-unaware clients' web traffic reaches Squid's intercept
    // ports, destination intact (the sandbox's policy routes it to the host end, whose wall
    // redirects it); --no-intercept: proxy-aware clients only.
    bool intercept = true;
};

// Returns COMMAND's exit status (128 + N when signal N ended it).
int launch_and_run(const LaunchRequest& request, const ApplyHooks& hooks);

struct LiveRun {
    std::string name;
    std::string netns;
    std::string sandbox_addr;
    std::string squid;    // ADDR:PORT
    long command_pid = 0; // 0 until COMMAND started
    std::string command;  // as given, space-joined
    bool alive = false;   // its awf-net still runs
};

// Every recorded run of this host; unreadable records are skipped, never shown.
std::vector<LiveRun> recorded_runs();

// Removes what runs whose awf-net is gone left behind; returns how many were swept.
int sweep_dead_runs();

} // namespace awf
