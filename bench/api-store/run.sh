#!/usr/bin/env bash
# Memory of the Kubernetes API feed's store: the fake API server of the tests, on the host's loopback, loaded
# with synthetic pods (load_pods.py), listed by `tollgate bench api-store` through the real feed (TLS, token,
# pages of 500), which reports resident memory before and after, per pod.
#
#   bench/api-store/run.sh [--pods 100000] [--namespaces 100] [--port 26901] [--no-build] [--binary PATH]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PODS=100000
NAMESPACES=100
PORT=26901
BUILD=1
BINARY="$ROOT/.build/release/tollgate"
while [ $# -gt 0 ]; do
    case "$1" in
        --pods) PODS="$2"; shift 2 ;;
        --namespaces) NAMESPACES="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --binary) BINARY="$2"; BUILD=0; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
if [ "$BUILD" = 1 ]; then
    (cd "$ROOT" && swift build -c release --product tollgate 2>&1 | grep -E "error|Compiling tollgate|Build complete" || true)
fi
[ -x "$BINARY" ] || { echo "no binary at $BINARY" >&2; exit 1; }

WORK="$(mktemp -d /tmp/tgF-api-store-XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

curve=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${curve[@]}" -days 2 -subj /CN=bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req "${curve[@]}" -subj /CN=kube-apiserver -keyout "$WORK/server.key" -out "$WORK/server.csr" 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" > "$WORK/san.cnf"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
    -extfile "$WORK/san.cnf" -out "$WORK/server.crt" 2>/dev/null
echo bench-token > "$WORK/token"
cat > "$WORK/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
current-context: bench
clusters: [{name: fake, cluster: {server: "https://127.0.0.1:$PORT", certificate-authority: $WORK/ca.crt}}]
contexts: [{name: bench, context: {cluster: fake, user: bench}}]
users: [{name: bench, user: {tokenFile: $WORK/token}}]
KUBECONFIG

python3 "$ROOT/Tests/PolicyFeedsTests/Fixtures/fake_apiserver.py" --port "$PORT" --control-port "$((PORT + 1))" \
    --cert "$WORK/server.crt" --key "$WORK/server.key" --token bench-token --no-admin-policies > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((PORT + 1))/control/ready" >/dev/null && break; sleep 0.1; done
python3 "$HERE/load_pods.py" "$((PORT + 1))" "$PODS" "$NAMESPACES"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BINARY" bench api-store --kubeconfig "$WORK/kubeconfig" --pods "$PODS"
