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

# Foreign tables: Docker's iptables-nft DNS redirect and a user's table, decoded as far as the
# model reaches and raw beyond that, never an error.
ip netns exec "$a" iptables-nft -t nat -A OUTPUT -d 127.0.0.11/32 -p udp --dport 53 -j DNAT --to-destination 127.0.0.11:5353
printf 'table ip user_table {\n set blocked { type ipv4_addr; elements = { 192.0.2.7 }; }\n chain c { type filter hook output priority 10; policy accept; ip daddr 192.0.2.1 counter drop; ip daddr @blocked counter drop; jump sub; }\n chain sub { counter; }\n}\n' | ip netns exec "$a" nft -f -
out=$("$AWF" dump --netns "$a" --all); rc=$?
expect_eq "dump --all with foreign tables exits 0" "$rc" 0
case "$out" in *"table ip nat {"*"type nat hook output priority -100; policy accept;"*"[ target name DNAT rev 2 ]"*)
    pass "iptables-nft's table is decoded, its xt target shown raw" ;; *) fail "iptables-nft's table is decoded" "$out" ;; esac
case "$out" in *"table ip user_table {"*"elements = { 192.0.2.7 }"*"ip daddr 192.0.2.1 counter packets 0 bytes 0 drop"*"[ immediate reg 0 jump sub ]"*)
    pass "a user's table is decoded as far as the model reaches" ;; *) fail "a user's table is decoded as far as the model reaches" "$out" ;; esac
n=$("$AWF" dump --netns "$a" --all --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["other_tables"]))')
expect_eq "dump --all --json carries the other tables" "$n" 2
case "$("$AWF" dump --netns "$a")" in
    *"# verified: equal to what its recorded policy plans"*) pass "an untouched table is verified" ;;
    *) fail "an untouched table is verified" ;;
esac
case "$("$AWF" dump --netns "$a")" in
    *"squid 172.30.0.10:3128; redirected TCP ports 80,443,3000-3010"*"host gateways 172.17.0.1 (TCP ports 80,443,3000-3010)"*"inbound none"*)
        pass "dump shows the inputs read back from the sets and rules" ;;
    *) fail "dump shows the inputs read back from the sets and rules" "$("$AWF" dump --netns "$a" | head -10)" ;;
esac

# Tampering, each kind on a fresh install: exit 6 and the difference shown.
policy=(--enable-host-access --host-gateway 172.17.0.1 --allow-host-ports 3000-3010 --inbound none)
tamper_case() { # tamper_case NAME EXPECTED-TEXT NFT-COMMAND...
    local name=$1 want=$2; shift 2
    "$AWF" delete --netns "$a" >/dev/null
    "$AWF" apply --netns "$a" "${policy[@]}" >/dev/null
    ip netns exec "$a" nft "$@"
    out=$("$AWF" dump --netns "$a" 2>&1); rc=$?
    expect_eq "tampering ($name): dump exits 6" "$rc" 6
    case "$out" in *"TAMPERED"*"$want"*) pass "tampering ($name): the difference is shown" ;;
        *) fail "tampering ($name): the difference is shown" "$(echo "$out" | grep '^#' | head -12)" ;; esac
}
tamper_case "rule added" "not in the plan" insert rule inet awf filter_output meta mark 7 accept
tamper_case "rule deleted" "missing" delete rule inet awf filter_output handle \
    "$(ip netns exec "$a" nft -a list chain inet awf filter_output 2>/dev/null | sed -n 's/.*comment "deny udp" # handle \([0-9]*\)/\1/p')"
tamper_case "element added" "no longer match the recorded policy digest" add element inet awf web_ports '{ 8443 }'
tamper_case "element deleted" "no longer match the recorded policy digest" delete element inet awf dangerous_ports '{ 5432 }'
out=$("$AWF" dump --netns "$a" --json); rc=$?
expect_eq "dump --json of a tampered table exits 6 too" "$rc" 6
expect_eq "and says verified: false" "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["verified"])')" "False"

"$AWF" delete --netns "$a" >/dev/null
"$AWF" apply --netns "$a" "${policy[@]}" >/dev/null
ip netns exec "$a" nft insert rule inet awf filter_output meta skuid 0 accept
case "$("$AWF" dump --netns "$a")" in
    *"# not an awf-net rule: [ meta load 10 => reg 1 ]"*) pass "a hand-made rule is shown raw, not guessed" ;;
    *) fail "a hand-made rule is shown raw, not guessed" ;;
esac
out=$("$AWF" apply --netns "$a" "${policy[@]}")
expect_eq "apply replaces the tampered table" "${out%% *}" "replaced"
expect_exit "after which dump verifies again (exit 0)" 0 "$AWF" dump --netns "$a"

# A namespace with only foreign tables: a clear answer, exit 0.
"$AWF" delete --netns "$a" >/dev/null
out=$("$AWF" dump --netns "$a" --all); rc=$?
expect_eq "only foreign tables: exit 0" "$rc" 0
case "$out" in *"# no table inet awf"*"also in this namespace: table ip nat"*"table ip user_table"*) pass "only foreign tables: says so and shows them" ;;
    *) fail "only foreign tables: says so and shows them" "$out" ;; esac
rm -f "/tmp/$p.nft"
finish
