#!/usr/bin/env bash
# Transactions of policy.md: atomic create-or-replace, a refused batch changes nothing (exit 4),
# bad input changes nothing (exit 2), a missing target is exit 3, re-applying is a no-op that
# keeps the table, a tampered table is replaced, delete removes only awf-net's table.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
ns=$p-x
make_ns "$ns"
nsrun() { ip netns exec "$ns" "$@"; }
handle() { nsrun nft -a list table inet "${1:-awf}" | sed -n 's/^table inet [^ ]* { # handle \([0-9]*\)$/\1/p'; }
comment() { nsrun nft list table inet awf | sed -n 's/^\tcomment "\(.*\)"$/\1/p'; }

# A user's own table, present before awf-net and never touched by it.
nsrun nft -f - <<'NFT'
table ip user_table {
    chain c { type filter hook output priority 10; policy accept; ip daddr 192.0.2.1 counter drop; }
}
NFT

P1=(--allow-host-ports 8080)
P2=(--allow-host-ports 9090 --blocked-action drop)
digest() { "$AWF" apply --netns "$ns" --dry-run --print json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["comment"])'; }

expect_exit "apply P1 into a namespace without a policy" 0 "$AWF" apply --netns "$ns" "${P1[@]}"
expect_eq "P1 installed with its digest" "$(comment)" "$(digest "${P1[@]}")"
before=$(ruleset_text "$ns")
# The recorded digest is keyed with a root-only host key, made on first use.
case "$(comment)" in *" hmac-sha256:"*) pass "the recorded digest is an HMAC under the host key" ;; *) fail "the recorded digest is an HMAC under the host key" "$(comment)" ;; esac
expect_eq "the host key is root's alone" "$(stat -c '%u %a %s' /var/lib/awf-net/digest.key)" "0 600 32"

# A batch the kernel refuses at its last object: nothing changes, exit 4, the object is named.
out=$(AWF_FAULT=invalid-object "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "refused batch exits 4" "$rc" 4
case "$out" in
    *"kernel refused rule "*" of chain filter_input: No such file or directory at expression 2 (lookup)"*) pass "refusal names the failing object and expression" ;;
    *) fail "refusal names the failing object" "$out" ;;
esac
expect_eq "refused batch leaves the ruleset byte-identical" "$(ruleset_text "$ns")" "$before"
# Refused mid-batch, at a message that asked for no ack (only the batch's last one does): the
# kernel still answers it, so the same exit and naming, not a wait for a missing answer.
out=$(AWF_FAULT=invalid-middle-object "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "refused mid-batch exits 4" "$rc" 4
case "$out" in
    *"kernel refused rule 1 of chain filter_input: No such file or directory at expression 2 (lookup)"*) pass "mid-batch refusal names the failing object and expression" ;;
    *) fail "mid-batch refusal names the failing object and expression" "$out" ;;
esac
expect_eq "refused mid-batch leaves the ruleset byte-identical" "$(ruleset_text "$ns")" "$before"

# A failed read-back after the commit restores the previous state and exits 5.
out=$(AWF_FAULT=fail-readback "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "failed read-back exits 5" "$rc" 5
case "$out" in *"previous state restored"*) pass "failed read-back says it restored" ;; *) fail "failed read-back says it restored" "$out" ;; esac
expect_eq "failed read-back restores the previous ruleset" "$(ruleset_text "$ns")" "$before"

# A concurrent writer between awf-net's read and its commit: the kernel refuses the stale batch
# (generation guard) and awf-net decides again; after too many, it gives up with exit 4.
out=$(AWF_FAULT=concurrent:1 "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "a concurrent change is retried, then applies" "$rc $(comment)" "0 $(digest "${P2[@]}")"
"$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null
before=$(ruleset_text "$ns")
out=$(AWF_FAULT=concurrent:8 "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "endless concurrent changes: exit 4" "$rc" 4
case "$out" in *"the ruleset changed while awf-net was deciding"*) pass "and it says why" ;; *) fail "and it says why" "$out" ;; esac
expect_eq "and the ruleset is unchanged" "$(ruleset_text "$ns")" "$before"

