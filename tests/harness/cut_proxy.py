#!/usr/bin/env python3
"""cut_proxy: a TCP proxy on 127.0.0.1 that resets connections mid-stream.

    cut_proxy.py UPSTREAM_PORT CUT_BYTES

Prints its own (kernel-chosen) port on the first line, then forwards every
connection to 127.0.0.1:UPSTREAM_PORT.  Requests go through whole; after
CUT_BYTES bytes of a response it closes both sides with a TCP reset
(SO_LINGER 0), the way a crashed server or a broken network looks to the
client.  Smaller responses pass untouched.  Runs until killed.
"""
import socket
import struct
import sys
import threading


def pump_request(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass


def serve(client, upstream_port, cut):
    up = socket.create_connection(("127.0.0.1", upstream_port))
    threading.Thread(target=pump_request, args=(client, up), daemon=True).start()
    sent = 0
    try:
        while True:
            b = up.recv(65536)
            if not b:
                break
            if sent + len(b) > cut:
                client.sendall(b[: max(0, cut - sent)])
                break
            client.sendall(b)
            sent += len(b)
    except OSError:
        pass
    # linger 0: the close is a reset; shutdown(SHUT_RD) first wakes the
    # request pump blocked in recv() on the same socket (a close alone would
    # wait for it)
    for s in (client, up):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.shutdown(socket.SHUT_RD)
        except OSError:
            pass
    for s in (client, up):
        try:
            s.close()
        except OSError:
            pass


def main():
    upstream_port, cut = int(sys.argv[1]), int(sys.argv[2])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print(ls.getsockname()[1], flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, upstream_port, cut), daemon=True).start()


if __name__ == "__main__":
    main()
