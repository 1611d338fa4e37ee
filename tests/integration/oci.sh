#!/usr/bin/env bash
# oci-hook with real runtimes from Debian (runc, crun): a busybox bundle whose network namespace
# is the testbed's sandbox, the hook at createRuntime. The container starts with the policy in
# force, or does not start at all.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
testbed_up "$p" || { fail "testbed up"; finish; exit 1; }
agent=$p-agent
bundles=$(mktemp -d)
CLEANUP_DIRS_OCI=$bundles
trap 'rm -rf "$CLEANUP_DIRS_OCI"; cleanup' EXIT

# make_bundle NAME HOOK-ARGS-JSON [EDIT-PYTHON]: a busybox bundle joined to the sandbox namespace.
make_bundle() {
    local b=$bundles/$1
    mkdir -p "$b/rootfs/bin" "$b/rootfs/etc" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev" "$b/rootfs/tmp"
    cp /bin/busybox "$b/rootfs/bin/"
    for a in sh wget nc cat echo id sleep ip; do ln -s busybox "$b/rootfs/bin/$a"; done
    printf '127.0.0.1 localhost\n172.17.0.1 host.docker.internal\n' > "$b/rootfs/etc/hosts"
    (cd "$b" && runc spec)
    python3 - "$b" "$AWF" "$agent" "$2" "${3:-}" <<'PY'
import json, sys
b, awf, ns, hook_args, edit = sys.argv[1:6]
c = json.load(open(b + "/config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c",
    "echo started > /tmp/marker; wget -q -O- -Y on http://allowed.test/; echo proxy=$?; "
    "wget -q -O- -Y off http://203.0.113.10/ 2>&1; echo direct=$?; "
    "nc -w 2 203.0.113.10 22 </dev/null 2>&1; echo ssh=$?"]
c["process"]["env"].append("http_proxy=http://172.30.0.10:3128")
for n in c["linux"]["namespaces"]:
    if n["type"] == "network":
        n["path"] = "/run/netns/" + ns
c["hooks"] = {"createRuntime": [{"path": awf, "args": ["awf-net", "oci-hook"] + json.loads(hook_args)}]}
if edit:
    exec(edit)
json.dump(c, open(b + "/config.json", "w"), indent=1)
PY
}

# crun refuses this machine's hybrid cgroup layout (cgroup2 mounted at /sys/fs/cgroup/unified
# beside the v1 controllers). In a private mount namespace without that mount it sees plain v1;
# the machine's own mounts are untouched.
# The runtimes run in the testbed's host namespace, as on a Docker host: the hook runs where
# they do, and host.docker.internal (172.17.0.1, docker0 there) is an address of that host.
host_net=(nsenter --net="/run/netns/$p-host")
crun_private() {
    unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec timeout 60 "$@"' crun "${host_net[@]}" crun "$@"
}
runc_bounded() { timeout 60 "${host_net[@]}" runc "$@"; }
runtime_cmd() { [[ $1 == crun ]] && echo crun_private || echo runc_bounded; }

for runtime in runc crun; do
    command -v $runtime >/dev/null || { fail "$runtime is installed"; continue; }
    "$AWF" delete --netns "$agent" >/dev/null
    make_bundle "$runtime-ok" '[]'
    rt=$(runtime_cmd $runtime)
    out=$($rt run -b "$bundles/$runtime-ok" "$p-$runtime-ok" 2>&1); rc=$?
    expect_eq "$runtime: the container runs with the hook" "$rc" 0
    case "$out" in *"origin 80"*"proxy=0"*) pass "$runtime: inside, a proxy-aware request through Squid works" ;;
        *) fail "$runtime: inside, a proxy-aware request through Squid works" "$out" ;; esac
    case "$out" in *"400 Bad Request"*"direct=1"*) pass "$runtime: inside, a direct request lands on Squid (400)" ;;
        *) fail "$runtime: inside, a direct request lands on Squid (400)" "$out" ;; esac
    case "$out" in *"Connection refused"*"ssh=1"*) pass "$runtime: inside, SSH to the internet is refused" ;;
        *) fail "$runtime: inside, SSH to the internet is refused" "$out" ;; esac
    expect_exit "$runtime: from outside, dump verifies the installed policy" 0 "$AWF" dump --netns "$agent"
    $rt delete -f "$p-$runtime-ok" >/dev/null 2>&1
