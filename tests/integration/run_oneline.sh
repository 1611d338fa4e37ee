#!/usr/bin/env bash
# The one-line run (run.md): `awf-net run --allow-domains NAME -- COMMAND` with no TARGET builds
# the sandbox, its link, its Squid and resolver, runs COMMAND, reports and leaves nothing. Every
# run happens inside the testbed's host namespace (nsenter: the network namespace only), which
# stands in for the machine: its routes reach the testbed's origins and resolver.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
testbed_up "$p" || { fail "testbed up"; finish; exit 1; }
host=$p-host
on_host() { nsenter --net="/run/netns/$host" "$@"; }
# As `sudo` would leave it: the caller's ids in SUDO_UID/SUDO_GID, COMMAND runs as them.
AS_USER=(env SUDO_UID=65534 SUDO_GID=65534)
RUN=(on_host "${AS_USER[@]}" "$AWF" run --dns-servers 203.0.113.53)
CURL=(curl -s -m 5)

# What the host has before any run: compared with what it has after every kind of ending.
host_state() {
    on_host ip -o link show | sed 's/^[0-9]*: //; s/ state .*//' | sort
    on_host ip -o addr show | awk '{print $2, $4}' | sort
    on_host ip route show table all | grep -v "fe80::" | sort
    on_host nft list ruleset | md5sum
    ls /run/netns | grep '^awf-' || true
    ls /etc/netns | grep '^awf-' || true
    ls /run/awf-net/runs 2>/dev/null || true
}
before=$(host_state)
same_host() { # same_host NAME: the host has exactly what it had before (else: the difference)
    local now
    now=$(host_state)
    if [[ "$now" == "$before" ]]; then pass "$1"; else fail "$1" "$(diff <(echo "$before") <(echo "$now") | grep '^[<>]' | head -6 | tr '\n' ' ')"; fi
}

# The targets answer from the host: a denial below is the sandbox's, not a dead target.
expect_eq "the origin answers HTTP from the host" "$(on_host "${CURL[@]}" http://203.0.113.10/)" "origin 80"
expect_eq "the origin answers TLS from the host" "$(on_host "${CURL[@]}" -k https://203.0.113.10/)" "origin 443"
check "the origin answers on 22 from the host" on_host bash -c 'exec 3<>/dev/tcp/203.0.113.10/22'
# A DNS query by hand (no dig here): the answer's first bytes echo the query's id.
dns_query='import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2); q=b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07allowed\x04test\x00\x00\x01\x00\x01"
try:
    s.sendto(q,("203.0.113.53",53)); print("open" if s.recv(512)[:2]==b"\x12\x34" else "closed")
except OSError: print("closed")'
expect_eq "the resolver answers from the host" "$(on_host python3 -c "$dns_query")" open

