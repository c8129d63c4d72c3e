#!/usr/bin/env bash
# Records the replay fixture: a real session with -w, loopback only.
#   make_fixture.sh TCPFLOWTOP TCP_PEER CONNSTORM OUT.tftrec
# In a child cgroup: outgoing flows to open and closed ports over IPv4 and
# IPv6, incoming flows to a listener in the cgroup, DNS answers from a
# dnsmasq this script starts (A, AAAA, a CNAME chain, a name holding an ESC
# byte and a leading '='), then a connect burst with tcpflowtop stopped so
# its 4096-byte ring overflows (lost events), then a few flows after it.
# Also keeps the live run's JSON beside OUT (.live.json). Needs root. Not run by
# ctest: its output is committed (tests/replay/).
set -u
TFT=$1
PEER=$2
STORM=$3
OUT=$4
. "$(dirname "$0")/../e2e/lib.sh"
require_root
DNSMASQ=/usr/sbin/dnsmasq
root=$(cgroup2_root)
cg="$root/tft-fixture-$$"
tmp=$(mktemp -d /tmp/tft-fixture.XXXXXX)
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

dnsport=$("$PEER" freeport 127.0.0.1)
closed4=$("$PEER" freeport 127.0.0.1)
closed6=$("$PEER" freeport ::1)
"$DNSMASQ" --no-daemon --port="$dnsport" --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --conf-file=/dev/null --user=root --group=root \
	--host-record=web.tft.test,127.0.0.7 \
	--host-record=web6.tft.test,::1 \
	--host-record=target.tft.test,127.0.0.6 \
	--cname=alias.tft.test,mid.tft.test --cname=mid.tft.test,target.tft.test \
	--address=/evil.test/127.0.0.9 2>"$tmp/dnsmasq.err" &
pids+=($!)
wait_for 10 "$PEER" resolve 127.0.0.1 "$dnsport" web.tft.test >/dev/null || fail "dnsmasq"

for a in 127.0.0.6 127.0.0.7 127.0.0.9 ::1; do
	"$PEER" listen "$a" "$tmp/port-$a" 60 &
	pids+=($!)
done
# A listener inside the cgroup: connections to it are incoming flows.
(in_cgroup "$cg" "$PEER" listen 127.0.0.5 "$tmp/port-in" 60) &
pids+=($!)
for a in 127.0.0.6 127.0.0.7 127.0.0.9 ::1 in; do
	wait_for 5 test -s "$tmp/port-$a" || fail "listener $a"
done

"$TFT" --batch --no-resolve --format json --ring-size 4096 --cgroup "$cg" \
	--dns-port "$dnsport" -w "$OUT" >"$tmp/out.json" 2>"$tmp/err" &
tft=$!
wait_for 10 grep -q watching "$tmp/err" || fail "tcpflowtop did not start: $(cat "$tmp/err")"

inside() { (in_cgroup "$cg" "$@"); }
inside "$PEER" resolve 127.0.0.1 "$dnsport" web.tft.test
inside "$PEER" resolve 127.0.0.1 "$dnsport" web6.tft.test aaaa
inside "$PEER" resolve 127.0.0.1 "$dnsport" alias.tft.test
inside "$PEER" resolve 127.0.0.1 "$dnsport" $'=x\e[31mred.evil.test'
sleep 0.2
inside "$PEER" connect 127.0.0.7 "$(cat "$tmp/port-127.0.0.7")"
inside "$PEER" connect 127.0.0.6 "$(cat "$tmp/port-127.0.0.6")"
inside "$PEER" connect ::1 "$(cat "$tmp/port-::1")"
inside "$PEER" connect 127.0.0.9 "$(cat "$tmp/port-127.0.0.9")"
inside "$PEER" connect 127.0.0.1 "$closed4"
inside "$PEER" connect ::1 "$closed6"
"$PEER" connect 127.0.0.5 "$(cat "$tmp/port-in")"
"$PEER" connect 127.0.0.5 "$(cat "$tmp/port-in")"
sleep 0.3
# The burst: the reader is stopped, the 4096-byte ring fills, the rest is lost.
kill -STOP "$tft"
inside "$STORM" -n 300 -c 2 -t 20 >"$tmp/storm" || fail "connstorm"
kill -CONT "$tft"
sleep 0.3
inside "$PEER" connect 127.0.0.7 "$(cat "$tmp/port-127.0.0.7")"
inside "$PEER" connect 127.0.0.1 "$closed4"
sleep 0.3
kill -INT "$tft"
wait "$tft" || fail "tcpflowtop exited $?"
tft=
grep -q '"type":"lost"' "$tmp/out.json" || fail "the burst lost nothing: the fixture would not cover losses"
cat "$tmp/err" >&2
# What the live run printed: a replay must print the same.
cp "$tmp/out.json" "${OUT%.tftrec}.live.json"
echo "fixture: $OUT ($(stat -c %s "$OUT") bytes, $(wc -l <"$tmp/out.json") JSON lines live)"
