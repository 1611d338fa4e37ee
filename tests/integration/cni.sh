#!/usr/bin/env bash
# awf-net as a chained CNI plugin behind the real bridge and host-local plugins of Debian's
# containernetworking-plugins, run by tests/integration/cni_runtime.py (what a runtime does with
# a conflist). The "node" is a namespace of this test: the bridge, the host-local allocations
# and the plugins' own namespace are its, never the machine's.
source "$(dirname "$0")/lib.sh"

[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || {
    fail "containernetworking-plugins is installed"; finish; exit 1; }
p=$(new_prefix)
node=$p-node
make_ns "$node"
work=$(mktemp -d)
trap 'rm -rf "$work"; cleanup' EXIT
mkdir -p "$work/bin" "$work/policies" "$work/ipam" "$work/cache" "$work/trace"
ln -s /usr/lib/cni/bridge "$work/bin/bridge"
ln -s /usr/lib/cni/host-local "$work/bin/host-local"
# The runtime execs the plugin type "awf-net" from its CNI bin dir: a link to the binary.
ln -s "$AWF" "$work/bin/awf-net"
export CNI_PATH=$work/bin
printf 'dns-servers = 10.99.0.1\n' > "$work/policies/default.conf"
printf 'dns-servers = 10.99.0.1\nallow-host-ports = 8080\ninbound = none\n' > "$work/policies/agent.conf"
printf 'TOP-SECRET-cni\n' > "$work/secret"
# Squid's own namespace's policy (intercept's proxy role): it filters nothing where it lands.
printf 'role = proxy\nintercept = true\n' > "$work/policies/squid.conf"

# conflist VERSION NAME AWF_ENTRY_JSON|"": the bridge (10.99.0.1 on the node's br) chained with
# awf-net's entry.
conflist() {
    python3 - "$work" "$@" <<'PY'
import json, sys
work, version, name, awf = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
plugins = [{"type": "bridge", "bridge": "awfbr0", "isGateway": True, "ipMasq": False,
            "ipam": {"type": "host-local", "dataDir": work + "/ipam", "routes": [{"dst": "0.0.0.0/0"}],
                     "ranges": [[{"subnet": "10.99.0.0/24", "gateway": "10.99.0.1"}]]}}]
if awf:
    plugins.append(json.loads(awf))
path = f"{work}/{name}.conflist"
json.dump({"cniVersion": version, "name": name, "plugins": plugins}, open(path, "w"))
print(path)
PY
}
entry='{"type":"awf-net","policy":"default","policyDir":"'$work/policies'","capabilities":{"io.kubernetes.cri.pod-annotations":true}}'
plain=$(conflist 1.0.0 plain "")
awfnet=$(conflist 1.0.0 awfnet "$entry")
# cni LIST COMMAND CONTAINER [NETNS-NAME] [runtime options]: run in the node's namespace.
cni() {
    local list=$1 cmd=$2 id=$3 ns=${4:-}; shift 4 2>/dev/null || shift $#
    ip netns exec "$node" timeout 60 python3 "$ROOT/tests/integration/cni_runtime.py" "$list" "$cmd" "$id" \
        ${ns:+/run/netns/$ns} --cache "$work/cache" "$@"
}
# The CNI error awf-net printed: "CODE MSG".
cni_error() { python3 -c 'import json,sys; e=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(e["code"], e["msg"])'; }
has_table() { ip netns exec "$1" nft list table inet awf >/dev/null 2>&1 && echo yes || echo no; }

# A listener on the bridge's gateway, and a probe from the container to it.
ip netns exec "$node" python3 "$ROOT/tests/integration/origin.py" "$work/origin.log" raw:9999 --bind 0.0.0.0 >/dev/null 2>&1 &
CLEANUP_PIDS+=($!)
probe() { ip netns exec "$1" timeout 5 python3 -c '
import socket, sys
try:
    socket.create_connection(("10.99.0.1", 9999), timeout=2).close(); print("connects")
except OSError as e:
    print("refused" if isinstance(e, ConnectionRefusedError) else "fails")'; }

# Without awf-net in the chain the probe connects: what awf-net blocks below answers.
make_ns "$p-c0"
cni "$plain" ADD c0 "$p-c0" >/dev/null
for _ in $(seq 1 50); do [[ -s $work/origin.log || $(probe "$p-c0") == connects ]] && break; sleep 0.1; done
expect_eq "bridge alone: the container reaches the node's listener" "$(probe "$p-c0")" connects
cni "$plain" DEL c0 "$p-c0" >/dev/null

# ADD through the whole chain.
make_ns "$p-c1"
out=$(cni "$awfnet" ADD c1 "$p-c1" --trace "$work/trace" 2>"$work/add.err"); rc=$?
expect_eq "ADD: bridge + host-local + awf-net succeed" "$rc" 0
in=$(ls "$work"/trace/*-awf-net-ADD.in); res=${in%.in}.out
expect_eq "ADD prints prevResult unchanged" \
    "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print(a["prevResult"]==b)' "$in" "$res")" True
expect_eq "in the configuration's version" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cniVersion"])' "$res")" 1.0.0
check "dump --netns verifies the policy the plugin installed" "$AWF" dump --netns "/run/netns/$p-c1"
summary=$("$AWF" dump --netns "/run/netns/$p-c1")
case "$summary" in *"resolvers 10.99.0.1"*"inbound 10.99.0.0/24"*) pass "the conflist's policy, with prevResult's subnet as the inbound local network" ;;
    *) fail "the conflist's policy, with prevResult's subnet as the inbound local network" "$(echo "$summary" | grep -E 'resolvers|inbound')" ;; esac
expect_eq "nft (an independent reader) sees table inet awf" \
    "$(ip netns exec "$p-c1" nft -j list tables | python3 -c 'import json,sys; print(sum(1 for x in json.load(sys.stdin)["nftables"] if x.get("table",{}).get("name")=="awf"))')" 1
expect_eq "egress is policed: the probe to the node is refused" "$(probe "$p-c1")" refused
expect_eq "the node's own namespace is untouched" "$(has_table "$node")" no

out=$(cni "$awfnet" CHECK c1 "$p-c1" 2>/dev/null); rc=$?
expect_eq "CHECK of an intact policy succeeds" "$rc" 0
ip netns exec "$p-c1" nft add rule inet awf filter_output accept
out=$(cni "$awfnet" CHECK c1 "$p-c1" 2>/dev/null); rc=$?
read -r code msg < <(echo "$out" | cni_error)
[[ $rc -ne 0 && $code == 106 && $msg == *"differs from its recorded policy"* ]] && pass "CHECK after tampering fails with code 106" || \
    fail "CHECK after tampering fails with code 106" "$rc $out"
expect_eq "the error is CNI error JSON (cniVersion, code, msg, details)" \
    "$(echo "$out" | python3 -c 'import json,sys; print(sorted(json.loads(sys.stdin.read().strip().splitlines()[-1])))')" \
    "['cniVersion', 'code', 'details', 'msg']"
# ADD again (a runtime's retry after DEL) replaces the tampered table.
cni "$awfnet" DEL c1 "$p-c1" >/dev/null 2>&1
expect_eq "DEL removes the table" "$(has_table "$p-c1")" no
out=$(cni "$awfnet" DEL c1 "$p-c1" 2>&1); rc=$?
expect_eq "DEL again succeeds" "$rc" 0
cni "$awfnet" ADD c1 "$p-c1" >/dev/null 2>&1
# The policy's file changes after ADD: the table is stale, and CHECK says so.
printf 'dns-servers = 10.99.0.53\n' > "$work/policies/default.conf"
out=$(cni "$awfnet" CHECK c1 "$p-c1" 2>/dev/null); rc=$?
[[ $rc -ne 0 && $out == *"holds another policy than default"* ]] && pass "CHECK after the policy file changed fails (stale)" || \
    fail "CHECK after the policy file changed fails (stale)" "$rc $out"
printf 'dns-servers = 10.99.0.1\n' > "$work/policies/default.conf"
# The namespace goes away before DEL (a crashed pod): DEL still succeeds, and again.
ip netns del "$p-c1"
out=$(cni "$awfnet" DEL c1 "$p-c1" 2>&1); rc=$?
expect_eq "DEL after the namespace is gone succeeds" "$rc" 0
out=$(ip netns exec "$node" env CNI_PATH="$CNI_PATH" CNI_COMMAND=DEL CNI_CONTAINERID=c1 CNI_IFNAME=eth0 \
    "$work/bin/awf-net" <<<'{"cniVersion":"1.0.0","name":"awfnet","type":"awf-net"}' 2>&1); rc=$?
expect_eq "DEL without CNI_NETNS succeeds" "$rc" 0

# The pod chooses a named policy: by annotation (containerd, CRI-O) or CNI_ARGS (podman).
make_ns "$p-c2"
cni "$awfnet" ADD c2 "$p-c2" --annotation io.github.awf-net.policy=agent >/dev/null 2>&1
case "$("$AWF" dump --netns "/run/netns/$p-c2")" in *"redirected TCP ports 80,443,8080"*"inbound none"*) pass "the pod annotation selects policy agent" ;;
    *) fail "the pod annotation selects policy agent" ;; esac
out=$(cni "$awfnet" CHECK c2 "$p-c2" --annotation io.github.awf-net.policy=agent 2>&1); rc=$?
expect_eq "CHECK with the same annotation succeeds" "$rc" 0
cni "$awfnet" DEL c2 "$p-c2" --annotation io.github.awf-net.policy=agent >/dev/null 2>&1
cni "$awfnet" ADD c2 "$p-c2" --args "IgnoreUnknown=1;K8S_POD_NAME=x;AWF_POLICY=agent" >/dev/null 2>&1
case "$("$AWF" dump --netns "/run/netns/$p-c2")" in *"inbound none"*) pass "CNI_ARGS AWF_POLICY selects policy agent" ;;
    *) fail "CNI_ARGS AWF_POLICY selects policy agent" ;; esac
cni "$awfnet" DEL c2 "$p-c2" >/dev/null 2>&1

# Refusals: the container never gets its interface (the runtime DELs the chain), nothing of a
# file is shown, and no table is left.
for bad in nope ../secret "$work/secret" /etc/shadow; do
    out=$(cni "$awfnet" ADD c3 "$p-c2" --annotation "io.github.awf-net.policy=$bad" 2>&1); rc=$?
    read -r code msg < <(echo "$out" | grep '"code"' | cni_error)
    [[ $rc -ne 0 && $code == 102 && $out != *TOP-SECRET* && $(has_table "$p-c2") == no ]] && \
        pass "annotation policy '$bad': ADD fails with code 102, nothing installed, nothing disclosed" || \
        fail "annotation policy '$bad': ADD fails with code 102" "$rc $code $msg"
done
expect_eq "and the refused pods' interfaces were removed" "$(ip -n "$p-c2" -o link show eth0 2>/dev/null | wc -l)" 0
out=$(cni "$awfnet" ADD c3 "$p-c2" --args "AWF_POLICY=../secret" 2>&1); rc=$?
[[ $rc -ne 0 && $out == *"CNI_ARGS AWF_POLICY"*"not a policy name"* ]] && pass "CNI_ARGS AWF_POLICY=../secret is refused" || \
    fail "CNI_ARGS AWF_POLICY=../secret is refused" "$out"
bounded=$(conflist 1.0.0 bounded '{"type":"awf-net","policy":"default","policyDir":"'$work/policies'","allowedPolicies":["default"],"capabilities":{"io.kubernetes.cri.pod-annotations":true}}')
out=$(cni "$bounded" ADD c4 "$p-c2" --annotation io.github.awf-net.policy=agent 2>&1); rc=$?
[[ $rc -ne 0 && $out == *"not among the network's allowedPolicies"* && $(has_table "$p-c2") == no ]] && \
    pass "allowedPolicies: a pod cannot pick a policy the network does not list" || fail "allowedPolicies bound the pod's choice" "$out"
for how in "--annotation io.github.awf-net.policy=squid" "--args AWF_POLICY=squid"; do
    # shellcheck disable=SC2086
    out=$(cni "$awfnet" ADD c6 "$p-c2" $how 2>&1); rc=$?
    [[ $rc -ne 0 && $out == *"proxy-role policy filters nothing"* && $(has_table "$p-c2") == no ]] && \
        pass "a pod cannot choose a proxy-role policy ($how)" || fail "a pod cannot choose a proxy-role policy ($how)" "$out"
done
emptylist=$(conflist 1.0.0 emptylist '{"type":"awf-net","policy":"default","policyDir":"'$work/policies'","allowedPolicies":[],"capabilities":{"io.kubernetes.cri.pod-annotations":true}}')
out=$(cni "$emptylist" ADD c7 "$p-c2" --annotation io.github.awf-net.policy=default 2>&1); rc=$?
[[ $rc -ne 0 && $out == *"allowedPolicies is empty"* && $(has_table "$p-c2") == no ]] && \
    pass "\"allowedPolicies\": [] allows no choice at all" || fail "\"allowedPolicies\": [] allows no choice at all" "$out"

# Spec 0.4.0: the same chain, answered in 0.4.0.
old=$(conflist 0.4.0 old "$entry")
make_ns "$p-c5"
out=$(cni "$old" ADD c5 "$p-c5" 2>/dev/null); rc=$?
expect_eq "spec 0.4.0: ADD succeeds" "$rc" 0
expect_eq "spec 0.4.0: the result is 0.4.0" "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cniVersion"])')" 0.4.0
expect_eq "spec 0.4.0: CHECK succeeds" "$(cni "$old" CHECK c5 "$p-c5" >/dev/null 2>&1; echo $?)" 0
cni "$old" DEL c5 "$p-c5" >/dev/null 2>&1
expect_eq "spec 0.4.0: DEL removes the table" "$(has_table "$p-c5")" no

# Spec 0.3.1 (flannel's and calico's stock conflists): ADD and DEL.
v031=$(conflist 0.3.1 v031 "$entry")
out=$(cni "$v031" ADD c7 "$p-c5" 2>/dev/null); rc=$?
[[ $rc -eq 0 && $(has_table "$p-c5") == yes ]] && pass "spec 0.3.1: ADD installs the policy" || fail "spec 0.3.1: ADD installs the policy" "$out"
cni "$v031" DEL c7 "$p-c5" >/dev/null 2>&1
expect_eq "spec 0.3.1: DEL removes it" "$(has_table "$p-c5")" no

# The plugin never firewalls the namespace it runs in (the node's).
out=$(cni "$awfnet" ADD c6 "$node" 2>&1); rc=$?
[[ $rc -ne 0 && $out == *"refusing to firewall the host"* && $(has_table "$node") == no ]] && \
    pass "CNI_NETNS naming the plugin's own namespace is refused" || fail "CNI_NETNS naming the plugin's own namespace is refused" "$out"

# VERSION, STATUS and GC (1.1.0: awf-net alone, the Debian plugins predate it).
out=$(cni "$awfnet" VERSION x "" --plugin awf-net 2>/dev/null)
expect_eq "VERSION lists 0.3.0 to 1.1.0" "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["supportedVersions"])')" \
    "['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']"
new=$(conflist 1.1.0 new "$entry")
expect_eq "STATUS: ready" "$(cni "$new" STATUS x "" --plugin awf-net >/dev/null 2>&1; echo $?)" 0
mv "$work/policies/default.conf" "$work/policies/default.off"
out=$(cni "$new" STATUS x "" --plugin awf-net 2>/dev/null); rc=$?
read -r code msg < <(echo "$out" | cni_error)
[[ $rc -ne 0 && $code == 50 ]] && pass "STATUS without the network's policy: code 50" || fail "STATUS without the network's policy: code 50" "$out"
mv "$work/policies/default.off" "$work/policies/default.conf"
out=$(cni "$new" GC x "" --plugin awf-net 2>/dev/null); rc=$?
[[ $rc -eq 0 && -z $out ]] && pass "GC: nothing outside the namespaces to collect, no output" || fail "GC succeeds silently" "$rc $out"

# cni-install on a node's configuration directory: into the first configuration, idempotent,
# taken out again; and the merged file works with the real plugins.
confdir=$work/net.d
mkdir -p "$confdir"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); del c["plugins"][1]; json.dump(c, open(sys.argv[2],"w"), indent=2)' "$awfnet" "$confdir/10-awfnode.conflist"
cp "$ROOT/tests/data/cni/87-podman-bridge.conflist" "$confdir/"
before=$(cat "$confdir/87-podman-bridge.conflist")
out=$("$AWF" cni-install --conf-dir "$confdir" --policy agent --policy-dir "$work/policies"); rc=$?
expect_eq "cni-install merges into the first configuration" "$rc $out" "0 cni-install: awf-net merged into $confdir/10-awfnode.conflist (policy agent)"
expect_eq "and leaves the others alone" "$(cat "$confdir/87-podman-bridge.conflist")" "$before"
out=$("$AWF" cni-install --conf-dir "$confdir" --allowed-policies "" 2>&1); rc=$?
[[ $rc -eq 2 && $out == *"no policy names"* ]] && pass "--allowed-policies '' is refused (it would read as any policy)" || \
    fail "--allowed-policies '' is refused" "$rc $out"
sum=$(sha256sum < "$confdir/10-awfnode.conflist")
out=$("$AWF" cni-install --conf-dir "$confdir" --policy agent --policy-dir "$work/policies")
[[ $out == *"already in"* && $(sha256sum < "$confdir/10-awfnode.conflist") == "$sum" ]] && pass "cni-install again: already there, file untouched" || \
    fail "cni-install is idempotent" "$out"
make_ns "$p-c8"
out=$(cni "$confdir/10-awfnode.conflist" ADD c8 "$p-c8" 2>&1); rc=$?
case "$rc $("$AWF" dump --netns "/run/netns/$p-c8" 2>&1)" in "0 "*"inbound none"*"# verified"*) pass "the merged conflist runs with the real plugins: ADD installs the installed policy" ;;
    *) fail "the merged conflist runs with the real plugins" "$rc $out" ;; esac
cni "$confdir/10-awfnode.conflist" DEL c8 "$p-c8" >/dev/null 2>&1
out=$("$AWF" cni-install --conf-dir "$confdir" --uninstall); rc=$?
expect_eq "cni-install --uninstall removes the entry" "$rc $(grep -c awf-net "$confdir/10-awfnode.conflist")" "0 0"
out=$("$AWF" cni-install --conf-dir "$confdir" --uninstall)
[[ $out == *"not in"* ]] && pass "--uninstall again: nothing to remove" || fail "--uninstall again: nothing to remove" "$out"
# A single-plugin .conf becomes a conflist of the same place in the order.
rm -f "$confdir"/*; cp "$ROOT/tests/data/cni/10-bridge.conf" "$confdir/"
out=$("$AWF" cni-install --conf-dir "$confdir")
[[ -f $confdir/10-bridge.conflist && ! -e $confdir/10-bridge.conf && $out == *"merged into $confdir/10-bridge.conflist"* ]] && \
    pass "a .conf is turned into 10-bridge.conflist with awf-net chained" || fail "a .conf is turned into a conflist" "$out $(ls "$confdir")"
rm -f "$confdir"/*
cp "$ROOT/tests/data/cni/10-flannel.conflist" "$work/elsewhere.conflist"
ln -s "$work/elsewhere.conflist" "$confdir/05-linked.conflist"
cp "$ROOT/tests/data/cni/87-podman-bridge.conflist" "$confdir/"
out=$("$AWF" cni-install --conf-dir "$confdir" 2>&1); rc=$?
[[ $rc -eq 2 && $out == *"05-linked.conflist: is a symbolic link"* && $(grep -c awf-net "$work/elsewhere.conflist" "$confdir/87-podman-bridge.conflist" | grep -c ':0$') == 2 ]] && \
    pass "a link as the first configuration is refused, not followed, and no later file is taken instead" || \
    fail "a link as the first configuration is refused" "$rc $out"
rm -f "$confdir"/*
out=$("$AWF" cni-install --conf-dir "$confdir" 2>&1); rc=$?
[[ $rc -eq 3 && $out == *"holds no CNI configuration"* ]] && pass "no configuration yet: exit 3 (retry once the network plugin wrote it)" || \
    fail "no configuration yet: exit 3" "$rc $out"
printf 'SECRET-LINE {\n' > "$confdir/00-broken.conflist"
out=$("$AWF" cni-install --conf-dir "$confdir" 2>&1); rc=$?
[[ $rc -eq 2 && $out == *"not JSON"* && $out != *SECRET* ]] && pass "a broken first configuration: exit 2, unchanged, not quoted" || \
    fail "a broken first configuration: exit 2" "$rc $out"

# The network plugin rewrites its file while cni-install merges (awf-net-faults' seam, just before
# cni-install replaces or removes what it read): the plugin's newest text is never lost.
rm -f "$confdir"/*
cp "$ROOT/tests/data/cni/10-flannel.conflist" "$confdir/10-flannel.conflist"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["name"]="rewritten-by-plugin"; json.dump(c, open(sys.argv[2],"w"))' \
    "$confdir/10-flannel.conflist" "$work/plugin-new.conflist"
out=$(AWF_FAULT=cni-rewrite:1 AWF_FAULT_CNI_SOURCE=$work/plugin-new.conflist "$AWF_FAULTS" cni-install --conf-dir "$confdir" 2>&1); rc=$?
name_and_entry() { python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["name"], [p["type"] for p in c["plugins"]].count("awf-net"))' "$1"; }
expect_eq "a rewrite between read and rename: merged into the plugin's new text" "$rc $(name_and_entry "$confdir/10-flannel.conflist")" "0 rewritten-by-plugin 1"
cp "$ROOT/tests/data/cni/10-bridge.conf" "$confdir/10-bridge.conf"; rm -f "$confdir/10-flannel.conflist"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["name"]="rewritten-by-plugin"; json.dump(c, open(sys.argv[2],"w"))' \
    "$confdir/10-bridge.conf" "$work/plugin-new.conf"
# Twice: once before the new .conflist is written, once before the .conf is removed.
out=$(AWF_FAULT=cni-rewrite:2 AWF_FAULT_CNI_SOURCE=$work/plugin-new.conf "$AWF_FAULTS" cni-install --conf-dir "$confdir" 2>&1); rc=$?
got=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["name"], [p["type"] for p in c["plugins"]])' "$confdir/10-bridge.conflist" 2>&1)
expect_eq "a .conf rewritten meanwhile: its newest text is what becomes the conflist" "$rc $got $(ls "$confdir")" \
    "0 rewritten-by-plugin ['bridge', 'awf-net'] 10-bridge.conflist"
cp "$confdir/10-bridge.conflist" "$work/plugin-busy.conflist"
out=$(AWF_FAULT=cni-rewrite:9 AWF_FAULT_CNI_SOURCE=$work/plugin-busy.conflist "$AWF_FAULTS" cni-install --conf-dir "$confdir" --uninstall 2>&1); rc=$?
[[ $rc -eq 1 && $out == *"kept changing"* && $(grep -c '"awf-net"' "$confdir/10-bridge.conflist") -eq 1 ]] && pass "a file that never stops changing: exit 1, not changed" || fail "a file that never stops changing: exit 1" "$rc $out"
# Two installers at once (a rollout's old and new pod): the second waits for the first's lock.
rm -f "$confdir"/*; cp "$ROOT/tests/data/cni/10-flannel.conflist" "$confdir/"
flock "$confdir" sleep 1.5 &
holder=$!; CLEANUP_PIDS+=($holder)
sleep 0.3
read -r rc ms < <(elapsed_ms "$AWF" cni-install --conf-dir "$confdir")
[[ $rc -eq 0 && $ms -ge 900 && $(grep -c '"awf-net"' "$confdir/10-flannel.conflist") -eq 1 ]] && \
    pass "cni-install takes the configuration directory's lock in turn (waited ${ms} ms)" || fail "cni-install takes the directory's lock in turn" "$rc $ms"
wait "$holder" 2>/dev/null

expect_eq "no bridge in the machine's namespace" "$(ip -o link show awfbr0 2>/dev/null | wc -l)" 0
expect_eq "host-local kept its allocations in the test's directory" "$(ls /var/lib/cni/networks/awfnet 2>/dev/null | wc -l)" 0
finish