# One line: an allowed name by plain HTTP and by CONNECT, a denied one, the rest unreachable.
script='
id -u; pwd
curl -s -m 5 http://allowed.test/
curl -sk -m 5 https://allowed.test/
curl -s -m 5 -o /dev/null -w "%{http_code}\n" http://denied.test/
curl -sk -m 5 -o /dev/null -w "%{http_connect}\n" https://denied.test/
curl -s -m 5 --noproxy "*" http://203.0.113.10/ | grep -c origin
curl -sk -m 5 --noproxy "*" https://203.0.113.10/ | grep -c origin
timeout 5 bash -c "exec 3<>/dev/tcp/203.0.113.10/22" 2>/dev/null && echo ssh-open || echo ssh-closed
echo "dns-foreign-$(/usr/bin/python3 -c "$DNS_QUERY")"
getent hosts allowed.test | cut -d" " -f1
getent hosts denied.test >/dev/null && echo dns-denied-resolves || echo dns-denied-nxdomain
curl -s -m 5 --noproxy "*" http://allowed.test/
curl -sk -m 5 --noproxy "*" https://allowed.test/
curl -s -m 5 --noproxy "*" --resolve denied.test:80:203.0.113.10 -o /dev/null -w "%{http_code}\n" http://denied.test/
curl -sk -m 5 --noproxy "*" --resolve denied.test:443:203.0.113.10 https://denied.test/ | grep -c origin
exit 7'
work=$(mktemp -d)
chmod 777 "$work"
out=$(cd "$work" && DNS_QUERY=$dns_query "${RUN[@]}" --audit-log "$work/audit.jsonl" --allow-domains allowed.test -- sh -c "$script" 2>"$work/err"); rc=$?
mapfile -t got <<< "$out"
expect_eq "COMMAND's exit status is awf-net's" "$rc" 7
expect_eq "COMMAND runs as the sudo user" "${got[0]}" 65534
expect_eq "COMMAND runs in the caller's directory" "${got[1]}" "$work"
expect_eq "an allowed name by plain HTTP (proxy variables set)" "${got[2]}" "origin 80"
expect_eq "an allowed name by CONNECT" "${got[3]}" "origin 443"
expect_eq "a denied name by plain HTTP: Squid's 403" "${got[4]}" 403
expect_eq "a denied name by CONNECT: Squid's 403" "${got[5]}" 403
expect_eq "a bare IP by HTTP without the proxy: never the origin" "${got[6]}" 0
expect_eq "a bare IP by TLS without the proxy: never the origin" "${got[7]}" 0
expect_eq "another port (22): closed" "${got[8]}" ssh-closed
expect_eq "a foreign resolver: closed" "${got[9]}" dns-foreign-closed
expect_eq "names resolve through the host end's resolver" "${got[10]}" 203.0.113.10
expect_eq "interception: a proxy-unaware client reaches an allowed name by HTTP" "${got[12]}" "origin 80"
expect_eq "interception: ... and by TLS (spliced on its SNI)" "${got[13]}" "origin 443"
expect_eq "interception: a proxy-unaware client never reaches a denied name (HTTP)" "${got[14]}" 403
expect_eq "interception: ... nor by TLS" "${got[15]}" 0
expect_eq "... only names the list could admit (no DNS to a name off it)" "${got[11]}" dns-denied-nxdomain
summary=$(cat "$work/err")
case "$summary" in *"requests allowed"*"allowed  allowed.test (4)"*"denied   denied.test (4)"*) pass "the exit summary counts by domain" ;;
    *) fail "the exit summary counts by domain" "$summary" ;; esac
case "$summary" in *"packets denied by the policy"*"denied   tcp 203.0.113.10:22 ("*) pass "the summary names denied packets by destination" ;;
    *) fail "the summary names denied packets by destination" "$summary" ;; esac
# The audit log: one valid JSON object per decision, the same counts as the summary.
audit=$(python3 - "$work/audit.jsonl" "$work/err" <<'PY'
import json, re, sys
objs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
summary = open(sys.argv[2]).read()
ok = all({"timestamp", "event", "_schema"} <= o.keys() and o["timestamp"].endswith("Z") for o in objs)
counted = {}
for o in objs:
    if o["event"] == "request":
        k = (o["decision"], o["domain"]); counted[k] = counted.get(k, 0) + 1
said = {(d, n): int(c) for d, n, c in re.findall(r"^  (allowed|denied) +(\S+) \((\d+)\)$", summary, re.M) if "." in n and not n[0].isdigit() or n.startswith("(")}
same = all(counted.get(k, 0) == v for k, v in said.items() if k[1] in ("allowed.test", "denied.test"))
both = counted.get(("allowed", "allowed.test"), 0) >= 4 and counted.get(("denied", "denied.test"), 0) >= 3
ssh = any(o["event"] == "packet" and o["destination"] == "tcp 203.0.113.10:22" for o in objs)
print(ok, same, both, ssh, [o["timestamp"] for o in objs] == sorted(o["timestamp"] for o in objs))
PY
)
expect_eq "--audit-log: valid objects, the summary's counts, both paths, the denied packet, in time order" "$audit" "True True True True True"
same_host "the host is as before after a run"

# The caller's directory is writable; the rest of the file system is not.
out=$(cd "$work" && "${RUN[@]}" -q --allow-domains allowed.test -- sh -c 'echo hi > here; { echo x > /etc/awf-probe; } 2>/dev/null || echo ro' 2>&1)
expect_eq "-q: no summary; /etc read-only" "$out" ro
expect_eq "... and the current directory writable" "$(cat "$work/here" 2>/dev/null)" hi

