#!/bin/bash
# End to end, loopback only: tcpflowtop runs inside a child cgroup v2 that it
# watches, with dnsmasq (port of its own, stopped by its PID) and a client.
# - a client's DNS answer over UDP from the --dns-port is forwarded and counted;
# - each new flow triggers reverse lookups, done through dnsmasq;
# - the PTR answer for 127.0.0.1 is too big for UDP (TC), so c-ares retries
#   over TCP: that flow, and every answer to tcpflowtop's own queries, must
#   never show as a flow nor count as a DNS answer.
# Usage: test_dns_own_traffic.sh /path/to/tcpflowtop /path/to/tcp_peer
set -u
BIN=$1
PEER=$2
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root
[ -x /usr/sbin/dnsmasq ] || skip "no /usr/sbin/dnsmasq"
CGROOT=$(cgroup2_root)
[ -n "$CGROOT" ] || skip "no cgroup v2"

TMP=$(mktemp -d /tmp/tft-dns-e2e.XXXXXX)
CG=$CGROOT/tft-dnsnet-e2e-$$
DNSMASQ_PID=
TFT_PID=
cleanup() {
	[ -n "$TFT_PID" ] && kill "$TFT_PID" 2>/dev/null
	[ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null && wait "$DNSMASQ_PID" 2>/dev/null
	echo $$ > "$CGROOT/cgroup.procs" 2>/dev/null
	rmdir "$CG" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$TMP/out.csv"; echo "--- stderr"; cat "$TMP/err.txt"; exit 1; }

DNS_PORT=$("$PEER" freeport 127.0.0.1)
LISTEN_PORT=$("$PEER" freeport 127.0.0.1)
[ -n "$DNS_PORT" ] && [ -n "$LISTEN_PORT" ] && [ "$DNS_PORT" != "$LISTEN_PORT" ] ||
	fail "free ports: '$DNS_PORT' '$LISTEN_PORT'"

mkdir "$CG" || skip "cannot create $CG"
echo $$ > "$CG/cgroup.procs" || fail "cannot join $CG"

# Ten long names for one address: the PTR answer outgrows 512 bytes, so dnsmasq sets TC.
PTRS=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	PTRS+=("--ptr-record=1.0.0.127.in-addr.arpa,name-$i-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example")
done
/usr/sbin/dnsmasq --no-daemon --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --conf-file=/dev/null --user=root --group=root \
	--log-queries --log-facility="$TMP/dnsmasq.log" \
	--host-record=host.test,127.0.0.2 "${PTRS[@]}" &
DNSMASQ_PID=$!

"$BIN" --batch --format csv --cgroup "$CG" --dns-port "$DNS_PORT" \
	--dns-server "127.0.0.1:$DNS_PORT" --duration 5 > "$TMP/out.csv" 2> "$TMP/err.txt" &
TFT_PID=$!
wait_for 5 grep -qs "watching" "$TMP/err.txt" || fail "tcpflowtop did not start"

python3 - "$DNS_PORT" "$LISTEN_PORT" <<'EOF' || fail "client"
import socket, struct, sys, time
dns_port, listen_port = int(sys.argv[1]), int(sys.argv[2])
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x04host\x04test\x00" + struct.pack(">HH", 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
for _ in range(20):
    try:
        u.sendto(q, ("127.0.0.1", dns_port))
        r = u.recv(512)
        break
    except socket.timeout:
        continue
assert r[:2] == b"\x42\x42" and r[2] & 0x80, "no DNS answer"
l = socket.socket(); l.bind(("127.0.0.1", listen_port)); l.listen(8)
for _ in range(3):
    c = socket.create_connection(("127.0.0.1", listen_port)); a, _ = l.accept(); c.close(); a.close()
    time.sleep(0.2)
EOF

wait "$TFT_PID"; rc=$?; TFT_PID=
[ "$rc" = 0 ] || fail "tcpflowtop exited $rc"
cat "$TMP/err.txt"

# Our client's flows are there; no flow touches the DNS port (c-ares' TCP fallback).
grep -q ",$LISTEN_PORT," "$TMP/out.csv" || fail "client flows missing"
if grep -q ",$DNS_PORT," "$TMP/out.csv"; then fail "tcpflowtop's own DNS flow shown"; fi
grep -q "query\[PTR\] 1.0.0.127.in-addr.arpa" "$TMP/dnsmasq.log" || fail "no PTR query reached dnsmasq"

summary=$(grep "reverse lookups" "$TMP/err.txt") || fail "no resolver summary"
lookups=$(sed -n 's/.*reverse lookups \([0-9]*\) .*/\1/p' <<<"$summary")
answers=$(sed -n 's/.* \([0-9]*\) DNS answers seen.*/\1/p' <<<"$summary")
own_answers=$(sed -n 's/.*ignored: \([0-9]*\) answers.*/\1/p' <<<"$summary")
own_flows=$(sed -n 's/.* \([0-9]*\) flows$/\1/p' <<<"$summary")
[ "${lookups:-0}" -ge 1 ] || fail "no reverse lookup counted"
# The client's answer, seen leaving dnsmasq and arriving at the client: 2 (a retry may add 2).
[ "${answers:-0}" -ge 2 ] && [ "$((answers % 2))" = 0 ] || fail "client DNS answers: $answers"
[ "${own_answers:-0}" -ge 2 ] || fail "own answers not recognised: $own_answers"
[ "${own_flows:-0}" -ge 1 ] || fail "c-ares TCP fallback flow not recognised: $own_flows"
echo "PASS"
