#!/usr/bin/env python3
"""End-to-end conformance: every user scenario and attack of the spec's scenarios.md, exercised
with real programs in the namespace testbed (tools/testbed: real Squid, dnsmasq, origin
servers), judged at the application level (HTTP status and body, TLS, HTTP/2, WebSocket, DNS
answers, Squid's access log, the origin's own log) and at the packet level (the counter of the
rule that decided, and its NFLOG event unless the rate limit held it back).

Writes build/conformance.json (case, expectation, observed, passed, ms) and ends with
"conformance: N passed, M failed". Run as root: tests/e2e/run (tools/test calls it).
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWF = os.environ.get("AWF_NET", os.path.join(ROOT, "build", "awf-net"))
REPORT = os.environ.get("AWF_CONFORMANCE_REPORT", os.path.join(ROOT, "build", "conformance.json"))
PREFIX = "c%04x" % random.randrange(0x10000)
STATE = f"/tmp/awf-testbed-{PREFIX}"
AGENT, HOST, INET, SQUID_NS = (f"{PREFIX}-{n}" for n in ("agent", "host", "inet", "squid"))
# awf-net runs on the Docker host, as a runtime's hook or an operator would: the address the
# sandbox's hosts file gives host.docker.internal (docker0's) is one of that host's own.
ON_HOST = ["nsenter", f"--net=/run/netns/{HOST}"]
SQUID = "172.30.0.10:3128"
BASE = ["--enable-host-access", "--allow-host-ports", "8080,22", "--allow-host-service-ports", "5432",
        "--api-proxy", "172.30.0.30", "--dns-servers", "203.0.113.53"]


# ---------------------------------------------------------------------------------------------
# plumbing

def sh(ns, *cmd, timeout=10, input=None):
    """Runs cmd (inside ns unless None); returns (exit code, output, milliseconds)."""
    argv = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        rc, out = p.returncode, (p.stdout + p.stderr).strip()
    except subprocess.TimeoutExpired as e:
        rc, out = 124, ((e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""))
    return rc, out, int((time.monotonic() - t0) * 1000)


def agent_py(code, *args, timeout=10):
    return sh(AGENT, "python3", "-c", code, *args, timeout=timeout)


def lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def squid_log():
    return lines(f"{STATE}/squid/access.log")


def origin_log():
    return lines(f"{STATE}/origin.log")


def wait_for(pred, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def counters():
    """Packets per rule comment of awf's table, read with nft (an independent reader)."""
    rc, out, _ = sh(AGENT, "nft", "-j", "list", "table", "inet", "awf")
    result = {}
    if rc != 0:
        return result
    for item in json.loads(out)["nftables"]:
        r = item.get("rule")
        if r:
            for e in r["expr"]:
                if "counter" in e:
                    result[(r["chain"], r.get("comment", ""))] = e["counter"]["packets"]
    return result


def apply(*flags):
    rc, out, ms = sh(None, *ON_HOST, AWF, "apply", "--netns", AGENT, *flags, timeout=30)
    if rc != 0:
        raise RuntimeError(f"apply {' '.join(flags)} failed: {out}")
    return ms


# TCP connect from the sandbox: "ok", "refused", "timeout", or the error.
# Prints the outcome and how long the connect itself took (ms), start-up excluded.
CONNECT = r'''
import socket, sys, time
host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(timeout)
t0 = time.monotonic()
try:
    s.connect((host, port)); s.sendall(b"attack\n"); r = "ok"
except ConnectionRefusedError: r = "refused"
except socket.timeout: r = "timeout"
except OSError as e: r = "error %d" % e.errno
print(r); print("%.2f" % ((time.monotonic() - t0) * 1000))
'''

SEND = r'''
import socket, sys, time
kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
protos = {"udp": None, "icmp": 1, "icmpv6": 58, "sctp": 132, "gre": 47}
if kind == "udp":
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    payload = b"attack"
else:
    s = socket.socket(fam, socket.SOCK_RAW, protos[kind])
    payload = b"\x08\x00\xf7\xff\x00\x00\x00\x00" if kind == "icmp" else (b"\x80\x00\x00\x00\x00\x00\x00\x00" if kind == "icmpv6" else b"\x00" * 16)
t0 = time.monotonic()
try:
    s.sendto(payload, (host, port)); r = "sent"
except PermissionError: r = "eperm"
except OSError as e: r = "error %d" % e.errno
print(r); print("%.2f" % ((time.monotonic() - t0) * 1000))
'''


# ---------------------------------------------------------------------------------------------
# cases

