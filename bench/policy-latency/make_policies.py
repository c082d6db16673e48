#!/usr/bin/env python3
"""Writes the policy directory for the policy-latency benchmark.

    make_policies.py OUTDIR [--policies 10000] [--files 10] [--filler-pods 2000]

OUTDIR receives:
  cluster.yaml       namespaces and pods: lat-client/client 10.244.1.10, lat-server/server 10.244.2.10, and filler
                     namespaces and pods (10.244.100.0 and up) that the background policies select;
  isolate.yaml       the server pod is isolated for ingress (a policy with no rules): denied unless flip.yaml allows;
  policies-NN.yaml   --policies background NetworkPolicies over --files files, all in filler namespaces (none selects
                     a benchmark pod), mixing default deny, pod and namespace selectors, matchExpressions, named and
                     numbered ports, port ranges, ipBlock with except, and egress rules.

The file the benchmark flips, flip.yaml (allowing the client to reach the server on TCP 8000-8001), is written by
measure.py, not here. Deterministic: the same arguments always write the same files.
"""
import argparse
import os
import random

TEAMS = [f"team-{i}" for i in range(10)]
TIERS = ["web", "api", "db", "cache", "worker"]


def filler_ip(index):
    return f"10.244.{100 + index // 250}.{index % 250 + 2}"


def cluster(namespaces, pods):
    docs = [
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: lat-client, labels: {role: client}}",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: lat-server, labels: {role: server}}",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: lat-client, labels: {app: client}}\n"
        "spec: {nodeName: node-1, containers: [{name: main, image: test}]}\n"
        "status: {phase: Running, podIP: 10.244.1.10, podIPs: [{ip: 10.244.1.10}]}",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: server, namespace: lat-server, labels: {app: server}}\n"
        "spec: {nodeName: node-1, containers: [{name: main, image: test, ports: [{name: http, containerPort: 8000}]}]}\n"
        "status: {phase: Running, podIP: 10.244.2.10, podIPs: [{ip: 10.244.2.10}]}",
    ]
    for n in range(namespaces):
        docs.append(
            f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: filler-{n}, labels: {{team: {TEAMS[n % len(TEAMS)]}}}}}")
    for p in range(pods):
        ns = p % namespaces
        tier = TIERS[p % len(TIERS)]
        docs.append(
            f"apiVersion: v1\nkind: Pod\nmetadata: {{name: pod-{p}, namespace: filler-{ns}, "
            f"labels: {{app: app-{p % 97}, tier: {tier}}}}}\n"
            f"spec: {{nodeName: node-1, containers: [{{name: main, image: test, ports: [{{name: http, containerPort: 8080}}]}}]}}\n"
            f"status: {{phase: Running, podIP: {filler_ip(p)}, podIPs: [{{ip: {filler_ip(p)}}}]}}")
    return "\n---\n".join(docs) + "\n"


def policy(index, namespaces, rng):
    ns = f"filler-{rng.randrange(namespaces)}"
    kind = index % 6
    name = f"bg-{index}"
    head = f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n"
    app = f"app-{rng.randrange(97)}"
    if kind == 0:
        return head + "  podSelector: {}\n  policyTypes: [Ingress]\n"
    if kind == 1:
        return (head + f"  podSelector: {{matchLabels: {{app: {app}}}}}\n  policyTypes: [Ingress]\n"
                f"  ingress:\n  - from: [{{podSelector: {{matchLabels: {{tier: {rng.choice(TIERS)}}}}}}}]\n"
                f"    ports: [{{port: http}}]\n")
    if kind == 2:
        return (head + f"  podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [{rng.choice(TIERS)}, {rng.choice(TIERS)}]}}]}}\n"
                f"  policyTypes: [Ingress]\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{team: {rng.choice(TEAMS)}}}}}, "
                f"podSelector: {{matchLabels: {{app: app-{rng.randrange(97)}}}}}}}]\n"
                f"    ports: [{{protocol: TCP, port: {8000 + rng.randrange(100)}, endPort: {8100 + rng.randrange(100)}}}]\n")
    if kind == 3:
        third = rng.randrange(256)
        return (head + f"  podSelector: {{matchLabels: {{app: {app}}}}}\n  policyTypes: [Ingress]\n"
                f"  ingress:\n  - from: [{{ipBlock: {{cidr: 172.{16 + third % 16}.0.0/16, except: [172.{16 + third % 16}.{third}.0/24]}}}}]\n")
    if kind == 4:
        return (head + f"  podSelector: {{matchLabels: {{tier: {rng.choice(TIERS)}}}}}\n  policyTypes: [Egress]\n"
                f"  egress:\n  - to: [{{namespaceSelector: {{}}, podSelector: {{matchLabels: {{k8s-app: kube-dns}}}}}}]\n"
                f"    ports: [{{protocol: UDP, port: 53}}, {{protocol: TCP, port: 53}}]\n"
                f"  - to: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}}}]\n")
    return (head + f"  podSelector: {{matchLabels: {{app: {app}}}}}\n  policyTypes: [Ingress]\n"
            f"  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{team: {rng.choice(TEAMS)}}}}}}}]\n"
            f"    ports: [{{protocol: TCP, port: {8000 + rng.randrange(1000)}}}]\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--policies", type=int, default=10000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--filler-pods", type=int, default=2000)
    parser.add_argument("--filler-namespaces", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(1)
    os.makedirs(args.outdir, exist_ok=True)
    with open(os.path.join(args.outdir, "cluster.yaml"), "w") as f:
        f.write(cluster(args.filler_namespaces, args.filler_pods))
    with open(os.path.join(args.outdir, "isolate.yaml"), "w") as f:
        f.write("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: isolate-server, namespace: lat-server}\n"
                "spec:\n  podSelector: {matchLabels: {app: server}}\n  policyTypes: [Ingress]\n")
    per_file = (args.policies + args.files - 1) // max(args.files, 1)
    for f_index in range(args.files):
        chunk = range(f_index * per_file, min(args.policies, (f_index + 1) * per_file))
        if len(chunk) == 0:
            continue
        with open(os.path.join(args.outdir, f"policies-{f_index:02d}.yaml"), "w") as f:
            f.write("\n---\n".join(policy(i, args.filler_namespaces, rng) for i in chunk) + "\n")


if __name__ == "__main__":
    main()
