#!/usr/bin/env bash
# Real packets in the testbed (tools/testbed: real Squid, dnsmasq, origin servers): what the
# engine core must get right on the wire.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
testbed_up "$p" || { fail "testbed up"; finish; exit 1; }
state=/tmp/awf-testbed-$p
agent=$p-agent
in_agent() { ip netns exec "$agent" "$@"; }
curl_agent() { in_agent curl -sS --max-time 5 "$@"; }
origin_has() { grep -q "$1" "$state/origin.log"; }
squid_lines() { wc -l < "$state/squid/access.log"; }

# A connection opened before the first apply: it must carry nothing afterwards.
cat > "$state/early.py" <<'PY'
import os, socket, sys, time
s = socket.create_connection(("203.0.113.10", 9999), timeout=5)
s.sendall(b"early-before\n")
for _ in range(200):
    if os.path.exists(sys.argv[1]):
        break
    time.sleep(0.05)
try:
    s.sendall(b"early-after\n")
    time.sleep(1)
except OSError:
    pass
PY
in_agent timeout 30 python3 "$state/early.py" "$state/go" & CLEANUP_PIDS+=($!)
early=$!
for _ in $(seq 50); do origin_has "early-before" && break; sleep 0.1; done
check "pre-existing connection carries data before any policy" origin_has "early-before"

# --- IPv6 block mode, host access to the bridge gateway (IPv4 and IPv6), allowed resolver.
BLOCK=(--ipv6 block --enable-host-access --host-gateway 172.30.0.1 --host-gateway fd00:30::1
       --allow-host-ports 8080 --dns-servers 203.0.113.53)
expect_exit "apply block-mode policy" 0 "$AWF" apply --netns "$agent" "${BLOCK[@]}"
touch "$state/go"
wait "$early" 2>/dev/null
sleep 0.5
origin_has "early-after" && fail "pre-existing connection carries nothing after the first apply" || \
    pass "pre-existing connection carries nothing after the first apply"

before=$(counter "$agent" "deny tcp")
read -r rc ms < <(elapsed_ms in_agent curl -sS --max-time 5 -6 "http://[2001:db8:113::10]/")
[[ $rc -ne 0 && $ms -lt 1000 ]] && pass "IPv6 to the internet on 80 fails at once in block mode (${ms} ms)" || \
    fail "IPv6 to the internet on 80 fails at once in block mode" "exit $rc after $ms ms"
read -r rc ms < <(elapsed_ms in_agent curl -sS --max-time 5 -6 -k "https://[2001:db8:113::10]/")
[[ $rc -ne 0 && $ms -lt 1000 ]] && pass "IPv6 to the internet on 443 fails at once in block mode" || \
    fail "IPv6 to the internet on 443 fails at once in block mode" "exit $rc after $ms ms"
grep -q 'connect 2001:db8' "$state/origin.log" && fail "no IPv6 connection reached the origin" || \
    pass "no IPv6 connection reached the origin"
expect_eq "explain agrees: IPv6 to the internet on 80 is rejected" "$(explained "$agent" 'tcp/[2001:db8:113::10]:80')" "rejected"
after=$(counter "$agent" "deny tcp")
[[ $after -ge $((before + 2)) ]] && pass "IPv6 denials counted by 'deny tcp'" || fail "IPv6 denials counted" "$before -> $after"

in_agent ip -6 neigh flush all
out=$(curl_agent -6 "http://[fd00:30::1]:8080/" 2>&1)
expect_eq "IPv6 neighbour discovery works: allowed IPv6 gateway reached" "$out" "origin 8080"
out=$(curl_agent "http://172.30.0.1:8080/" 2>&1)
expect_eq "host gateway on an allowed port is reached directly" "$out" "origin 8080"
expect_eq "explain agrees: allowed IPv6 gateway is direct" "$(explained "$agent" 'tcp/[fd00:30::1]:8080')" "direct"
expect_eq "explain agrees: host gateway on an allowed port is direct" "$(explained "$agent" tcp/172.30.0.1:8080)" "direct"

out=$(in_agent python3 "$ROOT/tests/integration/dnsq.py" 203.0.113.53 allowed.test udp 2>&1)
expect_eq "DNS to the allowed resolver (udp)" "$out" "203.0.113.10"
out=$(in_agent python3 "$ROOT/tests/integration/dnsq.py" 203.0.113.53 allowed.test tcp 2>&1)
expect_eq "DNS to the allowed resolver (tcp)" "$out" "203.0.113.10"
out=$(in_agent python3 "$ROOT/tests/integration/dnsq.py" 203.0.113.10 allowed.test udp 2>&1)
case "$out" in *PermissionError*) pass "DNS to another resolver fails with EPERM (udp)" ;;
    *) fail "DNS to another resolver fails with EPERM (udp)" "$out" ;; esac
expect_eq "explain agrees: DNS to the allowed resolver is direct" "$(explained "$agent" udp/203.0.113.53:53)" "direct"
expect_eq "explain agrees: DNS to another resolver is dropped (udp)" "$(explained "$agent" udp/203.0.113.10:53)" "dropped"
expect_eq "explain agrees: DNS to another resolver is rejected (tcp)" "$(explained "$agent" tcp/203.0.113.10:53)" "rejected"
out=$(in_agent python3 "$ROOT/tests/integration/dnsq.py" 203.0.113.10 allowed.test tcp 2>&1)
case "$out" in *ConnectionRefused*) pass "DNS to another resolver is refused (tcp)" ;;
    *) fail "DNS to another resolver is refused (tcp)" "$out" ;; esac

