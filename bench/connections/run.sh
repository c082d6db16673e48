#!/usr/bin/env bash
# The datapath benchmark: short TCP connections and UDP first packets between two pods through a node, in one run,
# (a) with no queue, (b) with every new connection queued to the plain C NFQUEUE reader (bench/out/nfq_floor), and
# (c) with every new connection decided by Tollgate holding 10,000 NetworkPolicies. Needs root; everything lives in
# network namespaces named tg-bench-PID-* that are removed on every exit path.
#
#   bench/connections/run.sh [--seconds S] [--warmup W] [--threads T] [--udp-threads U] [--paced-rate R]
#                            [--workers N] [--policies P] [--rounds N] [--output text|json] [--scratch-path DIR]
#                            [--no-build] [--perf DIR] [--worker-priority N] [--kernel-allow-cache]
#                            [--flows N|all] [--netns-prefix PREFIX]
#
# --rounds N repeats the three cases N times, interleaved; the table reports medians.
# --worker-priority N adds a fourth case, "tollgate-rt": Tollgate with its workers under SCHED_RR at priority N
# (`tollgate run --worker-priority N`), interleaved with the others, so the two Tollgate cases are paired per round.
# --kernel-allow-cache adds "tollgate-kc" likewise: `tollgate run --kernel-allow-cache`, where repeats of an
# allowed (source, protocol, port, destination) skip the queue. The benchmark's connections all share one such
# flow (they differ only in the source port), so this case shows the cache's best case, not the queue path.
# --flows N|all spreads every load over distinct flow keys (source address, protocol, destination port,
# destination: the key of the flow cache and of the kernel allow cache): the client namespace gets 8,192 local
# addresses (10.244.64.0/19, pods of the client's namespace and labels in the policy directory), the server
# listens on 256 TCP and 128 UDP ports, and each connection (datagram) takes the next key of the cycle of N.
# "all": no key is ever used twice within a case (TCP and paced draw from disjoint ranges of the 2,097,152 TCP
# keys, UDP from its 1,048,576), the allow cache's worst case. Without --flows the loads keep their original
# shape: one client address, 16 TCP ports and 64 UDP ports (16 and 64 keys).
# --netns-prefix PREFIX: names the namespaces PREFIX-* (default tg-bench-PID).
# --perf DIR: records the C reader's and Tollgate's CPU profiles (perf record -e cpu-clock -g, the reader's process
# only, kernel time in its system calls included) during each TCP window, and writes perf report summaries to DIR.
#
# Per case: "tcp", T threads connecting back to back (saturation: rate and latency under load); "paced", one
# thread connecting R times a second (default 1000: connect latency on an otherwise idle path); "udp", U threads
# sending first packets open-loop.
#
# Topology (scripts/lib/common.sh): client pod 10.244.1.10 -- node -- server pod 10.244.2.10, routed, so every
# packet crosses the node's POSTROUTING hook, where the rules classify conntrack-NEW packets with a pod-CIDR
# endpoint. The three cases differ only in what that classification ends in:
#   none      the same chains as (b), ending in RETURN: conntrack and the rule walk are paid, nothing is queued;
#   floor     the chains RuleRenderer renders for one queue (mangle TGBENCH-POLICY/TGBENCH-QUEUE, jumps from
#             POSTROUTING and INPUT), ending in NFQUEUE --queue-num 0 --queue-bypass, read by nfq_floor 0;
#   tollgate  `tollgate run` installs its own rules (queues 0..N-1, --queue-balance, cpu fanout, bypass).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../scripts/lib/common.sh"

