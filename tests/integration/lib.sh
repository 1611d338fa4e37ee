# Shared harness of the integration tests (sourced). Each test file makes its own uniquely
# named namespaces, registers them for cleanup, and reports "N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AWF=${AWF_NET:-$ROOT/build/awf-net}
# The same command line with fault-injection seams (tests/fault/main.cpp, AWF_FAULT=...).
AWF_FAULTS=${AWF_NET_FAULTS:-$(dirname "$AWF")/tests/awf-net-faults}
PASSED=0
FAILED=0
FAILED_NAMES=()
CLEANUP_NS=()
CLEANUP_TESTBEDS=()
CLEANUP_PIDS=()

[[ $(id -u) -eq 0 ]] || { echo "integration tests need root (network namespaces)"; exit 1; }
[[ -x "$AWF" ]] || { echo "no awf-net binary at $AWF"; exit 1; }

# A short unique prefix: interface and namespace names stay well under 15 characters.
new_prefix() { printf 't%04x%02x' $((RANDOM)) $(( $$ % 256 )); }

cleanup() {
    local pid ns tb
    for pid in "${CLEANUP_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for ns in "${CLEANUP_NS[@]}"; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
    for tb in "${CLEANUP_TESTBEDS[@]}"; do "$ROOT/tools/testbed" down "$tb" >/dev/null 2>&1; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_ns() { # make_ns NAME: an empty namespace with loopback up, removed at exit
    ip netns add "$1" && CLEANUP_NS+=("$1") && ip -n "$1" link set lo up
}

# stand_in_interface NS: an interface with the sandbox's address and default route (a veth pair
# with both ends in NS), so discovery has something to find.
stand_in_interface() {
    ip -n "$1" link add v0 type veth peer name v1
    ip -n "$1" addr add 172.30.0.20/24 dev v0
    ip -n "$1" link set v0 up
    ip -n "$1" link set v1 up
    ip -n "$1" route add default via 172.30.0.1
}

testbed_up() { # testbed_up PREFIX
    CLEANUP_TESTBEDS+=("$1")
    "$ROOT/tools/testbed" up "$1" >/dev/null
}

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1"); echo "FAIL - $1${2:+: $2}"; }

# check NAME CMD...: passes when CMD exits 0.
check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"; fi
}

# expect_eq NAME GOT WANT
expect_eq() {
    if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "got [$2] want [$3]"; fi
}

# expect_exit NAME CODE CMD...: passes when CMD exits with CODE.
expect_exit() {
    local name=$1 code=$2; shift 2
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [[ $rc -eq $code ]]; then pass "$name"; else fail "$name" "exit $rc, want $code: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}

# The ruleset as nft prints it, and as bytecode with set elements sorted (hash and rbtree
# sets list in a per-namespace order) and handles removed.
ruleset_text() { ip netns exec "$1" nft list ruleset; }
# The same without counter values (nft -s): for comparing rulesets of namespaces whose traffic
# differs (an interface coming up sends IPv6 MLD reports on its own).
ruleset_stateless() { ip netns exec "$1" nft -s list ruleset; }
ruleset_bytecode() {
    ip netns exec "$1" nft --debug=netlink list ruleset 2>&1 | python3 -c '
import re, sys
out, elems = [], []
for line in sys.stdin.read().split("\n"):
    if line.startswith("\telement"):
        elems.append(line); continue
    out.extend(sorted(elems)); elems = []
    line = re.sub(r"^(inet \S+ \S+) \d+( \d+)?$", r"\1", line)
    out.append(re.sub(r"\[ counter pkts \d+ bytes \d+ \]", "[ counter ]", line))
out.extend(sorted(elems))
print("\n".join(out))'
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [[ -n "${AWF_RESULTS:-}" ]] && echo "$PASSED $FAILED" >> "$AWF_RESULTS"
    [[ $FAILED -eq 0 ]]
}

# counter NS COMMENT [CHAIN]: packets counted by the awf rule carrying COMMENT.
counter() {
    ip netns exec "$1" nft -j list table inet awf | python3 -c '
import json, sys
comment, chain = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "") or None
for item in json.load(sys.stdin)["nftables"]:
    r = item.get("rule")
    if r and r.get("comment") == comment and (chain is None or r["chain"] == chain):
        for e in r["expr"]:
            if "counter" in e:
                print(e["counter"]["packets"]); sys.exit(0)
print("no-such-rule"); sys.exit(1)' "$2" "${3:-}"
}

# elapsed_ms CMD...: runs CMD, prints "EXIT MS".
elapsed_ms() {
    local t0 t1 rc
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; rc=$?; t1=$(date +%s%N)
    echo "$rc $(( (t1 - t0) / 1000000 ))"
}

# explained NS FLOW: the outcome awf-net explain predicts from the table installed in NS.
explained() {
    "$AWF" explain --netns "$1" --json "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"][0]["outcome"])'
}
