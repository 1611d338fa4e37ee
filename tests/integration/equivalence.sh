#!/usr/bin/env bash
# Equivalence with nft: for every policy of tests/data/policies.txt, `awf-net apply` into
# namespace A and `nft -f` of `awf-net apply --dry-run --print nft` into namespace B build the
# same kernel ruleset, compared as nft text and as bytecode (nft --debug=netlink).
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
a=$p-a
b=$p-b
make_ns "$a"
make_ns "$b"
# A's facts for discovery: an interface (a veth pair inside A), a default route, a hosts file.
stand_in_interface "$a"
mkdir -p "/etc/netns/$a"
printf '172.17.0.1 host.docker.internal\n' > "/etc/netns/$a/hosts"
# ... and the host awf-net runs in, which has that address (as a Docker host has it on docker0).
h=$p-h
make_ns "$h"
ip -n "$h" link add docker0 type veth peer name d1 && ip -n "$h" addr add 172.17.0.1/16 dev docker0

awf_host=(nsenter --net="/run/netns/$h" "$AWF")

while IFS='|' read -r name args; do
    name=$(echo "$name" | xargs)
    [[ -z "$name" || "$name" == \#* ]] && continue
    # shellcheck disable=SC2086
    out=$("${awf_host[@]}" apply --netns "$a" $args 2>&1) || { fail "$name: apply" "$out"; continue; }
    # shellcheck disable=SC2086
    "${awf_host[@]}" apply --netns "$a" --dry-run --print nft $args > "/tmp/$p.nft" 2>&1 || { fail "$name: dry-run" "$(cat /tmp/$p.nft)"; continue; }
    ip netns exec "$b" nft flush ruleset
    out=$(ip netns exec "$b" nft -f "/tmp/$p.nft" 2>&1) || { fail "$name: nft -f accepts --print nft" "$out"; continue; }
    pass "$name: nft -f accepts --print nft"
    if diff <(ruleset_stateless "$a") <(ruleset_stateless "$b") > "/tmp/$p.diff"; then
        pass "$name: nft list ruleset equal"
    else
        fail "$name: nft list ruleset equal" "$(head -20 /tmp/$p.diff)"
    fi
    if diff <(ruleset_bytecode "$a") <(ruleset_bytecode "$b") > "/tmp/$p.diff"; then
        pass "$name: bytecode equal"
    else
        fail "$name: bytecode equal" "$(head -20 /tmp/$p.diff)"
    fi
    ip netns exec "$a" nft flush ruleset
done < "$ROOT/tests/data/policies.txt"
rm -f "/tmp/$p.nft" "/tmp/$p.diff"
finish