class Suite:
    def __init__(self):
        self.results = []
        self.phase = ""
        self.events = []

    def case(self, name, expectation, fn):
        full = f"{name} [{self.phase}]" if self.phase else name
        t0 = time.monotonic()
        try:
            ok, observed, extra = fn()
        except Exception as e:  # a broken case is a failed case, named
            ok, observed, extra = False, f"error: {type(e).__name__}: {e}", {}
        ms = int((time.monotonic() - t0) * 1000)
        self.results.append(dict(case=full, expectation=expectation, observed=observed, passed=bool(ok), ms=ms, **extra))
        print(("ok   - " if ok else "FAIL - ") + full + ("" if ok else f": expected {expectation}; observed {observed}"),
              flush=True)

    # An allowed exchange judged at both levels: the application check `fn`, and the counter of
    # the rule that admitted it (chain, comment) moving by at least `least`.
    def allowed(self, name, expectation, fn, chain, rule, least=1):
        def wrapped():
            before = counters().get((chain, rule), 0)
            ok, observed, extra = fn()
            delta = counters().get((chain, rule), 0) - before
            return ok and delta >= least, f"{observed}; '{rule}' +{delta}", dict(extra, counter_delta=delta)
        self.case(name, f"{expectation}; admitted by '{rule}'", wrapped)

    # The deny of one attack: client outcome, nothing at the destination and nothing at Squid
    # (no attack may even be redirected there), the rule's counter, and the NFLOG event unless
    # the rate limit held it back (the log rule's counter says).
    def blocked(self, name, attempt, arrived, rule, mode):
        def fn():
            before = counters()
            n_origin = len(origin_log())
            n_squid = len(squid_log())
            outcome, ms = attempt()
            time.sleep(0.15)
            after = counters()
            got_through = arrived(n_origin)
            squid = squid_log()[n_squid:]
            if squid:
                got_through = "; ".join(filter(None, [got_through, "Squid logged " + squid[0]]))
            deny = after.get(("filter_output", "deny " + rule), 0) - before.get(("filter_output", "deny " + rule), 0)
            logged = after.get(("filter_output", "log " + rule), 0) - before.get(("filter_output", "log " + rule), 0)
            # reject: TCP is reset at once; drop: TCP times out; UDP and raw sends fail with
            # EPERM at the sender in both modes (policy.md).
            fails = outcome in (("refused", "eperm") if mode == "reject" else ("timeout", "eperm"))
            ok = fails and not got_through and deny >= 1
            observed = f"client {outcome} in {ms} ms; arrived: {got_through or 'nothing'}; 'deny {rule}' +{deny}; events +{logged}"
            return ok, observed, {"client_ms": ms, "counter_delta": deny, "events": logged}
        self.case(name, f"blocked by 'deny {rule}'", fn)


def outcome_and_ms(out):
    parts = out.strip().splitlines()
    return (parts[0] if parts else out.strip()), (float(parts[1]) if len(parts) > 1 else -1.0)


def tcp_attempt(host, port, timeout):
    def attempt():
        return outcome_and_ms(agent_py(CONNECT, host, str(port), str(timeout), timeout=timeout + 5)[1])
    return attempt


def send_attempt(kind, host, port=0):
    def attempt():
        return outcome_and_ms(agent_py(SEND, kind, host, str(port))[1])
    return attempt


def origin_arrived(tag, src="172.30.0.20"):
    def arrived(n_before):
        time.sleep(0.1)
        new = [l for l in origin_log()[n_before:] if tag in l and src in l]
        return "; ".join(new[:2])
    return arrived


def nothing(n):
    return ""