SECONDS_PER_CASE=10
WARMUP=2
THREADS=4
UDP_THREADS=2
PACED_RATE=1000
ROUNDS=1
WORKERS=2
POLICIES=10000
RT_PRIORITY=0
KERNEL_CACHE=0
OUTPUT=text
SCRATCH="$TG_ROOT/.build"
BUILD=1
PERF_DIR=""
FLOWS=""
NETNS_PREFIX=""
COMMAND="bench/connections/run.sh $*"
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_PER_CASE="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --udp-threads) UDP_THREADS="$2"; shift 2 ;;
        --paced-rate) PACED_RATE="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --workers) WORKERS="$2"; shift 2 ;;
        --policies) POLICIES="$2"; shift 2 ;;
        --worker-priority) RT_PRIORITY="$2"; shift 2 ;;
        --kernel-allow-cache) KERNEL_CACHE=1; shift ;;
        --output) OUTPUT="$2"; shift 2 ;;
        --scratch-path) SCRATCH="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --perf) PERF_DIR="$2"; shift 2 ;;
        --flows) FLOWS="$2"; shift 2 ;;
        --netns-prefix) NETNS_PREFIX="$2"; shift 2 ;;
        -h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
case "$OUTPUT" in text|json) ;; *) echo "run.sh: --output is text or json" >&2; exit 2 ;; esac
for number in "$SECONDS_PER_CASE" "$WARMUP" "$THREADS" "$UDP_THREADS" "$PACED_RATE" "$ROUNDS" "$WORKERS" "$POLICIES"; do
    [[ "$number" =~ ^[0-9]+$ ]] || { echo "run.sh: '$number' is not a whole number" >&2; exit 2; }
done
if [ -n "$PERF_DIR" ]; then
    mkdir -p "$PERF_DIR" && PERF_DIR="$(cd "$PERF_DIR" && pwd)"
    command -v perf >/dev/null || { echo "run.sh: --perf needs perf (apt-get install linux-perf)" >&2; exit 2; }
fi
if [ -n "$FLOWS" ] && [ "$FLOWS" != all ]; then
    [[ "$FLOWS" =~ ^[0-9]+$ ]] && [ "$FLOWS" -ge 1 ] || { echo "run.sh: --flows is a whole number >= 1 or 'all'" >&2; exit 2; }
fi
[ "$ROUNDS" -ge 1 ] || { echo "run.sh: --rounds must be at least 1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh creates network namespaces: run it as root" >&2; exit 1; }

CLIENT_IP=10.244.1.10
SERVER_IP=10.244.2.10
POD_CIDR=10.244.0.0/16
TCP_PORT=8000; TCP_PORTS=16
UDP_PORT=9000; UDP_PORTS=64
# --flows: the client's extra addresses (pods in the policy directory) and the larger port ranges.
FLOW_SOURCE=10.244.64.0; FLOW_SOURCE_PREFIX=10.244.64.0/19; FLOW_SOURCES=8192
PACED_FLOW_OFFSET=1048576
LAST_FLOW_SOURCE=10.244.95.255
if [ -n "$FLOWS" ]; then
    TCP_PORTS=256; UDP_PORTS=128
    if [ "$FLOWS" != all ] && [ "$FLOWS" -gt $((TCP_PORTS * FLOW_SOURCES / 2)) ]; then
        echo "run.sh: --flows $FLOWS: at most $((TCP_PORTS * FLOW_SOURCES / 2)) (or 'all')" >&2; exit 2
    fi
fi
METRICS=127.0.0.1:9479
OUT="$TG_ROOT/bench/out"
TG_PREFIX="${NETNS_PREFIX:-tg-bench-$$}"
WORK="$(mktemp -d /tmp/tollgate-bench.XXXXXX)"
DAEMON_PID=""
READER_PID=""
# Progress goes to stderr, so that --output json leaves stdout to the result.
say() { echo "$@" >&2; }

