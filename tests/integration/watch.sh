#!/usr/bin/env bash
# watch: one line per denied packet from the policy's NFLOG group, each of the four prefixes;
# the rate limit caps events while the counters count every packet; a held group is reported.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
ns=$p-w
make_ns "$ns"
stand_in_interface "$ns"
"$AWF" apply --netns "$ns" >/dev/null
out_file=$(mktemp)
err_file=$(mktemp)

# Runs in this shell (not a command substitution), so $watch_pid stays ours to wait for.
start_watch() { # start_watch ARGS...: background watch, waits until it has bound the group
    "$AWF" watch --netns "$ns" "$@" > "$out_file" 2> "$err_file" &
    watch_pid=$!
    CLEANUP_PIDS+=("$watch_pid")
    for _ in $(seq 50); do grep -q watching "$err_file" && return 0; sleep 0.1; done
    return 1
}
udp_send() { # udp_send N: N datagrams to a denied destination
    ip netns exec "$ns" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[1])):
    try: s.sendto(b"x", ("203.0.113.9", 9999))
    except OSError: pass' "$1"
}
icmp_send() {
    ip netns exec "$ns" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
try: s.sendto(b"\x08\x00\xf7\xff\x00\x00\x00\x00", ("203.0.113.9", 0))
except OSError: pass'
}

start_watch --json --count 4 --timeout 10 && pass "watch binds the policy's group" || fail "watch binds the policy's group"
ip netns exec "$ns" curl -sS --max-time 2 telnet://203.0.113.9:22 >/dev/null 2>&1
ip netns exec "$ns" curl -sS --max-time 2 telnet://203.0.113.9:9999 >/dev/null 2>&1
udp_send 1
icmp_send
wait "$watch_pid"
event() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["prefix"] == sys.argv[2]:
        print(e["protocol"], e["destination"], e.get("port", "-"), e.get("uid", "-")); break' "$out_file" "$1"; }
expect_eq "event: dangerous port" "$(event '[FW_BLOCKED_DANGEROUS_PORT] ')" "tcp 203.0.113.9 22 0"
expect_eq "event: other TCP" "$(event '[FW_BLOCKED_TCP] ')" "tcp 203.0.113.9 9999 0"
expect_eq "event: UDP" "$(event '[FW_BLOCKED_UDP_AGENT] ')" "udp 203.0.113.9 9999 0"
expect_eq "event: other protocols (ICMP)" "$(event '[FW_BLOCKED_OTHER] ')" "icmp 203.0.113.9 - 0"
expect_eq "one event per denied packet" "$(wc -l < "$out_file")" 4

# The uid of the sending socket (NFULNL_CFG_F_UID): a denied packet of an unprivileged user.
start_watch --json --count 1 --timeout 10 && pass "watch binds for the uid check" || fail "watch binds for the uid check"
ip netns exec "$ns" setpriv --reuid 65534 --regid 65534 --clear-groups \
    curl -sS --max-time 2 telnet://203.0.113.9:9999 >/dev/null 2>&1
wait "$watch_pid"
expect_eq "the event names the sender's uid" "$(event '[FW_BLOCKED_TCP] ')" "tcp 203.0.113.9 9999 65534"

# A flood: the rate limit (10/minute, burst 20) caps the events, never the counting.
before=$(counter "$ns" "deny udp")
start_watch --json --timeout 3 && pass "watch binds again" || fail "watch binds again"
udp_send 200
wait "$watch_pid"
after=$(counter "$ns" "deny udp")
events=$(grep -c FW_BLOCKED_UDP_AGENT "$out_file")
expect_eq "every flooded packet is denied and counted" "$((after - before))" 200
[[ $events -ge 1 && $events -le 20 ]] && pass "the rate limit caps the events ($events of 200)" || \
    fail "the rate limit caps the events" "$events events"

# A group someone else holds is reported as such. The holder's timeout is long (it is killed
# below): on a loaded machine its own start can take seconds, and a short one could expire
# before the second watch tries the group.
start_watch --timeout 60 && pass "a first watch holds the group" || fail "a first watch holds the group"
out=$("$AWF" watch --netns "$ns" --timeout 1 2>&1); rc=$?
expect_eq "a second watch on a held group exits 3" "$rc" 3
case "$out" in *"already held by another listener"*) pass "and says the group is held" ;; *) fail "and says the group is held" "$out" ;; esac
kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null

"$AWF" apply --netns "$ns" --no-log >/dev/null
expect_exit "watch of a policy that logs nothing exits 3" 3 "$AWF" watch --netns "$ns" --timeout 1
rm -f "$out_file" "$err_file"
finish