done

# A broken hook configuration: the container does not start, and nothing is installed.
"$AWF" delete --netns "$agent" >/dev/null
make_bundle bad-policy '["--allow-host-ports", "080"]'
out=$(timeout 60 "${host_net[@]}" runc run -b "$bundles/bad-policy" "$p-bad" 2>&1); rc=$?
[[ $rc -ne 0 ]] && pass "runc: a bad policy in the hook stops the container" || fail "runc: a bad policy in the hook stops the container"
# runc quotes the hook's stderr in its own message (escaping the quotes).
case "$out" in *'awf-net: error: --allow-host-ports: '*'080'*': leading zero'*) pass "runc: the hook's one-line error reaches the operator" ;;
    *) fail "runc: the hook's one-line error reaches the operator" "$out" ;; esac
[[ ! -e "$bundles/bad-policy/rootfs/tmp/marker" ]] && pass "runc: the container process never ran" || fail "runc: the container process never ran"
expect_eq "runc: nothing installed after a refused hook" "$(ip netns exec "$agent" nft list tables | grep -c 'inet awf')" 0
runc delete -f "$p-bad" >/dev/null 2>&1

# Capabilities that bypass the IP hooks: refused unless --allow-caps.
make_bundle raw-caps '[]' 'c["process"]["capabilities"]["bounding"].append("CAP_NET_RAW"); c["process"]["capabilities"]["effective"].append("CAP_NET_RAW")'
out=$(timeout 60 "${host_net[@]}" runc run -b "$bundles/raw-caps" "$p-raw" 2>&1); rc=$?
[[ $rc -ne 0 && ! -e "$bundles/raw-caps/rootfs/tmp/marker" ]] && pass "runc: a container keeping CAP_NET_RAW is refused" || \
    fail "runc: a container keeping CAP_NET_RAW is refused" "$out"
case "$out" in *"keeps capabilities that bypass or change the policy"*"CAP_NET_RAW"*) pass "runc: the refusal names the capability" ;;
    *) fail "runc: the refusal names the capability" "$out" ;; esac
runc delete -f "$p-raw" >/dev/null 2>&1
make_bundle raw-allowed '["--allow-caps"]' 'c["process"]["capabilities"]["bounding"].append("CAP_NET_RAW")'
timeout 60 "${host_net[@]}" runc run -b "$bundles/raw-allowed" "$p-rawok" >/dev/null 2>&1
expect_eq "runc: --allow-caps accepts it" "$?" 0
runc delete -f "$p-rawok" >/dev/null 2>&1

# A sandbox allowed NET_ADMIN (--allow-caps) changes its own addresses and default route after
# the policy is in: the policy still holds for what it governs, and dump names what changed.
# 10.77.0.1 is the test's host namespace (its service on 8080); first proven reachable without
# the policy by the same container, which then undoes its changes. (Debian's static busybox
# wget crashes when given -T; nc, bounded by -w, speaks HTTP/1.0 instead.)
ip -n "$p-host" addr add 10.77.0.1/24 dev fw-bridge
drift_script='ip addr add 10.77.0.2/24 dev eth0 && ip route replace default via 10.77.0.1 && echo changed; printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 10.77.0.1 8080 2>&1; echo new=$?; wget -q -O- -Y on http://allowed.test/; echo proxy=$?; nc -w 2 203.0.113.10 22 </dev/null 2>&1; echo ssh=$?'
drift_edit="c['process']['args'] = ['sh', '-c', '''$drift_script''']
for k in ('bounding', 'effective', 'permitted'):
    c['process']['capabilities'][k].append('CAP_NET_ADMIN')"
"$AWF" delete --netns "$agent" >/dev/null
make_bundle drift-baseline '[]' "$drift_edit
c['hooks'] = {}
c['process']['args'][2] += '; ip route replace default via 172.30.0.1; ip addr del 10.77.0.2/24 dev eth0'"
out=$(timeout 60 "${host_net[@]}" runc run -b "$bundles/drift-baseline" "$p-driftb" 2>&1)
case "$out" in *changed*"origin 8080"*"new=0"*) pass "drift: without the policy, the new subnet's host answers" ;;
    *) fail "drift: without the policy, the new subnet's host answers" "$out" ;; esac
