#!/usr/bin/env bash
# Transparent interception with the real Squid (squid-openssl): the sandbox steers web traffic
# to Squid as the next hop (mark + policy routing), Squid's namespace redirects it to Squid's
# intercept ports, and Squid serves proxy-unaware clients through its allowlist: HTTP by Host,
# TLS by the client's SNI, spliced, never decrypted. Everything in the test's namespaces.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
testbed_up "$p" || { fail "testbed up"; finish; exit 1; }
agent=$p-agent squidns=$p-squid
state=/tmp/awf-testbed-$p
in_agent() { ip netns exec "$agent" "$@"; }
access() { wc -l < "$state/squid/access.log" 2>/dev/null || echo 0; }
origin_requests() { grep -c " request " "$state/origin.log" 2>/dev/null || echo 0; }
CURL=(curl -s -m 8 --noproxy '*')

# Before: the same proxy-unaware request in DNAT (proxy) mode lands on Squid's forward port.
"$AWF" apply --netns "$agent" >/dev/null
out=$(in_agent "${CURL[@]}" --resolve allowed.test:80:203.0.113.10 http://allowed.test/)
case "$out" in *"origin 80"*) fail "proxy mode: a proxy-unaware client is not served (baseline)" "$out" ;;
    *) pass "proxy mode: a proxy-unaware client is not served (baseline)" ;; esac

# Squid in intercept mode: the testbed's Squid restarted with the lines `awf-net squid-conf`
# prints, after its ACLs and before its http_access rules (one allowlist file for both modes).
out=$("$AWF" squid-conf --fragment --intercept --tls-cert "$state/cert.pem" --allow-domains-file "$state/allowed.txt")
expect_eq "squid-conf prints the intercept lines" "$?" 0
check "Squid (OpenSSL build) starts with them" "$ROOT/tools/testbed" intercept "$p" "$AWF"

# An HTTP/2 origin on 8443, and the name in the agent's hosts file for clients that resolve it.
mkdir -p "$state/h2"; echo h2 > "$state/h2/index.html"
ip netns exec "$p-inet" setsid nghttpd -d "$state/h2" 8443 "$state/key.pem" "$state/cert.pem" > "$state/h2.out" 2>&1 < /dev/null &
CLEANUP_PIDS+=($!); disown
ip netns exec "$p-inet" setsid python3 "$ROOT/tests/e2e/wsecho.py" serve 9443 "$state/cert.pem" "$state/key.pem" > "$state/wss.out" 2>&1 < /dev/null &
CLEANUP_PIDS+=($!); disown
echo "203.0.113.10 allowed.test" >> "/etc/netns/$agent/hosts"
for port in 8443 9443; do
    for _ in $(seq 50); do ip netns exec "$p-inet" ss -Hltn "sport = :$port" | grep -q LISTEN && break; sleep 0.1; done
done

# Both sides, from one policy.
# One policy file drives both sides: 8443 is a web port, and a TLS one.
printf 'intercept = true\nallow-host-ports = 8443,9443\nintercept-tls-ports = 443,8443,9443\n' > "$state/intercept.conf"
POLICY=(--config "$state/intercept.conf")
expect_exit "apply --intercept (sandbox side)" 0 "$AWF" apply --netns "$agent" "${POLICY[@]}"
expect_exit "apply --intercept --role proxy (Squid's side)" 0 "$AWF" apply --netns "$squidns" "${POLICY[@]}" --role proxy
expect_exit "re-applying the same policy changes nothing" 0 "$AWF" apply --netns "$agent" "${POLICY[@]}"
case "$("$AWF" apply --netns "$agent" "${POLICY[@]}")" in unchanged*) pass "... and says unchanged" ;; *) fail "... and says unchanged" ;; esac
out=$(ip -n "$agent" rule show)
case "$out" in *"fwmark 0x617766 lookup 6387558"*) pass "the ip rule for the mark is in the sandbox" ;; *) fail "the ip rule for the mark is in the sandbox" "$out" ;; esac
out=$(ip -n "$agent" route show table 6387558)
case "$out" in *"default via 172.30.0.10 dev eth0"*) pass "its route table sends to Squid as next hop" ;; *) fail "its route table sends to Squid as next hop" "$out" ;; esac
out=$("$AWF" dump --netns "$agent"); rc=$?
case "$rc $out" in "0 "*"intercepted TCP ports 80,443,8443,9443 (TLS 443,8443,9443)"*"policy routing: ip rule fwmark 0x617766 lookup 6387558; table 6387558: default via 172.30.0.10 dev eth0"*"# verified"*) pass "dump verifies the sandbox side and shows its policy routing" ;;
    *) fail "dump verifies the sandbox side and shows its policy routing" "$rc $(echo "$out" | grep '^#' | head -12)" ;; esac
