#!/usr/bin/env bash
# Policy latency: how long a policy file written to the watched directory takes to decide connections, and how
# long a tightened policy takes to cut an established connection it now forbids. Needs root; everything lives in
# network namespaces named tg-lat-PID-* that are removed on every exit path.
#
#   bench/policy-latency/run.sh [--policies "1000 10000"] [--trials 20] [--revoke-trials 10]
#                               [--scratch-path DIR] [--no-build] [--binary PATH] [--logs DIR] [--source dir|api]
#
# For each policy count N: make_policies.py writes N background policies (10 files, 2,000 filler pods) plus a
# policy isolating the server pod; `tollgate run --poll-interval-ms 0` (inotify only) enforces them in the node
# namespace; measure.py, in the client pod, flips flip.yaml (renamed into place) between allowing and denying the
# client on TCP 8000 and times the first connection attempt that follows the new policy (attempts every 2 ms);
# then, with --revoke-trials, times how long after a denying write an established connection stops echoing.
# Output: one JSON line per trial on stdout, then a summary (p50, p99, max per N and mode).
#
# --source api: the flip goes through the Kubernetes API instead. The fake API server of the tests
# (Tests/PolicyFeedsTests/Fixtures/fake_apiserver.py) runs in the node namespace over TLS; the daemon reads both
# the directory (cluster and N background policies) and the API (the flip policy only), and measure.py applies the
# flip through the server's control port at the node's address, 169.254.1.1, which sends the watch event. The
# time is from that request to the first connection that follows the new policy.
#
# Topology (scripts/lib/common.sh): client pod 10.244.1.10 -- node -- server pod 10.244.2.10, routed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../scripts/lib/common.sh"

POLICY_COUNTS="1000 10000"
TRIALS=20
REVOKE_TRIALS=10
SCRATCH="$TG_ROOT/.build"
BUILD=1
BINARY=""
LOGS=""
SOURCE=dir
while [ $# -gt 0 ]; do
    case "$1" in
        --policies) POLICY_COUNTS="$2"; shift 2 ;;
        --trials) TRIALS="$2"; shift 2 ;;
        --revoke-trials) REVOKE_TRIALS="$2"; shift 2 ;;
        --scratch-path) SCRATCH="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --binary) BINARY="$2"; BUILD=0; shift 2 ;;
        --logs) LOGS="$2"; shift 2 ;;
        --source) SOURCE="$2"; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
