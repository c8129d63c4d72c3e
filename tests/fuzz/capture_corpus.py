#!/usr/bin/env python3
"""Capture real DNS responses from a local dnsmasq into tests/fuzz/corpus/dns/.

Not run by the build: the captured files are committed. To regenerate, start
dnsmasq with tests/fuzz/dnsmasq.conf (dnsmasq --no-daemon --conf-file=dnsmasq.conf)
(port 53535 on 127.0.0.1) and run:  python3 capture_corpus.py OUTDIR
Each file is one UDP payload exactly as received (a DNS response).
"""
import os
import socket
import struct
import sys

SERVER = ("127.0.0.1", 53535)
QUERIES = [
    ("a_a.test", "a.test", 1),
    ("aaaa_a.test", "a.test", 28),
    ("a_cname_chain", "www.a.test", 1),
    ("aaaa_cname_chain", "www.a.test", 28),
    ("a_multi", "multi.test", 1),
    ("aaaa_multi", "multi.test", 28),
    ("a_cname_multi", "alias.multi.test", 1),
    ("a_mixed_case", "mIXED.case.TEST", 1),
    ("a_wild", "x.y.wild.test", 1),
    ("aaaa_wild", "wild.test", 28),
    ("refused_a", "nope.test", 1),
    ("refused_mx", "a.test", 15),
    ("any_a.test", "a.test", 255),
]


def query(name, qtype, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    return q


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for i, (fname, name, qtype) in enumerate(QUERIES):
        s.sendto(query(name, qtype, 0x1000 + i), SERVER)
        data, _ = s.recvfrom(4096)
        with open(os.path.join(out, fname + ".bin"), "wb") as f:
            f.write(data)
        print(fname, len(data), data.hex())


if __name__ == "__main__":
    main()