# A concurrent writer between the commit and the read-back: the read-back is inconclusive, not a
# failure; awf-net decides again and finds its table in place (no restore, exit 0).
"$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null
out=$(AWF_FAULT=concurrent-readback:1 "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "a change during the read-back is decided again, not restored" "$rc $(comment)" "0 $(digest "${P2[@]}")"
expect_exit "and the table verifies" 0 "$AWF" dump --netns "$ns"

# The same change after every commit, past the last attempt: each batch landed and was replaced
# at once by the other writer's change, so this apply's policy is not in place: exit 4, not 1.
"$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null
out=$(AWF_FAULT=concurrent-readback:8 "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "a commit replaced at once by another writer, every attempt: exit 4" "$rc" 4
case "$out" in *"a concurrent writer changed table inet awf right after awf-net's commit (8 attempts)"*) pass "and it says why" ;; *) fail "and it says why" "$out" ;; esac

# Answers to an abandoned request still queued on the socket (a dump cut short) are skipped by
# sequence number, not taken for the read-back's answers nor reported as a protocol error.
"$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null
out=$(AWF_FAULT=abandoned-dump "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "stale answers queued before the read-back are skipped" "$rc $(comment)" "0 $(digest "${P2[@]}")"

# A failed read-back whose restore is refused (another writer changed the ruleset just before):
# not "unchanged" (4) nor "restored" (5) but 1, saying so; the new table stays (deleting it would
# leave no policy at all).
"$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null
out=$(AWF_FAULT=fail-readback,concurrent-restore "$AWF_FAULTS" apply --netns "$ns" "${P2[@]}" 2>&1); rc=$?
expect_eq "a refused restore exits 1" "$rc" 1
case "$out" in *"restoring the previous state failed too"*"apply again"*) pass "and says the table is unverified" ;; *) fail "and says the table is unverified" "$out" ;; esac
expect_eq "and the new table is still there" "$(comment)" "$(digest "${P2[@]}")"
"$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null
before=$(ruleset_text "$ns")

# The installed binary carries no fault-injection flags.
expect_exit "production awf-net has no test-only flag" 2 "$AWF" apply --netns "$ns" "${P2[@]}" --test-fail-readback

# Bad input of every kind: exit 2 and the kernel untouched.
for bad in "--allow-host-ports 80,080" "--allow-host-ports 3000-3010,abc" "--squid 172.30.0.10" \
           "--dns-servers 8.8.8.300" "--inbound 10.0.0.1/8" "--bogus-flag 1" "--allow-host-ports"; do
    # shellcheck disable=SC2086
    expect_exit "bad input ($bad) exits 2" 2 "$AWF" apply --netns "$ns" $bad
done
conf=$(mktemp)
printf 'allow-host-ports = 8080\nnot-a-key = 1\n' > "$conf"
expect_exit "config file with an unknown key exits 2" 2 "$AWF" apply --netns "$ns" --config "$conf"
out=$(AWF_ALLOW_HOST_PORTS=3000-3010,0 "$AWF" apply --netns "$ns" --from-env 2>&1)
expect_eq "bad environment value is one line naming the variable, the field and the value" "$out" 'awf-net: error: AWF_ALLOW_HOST_PORTS: --allow-host-ports: "0": out of range 1-65535'
rm -f "$conf"
expect_eq "bad input leaves the ruleset byte-identical" "$(ruleset_text "$ns")" "$before"

expect_exit "missing --netns target exits 3" 3 "$AWF" apply --netns "$p-missing"
expect_exit "missing --pid target exits 3" 3 "$AWF" apply --pid 999999999
expect_exit "apply without a target exits 3" 3 "$AWF" apply
expect_exit "a file that is not a namespace exits 3" 3 "$AWF" apply --netns /etc/hostname
expect_exit "a namespace of another type exits 3" 3 "$AWF" apply --netns /proc/self/ns/mnt
fifo_dir=$(mktemp -d)
mkfifo "$fifo_dir/ns"
expect_exit "a FIFO as the namespace path is refused at once (exit 3)" 3 timeout 5 "$AWF" apply --netns "$fifo_dir/ns"
rm -rf "$fifo_dir"