# --- The default policy (IPv6 disable, reject).
expect_exit "apply the default policy" 0 "$AWF" apply --netns "$agent"
expect_eq "IPv6 disabled in the sandbox" "$(in_agent sysctl -n net.ipv6.conf.all.disable_ipv6)" 1
read -r rc ms < <(elapsed_ms in_agent curl -sS --max-time 5 -6 "http://[2001:db8:113::10]/")
[[ $rc -ne 0 ]] && pass "IPv6 to the internet fails in disable mode" || fail "IPv6 to the internet fails in disable mode"

out=$(curl_agent -x http://172.30.0.10:3128 http://allowed.test/ 2>&1)
expect_eq "proxy-aware client reaches an allowed domain through Squid" "$out" "origin 80"

n=$(squid_lines)
origin_before=$(grep -c 'http:80 request 172.30.0.20' "$state/origin.log")
code=$(curl_agent -o /dev/null -w '%{http_code}' http://203.0.113.10/ 2>/dev/null)
expect_eq "direct HTTP to an internet address lands on Squid (400 invalid request)" "$code" "400"
[[ $(squid_lines) -gt $n ]] && pass "Squid logged the redirected HTTP attempt" || fail "Squid logged the redirected HTTP attempt"
n=$(squid_lines)
curl_agent -k https://203.0.113.10/ >/dev/null 2>&1
[[ $(squid_lines) -gt $n ]] && pass "direct HTTPS lands on Squid (logged)" || fail "direct HTTPS lands on Squid"
expect_eq "the origin saw none of the direct attempts" "$(grep -c 'http:80 request 172.30.0.20' "$state/origin.log")" "$origin_before"
grep -q 'tls:443 connect 172.30.0.20' "$state/origin.log" && fail "origin TLS port untouched" || pass "origin TLS port untouched"
for port in 80 443; do
    expect_eq "explain agrees: direct TCP $port is redirected to Squid" "$(explained "$agent" tcp/203.0.113.10:$port)" \
        "redirected to Squid at 172.30.0.10:3128"
done

# Servers inside the sandbox: its own address and loopback bypass Squid; the host reaches it.
in_agent python3 "$ROOT/tests/integration/origin.py" "$state/agent.log" http:80 http:8080 >/dev/null 2>&1 &
CLEANUP_PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$state/agent.log" 2>/dev/null && break; sleep 0.1; done
n=$(squid_lines)
expect_eq "sandbox's own address on 80 reaches its server, not Squid" "$(curl_agent http://172.30.0.20/ 2>&1)" "origin 80"
expect_eq "sandbox's own address on 8080 reaches its server" "$(curl_agent http://172.30.0.20:8080/ 2>&1)" "origin 8080"
expect_eq "loopback reaches the sandbox's server" "$(curl_agent http://127.0.0.1/ 2>&1)" "origin 80"
expect_eq "Squid saw none of them" "$(squid_lines)" "$n"
expect_eq "explain agrees: the sandbox's own address is direct" "$(explained "$agent" tcp/172.30.0.20:80)" "direct"
expect_eq "explain agrees: loopback is direct" "$(explained "$agent" tcp/127.0.0.1:80)" "direct"
out=$(ip netns exec "$p-host" curl -sS --max-time 5 http://172.30.0.20:8080/ 2>&1)
expect_eq "a server in the sandbox answers a client in the host namespace" "$out" "origin 8080"

# inbound none: the host can no longer open connections to the sandbox's server.
"$AWF" apply --netns "$agent" --inbound none >/dev/null
out=$(ip netns exec "$p-host" curl -sS --max-time 2 http://172.30.0.20:8080/ 2>&1)
[[ "$out" != "origin 8080" ]] && pass "inbound none: the host cannot reach the sandbox's server" || \
    fail "inbound none: the host cannot reach the sandbox's server"
[[ $(counter "$agent" "deny inbound") -gt 0 ]] && pass "inbound none: counted by 'deny inbound'" || fail "inbound none: counted"
"$AWF" apply --netns "$agent" --inbound 172.30.0.1/32 >/dev/null
out=$(ip netns exec "$p-host" curl -sS --max-time 2 http://172.30.0.20:8080/ 2>&1)
expect_eq "inbound CIDR list admits the listed source" "$out" "origin 8080"
"$AWF" apply --netns "$agent" >/dev/null

# Blocked: TCP to a dangerous port fails at once (reset), nothing arrives, the counter moves.
before=$(counter "$agent" "deny dangerous port")
read -r rc ms < <(elapsed_ms in_agent curl -sS --max-time 5 telnet://203.0.113.10:22)
[[ $rc -eq 7 && $ms -lt 1000 ]] && pass "TCP to 203.0.113.10:22 is refused at once (${ms} ms)" || \
    fail "TCP to 203.0.113.10:22 is refused at once" "curl exit $rc after $ms ms"
grep -q 'raw:22 connect 172.30.0.20' "$state/origin.log" && fail "nothing reached port 22" || pass "nothing reached port 22"
after=$(counter "$agent" "deny dangerous port")
[[ $after -gt $before ]] && pass "'deny dangerous port' counted it" || fail "'deny dangerous port' counted it" "$before -> $after"
out=$("$AWF" explain --netns "$agent" tcp/203.0.113.10:22)
case "$out" in *'=>  rejected'*'rule 12 "deny dangerous port"'*'[FW_BLOCKED_DANGEROUS_PORT]'*) pass "explain agrees: port 22 is rejected by the rule whose counter moved" ;;
    *) fail "explain agrees: port 22 is rejected by the rule whose counter moved" "$out" ;; esac
finish