runc delete -f "$p-driftb" >/dev/null 2>&1
make_bundle drift '["--allow-caps", "--enable-host-access"]' "$drift_edit"
out=$(timeout 60 "${host_net[@]}" runc run -b "$bundles/drift" "$p-drift" 2>&1); rc=$?
expect_eq "drift: the container keeping NET_ADMIN runs with --allow-caps" "$rc" 0
case "$out" in *changed*"new=1"*) pass "drift: after its own changes, the new subnet is still denied" ;;
    *) fail "drift: after its own changes, the new subnet is still denied" "$out" ;; esac
case "$out" in *"proxy=0"*"ssh=1"*) pass "drift: Squid still serves, SSH out is still refused" ;;
    *) fail "drift: Squid still serves, SSH out is still refused" "$out" ;; esac
runc delete -f "$p-drift" >/dev/null 2>&1
out=$("$AWF" dump --netns "$agent" 2>&1); rc=$?
expect_eq "drift: dump still verifies (exit 0)" "$rc" 0
case "$out" in *"# verified"*"# facts changed since apply"*"default route now goes via 10.77.0.1, which is not a host gateway"*"host gateway 172.30.0.1 is neither the default route"*"subnet 10.77.0.0/24 is connected now but was not at apply"*) pass "drift: dump names the new subnet and the new default route" ;;
    *) fail "drift: dump names the new subnet and the new default route" "$(echo "$out" | grep '^#' | head -20)" ;; esac
changed=$("$AWF" dump --netns "$agent" --json | python3 -c 'import json,sys; f=json.load(sys.stdin)["facts"]; print(f["checked"], len(f["changed"]))')
expect_eq "drift: dump --json lists the changes" "$changed" "True 3"
ip -n "$agent" route replace default via 172.30.0.1
ip -n "$agent" addr del 10.77.0.2/24 dev eth0
case "$("$AWF" dump --netns "$agent")" in *"# facts: as at apply"*) pass "drift: once undone, dump says the facts are as at apply" ;;
    *) fail "drift: once undone, dump says the facts are as at apply" ;; esac
ip -n "$p-host" addr del 10.77.0.1/24 dev fw-bridge

# The policy named by the annotation, from the directory root gave the hook, with the hook's
# flags winning key by key.
"$AWF" delete --netns "$agent" >/dev/null
policies=$bundles/policies
mkdir -p "$policies"
printf 'allow-host-ports = 8443\nblocked-action = drop\n' > "$policies/agent.conf"
make_bundle annotated '["--policy-dir", "'"$policies"'", "--blocked-action", "reject"]' "c.setdefault('annotations', {})['io.github.awf-net.policy'] = 'agent'"
timeout 60 "${host_net[@]}" runc run -b "$bundles/annotated" "$p-ann" >/dev/null 2>&1
expect_eq "runc: a container naming a policy starts" "$?" 0
out=$("$AWF" dump --netns "$agent")
case "$out" in *"redirected TCP ports 80,443,8443"*"blocked action reject"*) pass "runc: the named policy applies, the hook's flags win" ;;
    *) fail "runc: the named policy applies, the hook's flags win" "$(echo "$out" | head -9)" ;; esac
runc delete -f "$p-ann" >/dev/null 2>&1

# Whatever the container's author puts in the annotation is a name: a path, a climb out of the
# directory, an unknown name, or the retired path-taking annotation are refused, the container
# never runs, nothing is installed, and no line of any file reaches the runtime's message.
"$AWF" delete --netns "$agent" >/dev/null
secret=$bundles/secret.conf
printf 'TOP-SECRET-7f3a\n' > "$secret"
chmod 600 "$secret"
printf 'role = proxy\nintercept = true\n' > "$policies/squid.conf"
for spec in "policy|$secret|not a policy name" "policy|../secret|not a policy name" \
            "policy|nosuch|no such policy" "config|$secret|no longer accepted" \
            "policy|squid|proxy-role policy filters nothing"; do
    IFS='|' read -r key value why <<< "$spec"
    make_bundle "named-$key" '["--policy-dir", "'"$policies"'"]' "c.setdefault('annotations', {})['io.github.awf-net.$key'] = '$value'"
    out=$(timeout 60 "${host_net[@]}" runc run -b "$bundles/named-$key" "$p-named" 2>&1); rc=$?
    [[ $rc -ne 0 && ! -e "$bundles/named-$key/rootfs/tmp/marker" && "$out" == *"$why"* ]] && \
        pass "runc: annotation $key=$value is refused ($why)" || fail "runc: annotation $key=$value is refused ($why)" "$out"
    [[ "$out" != *TOP-SECRET* ]] && pass "runc: ... and no file content is shown" || fail "runc: ... and no file content is shown" "$out"
    expect_eq "runc: ... and nothing is installed" "$(ip netns exec "$agent" nft list tables | grep -c 'inet awf')" 0
    runc delete -f "$p-named" >/dev/null 2>&1
    rm -rf "$bundles/named-$key"
