#!/usr/bin/env python3
"""A Kubernetes API server double for Tollgate's tests (python3 standard library only).

It speaks the list and watch protocol the way kube-apiserver does, as described in the API reference
(https://kubernetes.io/docs/reference/using-api/api-concepts/):

* lists: ``GET /api/v1/pods?limit=N[&continue=T]`` answers a ``PodList`` whose ``metadata`` carries the list's
  ``resourceVersion`` and, on all but the last page, a ``continue`` token; list items carry no ``kind`` or
  ``apiVersion``.
* watches: ``GET ...?watch=1&resourceVersion=RV&allowWatchBookmarks=true&timeoutSeconds=S`` answers a chunked
  stream of newline-delimited JSON events ``{"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR",
  "object": {...}}``: first every change after RV, then changes as they happen, until S seconds pass. A watch
  from a resource version older than the last compaction gets an ERROR event whose object is a ``Status`` with
  code 410 (or, with ``expiredAs: status``, an HTTP 410 answer).
* every API request needs ``Authorization: Bearer <token>`` with an accepted token (401 ``Status`` otherwise).
* HTTPS with the certificate and key given; the TLS handshake runs in the request's thread.

Tests drive it through a plain-HTTP control port on 127.0.0.1 (``--control-bind`` to change; JSON bodies): ``/control/apply``,
``/control/delete``, ``/control/raw`` (a raw line to open watches: malformed events), ``/control/bookmark``,
``/control/compact`` (and optionally end open watches with a 410 ERROR event), ``/control/drop`` (close open
watches mid-stream, without the final chunk), ``/control/fail`` (the next N API requests answer a status),
``/control/tokens``, ``/control/delay`` (slow responses), ``/control/serve`` (404 for a resource),
``/control/load`` (many pods at once, for benchmarks) and ``GET /control/stats``.
"""

import argparse
import base64
import json
import queue
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

RESOURCES = {
    "/api/v1/namespaces": ("Namespace", "v1", False),
    "/api/v1/pods": ("Pod", "v1", True),
    "/api/v1/nodes": ("Node", "v1", False),
    "/apis/networking.k8s.io/v1/networkpolicies": ("NetworkPolicy", "networking.k8s.io/v1", True),
    "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies": (
        "AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", False),
    "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies": (
        "BaselineAdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", False),
    "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies": (
        "ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2", False),
}
PATH_OF_KIND = {kind: path for path, (kind, _, _) in RESOURCES.items()}


