#!/usr/bin/env bash
# Coexistence: Docker's embedded-DNS rules (an `ip nat` table made with iptables-nft that
# redirects 127.0.0.11:53) exist before awf-net, are untouched by apply and delete, and keep
# answering DNS through awf-net's policy.
source "$(dirname "$0")/lib.sh"

p=$(new_prefix)
ns=$p-d
make_ns "$ns"
nsrun() { ip netns exec "$ns" "$@"; }
nsrun ip addr add 127.0.0.11/8 dev lo 2>/dev/null || true

# Docker's resolver stand-in: dnsmasq on 127.0.0.11:5353, reached through Docker-style DNAT.
state=$(mktemp -d)
nsrun dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.11 --port=5353 \
    --bind-interfaces --address=/db.internal/172.30.0.99 --pid-file="$state/pid" --user=root >/dev/null 2>&1 &
CLEANUP_PIDS+=($!)
nsrun iptables-nft -t nat -A OUTPUT -d 127.0.0.11/32 -p udp --dport 53 -j DNAT --to-destination 127.0.0.11:5353
nsrun iptables-nft -t nat -A OUTPUT -d 127.0.0.11/32 -p tcp --dport 53 -j DNAT --to-destination 127.0.0.11:5353
for _ in $(seq 50); do nsrun ss -Hlun 'sport = :5353' | grep -q . && break; sleep 0.1; done

docker_rules() { nsrun iptables-nft-save -t nat | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
before=$(docker_rules)
check "Docker-style DNS answers before awf-net" nsrun python3 "$ROOT/tests/integration/dnsq.py" 127.0.0.11 db.internal

expect_exit "apply beside iptables-nft's table" 0 "$AWF" apply --netns "$ns"
expect_eq "iptables-nft rules untouched by apply" "$(docker_rules)" "$before"
out=$(nsrun python3 "$ROOT/tests/integration/dnsq.py" 127.0.0.11 db.internal 2>&1)
expect_eq "DNS through Docker's redirect still answers (udp)" "$out" "172.30.0.99"
out=$(nsrun python3 "$ROOT/tests/integration/dnsq.py" 127.0.0.11 db.internal tcp 2>&1)
expect_eq "DNS through Docker's redirect still answers (tcp)" "$out" "172.30.0.99"
expect_eq "both tables present" "$(nsrun nft list tables | sort | tr '\n' ' ')" "table inet awf table ip nat "

expect_exit "delete beside iptables-nft's table" 0 "$AWF" delete --netns "$ns"
expect_eq "iptables-nft rules untouched by delete" "$(docker_rules)" "$before"
out=$(nsrun python3 "$ROOT/tests/integration/dnsq.py" 127.0.0.11 db.internal 2>&1)
expect_eq "DNS still answers after delete" "$out" "172.30.0.99"
rm -rf "$state"
finish
