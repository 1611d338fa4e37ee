#!/usr/bin/env bash
# podman with the shipped hook file (rules/awf-net.json) in --hooks-dir: a container on
# podman's own bridge network gets the policy when annotated, and not otherwise.
# podman runs inside a namespace of this test (nsenter --net), so its bridge and firewall rules
# live there, never in the machine's own namespace; its storage is a temporary directory.
source "$(dirname "$0")/lib.sh"

command -v podman >/dev/null || { fail "podman is installed"; finish; exit 1; }
p=$(new_prefix)
hostns=$p-pod
make_ns "$hostns"
work=$(mktemp -d)
# podman and CNI keep a few files in fixed machine-wide places whatever --root says; remove
# the ones this test created, never ones that were there before.
machine_paths=(/var/lib/containers/cache/blob-info-cache-v1.boltdb /var/lib/containers/cache /var/lib/containers
               /var/lib/cni/results /var/lib/cni)
preexisting=()
for f in "${machine_paths[@]}"; do [[ -e $f ]] && preexisting+=("$f"); done
forget_machine_files() {
    local f keep
    for f in "${machine_paths[@]}"; do
        keep=0
        for e in "${preexisting[@]}"; do [[ $e == "$f" ]] && keep=1; done
        [[ $keep -eq 1 ]] && continue
        if [[ -d $f ]]; then rmdir "$f" 2>/dev/null; else rm -f "$f"; fi
    done
}
trap 'pod rm -af >/dev/null 2>&1; rm -rf "$work"; forget_machine_files; cleanup' EXIT
in_host() { nsenter --net="/run/netns/$hostns" "$@"; }
# podman, bounded, inside the test's namespace. Here it needs runc (crun refuses the hybrid
# cgroup layout), cgroupfs and explicit ulimits.
pod() {
    nsenter --net="/run/netns/$hostns" timeout 90 podman --root "$work/root" --runroot "$work/runroot" \
        --runtime runc --cgroup-manager cgroupfs --storage-driver vfs --events-backend none \
        --hooks-dir "$work/hooks" --network-config-dir "$work/cni" "$@"
}
run_opts=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

# podman's default bridge network, as Debian ships it, but with the CNI address allocations
# kept in this test's directory instead of /var/lib/cni.
mkdir -p "$work/cni"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
net = {"cniVersion": "0.4.0", "name": "podman", "plugins": [
    {"type": "bridge", "bridge": "cni-podman0", "isGateway": True, "ipMasq": True, "hairpinMode": True,
     "ipam": {"type": "host-local", "dataDir": work + "/ipam", "routes": [{"dst": "0.0.0.0/0"}],
              "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]]}},
    {"type": "portmap", "capabilities": {"portMappings": True}}, {"type": "firewall"}, {"type": "tuning"}]}
json.dump(net, open(work + "/cni/87-podman-bridge.conflist", "w"), indent=1)
PY

# The shipped hook file, pointed at the binary under test.
mkdir -p "$work/hooks" "$work/rootfs/bin" "$work/rootfs/etc"
# Its named policies come from the test's directory (--policy-dir, root's own hook argument).
mkdir -p "$work/policies"
cp "$ROOT/rules/policies/default.conf" "$work/policies/"
python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); h["hook"]["path"]=sys.argv[2]; h["hook"]["args"] += ["--policy-dir", sys.argv[4]]; json.dump(h,open(sys.argv[3],"w"))' \
    "$ROOT/rules/awf-net.json" "$AWF" "$work/hooks/awf-net.json" "$work/policies"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh nc sleep cat echo; do ln -s busybox "$work/rootfs/bin/$a"; done
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
check "a local busybox image (podman import, no registry)" pod import "$work/rootfs.tar" localhost/awf-busybox:test

# A listener on podman's bridge gateway (in the test's namespace) that the policy does not allow.
pod network ls >/dev/null 2>&1
printf 'dns-servers = 10.88.0.1\n' > "$work/policies/agent.conf"
probe='nc -w 2 10.88.0.1 9999 </dev/null; echo probe=$?'

# Without the annotation: no hook, no policy, the probe connects.
in_host python3 "$ROOT/tests/integration/origin.py" "$work/gw.log" raw:9999 --bind 0.0.0.0 >/dev/null 2>&1 &
CLEANUP_PIDS+=($!)
out=$(pod run --rm "${run_opts[@]}" localhost/awf-busybox:test sh -c "$probe" 2>&1)
case "$out" in *"probe=0"*) pass "without the annotation the hook is not selected (probe connects)" ;;
    *) fail "without the annotation the hook is not selected" "$out" ;; esac