# Hosts files: never through a link, only regular files; a public host.docker.internal (the
# container can write its own hosts file) is refused, not exempted.
# A private address must also be within the sandbox's reach (a subnet it has, its gateway) or an
# address of the host awf-net runs in: here the namespace has 172.17.0.0/16 on a link.
ip -n "$ns" link add d0 type veth peer name d1 && ip -n "$ns" addr add 172.17.0.5/16 dev d0 && ip -n "$ns" link set d0 up
hosts_dir=$(mktemp -d)
printf '172.17.0.1 host.docker.internal\n' > "$hosts_dir/hosts"
ln -s "$hosts_dir/hosts" "$hosts_dir/link"
printf '203.0.113.66 host.docker.internal\n' > "$hosts_dir/public"
expect_exit "a hosts file that is a symlink is refused (exit 3)" 3 \
    "$AWF" apply --netns "$ns" --enable-host-access --hosts-file "$hosts_dir/link"
expect_exit "a hosts file that is a directory is refused (exit 3)" 3 \
    "$AWF" apply --netns "$ns" --enable-host-access --hosts-file "$hosts_dir"
out=$("$AWF" apply --netns "$ns" --enable-host-access --hosts-file "$hosts_dir/public" 2>&1); rc=$?
expect_eq "a public host.docker.internal is refused (exit 2)" "$rc" 2
case "$out" in *203.0.113.66*"not in a private range"*) pass "and the error names the address" ;; *) fail "and the error names the address" "$out" ;; esac
expect_eq "refused discovery leaves the ruleset byte-identical" "$(ruleset_text "$ns")" "$before"
out=$("$AWF" apply --netns "$ns" --dry-run --print json --enable-host-access --hosts-file "$hosts_dir/hosts" --inbound none)
gw=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print([s["elements"] for s in d["sets"] if s["name"]=="gateways_v4"][0][0][0]["from"])')
expect_eq "discovery reads host.docker.internal from --hosts-file" "$gw" "ac110001"
# A FIFO is never opened (it would block): refused at once.
mkfifo "$hosts_dir/fifo"
expect_exit "a hosts file that is a FIFO is refused at once (exit 3)" 3 \
    timeout 5 "$AWF" apply --netns "$ns" --enable-host-access --hosts-file "$hosts_dir/fifo"
# A Squid name found in the target's hosts file gets the gateways' private-range check.
printf '203.0.113.9 squid.test\n' > "$hosts_dir/squid"
out=$("$AWF" apply --netns "$ns" --squid squid.test:3128 --hosts-file "$hosts_dir/squid" 2>&1); rc=$?
expect_eq "a public Squid address from the hosts file is refused (exit 2)" "$rc" 2
case "$out" in *squid.test*203.0.113.9*"private range"*) pass "and the error names name and address" ;; *) fail "and the error names name and address" "$out" ;; esac
printf '172.17.0.99 squid.test\n' > "$hosts_dir/squid"
expect_exit "a private one on the namespace's subnet is accepted (dry run)" 0 "$AWF" apply --netns "$ns" --dry-run --squid squid.test:3128 --hosts-file "$hosts_dir/squid"
# Private but elsewhere (another tenant's host, the operator's database): refused, unchanged.
printf '10.99.0.7 host.docker.internal\n10.99.0.8 squid.test\n' > "$hosts_dir/far"
out=$("$AWF" apply --netns "$ns" --enable-host-access --hosts-file "$hosts_dir/far" 2>&1); rc=$?
expect_eq "a private host.docker.internal out of the sandbox's reach is refused (exit 2)" "$rc" 2
case "$out" in *10.99.0.7*"on no subnet of the target, not its default gateway and not an address of this host"*) pass "and the error says where it may point" ;; *) fail "and the error says where it may point" "$out" ;; esac
out=$("$AWF" apply --netns "$ns" --squid squid.test:3128 --hosts-file "$hosts_dir/far" 2>&1); rc=$?
expect_eq "a private Squid address out of reach is refused (exit 2)" "$rc" 2
case "$out" in *squid.test*10.99.0.8*"on no subnet"*) pass "and the error names name and address" ;; *) fail "and the error names name and address" "$out" ;; esac
expect_eq "refused out-of-reach addresses leave the ruleset byte-identical" "$(ruleset_text "$ns")" "$before"
# The same address is accepted when it is the host's own (Docker's host.docker.internal names
# docker0's address for containers on other bridges): awf-net run from a stand-in host has it.
hostns=$p-h
make_ns "$hostns"
ip -n "$hostns" link add d0 type veth peer name d1 && ip -n "$hostns" addr add 10.99.0.7/32 dev d0 && ip -n "$hostns" link set d0 up
gw=$(ip netns exec "$hostns" "$AWF" apply --netns "$ns" --dry-run --print json --enable-host-access --hosts-file "$hosts_dir/far" --inbound none | python3 -c 'import json,sys; d=json.load(sys.stdin); print([s["elements"] for s in d["sets"] if s["name"]=="gateways_v4"][0][0][0]["from"])')
expect_eq "an address of the host awf-net runs in is accepted" "$gw" "0a630007"

