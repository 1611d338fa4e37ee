#!/usr/bin/env bash
# cli.md: awf-net never changes the network namespace it runs in (on a host, the host's). Every
# command that changes a namespace compares the target's identity with its own, however the
# target is named, and refuses with exit 3. Run inside a namespace that stands in for the host,
# so that a refusal that fails lands there, never in the machine's own.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
hostns=$p-h
make_ns "$hostns"
stand_in_interface "$hostns"
mnt=$(mktemp -d)
trap 'umount "$mnt/ns" 2>/dev/null; rm -rf "$mnt"; cleanup' EXIT
touch "$mnt/ns"
mount --bind "/run/netns/$hostns" "$mnt/ns"
in_host() { ip netns exec "$hostns" "$@"; }
before=$(ruleset_text "$hostns")
v6_before=$(in_host sysctl -n net.ipv6.conf.all.disable_ipv6)

# A target that is awf-net's own namespace, named every way a newcomer might.
refused() { # refused NAME CMD... (run inside the stand-in host)
    local name=$1; shift
    local out rc
    out=$(in_host "$@" 2>&1); rc=$?
    if [[ $rc -eq 3 && $out == *"is awf-net's own network namespace"* ]]; then pass "$name"
    else fail "$name" "exit $rc: $out"; fi
}
refused "apply --netns /proc/self/ns/net is refused (exit 3)" "$AWF" apply --netns /proc/self/ns/net
refused "apply --pid \$\$ (the calling shell) is refused" sh -c 'exec "$0" apply --pid $$' "$AWF"
refused "apply --netns /proc/\$\$/ns/net is refused" sh -c 'exec "$0" apply --netns /proc/$$/ns/net' "$AWF"
refused "apply --netns NAME of its own namespace is refused" "$AWF" apply --netns "$hostns"
refused "apply --netns of a bind mount of its own namespace is refused" "$AWF" apply --netns "$mnt/ns"
refused "apply --netns //proc/self/ns/net is refused" "$AWF" apply --netns //proc/self/ns/net
refused "run --pid \$\$ is refused before COMMAND runs" sh -c 'exec "$0" run --pid $$ --as-root -- true' "$AWF"
refused "delete --netns /proc/self/ns/net is refused" "$AWF" delete --netns /proc/self/ns/net
expect_eq "the stand-in host's ruleset is unchanged" "$(ruleset_text "$hostns")" "$before"
expect_eq "its IPv6 setting is unchanged" "$(in_host sysctl -n net.ipv6.conf.all.disable_ipv6)" "$v6_before"
# What stays allowed: another namespace, and reading one's own.
other=$p-o
make_ns "$other"
stand_in_interface "$other"
check "apply into another namespace from the stand-in host still works" in_host "$AWF" apply --netns "$other" --ipv6 block
check "dump of its own namespace still works (reading changes nothing)" in_host "$AWF" dump --all
finish
