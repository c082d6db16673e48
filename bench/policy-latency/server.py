#!/usr/bin/env python3
"""The server pod of the policy-latency benchmark: TCP 8000 accepts and closes (connection probes), TCP 8001
echoes (the long connection revocation cuts)."""
import socket
import threading


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1024)
    return s


def probes():
    s = listener(8000)
    while True:
        c, _ = s.accept()
        c.close()


def echo(c):
    try:
        while True:
            data = c.recv(4096)
            if not data:
                break
            c.sendall(data)
    except OSError:
        pass
    c.close()


def echoes():
    s = listener(8001)
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


threading.Thread(target=probes, daemon=True).start()
echoes()
