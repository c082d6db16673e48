#!/usr/bin/env bash
# The kernel allow cache's per-element cost, ip set against nft set: bench/out/add_cost (add_cost.c) sends element
# adds the way Tollgate's workers do (one send per receive batch) to the sets Tollgate creates for each back end, in
# a network namespace of its own, and prints one JSON line per measurement. Needs root.
#
#   bench/allow-cache/run.sh [--elements N] [--repeat R] [--batches "1 8 64"] [--netns-prefix PREFIX]
#
# For each batch size and each kind (ipset, nft): N adds of new elements (every add creates one), then N adds
# cycling over 1,000 elements already present (every add renews a timeout: the steady state of a cache that hits),
# each R times; the sets are flushed between measurements. Both kinds hold at most 262,144 elements (Tollgate's
# maxelem/size), so N must stay below that. Last, the full set: both sets filled to 262,144 elements, then 2,000
# adds of new elements in sends of 64 (and 200 in sends of 1): what a worker pays when the set is full.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$HERE/../out"
ELEMENTS=100000
REPEAT=3
BATCHES="1 8 64"
PREFIX="tg-addcost-$$"
while [ $# -gt 0 ]; do
    case "$1" in
        --elements) ELEMENTS="$2"; shift 2 ;;
        --repeat) REPEAT="$2"; shift 2 ;;
        --batches) BATCHES="$2"; shift 2 ;;
        --netns-prefix) PREFIX="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ "$ELEMENTS" =~ ^[0-9]+$ ]] && [ "$ELEMENTS" -ge 1000 ] && [ "$ELEMENTS" -lt 262144 ] ||
    { echo "run.sh: --elements is 1000-262143" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh creates a network namespace: run it as root" >&2; exit 1; }
mkdir -p "$OUT"
gcc -O2 -Wall -Wextra -o "$OUT/add_cost" "$HERE/add_cost.c"

NS="$PREFIX-sets"
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
in_ns() { ip netns exec "$NS" "$@"; }
# The sets exactly as Tollgate creates them (RuleRenderer: ipset create ... for iptables, the nft table's sets).
in_ns ipset create tollgate-allow-v4 hash:ip,port,ip family inet timeout 60 maxelem 262144
in_ns nft -f - <<'NFT'
table inet tollgate {
	set allow-v4 {
		type ipv4_addr . inet_proto . inet_service . ipv4_addr
		flags timeout
		timeout 60s
		size 262144
	}
}
NFT
flush() { in_ns ipset flush tollgate-allow-v4; in_ns nft flush set inet tollgate allow-v4; }
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, kernel $(uname -r)" >&2
for batch in $BATCHES; do
    for round in $(seq 1 "$REPEAT"); do
        for kind in ipset nft; do
            flush
            in_ns "$OUT/add_cost" "$kind" --batch "$batch" --elements "$ELEMENTS"
            in_ns "$OUT/add_cost" "$kind" --batch "$batch" --elements "$ELEMENTS" --distinct 1000
        done
    done
done
flush
for kind in ipset nft; do
    in_ns "$OUT/add_cost" "$kind" --batch 64 --elements 262144 >/dev/null
    in_ns "$OUT/add_cost" "$kind" --batch 64 --elements 2000 --offset 300000
    in_ns "$OUT/add_cost" "$kind" --batch 1 --elements 200 --offset 400000
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