def status_object(code, reason, message):
    """A metav1.Status, as the API server sends for failures."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Watcher:
    def __init__(self, path):
        self.path = path
        self.queue = queue.Queue()


class State:
    def __init__(self, tokens):
        self.lock = threading.Lock()
        self.rv = 1000
        self.compacted = 0
        self.objects = {path: {} for path in RESOURCES}
        self.history = []  # (rv, path, event dict)
        self.watchers = []
        self.tokens = set(tokens)
        self.failures = []  # [status, remaining, path or None]
        self.delay = 0.0
        self.served = set(RESOURCES)
        self.expired_as = "event"
        self.snapshots = {}
        self.stats = {"lists": {}, "watches": {}, "unauthorized": 0, "tokensSeen": [], "requests": 0}

    def record(self, path, event_type, obj):
        """Stores a change and sends it to the open watches of its resource (the lock is held)."""
        self.history.append((self.rv, path, {"type": event_type, "object": obj}))
        line = json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"
        for watcher in self.watchers:
            if watcher.path == path:
                watcher.queue.put(("line", line))

    def apply(self, obj, silent=False):
        kind = obj.get("kind")
        path = PATH_OF_KIND.get(kind)
        if path is None:
            raise ValueError("unknown kind %r" % kind)
        metadata = obj.setdefault("metadata", {})
        namespaced = RESOURCES[path][2]
        if namespaced:
            metadata.setdefault("namespace", "default")
        key = (metadata.get("namespace", ""), metadata["name"])
        with self.lock:
            self.rv += 1
            metadata["resourceVersion"] = str(self.rv)
            event_type = "MODIFIED" if key in self.objects[path] else "ADDED"
            self.objects[path][key] = obj
            if not silent:
                self.record(path, event_type, obj)
            return self.rv

    def delete(self, kind, namespace, name, silent=False):
        path = PATH_OF_KIND[kind]
        key = (namespace or "", name)
        with self.lock:
            self.rv += 1
            obj = self.objects[path].pop(key, None)
            if obj is None:
                # Deleting something never added: the test wants the event anyway.
                obj = {"kind": kind, "apiVersion": RESOURCES[path][1], "metadata": {"name": name}}
                if namespace:
                    obj["metadata"]["namespace"] = namespace
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["resourceVersion"] = str(self.rv)
            if not silent:
                self.record(path, "DELETED", obj)
            return self.rv


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        state = self.server.state
        if self.path == "/control/ready":
            return self.reply(200, {"ready": True})
        if self.path == "/control/stats":
            with state.lock:
                stats = dict(state.stats)
                stats["openWatches"] = len(state.watchers)
                stats["resourceVersion"] = state.rv
            return self.reply(200, stats)
        self.reply(404, {"error": "no such control path"})

    def do_POST(self):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError as error:
            return self.reply(400, {"error": "bad JSON: %s" % error})
        try:
            result = self.control(state, self.path, body)
        except (KeyError, ValueError) as error:
            return self.reply(400, {"error": str(error)})
        self.reply(200, result or {})

    def control(self, state, path, body):
        if path == "/control/apply":
            # silent: the change is stored but no watch hears of it (only a list shows it).
            return {"resourceVersion": state.apply(body["object"], body.get("silent", False))}
        if path == "/control/delete":
            return {"resourceVersion": state.delete(
                body["kind"], body.get("namespace", ""), body["name"], body.get("silent", False))}
        if path == "/control/load":
            # Many pods with one write to each watch: for benchmarks of the client's store.
            for obj in body["objects"]:
                state.apply(obj)
            return {"resourceVersion": state.rv}
        with state.lock:
            if path == "/control/raw":
                line = body["line"].encode() + b"\n"
                for watcher in state.watchers:
                    if watcher.path == PATH_OF_KIND[body["kind"]]:
                        watcher.queue.put(("line", line))
            elif path == "/control/bookmark":
                for watcher in state.watchers:
                    kind, version, _ = RESOURCES[watcher.path]
                    event = {"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": version,
                                                            "metadata": {"resourceVersion": str(state.rv)}}}
                    watcher.queue.put(("line", json.dumps(event).encode() + b"\n"))
            elif path == "/control/compact":
                state.compacted = state.rv
                state.history = []
                state.snapshots = {}
                if body.get("notifyWatchers"):
                    for watcher in state.watchers:
                        event = {"type": "ERROR", "object": status_object(
                            410, "Expired", "too old resource version: compacted at %d" % state.rv)}
                        watcher.queue.put(("line", json.dumps(event).encode() + b"\n"))
                        watcher.queue.put(("end",))
            elif path == "/control/drop":
                for watcher in state.watchers:
                    watcher.queue.put(("drop",))
            elif path == "/control/fail":
                if body.get("clear"):
                    state.failures = []
                else:
                    state.failures.append([int(body["status"]), int(body.get("count", 1)), body.get("path")])
            elif path == "/control/tokens":
                state.tokens = set(body["tokens"])
            elif path == "/control/delay":
                state.delay = float(body["seconds"])
            elif path == "/control/serve":
                if body.get("served", True):
                    state.served.add(body["path"])
                else:
                    state.served.discard(body["path"])
            elif path == "/control/expired-as":
                state.expired_as = body["mode"]
            else:
                raise KeyError("no such control path %s" % path)
        return {}


class APIHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, body):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        state = self.server.state
        url = urlparse(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if state.delay:
            time.sleep(state.delay)
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        with state.lock:
            state.stats["requests"] += 1
            if token is not None and token not in state.stats["tokensSeen"]:
                state.stats["tokensSeen"].append(token)
            # A verified client certificate authenticates as well as a token does (--client-ca).
            certified = bool(getattr(self.connection, "getpeercert", lambda: None)())
            if token not in state.tokens and not (certified and token is None):
                state.stats["unauthorized"] += 1
                failure = (401, "Unauthorized", "Unauthorized")
            else:
                failure = None
                for entry in state.failures:
                    if entry[1] > 0 and (entry[2] is None or entry[2] == url.path):
                        entry[1] -= 1
                        failure = (entry[0], "InternalError" if entry[0] >= 500 else "Failure",
                                   "injected failure %d" % entry[0])
                        break
            served = url.path in RESOURCES and url.path in state.served
        if failure:
            return self.send_json(failure[0], status_object(*failure))
        if not served:
            return self.send_json(404, status_object(404, "NotFound", "the server could not find the requested resource"))
        if query.get("watch") in ("1", "true"):
            return self.watch(url.path, query)
        return self.list(url.path, query)

    def list(self, path, query):
        state = self.server.state
        kind, version, _ = RESOURCES[path]
        limit = int(query.get("limit", "0") or 0)
        with state.lock:
            state.stats["lists"][path] = state.stats["lists"].get(path, 0) + 1
            if "continue" in query:
                try:
                    token = json.loads(base64.b64decode(query["continue"]))
                except ValueError:
                    return self.send_json(400, status_object(400, "BadRequest", "invalid continue token"))
                snapshot = state.snapshots.get(token["id"])
                if snapshot is None:
                    return self.send_json(410, status_object(
                        410, "Expired", "The provided continue parameter is too old to display a consistent list result."))
                list_rv, items = snapshot
                start = token["start"]
            else:
                list_rv = state.rv
                items = [json.loads(json.dumps(obj)) for _, obj in sorted(state.objects[path].items())]
                start = 0
                for item in items:
                    # List items carry neither kind nor apiVersion: the list names them.
                    item.pop("kind", None)
                    item.pop("apiVersion", None)
            end = len(items) if limit <= 0 else min(len(items), start + limit)
            metadata = {"resourceVersion": str(list_rv)}
            if end < len(items):
                snapshot_id = "%s-%d" % (path, list_rv)
                state.snapshots[snapshot_id] = (list_rv, items)
                metadata["continue"] = base64.b64encode(
                    json.dumps({"id": snapshot_id, "start": end}).encode()).decode()
            page = items[start:end]
        self.send_json(200, {"kind": kind + "List", "apiVersion": version, "metadata": metadata, "items": page})

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()

    def watch(self, path, query):
        state = self.server.state
        kind, version, _ = RESOURCES[path]
        timeout = float(query.get("timeoutSeconds", "1800"))
        try:
            since = int(query.get("resourceVersion", "0") or 0)
        except ValueError:
            return self.send_json(400, status_object(400, "BadRequest", "invalid resourceVersion"))
        watcher = Watcher(path)
        with state.lock:
            state.stats["watches"][path] = state.stats["watches"].get(path, 0) + 1
            expired = since < state.compacted
            if expired and state.expired_as == "status":
                pass
            else:
                backlog = [] if expired else [event for rv, p, event in state.history if p == path and rv > since]
                state.watchers.append(watcher)
        if expired and state.expired_as == "status":
            return self.send_json(410, status_object(410, "Expired", "too old resource version: %d (%d)" % (since, state.compacted)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        clean_end = True
        try:
            if expired:
                event = {"type": "ERROR", "object": status_object(
                    410, "Expired", "too old resource version: %d (%d)" % (since, state.compacted))}
                self.write_chunk(json.dumps(event).encode() + b"\n")
            else:
                for event in backlog:
                    self.write_chunk(json.dumps(event, separators=(",", ":")).encode() + b"\n")
                deadline = time.monotonic() + timeout
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        message = watcher.queue.get(timeout=min(remaining, 0.5))
                    except queue.Empty:
                        continue
                    if message[0] == "line":
                        self.write_chunk(message[1])
                    elif message[0] == "end":
                        break
                    elif message[0] == "drop":
                        clean_end = False
                        break
            if clean_end:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            clean_end = False
        finally:
            with state.lock:
                if watcher in state.watchers:
                    state.watchers.remove(watcher)
        if not clean_end:
            # A dropped connection: no final chunk, the socket just closes.
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, context, state):
        super().__init__(address, handler)
        self.context = context
        self.state = state

    def finish_request(self, request, client_address):
        # The handshake runs here, in the request's thread: a client that never completes it blocks no one.
        try:
            request.settimeout(10)
            tls = self.context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, state):
        super().__init__(address, handler)
        self.state = state


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--control-bind", default="127.0.0.1",
                        help="address of the control port (benchmarks drive it from a pod: the node's address)")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--token", action="append", default=[])
    parser.add_argument("--client-ca", help="ask for client certificates signed by this CA (they authenticate too)")
    parser.add_argument("--no-admin-policies", action="store_true",
                        help="answer 404 for the policy.networking.k8s.io kinds (CRDs not installed)")
    arguments = parser.parse_args()
    state = State(arguments.token)
    if arguments.no_admin_policies:
        state.served = {path for path, (kind, _, _) in RESOURCES.items() if "policy.networking.k8s.io" not in path}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(arguments.cert, arguments.key)
    if arguments.client_ca:
        context.load_verify_locations(arguments.client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    api = TLSServer((arguments.bind, arguments.port), APIHandler, context, state)
    control = ControlServer((arguments.control_bind, arguments.control_port), ControlHandler, state)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    # Port 0 picks free ports; the line says which (the test harness reads it).
    print("serving on %s:%d, control on %s:%d" % (arguments.bind, api.server_address[1], arguments.control_bind,
                                                  control.server_address[1]), flush=True)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