out=$("$AWF" dump --netns "$squidns"); rc=$?
case "$rc $out" in "0 "*"role proxy"*"# verified"*"redirect to :3130"*"redirect to :3129"*) pass "dump verifies Squid's side" ;;
    *) fail "dump verifies Squid's side" "$rc $(echo "$out" | head -12)" ;; esac

# A service local to Squid's namespace on a web port (here on a second loopback address) is
# reached by Squid's own namespace, never by a sandbox steered there: as in proxy mode, the
# sandbox reaches Squid, which refuses a bare IP.
ip -n "$squidns" addr add 198.51.100.77/32 dev lo
ip netns exec "$squidns" python3 "$ROOT/tests/integration/origin.py" "$state/local.log" http:80 --bind 198.51.100.77 >/dev/null 2>&1 &
CLEANUP_PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$squidns" ss -Hltn "sport = :80" | grep -q 198.51.100.77 && break; sleep 0.1; done
out=$(ip netns exec "$squidns" "${CURL[@]}" http://198.51.100.77/)
case "$out" in *"origin 80"*) pass "a service local to Squid's namespace answers there" ;; *) fail "a service local to Squid's namespace answers there" "$out" ;; esac
before=$(grep -c " request " "$state/local.log" 2>/dev/null)
out=$(in_agent "${CURL[@]}" -o /dev/null -w '%{http_code}' http://198.51.100.77/)
expect_eq "a sandbox steered to it meets Squid, which refuses the bare IP (403)" "$out" 403
expect_eq "... and the local service saw nothing" "$(grep -c " request " "$state/local.log" 2>/dev/null)" "$before"
out=$("$AWF" explain --netns "$agent" tcp/198.51.100.77:80)
case "$out" in *"intercepted by Squid at 172.30.0.10, HTTP"*) pass "explain agrees: intercepted by Squid" ;; *) fail "explain agrees: intercepted by Squid" "$out" ;; esac

out=$("$AWF" explain --netns "$agent" tcp/203.0.113.10:443 tcp/203.0.113.10:80 tcp/203.0.113.10:22)
case "$out" in *"intercepted by Squid at 172.30.0.10, TLS"*"intercepted by Squid at 172.30.0.10, HTTP"*"rejected"*) pass "explain names the intercept outcome" ;;
    *) fail "explain names the intercept outcome" "$out" ;; esac

