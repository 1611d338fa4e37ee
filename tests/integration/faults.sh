#!/usr/bin/env bash
# Faults and load: awf-net killed at a random instant (first install, replacement, delete), eight
# writers at once, and a policy far larger than a socket buffer. Afterwards the namespace holds
# exactly the old or the new policy, verified by dump, never a mixture or nothing by accident.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
ns=$p-f
make_ns "$ns"
stand_in_interface "$ns"
digest() { "$AWF" apply --netns "$ns" --dry-run --print json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["comment"])'; }
installed() { ip netns exec "$ns" nft list table inet awf 2>/dev/null | sed -n 's/^\tcomment "\(.*\)"$/\1/p'; }
P1=(--allow-host-ports 8080)
P2=(--allow-host-ports 9090 --blocked-action drop)
d1=$(digest "${P1[@]}")
d2=$(digest "${P2[@]}")

# SIGKILL at a random instant, 200 times: first installs, replacements and deletes.
bad=0 seen_old=0 seen_new=0
for i in $(seq 1 200); do
    case $((i % 4)) in
        0) "$AWF" delete --netns "$ns" >/dev/null; old=""; args=(apply --netns "$ns" "${P1[@]}"); new=$d1 ;;
        1) "$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null; old=$d1; args=(apply --netns "$ns" "${P2[@]}"); new=$d2 ;;
        2) "$AWF" apply --netns "$ns" "${P2[@]}" >/dev/null; old=$d2; args=(apply --netns "$ns" "${P1[@]}"); new=$d1 ;;
        3) "$AWF" apply --netns "$ns" "${P1[@]}" >/dev/null; old=$d1; args=(delete --netns "$ns"); new="" ;;
    esac
    "$AWF" "${args[@]}" >/dev/null 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 10))$((RANDOM % 10))" # 0 to 99 ms: an apply takes tens of ms
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    now=$(installed)
    if [[ $now == "$old" ]]; then seen_old=$((seen_old + 1))
    elif [[ $now == "$new" ]]; then seen_new=$((seen_new + 1))
    else bad=$((bad + 1)); echo "  round $i: installed '$now', old '$old', new '$new'" >&2; continue; fi
    if [[ -n $now ]] && ! "$AWF" dump --netns "$ns" >/dev/null 2>&1; then
        bad=$((bad + 1)); echo "  round $i: the table does not verify" >&2
    fi
done
expect_eq "200 kills: always exactly the old or the new policy, verified" "$bad" 0
[[ $seen_old -gt 0 && $seen_new -gt 0 ]] && pass "kills landed both before and after the commit ($seen_old old, $seen_new new)" || \
    fail "kills landed both before and after the commit" "$seen_old old, $seen_new new"

# Eight writers of different policies at once, 50 rounds: each exits 0 or 4 (the ruleset kept
# changing under it), and the table left is exactly one of theirs, verified.
declare -a digests
for w in $(seq 0 7); do digests[w]=$(digest --allow-host-ports $((8000 + w))); done
bad=0 refused=0
for round in $(seq 1 50); do
    pids=()
    for w in $(seq 0 7); do
        "$AWF" apply --netns "$ns" --allow-host-ports $((8000 + w)) >/dev/null 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid"; rc=$?
        case $rc in 0) ;; 4) refused=$((refused + 1)) ;; *) bad=$((bad + 1)); echo "  round $round: exit $rc" >&2 ;; esac
    done
    now=$(installed)
    match=0
    for d in "${digests[@]}"; do [[ $now == "$d" ]] && match=1; done
    [[ $match -eq 1 ]] || { bad=$((bad + 1)); echo "  round $round: installed '$now'" >&2; }
    "$AWF" dump --netns "$ns" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "  round $round: not verified" >&2; }
done
expect_eq "8 concurrent writers x 50: documented exits, one of their policies, verified" "$bad" 0
echo "  ($refused of 400 applies gave up after eight refused attempts: exit 4)"

# A policy of 100,000 entries (every odd port, 67,584 resolvers): a batch of megabytes, far past
# the socket's default buffer, still one transaction.
conf=$(mktemp)
python3 - "$conf" <<'PY'
import sys
ports = ",".join(str(p) for p in range(1, 65536, 2))
dns = ",".join(f"10.{a}.{b}.{c}" for a in range(1, 3) for b in range(0, 256) for c in range(1, 133))
with open(sys.argv[1], "w") as f:
    f.write(f"allow-host-ports = {ports}\ndns-servers = {dns}\n")
PY
out=$("$AWF" apply --netns "$ns" --config "$conf" 2>&1); rc=$?
expect_eq "100,000 entries apply" "$rc" 0
expect_eq "and every entry is in the kernel" \
    "$(ip netns exec "$ns" nft -j list set inet awf dns_v4 | python3 -c 'import json,sys; print(len({e["concat"][0] for x in json.load(sys.stdin)["nftables"] if "set" in x for e in x["set"].get("elem", [])}))')" 67584
expect_exit "and dump verifies it" 0 "$AWF" dump --netns "$ns"
rm -f "$conf"
finish
