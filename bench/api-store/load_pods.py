#!/usr/bin/env python3
"""Loads the fake API server (Tests/PolicyFeedsTests/Fixtures/fake_apiserver.py) with synthetic pods through its
control port: NAMESPACES namespaces and PODS pods shaped like real ones (owner references, several labels, a
container with image, ports and resources, status with conditions, pod and host IPs), about 1.4 KB of JSON each."""
import json
import sys
import urllib.request


def post(port, path, body):
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def pod(index, namespaces):
    namespace = "ns-%d" % (index % namespaces)
    app = "app-%d" % (index % 5000)
    ip = "10.%d.%d.%d" % (64 + index // 65536, (index // 256) % 256, index % 256)
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": "%s-7d9f8c6b5-%05d" % (app, index), "namespace": namespace,
            "uid": "6f1e%08x-1b2c-4d3e-8f90-%012x" % (index, index), "resourceVersion": "1",
            "creationTimestamp": "2026-11-27T08:00:00Z",
            "labels": {"app": app, "pod-template-hash": "7d9f8c6b5", "team": "team-%d" % (index % 40),
                       "tier": ["web", "api", "db", "cache"][index % 4]},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "%s-7d9f8c6b5" % app,
                                 "uid": "aa%030x" % index, "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "nodeName": "node-%d" % (index % 500), "serviceAccountName": "default", "restartPolicy": "Always",
            "containers": [{
                "name": "main", "image": "registry.example.com/%s:1.%d" % (app, index % 7),
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                          {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent",
            }],
        },
        "status": {
            "phase": "Running", "hostIP": "192.168.%d.%d" % ((index % 500) // 250, (index % 500) % 250 + 1),
            "podIP": ip, "podIPs": [{"ip": ip}], "startTime": "2026-11-27T08:00:01Z", "qosClass": "Burstable",
            "conditions": [{"type": kind, "status": "True", "lastTransitionTime": "2026-11-27T08:00:05Z"}
                           for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
        },
    }


def main():
    port, pods, namespaces = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    post(port, "/control/load", {"objects": [
        {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "ns-%d" % n, "labels": {"team": "team-%d" % (n % 40)}}}
        for n in range(namespaces)]})
    batch = 5000
    for start in range(0, pods, batch):
        post(port, "/control/load", {"objects": [pod(i, namespaces) for i in range(start, min(pods, start + batch))]})
    size = len(json.dumps(pod(1, namespaces)))
    print("loaded %d pods (%d bytes of JSON each) in %d namespaces" % (pods, size, namespaces), file=sys.stderr)


if __name__ == "__main__":
    main()
