#!/usr/bin/env bash
# containerd (Debian's 1.6) with `ctr run --cni`: a conflist chaining awf-net behind bridge +
# host-local polices the container before its first instruction. containerd runs inside a
# namespace of this test and a private mount namespace, where the test's directories stand in
# for /etc/cni/net.d and /opt/cni/bin (ctr reads only those); its root, state and socket are
# the test's. Kubelet cannot run here: the pod-annotation path (CRI) is covered by cni.sh.
source "$(dirname "$0")/lib.sh"

command -v containerd >/dev/null && command -v ctr >/dev/null || { fail "containerd is installed"; finish; exit 1; }
[[ -d /etc/cni/net.d ]] || { fail "/etc/cni/net.d exists to be covered (podman's package makes it)"; finish; exit 1; }
p=$(new_prefix)
node=$p-node
make_ns "$node"
work=$(mktemp -d)
stop_containerd() {
    pkill -f -- "$work/containerd.sock" 2>/dev/null
    pkill -f -- "--config $work/config.toml" 2>/dev/null
    sleep 0.2
}
trap 'stop_containerd; rm -rf "$work"; cleanup' EXIT
mkdir -p "$work/netd" "$work/cni/bin" "$work/policies" "$work/ipam" "$work/root" "$work/state"
for plugin in bridge host-local loopback; do ln -s "/usr/lib/cni/$plugin" "$work/cni/bin/$plugin"; done
ln -s "$AWF" "$work/cni/bin/awf-net"
printf 'dns-servers = 10.98.0.1\n' > "$work/policies/default.conf"
printf 'dns-servers = 10.98.0.1\nenable-host-access = true\nallow-host-ports = 9999\n' > "$work/policies/open.conf"
cat > "$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
TOML
# conflist POLICY|"": the network ctr sets up, with or without awf-net.
conflist() {
    python3 - "$work" "$1" <<'PY'
import json, sys
work, policy = sys.argv[1], sys.argv[2]
plugins = [{"type": "bridge", "bridge": "ctdbr0", "isGateway": True, "ipMasq": False,
            "ipam": {"type": "host-local", "dataDir": work + "/ipam", "routes": [{"dst": "0.0.0.0/0"}],
                     "ranges": [[{"subnet": "10.98.0.0/24", "gateway": "10.98.0.1"}]]}}]
if policy:
    plugins.append({"type": "awf-net", "policy": policy, "policyDir": work + "/policies"})
json.dump({"cniVersion": "1.0.0", "name": "awfctd", "plugins": plugins}, open(work + "/netd/10-awfctd.conflist", "w"))
PY
}
python3 "$ROOT/tests/integration/oci_image.py" "$work/busybox.tar" /bin/busybox
# The test's commands, one shell in the node's network namespace and the private mount
# namespace where containerd runs (ctr does the CNI calls itself, so it must be there too).
cat > "$work/inner.sh" <<SH
mount --make-rprivate /
mount --bind "$work/netd" /etc/cni/net.d
mount -t tmpfs tmpfs /opt && mkdir -p /opt/cni && mount --bind "$work/cni" /opt/cni
containerd --config "$work/config.toml" > "$work/containerd.log" 2>&1 &
for i in \$(seq 1 100); do [ -S "$work/containerd.sock" ] && break; sleep 0.1; done
exec python3 "$ROOT/tests/integration/origin.py" "$work/origin.log" raw:9999 --bind 0.0.0.0 > /dev/null 2>&1
SH
nsenter --net="/run/netns/$node" unshare -m --propagation private bash "$work/inner.sh" &
CLEANUP_PIDS+=($!)
holder=
for _ in $(seq 1 150); do
    holder=$(pgrep -f -- "origin.py $work/origin.log" | head -1)
    [[ -S $work/containerd.sock && -n $holder ]] && break
    sleep 0.1
done
in_node() { nsenter --net="/run/netns/$node" --mount="/proc/$holder/ns/mnt" "$@"; }
C() { in_node timeout 60 ctr -a "$work/containerd.sock" "$@"; }
check "containerd runs in the test's namespaces" C version
check "the busybox image imports (no registry)" C image import --snapshotter native "$work/busybox.tar"
probe='nc -w 2 10.98.0.1 9999 </dev/null; echo probe=$?'
run() { C run --rm --snapshotter native --cni localhost/awf-busybox:test "$@"; }

conflist ""
out=$(run plain sh -c "$probe" 2>&1)
case "$out" in *probe=0*) pass "ctr --cni without awf-net: the container reaches the node's listener" ;;
    *) fail "ctr --cni without awf-net: the container reaches the node's listener" "$out" ;; esac

conflist default
out=$(run c1 sh -c "$probe" 2>&1)
case "$out" in *probe=1*) pass "ctr --cni with awf-net chained: policed from the first instruction" ;;
    *) fail "ctr --cni with awf-net chained: policed from the first instruction" "$out" ;; esac
C run -d --snapshotter native --cni localhost/awf-busybox:test c2 sleep 60 >/dev/null 2>&1
pid=$(C task ls 2>/dev/null | awk '$1 == "c2" {print $2}')
out=$("$AWF" dump --pid "$pid" 2>&1); rc=$?
case "$rc $out" in "0 "*"resolvers 10.98.0.1"*"inbound 10.98.0.0/24"*"# verified"*) pass "dump --pid verifies the conflist's policy in the running container" ;;
    *) fail "dump --pid verifies the conflist's policy in the running container" "$rc $(echo "$out" | head -8)" ;; esac
C task kill -s KILL c2 >/dev/null 2>&1; sleep 0.5; C container rm c2 >/dev/null 2>&1

conflist open
out=$(run c3 sh -c "$probe" 2>&1)
case "$out" in *probe=0*) pass "a policy allowing the port lets the same probe through" ;;
    *) fail "a policy allowing the port lets the same probe through" "$out" ;; esac
conflist "no-such-policy"
out=$(run c4 echo started 2>&1); rc=$?
[[ $rc -ne 0 && $out != *started* && $out == *"no-such-policy"* ]] && pass "an unknown policy keeps the container from starting" || \
    fail "an unknown policy keeps the container from starting" "$out"
C container rm c4 >/dev/null 2>&1
expect_eq "no bridge in the machine's namespace" "$(ip -o link show ctdbr0 2>/dev/null | wc -l)" 0
expect_eq "/opt/cni is not on the machine" "$([[ -e /opt/cni ]] && echo yes || echo no)" no
finish
