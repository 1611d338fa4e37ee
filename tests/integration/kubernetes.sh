#!/usr/bin/env bash
# deploy/kubernetes: the manifests are consistent (what the DaemonSet runs, mounts and reads
# exists; every policy of the ConfigMap is a valid policy), and node-install does on a node
# what the DaemonSet promises, here on a stand-in host root: the binary and policies installed,
# the entry merged into the first configuration and merged again as soon as the network plugin
# rewrites it, policies kept in step with the ConfigMap (changed, added, removed), everything
# left in place on SIGTERM (a rollout), taken out by "node-install uninstall". Kubelet cannot
# run here; everything below it is tested. AWF_NODE_INSTALL runs another node-install against
# these tests (an older one, to see them fail).
source "$(dirname "$0")/lib.sh"

k8s=$ROOT/deploy/kubernetes
py=/usr/bin/python3 # Debian's, with python3-yaml
node_install=${AWF_NODE_INSTALL:-$k8s/node-install}
work=$(mktemp -d)
# Installers first: they write under $work until they exit (promptly on TERM).
trap 'cleanup; wait; rm -rf "$work"' EXIT

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
# The root filesystem is read-only: node-install's event fifo needs a writable /tmp.
if not any(m["mountPath"] == "/tmp" and "emptyDir" in volumes[m["name"]] for m in c["volumeMounts"]):
    problems.append("no writable /tmp for node-install")
if "inotifywait" in script and "inotify-tools" not in open(k8s + "/Dockerfile").read():
    problems.append("node-install watches with inotifywait, the image lacks inotify-tools")
# The uninstall DaemonSet: the same image and node paths, node-install's uninstall mode.
un = next(yaml.safe_load_all(open(k8s + "/uninstall/daemonset.yaml")))
uspec = un["spec"]["template"]["spec"]
uc = uspec["initContainers"][0]
if uc["command"] != c["command"] + ["uninstall"] or uc["image"] != c["image"]:
    problems.append("the uninstall DaemonSet does not run this image's node-install uninstall")
if "uninstall)" not in script:
    problems.append("node-install has no uninstall mode")
uvolumes = {v["name"]: v for v in uspec["volumes"]}
for m in uc["volumeMounts"]:
    if uvolumes[m["name"]] != volumes.get(m["name"]) or m not in c["volumeMounts"]:
        problems.append("the uninstall DaemonSet mounts " + m["name"] + " differently")
for p in ("/host/opt/cni/bin", "/host/etc/cni/net.d", "/host/etc/awf-net"):
    if p not in {m["mountPath"] for m in uc["volumeMounts"]}:
        problems.append("the uninstall DaemonSet does not mount " + p)
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
# rest is the test's. An operator placed a policy of their own there.
host=$work/host
mkdir -p "$host/etc/cni/net.d" "$host/etc/awf-net/policies"
ln -s /usr "$host/usr"
cp "$ROOT/tests/data/cni/10-flannel.conflist" "$host/etc/cni/net.d/"
cp "$ROOT/tests/data/cni/87-podman-bridge.conflist" "$host/etc/cni/net.d/"
printf 'dns-servers = 10.96.0.12\n' > "$host/etc/awf-net/policies/by-hand.conf"
conflist=$host/etc/cni/net.d/10-flannel.conflist
policies=$host/etc/awf-net/policies

