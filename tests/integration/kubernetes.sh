#!/usr/bin/env bash
# deploy/kubernetes: the manifests are consistent (what the DaemonSet runs, mounts and reads
# exists; every policy of the ConfigMap is a valid policy), and node-install does on a node
# what the DaemonSet promises, here on a stand-in host root: the binary and policies installed,
# the entry merged into the first configuration, merged again after the network plugin rewrites
# it, taken out on SIGTERM. Kubelet cannot run here; everything below it is tested.
source "$(dirname "$0")/lib.sh"

k8s=$ROOT/deploy/kubernetes
py=/usr/bin/python3 # Debian's, with python3-yaml
work=$(mktemp -d)
trap 'rm -rf "$work"; cleanup' EXIT

out=$("$py" - "$k8s" "$work" <<'PY'
import glob, os, sys, yaml
k8s, work = sys.argv[1], sys.argv[2]
docs = {}
for f in sorted(glob.glob(k8s + "/*.yaml")):
    for d in yaml.safe_load_all(open(f)):
        docs[(d["kind"], d["metadata"]["name"])] = d
ds = docs[("DaemonSet", "awf-net")]
cm = docs[("ConfigMap", "awf-net-policies")]
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
problems = []
if "/usr/lib/awf-net/node-install" not in open(k8s + "/Dockerfile").read() or c["command"] != ["/usr/lib/awf-net/node-install"]:
    problems.append("the DaemonSet's command is not what the Dockerfile installs")
volumes = {v["name"]: v for v in spec["volumes"]}
for m in c["volumeMounts"]:
    if m["name"] not in volumes: problems.append("mount without volume " + m["name"])
if volumes["policies"]["configMap"]["name"] != cm["metadata"]["name"]:
    problems.append("the policies volume is not the ConfigMap")
paths = {v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
for p in ("/opt/cni/bin", "/etc/cni/net.d", "/etc/awf-net", "/usr"):
    if p not in paths: problems.append("no hostPath " + p)
script = open(k8s + "/node-install").read()
for e in c["env"]:
    if e["name"] not in script: problems.append("node-install ignores " + e["name"])
allowed = next(e["value"] for e in c["env"] if e["name"] == "AWF_ALLOWED_POLICIES").split(",")
os.makedirs(work + "/policies", exist_ok=True)
for name, text in cm["data"].items():
    open(os.path.join(work, "policies", name), "w").write(text)
for a in allowed:
    if a + ".conf" not in cm["data"]: problems.append("allowed policy without a file: " + a)
pod = docs[("Pod", "coding-agent")]
if pod["metadata"]["annotations"]["io.github.awf-net.policy"] not in allowed:
    problems.append("the example pod picks a policy the DaemonSet does not allow")
print("; ".join(problems) or "consistent")
PY
)
expect_eq "the manifests, the Dockerfile and node-install agree" "$out" consistent
for f in "$work"/policies/*.conf; do
    name=$(basename "$f" .conf)
    check "ConfigMap policy '$name' is valid" "$AWF" apply --dry-run --policy "$name" --policy-dir "$work/policies"
done

# A stand-in node: its /usr is the machine's (the DaemonSet mounts the node's read-only), the
# rest is the test's.
host=$work/host
mkdir -p "$host/etc/cni/net.d"
ln -s /usr "$host/usr"
cp "$ROOT/tests/data/cni/10-flannel.conflist" "$host/etc/cni/net.d/"
cp "$ROOT/tests/data/cni/87-podman-bridge.conflist" "$host/etc/cni/net.d/"
HOST_ROOT=$host AWF_BINARY=$AWF AWF_POLICY_SOURCE=$work/policies AWF_POLICY=default AWF_ALLOWED_POLICIES=default,agent \
    AWF_INTERVAL=1 timeout 120 "$k8s/node-install" > "$work/install.log" 2>&1 &
installer=$!
CLEANUP_PIDS+=($installer)
merged() { grep -c '"type": "awf-net"' "$host/etc/cni/net.d/10-flannel.conflist" 2>/dev/null; }
wait_for() { local _; for _ in $(seq 1 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }
wait_for '[[ $(merged) == 1 ]]' && pass "node-install merges awf-net into the node's first configuration" || \
    fail "node-install merges awf-net into the node's first configuration" "$(cat "$work/install.log")"
cmp -s "$AWF" "$host/opt/cni/bin/awf-net" && pass "the binary is the CNI plugin awf-net in /opt/cni/bin" || fail "the binary is installed"
expect_eq "the ConfigMap's policies are in /etc/awf-net/policies" "$(ls "$host/etc/awf-net/policies" | tr '\n' ' ')" "agent.conf default.conf "
expect_eq "allowedPolicies from AWF_ALLOWED_POLICIES" \
    "$(python3 -c 'import json,sys; print([p for p in json.load(open(sys.argv[1]))["plugins"] if p["type"]=="awf-net"][0]["allowedPolicies"])' "$host/etc/cni/net.d/10-flannel.conflist")" \
    "['default', 'agent']"
expect_eq "the other configuration is untouched" "$(grep -c awf-net "$host/etc/cni/net.d/87-podman-bridge.conflist")" 0
# The network plugin rewrites its configuration (its DaemonSet restarted): merged again.
cp "$ROOT/tests/data/cni/10-flannel.conflist" "$host/etc/cni/net.d/"
wait_for '[[ $(merged) == 1 ]]' && pass "a rewritten configuration gets the entry again" || fail "a rewritten configuration gets the entry again"
printf 'dns-servers = 10.96.0.11\n' > "$work/policies/agent.conf"
wait_for 'grep -q 10.96.0.11 "$host/etc/awf-net/policies/agent.conf"' && pass "a changed ConfigMap policy reaches the node" || \
    fail "a changed ConfigMap policy reaches the node"
kill -TERM "$installer"
wait "$installer"; rc=$?
expect_eq "SIGTERM: node-install takes the entry out and exits 0" "$rc $(merged)" "0 0"
# A node that cannot run the binary (here: not an executable for its loader) fails at install.
printf '#!/bin/sh\nexit 0\n' > "$work/not-elf"
chmod +x "$work/not-elf"
out=$(HOST_ROOT=$host AWF_BINARY=$work/not-elf AWF_POLICY_SOURCE=$work/policies timeout 30 "$k8s/node-install" 2>&1); rc=$?
[[ $rc -eq 1 && $out == *"this node cannot run awf-net"* ]] && pass "a node that cannot run awf-net fails the DaemonSet's pod, not a pod's ADD" || \
    fail "a node that cannot run awf-net fails at install" "$rc $out"
finish