finish() {
    set +e
    [ -n "$READER_PID" ] && kill "$READER_PID" 2>/dev/null && wait "$READER_PID" 2>/dev/null
    [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    [ -n "${NODE:-}" ] && [ -n "${TG_BIN:-}" ] && tg_ns "$NODE" "$TG_BIN" cleanup >/dev/null 2>&1
    tg_teardown
    rm -rf "$WORK"
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---- build
if [ "$BUILD" = 1 ]; then
    say "== building (tollgate release into $SCRATCH, nfq_floor, loadgen, server)"
    tg_install_dependencies >&2
    if ! (cd "$TG_ROOT" && swift build -c release --product tollgate --scratch-path "$SCRATCH" >"$WORK/build.log" 2>&1); then
        grep -E "error:" "$WORK/build.log" | head -20 >&2
        echo "run.sh: swift build failed (a stale binary would measure the wrong code)" >&2
        exit 1
    fi
    grep -E "Build complete" "$WORK/build.log" >&2 || true
    "$TG_ROOT/bench/c-reader/build.sh" >&2
    "$HERE/build.sh" >&2
fi
TG_BIN="$SCRATCH/release/tollgate"
for binary in "$TG_BIN" "$OUT/nfq_floor" "$OUT/loadgen" "$OUT/server"; do
    [ -x "$binary" ] || { echo "run.sh: $binary is missing (build failed?)" >&2; exit 1; }
done

say "== writing $POLICIES policies"
POLICY_ARGS=(--policies "$POLICIES")
[ -n "$FLOWS" ] && POLICY_ARGS+=(--tcp-ports "$TCP_PORTS" --udp-ports "$UDP_PORTS" --client-addresses "$FLOW_SOURCE" "$FLOW_SOURCES")
python3 "$HERE/make_policies.py" "$WORK/policies" "${POLICY_ARGS[@]}"
"$TG_BIN" check --policy-dir "$WORK/policies" >&2

# ---- topology
say "== topology: client $CLIENT_IP -- node -- server $SERVER_IP (prefix $TG_PREFIX)"
tg_node NODE node
tg_pod CLIENT "$NODE" client "$CLIENT_IP"
tg_pod SERVER "$NODE" server "$SERVER_IP"
# Connections end with an RST (loadgen sets SO_LINGER 0), so no TIME_WAIT piles up; conntrack keeps closed and
# unreplied entries for a second only, so the table (262144, the host's maximum) never fills and a 5-tuple used
# again later is NEW again.
tg_ns "$NODE" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=1 net.netfilter.nf_conntrack_udp_timeout=1 \
    net.netfilter.nf_conntrack_tcp_timeout_syn_recv=5 net.netfilter.nf_conntrack_tcp_timeout_time_wait=1
tg_ns "$CLIENT" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 19999"
tg_ns "$SERVER" sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=8192
if [ -n "$FLOWS" ]; then
    # The client's extra addresses: local to the client namespace without 8,192 interface addresses (a local
    # route makes every address of the prefix bindable), routed by the node through the client's own address,
    # so the node keeps one neighbour entry for all of them.
    tg_ns "$CLIENT" ip route add local "$FLOW_SOURCE_PREFIX" dev lo
    client_link="$(tg_ns "$NODE" ip -o route get "$CLIENT_IP" | sed -n 's/.* dev \([^ ]*\).*/\1/p')"
    tg_ns "$NODE" ip route add "$FLOW_SOURCE_PREFIX" via "$CLIENT_IP" dev "$client_link" onlink
fi

# Background processes start as `ip netns exec ... &` (not through the tg_ns function, which would fork a
# subshell): ip execs the program, so $! is the program itself and signals reach it.
ip netns exec "$SERVER" "$OUT/server" --tcp-port "$TCP_PORT" --tcp-ports "$TCP_PORTS" --udp-port "$UDP_PORT" \
    --udp-ports "$UDP_PORTS" --samples "$WORK/samples" >"$WORK/server.out" 2>"$WORK/server.err" &
TG_PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/samples" ] && break; sleep 0.1; done
[ -s "$WORK/samples" ] || { echo "run.sh: the server did not start: $(cat "$WORK/server.err")" >&2; exit 1; }

# The node's queue counters, sampled with CLOCK_MONOTONIC like the server's (python's time.monotonic_ns).
ip netns exec "$NODE" python3 "$HERE/report.py" sample-queues "$WORK/queue-samples" &
TG_PIDS+=($!)

# ---- rules for the no-queue and floor cases (mirroring RuleRenderer's iptables output for one queue)
install_rules() {
    local target="$1"
    tg_ns "$NODE" iptables-restore --noflush <<RULES
*mangle
:TGBENCH-POLICY - [0:0]
:TGBENCH-QUEUE - [0:0]
-A TGBENCH-POLICY -m conntrack ! --ctstate NEW -j RETURN
-A TGBENCH-POLICY -s $POD_CIDR -j TGBENCH-QUEUE
-A TGBENCH-POLICY -d $POD_CIDR -j TGBENCH-QUEUE
-A TGBENCH-QUEUE -j $target
-I POSTROUTING 1 -j TGBENCH-POLICY
-I INPUT 1 -j TGBENCH-POLICY
COMMIT
RULES
}
remove_rules() {
    tg_ns "$NODE" iptables -t mangle -D POSTROUTING -j TGBENCH-POLICY
    tg_ns "$NODE" iptables -t mangle -D INPUT -j TGBENCH-POLICY
    tg_ns "$NODE" iptables -t mangle -F TGBENCH-POLICY
    tg_ns "$NODE" iptables -t mangle -F TGBENCH-QUEUE
    tg_ns "$NODE" iptables -t mangle -X TGBENCH-POLICY
    tg_ns "$NODE" iptables -t mangle -X TGBENCH-QUEUE
}

# snapshot FILE [metrics]: the time, the node's NFQUEUE counters and (with "metrics") Tollgate's /metrics.
snapshot() {
    {
        date +%s.%N
        echo ---proc
        tg_ns "$NODE" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null || true
        echo ---kcache
        # The allow cache's rule (packets the kernel accepted from the set without queueing) and the set's size.
        tg_ns "$NODE" iptables -w -t mangle -nvxL TOLLGATE-POLICY 2>/dev/null |
            awk '/match-set tollgate-allow-v4/ { print "accepted", $1 }' || true
        tg_ns "$NODE" ipset list -t tollgate-allow-v4 2>/dev/null | awk -F': ' '/^Number of entries/ { print "entries", $2 }' || true
        echo ---metrics
        if [ "${2:-}" = metrics ]; then tg_ns "$NODE" curl -fsS "http://$METRICS/metrics"; fi
    } >"$1"
}

# measure CASE PROTO [metrics]: one load generator run; snapshots at the window's start and end.
measure() {
    local name="$1" proto="$2" metrics="${3:-}" threads="$THREADS" port="$TCP_PORT" ports="$TCP_PORTS"
    local mode="$proto" extra=()
    if [ "$proto" = udp ]; then threads="$UDP_THREADS"; port="$UDP_PORT"; ports="$UDP_PORTS"; fi
    if [ "$proto" = paced ]; then mode=tcp; threads=1; extra=(--rate "$PACED_RATE"); fi
    if [ -n "$FLOWS" ]; then
        extra+=(--flows "$FLOWS" --source "$FLOW_SOURCE" --sources "$FLOW_SOURCES")
        # "all": the paced load must not meet the keys the saturated load used a minute earlier (same daemon).
        if [ "$FLOWS" = all ] && [ "$proto" = paced ]; then extra+=(--flow-offset "$PACED_FLOW_OFFSET"); fi
    fi
    tg_ns "$NODE" conntrack -F >/dev/null 2>&1 || true
    sleep 1.2  # conntrack's CLOSE entries of the previous run expire; the server drains
    ip netns exec "$CLIENT" "$OUT/loadgen" "$mode" --host "$SERVER_IP" --port "$port" --ports "$ports" \
        --threads "$threads" --seconds "$SECONDS_PER_CASE" --warmup "$WARMUP" --timeout-ms 1000 "${extra[@]}" \
        >"$WORK/$name-$proto.load" 2>"$WORK/$name-$proto.err" &
    local load=$!
    sleep "$WARMUP"
    snapshot "$WORK/$name-$proto.before" "$metrics"
    local profiled="${READER_PID:-$DAEMON_PID}" perf=""
    if [ -n "$PERF_DIR" ] && [ -n "$profiled" ] && [ "$proto" != udp ]; then
        perf record -q -e cpu-clock -g -p "$profiled" -o "$PERF_DIR/$name-$proto-$ROUND.data" -- sleep "$SECONDS_PER_CASE" \
            >/dev/null 2>&1 &
        perf=$!
    fi
    sleep "$SECONDS_PER_CASE"
    snapshot "$WORK/$name-$proto.after" "$metrics"
    if [ -n "$perf" ]; then
        wait "$perf" || true
        perf report -i "$PERF_DIR/$name-$proto-$ROUND.data" --stdio --no-children --sort dso,sym 2>/dev/null |
            grep -v '^$' | head -150 >"$PERF_DIR/$name-$proto-$ROUND.txt" || true
    fi
    wait "$load" || { echo "run.sh: loadgen failed: $(cat "$WORK/$name-$proto.err")" >&2; exit 1; }
    python3 "$HERE/report.py" case --name "$name" --proto "$proto" --round "$ROUND" --loadgen "$WORK/$name-$proto.load" \
        --samples "$WORK/samples" --queue-samples "$WORK/queue-samples" --before "$WORK/$name-$proto.before" --after "$WORK/$name-$proto.after" \
        >>"$WORK/records.jsonl"
    say "   $name $proto: $(python3 -c 'import json,sys; r=json.loads(sys.stdin.read().splitlines()[-1]); l=r["loadgen"]; print(("%.0f conn/s p50 %.1f us p99 %.1f us, %d failures" % (l["conn_per_sec"], l["p50_us"], l["p99_us"], l["failures"])) if r["proto"]!="udp" else ("%.0f sent/s, %.0f delivered/s, %.0f queued/s" % (l["sent_per_sec"], r["server_per_sec"], r["queued_per_sec"])))' <"$WORK/records.jsonl")"
}

# A reachability check before each case: a case that silently measures a broken path would be worthless.
probe() {
    tg_ns "$CLIENT" "$OUT/loadgen" tcp --host "$SERVER_IP" --port "$TCP_PORT" --threads 1 --seconds 0.2 \
        --warmup 0 >"$WORK/probe.json" 2>&1 || true
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["connections"] > 0 and r["failures"] == 0 else 1)' \
        "$WORK/probe.json" || { echo "run.sh: $1: client cannot reach the server: $(cat "$WORK/probe.json")" >&2; exit 1; }
    [ -n "$FLOWS" ] || return 0
    # From the last extra address to the last port: the last key of the space, which no load reaches.
    tg_ns "$CLIENT" "$OUT/loadgen" tcp --host "$SERVER_IP" --port "$((TCP_PORT + TCP_PORTS - 1))" --threads 1 \
        --seconds 0.2 --warmup 0 --flows 1 --source "$LAST_FLOW_SOURCE" >"$WORK/probe.json" 2>&1 || true
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["connections"] > 0 and r["failures"] == 0 else 1)' \
        "$WORK/probe.json" || { echo "run.sh: $1: $LAST_FLOW_SOURCE cannot reach the server: $(cat "$WORK/probe.json")" >&2; exit 1; }
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- (a) no queue
case_none() {
    say "== round $ROUND (a) no queue (conntrack and the classification rules, ending in RETURN)"
    install_rules RETURN
    probe none
    measure none tcp
    measure none paced
    measure none udp
    remove_rules
}

# ---- (b) the C floor reader
case_floor() {
    say "== round $ROUND (b) C floor reader: NFQUEUE --queue-num 0, one verdict per packet"
    ip netns exec "$NODE" "$OUT/nfq_floor" 0 >"$WORK/floor.out" 2>"$WORK/floor.err" &
    READER_PID=$!
    # Up to 15 s: on a loaded 2-core machine the reader can take seconds to be scheduled and bind.
    for _ in $(seq 1 150); do grep -q bound "$WORK/floor.err" 2>/dev/null && break; sleep 0.1; done
    grep -q bound "$WORK/floor.err" || { echo "run.sh: nfq_floor did not bind: $(cat "$WORK/floor.err")" >&2; exit 1; }
    install_rules "NFQUEUE --queue-num 0 --queue-bypass"
    probe floor
    measure floor tcp
    measure floor paced
    measure floor udp
    remove_rules
    kill -INT "$READER_PID"; wait "$READER_PID" || true; READER_PID=""
    say "   nfq_floor: $(cat "$WORK/floor.out")"
}

# ---- (c) Tollgate, and (d) Tollgate with real-time workers
# run_tollgate NAME [RUN-ARGS...]: one Tollgate case, recorded under NAME.
run_tollgate() {
    local name="$1"; shift
    say "== round $ROUND ($name) Tollgate: $POLICIES policies, --workers $WORKERS $*"
    ip netns exec "$NODE" "$TG_BIN" run --policy-dir "$WORK/policies" --pod-cidr "$POD_CIDR" --workers "$WORKERS" \
        --queue-num 0 --metrics-addr "$METRICS" --log-level notice "$@" >"$WORK/daemon.out" 2>"$WORK/daemon.err" &
    DAEMON_PID=$!
    local ready=0
    for _ in $(seq 1 600); do
        if tg_ns "$NODE" curl -fs "http://$METRICS/readyz" >/dev/null 2>&1; then ready=1; break; fi
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ "$ready" = 1 ] || { echo "run.sh: tollgate did not become ready: $(tail -20 "$WORK/daemon.err")" >&2; exit 1; }
    tg_ns "$NODE" curl -fsS "http://$METRICS/status" >"$WORK/status.json"
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("   snapshot: %d policies, %d pods, %d identities, %d table bytes, compiled in %.0f ms; back end %s, queues %s" % (s["policies"], s["pods"], s["snapshot"]["identities"], s["snapshot"]["tableBytes"], s["snapshot"]["compileMilliseconds"], s["backend"], s["queues"]))' \
        "$WORK/status.json" >&2
    probe "$name"
    measure "$name" tcp metrics
    measure "$name" paced metrics
    measure "$name" udp metrics
    kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""
    tg_ns "$NODE" "$TG_BIN" cleanup >/dev/null
}
case_tollgate() { run_tollgate tollgate; }
case_tollgate_rt() { run_tollgate tollgate-rt --worker-priority "$RT_PRIORITY"; }
case_tollgate_kc() { run_tollgate tollgate-kc --kernel-allow-cache --backend iptables; }

