#!/usr/bin/env python3
"""Write hand-made DNS responses (hostile names, compression edge cases) into
corpus/dns/crafted_*.bin, next to the real dnsmasq captures. Run once; the
files are committed."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dns")


def hdr(qd, an, ns=0, ar=0, flags=0x8180):
    return struct.pack(">HHHHHH", 0xbeef, flags, qd, an, ns, ar)


def labels(*labs):
    return b"".join(bytes([len(l)]) + l for l in labs)


def name(*labs):
    return labels(*labs) + b"\0"


def ptr(off):
    return struct.pack(">H", 0xC000 | off)


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def q(qname, qtype=1):
    return qname + struct.pack(">HH", qtype, 1)


cases = {}
evil = b"\x1b[31m\"a,b\" =cmd|\xff"
m = hdr(1, 2) + q(name(b"x", b"test"))
owner = len(m) + 2 + 10
m += rr(ptr(12), 5, 60, labels(evil) + ptr(14))
m += rr(ptr(owner), 1, 60, bytes([192, 0, 2, 66]))
cases["hostile_cname"] = m

m = hdr(1, 11) + q(name(b"n0", b"test"))
for i in range(10):
    m += rr(name(b"n%d" % i, b"test"), 5, 60, name(b"n%d" % (i + 1), b"test"))
m += rr(name(b"n10", b"test"), 1, 60, bytes([4, 4, 4, 4]))
cases["long_chain"] = m

m = hdr(1, 3) + q(name(b"a", b"test"))
m += rr(ptr(12), 5, 60, name(b"b", b"test"))
b_off = len(hdr(1, 3) + q(name(b"a", b"test"))) + 12
m += rr(ptr(b_off), 5, 60, ptr(12))
m += rr(ptr(12), 1, 60, bytes([3, 3, 3, 3]))
cases["cname_loop"] = m

m = hdr(1, 1) + q(ptr(12))
cases["ptr_self_loop"] = m

m = hdr(1, 20) + q(name(b"many", b"test"), 28)
for i in range(20):
    m += rr(ptr(12), 28, 30 + i, bytes(15) + bytes([i]))
cases["aaaa_twenty"] = m

m = hdr(1, 2) + q(name(b"\xc3\xa9t\xc3\xa9", b"\x00\x01".replace(b"\x00", b"z"), b"test"))
m += rr(ptr(12), 1, 0x80000001, bytes([9, 9, 9, 9]))
m += rr(ptr(12), 16, 60, b"\x03txt")
cases["utf8_ttl_topbit_txt"] = m

os.makedirs(OUT, exist_ok=True)
for k, v in cases.items():
    with open(os.path.join(OUT, "crafted_" + k + ".bin"), "wb") as f:
        f.write(v)
    print(k, len(v))
