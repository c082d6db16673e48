#!/usr/bin/env python3
"""Times policy changes as a client pod sees them. Runs inside the client pod's network namespace; writes the
policy directory (the file system is shared) and reports JSON lines on standard output.

    measure.py connect --dir DIR --staging DIR --server IP --trials 20
        Flips flip.yaml between "allow the client on TCP 8000-8001" and "allow TCP 8999 only" (renamed into place,
        as a configuration tool does), and finds the first connection attempt to SERVER:8000 whose outcome follows
        the new policy. Attempts are non-blocking connects launched every --interval-ms (default 2), each judged
        within --timeout-ms (default 30: no SYN-ACK by then is a denial); the flip time is the launch time of the
        first attempt of a run of three with the new outcome. One line per trial: {"mode", "trial", "to", "ms"}.
        With --api URL the flip is made through the Kubernetes API instead: the same policy as JSON, applied
        through the fake API server's control port (URL, e.g. http://169.254.1.1:16444), which sends the watch
        event; the time starts when the request is sent.

    measure.py revoke --dir DIR --staging DIR --server IP --trials 10
        Opens a connection to SERVER:8001 (an echo server) while allowed, sends one byte every 5 ms and waits for
        its echo, then writes the denying flip.yaml; the cut time is when the first byte that never got an echo
        (none within a second) was sent. Then allows again for the next trial. One line per trial: {"mode", "trial", "ms"}.
"""
import argparse
import errno
import http.client
import json
import os
import select
import socket
import struct
import sys
import time

now = lambda: time.clock_gettime(time.CLOCK_MONOTONIC)

FLIP = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: flip, namespace: lat-server}}
spec:
  podSelector: {{matchLabels: {{app: server}}}}
  policyTypes: [Ingress]
  ingress:
  - from: [{{namespaceSelector: {{matchLabels: {{role: client}}}}, podSelector: {{matchLabels: {{app: client}}}}}}]
    ports: [{ports}]
"""
ALLOW = FLIP.format(ports="{protocol: TCP, port: 8000, endPort: 8001}")
DENY = FLIP.format(ports="{protocol: TCP, port: 8999}")
serial = [0]


def flip_object(ports):
    return {"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
            "metadata": {"name": "flip", "namespace": "lat-server"},
            "spec": {"podSelector": {"matchLabels": {"app": "server"}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"role": "client"}},
                                            "podSelector": {"matchLabels": {"app": "client"}}}],
                                  "ports": [ports]}]}}


API_OBJECTS = {ALLOW: flip_object({"protocol": "TCP", "port": 8000, "endPort": 8001}),
               DENY: flip_object({"protocol": "TCP", "port": 8999})}
api_connection = [None]


def apply_through_api(args, text):
    """POSTs the flip policy to the fake API server's control port over one kept-alive connection."""
    if api_connection[0] is None:
        host, port = args.api.split("//", 1)[1].rsplit(":", 1)
        api_connection[0] = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps({"object": API_OBJECTS[text]})
    written = now()
    api_connection[0].request("POST", "/control/apply", body=body, headers={"Content-Type": "application/json"})
    response = api_connection[0].getresponse()
    response.read()
    if response.status != 200:
        sys.exit("the API server refused the policy: %d" % response.status)
    return written


def write_flip(args, text):
    if args.api:
        return apply_through_api(args, text)
    serial[0] += 1
    staging = os.path.join(args.staging, f"flip-{serial[0]}.yaml")
    with open(staging, "w") as f:
        f.write(text)
    written = now()
    os.rename(staging, os.path.join(args.dir, "flip.yaml"))
    return written


def launch(server, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    code = s.connect_ex((server, port))
    if code not in (0, errno.EINPROGRESS):
        s.close()
        return None
    return s


def flip_time(args, target, t0, limit=10.0):
    """Launches attempts until three in a row (by launch time) have outcome `target`; returns that run's first
    launch time, or None after `limit` seconds."""
    inflight = {}
    results = []
    next_launch = now()
    interval = args.interval_ms / 1000
    timeout = args.timeout_ms / 1000
    try:
        while now() - t0 < limit:
            t = now()
            if t >= next_launch:
                s = launch(args.server, 8000)
                if s is not None:
                    inflight[s] = t
                next_launch = t + interval
            wait = max(0.0, next_launch - now())
            _, writable, _ = select.select([], list(inflight), [], wait)
            t = now()
            for s in writable:
                ok = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                results.append((inflight.pop(s), ok))
                s.close()
            for s, started in list(inflight.items()):
                if t - started > timeout:
                    results.append((inflight.pop(s), False))
                    s.close()
            # Only attempts launched after every still-pending one are final in order.
            done = sorted(r for r in results if not inflight or r[0] < min(inflight.values()))
            run_start, run = None, 0
            for started, ok in done:
                if started < t0:
                    continue
                if ok == target:
                    if run == 0:
                        run_start = started
                    run += 1
                    if run >= 3:
                        return run_start
                else:
                    run, run_start = 0, None
    finally:
        for s in inflight:
            s.close()
    return None


def connect_mode(args):
    current = True
    t0 = write_flip(args, ALLOW)
    if flip_time(args, True, t0) is None:
        sys.exit("the initial allowing policy never applied")
    time.sleep(0.3)
    for trial in range(args.trials):
        target = not current
        t0 = write_flip(args, ALLOW if target else DENY)
        flipped = flip_time(args, target, t0)
        print(json.dumps({"mode": "connect", "trial": trial, "to": "allow" if target else "deny",
                          "ms": None if flipped is None else round((flipped - t0) * 1000, 2)}), flush=True)
        current = target
        time.sleep(0.3)


def revoke_mode(args):
    for trial in range(args.trials):
        t0 = write_flip(args, ALLOW)
        if flip_time(args, True, t0) is None:
            sys.exit("the allowing policy never applied")
        c = socket.create_connection((args.server, 8001), timeout=2)
        # A byte without an echo for a whole second is cut (a busy machine can delay an echo by 100s of ms).
        c.settimeout(1.0)
        for _ in range(20):  # warm: the connection works
            c.sendall(b"x")
            c.recv(1)
            time.sleep(0.005)
        t0 = write_flip(args, DENY)
        cut = None
        while now() - t0 < 10:
            sent = now()
            try:
                c.sendall(b"x")
                if c.recv(1) != b"x":
                    cut = sent
                    break
            except OSError:
                cut = sent
                break
            time.sleep(0.005)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        print(json.dumps({"mode": "revoke", "trial": trial, "ms": None if cut is None else round((cut - t0) * 1000, 2)}),
              flush=True)
        time.sleep(0.3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["connect", "revoke"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--staging", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--interval-ms", type=float, default=2)
    parser.add_argument("--timeout-ms", type=float, default=30)
    parser.add_argument("--api", help="flip through the fake API server's control URL instead of the directory")
    args = parser.parse_args()
    connect_mode(args) if args.mode == "connect" else revoke_mode(args)


if __name__ == "__main__":
    main()