# Proxy-unaware clients are served, through Squid.
n=$(access)
out=$(in_agent "${CURL[@]}" --resolve allowed.test:80:203.0.113.10 http://allowed.test/)
expect_eq "intercept: proxy-unaware HTTP to an allowed name is served" "$out" "origin 80"
out=$(in_agent "${CURL[@]}" --cacert "$state/cert.pem" --resolve allowed.test:443:203.0.113.10 https://allowed.test/)
expect_eq "intercept: proxy-unaware HTTPS (the origin's own certificate) is served" "$out" "origin 443"
out=$(in_agent python3 -c '
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
# no proxy settings at all, and the name resolved by the client as it likes (here: a hosts entry)
print(urllib.request.urlopen("https://allowed.test/", context=ctx, timeout=8).read().decode().strip())' "$state/cert.pem" 2>&1)
expect_eq "intercept: a Python client without proxy support is served over TLS" "$out" "origin 443"
out=$(in_agent "${CURL[@]}" --http2 -o /dev/null -w '%{http_version} %{http_code}' --cacert "$state/cert.pem" --resolve allowed.test:8443:203.0.113.10 https://allowed.test:8443/)
expect_eq "intercept: HTTP/2 over TLS (ALPN end to end, spliced) is served" "$out" "2 200"
out=$(in_agent timeout 10 python3 "$ROOT/tests/e2e/wsecho.py" ask allowed.test 443 hello-wss "$state/cert.pem" 2>&1)
expect_eq "intercept: a WebSocket on 443 (wss) is served, spliced" "$out" "hello-wss"
out=$(in_agent timeout 10 python3 "$ROOT/tests/e2e/wsecho.py" ask allowed.test 9443 hello-wss "$state/cert.pem" 2>&1)
expect_eq "intercept: ... and on another TLS port of the policy (9443)" "$out" "hello-wss"
log=$(tail -n +$((n + 1)) "$state/squid/access.log")
case "$log" in *ORIGINAL_DST/203.0.113.10*) pass "Squid's access log shows ORIGINAL_DST" ;; *) fail "Squid's access log shows ORIGINAL_DST" "$log" ;; esac
out=$(in_agent python3 -c 'import urllib.request; print(urllib.request.urlopen("http://203.0.113.10/", timeout=8).status)' 2>&1)
case "$out" in *403*|*Forbidden*) pass "intercept: a bare-IP Host is refused" ;; *) fail "intercept: a bare-IP Host is refused" "$out" ;; esac

