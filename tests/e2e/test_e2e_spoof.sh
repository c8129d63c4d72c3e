#!/usr/bin/env bash
# End to end: names only from answers to queries that were seen. A spoofer
# outside the watched cgroup sends unsolicited DNS answers (from a DNS
# port, to a UDP socket inside the cgroup) claiming names for addresses;
# tcpflowtop must ignore and count them, show no such name, and keep the
# name a real answer (from a dnsmasq this test starts, asked from inside
# the cgroup) gave, however many spoofs follow.
#   test_e2e_spoof.sh TCPFLOWTOP TCP_PEER
set -u
TFT=$1
PEER=$2
. "$(dirname "$0")/lib.sh"
require_root
DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || { echo "SKIP: no $DNSMASQ (Debian package dnsmasq-base)" >&2; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3" >&2; exit 77; }

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
cg="$root/tft-e2e-spoof-$$"
tmp=$(mktemp -d /tmp/tft-e2e-spoof.XXXXXX)
pids=()
tft=
cleanup() {
	[ -n "$tft" ] && kill "$tft" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"
die() {
	echo "--- output"; cat "$tmp/out.json"; echo "--- stderr"; cat "$tmp/err"
	fail "$*"
}

dnsport=$("$PEER" freeport 127.0.0.1)
"$DNSMASQ" --no-daemon --port="$dnsport" --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --conf-file=/dev/null --user=root --group=root \
	--host-record=web.tft.test,127.0.0.7 2>"$tmp/dnsmasq.err" &
pids+=($!)
wait_for 10 "$PEER" resolve 127.0.0.1 "$dnsport" web.tft.test >/dev/null || fail "dnsmasq"
for a in 127.0.0.7 127.9.9.9; do
	"$PEER" listen "$a" "$tmp/port-$a" 60 &
	pids+=($!)
done
wait_for 5 test -s "$tmp/port-127.0.0.7" -a -s "$tmp/port-127.9.9.9" || fail "listeners"

# A UDP socket inside the cgroup, the spoofer's target (any application's socket would do).
victim=$("$PEER" freeport 127.0.0.1)
(in_cgroup "$cg" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.5)
end = time.time() + 40
while time.time() < end:
    try:
        s.recv(2048)
    except socket.timeout:
        pass
' "$victim") &
pids+=($!)

# spoof N NAME ADDR: N answers "NAME is ADDR" from 127.0.0.53:dnsport (outside the cgroup).
spoof() {
	python3 - "$1" "$2" "$3" "$dnsport" "$victim" <<'PY'
import socket, struct, sys
n, name, addr, sport, dport = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.53", sport))
for i in range(n):
    msg = struct.pack(">HHHHHH", 0x1000 + i, 0x8180, 1, 1, 0, 0) + q + struct.pack(">HH", 1, 1)
    msg += struct.pack(">HHHIH", 0xC00C, 1, 1, 3600, 4) + socket.inet_aton(addr)
    s.sendto(msg, ("127.0.0.1", dport))
PY
}
connect_in() { # ADDR: an outgoing connection from the cgroup; prints its source port
	local port st
	read -r port st < <(in_cgroup "$cg" "$PEER" connect "$1" "$(cat "$tmp/port-$1")")
	[ "$st" = ok ] || die "connect $1 from the cgroup: ${st:-nothing}"
	echo "$port"
}
# names_of SPORT: dst_names of the flow from that port, as JSON, from its new record.
names_of() {
	python3 - "$tmp/out.json" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "flow" and r["src_port"] == int(sys.argv[2]):
        print(json.dumps([n["name"] for n in r["dst_names"]]))
        sys.exit(0)
sys.exit(1)
PY
}

"$TFT" -n --batch --format json --cgroup "$cg" --dns-port "$dnsport" >"$tmp/out.json" 2>"$tmp/err" &
tft=$!
wait_for 10 grep -q watching "$tmp/err" || die "tcpflowtop did not start"

# 1. Unsolicited: 127.9.9.9 is not trusted.bank.example.
spoof 5 trusted.bank.example 127.9.9.9
sleep 0.3
s1=$(connect_in 127.9.9.9)
wait_for 5 names_of "$s1" >/dev/null || die "no flow to 127.9.9.9"
[ "$(names_of "$s1")" = "[]" ] || die "a spoofed name was learnt: $(names_of "$s1")"
echo "ok: 5 unsolicited answers taught nothing"

# 2. A real answer to a query asked from inside the cgroup is learnt ...
(in_cgroup "$cg" "$PEER" resolve 127.0.0.1 "$dnsport" web.tft.test) >/dev/null || die "resolve"
sleep 0.2
s2=$(connect_in 127.0.0.7)
wait_for 5 names_of "$s2" >/dev/null || die "no flow to 127.0.0.7"
[ "$(names_of "$s2")" = '["web.tft.test"]' ] || die "the real answer was not learnt: $(names_of "$s2")"
echo "ok: the asked name is learnt"

# 3. ... and 200 spoofs for the same address displace nothing.
spoof 200 evil.example 127.0.0.7
sleep 0.3
s3=$(connect_in 127.0.0.7)
wait_for 5 names_of "$s3" >/dev/null || die "no second flow to 127.0.0.7"
[ "$(names_of "$s3")" = '["web.tft.test"]' ] || die "spoofs changed the names: $(names_of "$s3")"
echo "ok: 200 spoofs displaced nothing"

kill -INT "$tft"
wait "$tft" || die "tcpflowtop exited $?"
tft=
python3 - "$tmp/out.json" <<'PY' || die "no dns_ignored record counting the spoofs"
import json, sys
n = [json.loads(l)["answers_ignored"] for l in open(sys.argv[1]) if '"dns_ignored"' in l]
assert n and n[-1] >= 205 and n == sorted(n), n
PY
grep -q "[0-9][0-9]* answers to no query seen ignored" "$tmp/err" || die "summary lacks the ignored answers"
n=$(sed -n 's/.* \([0-9][0-9]*\) answers to no query seen ignored.*/\1/p' "$tmp/err")
[ "$n" -ge 205 ] || die "summary: $n ignored, want at least 205"
echo "PASS: unsolicited answers ignored and counted ($n), real names kept"