# The ConfigMap's mount as kubelet keeps it: the data in a versioned directory behind the link
# ..data, swapped by a rename, with a link per key at the top.
cm=$work/configmap
mkdir "$cm"
cm_publish() { # cm_publish VERSION FILE...
    local v=$1 f; shift
    mkdir "$cm/..$v"
    cp "$@" "$cm/..$v/"
    ln -s "..$v" "$cm/..data_tmp"
    mv -T "$cm/..data_tmp" "$cm/..data"
    for f in "$@"; do [[ -L $cm/${f##*/} ]] || ln -s "..data/${f##*/}" "$cm/${f##*/}"; done
    for f in "$cm"/*.conf; do [[ -e $f ]] || rm -f "$f"; done
    for f in "$cm"/..v*; do [[ $f == "$cm/..$v" ]] || rm -rf "$f"; done
}
cm_publish v1 "$work"/policies/*.conf

# start_installer LOG [VAR=VALUE...]: node-install as the DaemonSet runs it, checking on its own
# only every 300 s, so what happens sooner was triggered by the change itself.
start_installer() {
    local log=$1; shift
    env HOST_ROOT="$host" AWF_BINARY="$AWF" AWF_POLICY_SOURCE="$cm" AWF_POLICY=default \
        AWF_ALLOWED_POLICIES=default,agent AWF_INTERVAL=300 "$@" \
        timeout 120 "$node_install" > "$log" 2>&1 &
    installer=$!
    CLEANUP_PIDS+=("$installer")
}
merged() { grep -c '"type": "awf-net"' "$conflist" 2>/dev/null; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# within SECONDS EXPR: EXPR holds within SECONDS (evaluated every 50 ms); took=the ms it took.
within() {
    local t0 end; t0=$(now_ms); end=$(( t0 + $1 * 1000 ))
    while :; do
        eval "$2" && { took=$(( $(now_ms) - t0 )); return 0; }
        (( $(now_ms) < end )) || return 1
        sleep 0.05
    done
}
# descendants PID: every process below PID.
descendants() {
    local p
    for p in $(ps -e -o pid=,ppid= | awk -v p="$1" '$2 == p {print $1}'); do echo "$p"; descendants "$p"; done
}
# terminate: SIGTERM to node-install alone, as kubelet sends it to the container's first
# process (timeout would signal its whole process group); stopped="EXIT MS", strays=the
# processes below it still running.
terminate() {
    local below rc p
    below=$(descendants "$installer")
    kill -TERM "$(ps -o pid= --ppid "$installer")"
    took=99999
    within 20 '! kill -0 "$installer" 2>/dev/null'
    wait "$installer"; rc=$?
    stopped="$rc $took"
    strays=
    for p in $below; do
        kill -0 "$p" 2>/dev/null && { strays+="$(ps -o pid=,args= -p "$p") "; CLEANUP_PIDS+=("$p"); }
    done
}

start_installer "$work/install.log"
within 20 '[[ $(merged) == 1 ]]' && pass "node-install merges awf-net into the node's first configuration" || \
    fail "node-install merges awf-net into the node's first configuration" "$(cat "$work/install.log")"
cmp -s "$AWF" "$host/opt/cni/bin/awf-net" && pass "the binary is the CNI plugin awf-net in /opt/cni/bin" || fail "the binary is installed"
expect_eq "the ConfigMap's policies are in /etc/awf-net/policies, beside the operator's" \
    "$(ls "$policies" | tr '\n' ' ')" "agent.conf by-hand.conf default.conf "
expect_eq "allowedPolicies from AWF_ALLOWED_POLICIES" \
    "$(python3 -c 'import json,sys; print([p for p in json.load(open(sys.argv[1]))["plugins"] if p["type"]=="awf-net"][0]["allowedPolicies"])' "$conflist")" \
    "['default', 'agent']"
expect_eq "the other configuration is untouched" "$(grep -c awf-net "$host/etc/cni/net.d/87-podman-bridge.conflist")" 0
# What follows measures the watches, not the check node-install makes once they are up.
watching() {
    local p
    for p in $(descendants "$installer"); do
        [[ $(cat "/proc/$p/comm" 2>/dev/null) == inotifywait ]] &&
            (( $(cat "/proc/$p/fdinfo/"* 2>/dev/null | grep -c '^inotify wd:') == 2 )) && return 0
    done
    return 1
}
within 10 watching || true # an installer without watches fails below

# The network plugin rewrites its configuration (its DaemonSet restarted): in place, as cp
# does, and by a rename, as most installers do. Pods starting meanwhile would lack awf-net.
cp "$ROOT/tests/data/cni/10-flannel.conflist" "$conflist"
within 2 '[[ $(merged) == 1 ]]' && pass "a configuration rewritten in place gets the entry again within 2 s ($took ms)" || \
    fail "a configuration rewritten in place gets the entry again within 2 s" "$(merged) entries; $(tail -n 3 "$work/install.log")"
cp "$ROOT/tests/data/cni/10-flannel.conflist" "$conflist.new"
mv "$conflist.new" "$conflist"
within 2 '[[ $(merged) == 1 ]]' && pass "a configuration replaced by a rename gets the entry again within 2 s ($took ms)" || \
    fail "a configuration replaced by a rename gets the entry again within 2 s" "$(merged) entries"

# The ConfigMap changes: a policy edited, then one taken out and another added.
printf 'dns-servers = 10.96.0.11\n' > "$work/agent-v2.conf"
cp "$work/agent-v2.conf" "$work/agent.conf"
cm_publish v2 "$work/policies/default.conf" "$work/agent.conf"
within 2 'grep -q 10.96.0.11 "$policies/agent.conf"' && pass "a changed ConfigMap policy reaches the node within 2 s ($took ms)" || \
    fail "a changed ConfigMap policy reaches the node within 2 s" "$(cat "$policies/agent.conf")"
printf 'dns-servers = 10.96.0.13\n' > "$work/extra.conf"
cm_publish v3 "$work/policies/default.conf" "$work/extra.conf"
within 2 '[[ ! -e $policies/agent.conf && -e $policies/extra.conf ]]' && \
    pass "a policy taken out of the ConfigMap is taken off the node within 2 s ($took ms)" || \
    fail "a policy taken out of the ConfigMap is taken off the node within 2 s" "$(ls "$policies" | tr '\n' ' ')"
expect_eq "the operator's own policy stays" "$(ls "$policies" | tr '\n' ' ')" "by-hand.conf default.conf extra.conf "
within 2 'grep -q "not on the node: agent" "$work/install.log"' && \
    pass "node-install says AWF_ALLOWED_POLICIES names a policy the node no longer has" || \
    fail "node-install says AWF_ALLOWED_POLICIES names a policy the node no longer has" "$(tail -n 3 "$work/install.log")"

# A rollout: SIGTERM, then the next pod. Nothing may be taken out meanwhile.
terminate
expect_eq "SIGTERM: node-install exits 0 at once, the entry left merged" "${stopped% *} $(( ${stopped#* } < 5000 )) $(merged)" "0 1 1"
expect_eq "SIGTERM: the binary and policies stay" \
    "$(cmp -s "$AWF" "$host/opt/cni/bin/awf-net" && echo binary) $(ls "$policies" | tr '\n' ' ')" "binary by-hand.conf default.conf extra.conf "
expect_eq "SIGTERM: no watcher or sleep outlives node-install" "$strays" ""

# The next pod, on a node without inotifywait: it says so and checks every second instead.
bin=$work/bin
mkdir "$bin"
for f in /usr/bin/* /usr/sbin/*; do [[ ${f##*/} == inotifywait || -e $bin/${f##*/} ]] || ln -s "$f" "$bin/${f##*/}"; done
cp "$conflist" "$work/before.conflist"
start_installer "$work/install2.log" PATH="$bin"
within 20 'grep -q "inotifywait" "$work/install2.log"' && pass "without inotifywait node-install says so" || \
    fail "without inotifywait node-install says so" "$(cat "$work/install2.log")"
[[ $(merged) == 1 ]] && cmp -s "$conflist" "$work/before.conflist" && \
    pass "the next pod finds the entry in place and rewrites nothing" || \
    fail "the next pod finds the entry in place and rewrites nothing" "$(merged) entries; $(diff "$work/before.conflist" "$conflist" | head -n 3)"
cp "$ROOT/tests/data/cni/10-flannel.conflist" "$conflist"
within 3 '[[ $(merged) == 1 ]]' && pass "without inotifywait a rewritten configuration gets the entry again within 3 s ($took ms)" || \
    fail "without inotifywait a rewritten configuration gets the entry again within 3 s" "$(merged) entries"

# A new image whose binary the node cannot run (here: not an executable for its loader) fails
# the DaemonSet's pod, not a pod's ADD, and leaves the binary the entry runs alone.
printf '#!/bin/sh\nexit 0\n' > "$work/not-elf"
chmod +x "$work/not-elf"
out=$(HOST_ROOT=$host AWF_BINARY=$work/not-elf AWF_POLICY_SOURCE=$cm timeout 30 "$node_install" 2>&1); rc=$?
[[ $rc -eq 1 && $out == *"this node cannot run awf-net"* ]] && pass "a node that cannot run awf-net fails the DaemonSet's pod, not a pod's ADD" || \
    fail "a node that cannot run awf-net fails at install" "$rc $out"
cmp -s "$AWF" "$host/opt/cni/bin/awf-net" && pass "a binary the node cannot run does not replace the one the entry runs" || \
    fail "a binary the node cannot run does not replace the one the entry runs"
terminate
expect_eq "SIGTERM without inotifywait: exit 0, entry left, no process left" "${stopped% *} $(merged) $strays" "0 1 "

# The operator removes awf-net: the DaemonSet deleted, then node-install's uninstall mode.
out=$(HOST_ROOT=$host AWF_BINARY=$AWF AWF_POLICY_SOURCE=$cm timeout 15 "$node_install" uninstall 2>&1); rc=$?
expect_eq "uninstall: exits 0 and takes the entry out" "$rc $(merged)" "0 0"
expect_eq "uninstall: the binary and the policies node-install installed are gone, the operator's stays" \
    "$([[ -e $host/opt/cni/bin/awf-net ]] && echo binary) $(ls -A "$policies" | tr '\n' ' ')" " by-hand.conf "
expect_eq "uninstall: the other configuration is untouched" "$(cat "$host/etc/cni/net.d/87-podman-bridge.conflist")" \
    "$(cat "$ROOT/tests/data/cni/87-podman-bridge.conflist")"
out=$(HOST_ROOT=$host AWF_BINARY=$AWF AWF_POLICY_SOURCE=$cm timeout 15 "$node_install" uninstall 2>&1); rc=$?
expect_eq "uninstall again: nothing left to do, exit 0" "$rc $(merged)" "0 0"
finish
