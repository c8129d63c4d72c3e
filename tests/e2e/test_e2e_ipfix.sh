#!/usr/bin/env bash
# End to end: IPFIX records reach real collectors on loopback.
# - nfcapd (nfdump) receives tcpflowtop --ipfix over UDP: every test flow
#   (IPv4 and IPv6, accepted and refused, from inside a test cgroup) shows
#   in `nfdump -r` with its addresses, ports and protocol, its byte count
#   equal to the one tcpflowtop's JSON stream gave when it gives one.
# - nfcapd keeps both directions' counts of crafted flows (RFC 5103
#   reverse elements): in bytes, out bytes, packets.
# - pmacct's nfacctd with custom primitives keeps the enterprise strings
#   (names, process, pid).
# - A collector that is down (UDP and TCP) costs counted drops and errors,
#   and the flows still stream at once.
set -u
TFT=$1
PEER=$2
SEND=$3
PRIMS=$4
. "$(dirname "$0")/lib.sh"
require_root
for tool in nfcapd nfdump nfacctd python3; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh)" >&2; exit 77; }
done

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
cg="$root/tft-ipfix-$$"
tmp=$(mktemp -d)
pids=()
nfa=
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$nfa" ] && kill -INT "$nfa" 2>/dev/null # pmacct stops on SIGINT, not SIGTERM
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" "$tmp/nf" || fail "cannot create $cg"

"$PEER" listen 127.0.0.1 "$tmp/l4" 60 & pids+=($!)
"$PEER" listen ::1 "$tmp/l6" 60 & pids+=($!)
wait_for 5 test -s "$tmp/l4" -a -s "$tmp/l6" || fail "listeners"
l4=$(cat "$tmp/l4") l6=$(cat "$tmp/l6")
closed=$("$PEER" freeport 127.0.0.1)
cport=$("$PEER" freeport 127.0.0.1)

nfcapd -b 127.0.0.1 -p "$cport" -w "$tmp/nf" -t 3600 >"$tmp/nfcapd.log" 2>&1 &
nfc=$!
pids+=($nfc)
sleep 0.5

"$TFT" -n --batch -f json --cgroup "$cg" --ipfix udp:127.0.0.1:"$cport" >"$tmp/out.json" 2>"$tmp/err" &
tft=$!
pids+=($tft)
wait_for 10 grep -q "exporting: IPFIX over UDP to 127.0.0.1 port $cport" "$tmp/err" || { cat "$tmp/err"; fail "tcpflowtop did not start"; }
wait_for 10 grep -q "watching new TCP flows" "$tmp/err" || fail "not attached"