# --pid: the container's hosts file is resolved inside its root. A directory link on the way
# (etc -> an absolute host path) would lead the host's walk out of the container: refused.
root_dir=$(mktemp -d)
mkdir -p "$root_dir/bin" "$hosts_dir/outside"
cp "$(command -v busybox)" "$root_dir/bin/busybox"
printf '172.17.0.9 host.docker.internal\n' > "$hosts_dir/outside/hosts"
ln -s "$hosts_dir/outside" "$root_dir/etc"
ip netns exec "$ns" chroot "$root_dir" /bin/busybox sleep 30 &
jailed=$!
CLEANUP_PIDS+=("$jailed")
sleep 0.2
out=$("$AWF" apply --pid "$jailed" --enable-host-access --dry-run 2>&1); rc=$?
expect_eq "a link in the container's path to its hosts file is refused (exit 3)" "$rc" 3
case "$out" in *"symbolic link"*) pass "and the error says why" ;; *) fail "and the error says why" "$out" ;; esac
# The same file as a real file inside the root is read.
rm "$root_dir/etc"; mkdir "$root_dir/etc"; cp "$hosts_dir/outside/hosts" "$root_dir/etc/hosts"
gw=$("$AWF" apply --pid "$jailed" --enable-host-access --dry-run --print json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([s["elements"] for s in d["sets"] if s["name"]=="gateways_v4"][0][0][0]["from"])')
expect_eq "the container's own hosts file is read inside its root" "$gw" "ac110009"
kill "$jailed" 2>/dev/null; wait "$jailed" 2>/dev/null
rm -rf "$root_dir"
rm -rf "$hosts_dir"

# Replace P1 by P2: only P2 remains.
h1=$(handle)
expect_exit "replace P1 by P2" 0 "$AWF" apply --netns "$ns" "${P2[@]}"
expect_eq "only P2 remains (its digest)" "$(comment)" "$(digest "${P2[@]}")"
case "$(nsrun nft list set inet awf web_ports)" in
    *9090*8080* | *8080*) fail "P1's ports are gone" ;;
    *9090*) pass "P1's ports are gone, P2's are in" ;;
    *) fail "P1's ports are gone, P2's are in" "$(nsrun nft list set inet awf web_ports)" ;;
esac
expect_eq "one awf table" "$(nsrun nft list tables | grep -c 'table inet awf')" 1
h2=$(handle)
[[ "$h1" != "$h2" ]] && pass "replacement is a new table (delete-and-add in one batch)" || fail "replacement is a new table" "$h1 $h2"

# Same policy again: nothing changes, same table handle.
before=$(nsrun nft -a list ruleset)
out=$("$AWF" apply --netns "$ns" "${P2[@]}")
expect_eq "re-apply reports unchanged" "${out%% *}" "unchanged"
expect_eq "re-apply keeps the table handle" "$(handle)" "$h2"
expect_eq "re-apply changes nothing" "$(nsrun nft -a list ruleset)" "$before"

