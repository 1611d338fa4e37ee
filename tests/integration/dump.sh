#!/usr/bin/env bash
# dump: what is installed, from the kernel (decoded and lifted back into the model).
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
a=$p-a
b=$p-b
make_ns "$a"
make_ns "$b"

out=$("$AWF" dump --netns "$a")
expect_eq "dump of a namespace without awf-net's table says so" "$out" "# no table inet awf in --netns $a"

"$AWF" apply --netns "$a" --enable-host-access --host-gateway 172.17.0.1 --allow-host-ports 3000-3010 --inbound none >/dev/null
"$AWF" dump --netns "$a" --no-counters > "/tmp/$p.nft"
check "dump --no-counters is accepted by nft -f" ip netns exec "$b" nft -f "/tmp/$p.nft"
expect_eq "and rebuilds the same ruleset" "$(ruleset_text "$b")" "$(ruleset_text "$a")"
expect_eq "dump --no-counters equals apply --dry-run --print nft" "$(cat "/tmp/$p.nft")" \
    "$("$AWF" apply --netns "$a" --dry-run --print nft --enable-host-access --host-gateway 172.17.0.1 --allow-host-ports 3000-3010 --inbound none)"

# Counters come from the kernel: UDP sends are denied and counted.
stand_in_interface "$a"
for _ in 1 2 3; do ip netns exec "$a" python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try: s.sendto(b"x", ("203.0.113.9", 9))
except OSError: pass'; done
case "$("$AWF" dump --netns "$a")" in
    *'meta l4proto udp counter packets 3 bytes '*' drop comment "deny udp"'*) pass "dump shows the kernel's counters" ;;
    *) fail "dump shows the kernel's counters" ;;
esac
n=$("$AWF" dump --netns "$a" --json | python3 -c 'import json,sys; d=json.load(sys.stdin)
print([r["counter"]["packets"] for c in d["table"]["chains"] for r in c["rules"] if r["comment"]=="deny udp"][0])')
expect_eq "dump --json carries the same counters" "$n" 3

ip netns exec "$a" nft add table ip nat
case "$("$AWF" dump --netns "$a" --all)" in
    *"also in this namespace: table ip nat"*) pass "dump --all names the other tables" ;;
    *) fail "dump --all names the other tables" ;;
esac
ip netns exec "$a" nft insert rule inet awf filter_output meta mark 7 accept
case "$("$AWF" dump --netns "$a")" in
    *"# not an awf-net rule: [meta"*) pass "a hand-made rule is shown raw, not guessed" ;;
    *) fail "a hand-made rule is shown raw, not guessed" ;;
esac
rm -f "/tmp/$p.nft"
finish
