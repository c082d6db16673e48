#!/usr/bin/env bash
# The allow cache's add three ways (bench/allow-cache/nfq_variants.c: accept only, accept + netlink ipset add, NF_REPEAT +
# in-kernel SET add), each the only reader of one queue, with the saturated and paced TCP loads of
# bench/connections over distinct flows, rounds interleaved. Needs root; namespaces PREFIX-* removed on exit.
#
#   bench/allow-cache/reader-variants.sh [FLOWS (all)] [ROUNDS (3)] [SECONDS (5)] [PREFIX (tg-variants-PID)]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../scripts/lib/common.sh"
OUT="$HERE/../out"
FLOWS="${1:-all}"; ROUNDS="${2:-3}"; SECONDS_RUN="${3:-5}"
TG_PREFIX="${4:-tg-variants-$$}"
[ "$(id -u)" = 0 ] || { echo "reader-variants.sh creates network namespaces: run it as root" >&2; exit 1; }
gcc -O2 -Wall -Wextra -o "$OUT/nfq_variants" "$HERE/nfq_variants.c" $(pkg-config --cflags --libs libnetfilter_queue)
"$HERE/../connections/build.sh" >/dev/null
WORK="$(mktemp -d /tmp/tollgate-variants.XXXXXX)"
READER=""
finish() { set +e; [ -n "$READER" ] && kill "$READER" 2>/dev/null; tg_teardown; rm -rf "$WORK"; }
trap finish EXIT
trap 'exit 130' INT TERM
tg_node NODE node
tg_pod CLIENT "$NODE" client 10.244.1.10
tg_pod SERVER "$NODE" server 10.244.2.10
tg_ns "$NODE" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=1 net.netfilter.nf_conntrack_tcp_timeout_time_wait=1
tg_ns "$CLIENT" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 19999"
tg_ns "$SERVER" sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=8192
tg_ns "$CLIENT" ip route add local 10.244.64.0/19 dev lo
link="$(tg_ns "$NODE" ip -o route get 10.244.1.10 | sed -n 's/.* dev \([^ ]*\).*/\1/p')"
tg_ns "$NODE" ip route add 10.244.64.0/19 via 10.244.1.10 dev "$link" onlink
ip netns exec "$SERVER" "$OUT/server" --tcp-port 8000 --tcp-ports 256 --udp-port 9000 --udp-ports 1 --samples "$WORK/samples" >/dev/null 2>&1 &
TG_PIDS+=($!)
sleep 0.5
tg_ns "$NODE" ipset create tollgate-allow-v4 hash:ip,port,ip family inet timeout 60 maxelem 262144
rules() {

    tg_ns "$NODE" iptables-restore --noflush <<RULES
*mangle
:TGX-POLICY - [0:0]
:TGX-QUEUE - [0:0]
-A TGX-POLICY -m mark --mark 0x100000/0x100000 -j SET --add-set tollgate-allow-v4 src,dst,dst --exist --timeout 60
-A TGX-POLICY -m mark --mark 0x100000/0x100000 -j RETURN
-A TGX-POLICY -m conntrack ! --ctstate NEW -j RETURN
-A TGX-POLICY -m set --match-set tollgate-allow-v4 src,dst,dst -j RETURN
-A TGX-POLICY -s 10.244.0.0/16 -j TGX-QUEUE
-A TGX-POLICY -d 10.244.0.0/16 -j TGX-QUEUE
-A TGX-QUEUE -j NFQUEUE --queue-num 0 --queue-bypass
-I POSTROUTING 1 -j TGX-POLICY
COMMIT
RULES
}
unrules() {
    tg_ns "$NODE" iptables -t mangle -D POSTROUTING -j TGX-POLICY
    tg_ns "$NODE" iptables -t mangle -F TGX-POLICY; tg_ns "$NODE" iptables -t mangle -F TGX-QUEUE
    tg_ns "$NODE" iptables -t mangle -X TGX-POLICY; tg_ns "$NODE" iptables -t mangle -X TGX-QUEUE
}
echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) flows $FLOWS"
modes=(accept netlink repeat)
for ((r = 0; r < ROUNDS; r++)); do
    for ((i = 0; i < 3; i++)); do
        mode="${modes[$(((i + r) % 3))]}"
        tg_ns "$NODE" ipset flush tollgate-allow-v4
        ip netns exec "$NODE" "$OUT/nfq_variants" 0 "$mode" >"$WORK/reader.out" 2>"$WORK/reader.err" &
        READER=$!
        for _ in $(seq 1 100); do grep -q bound "$WORK/reader.err" 2>/dev/null && break; sleep 0.1; done
        rules
        for load in tcp paced; do
            extra=(); threads=4; offset=0
            [ "$load" = paced ] && { extra=(--rate 1000); threads=1; offset=1048576; }
            tg_ns "$NODE" conntrack -F >/dev/null 2>&1 || true
            sleep 1.2
            ip netns exec "$CLIENT" "$OUT/loadgen" tcp --host 10.244.2.10 --port 8000 --ports 256 --threads $threads \
                --seconds "$SECONDS_RUN" --warmup 1 --flows "$FLOWS" --source 10.244.64.0 --sources 8192 \
                --flow-offset $offset "${extra[@]}" > "$WORK/load.json"
            python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); print("round %s %-8s %-5s %8.0f conn/s p50 %6.1f us p90 %6.1f p99 %7.1f fail %d" % (sys.argv[2], sys.argv[3], sys.argv[4], l["conn_per_sec"], l["p50_us"], l["p90_us"], l["p99_us"], l["failures"]))' "$WORK/load.json" $((r + 1)) "$mode" "$load"
        done
        echo "    set entries $(tg_ns "$NODE" ipset list -t tollgate-allow-v4 | awk -F': ' '/entries/ {print $2}'); $(tg_ns "$NODE" iptables -t mangle -nvxL TGX-POLICY | awk '/match-set/ && /RETURN/ {print "set-match hits " $1} /SET/ {print "SET adds " $1}' | tr '\n' ' ')"
        unrules
        kill -INT "$READER"; wait "$READER" || true; READER=""
        echo "    reader: $(cat "$WORK/reader.out")"
    done
done
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"
