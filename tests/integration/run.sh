#!/usr/bin/env bash
# awf-net run: the policy is installed, the command runs inside the target with no capability in
# any set, no_new_privs, /proc/sys read-only, as the requested user, and cannot change the
# policy; its exit status and signals pass through; errors before exec are awf-net's.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
ns=$p-r
make_ns "$ns"
stand_in_interface "$ns"
mkdir -p "/etc/netns/$ns"
printf '172.17.0.1 host.docker.internal\n' > "/etc/netns/$ns/hosts"
run_root() { "$AWF" run --netns "$ns" --as-root -- "$@"; }

out=$(run_root sh -c 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status' 2>&1)
expect_eq "no capability in any set, no_new_privs set" "$(echo "$out" | awk '{print $2}' | sort -u | tr '\n' ' ')" \
    "0000000000000000 1 "
expect_eq "the policy is installed before the command runs" "$(ip netns exec "$ns" nft list tables | grep -c 'inet awf')" 1
expect_eq "the command runs in the target namespace" "$(run_root ip -o -4 addr show dev v0 | awk '{print $4}')" "172.30.0.20/24"
expect_eq "the target's /etc/netns files cover /etc, as with ip netns exec" "$(run_root cat /etc/hosts)" "172.17.0.1 host.docker.internal"

before=$(ruleset_text "$ns")
for attempt in "nft flush ruleset" "nft delete table inet awf" \
               "nft insert rule inet awf filter_output accept" "nft add table inet mine" \
               "iptables-nft -F" "ip route add 10.99.0.0/16 dev lo" "ip link set v0 down" \
               "sysctl -w net.ipv6.conf.all.disable_ipv6=0" \
               "sh -c 'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet'" \
               "sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/disable_ipv6'"; do
    # shellcheck disable=SC2086
    if eval run_root $attempt >/dev/null 2>&1; then fail "as root without capabilities, '$attempt' is refused"
    else pass "as root without capabilities, '$attempt' is refused"; fi
done
expect_eq "the policy is unchanged after every attempt" "$(ruleset_text "$ns")" "$before"
expect_eq "route_localnet still 0" "$(ip netns exec "$ns" sysctl -n net.ipv4.conf.all.route_localnet)" 0
out=$(run_root /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try: s.sendto(b"x", ("203.0.113.9", 9999)); print("sent")
except OSError as e: print(e.errno)')
expect_eq "the command's traffic meets the policy (UDP denied: EPERM)" "$out" 1

expect_eq "--user takes effect" "$("$AWF" run --netns "$ns" --user nobody -- id -u)" 65534
expect_eq "--user USER:GROUP takes effect" "$("$AWF" run --netns "$ns" --user nobody:nogroup -- id -g)" 65534
expect_eq "--user resets supplementary groups" "$("$AWF" run --netns "$ns" --user 1000:1000 -- id -G)" 1000
expect_eq "--user 0 is root by number" "$("$AWF" run --netns "$ns" --user 0 -- id -u)" 0

# Root without capabilities still owns root's files: every mount is read-only for the command
# (mount options of each mount otherwise kept) but the --writable paths.
marker=/etc/awf-net-run-test-$p
out=$(run_root sh -c "touch $marker" 2>&1); rc=$?
[[ $rc -ne 0 && ! -e $marker ]] && pass "as root, the host's /etc cannot be written" || fail "as root, the host's /etc cannot be written" "$out"
rm -f "$marker"
case "$out" in *"Read-only file system"*) pass "and it is the read-only mount that refuses" ;; *) fail "and it is the read-only mount that refuses" "$out" ;; esac
sum=$(sha256sum < "$AWF")
out=$(run_root sh -c "cat /bin/true > '$AWF'" 2>&1)
expect_eq "as root, awf-net's own binary cannot be replaced" "$(sha256sum < "$AWF")" "$sum"
work=$(mktemp -d)
chown 65534:65534 "$work" # root inside is nobody outside
expect_exit "a --writable path can be written" 0 "$AWF" run --netns "$ns" --as-root --writable "$work" -- sh -c "echo ok > '$work/f'"
expect_eq "and the write landed" "$(cat "$work/f" 2>/dev/null)" "ok"
expect_eq "written by root inside, owned by nobody on the host" "$(stat -c %u "$work/f" 2>/dev/null)" 65534
expect_exit "but only that path" 1 "$AWF" run --netns "$ns" --as-root --writable "$work" -- sh -c "touch '$marker'"
rm -rf "$work" "$marker"
expect_exit "a --writable that is not an absolute existing path is exit 2" 2 "$AWF" run --netns "$ns" --as-root --writable relative -- true
expect_eq "the machine's own / is still writable afterwards" "$(findmnt -no OPTIONS / | tr ',' '\n' | grep -cx rw)" 1