def user_scenarios(S, intercept=False):
    # In intercept mode the first hook is the route chain, and web traffic is steered, not DNAT'd.
    first_chain, first = ("route_output", "steer: ") if intercept else ("nat_output", "nat: ")
    squid_before = len(squid_log())

    def u1():
        rc1, body1, _ = sh(AGENT, "curl", "-sS", "--max-time", "5", "-x", f"http://{SQUID}", "http://allowed.test/")
        rc2, body2, _ = sh(AGENT, "curl", "-sSk", "--max-time", "5", "-x", f"http://{SQUID}", "https://allowed.test/")
        time.sleep(0.2)
        log = "\n".join(squid_log()[squid_before:])
        ok = body1 == "origin 80" and body2 == "origin 443" and "GET http://allowed.test/" in log and "CONNECT allowed.test:443" in log
        return ok, f"http: {body1!r}, https: {body2!r}, squid logged GET: {'GET http://allowed.test/' in log}, CONNECT: {'CONNECT allowed.test:443' in log}", {}
    S.allowed("scenario 1: proxy-aware client reaches an allowed domain (HTTP and HTTPS CONNECT)", "200 from the origin, in Squid's log",
              u1, "filter_output", "proxies", 2)

    def u2():
        n = len(origin_log())
        rc, code, _ = sh(AGENT, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-x", f"http://{SQUID}", "http://denied.test/")
        rc2, code2, _ = sh(AGENT, "curl", "-sSk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-x", f"http://{SQUID}", "https://denied.test/")
        reached = [l for l in origin_log()[n:] if "request" in l or "tls:443 connect" in l]
        return code == "403" and not reached, f"http {code}, https CONNECT {code2 or rc2}, origin saw {len(reached)}", {}
    S.case("scenario 2: proxy-aware client, denied domain", "403 from Squid, nothing at the origin", u2)

    if not intercept:
        for target, url in (("80", "http://203.0.113.10/"), ("443", "https://203.0.113.10/"),
                            ("allow-host-ports 8080", "http://203.0.113.10:8080/"), ("an unrouted address", "http://198.51.100.7/")):
            def u3(url=url):
                ns, no = len(squid_log()), len(origin_log())
                sh(AGENT, "curl", "-sSk", "--max-time", "5", url)
                time.sleep(0.2)
                new_squid = squid_log()[ns:]
                at_origin = [l for l in origin_log()[no:] if "172.30.0.20" in l]
                ok = len(new_squid) >= 1 and not at_origin
                return ok, f"squid logged {[l.split()[3] + ' ' + l.split()[6] for l in new_squid]}; origin saw {len(at_origin)}", {}
            S.allowed(f"scenario 3: proxy-unaware client on {target} lands on Squid", "Squid logs the attempt, the origin sees nothing",
                      u3, "nat_output", "nat: web to squid")
    else:
        # Proxy-unaware clients by name: served by Squid with the original destination, through
        # the allowlist; by bare IP (any port, any address, routed or not): refused by Squid.
        for scheme, port in (("http", 80), ("https", 443)):
            def u3i(scheme=scheme, port=port):
                ns = len(squid_log())
                rc, out, _ = sh(AGENT, "curl", "-sS", "--max-time", "5", "--noproxy", "*", "--cacert", f"{STATE}/cert.pem",
                                "--resolve", f"allowed.test:{port}:203.0.113.10", f"{scheme}://allowed.test/")
                time.sleep(0.2)
                new = squid_log()[ns:]
                return out == f"origin {port}" and any("ORIGINAL_DST/203.0.113.10" in l for l in new), f"{out!r}; squid {new[-1:]}", {}
            S.allowed(f"scenario 3 (intercept): proxy-unaware {scheme} client, allowed name", "origin's page via Squid, ORIGINAL_DST logged",
                      u3i, "filter_output", "intercepted: squid is the next hop")
        for target, url in (("80", "http://203.0.113.10/"), ("allow-host-ports 8080", "http://203.0.113.10:8080/"),
                            ("an unrouted address", "http://198.51.100.7/")):
            def u3b(url=url):
                ns, no = len(squid_log()), len(origin_log())
                rc, code, _ = sh(AGENT, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url)
                time.sleep(0.2)
                at_origin = [l for l in origin_log()[no:] if "request" in l]
                return code == "403" and len(squid_log()) > ns and not at_origin, f"http {code}; origin saw {len(at_origin)}", {}
            S.allowed(f"scenario 3 (intercept): bare-IP request on {target} refused by Squid", "403, the origin sees nothing",
                      u3b, "route_output", "steer: web to squid")

    # Servers inside the sandbox.
    def u4(name, cmd, want):
        def fn():
            rc, out, _ = sh(HOST, *cmd)
            return out.strip().endswith(want), out[-120:], {}
        S.allowed(f"scenario 4: server in the sandbox, client on the host: {name}", want, fn, "filter_input", "inbound")
    u4("HTTP", ["curl", "-sS", "--max-time", "5", "http://172.30.0.20:8080/"], "origin 8080")
    u4("HTTPS, self-signed", ["curl", "-sSk", "--max-time", "5", "https://172.30.0.20:443/"], "origin 443")
    u4("HTTP/2", ["curl", "-sSk", "--http2", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_version}", "https://172.30.0.20:8443/"], "2")
    u4("WebSocket", ["python3", f"{ROOT}/tests/e2e/wsecho.py", "ask", "172.30.0.20", "8765", "hello-ws"], "hello-ws")

    for port, scheme in ((8080, "http"), (80, "http"), (443, "https")):
        def u5(port=port, scheme=scheme):
            ns = len(squid_log())
            rc, out, _ = sh(AGENT, "curl", "-sSk", "--max-time", "5", f"{scheme}://172.30.0.20:{port}/")
            return out == f"origin {port}" and len(squid_log()) == ns, f"{out!r}, squid +{len(squid_log()) - ns}", {}
        S.allowed(f"scenario 5: the sandbox dials its own address on {port}", "its own server answers, not Squid", u5,
                  first_chain, first + "loopback")

    def u6_direct(url, want):
        def fn():
            ns = len(squid_log())
            rc, out, _ = sh(AGENT, "curl", "-sS", "--max-time", "5", url)
            return out == want and len(squid_log()) == ns, f"{out!r}, squid +{len(squid_log()) - ns}", {}
        return fn
    for url in ("http://172.17.0.1:8080/", "http://host.docker.internal:8080/", "http://172.30.0.1:8080/"):
        S.allowed(f"scenario 6: host service reached directly at {url}", "origin 8080 from the host, Squid never sees it",
                  u6_direct(url, "origin 8080"), "filter_output", "host gateways")
    for gw in ("172.17.0.1", "172.30.0.1"):
        def u6_db(gw=gw):
            n = len(lines(f"{STATE}/hostsvc.log"))
            out = outcome_and_ms(agent_py(CONNECT, gw, "5432", "2")[1])[0]
            time.sleep(0.1)
            got = [l for l in lines(f"{STATE}/hostsvc.log")[n:] if "raw:5432 data" in l]
            return out == "ok" and bool(got), f"{out}, listener got {len(got)}", {}
        S.allowed(f"scenario 6: database-like host-service port 5432 on {gw}", "reached directly", u6_db,
                  "filter_output", "host gateways")

    # Scenario 7: heavy host-gateway traffic.
    def u7():
        ns = len(squid_log())
        code = r'''
import http.client, sys, threading
N, workers, ok = 13000, 8, [0] * 8
def work(i):
    for _ in range(N // workers + (1 if i < N % workers else 0)):
        try:
            c = http.client.HTTPConnection("172.17.0.1", 8080, timeout=5)
            c.request("GET", "/mcp"); r = c.getresponse()
            if r.status == 200 and r.read() == b"origin 8080\n": ok[i] += 1
            c.close()
        except OSError: pass
ts = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sum(ok))'''
        rc, out, ms = agent_py(code, timeout=600)
        rc2, body, _ = sh(AGENT, "curl", "-sS", "--max-time", "5", "-x", f"http://{SQUID}", "http://allowed.test/")
        ok = out.strip() == "13000" and len(squid_log()) == ns + 1 and body == "origin 80"
        return ok, f"{out.strip()} of 13000 succeeded in {ms} ms; squid +{len(squid_log()) - ns - 1} of them; squid serves after: {body == 'origin 80'}", {"duration_ms": ms}
    S.allowed("scenario 7: 13,000 requests to the host gateway", "all succeed, none through Squid, Squid still serves", u7,
              "filter_output", "host gateways", 13000)

    # Scenario 8: DNS.
    for name, args in (("allowed resolver, UDP", ["203.0.113.53", "allowed.test", "udp"]),
                       ("allowed resolver, TCP", ["203.0.113.53", "allowed.test", "tcp"]),
                       ("Docker's embedded resolver (iptables-nft redirect of 127.0.0.11), UDP", ["127.0.0.11", "allowed.test", "udp"]),
                       ("Docker's embedded resolver, TCP", ["127.0.0.11", "allowed.test", "tcp"])):
        def u8(args=args):
            rc, out, _ = sh(AGENT, "python3", f"{ROOT}/tests/integration/dnsq.py", *args)
            return out == "203.0.113.10", out, {}
        # Docker's resolver forwards from inside the namespace: its upstream query is what the
        # policy admits, so the 'dns' rule moves in every case.
        S.allowed(f"scenario 8: DNS through the {name}", "answer 203.0.113.10", u8, "filter_output", "dns")
    def u8_getent():
        rc, out, _ = sh(AGENT, "getent", "hosts", "allowed.test")
        return out.startswith("203.0.113.10"), out, {}
    S.case("scenario 8: name resolution through resolv.conf (127.0.0.11)", "allowed.test resolves", u8_getent)


def scenario9(S, flags):
    def fn():
        size = 24_000_000
        dl = subprocess.Popen(["ip", "netns", "exec", AGENT, "curl", "-sS", "--max-time", "120", "--limit-rate", "2M",
                               "-o", "/dev/null", "-w", "%{size_download} %{http_code}", "-x", f"http://{SQUID}",
                               f"http://allowed.test/big/{size}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        prober = subprocess.Popen(["ip", "netns", "exec", AGENT, "python3", "-c", r'''
import os, socket, sys, time
end = time.time() + 600; tries = connected = 0
while time.time() < end and not os.path.exists(sys.argv[1]):
    for port in (9999, 22, 6379):
        s = socket.socket(); s.settimeout(0.3); tries += 1
        try: s.connect(("203.0.113.10", port)); connected += 1
        except OSError: pass
        s.close()
print(tries, connected)''', f"{STATE}/prober-stop"], stdout=subprocess.PIPE, text=True)
        # Two policies that both allow Squid and neither allows the prober's ports.
        p1 = flags
        p2 = flags + ["--dangerous-ports", "22-23,25,110,143,445,1433,1521,3306,3389,5432,6379,27017-27018,28017,9999"]
        replaced = 0
        t0 = time.monotonic()
        for i in range(200):
            apply(*(p1 if i % 2 else p2))
            replaced += 1
        replace_ms = int((time.monotonic() - t0) * 1000)
        out, _ = dl.communicate(timeout=150)
        open(f"{STATE}/prober-stop", "w").close()
        probe_out, _ = prober.communicate(timeout=30)
        tries, connected = (probe_out.split() + ["?", "?"])[:2] if probe_out else ("?", "?")
        downloaded, code = (out.split() + ["", ""])[:2]
        ok = downloaded == str(size) and code == "200" and connected == "0" and replaced == 200
        return ok, (f"download {downloaded} bytes HTTP {code}; 200 replacements in {replace_ms} ms; "
                    f"prober connected {connected} of {tries} attempts"), {"replace_ms": replace_ms}
    S.case("scenario 9: policy replaced 200 times while a download runs and a prober knocks",
           "the download completes intact; no new connection that neither policy allows", fn)


def attacks(S, mode):
    timeout = 1.5
    for port in (22, 25, 5432, 6379, 8081, 9999):
        rule = "dangerous port" if port in (22, 25, 5432, 6379) else "tcp"
        S.blocked(f"attack: direct TCP to 203.0.113.10:{port} by IP", tcp_attempt("203.0.113.10", port, timeout),
                  origin_arrived(f"raw:{port} connect"), rule, mode)
    S.blocked("attack: port 22 listed in --allow-host-ports, to the internet", tcp_attempt("203.0.113.10", 22, timeout),
              origin_arrived("raw:22 connect"), "dangerous port", mode)

    def at_host(tag):
        def arrived(_):
            time.sleep(0.1)
            return "; ".join(l for l in lines(f"{STATE}/hostsvc.log") if tag in l and "172.30.0.20" in l)
        return arrived
    S.blocked("attack: port 22 listed in --allow-host-ports, to a host gateway", tcp_attempt("172.17.0.1", 22, timeout),
              at_host("raw:22 connect"), "dangerous port", mode)
    S.blocked("attack: host-service port 5432 to a non-gateway", tcp_attempt("203.0.113.10", 5432, timeout),
              origin_arrived("raw:5432 connect"), "dangerous port", mode)
    S.blocked("attack: a host gateway on a port it is not allowed (9999)", tcp_attempt("172.17.0.1", 9999, timeout),
              at_host("raw:9999 connect"), "tcp", mode)
    S.blocked("attack: QUIC (UDP 443) to the internet", send_attempt("udp", "203.0.113.10", 443), origin_arrived("udp:443"), "udp", mode)
    S.blocked("attack: UDP DNS to a resolver not on the list", send_attempt("udp", "203.0.113.10", 53), nothing, "udp", mode)
    S.blocked("attack: TCP DNS to a resolver not on the list", tcp_attempt("203.0.113.10", 53, timeout), nothing, "tcp", mode)
    S.blocked("attack: ICMP echo to the internet", send_attempt("icmp", "203.0.113.10"), origin_arrived("rawip:1"), "other", mode)
    S.blocked("attack: SCTP to the internet", send_attempt("sctp", "203.0.113.10"), origin_arrived("rawip:132"), "other", mode)
    S.blocked("attack: GRE (IP protocol 47) to the internet", send_attempt("gre", "203.0.113.10"), origin_arrived("rawip:47"), "other", mode)
    for port in (80, 443, 22, 9999):
        rule = "dangerous port" if port == 22 else "tcp"
        S.blocked(f"attack: IPv6 TCP to the internet on {port}", tcp_attempt("2001:db8:113::10", port, timeout),
                  origin_arrived("connect", src="fd00:30::20"), rule, mode)
    S.blocked("attack: IPv6 UDP to the internet", send_attempt("udp", "2001:db8:113::10", 443), origin_arrived("udp:443 data fd00"), "udp", mode)
    S.blocked("attack: ICMPv6 echo to the internet", send_attempt("icmpv6", "2001:db8:113::10"), origin_arrived("rawip:58 data fd00"), "other", mode)

    S.blocked("attack: cloud metadata 169.254.169.254 on 80 (must not even reach Squid)",
              tcp_attempt("169.254.169.254", 80, timeout), nothing, "tcp", mode)
    S.blocked("attack: link-local 169.254.1.1 on 443", tcp_attempt("169.254.1.1", 443, timeout), nothing, "tcp", mode)
    S.blocked("attack: multicast UDP 224.0.0.251:5353", send_attempt("udp", "224.0.0.251", 5353), nothing, "udp", mode)
    S.blocked("attack: broadcast UDP 255.255.255.255", send_attempt("udp", "255.255.255.255", 9999), nothing, "udp", mode)
    S.blocked("attack: subnet broadcast UDP 172.30.0.255", send_attempt("udp", "172.30.0.255", 9999), nothing, "udp", mode)

    def at(log, tag):
        def arrived(_):
            time.sleep(0.1)
            return "; ".join(l for l in lines(log) if tag in l and "172.30.0.20" in l)
        return arrived
    S.blocked("attack: the Squid host on a port it does not serve (172.30.0.10:22)", tcp_attempt("172.30.0.10", 22, timeout),
              at(f"{STATE}/squidhost.log", "raw:22 connect"), "dangerous port", mode)
    S.blocked("attack: the API proxy on a port it does not serve (172.30.0.30:9000)", tcp_attempt("172.30.0.30", 9000, timeout),
              at(f"{STATE}/api.log", "raw:9000 connect"), "tcp", mode)


def ipv6_disabled_attacks(S):
    for port in (80, 443, 9999):
        def fn(port=port):
            n = len(origin_log())
            out, ms = outcome_and_ms(agent_py(CONNECT, "2001:db8:113::10", str(port), "1.5")[1])
            arrived = [l for l in origin_log()[n:] if "2001:db8" in l or "fd00" in l]
            return out != "ok" and not arrived, f"client {out} in {ms} ms; arrived {len(arrived)}", {}
        S.case(f"attack: IPv6 TCP to the internet on {port}", "fails before any rule (no IPv6 left), nothing arrives", fn)


def other_attacks(S, reject_flags):
    def hosts_file_attack():
        hosts = f"/etc/netns/{AGENT}/hosts"
        original = open(hosts).read()
        try:
            with open(hosts, "w") as f:
                f.write("127.0.0.1 localhost\n203.0.113.10 host.docker.internal\n")
            rc, out, _ = sh(None, *ON_HOST, AWF, "apply", "--netns", AGENT, *reject_flags)
        finally:
            with open(hosts, "w") as f:
                f.write(original)
        rc2, dump, _ = sh(None, *ON_HOST, AWF, "dump", "--netns", AGENT)
        exempt = "203.0.113.10" in [l for l in dump.splitlines() if "host gateways" in l][0] if "host gateways" in dump else True
        return rc == 2 and "not in a private range" in out and not exempt and rc2 == 0, f"apply exit {rc}: {out[-100:]}; exempted: {exempt}", {}
    S.case("attack: hosts file points host.docker.internal at an internet address, then a re-apply",
           "refused (exit 2), no exemption for that address", hosts_file_attack)

    def tamper(cmd):
        def fn():
            # -s: without counters, which traffic moves meanwhile.
            before = sh(AGENT, "nft", "-s", "list", "ruleset")[1]
            rc, out, _ = sh(None, *ON_HOST, AWF, "run", "--netns", AGENT, "--as-root", *reject_flags, "--", "sh", "-c", cmd)
            after = sh(AGENT, "nft", "-s", "list", "ruleset")[1]
            rc_dump = sh(None, *ON_HOST, AWF, "dump", "--netns", AGENT)[0]
            return rc != 0 and before == after and rc_dump == 0, f"exit {rc}; ruleset unchanged: {before == after}; dump verified: {rc_dump == 0}", {}
        return fn
    for cmd in ("nft flush ruleset", "nft delete table inet awf", "nft insert rule inet awf filter_output accept",
                "ip route add 10.99.0.0/16 via 172.30.0.1", "ip route del default",
                "echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6", "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet"):
        S.case(f"attack: tampering from inside awf-net run --as-root: {cmd}", "refused, policy intact", tamper(cmd))


def capability_attack(S, flags):
    # A namespace of its own (the suite's sandbox has its servers running in it, and the hook
    # refuses to set the policy of a namespace where another process already runs), shaped like
    # the sandbox so that discovery finds a gateway.
    ns = f"{PREFIX}-caps"
    bundle = tempfile.mkdtemp()
    try:
        sh(None, "ip", "netns", "add", ns)
        for cmd in (["link", "set", "lo", "up"], ["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                    ["addr", "add", "172.30.0.20/24", "dev", "v0"], ["link", "set", "v0", "up"],
                    ["link", "set", "v1", "up"], ["route", "add", "default", "via", "172.30.0.1"]):
            sh(None, "ip", "-n", ns, *cmd)
        os.makedirs(f"{bundle}/rootfs/bin")
        shutil.copy("/bin/busybox", f"{bundle}/rootfs/bin/busybox")
        os.symlink("busybox", f"{bundle}/rootfs/bin/sh")
        sh(None, "sh", "-c", f"cd {bundle} && runc spec")
        def run_with(args, name):
            c = json.load(open(f"{bundle}/config.json"))
            c["process"]["terminal"] = False
            c["process"]["args"] = ["sh", "-c", "echo started"]
            for n in c["linux"]["namespaces"]:
                if n["type"] == "network":
                    n["path"] = f"/run/netns/{ns}"
            for s in ("bounding", "effective", "permitted"):
                c["process"]["capabilities"][s].append("CAP_NET_RAW")
            c["hooks"] = {"createRuntime": [{"path": AWF, "args": ["awf-net", "oci-hook"] + args}]}
            json.dump(c, open(f"{bundle}/config.json", "w"))
            rc, out, _ = sh(None, "runc", "run", "-b", bundle, f"{PREFIX}-{name}", timeout=60)
            sh(None, "runc", "delete", "-f", f"{PREFIX}-{name}")
            return rc, out
        rc, out = run_with(flags, "caps")
        rc2, out2 = run_with(flags + ["--allow-caps"], "capsok")
        ok = rc != 0 and "started" not in out and rc2 == 0 and "started" in out2
        return ok, f"without --allow-caps: exit {rc}, started: {'started' in out}; with it: exit {rc2} {out2[-200:]}", {}
    finally:
        sh(None, "ip", "netns", "del", ns)
        shutil.rmtree(bundle, ignore_errors=True)


def early_connection():
    """Opened before the first apply; returns a function telling whether data got through after."""
    code = r'''
import os, socket, sys, time
s = socket.create_connection(("203.0.113.10", 9999), timeout=5)
s.sendall(b"early-before\n")
for _ in range(600):
    if os.path.exists(sys.argv[1]): break
    time.sleep(0.05)
try:
    s.sendall(b"early-after\n"); time.sleep(1)
except OSError: pass'''
    go = f"{STATE}/early-go"
    p = subprocess.Popen(["ip", "netns", "exec", AGENT, "python3", "-c", code, go])
    wait_for(lambda: any("early-before" in l for l in origin_log()), 10)

    def finish():
        open(go, "w").close()
        p.wait(timeout=20)
        time.sleep(0.3)
        before = any("early-before" in l for l in origin_log())
        after = any("early-after" in l for l in origin_log())
        return before and not after, f"before the policy: {before}; after: {after}", {}
    return finish


def start(name, ns, *cmd):
    out = open(f"{STATE}/{name}.out", "w")
    p = subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    with open(f"{STATE}/{name}.pid", "w") as f:
        f.write(str(p.pid))  # tools/testbed down kills it with the rest
    return p


def setup_sandbox_servers():
    start("agentsrv", AGENT, "python3", f"{ROOT}/tests/integration/origin.py", f"{STATE}/agent.log", "http:80", "http:8080",
          f"tls:443:{STATE}/cert.pem:{STATE}/key.pem", "--bind", "0.0.0.0")
    start("ws", AGENT, "python3", f"{ROOT}/tests/e2e/wsecho.py", "serve", "8765")
    os.makedirs(f"{STATE}/h2", exist_ok=True)
    with open(f"{STATE}/h2/index.html", "w") as f:
        f.write("h2\n")
    start("h2", AGENT, "nghttpd", "-d", f"{STATE}/h2", "8443", f"{STATE}/key.pem", f"{STATE}/cert.pem")
    start("squidhost", SQUID_NS, "python3", f"{ROOT}/tests/integration/origin.py", f"{STATE}/squidhost.log", "raw:22", "--bind", "0.0.0.0")
    # Docker's embedded DNS: a resolver on 127.0.0.11:5353 forwarding upstream, reached through
    # the DNAT rules Docker makes with iptables-nft.
    start("dockerdns", AGENT, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.11",
          "--port=5353", "--bind-interfaces", "--server=203.0.113.53", f"--pid-file={STATE}/dockerdns.real-pid", "--user=root")
    sh(AGENT, "ip", "addr", "add", "127.0.0.11/8", "dev", "lo")
    for proto in ("udp", "tcp"):
        sh(AGENT, "iptables-nft", "-t", "nat", "-A", "OUTPUT", "-d", "127.0.0.11/32", "-p", proto, "--dport", "53",
           "-j", "DNAT", "--to-destination", "127.0.0.11:5353")
    for port in (80, 8080, 443, 8765, 8443):
        wait_for(lambda port=port: f":{port} " in sh(AGENT, "ss", "-Hltn")[1], 10)
    wait_for(lambda: ":5353 " in sh(AGENT, "ss", "-Hlun")[1], 10)


def main():
    if os.geteuid() != 0:
        print("conformance: needs root (network namespaces)")
        return 1
    S = Suite()
    rc, out, _ = sh(None, f"{ROOT}/tools/testbed", "up", PREFIX, timeout=120)
    if rc != 0:
        print(f"conformance: testbed did not come up: {out}")
        print("conformance: 0 passed, 1 failed")
        return 1
    try:
        setup_sandbox_servers()
        finish_early = early_connection()

        S.phase = "reject, ipv6 block"
        reject_flags = BASE + ["--ipv6", "block"]
        apply(*reject_flags)
        S.case("attack: a connection opened before the first apply carries nothing after it",
               "no data after the policy", finish_early)
        user_scenarios(S)
        attacks(S, "reject")
        scenario9(S, reject_flags)
        apply(*reject_flags)
        other_attacks(S, reject_flags)
        S.case("attack: a container keeping CAP_NET_RAW through the hook", "refused unless --allow-caps",
               lambda: capability_attack(S, reject_flags))

        S.phase = "drop, ipv6 block"
        apply(*(BASE + ["--ipv6", "block", "--blocked-action", "drop"]))
        attacks(S, "drop")

        # Transparent interception: Squid with squid-conf's lines, its namespace with the proxy
        # side, and every scenario and attack again (policy.md: the exemptions and denials are
        # the same; web traffic goes to Squid with its destination intact). Before the phases
        # that disable IPv6 in the namespace: the IPv6 attacks need its addresses.
        S.phase = "intercept, reject, ipv6 block"
        rc, out, _ = sh(None, f"{ROOT}/tools/testbed", "intercept", PREFIX, AWF, timeout=60)
        S.case("intercept: Squid restarts with awf-net squid-conf's lines", "listening on 3129 and 3130",
               lambda: (rc == 0, out[-200:], {}))
        rc, out, _ = sh(None, *ON_HOST, AWF, "apply", "--netns", SQUID_NS, "--intercept", "--role", "proxy",
                        "--allow-host-ports", "8080,22", timeout=30)
        S.case("intercept: the proxy side applies in Squid's namespace", "exit 0", lambda: (rc == 0, out[-200:], {}))
        intercept_flags = reject_flags + ["--intercept"]
        apply(*intercept_flags)
        user_scenarios(S, intercept=True)
        attacks(S, "reject")
        scenario9(S, intercept_flags)

        S.phase = "reject, ipv6 disable"
        apply(*BASE)
        ipv6_disabled_attacks(S)
        S.phase = "drop, ipv6 disable"
        apply(*(BASE + ["--blocked-action", "drop"]))
        ipv6_disabled_attacks(S)
    finally:
        sh(None, f"{ROOT}/tools/testbed", "down", PREFIX, timeout=60)

    passed = sum(1 for r in S.results if r["passed"])
    failed = len(S.results) - passed
    reject_ms = sorted(r["client_ms"] for r in S.results if "client_ms" in r and r["case"].endswith("[reject, ipv6 block]"))
    summary = {"passed": passed, "failed": failed,
               "reject_mode_block_ms": {"max": max(reject_ms, default=0), "median": reject_ms[len(reject_ms) // 2] if reject_ms else 0},
               "cases": S.results}
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    with open(REPORT, "w") as f:
        json.dump(summary, f, indent=2)
    print(f"conformance: blocked attempts in reject mode failed in {summary['reject_mode_block_ms']['median']} ms "
          f"(median), {summary['reject_mode_block_ms']['max']} ms (max); report: {REPORT}")
    print(f"conformance: {passed} passed, {failed} failed")
    if os.environ.get("AWF_RESULTS"):
        with open(os.environ["AWF_RESULTS"], "a") as f:
            f.write(f"{passed} {failed}\n")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
