#!/usr/bin/env bash
# The README's first command, tools/demo, works as written and cleans up after itself.
source "$(dirname "$0")/lib.sh"

out=$(AWF_BUILD_DIR="$(dirname "$AWF")" "$ROOT/tools/demo" 2>&1); rc=$?
expect_eq "tools/demo exits 0" "$rc" 0
case "$out" in *"installed table inet awf"*"unchanged table inet awf"*) pass "demo installs, then re-applies as unchanged" ;;
    *) fail "demo installs, then re-applies as unchanged" ;; esac
case "$out" in *"origin 80"*) pass "demo shows an allowed request through Squid" ;; *) fail "demo shows an allowed request through Squid" ;; esac
case "$out" in *"HTTP 400 from squid"*) pass "demo shows a direct request landing on Squid" ;; *) fail "demo shows a direct request landing on Squid" ;; esac
case "$out" in *"Failed to connect to 203.0.113.10 port 22"*) pass "demo shows a blocked direct connection" ;; *) fail "demo shows a blocked direct connection" ;; esac
case "$out" in *'counter packets '*' reject with tcp reset comment "deny dangerous port"'*) pass "demo prints awf-net dump with counters" ;;
    *) fail "demo prints awf-net dump with counters" ;; esac
case "$out" in *"tcp/203.0.113.10:443  =>  redirected to Squid at 172.30.0.10:3128"*"tcp/203.0.113.10:22  =>  rejected"*)
    pass "demo explains one allowed and one blocked flow" ;; *) fail "demo explains one allowed and one blocked flow" ;; esac
case "$out" in *"[FW_BLOCKED_DANGEROUS_PORT] tcp 172.30.0.20 -> 203.0.113.10:22"*) pass "demo watches a denied packet" ;;
    *) fail "demo watches a denied packet" ;; esac
case "$out" in *"# verified: equal to what its recorded policy plans"*) pass "demo's dump verifies the table" ;;
    *) fail "demo's dump verifies the table" ;; esac
left=$(ip netns list | grep -c '^demo' || true)
expect_eq "demo leaves no namespace behind" "$left" 0
finish