# The command's sandbox (bubblewrap): what root without capabilities could still reach on the
# host, tried as root and as a user, with a user namespace and without one (platforms that
# refuse them). Each target is first shown to answer from the host.
img=$(mktemp); head -c 65536 /dev/zero > "$img"
loopdev=$(losetup -f --show "$img")
[[ -b $loopdev ]] || fail "a loop device for the block-device attack" "$loopdev"
sock=/run/awf-test-$p.sock
/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o600); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"root-only\n"); c.close()' "$sock" &
CLEANUP_PIDS+=($!)
sleep 300 & victim=$!
CLEANUP_PIDS+=($victim)
for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.1; done
connect="/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(s.recv(64).decode().strip())' $sock"
expect_eq "the root-only socket answers on the host" "$(eval "$connect" 2>&1)" "root-only"
expect_eq "the digest key exists on the host" "$(test -s /var/lib/awf-net/digest.key && echo yes)" yes
img_sum=$(sha256sum < "$img")
for mode in userns no-userns; do
    env=(); [[ $mode == no-userns ]] && env=(AWF_RUN_NO_USERNS=1)
    whos=("--as-root" "--user 1000:1000"); [[ $mode == no-userns ]] && whos=("--user 1000:1000")
    for who in "${whos[@]}"; do
        # shellcheck disable=SC2206
        r=(env "${env[@]}" "$AWF" run --netns "$ns" $who --)
        label="$mode, $who"
        out=$("${r[@]}" sh -c "printf attack > $loopdev" 2>&1)
        expect_eq "$label: a root-owned block device cannot be written" "$(sha256sum < "$img")" "$img_sum"
        out=$("${r[@]}" sh -c "$connect" 2>&1); rc=$?
        [[ $rc -ne 0 && $out != *root-only* ]] && pass "$label: a root-only socket of the host cannot be reached" || \
            fail "$label: a root-only socket of the host cannot be reached" "$out"
        "${r[@]}" sh -c "kill -KILL $victim" >/dev/null 2>&1
        kill -0 "$victim" 2>/dev/null && pass "$label: a host process cannot be killed" || fail "$label: a host process cannot be killed"
        out=$("${r[@]}" cat /var/lib/awf-net/digest.key 2>&1 | od -An -c | head -c 40); rc=${PIPESTATUS[0]}
        [[ $("${r[@]}" sh -c 'cat /var/lib/awf-net/digest.key | wc -c' 2>/dev/null) == 0 ]] && pass "$label: the digest key cannot be read" || \
            fail "$label: the digest key cannot be read" "$out"
        expect_eq "$label: its own PID namespace (bubblewrap is its init; the host's processes are not there)" \
            "$("${r[@]}" sh -c "cat /proc/1/comm; test -e /proc/$victim && echo visible" 2>&1)" bwrap
        expect_eq "$label: a private /dev" "$("${r[@]}" ls /dev 2>&1 | grep -c -E '^(loop|vd|sd|nvme|mem|kmsg)')" 0
        expect_eq "$label: no capability, no_new_privs" \
            "$("${r[@]}" sh -c 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status' | awk '{print $2}' | sort -u | tr '\n' ' ')" \
            "0000000000000000 1 "
        out=$("${r[@]}" sh -c 'echo "|/bin/true" > /proc/sys/kernel/core_pattern' 2>&1)
        [[ $(cat /proc/sys/kernel/core_pattern) != "|/bin/true" ]] && pass "$label: /proc/sys cannot be written (core_pattern)" || \
            fail "$label: /proc/sys cannot be written (core_pattern)" "$out"
        out=$( (exec 7</; "${r[@]}" sh -c 'ls /proc/self/fd/7/var/lib/awf-net' 2>&1) ); rc=$?
        [[ $rc -ne 0 && $out != *digest.key* ]] && pass "$label: no descriptor of the caller's passes in" || \
            fail "$label: no descriptor of the caller's passes in" "$out"
        # TIOCSTI would push keystrokes into the caller's terminal; on /dev/null it is ENOTTY
        # without the filter, EPERM with it.
        expect_eq "$label: terminal injection (TIOCSTI) is refused" \
            "$("${r[@]}" /usr/bin/python3 -c 'import fcntl, termios
