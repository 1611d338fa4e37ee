#!/usr/bin/env bash
# awf-net run: the policy is installed, the command runs inside the target with no capability in
# any set, no_new_privs, /proc/sys read-only, as the requested user, and cannot change the
# policy; its exit status and signals pass through; errors before exec are awf-net's.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
ns=$p-r
make_ns "$ns"
stand_in_interface "$ns"
mkdir -p "/etc/netns/$ns"
printf '172.17.0.1 host.docker.internal\n' > "/etc/netns/$ns/hosts"
run_root() { "$AWF" run --netns "$ns" --as-root -- "$@"; }

out=$(run_root sh -c 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status' 2>&1)
expect_eq "no capability in any set, no_new_privs set" "$(echo "$out" | awk '{print $2}' | sort -u | tr '\n' ' ')" \
    "0000000000000000 1 "
expect_eq "the policy is installed before the command runs" "$(ip netns exec "$ns" nft list tables | grep -c 'inet awf')" 1
expect_eq "the command runs in the target namespace" "$(run_root ip -o -4 addr show dev v0 | awk '{print $4}')" "172.30.0.20/24"
expect_eq "the target's /etc/netns files cover /etc, as with ip netns exec" "$(run_root cat /etc/hosts)" "172.17.0.1 host.docker.internal"

before=$(ruleset_text "$ns")
for attempt in "nft flush ruleset" "nft delete table inet awf" \
               "nft insert rule inet awf filter_output accept" "nft add table inet mine" \
               "iptables-nft -F" "ip route add 10.99.0.0/16 dev lo" "ip link set v0 down" \
               "sysctl -w net.ipv6.conf.all.disable_ipv6=0" \
               "sh -c 'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet'" \
               "sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/disable_ipv6'"; do
    # shellcheck disable=SC2086
    if eval run_root $attempt >/dev/null 2>&1; then fail "as root without capabilities, '$attempt' is refused"
    else pass "as root without capabilities, '$attempt' is refused"; fi
done
expect_eq "the policy is unchanged after every attempt" "$(ruleset_text "$ns")" "$before"
expect_eq "route_localnet still 0" "$(ip netns exec "$ns" sysctl -n net.ipv4.conf.all.route_localnet)" 0
out=$(run_root python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try: s.sendto(b"x", ("203.0.113.9", 9999)); print("sent")
except OSError as e: print(e.errno)')
expect_eq "the command's traffic meets the policy (UDP denied: EPERM)" "$out" 1

expect_eq "--user takes effect" "$("$AWF" run --netns "$ns" --user nobody -- id -u)" 65534
expect_eq "--user USER:GROUP takes effect" "$("$AWF" run --netns "$ns" --user nobody:nogroup -- id -g)" 65534
expect_eq "--user resets supplementary groups" "$("$AWF" run --netns "$ns" --user 1000:1000 -- id -G)" 1000
expect_eq "--user 0 is root by number" "$("$AWF" run --netns "$ns" --user 0 -- id -u)" 0

# Root without capabilities still owns root's files: every mount is read-only for the command
# (mount options of each mount otherwise kept) but the --writable paths.
marker=/etc/awf-net-run-test-$p
out=$(run_root sh -c "touch $marker" 2>&1); rc=$?
[[ $rc -ne 0 && ! -e $marker ]] && pass "as root, the host's /etc cannot be written" || fail "as root, the host's /etc cannot be written" "$out"
rm -f "$marker"
case "$out" in *"Read-only file system"*) pass "and it is the read-only mount that refuses" ;; *) fail "and it is the read-only mount that refuses" "$out" ;; esac
sum=$(sha256sum < "$AWF")
out=$(run_root sh -c "cat /bin/true > '$AWF'" 2>&1)
expect_eq "as root, awf-net's own binary cannot be replaced" "$(sha256sum < "$AWF")" "$sum"
work=$(mktemp -d)
expect_exit "a --writable path can be written" 0 "$AWF" run --netns "$ns" --as-root --writable "$work" -- sh -c "echo ok > '$work/f'"
expect_eq "and the write landed" "$(cat "$work/f" 2>/dev/null)" "ok"
expect_exit "but only that path" 1 "$AWF" run --netns "$ns" --as-root --writable "$work" -- sh -c "touch '$marker'"
rm -rf "$work" "$marker"
expect_exit "a --writable that is not an absolute existing path is exit 2" 2 "$AWF" run --netns "$ns" --as-root --writable relative -- true
expect_eq "the machine's own / is still writable afterwards" "$(findmnt -no OPTIONS / | tr ',' '\n' | grep -cx rw)" 1

run_root sh -c 'exit 42'
expect_eq "the command's exit status passes through" "$?" 42
run_root sh -c 'kill -TERM $$'
expect_eq "a signal that kills the command passes through (128+15)" "$?" 143

expect_exit "a bad policy is exit 2, before anything runs" 2 "$AWF" run --netns "$ns" --as-root --allow-host-ports 080 -- true
expect_exit "a missing target is exit 3" 3 "$AWF" run --netns "$p-missing" --as-root -- true
expect_exit "an unknown user is exit 2" 2 "$AWF" run --netns "$ns" --user no-such-user-here -- true
expect_exit "neither --user nor --as-root is exit 2" 2 "$AWF" run --netns "$ns" -- true
expect_exit "no command is exit 2" 2 "$AWF" run --netns "$ns" --as-root --
expect_exit "a command that does not exist is 127" 127 run_root no-such-command-here
finish
