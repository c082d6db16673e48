# Shared by the demo, the benchmarks and CI: dependencies, builds, and a routed pod topology in network namespaces.
# Every namespace this creates is named "$TG_PREFIX-..."; tg_teardown removes them all, and runs on EXIT.

TG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# The Debian packages Tollgate builds against and runs with.
TG_PACKAGES=(libnetfilter-queue-dev libnfnetlink-dev libmnl-dev liburcu-dev libnetfilter-conntrack-dev
    zlib1g-dev iptables nftables ipset conntrack iproute2 socat curl python3 procps openssl)

tg_install_dependencies() {
    local missing=()
    for package in "${TG_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

tg_build_release() {
    (cd "$TG_ROOT" && swift build -c release --product tollgate 2>&1 | grep -E "error|warning: unre|Compiling tollgate|Build complete" || true)
    TG_BIN="$TG_ROOT/.build/release/tollgate"
    [ -x "$TG_BIN" ] || { echo "build failed" >&2; exit 1; }
}

TG_NAMESPACES=()
TG_PIDS=()

tg_ns() { ip netns exec "$1" "${@:2}"; }

tg_teardown() {
    for pid in "${TG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for ns in "${TG_NAMESPACES[@]}"; do
        # Kill whatever still runs inside, then remove the namespace.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns delete "$ns" 2>/dev/null || true
    done
    TG_NAMESPACES=()
}

# tg_node VAR NAME: creates a node namespace that routes between pods (169.254.1.1 on lo answers the pods'
# proxy ARP) and stores its name in VAR. (No command substitution: the namespace list must grow in this shell.)
tg_node() {
    local var="$1"; shift
    local ns="$TG_PREFIX-$1"
    ip netns add "$ns"
    TG_NAMESPACES+=("$ns")
    tg_ns "$ns" ip link set lo up
    tg_ns "$ns" ip addr add 169.254.1.1/32 dev lo
    tg_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    printf -v "$var" '%s' "$ns"
}

# tg_pod VAR NODE-NS NAME IPV4 [IPV6]: creates a pod namespace with a /32 (and /128) on eth0, routed through
# the node, and stores its name in VAR.
tg_pod() {
    local var="$1"; shift
    local node="$1" name="$2" v4="$3" v6="${4:-}"
    local ns="$TG_PREFIX-$name" index="${#TG_NAMESPACES[@]}"
    local host="tgh$index"
    ip netns add "$ns"
    TG_NAMESPACES=("$ns" "${TG_NAMESPACES[@]}")
    tg_ns "$ns" ip link set lo up
    tg_ns "$node" ip link add "$host" type veth peer name eth0 netns "$ns"
    tg_ns "$node" sysctl -qw "net.ipv4.conf.$host.proxy_arp=1" "net.ipv6.conf.$host.accept_dad=0"
    tg_ns "$node" ip link set "$host" up
    tg_ns "$node" ip route add "$v4/32" dev "$host"
    tg_ns "$ns" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
    tg_ns "$ns" ip addr add "$v4/32" dev eth0
    tg_ns "$ns" ip link set eth0 up
    tg_ns "$ns" ip route add 169.254.1.1 dev eth0 scope link
    tg_ns "$ns" ip route add default via 169.254.1.1 dev eth0
    if [ -n "$v6" ]; then
        tg_ns "$node" ip -6 addr add fe80::1/64 dev "$host" nodad
        tg_ns "$node" ip -6 route add "$v6/128" dev "$host"
        tg_ns "$ns" ip -6 addr add "$v6/128" dev eth0 nodad
        tg_ns "$ns" ip -6 route add default via fe80::1 dev eth0
    fi
    printf -v "$var" '%s' "$ns"
}

# tg_tcp_server NS PORT: a TCP server that answers "ok" and closes; returns once it listens.
tg_tcp_server() {
    tg_ns "$1" socat -T2 "TCP6-LISTEN:$2,ipv6only=0,fork,reuseaddr" SYSTEM:'echo ok' >/dev/null 2>&1 &
    TG_PIDS+=($!)
    tg_wait_listening "$1" "$2" -Hltn
}

# tg_udp_server NS PORT: a UDP echo server; returns once it listens.
tg_udp_server() {
    tg_ns "$1" socat "UDP6-RECVFROM:$2,ipv6only=0,fork,reuseaddr" SYSTEM:'echo ok' >/dev/null 2>&1 &
    TG_PIDS+=($!)
    tg_wait_listening "$1" "$2" -Hlun
}

# tg_wait_listening NS PORT SS-FLAGS: waits up to 10 s for a socket listening on PORT in NS (a first probe must
# not race its server on a loaded machine).
tg_wait_listening() {
    for _ in $(seq 1 100); do
        [ -n "$(tg_ns "$1" ss "$3" "sport = :$2" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    echo "no server started listening on port $2 in $1" >&2
    return 1
}

# tg_connect NS ADDRESS PORT [tcp|udp]: succeeds when the server answers within 2 seconds.
tg_connect() {
    local ns="$1" address="$2" port="$3" proto="${4:-tcp}"
    case "$address" in *:*) address="[$address]" ;; esac
    if [ "$proto" = udp ]; then
        [ "$(echo hi | tg_ns "$ns" timeout 3 socat -T2 - "UDP:$address:$port" 2>/dev/null)" = ok ]
    else
        [ "$(tg_ns "$ns" timeout 3 socat -T2 - "TCP:$address:$port,connect-timeout=2" 2>/dev/null </dev/null)" = ok ]
    fi
}

# tg_wait_ready NS ADDRESS: waits for the daemon's /readyz inside NS.
tg_wait_ready() {
    for _ in $(seq 1 100); do
        tg_ns "$1" curl -fs "http://$2/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the daemon did not become ready" >&2
    return 1
}