try: fcntl.ioctl(0, termios.TIOCSTI, b"x"); print("done")
except OSError as e: print(e.errno)' < /dev/null 2>&1)" 1
    done
done
out=$(AWF_RUN_NO_USERNS=1 "$AWF" run --netns "$ns" --as-root -- true 2>&1); rc=$?
[[ $rc -eq 2 && $out == *"needs a user namespace"* ]] && pass "without a user namespace, --as-root is refused (it would own the host's files)" || \
    fail "without a user namespace, --as-root is refused" "exit $rc: $out"
# A target owned by a user namespace of the command's own uid (a rootless container's) would
# give it every capability over its policy, were the command not in a user namespace of its own.
setpriv --reuid 1000 --regid 1000 --clear-groups unshare -r -n sleep 120 &
rootless=$!
CLEANUP_PIDS+=($rootless)
for _ in $(seq 50); do [[ $(readlink /proc/$rootless/ns/net) != "$(readlink /proc/self/ns/net)" ]] && break; sleep 0.1; done
out=$(AWF_RUN_NO_USERNS=1 "$AWF" run --pid "$rootless" --user 1000:1000 -- true 2>&1); rc=$?
[[ $rc -eq 3 && $out == *"belongs to another user namespace"* ]] && pass "without a user namespace, a target owned by another user namespace is refused" || \
    fail "without a user namespace, a target owned by another user namespace is refused" "exit $rc: $out"
out=$("$AWF" run --pid "$rootless" --user 1000:1000 -- nft delete table inet awf 2>&1); rc=$?
[[ $rc -ne 0 && $(nsenter --net=/proc/$rootless/ns/net nft list tables) == *"inet awf"* ]] && \
    pass "with one, a command in a rootless container's namespace still cannot touch the policy" || \
    fail "with one, a command in a rootless container's namespace still cannot touch the policy" "exit $rc: $out"
kill "$rootless" 2>/dev/null
for w in / /var /var/lib /run /run/netns /var/lib/awf-net; do
    expect_exit "--writable $w would uncover a hidden directory: exit 2" 2 "$AWF" run --netns "$ns" --as-root --writable "$w" -- true
done
# The caller's session keyring is not the command's.
out=$(/usr/bin/python3 - "$AWF" "$ns" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall(250, 1, b"awf-test")  # keyctl(KEYCTL_JOIN_SESSION_KEYRING, name)
libc.syscall(248, b"user", b"awf-secret", b"hunter2", 7, ctypes.c_int(-3))  # add_key to @s
probe = "import ctypes; l=ctypes.CDLL(None); print(l.syscall(250, 10, ctypes.c_int(-3), b'user', b'awf-secret', 0))"
os.execv(sys.argv[1], [sys.argv[1], "run", "--netns", sys.argv[2], "--user", "1000:1000", "--", "/usr/bin/python3", "-c", probe])
PY
)
expect_eq "the caller's session keyring stays outside (its key is not found)" "$out" -1
expect_eq "without one, --user still takes effect" "$(AWF_RUN_NO_USERNS=1 "$AWF" run --netns "$ns" --user 1000:1000 -- sh -c 'id -u; id -G' | tr '\n' ' ')" "1000 1000 "
losetup -d "$loopdev"; rm -f "$img" "$sock"

run_root sh -c 'exit 42'
expect_eq "the command's exit status passes through" "$?" 42
run_root sh -c 'kill -TERM $$'
expect_eq "a signal that kills the command passes through (128+15)" "$?" 143

expect_exit "a bad policy is exit 2, before anything runs" 2 "$AWF" run --netns "$ns" --as-root --allow-host-ports 080 -- true
expect_exit "a missing target is exit 3" 3 "$AWF" run --netns "$p-missing" --as-root -- true
expect_exit "an unknown user is exit 2" 2 "$AWF" run --netns "$ns" --user no-such-user-here -- true
expect_exit "neither --user nor --as-root is exit 2" 2 "$AWF" run --netns "$ns" -- true
expect_exit "no command is exit 2" 2 "$AWF" run --netns "$ns" --as-root --
expect_exit "a command that does not exist is 127" 127 run_root no-such-command-here
finish