# With the policy annotation: the policy is in force inside, and visible from outside.
cid=$(pod run -d "${run_opts[@]}" --annotation "io.github.awf-net.policy=agent" \
    localhost/awf-busybox:test sleep 60 2>&1)
pid=$(pod inspect --format '{{.State.Pid}}' "$cid" 2>/dev/null)
[[ "$pid" =~ ^[0-9]+$ && "$pid" -gt 0 ]] && pass "the annotated container started" || fail "the annotated container started" "$cid"
out=$("$AWF" dump --pid "$pid" 2>&1); rc=$?
case "$rc $out" in "0 "*"# verified: equal to what its recorded policy plans"*) pass "from outside, awf-net dump --pid verifies its policy" ;;
    *) fail "from outside, awf-net dump --pid verifies its policy" "$(echo "$out" | head -3)" ;; esac
case "$("$AWF" dump --pid "$pid")" in *"resolvers 10.88.0.1"*) pass "the annotation's named policy is the policy" ;;
    *) fail "the annotation's named policy is the policy" ;; esac
out=$(pod exec "$cid" sh -c "$probe" 2>&1)
case "$out" in *"probe=1"*) pass "inside, the probe to the gateway is refused" ;; *) fail "inside, the probe to the gateway is refused" "$out" ;; esac
pod rm -f "$cid" >/dev/null 2>&1

# The enable annotation selects the hook with the default policy.
out=$(pod run --rm "${run_opts[@]}" --annotation io.github.awf-net.enable=true \
    localhost/awf-busybox:test sh -c "$probe" 2>&1)
case "$out" in *"probe=1"*) pass "io.github.awf-net.enable=true selects the hook too" ;; *) fail "enable annotation selects the hook" "$out" ;; esac

# The retired path annotation still selects the hook, which refuses it: a container carrying it
# never starts believing it has that file's policy, and the file is never read.
printf 'TOP-SECRET-podman\n' > "$work/secret"
out=$(pod run --rm "${run_opts[@]}" --annotation "io.github.awf-net.config=$work/secret" localhost/awf-busybox:test echo started 2>&1); rc=$?
[[ $rc -ne 0 && "$out" != *started* && "$out" == *"no longer accepted"* && "$out" != *TOP-SECRET* ]] && \
    pass "io.github.awf-net.config=PATH is refused without reading the file" || fail "io.github.awf-net.config=PATH is refused" "$out"
out=$(pod run --rm "${run_opts[@]}" --annotation "io.github.awf-net.policy=../secret" localhost/awf-busybox:test echo started 2>&1); rc=$?
[[ $rc -ne 0 && "$out" != *started* && "$out" == *"not a policy name"* ]] && \
    pass "io.github.awf-net.policy=../secret is refused" || fail "io.github.awf-net.policy=../secret is refused" "$out"

# enable=false selects the hook (podman matches one pattern for both keys) and is refused:
# fail closed, never silently unprotected.
out=$(pod run --rm "${run_opts[@]}" --annotation io.github.awf-net.enable=false localhost/awf-busybox:test echo started 2>&1); rc=$?
[[ $rc -ne 0 && "$out" != *started* ]] && pass "io.github.awf-net.enable=false is refused, not ignored" || \
    fail "io.github.awf-net.enable=false is refused, not ignored" "$out"

# A container that keeps CAP_NET_RAW is not started.
out=$(pod run --rm "${run_opts[@]}" --cap-add NET_RAW --annotation io.github.awf-net.enable=true \
    localhost/awf-busybox:test echo started 2>&1); rc=$?
[[ $rc -ne 0 && "$out" != *started* ]] && pass "podman: a container keeping CAP_NET_RAW does not start" || \
    fail "podman: a container keeping CAP_NET_RAW does not start" "$out"