: >"$tmp/expect"
for i in 1 2 3; do
	read -r port st < <(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$l4")
	[ "$st" = ok ] || fail "connect: $st"
	echo "127.0.0.1 $port 127.0.0.1 $l4" >>"$tmp/expect"
done
read -r port st < <(in_cgroup "$cg" "$PEER" connect ::1 "$l6")
[ "$st" = ok ] || fail "v6 connect: $st"
echo "::1 $port ::1 $l6" >>"$tmp/expect"
for i in 1 2; do
	read -r port st < <(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$closed")
	[ "$st" = refused ] || fail "closed: $st"
	echo "127.0.0.1 $port 127.0.0.1 $closed" >>"$tmp/expect"
done
n=$(wc -l <"$tmp/expect")
# flows FILE N: FILE has at least N new-flow records (read at each try).
flows() { [ "$(grep -c '"type":"flow"' "$1")" -ge "$2" ]; }
wait_for 5 flows "$tmp/out.json" "$n" || fail "stream: $(cat "$tmp/out.json")"

kill -TERM "$tft"
wait "$tft" || fail "tcpflowtop exit status"
grep -q "IPFIX: $n records sent, 0 dropped" "$tmp/err" || fail "exit line: $(tail -2 "$tmp/err")"
sleep 0.5
kill -TERM "$nfc"
wait "$nfc"

nfdump -q -R "$tmp/nf" -o "fmt:%sa|%sp|%da|%dp|%pr|%ibyt|%obyt" | tr -d ' ' >"$tmp/nfdump.txt"
[ "$(wc -l <"$tmp/nfdump.txt")" = "$n" ] || { cat "$tmp/nfdump.txt"; fail "nfdump: $(wc -l <"$tmp/nfdump.txt") flows, expected $n"; }
while read -r sa sp da dp; do
	line=$(grep -F "$sa|$sp|$da|$dp|TCP|" "$tmp/nfdump.txt") || { cat "$tmp/nfdump.txt"; fail "flow $sa:$sp -> $da:$dp not collected"; }
	# Bytes: once the stream's records carry them, the collector must agree.
	want=$(python3 - "$tmp/out.json" "$sp" <<'EOF'
import json, sys
last = None
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("src_port") == int(sys.argv[2]):
        last = r
v = last.get("bytes_out") if last else None
print("" if v is None else v)
EOF
)
	if [ -n "$want" ]; then
		[ "$(echo "$line" | cut -d'|' -f6)" = "$want" ] || fail "octets of $sp: $line, JSON says $want"
	fi
done <"$tmp/expect"
echo "PASS: nfdump shows the $n flows tcpflowtop saw"

# Both directions' counts, from crafted flows with known figures.
rm -rf "$tmp/nf2" && mkdir "$tmp/nf2"
nfcapd -b 127.0.0.1 -p "$cport" -w "$tmp/nf2" -t 3600 >"$tmp/nfcapd2.log" 2>&1 &
nfc=$!
pids+=($nfc)
sleep 0.5
"$SEND" udp:127.0.0.1:"$cport" 3 >"$tmp/send.txt" || fail "ipfix_send"
grep -q "sent 3 dropped 0" "$tmp/send.txt" || fail "ipfix_send: $(cat "$tmp/send.txt")"
sleep 0.5
kill -TERM "$nfc"
wait "$nfc"
nfdump -q -R "$tmp/nf2" -o "fmt:%sa|%sp|%da|%dp|%pr|%ibyt|%obyt|%ipkt|%opkt" | tr -d ' ' >"$tmp/nf2.txt"
for i in 0 1 2; do
	grep -qx "127.0.0.1|$((40000 + i))|127.0.0.2|$((8000 + i))|TCP|$((1000 + i))|$((2000 + i))|$((10 + i))|$((20 + i))" "$tmp/nf2.txt" ||
		{ cat "$tmp/nf2.txt"; fail "crafted flow $i: bytes and packets both ways"; }
done
echo "PASS: nfdump keeps initiator and responder counts (RFC 5103 reverse elements)"

# pmacct keeps the enterprise strings with custom primitives.
cat >"$tmp/nfacctd.conf" <<EOF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $cport
aggregate_primitives: $PRIMS
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto, tft_dnames, tft_comm, tft_pid
print_output: csv
print_output_file: $tmp/pmacct.csv
print_refresh_time: 1
EOF
nfacctd -f "$tmp/nfacctd.conf" >"$tmp/nfacctd.log" 2>&1 &
nfa=$!
sleep 1
"$SEND" udp:127.0.0.1:"$cport" 2 >/dev/null || fail "ipfix_send to nfacctd"
wait_for 10 grep -qs '^127.0.0.1,127.0.0.2,40001,8001,tcp,dst.example.test,sender,4242,' "$tmp/pmacct.csv" ||
	{ cat "$tmp/pmacct.csv" "$tmp/nfacctd.log" 2>/dev/null | tail; fail "pmacct: names, process and pid"; }
kill -INT "$nfa"
wait "$nfa"
nfa=
echo "PASS: nfacctd keeps names, process and pid"

# IPFIX over TCP to a collector that reads the wire format itself.
tport=$("$PEER" freeport 127.0.0.1)
python3 "$(dirname "$0")/ipfix_tcp_collector.py" "$tport" 10 >"$tmp/tcp.txt" 2>&1 &
pids+=($!)
wait_for 5 grep -q listening "$tmp/tcp.txt" || fail "TCP collector"
"$SEND" tcp:127.0.0.1:"$tport" 3 >"$tmp/send-tcp.txt" || fail "ipfix_send over TCP"
grep -q "sent 3 dropped 0 errors 0" "$tmp/send-tcp.txt" || fail "over TCP: $(cat "$tmp/send-tcp.txt")"
wait_for 5 grep -q "^messages" "$tmp/tcp.txt" || fail "TCP collector: $(cat "$tmp/tcp.txt")"
for i in 0 1 2; do
	grep -qx "sport=$((40000 + i)) dport=$((8000 + i)) comm=sender octets=$((1000 + i)) rev_octets=$((2000 + i))" "$tmp/tcp.txt" ||
		{ cat "$tmp/tcp.txt"; fail "TCP record $i"; }
done
echo "PASS: IPFIX over TCP decodes: ports, process, both directions' octets"

# A collector that is down: UDP (port unreachable) and TCP (refused). The
# stream goes on at once; the exit line counts what was dropped.
for spec in udp:127.0.0.1:"$closed" tcp:127.0.0.1:"$closed"; do
	: >"$tmp/out2.json"
	"$TFT" -n --batch -f json --cgroup "$cg" --ipfix "$spec" >"$tmp/out2.json" 2>"$tmp/err2" &
	tft=$!
	pids+=($tft)
	wait_for 10 grep -q "watching new TCP flows" "$tmp/err2" || fail "$spec: did not start"
	for i in 1 2 3 4 5; do
		(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$l4") >/dev/null
	done
	wait_for 3 flows "$tmp/out2.json" 5 || fail "$spec: flows stalled"
	sleep 1.5 # a reconnect a second: errors beyond the first
	kill -TERM "$tft"
	wait "$tft" || fail "$spec: exit status"
	line=$(grep "IPFIX:" "$tmp/err2")
	echo "$spec: $line"
	dropped=$(echo "$line" | sed -n 's/.*IPFIX: \([0-9]*\) records sent, \([0-9]*\) dropped.*/\2/p')
	sent=$(echo "$line" | sed -n 's/.*IPFIX: \([0-9]*\) records sent.*/\1/p')
	echo "$line" | grep -q "send errors (last: " || fail "$spec: no error counted"
	if [ "${spec%%:*}" = tcp ]; then
		[ "$sent" = 0 ] && [ "$dropped" = 5 ] || fail "$spec: every record dropped, counted: $line"
	else
		# UDP learns of an unreachable port only from the next send's ICMP error.
		[ $((sent + dropped)) = 5 ] && [ "$dropped" -ge 1 ] || fail "$spec: $line"
	fi
done
echo "PASS: a collector that is down costs counted drops, not the stream"