# 203.0.113.53 answers on 80 and 443 (the same origin server; proven from the host side).
expect_eq "the other address answers without the policy" "$(ip netns exec "$p-host" "${CURL[@]}" http://203.0.113.53/)" "origin 80"
# Host-gateway traffic never reaches Squid: direct, as in proxy mode.
n=$(access)
out=$(in_agent "${CURL[@]}" http://172.30.0.1:8080/ -o /dev/null -w '%{http_code}')
expect_eq "intercept: a host gateway's port stays denied without host access" "$out" 000
expect_eq "intercept: ... and Squid saw nothing of it" "$(access)" "$n"

# The pitfall is real here: 203.0.113.53's reverse name is allowed.test, and Squid's own
# dstdomain ACL lets a proxy-aware request to that bare IP through.
expect_eq "203.0.113.53's reverse name (Squid's resolver) is allowed.test" \
    "$(ip netns exec "$squidns" python3 -c 'import socket; print(socket.gethostbyaddr("203.0.113.53")[0])' 2>&1)" allowed.test
expect_eq "... so the forward port's dstdomain admits the bare IP" \
    "$(in_agent curl -s -m 8 -x http://172.30.0.10:3128 http://203.0.113.53/)" "origin 80"
# Refused: names off the list, spoofed names, no SNI, plain HTTP on 443; the origin sees none.
o=$(origin_requests)
out=$(in_agent "${CURL[@]}" -o /dev/null -w '%{http_code}' --resolve denied.test:80:203.0.113.10 http://denied.test/)
expect_eq "intercept: HTTP to a name off the list is refused (403)" "$out" 403
in_agent "${CURL[@]}" -k --resolve denied.test:443:203.0.113.10 https://denied.test/ >/dev/null 2>&1
expect_eq "intercept: TLS to a name off the list fails" "$?" 35
out=$(in_agent "${CURL[@]}" -o /dev/null -w '%{http_code}' http://203.0.113.53/)
expect_eq "intercept: HTTP with that bare IP as host is refused (403)" "$out" 403
in_agent "${CURL[@]}" -k https://203.0.113.53/ >/dev/null 2>&1; rc=$?
[[ $rc -ne 0 ]] && pass "intercept: TLS without SNI to that IP is refused" || fail "intercept: TLS without SNI to the rDNS-allowlisted IP"
out=$(in_agent "${CURL[@]}" -o /dev/null -w '%{http_code}' -H 'Host: allowed.test' http://203.0.113.53/)
[[ "$out" == 409 || "$out" == 403 ]] && pass "intercept: Host allowed.test sent to another address is refused ($out)" || fail "intercept: spoofed Host refused" "$out"
in_agent "${CURL[@]}" -k --resolve allowed.test:443:203.0.113.53 https://allowed.test/ >/dev/null 2>&1; rc=$?
[[ $rc -ne 0 ]] && pass "intercept: SNI allowed.test sent to another address is refused" || fail "intercept: spoofed SNI refused"
in_agent "${CURL[@]}" -k https://203.0.113.10/ >/dev/null 2>&1; rc=$?
[[ $rc -ne 0 ]] && pass "intercept: TLS without SNI is refused" || fail "intercept: TLS without SNI is refused"
out=$(printf 'GET / HTTP/1.0\r\nHost: allowed.test\r\n\r\n' | in_agent timeout 8 nc -q 3 203.0.113.10 443 2>&1)
[[ "$out" != *"origin"* ]] && pass "intercept: plain HTTP bytes on 443 get no origin" || fail "intercept: plain HTTP on 443" "$out"
expect_eq "the origin saw none of the refused requests" "$(origin_requests)" "$o"
out=$(in_agent "${CURL[@]}" -o /dev/null -w '%{http_code}' http://203.0.113.10:8080/)
expect_eq "intercept: a non-web port is still denied" "$out" 000

# Proxy-aware clients keep working; IPv6 web traffic stays denied.
out=$(in_agent curl -s -m 8 -x http://172.30.0.10:3128 http://allowed.test/)
expect_eq "intercept: a proxy-aware client is still served" "$out" "origin 80"

# Fail closed: without the route the steered packets are refused, never sent elsewhere; with
# Squid's intercept ports closed, connections are refused.
ip -n "$agent" rule del fwmark 0x617766 lookup 6387558
out=$(in_agent "${CURL[@]}" --resolve allowed.test:80:203.0.113.10 http://allowed.test/)
[[ "$out" != *origin* ]] && pass "fail closed: without the ip rule, steered traffic is refused" || fail "fail closed without the ip rule" "$out"
expect_exit "dump calls the missing ip rule tampering (exit 6)" 6 "$AWF" dump --netns "$agent"
expect_exit "apply puts it back" 0 "$AWF" apply --netns "$agent" "${POLICY[@]}"
kill "$(cat "$state/squid.pid")"; sleep 1
for _ in $(seq 50); do ip netns exec "$squidns" ss -Hltn 'sport = :3129' | grep -q LISTEN || break; sleep 0.1; done
o=$(origin_requests)
out=$(in_agent "${CURL[@]}" --resolve allowed.test:80:203.0.113.10 http://allowed.test/)
[[ "$out" != *origin* ]] && pass "fail closed: Squid down, the request is refused" || fail "fail closed: Squid down" "$out"
expect_eq "fail closed: nothing reached the origin" "$(origin_requests)" "$o"

# delete removes the table and the policy routing.
expect_exit "delete the sandbox side" 0 "$AWF" delete --netns "$agent"
expect_eq "the ip rule is gone" "$(ip -n "$agent" rule show | grep -c 0x617766)" 0
expect_eq "the route table is empty" "$(ip -n "$agent" route show table 6387558 | wc -l)" 0
expect_exit "dump --role sandbox of Squid's side is exit 6" 6 "$AWF" dump --netns "$squidns" --role sandbox
expect_exit "dump --role proxy of it verifies" 0 "$AWF" dump --netns "$squidns" --role proxy
expect_exit "delete --role proxy: Squid's side" 0 "$AWF" delete --netns "$squidns" --role proxy
expect_eq "nothing of awf-net is left in Squid's namespace" "$(ip netns exec "$squidns" nft list tables | grep -c awf)" 0
finish
