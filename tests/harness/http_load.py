#!/usr/bin/env python3
"""http_load.py: idle, slow and concurrent clients against `sinkpipe serve`
on loopback, counting what was answered (tests/e2e/serve_robust.sh).

  http_load.py load HOST:PORT TOKEN IDLE_SAME IDLE_OTHER CLIENTS REQUESTS PER_IP
      IDLE_SAME connections from 127.0.0.1 and IDLE_OTHER from 127.0.0.2
      that send nothing or half a request head; then CLIENTS clients (from
      127.0.0.3-6) making REQUESTS requests each (/health and an
      authenticated /v0/pipes, a connection each) while /health and
      /v0/pipes are probed from 127.0.0.1.  Prints one JSON summary.
  http_load.py idle HOST:PORT N
      N idle/slow connections; prints how many the server closed within
      60 s (its idle timeout must close them all).

Loopback only; every wait has a deadline; nothing depends on speed: the
summary counts answers, the caller compares counts."""
import http.client
import json
import socket
import sys
import threading
import time

DEADLINE = 60.0


def idle_conns(host, port, n, src):
    socks = []
    for i in range(n):
        s = socket.socket()
        s.settimeout(10)
        try:
            s.bind((src, 0))
            s.connect((host, port))
            if i % 2:  # a slow client: half a request head, never finished
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            s.close()
            socks.append(None)
            continue
        s.setblocking(False)
        socks.append(s)
    return socks


def closed_by_server(s):
    if s is None:
        return True
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def count_closed(socks):
    return sum(1 for s in socks if closed_by_server(s))


def wait_closed(socks, want):
    end = time.monotonic() + DEADLINE
    n = count_closed(socks)
    while n < want and time.monotonic() < end:
        time.sleep(0.1)
        n = count_closed(socks)
    return n


def request(host, port, path, token, src):
    try:
        c = http.client.HTTPConnection(host, port, timeout=DEADLINE, source_address=(src, 0))
        h = {"Connection": "close"}
        if token:
            h["Authorization"] = "Bearer " + token
        c.request("GET", path, headers=h)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return 0


def load(addr, token, idle_same, idle_other, clients, requests, per_ip):
    host, port = addr.rsplit(":", 1)
    port = int(port)
    same = idle_conns(host, port, idle_same, "127.0.0.1")
    other = idle_conns(host, port, idle_other, "127.0.0.2")
    # the server refuses what is over its per-address limit
    other_closed = wait_closed(other, max(0, idle_other - per_ip))
    ok = [0] * clients
    go = threading.Barrier(clients + 1)

    def client(i):
        src = "127.0.0.%d" % (3 + i % 4)
        try:
            go.wait(DEADLINE)
        except threading.BrokenBarrierError:
            pass
        for k in range(requests):
            path, tok = ("/health", None) if k % 2 == 0 else ("/v0/pipes", token)
            if request(host, port, path, tok, src) == 200:
                ok[i] += 1

    th = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in th:
        t.start()
    go.wait(DEADLINE)
    probe_health = request(host, port, "/health", None, "127.0.0.1")
    probe_api = request(host, port, "/v0/pipes", token, "127.0.0.1")
    for t in th:
        t.join()
    out = {
        "probe_health": probe_health,
        "probe_api": probe_api,
        "answered": sum(ok),
        "asked": clients * requests,
        "idle_same_open": idle_same - count_closed(same),
        "idle_other_open": idle_other - count_closed(other),
        "idle_other_refused": other_closed,
    }
    print(json.dumps(out, sort_keys=True))


def idle(addr, n):
    host, port = addr.rsplit(":", 1)
    socks = idle_conns(host, int(port), n, "127.0.0.1")
    print(wait_closed(socks, n))


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:9]))
    else:
        idle(sys.argv[2], int(sys.argv[3]))