# podman's CNI backend with a network whose conflist chains awf-net (the plugin type awf-net in
# a CNI bin dir of the test's, through containers.conf): a container on that network gets the
# network's policy before its process starts; CNI_ARGS AWF_POLICY picks another named policy.
mkdir -p "$work/cnibin"
for plugin in bridge host-local portmap firewall tuning loopback; do ln -s "/usr/lib/cni/$plugin" "$work/cnibin/$plugin"; done
ln -s "$AWF" "$work/cnibin/awf-net"
printf '[network]\ncni_plugin_dirs = ["%s"]\n' "$work/cnibin" > "$work/containers.conf"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
net = {"cniVersion": "0.4.0", "name": "awfnet", "plugins": [
    {"type": "bridge", "bridge": "cni-awf0", "isGateway": True, "ipMasq": False,
     "ipam": {"type": "host-local", "dataDir": work + "/ipam", "routes": [{"dst": "0.0.0.0/0"}],
              "ranges": [[{"subnet": "10.89.0.0/24", "gateway": "10.89.0.1"}]]}},
    {"type": "awf-net", "policy": "cnidefault", "policyDir": work + "/policies"}]}
json.dump(net, open(work + "/cni/awfnet.conflist", "w"), indent=1)
PY
printf 'dns-servers = 10.89.0.1\n' > "$work/policies/cnidefault.conf"
printf 'dns-servers = 10.89.0.1\nenable-host-access = true\nallow-host-ports = 9999\n' > "$work/policies/cniopen.conf"
cnipod() { CONTAINERS_CONF="$work/containers.conf" pod "$@"; }
cniprobe='nc -w 2 10.89.0.1 9999 </dev/null; echo probe=$?'
out=$(cnipod run --rm "${run_opts[@]}" --network awfnet localhost/awf-busybox:test sh -c "$cniprobe" 2>&1)
case "$out" in *"probe=1"*) pass "podman CNI: a container on the awf-net network is policed from its first instruction" ;;
    *) fail "podman CNI: a container on the awf-net network is policed" "$out" ;; esac
cid=$(cnipod run -d "${run_opts[@]}" --network awfnet localhost/awf-busybox:test sleep 60 2>&1)
pid=$(cnipod inspect --format '{{.State.Pid}}' "$cid" 2>/dev/null)
out=$("$AWF" dump --pid "$pid" 2>&1); rc=$?
case "$rc $out" in "0 "*"resolvers 10.89.0.1"*"inbound 10.89.0.0/24"*"# verified"*) pass "podman CNI: dump --pid verifies the network's policy, inbound from prevResult's subnet" ;;
    *) fail "podman CNI: dump --pid verifies the network's policy" "$rc $(echo "$out" | head -8)" ;; esac
cnipod rm -f "$cid" >/dev/null 2>&1
# The listener is reached when the named policy allows its port (proof that the probe's target
# answers, and that CNI_ARGS chose the policy).
out=$(CNI_ARGS="AWF_POLICY=cniopen" cnipod run --rm "${run_opts[@]}" --network awfnet localhost/awf-busybox:test sh -c "$cniprobe" 2>&1)
case "$out" in *"probe=0"*) pass "podman CNI: CNI_ARGS AWF_POLICY=cniopen selects the policy that allows the port" ;;
    *) fail "podman CNI: CNI_ARGS AWF_POLICY selects the policy" "$out" ;; esac
out=$(CNI_ARGS="AWF_POLICY=../secret" cnipod run --rm "${run_opts[@]}" --network awfnet localhost/awf-busybox:test echo started 2>&1); rc=$?
[[ $rc -ne 0 && $out != *started* && $out == *"not a policy name"* ]] && pass "podman CNI: AWF_POLICY=../secret keeps the container from starting" || \
    fail "podman CNI: AWF_POLICY=../secret keeps the container from starting" "$out"
out=$(CNI_ARGS="AWF_POLICY=missing" cnipod run --rm "${run_opts[@]}" --network awfnet localhost/awf-busybox:test echo started 2>&1); rc=$?
[[ $rc -ne 0 && $out != *started* ]] && pass "podman CNI: an unknown policy name keeps the container from starting" || \
    fail "podman CNI: an unknown policy name keeps the container from starting" "$out"

expect_eq "podman's bridge lives in the test's namespace, not the machine's" "$(ip -o link show cni-podman0 2>/dev/null | wc -l)" 0
[[ -d "$work/ipam" && ! -e /var/lib/cni/networks/podman ]] && pass "CNI's address allocations stay in the test's directory" || \
    fail "CNI's address allocations stay in the test's directory"
finish