done
# The same name from the command line (root's own choice), for the tests below.
expect_exit "apply --policy NAME --policy-dir DIR" 0 "$AWF" apply --netns "$agent" --policy-dir "$policies" --policy agent --blocked-action reject
expect_exit "apply --policy with a path is exit 2" 2 "$AWF" apply --netns "$agent" --policy-dir "$policies" --policy "$secret"

# A second container in a namespace that already holds another policy (podman's `--network
# container:victim`, a reused namespace): the hook never replaces that policy.
before=$(ip netns exec "$agent" nft list table inet awf)
make_bundle newcomer '[]'
out=$(timeout 60 "${host_net[@]}" runc run -b "$bundles/newcomer" "$p-new" 2>&1); rc=$?
[[ $rc -ne 0 && ! -e "$bundles/newcomer/rootfs/tmp/marker" ]] && pass "runc: a newcomer cannot replace another container's policy" || \
    fail "runc: a newcomer cannot replace another container's policy" "$out"
case "$out" in *"already holds another policy"*) pass "runc: and the hook says why" ;; *) fail "runc: and the hook says why" "$out" ;; esac
expect_eq "runc: the first container's policy is untouched" "$(ip netns exec "$agent" nft list table inet awf)" "$before"
runc delete -f "$p-new" >/dev/null 2>&1
# Joining a running process's namespace by /proc path is refused before anything is read.
ip netns exec "$agent" sleep 30 &
victim=$!
CLEANUP_PIDS+=("$victim")
make_bundle joiner '[]' "n = [x for x in c['linux']['namespaces'] if x['type'] == 'network'][0]; n['path'] = '/proc/$victim/ns/net'"
out=$(timeout 60 "${host_net[@]}" runc run -b "$bundles/joiner" "$p-join" 2>&1); rc=$?
[[ $rc -ne 0 && ! -e "$bundles/joiner/rootfs/tmp/marker" ]] && pass "runc: joining a running process's namespace is refused" || \
    fail "runc: joining a running process's namespace is refused" "$out"
case "$out" in *"joins the network namespace of a running process"*) pass "runc: and the refusal says so" ;; *) fail "runc: and the refusal says so" "$out" ;; esac
expect_eq "runc: and the policy there is untouched" "$(ip netns exec "$agent" nft list table inet awf)" "$before"
runc delete -f "$p-join" >/dev/null 2>&1
# ... however the path is spelled: the namespace's identity decides, not the string.
ln -s "/proc/$victim/ns/net" "$bundles/victim-link"
touch "$bundles/victim-mount"
mount --bind "/proc/$victim/ns/net" "$bundles/victim-mount"
for path in "//proc/$victim/ns/net" "/proc/./$victim/ns/net" "$bundles/victim-link" "$bundles/victim-mount"; do
    make_bundle joiner2 '[]' "n = [x for x in c['linux']['namespaces'] if x['type'] == 'network'][0]; n['path'] = '$path'"
    out=$(timeout 60 "${host_net[@]}" runc run -b "$bundles/joiner2" "$p-join2" 2>&1); rc=$?
    [[ $rc -ne 0 && ! -e "$bundles/joiner2/rootfs/tmp/marker" && $out == *"joins the network namespace of a running process"* ]] && \
        pass "runc: joining a running process's namespace as $path is refused" || \
        fail "runc: joining a running process's namespace as $path is refused" "$out"
    runc delete -f "$p-join2" >/dev/null 2>&1
    rm -rf "$bundles/joiner2"
