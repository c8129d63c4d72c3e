#!/usr/bin/env python3
"""Both ends of the outcome test's conversations, bounded in time.

  outcome_peer.py fin ADDR       client sends 100000 bytes, server 1234, client closes first
  outcome_peer.py rst ADDR       the same exchange, then the server resets (SO_LINGER 0)
  outcome_peer.py idle ADDR S    a connection silent for S seconds, then data, then closed
  outcome_peer.py refused ADDR N N connects to a port nobody listens on
  outcome_peer.py listen ADDR PORTFILE BACKLOG SECONDS
                                 accepts (slowly: 20 ms apart) and holds connections
  outcome_peer.py connect ADDR PORT N SECONDS [send]
                                 N connects at once; prints how many got through, holds
                                 them open until SECONDS have passed; "send": a byte each

Each conversation prints "CLIENTPORT SERVERPORT" for the test to find its rows.
"""
import socket
import struct
import sys
import threading
import time

TO_SERVER = 100000
TO_CLIENT = 1234


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv_exactly(s, n):
    while n > 0:
        b = s.recv(min(n, 65536))
        if not b:
            raise EOFError("peer closed early")
        n -= len(b)


def listener(addr, backlog=8):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.bind((addr, 0))
    s.listen(backlog)
    s.settimeout(10)
    return s


def exchange(addr, how):
    srv = listener(addr)
    port = srv.getsockname()[1]
    done = threading.Event()

    def serve():
        c, _ = srv.accept()
        c.settimeout(10)
        recv_exactly(c, TO_SERVER)
        c.sendall(b"s" * TO_CLIENT)
        if how == "rst":
            time.sleep(0.1)  # the client has read it all: nothing in flight
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            c.recv(1)  # the client's FIN first
        c.close()
        done.set()

    t = threading.Thread(target=serve)
    t.start()
    cl = socket.socket(family(addr), socket.SOCK_STREAM)
    cl.settimeout(10)
    cl.connect((addr, port))
    print(cl.getsockname()[1], port, flush=True)
    cl.sendall(b"c" * TO_SERVER)
    recv_exactly(cl, TO_CLIENT)
    if how == "rst":
        done.wait(10)
        try:
            cl.recv(1)
        except ConnectionResetError:
            pass
    cl.close()
    t.join(10)
    srv.close()


def idle(addr, seconds):
    srv = listener(addr)
    port = srv.getsockname()[1]
    cl = socket.socket(family(addr), socket.SOCK_STREAM)
    cl.connect((addr, port))
    c, _ = srv.accept()
    print(cl.getsockname()[1], port, flush=True)
    cl.sendall(b"a" * 10)
    recv_exactly(c, 10)
    time.sleep(seconds)
    cl.sendall(b"b" * 10)
    recv_exactly(c, 10)
    time.sleep(2.5)  # sampled active again
    cl.close()
    c.close()
    srv.close()


def refused(addr, n):
    probe = socket.socket(family(addr), socket.SOCK_STREAM)
    probe.bind((addr, 0))
    port = probe.getsockname()[1]
    probe.close()  # bound, never listening: now nobody has it
    got = 0
    for _ in range(n):
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        try:
            s.connect((addr, port))
        except ConnectionRefusedError:
            got += 1
        s.close()
    print(port, got, flush=True)


def hold_listener(addr, portfile, backlog, seconds):
    srv = listener(addr, backlog)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    import os
    os.rename(portfile + ".tmp", portfile)
    held = []
    end = time.time() + seconds
    srv.settimeout(0.2)
    while time.time() < end:
        try:
            c, _ = srv.accept()
            held.append(c)
            time.sleep(0.002)  # a little slow: bursts overflow the queue
        except socket.timeout:
            pass


def connect_many(addr, port, n, seconds, send):
    socks, ok = [], 0
    for _ in range(n):
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((addr, port))
        socks.append(s)
    end = time.time() + seconds
    pending = list(socks)
    while pending and time.time() < end:
        still = []
        for s in pending:
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            try:
                s.getpeername()
                ok += 1
                if send:
                    s.send(b"x")  # retransmitted until the server takes the connection
            except OSError:
                if err == 0:
                    still.append(s)
        pending = still
        time.sleep(0.05)
    print(ok, flush=True)
    time.sleep(max(0.0, end - time.time()))  # held open until then


def main():
    a = sys.argv[1:]
    if a[0] in ("fin", "rst"):
        exchange(a[1], a[0])
    elif a[0] == "idle":
        idle(a[1], float(a[2]))
    elif a[0] == "refused":
        refused(a[1], int(a[2]))
    elif a[0] == "listen":
        hold_listener(a[1], a[2], int(a[3]), float(a[4]))
    elif a[0] == "connect":
        connect_many(a[1], int(a[2]), int(a[3]), float(a[4]), len(a) > 5 and a[5] == "send")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