for number in $POLICY_COUNTS "$TRIALS" "$REVOKE_TRIALS"; do
    [[ "$number" =~ ^[0-9]+$ ]] || { echo "run.sh: '$number' is not a whole number" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh creates network namespaces: run it as root" >&2; exit 1; }

TG_PREFIX="tg-lat-$$"
WORK="$(mktemp -d /tmp/tollgate-latency.XXXXXX)"
METRICS=127.0.0.1:9481
DAEMON_PID=""
say() { echo "$@" >&2; }

cleanup() {
    if [ -n "$LOGS" ]; then mkdir -p "$LOGS" && cp "$WORK"/daemon-*.log "$LOGS"/ 2>/dev/null || true; fi
    if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
    tg_teardown
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

if [ -n "$BINARY" ]; then
    TG_BIN="$BINARY"
elif [ "$BUILD" = 1 ]; then
    say "building (release, scratch path $SCRATCH)"
    (cd "$TG_ROOT" && swift build -c release --scratch-path "$SCRATCH" --product tollgate 2>&1 | grep -E "error|Build complete" >&2 || true)
    TG_BIN="$SCRATCH/release/tollgate"
else
    TG_BIN="$SCRATCH/release/tollgate"
fi
[ -x "$TG_BIN" ] || { echo "run.sh: no binary at $TG_BIN" >&2; exit 1; }

[ "$SOURCE" = dir ] || [ "$SOURCE" = api ] || { echo "run.sh: --source is dir or api" >&2; exit 2; }
[ "$SOURCE" = api ] && [ "$REVOKE_TRIALS" -gt 0 ] && { say "--source api: revocation is measured with --source dir only"; REVOKE_TRIALS=0; }

tg_node NODE node
tg_pod CLIENT "$NODE" client 10.244.1.10
tg_pod SERVER "$NODE" server 10.244.2.10
ip netns exec "$SERVER" python3 "$HERE/server.py" &
TG_PIDS+=($!)

API_ARGS=()
MEASURE_ARGS=()
if [ "$SOURCE" = api ]; then
    curve=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${curve[@]}" -days 2 -subj /CN=bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
    openssl req "${curve[@]}" -subj /CN=kube-apiserver -keyout "$WORK/server.key" -out "$WORK/server.csr" 2>/dev/null
    echo "subjectAltName=IP:127.0.0.1" > "$WORK/san.cnf"
    openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
        -extfile "$WORK/san.cnf" -out "$WORK/server.crt" 2>/dev/null
    echo bench-token > "$WORK/token"
    printf 'apiVersion: v1\nkind: Config\ncurrent-context: bench\nclusters: [{name: fake, cluster: {server: "https://127.0.0.1:16443", certificate-authority: %s}}]\ncontexts: [{name: bench, context: {cluster: fake, user: bench}}]\nusers: [{name: bench, user: {tokenFile: %s}}]\n' \
        "$WORK/ca.crt" "$WORK/token" > "$WORK/kubeconfig"
    ip netns exec "$NODE" python3 "$TG_ROOT/Tests/PolicyFeedsTests/Fixtures/fake_apiserver.py" --port 16443 \
        --control-port 16444 --control-bind 169.254.1.1 --cert "$WORK/server.crt" --key "$WORK/server.key" \
        --token bench-token --no-admin-policies > "$WORK/apiserver.log" 2>&1 &
    TG_PIDS+=($!)
    for _ in $(seq 100); do tg_ns "$NODE" curl -sf http://169.254.1.1:16444/control/ready >/dev/null && break; sleep 0.1; done
    API_ARGS=(--kubeconfig "$WORK/kubeconfig")
    MEASURE_ARGS=(--api http://169.254.1.1:16444)
fi

RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
for count in $POLICY_COUNTS; do
    dir="$WORK/policies-$count"
    staging="$WORK/staging-$count"
    mkdir -p "$staging"
    python3 "$HERE/make_policies.py" "$dir" --policies "$count"
    # flip.yaml starts empty (the server denies the client); measure.py writes its versions.
    if [ "$SOURCE" = api ]; then
        # The flip policy lives in the API; start each N with it absent (the server isolated).
        tg_ns "$NODE" curl -sf -X POST -d '{"kind": "NetworkPolicy", "namespace": "lat-server", "name": "flip"}' \
            http://169.254.1.1:16444/control/delete >/dev/null
    else
        : > "$dir/flip.yaml"
    fi
    say "N=$count: starting tollgate ($(du -sh "$dir" | cut -f1) of manifests)"
    # ip netns exec execs the daemon: $! is the daemon itself (a shell function here would leave it orphaned).
    ip netns exec "$NODE" "$TG_BIN" run --policy-dir "$dir" --pod-cidr 10.244.0.0/16 --workers 2 --queue-num 0 \
        --metrics-addr "$METRICS" --poll-interval-ms 0 --log-level info "${API_ARGS[@]}" >"$WORK/daemon-$count.log" 2>&1 &
    DAEMON_PID=$!
    TG_PIDS+=("$DAEMON_PID")
    for _ in $(seq 1 600); do
        tg_ns "$NODE" curl -fs "http://$METRICS/readyz" >/dev/null 2>&1 && break
        kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon-$count.log" >&2; exit 1; }
        sleep 0.1
    done
    compile=$(tg_ns "$NODE" curl -fs "http://$METRICS/status" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["snapshot"]["compileMilliseconds"], s["policies"], s["pods"])')
    say "N=$count: ready (compile ms, policies, pods: $compile); $TRIALS flips"
    load=$(cut -d' ' -f1 /proc/loadavg)
    tg_ns "$CLIENT" python3 "$HERE/measure.py" connect --dir "$dir" --staging "$staging" --server 10.244.2.10 \
        --trials "$TRIALS" "${MEASURE_ARGS[@]}" | sed "s/^{/{\"policies\": $count, \"source\": \"$SOURCE\", \"load\": $load, /" | tee -a "$RESULTS"
    if [ "$REVOKE_TRIALS" -gt 0 ]; then
        tg_ns "$CLIENT" python3 "$HERE/measure.py" revoke --dir "$dir" --staging "$staging" --server 10.244.2.10 \
            --trials "$REVOKE_TRIALS" | sed "s/^{/{\"policies\": $count, \"load\": $load, /" | tee -a "$RESULTS"
    fi
    grep -E "snapshot [0-9]+ active" "$WORK/daemon-$count.log" | tail -3 >&2 || true
    grep -E "cut [0-9]+ established" "$WORK/daemon-$count.log" | tail -1 >&2 || true
    kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=""
done

python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
groups = {}
for r in rows:
    key = (r["policies"], r["mode"] + ("" if r["mode"] == "revoke" else "/" + r["to"]))
    groups.setdefault(key, []).append(r["ms"])
for r in rows:
    if r["mode"] == "connect":
        groups.setdefault((r["policies"], "connect/all"), []).append(r["ms"])
print("policies  mode            n   missed  p50 ms   p99 ms   max ms")
for (count, mode), values in sorted(groups.items()):
    got = [v for v in values if v is not None]
    if not got:
        print(f"{count:>8}  {mode:<14} {len(values):>3}  {len(values):>6}  -")
        continue
    print(f"{count:>8}  {mode:<14} {len(values):>3}  {len(values) - len(got):>6}  {pct(got, 50):>7.1f}  {pct(got, 99):>7.1f}  {max(got):>7.1f}")
PY
