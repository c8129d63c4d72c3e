#!/usr/bin/env python3
"""A minimal IPFIX-over-TCP collector for tests (RFC 7011 sections 3 and 8):
accepts one connection on 127.0.0.1:PORT, decodes messages, templates and
data records (variable-length fields included), and prints one line per
data record: "sport=N dport=N comm=TEXT octets=N", with the message count
at the end. Stops after SECONDS or when the exporter closes."""
import socket
import struct
import sys

port, secs = int(sys.argv[1]), float(sys.argv[2])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
srv.settimeout(secs)
print("listening", flush=True)
conn, _ = srv.accept()
conn.settimeout(secs)


def read_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


templates, messages = {}, 0
while True:
    hdr = read_exact(16)
    if hdr is None:
        break
    version, length = struct.unpack("!HH", hdr[:4])
    assert version == 10, "not IPFIX: version %d" % version
    body = read_exact(length - 16)
    messages += 1
    off = 0
    while off < len(body):
        set_id, set_len = struct.unpack("!HH", body[off:off + 4])
        data, off = body[off + 4:off + set_len], off + set_len
        if set_id == 2:
            p = 0
            while p + 4 <= len(data):
                tid, count = struct.unpack("!HH", data[p:p + 4])
                p += 4
                fields = []
                for _ in range(count):
                    ie, flen = struct.unpack("!HH", data[p:p + 4])
                    p += 4
                    pen = 0
                    if ie & 0x8000:
                        pen = struct.unpack("!I", data[p:p + 4])[0]
                        p += 4
                    fields.append((pen, ie & 0x7FFF, flen))
                templates[tid] = fields
        elif set_id >= 256:
            fields = templates[set_id]
            p = 0
            while p < len(data) and fields:
                rec = {}
                for pen, ie, flen in fields:
                    if flen == 65535:
                        flen = data[p]
                        p += 1
                        if flen == 255:
                            flen = struct.unpack("!H", data[p:p + 2])[0]
                            p += 2
                    rec[(pen, ie)] = data[p:p + flen]
                    p += flen
                num = lambda k: int.from_bytes(rec.get(k, b""), "big")
                print("sport=%d dport=%d comm=%s octets=%d rev_octets=%d" % (
                    num((0, 7)), num((0, 11)), rec.get((32473, 3), b"").decode(),
                    num((0, 85)), num((29305, 85))), flush=True)
print("messages", messages, flush=True)