# Tampering: a rule added by hand makes the table differ from its plan; apply replaces it.
nsrun nft insert rule inet awf filter_output ip daddr 203.0.113.99 accept
out=$("$AWF" apply --netns "$ns" "${P2[@]}")
expect_eq "tampered table (rule added) is replaced" "${out%% *}" "replaced"
nsrun nft list chain inet awf filter_output | grep -q 203.0.113.99 && fail "added rule is gone" || pass "added rule is gone"
nsrun nft delete element inet awf dangerous_ports '{ 22-23 }'
out=$("$AWF" apply --netns "$ns" "${P2[@]}")
expect_eq "tampered table (element deleted) is replaced" "${out%% *}" "replaced"

# The user's table was never touched.
case "$(nsrun nft list table ip user_table)" in
    *"ip daddr 192.0.2.1 counter packets 0 bytes 0 drop"*) pass "a foreign table survives every apply" ;;
    *) fail "a foreign table survives every apply" ;;
esac

# Delete: only awf's table goes; absent is not an error.
expect_exit "delete" 0 "$AWF" delete --netns "$ns"
expect_eq "awf table gone" "$(nsrun nft list tables | grep -c 'inet awf')" 0
expect_eq "foreign table kept" "$(nsrun nft list tables | grep -c 'ip user_table')" 1
out=$("$AWF" delete --netns "$ns")
expect_eq "delete of an absent table is not an error" "${out%% *}" "absent"

# A failed read-back on the first install leaves no table at all.
out=$(AWF_FAULT=fail-readback "$AWF_FAULTS" apply --netns "$ns" "${P1[@]}" 2>&1); rc=$?
expect_eq "failed read-back on first install exits 5" "$rc" 5
expect_eq "and leaves no awf table" "$(nsrun nft list tables | grep -c 'inet awf')" 0

# First install flushes conntrack; a replacement keeps it.
nsrun conntrack -I -p tcp -s 10.9.9.1 -d 10.9.9.2 --sport 1111 --dport 2222 --state ESTABLISHED -t 600 -u ASSURED >/dev/null 2>&1
expect_eq "conntrack entry present before the first install" "$(nsrun conntrack -L 2>/dev/null | grep -c 10.9.9.1)" 1
"$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null
expect_eq "first install flushed conntrack" "$(nsrun conntrack -L 2>/dev/null | grep -c 10.9.9.1)" 0
nsrun conntrack -I -p tcp -s 10.9.9.1 -d 10.9.9.2 --sport 1111 --dport 2222 --state ESTABLISHED -t 600 -u ASSURED >/dev/null 2>&1
"$AWF" apply --netns "$ns" "${P2[@]}" >/dev/null
expect_eq "replacement keeps admitted connections" "$(nsrun conntrack -L 2>/dev/null | grep -c 10.9.9.1)" 1

# IPv6: disable mode writes the sysctl last; block mode leaves it.
nsrun sysctl -qw net.ipv6.conf.all.disable_ipv6=0
"$AWF" apply --netns "$ns" --ipv6 block >/dev/null
expect_eq "block mode leaves IPv6 enabled" "$(nsrun sysctl -n net.ipv6.conf.all.disable_ipv6)" 0
"$AWF" apply --netns "$ns" --ipv6 disable >/dev/null
expect_eq "disable mode disables IPv6 in the target" "$(nsrun sysctl -n net.ipv6.conf.all.disable_ipv6)" 1
expect_eq "and not in the machine's own namespace" "$(sysctl -n net.ipv6.conf.all.disable_ipv6)" 0

# --pid targets the namespace of a process.
pidns=$p-y
make_ns "$pidns"
ip netns exec "$pidns" sleep 30 & CLEANUP_PIDS+=($!)
sleep 0.2
expect_exit "apply --pid" 0 "$AWF" apply --pid "$!"
expect_eq "--pid installed into that process's namespace" "$(ip netns exec "$pidns" nft list tables | grep -c 'inet awf')" 1
expect_eq "own namespace untouched" "$(nft list tables 2>/dev/null | grep -c 'inet awf')" 0
finish