# What the helper review found, each closed: no set-id file is left in the writable directory;
# home directories (the caller's sockets) are out of sight; an allowed name that resolves to
# the host reaches nothing of it through Squid.
out=$(cd "$work" && "${RUN[@]}" -q --allow-domains allowed.test -- sh -c 'cp /usr/bin/id ./sid; chmod 4755 ./sid 2>/dev/null && echo chmod-ok || echo chmod-refused; ls -A /root | wc -l' 2>&1)
expect_eq "no set-user-ID file can be made in the writable directory; /root is empty inside" "$(echo $out)" "chmod-refused 0"
[[ -e "$work/sid" && ! -u "$work/sid" ]] && pass "... the copy is there, without the bit" || fail "... the copy is there, without the bit" "$(ls -l "$work/sid" 2>&1)"
on_host setsid python3 -m http.server 80 --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 < /dev/null &
loop_srv=$!
for _ in $(seq 50); do on_host curl -s -m 1 -o /dev/null http://127.0.0.1/ && break; sleep 0.1; done
expect_eq "the host's loopback server answers on the host" "$(on_host curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1/)" 200
expect_eq "an allowed name resolving to the host's loopback: Squid refuses (403)" \
    "$("${RUN[@]}" -q --allow-domains loop.test -- curl -s -m 5 -o /dev/null -w '%{http_code}' http://loop.test/ 2>&1)" 403
kill "$loop_srv" 2>/dev/null; wait "$loop_srv" 2>/dev/null

# Signals: COMMAND's own death by a signal is 128+N; a TERM to awf-net reaches COMMAND.
expect_exit "a COMMAND killed by TERM: 143" 143 "${RUN[@]}" -q --allow-domains allowed.test -- sh -c 'kill -TERM $$'
nsenter --net="/run/netns/$host" "${AS_USER[@]}" "$AWF" run --dns-servers 203.0.113.53 -q --name "sig$p" --allow-domains allowed.test -- \
    sh -c 'trap "echo got-term > /tmp/t; exit 42" TERM; echo ready; while :; do sleep 0.1; done' > "$work/sig.out" 2>&1 &
runner=$!
for _ in $(seq 100); do grep -q ready "$work/sig.out" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$runner"
wait "$runner"; rc=$?
expect_eq "TERM to awf-net is forwarded: COMMAND's trap runs, its status is awf-net's" "$rc" 42
same_host "the host is as before after an interrupted run"

# ps while a run lives: its address serves what runs inside, reachable from the host.
nsenter --net="/run/netns/$host" "${AS_USER[@]}" "$AWF" run --dns-servers 203.0.113.53 -q --name "srv$p" --allow-domains allowed.test -- \
    /usr/bin/python3 -m http.server 8000 --bind 0.0.0.0 > "$work/srv.out" 2>&1 &
server=$!
addr=
for _ in $(seq 100); do
    addr=$(on_host "$AWF" ps --json | python3 -c "import json,sys; print(next((r['address'] for r in json.load(sys.stdin) if r['name']=='srv$p'), ''))")
    [[ -n $addr ]] && on_host curl -s -m 1 -o /dev/null "http://$addr:8000/" && break
    sleep 0.1
done
case "$(on_host "$AWF" ps)" in *"srv$p"*"$addr"*"10.213."*"python3 -m http.server"*) pass "ps: name, address, Squid, command" ;; *) fail "ps" "$(on_host "$AWF" ps)" ;; esac
expect_eq "a server inside is reached from the host at the address ps shows" \
    "$(on_host curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$addr:8000/")" 200
squid=$(on_host "$AWF" ps --json | python3 -c "import json,sys; print(next(r['squid'] for r in json.load(sys.stdin) if r['name']=='srv$p'))")
expect_eq "the run's Squid serves its sandbox only (the host asking: 403)" \
    "$(on_host curl -s -m 5 -o /dev/null -w '%{http_code}' -x "http://$squid" http://allowed.test/)" 403
kill -TERM "$server"; wait "$server"