done
umount "$bundles/victim-mount"
expect_eq "runc: and the policy there is still untouched" "$(ip netns exec "$agent" nft list table inet awf)" "$before"
kill "$victim" 2>/dev/null; wait "$victim" 2>/dev/null

# The bundle's config.json is read like every file a tenant may shape: not through a link, never
# a FIFO (nothing blocks), bounded, never nested without limit, never shown in an error.
printf '{"ociVersion":"1.0.2","process":{"capabilities":{"TOP-SECRET-cfg":{"k":"TOP-SECRET-cfg"}}}}' > "$bundles/secret-config.json"
hook_with() { # hook_with BUNDLE-DIR: the hook's answer to a state naming it
    printf '{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":%d,"bundle":"%s"}' "$$" "$1" |
        timeout 10 "$AWF" oci-hook 2>&1
}
mkdir -p "$bundles/cfg-link" "$bundles/cfg-fifo" "$bundles/cfg-big" "$bundles/cfg-deep" "$bundles/cfg-secret"
ln -s "$bundles/secret-config.json" "$bundles/cfg-link/config.json"
mkfifo "$bundles/cfg-fifo/config.json"
head -c $((5 << 20)) /dev/zero | tr '\0' ' ' > "$bundles/cfg-big/config.json"
python3 -c 'import sys; print("{\"process\":" + "[" * 200000 + "]" * 200000 + "}")' > "$bundles/cfg-deep/config.json"
cp "$bundles/secret-config.json" "$bundles/cfg-secret/config.json"
for spec in "cfg-link|not a regular file" "cfg-fifo|not a regular file" "cfg-big|larger than 4 MiB" \
            "cfg-deep|nested deeper than 64 levels" "cfg-secret|not a list (an object)"; do
    IFS='|' read -r dir why <<< "$spec"
    out=$(hook_with "$bundles/$dir"); rc=$?
    [[ $rc -eq 2 && $out == *"$why"* && $out != *TOP-SECRET* && $(echo "$out" | wc -l) -eq 1 ]] && \
        pass "oci-hook: a bundle config.json that is $why is refused in one line, exit 2, unshown" || \
        fail "oci-hook: a bundle config.json that is $why is refused in one line" "exit $rc: $(echo "$out" | head -c 300)"
done

# A container without its own network namespace shares the runtime's: the hook refuses to
# firewall it. The runtime itself runs inside a throwaway namespace, so even a regression here
# could never touch the machine's own.
host_ns=$p-hostlike
make_ns "$host_ns"
make_bundle shared-netns '[]' 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]'
# nsenter switches only the network namespace (ip netns exec would remount /sys, losing cgroups).
out=$(nsenter --net="/run/netns/$host_ns" timeout 60 runc run -b "$bundles/shared-netns" "$p-shared" 2>&1); rc=$?
[[ $rc -ne 0 ]] && pass "runc: a container sharing the runtime's network namespace is refused" || fail "runc: shared namespace refused" "$out"
case "$out" in *"shares awf-net's own network namespace"*) pass "runc: and the hook says why" ;; *) fail "runc: and the hook says why" "$out" ;; esac
expect_eq "runc: that namespace got no policy" "$(ip netns exec "$host_ns" nft list tables | grep -c awf)" 0
runc delete -f "$p-shared" >/dev/null 2>&1

# Bad standard input, each failing closed with one line.
expect_exit "oci-hook: empty stdin is exit 2" 2 sh -c "printf '' | '$AWF' oci-hook"
expect_exit "oci-hook: non-JSON stdin is exit 2" 2 sh -c "echo hello | '$AWF' oci-hook"
expect_exit "oci-hook: a pid that is gone is exit 3" 3 sh -c "echo '{\"status\":\"creating\",\"pid\":4000000,\"bundle\":\"/nonexistent\"}' | '$AWF' oci-hook"
expect_exit "oci-hook: an unreadable bundle is exit 2" 2 sh -c "echo '{\"status\":\"creating\",\"pid\":$$,\"bundle\":\"/nonexistent\"}' | '$AWF' oci-hook"
expect_exit "oci-hook: a stopped container is exit 2" 2 sh -c "echo '{\"status\":\"stopped\",\"pid\":$$,\"bundle\":\"/b\"}' | '$AWF' oci-hook"
finish
