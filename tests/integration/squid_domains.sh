#!/usr/bin/env bash
# The domain lists (run.md, DOMAINS) through a real Squid: `awf-net squid-conf` writes the
# complete configuration, Debian's squid-openssl runs it in the testbed's Squid namespace, and a
# proxy-aware client in the sandbox asks for each case by plain HTTP and by CONNECT. Every name
# resolves to the testbed's origin (dnsmasq: *.domains.test), which answers both ways.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
testbed_up "$p" || { fail "testbed up"; finish; exit 1; }
agent=$p-agent squidns=$p-squid
dir=$(mktemp -d /tmp/awf-squid-domains.XXXXXX)
chown proxy:proxy "$dir"
printf 'nameserver 203.0.113.53\n' > "/etc/netns/$squidns/resolv.conf"
trap 'rm -rf "$dir"; rm -f "/etc/netns/$squidns/resolv.conf"; cleanup' EXIT

cat > "$dir/list" <<'LIST'
# a team's list: one per line or comma-separated
plain.domains.test
*.wild.domains.test, api-*.pre.domains.test
LIST
DOMAINS=(--allow-domains-file "$dir/list"
         --allow-domains 'https://tls.domains.test,http://http.domains.test, UPPER.Domains.Test./'
         --allow-domains 'https://*.tlswild.domains.test'
         --block-domains bad.plain.domains.test)
expect_exit "squid-conf writes a complete configuration" 0 \
    sh -c "\"$AWF\" squid-conf --listen 172.30.0.10 --squid 172.30.0.10:3140 --state-dir $dir $(printf '%q ' "${DOMAINS[@]}") > $dir/squid.conf"
out=$(squid -k parse -f "$dir/squid.conf" 2>&1)
case "$out" in *ERROR* | *FATAL* | *WARNING*) fail "squid -k parse accepts it, without a warning" "$(echo "$out" | grep -E 'ERROR|FATAL|WARNING' | head -3)" ;;
    *) pass "squid -k parse accepts it, without a warning" ;; esac
ip netns exec "$squidns" setsid squid -N -f "$dir/squid.conf" > "$dir/squid.out" 2>&1 < /dev/null &
CLEANUP_PIDS+=($!); disown
for _ in $(seq 100); do ip netns exec "$squidns" ss -Hltn 'sport = :3140' | grep -q LISTEN && break; sleep 0.1; done
check "Squid starts with it and listens on 172.30.0.10:3140" sh -c "ip netns exec $squidns ss -Hltn 'sport = :3140' | grep -q LISTEN"

CURL=(ip netns exec "$agent" curl -s -m 8 -x http://172.30.0.10:3140)
# The origin answers without the lists: a denial below is Squid's, not a dead target.
expect_eq "the origin answers HTTP from the sandbox, no proxy" \
    "$(ip netns exec "$agent" curl -s -m 8 --noproxy '*' --resolve x.domains.test:80:203.0.113.10 http://x.domains.test/)" "origin 80"
expect_eq "the origin answers TLS from the sandbox, no proxy" \
    "$(ip netns exec "$agent" curl -sk -m 8 --noproxy '*' --resolve x.domains.test:443:203.0.113.10 https://x.domains.test/)" "origin 443"

# how URL: what the client got ("origin 80", "origin 443", or the proxy's status).
how() {
    local out code
    # A refused CONNECT has no HTTP response: its status is the proxy's answer to CONNECT.
    out=$("${CURL[@]}" -k -w '\n%{http_code} %{http_connect}' "$1" 2>/dev/null)
    code=${out##*$'\n'}
    [[ $code == "000 "* ]] && code=${code#000 } || code=${code%% *}
    case "$out" in "origin "*) echo "${out%%$'\n'*}" ;; *) echo "status $code" ;; esac
}
# case HOST HTTP-WANT TLS-WANT WHY: plain HTTP and CONNECT to HOST, each allowed or denied.
case_of() {
    local host=$1 want_http=$2 want_tls=$3 why=$4
    local got_http got_tls
    got_http=$(how "http://$host/")
    got_tls=$(how "https://$host/")
    [[ $want_http == allow ]] && want_http="origin 80" || want_http="status 403"
    [[ $want_tls == allow ]] && want_tls="origin 443" || want_tls="status 403"
    expect_eq "$host, plain HTTP: $why" "$got_http" "$want_http"
    expect_eq "$host, CONNECT: $why" "$got_tls" "$want_tls"
}
case_of plain.domains.test          allow allow "a listed name"
case_of api.plain.domains.test      allow allow "its subdomain"
case_of a.b.plain.domains.test      allow allow "a deeper subdomain"
case_of notplain.domains.test       deny  deny  "a name that only ends like it"
case_of plain.domains.test.domains.test deny deny "the name as a label of another"
case_of bad.plain.domains.test      deny  deny  "a blocked subdomain (block wins)"
case_of x.bad.plain.domains.test    deny  deny  "under the blocked one"
case_of a.wild.domains.test         allow allow "*.name: a subdomain"
case_of a.b.wild.domains.test       allow allow "*.name: a deeper subdomain"
case_of wild.domains.test           deny  deny  "*.name: not the name itself"
case_of api-v1.pre.domains.test     allow allow "api-*: a prefix wildcard"
case_of api.pre.domains.test        deny  deny  "api-*: needs the dash and one character"
case_of api-a.b.pre.domains.test    deny  deny  "api-*: never across a dot"
case_of tls.domains.test            deny  allow "https://name: TLS only"
case_of http.domains.test           allow deny  "http://name: plain HTTP only"
case_of upper.domains.test          allow allow "case, spaces, a trailing dot and slash are normalised"
case_of a.tlswild.domains.test      deny  allow "https://*.name: TLS only, subdomains"
case_of tlswild.domains.test        deny  deny  "https://*.name: not the name itself"
case_of unlisted.domains.test       deny  deny  "not on the list"
case_of 203.0.113.10                deny  deny  "a bare IP, never by its address"
expect_eq "another port than the web's (22) is refused" "$(how http://plain.domains.test:22/)" "status 403"

# Refused lists: exit 2, one line, nothing written.
for bad in '*' '*.*' 'github..com' '1.2.3.4' 'a b.com' ',github.com' 'evil.com;x'; do
    out=$("$AWF" squid-conf --allow-domains "$bad" 2>&1); rc=$?
    [[ $rc -eq 2 && $(echo "$out" | wc -l) -eq 1 && $out == "awf-net: error: --allow-domains: "* ]] && \
        pass "--allow-domains '$bad' is refused in one line, exit 2" || fail "--allow-domains '$bad' is refused" "exit $rc: $out"
done
printf 'github.com\nroot:$6$TOP-SECRET:1:0:99999:7:::\n' > "$dir/secret"
out=$("$AWF" squid-conf --allow-domains-file "$dir/secret" 2>&1); rc=$?
[[ $rc -eq 2 && $out == *"--allow-domains-file $dir/secret:2: "* && $out != *TOP-SECRET* ]] && \
    pass "a bad line of a domains file is named by number, never shown" || fail "a bad line of a domains file" "exit $rc: $out"
finish