# The host end's wall holds when the sandbox's own policy is gone (as if COMMAND had somehow
# gained NET_ADMIN in its namespace): the test removes that table mid-run, then COMMAND tries a
# host service on the link's address and, through the host, the testbed's other Squid.
on_host setsid python3 -m http.server 9876 --bind 0.0.0.0 --directory "$work" >/dev/null 2>&1 < /dev/null &
hostsvc=$!
for _ in $(seq 50); do on_host curl -s -m 1 -o /dev/null http://127.0.0.1:9876/ && break; sleep 0.1; done
expect_eq "a host service answers on the host (9876)" "$(on_host curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:9876/)" 200
expect_eq "the testbed's other Squid answers from the host" "$(on_host curl -s -m 5 -o /dev/null -w '%{http_code}' -x http://172.30.0.10:3128 http://allowed.test/)" 200
rm -f "$work/go" "$work/wall.out"
(cd "$work" && nsenter --net="/run/netns/$host" "${AS_USER[@]}" "$AWF" run --dns-servers 203.0.113.53 -q --name "wal$p" --allow-domains allowed.test -- \
    sh -c 'gw=$(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p"); while [ ! -e go ]; do sleep 0.05; done
           curl -s -m 3 --noproxy "*" -o /dev/null -w "%{http_code} " http://$gw:9876/
           curl -s -m 3 -o /dev/null -w "%{http_code}" -x http://172.30.0.10:3128 http://allowed.test/
           echo' > "$work/wall.out" 2>&1) &
waller=$!
for _ in $(seq 100); do grep -q '"command":{"pid":[1-9]' "/run/awf-net/runs/wal$p/record.json" 2>/dev/null && break; sleep 0.05; done
case "$(on_host nft list table inet "awf_link_wal$p" 2>&1)" in *"link: anything else"*) pass "a run has its wall on the host end (table inet awf_link_NAME)" ;;
    *) fail "a run has its wall on the host end" "$(on_host nft list tables)" ;; esac
ip netns exec "awf-wal$p" nft delete table inet awf && pass "(the sandbox's own table removed by the test)" || fail "remove the sandbox's table"
touch "$work/go"
wait "$waller"
expect_eq "without the sandbox's policy: the host service and the path through the host stay closed" "$(cat "$work/wall.out")" "000 000"
kill "$hostsvc" 2>/dev/null; wait "$hostsvc" 2>/dev/null
same_host "the host is as before after the wall test (its table gone too)"

# SIGKILL of awf-net: Squid and COMMAND die with it; gc (or the next run) sweeps the rest.
nsenter --net="/run/netns/$host" "${AS_USER[@]}" "$AWF" run --dns-servers 203.0.113.53 -q --name "kil$p" --allow-domains allowed.test -- sleep 60 &
victim=$!
for _ in $(seq 100); do [[ -e "/run/awf-net/runs/kil$p/record.json" ]] && grep -q '"command":{"pid":[1-9]' "/run/awf-net/runs/kil$p/record.json" && break; sleep 0.05; done
squid_pid=$(python3 -c "import json; print(json.load(open('/run/awf-net/runs/kil$p/record.json'))['squid']['pid'])")
kill -KILL "$victim"; wait "$victim" 2>/dev/null
sleep 0.3
[[ ! -e /proc/$squid_pid ]] && pass "SIGKILL: Squid dies with awf-net" || fail "SIGKILL: Squid dies with awf-net"
pgrep -f "sleep 60" >/dev/null && fail "SIGKILL: COMMAND dies with awf-net" || pass "SIGKILL: COMMAND dies with awf-net"
[[ -e "/run/netns/awf-kil$p" ]] && pass "SIGKILL leaves the namespace (for gc)" || fail "SIGKILL leaves the namespace (for gc)"
expect_eq "gc sweeps it" "$(on_host "$AWF" gc)" "awf-net gc: 1 sandbox swept"
same_host "the host is as before after SIGKILL and gc"

# Concurrent runs with different lists: each sees its own only.
for i in 1 2 3 4 5 6 7 8; do
    if (( i % 2 )); then allow=allowed.test; other=origin.test; else allow=origin.test; other=allowed.test; fi
    ( out=$("${RUN[@]}" -q --allow-domains "$allow" -- sh -c "curl -s -m 5 -o /dev/null -w '%{http_code} ' http://$allow/; curl -s -m 5 -o /dev/null -w '%{http_code}' http://$other/" 2>&1)
      echo "$out" > "$work/conc$i" ) &
done
wait
ok=0
for i in 1 2 3 4 5 6 7 8; do [[ $(cat "$work/conc$i") == "200 403" ]] && ok=$((ok + 1)); done
expect_eq "8 concurrent runs, each reaches its own name and not the other's" "$ok" 8
same_host "the host is as before after concurrent runs"

# Refused before anything is made.
expect_exit "a broad pattern is refused (exit 2)" 2 "${RUN[@]}" --allow-domains '*.*' -- true
expect_exit "no sudo user and no --user: exit 2" 2 on_host "$AWF" run --allow-domains allowed.test -- true
expect_exit "a bad --name: exit 2" 2 "${RUN[@]}" --name 'Bad/Name' --allow-domains allowed.test -- true
expect_exit "a missing command: 127" 127 "${RUN[@]}" -q --allow-domains allowed.test -- /nonexistent/cmd
same_host "the host is as before after refusals"
rm -rf "$work"
finish
