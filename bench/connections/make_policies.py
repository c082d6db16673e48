#!/usr/bin/env python3
"""Writes the policy directory for the connection benchmark's Tollgate case.

    make_policies.py OUTDIR [--policies 10000] [--files 10] [--filler-pods 2000]
                     [--tcp-ports 16] [--udp-ports 64] [--client-addresses FIRST COUNT]

OUTDIR receives:
  cluster.yaml          the benchmark's own namespaces and pods (bench-client/client 10.244.1.10,
                        bench-server/server 10.244.2.10) plus filler namespaces and pods (10.244.100.0 and up);
  bench-allow.yaml      the policies that decide the measured traffic: the server pod is isolated for ingress and
                        admits the client on TCP 8000-8015 and UDP 9000-9063; the client pod is isolated for egress
                        and may reach the server on the same ports. Both directions are evaluated on every packet;
  policies-NN.yaml      --policies NetworkPolicies spread over --files files, all in filler namespaces, so none of
                        them selects a benchmark pod; they mix default deny, pod and namespace selectors (alone and
                        together), matchExpressions, named and numbered ports, port ranges, ipBlock with except and
                        egress rules, so the compiled snapshot is as large and varied as a real cluster's.

--tcp-ports and --udp-ports widen the allowed port ranges (8000 and 9000 on); --client-addresses FIRST COUNT adds
COUNT more client pods (bench-client/client-N, the client's labels) at consecutive addresses from FIRST: the
addresses run.sh --flows binds its connections to, so that each distinct flow is still a pod-to-pod connection
decided with both directions isolated.

Deterministic: the same arguments always write the same files.
"""
import argparse
import os
import random

CLIENT_IP = "10.244.1.10"
SERVER_IP = "10.244.2.10"
TCP_PORTS = [8000, 8015]
UDP_PORTS = [9000, 9063]
TEAMS = [f"team-{i}" for i in range(10)]
TIERS = ["web", "api", "db", "cache", "worker"]


def filler_ip(index):
    return f"10.244.{100 + index // 250}.{index % 250 + 2}"


def address(first, offset):
    value = sum(int(octet) << shift for octet, shift in zip(first.split("."), (24, 16, 8, 0))) + offset
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def client_pods(first, count):
    lines = []
    for n in range(count):
        ip = address(first, n)
        lines += [
            "  - apiVersion: v1",
            "    kind: Pod",
            f"    metadata: {{name: client-{n}, namespace: bench-client, labels: {{app: client}}}}",
            "    spec: {nodeName: node-1, containers: [{name: main, image: bench}]}",
            f"    status: {{phase: Running, podIP: {ip}, podIPs: [{{ip: {ip}}}]}}",
        ]
    return lines


