# Multi-node labs in network namespaces, on top of common.sh: an underlay switch, nodes with a pod bridge
# (br_netfilter on, as Kubernetes requires), VXLAN between node bridges (a Weave-like overlay), pods on the
# bridges, and hosts outside the cluster on the underlay. Every namespace is registered for tg_teardown.

# lab_namespace VAR NAME: a namespace "$TG_PREFIX-NAME" with loopback up.
lab_namespace() {
    local lab_name="$TG_PREFIX-$2"
    ip netns add "$lab_name"
    TG_NAMESPACES=("$lab_name" "${TG_NAMESPACES[@]}")
    ip -n "$lab_name" link set lo up
    printf -v "$1" '%s' "$lab_name"
}

# lab_switch: the underlay, one bridge in a namespace of its own (LAB_SWITCH).
lab_switch() {
    lab_namespace LAB_SWITCH switch
    ip -n "$LAB_SWITCH" link add br0 type bridge
    ip -n "$LAB_SWITCH" link set br0 up
    LAB_PORTS=0
}

# lab_attach NS IFNAME ADDRESS/LEN: a veth from NS into the underlay switch.
lab_attach() {
    local port="p$LAB_PORTS"
    LAB_PORTS=$((LAB_PORTS + 1))
    ip -n "$LAB_SWITCH" link add "$port" type veth peer name "$2" netns "$1"
    ip -n "$LAB_SWITCH" link set "$port" master br0 up
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$1" link set "$2" up
}

# lab_node VAR NAME BRIDGE-ADDRESS/LEN UNDERLAY-ADDRESS/LEN: a node namespace that forwards, with its pod bridge
# tgbr0 (holding BRIDGE-ADDRESS, the pods' gateway) and its underlay interface tgu0.
lab_node() {
    local var="$1" name="$2" bridge="$3" underlay="$4" node_ns
    lab_namespace node_ns "$name"
    ip netns exec "$node_ns" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$node_ns" link add tgbr0 type bridge
    ip netns exec "$node_ns" sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
    ip -n "$node_ns" addr add "$bridge" dev tgbr0
    ip -n "$node_ns" link set tgbr0 up
    lab_attach "$node_ns" tgu0 "$underlay"
    printf -v "$var" '%s' "$node_ns"
}

# lab_vxlan NODE-NS LOCAL-UNDERLAY PEER-UNDERLAY...: VXLAN 42 from the node's bridge to every peer node's (unicast
# head-end replication for broadcast, learning for the rest), so pods of all nodes share one layer-2 segment.
lab_vxlan() {
    local ns="$1" local_address="$2"; shift 2
    ip -n "$ns" link add tgvx0 type vxlan id 42 local "$local_address" dstport 4789 dev tgu0
    for peer in "$@"; do ip netns exec "$ns" bridge fdb append 00:00:00:00:00:00 dev tgvx0 dst "$peer"; done
    ip -n "$ns" link set tgvx0 mtu 1450 master tgbr0 up
}

# lab_pod VAR NODE-NS NAME ADDRESS/LEN GATEWAY: a pod on the node's bridge, default route via GATEWAY.
lab_pod() {
    local var="$1" node="$2" name="$3" address="$4" gateway="$5" pod_ns
    lab_namespace pod_ns "$name"
    local port="v${name//[^a-z0-9]/}"
    port="${port:0:15}"
    ip -n "$node" link add "$port" type veth peer name eth0 netns "$pod_ns"
    ip -n "$node" link set "$port" master tgbr0 up
    ip -n "$pod_ns" addr add "$address" dev eth0
    ip -n "$pod_ns" link set eth0 mtu 1450 up
    ip -n "$pod_ns" route add default via "$gateway"
    printf -v "$var" '%s' "$pod_ns"
}

# lab_external VAR NAME ADDRESS/LEN: a host outside the cluster, on the underlay.
lab_external() {
    local external_ns
    lab_namespace external_ns "$2"
    lab_attach "$external_ns" eth0 "$3"
    printf -v "$1" '%s' "$external_ns"
}

# lab_nodeport NODE-NS NODE-ADDRESS PORT BACKEND-ADDRESS BACKEND-PORT: kube-proxy's NodePort in iptables mode:
# DNAT to the backend, marked for masquerade (kube-proxy masquerades NodePort traffic it may send to another
# node), and the masquerade rule for marked connections.
lab_nodeport() {
    local ns="$1"
    ip netns exec "$ns" iptables -t nat -A PREROUTING -d "$2" -p tcp --dport "$3" -j MARK --set-xmark 0x4000/0x4000
    ip netns exec "$ns" iptables -t nat -A PREROUTING -d "$2" -p tcp --dport "$3" -j DNAT --to-destination "$4:$5"
    lab_masquerade_marked "$ns"
}

# lab_masquerade_marked NODE-NS: kube-proxy's KUBE-POSTROUTING: masquerade connections marked 0x4000 (once).
lab_masquerade_marked() {
    ip netns exec "$1" iptables -t nat -C POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE 2>/dev/null ||
        ip netns exec "$1" iptables -t nat -A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE
}

# lab_tollgate NODE-NS POLICY-DIR LOG ARGS...: starts `tollgate run` in the node and waits until it is ready.
lab_tollgate() {
    local ns="$1" dir="$2" log="$3"; shift 3
    ip netns exec "$ns" "$TG_BIN" run --policy-dir "$dir" --workers 1 --metrics-addr 127.0.0.1:9470 \
        --log-level info "$@" >"$log" 2>&1 &
    TG_PIDS+=($!)
    tg_wait_ready "$ns" 127.0.0.1:9470 || { cat "$log" >&2; return 1; }
}