# Rounds interleave the cases (a b c, then b c a, then c a b, ...) so that a change in the machine's load
# during the run hits every case alike; the table gives medians and per-round ratios.
CASES=(none floor tollgate)
[ "$RT_PRIORITY" -gt 0 ] && CASES+=(tollgate_rt)
[ "$KERNEL_CACHE" = 1 ] && CASES+=(tollgate_kc)
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for ((i = 0; i < ${#CASES[@]}; i++)); do "case_${CASES[$(((i + ROUND - 1) % ${#CASES[@]}))]}"; done
done

LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/meta.json" <<META
import json, sys
json.dump({
    "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "command": "$COMMAND", "cpus": $(nproc),
    "cpu_model": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')", "kernel": "$(uname -r)",
    "load_before": "$LOAD_BEFORE", "load_after": "$LOAD_AFTER", "seconds": $SECONDS_PER_CASE, "warmup": $WARMUP,
    "threads": $THREADS, "udp_threads": $UDP_THREADS, "paced_rate": $PACED_RATE, "rounds": $ROUNDS, "workers": $WORKERS, "policies": $POLICIES,
    "flows": "${FLOWS:-default}", "tcp_ports": $TCP_PORTS, "udp_ports": $UDP_PORTS,
}, open(sys.argv[1], "w"))
META
say ""
python3 "$HERE/report.py" table "$WORK/records.jsonl" "$WORK/meta.json" --output "$OUTPUT"