def cluster(filler_namespaces, filler_pods, extra_clients=None):
    lines = [
        "# The connection benchmark's cluster: its client and server pods, and filler pods the 10,000 policies",
        "# select. Addresses of the benchmark pods match the namespaces bench/connections/run.sh creates.",
        "apiVersion: v1",
        "kind: List",
        "items:",
        "  - {apiVersion: v1, kind: Namespace, metadata: {name: bench-client, labels: {role: bench-client}}}",
        "  - {apiVersion: v1, kind: Namespace, metadata: {name: bench-server, labels: {role: bench-server}}}",
    ]
    for n in range(filler_namespaces):
        lines.append(
            f"  - {{apiVersion: v1, kind: Namespace, metadata: {{name: fill-{n}, "
            f"labels: {{team: {TEAMS[n % len(TEAMS)]}, env: {['prod', 'staging', 'dev'][n % 3]}}}}}}}")
    lines += [
        "  - apiVersion: v1",
        "    kind: Pod",
        "    metadata: {name: client, namespace: bench-client, labels: {app: client}}",
        "    spec: {nodeName: node-1, containers: [{name: main, image: bench}]}",
        f"    status: {{phase: Running, podIP: {CLIENT_IP}, podIPs: [{{ip: {CLIENT_IP}}}]}}",
        "  - apiVersion: v1",
        "    kind: Pod",
        "    metadata: {name: server, namespace: bench-server, labels: {app: server}}",
        "    spec:",
        "      nodeName: node-1",
        "      containers: [{name: main, image: bench, ports: [{name: http, containerPort: 8000},",
        "                   {name: dns, containerPort: 9000, protocol: UDP}]}]",
        f"    status: {{phase: Running, podIP: {SERVER_IP}, podIPs: [{{ip: {SERVER_IP}}}]}}",
    ]
    if extra_clients:
        lines += client_pods(*extra_clients)
    for p in range(filler_pods):
        namespace = p % filler_namespaces
        app = f"app-{p // 5}"
        tier = TIERS[(p // 5) % len(TIERS)]
        ip = filler_ip(p)
        lines += [
            "  - apiVersion: v1",
            "    kind: Pod",
            f"    metadata: {{name: pod-{p}, namespace: fill-{namespace}, labels: {{app: {app}, tier: {tier}}}}}",
            "    spec: {nodeName: node-2, containers: [{name: main, image: filler, ports: "
            "[{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}]}",
            f"    status: {{phase: Running, podIP: {ip}, podIPs: [{{ip: {ip}}}]}}",
        ]
    return "\n".join(lines) + "\n"


def bench_allow():
    return f"""# The measured traffic: bench-client/client -> bench-server/server, TCP {TCP_PORTS[0]}-{TCP_PORTS[1]} and UDP {UDP_PORTS[0]}-{UDP_PORTS[1]}.
# The server is isolated for ingress and the client for egress, so every queued packet is decided by a rule.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: server-from-client, namespace: bench-server}}
spec:
  podSelector: {{matchLabels: {{app: server}}}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {{matchLabels: {{role: bench-client}}}}
          podSelector: {{matchLabels: {{app: client}}}}
      ports:
        - {{protocol: TCP, port: {TCP_PORTS[0]}, endPort: {TCP_PORTS[1]}}}
        - {{protocol: UDP, port: {UDP_PORTS[0]}, endPort: {UDP_PORTS[1]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: client-to-server, namespace: bench-client}}
spec:
  podSelector: {{matchLabels: {{app: client}}}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {{matchLabels: {{role: bench-server}}}}
      ports:
        - {{protocol: TCP, port: {TCP_PORTS[0]}, endPort: {TCP_PORTS[1]}}}
        - {{protocol: UDP, port: {UDP_PORTS[0]}, endPort: {UDP_PORTS[1]}}}
"""


def policy(index, namespace, apps, rng):
    app = rng.choice(apps)
    other = rng.choice(apps)
    team = rng.choice(TEAMS)
    head = (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: policy-{index}, namespace: fill-{namespace}}}\nspec:\n")
    kind = rng.randrange(8)
    if kind == 0:
        return head + "  podSelector: {}\n  policyTypes: [Ingress]\n"
    if kind == 1:
        return head + (f"  podSelector: {{matchLabels: {{app: {app}}}}}\n  ingress:\n"
                       f"    - from: [{{podSelector: {{matchLabels: {{app: {other}}}}}}}]\n"
                       f"      ports: [{{port: http}}]\n")
    if kind == 2:
        return head + (f"  podSelector: {{matchLabels: {{app: {app}}}}}\n  ingress:\n"
                       f"    - from: [{{namespaceSelector: {{matchLabels: {{team: {team}}}}}}}]\n"
                       f"      ports: [{{protocol: TCP, port: {rng.randrange(1000, 9000)}}}]\n")
    if kind == 3:
        return head + (f"  podSelector: {{matchLabels: {{app: {app}}}}}\n  ingress:\n"
                       f"    - from:\n"
                       f"        - namespaceSelector: {{matchLabels: {{team: {team}}}}}\n"
                       f"          podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [web, api]}}]}}\n"
                       f"      ports: [{{protocol: TCP, port: 8080, endPort: {8080 + rng.randrange(1, 100)}}}]\n")
    if kind == 4:
        return head + (f"  podSelector: {{matchLabels: {{app: {app}}}}}\n  policyTypes: [Egress]\n  egress:\n"
                       f"    - to: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [169.254.169.254/32, 10.0.0.0/8]}}}}]\n"
                       f"      ports: [{{protocol: TCP, port: 443}}]\n"
                       f"    - ports: [{{protocol: UDP, port: 53}}]\n")
    if kind == 5:
        octet = rng.randrange(0, 256)
        return head + (f"  podSelector: {{matchExpressions: [{{key: tier, operator: NotIn, values: [db]}}]}}\n"
                       f"  ingress:\n"
                       f"    - from: [{{ipBlock: {{cidr: 10.{octet}.0.0/16, "
                       f"except: [10.{octet}.{rng.randrange(0, 256)}.0/24]}}}}]\n")
    if kind == 6:
        return head + (f"  podSelector: {{matchLabels: {{tier: db}}}}\n  policyTypes: [Ingress, Egress]\n"
                       f"  ingress:\n    - from: [{{podSelector: {{matchLabels: {{tier: api}}}}}}]\n"
                       f"      ports: [{{port: metrics}}, {{protocol: TCP, port: 5432}}]\n"
                       f"  egress:\n    - to: [{{podSelector: {{matchLabels: {{app: {other}}}}}}}]\n")
    return head + (f"  podSelector: {{matchLabels: {{app: {app}}}}}\n  ingress:\n"
                   f"    - from: [{{namespaceSelector: {{matchExpressions: [{{key: env, operator: In, "
                   f"values: [prod, staging]}}]}}, podSelector: {{matchLabels: {{tier: web}}}}}}]\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--policies", type=int, default=10000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--filler-namespaces", type=int, default=100)
    parser.add_argument("--filler-pods", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tcp-ports", type=int, default=16)
    parser.add_argument("--udp-ports", type=int, default=64)
    parser.add_argument("--client-addresses", nargs=2, metavar=("FIRST", "COUNT"))
    arguments = parser.parse_args()
    if not 1 <= arguments.tcp_ports <= 1000 or not 1 <= arguments.udp_ports <= 1000:
        parser.error("--tcp-ports and --udp-ports: 1 to 1000")
    TCP_PORTS[1] = TCP_PORTS[0] + arguments.tcp_ports - 1
    UDP_PORTS[1] = UDP_PORTS[0] + arguments.udp_ports - 1
    extra_clients = None
    if arguments.client_addresses:
        first, count = arguments.client_addresses
        if not count.isdigit() or not 1 <= int(count) <= 65536:
            parser.error("--client-addresses: COUNT is 1 to 65536")
        extra_clients = (first, int(count))
    if arguments.files < 1 or arguments.filler_namespaces < 1 or arguments.filler_pods < 1:
        parser.error("--files, --filler-namespaces and --filler-pods must be at least 1")
    if arguments.filler_pods > 250 * 150:
        parser.error("--filler-pods: at most 37500 (10.244.100.0-10.244.249.255)")
    rng = random.Random(arguments.seed)
    os.makedirs(arguments.outdir, exist_ok=True)
    with open(os.path.join(arguments.outdir, "cluster.yaml"), "w") as out:
        out.write(cluster(arguments.filler_namespaces, arguments.filler_pods, extra_clients))
    with open(os.path.join(arguments.outdir, "bench-allow.yaml"), "w") as out:
        out.write(bench_allow())
    apps_by_namespace = {n: [] for n in range(arguments.filler_namespaces)}
    for p in range(arguments.filler_pods):
        app = f"app-{p // 5}"
        if app not in apps_by_namespace[p % arguments.filler_namespaces]:
            apps_by_namespace[p % arguments.filler_namespaces].append(app)
    per_file = -(-arguments.policies // arguments.files)
    for f in range(arguments.files):
        documents = []
        for index in range(f * per_file, min((f + 1) * per_file, arguments.policies)):
            namespace = index % arguments.filler_namespaces
            documents.append(policy(index, namespace, apps_by_namespace[namespace] or ["none"], rng))
        with open(os.path.join(arguments.outdir, f"policies-{f:02d}.yaml"), "w") as out:
            out.write(f"# Filler policies {f * per_file}-{f * per_file + len(documents) - 1}: none selects a "
                      "benchmark pod.\n")
            out.write("---\n".join(documents))


if __name__ == "__main__":
    main()
