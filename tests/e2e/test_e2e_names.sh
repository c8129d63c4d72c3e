#!/usr/bin/env bash
# End to end, names, loopback only. dnsmasq (a port of its own,
# stopped by its PID) serves records this test defines; a process in the
# test cgroup resolves names with a plain UDP socket (bash's /dev/udp, the
# query bytes built here), then connects to the answered addresses, where
# tcp_peer listeners (outside the cgroup) accept. Asserted:
# - each flow's first ("new") line carries the names asked, as observed DNS
#   names (no '~'): A, AAAA, and a CNAME chain (asked name first);
# - an address never asked forward gets its PTR name, marked '~', backfilled
#   by a reverse lookup through --dns-server;
# - a name holding an ESC byte (dnsmasq answers any name under a wildcard
#   --address domain, raw bytes included) is escaped (\x1b, never the raw
#   byte) in CSV, text and JSON, and, as it starts with '=', neutralised in CSV;
# - with --dns-server at a port where nothing answers, lines still come
#   promptly and the exit summary counts the reverse lookups as failed.
# Usage: test_e2e_names.sh TCPFLOWTOP TCP_PEER
set -u
TFT=$1
PEER=$2
. "$(dirname "$0")/lib.sh"
require_root
export LC_ALL=C
DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || { echo "SKIP: no $DNSMASQ (Debian package dnsmasq-base)" >&2; exit 77; }

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
cg="$root/tft-e2e-names-$$"
tmp=$(mktemp -d /tmp/tft-e2e-names.XXXXXX)
pids=()
tft=
tft_err=
cleanup() {
	[ -n "$tft" ] && kill "$tft" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"

show() { # what went wrong: the output files and dnsmasq's log
	local f
	for f in "$tmp"/out* "$tmp"/err* "$tmp/dnsmasq.log"; do
		[ -f "$f" ] && { echo "--- $f"; od -c "$f" | grep -q '033' && echo "(raw ESC bytes inside)"; cat -v "$f"; }
	done
}
die() { show; fail "$*"; }

# --- A DNS client in bash: query bytes built with printf, one datagram each
byte() { printf "\\$(printf %03o "$1")"; }
mkquery() { # OUT ID NAME QTYPE
	local out=$1 id=$2 name=$3 qtype=$4 l labels
	IFS=. read -r -a labels <<<"$name"
	{
		byte $((id >> 8))
		byte $((id & 255))
		printf '\001\000\000\001\000\000\000\000\000\000' # RD; 1 question
		for l in "${labels[@]}"; do
			byte ${#l}
			printf '%s' "$l"
		done
		printf '\000\000'
		byte "$qtype"
		printf '\000\001'
	} >"$out"
}
# ask QFILE RFILE: send to dnsmasq, one answer datagram into RFILE (3 tries).
ask() {
	(
		exec 3<>"/dev/udp/127.0.0.1/$dnsport" || exit 1
		for _ in 1 2 3; do
			cat "$1" >&3
			timeout 2 dd bs=4096 count=1 status=none <&3 >"$2" && [ -s "$2" ] && exit 0
		done
		exit 1
	)
}
# resolve NAME QTYPE EXPECTED_RDATA_HEX: from a process in the test cgroup,
# so the answer arrives at a socket tcpflowtop watches; the answer must be
# this query's, NOERROR, and end with the expected address.
qid=4096
resolve() {
	local name=$1 qtype=$2 want=$3 got
	qid=$((qid + 1))
	mkquery "$tmp/q" "$qid" "$name" "$qtype"
	(echo "$BASHPID" >"$cg/cgroup.procs" && ask "$tmp/q" "$tmp/r") || die "no DNS answer for $(printf %q "$name")"
	got=$(od -An -tx1 -v "$tmp/r" | tr -d ' \n')
	[ "${got:0:4}" = "$(printf %04x "$qid")" ] || die "answer id ${got:0:4}, want $qid"
	[ "${got:7:1}" = 0 ] || die "rcode ${got:7:1} for $(printf %q "$name")"
	[ "${got: -${#want}}" = "$want" ] || die "answer for $(printf %q "$name") ends $got, want $want"
}

# connect_in ADDR PORT: an outgoing connection from the test cgroup; prints the local port.
connect_in() {
	local port st
	read -r port st < <(in_cgroup "$cg" "$PEER" connect "$1" "$2")
	[ "$st" = ok ] || die "connect $1 $2 from the cgroup: ${st:-nothing}"
	echo "$port"
}

# start_tft OUT ERR ARGS...: tcpflowtop in the background, $tft its PID.
start_tft() {
	local out=$1 err=$2
	shift 2
	"$TFT" --batch --cgroup "$cg" "$@" >"$out" 2>"$err" &
	tft=$!
	tft_err=$err
}
stop_tft() {
	kill -INT "$tft"
	wait "$tft"
	local rc=$?
	tft=
	[ "$rc" = 0 ] || die "tcpflowtop exited $rc"
	# a sanitizer build (TFT_SANITIZE) may report without failing the exit code
	grep -q 'runtime error\|Sanitizer' "$tft_err" && die "sanitizer report in $tft_err"
	return 0
}

# --- dnsmasq with the test's records
dnsport=$("$PEER" freeport 127.0.0.1)
deadport=$("$PEER" freeport 127.0.0.1)
[ -n "$dnsport" ] && [ -n "$deadport" ] && [ "$dnsport" != "$deadport" ] || fail "free ports: '$dnsport' '$deadport'"
hostile=$'=x\e[31mred.evil.test'
"$DNSMASQ" --no-daemon --port="$dnsport" --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --conf-file=/dev/null --user=root --group=root \
	--log-queries --log-facility="$tmp/dnsmasq.log" \
	--host-record=web.tft.test,127.0.0.7 \
	--host-record=web6.tft.test,::1 \
	--host-record=target.tft.test,127.0.0.6 \
	--cname=alias.tft.test,mid.tft.test --cname=mid.tft.test,target.tft.test \
	--ptr-record=8.0.0.127.in-addr.arpa,backfill.tft.test \
	--address=/evil.test/127.0.0.9 2>"$tmp/dnsmasq.err" &
pids+=($!)
# dnsmasq up: ask from outside the cgroup, before any tcpflowtop runs.
mkquery "$tmp/q" 1 web.tft.test 1
wait_for 10 ask "$tmp/q" "$tmp/r" || die "dnsmasq does not answer on port $dnsport"

# --- listeners, outside the cgroup
for a in 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 ::1; do
	"$PEER" listen "$a" "$tmp/port-$a" 90 &
	pids+=($!)
done
for a in 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 ::1; do
	wait_for 5 test -s "$tmp/port-$a" || die "listener on $a"
done
p6=$(cat "$tmp/port-127.0.0.6") p7=$(cat "$tmp/port-127.0.0.7") p8=$(cat "$tmp/port-127.0.0.8")
p9=$(cat "$tmp/port-127.0.0.9") pv6=$(cat "$tmp/port-::1")

# csv_cell FILE EVENT DST DPORT SPORT FIELD: FIELD of that flow's EVENT line
# (CSV; the names cells hold no comma here: names are space-separated and
# a comma inside one would be \x2c).
csv_cell() {
	awk -F, -v e="$2" -v d="$3" -v dp="$4" -v sp="$5" -v f="$6" \
		'$2==e && $4=="out" && $8==d && $9==dp && $7==sp { print $f; n++ } END { exit n != 1 }' "$1"
}
has_line() { # FILE EVENT DST DPORT SPORT
	csv_cell "$1" "$2" "$3" "$4" "$5" 14 >/dev/null
}
# expect_names DST DPORT SPORT WANT: the flow's "new" line, dst_names cell == WANT.
expect_names() {
	local got
	wait_for 5 has_line "$tmp/out.csv" new "$1" "$2" "$3" || die "no new line for $1:$2 from port $3"
	got=$(csv_cell "$tmp/out.csv" new "$1" "$2" "$3" 14)
	[ "$got" = "$4" ] || die "flow to $1: dst_names '$got', want '$4'"
}

# ===== Run 1: names from dnsmasq's answers, PTR backfill through dnsmasq
start_tft "$tmp/out.csv" "$tmp/err.txt" --format csv --dns-port "$dnsport" --dns-server "127.0.0.1:$dnsport"
wait_for 10 grep -q '^time,' "$tmp/out.csv" || die "tcpflowtop did not start"
grep -q ',src_names,dst_names,pid,comm,user,service,cgroup,' "$tmp/out.csv" || die "CSV header lacks the names columns"

resolve web.tft.test 1 7f000007
resolve web6.tft.test 28 00000000000000000000000000000001
resolve alias.tft.test 1 7f000006
resolve "$hostile" 1 7f000009

s7=$(connect_in 127.0.0.7 "$p7")
s6=$(connect_in 127.0.0.6 "$p6")
sv6=$(connect_in ::1 "$pv6")
s9=$(connect_in 127.0.0.9 "$p9")
expect_names 127.0.0.7 "$p7" "$s7" web.tft.test
expect_names 127.0.0.6 "$p6" "$s6" "alias.tft.test mid.tft.test target.tft.test"
expect_names ::1 "$pv6" "$sv6" web6.tft.test
expect_names 127.0.0.9 "$p9" "$s9" "\"'=x\\x1b[31mred.evil.test\""
# Their "update" (accepted) lines too.
wait_for 5 has_line "$tmp/out.csv" update 127.0.0.9 "$p9" "$s9" || die "no update line for 127.0.0.9"
got=$(csv_cell "$tmp/out.csv" update 127.0.0.9 "$p9" "$s9" 14)
[ "$got" = "\"'=x\\x1b[31mred.evil.test\"" ] || die "update line of 127.0.0.9: dst_names '$got'"

# 127.0.0.8 was never asked forward: its first connection starts a reverse
# lookup; a later connection's line carries the PTR name, marked '~'.
# (--resolve-wait, which would hold the first line for it, is not used.)
s8=$(connect_in 127.0.0.8 "$p8")
wait_for 5 has_line "$tmp/out.csv" new 127.0.0.8 "$p8" "$s8" || die "no line for the first flow to 127.0.0.8"
backfilled() {
	local s
	s=$(connect_in 127.0.0.8 "$p8")
	wait_for 2 has_line "$tmp/out.csv" new 127.0.0.8 "$p8" "$s" || return 1
	[ "$(csv_cell "$tmp/out.csv" new 127.0.0.8 "$p8" "$s" 14)" = "~backfill.tft.test" ]
}
wait_for 6 backfilled || die "127.0.0.8 never got ~backfill.tft.test"
grep -q 'query\[PTR\] 8.0.0.127.in-addr.arpa' "$tmp/dnsmasq.log" || die "the PTR query did not reach dnsmasq"
grep -q 'query\[PTR\] 7.0.0.127.in-addr.arpa' "$tmp/dnsmasq.log" && die "reverse lookup for 127.0.0.7 though its name was known"

stop_tft
# Observed names are never marked as PTR ones; no raw ESC byte anywhere.
awk -F, -v p="$p8" '$9!=p && $14 ~ /~/' "$tmp/out.csv" | grep -q . && die "a '~' on a flow not to 127.0.0.8"
grep -q $'\e' "$tmp/out.csv" && die "raw ESC byte in the CSV output"
summary=$(grep 'reverse lookups' "$tmp/err.txt") || die "no names summary"
named=$(sed -n 's/.*reverse lookups [0-9]* (\([0-9]*\) named,.*/\1/p' <<<"$summary")
[ "${named:-0}" -ge 1 ] || die "summary: no reverse lookup named: $summary"
answers=$(sed -n 's/.*names: \([0-9]*\) DNS answers seen.*/\1/p' <<<"$summary")
[ "${answers:-0}" -ge 4 ] || die "summary: $answers DNS answers seen, want >= 4"

# ===== Run 2 and 3: the hostile name in text and JSON (no reverse lookups)
for fmt in text json; do
	start_tft "$tmp/out.$fmt" "$tmp/err.$fmt" --format "$fmt" -n --dns-port "$dnsport"
	if [ "$fmt" = text ]; then
		wait_for 10 grep -q '^TIME ' "$tmp/out.$fmt" || die "tcpflowtop ($fmt) did not start"
	else
		wait_for 10 grep -q 'watching' "$tmp/err.$fmt" || die "tcpflowtop ($fmt) did not start"
		sleep 0.5
	fi
	resolve "$hostile" 1 7f000009
	s=$(connect_in 127.0.0.9 "$p9")
	if [ "$fmt" = text ]; then
		# DST DPORT ... DST_NAMES (13th; the owner's columns follow); the name escaped, as is.
		line() { awk -v s="$s" -v p="$p9" '$2=="new" && $6==s && $7=="127.0.0.9" && $8==p' "$tmp/out.text"; }
		wait_for 5 eval 'line | grep -q .' || die "text: no line for 127.0.0.9"
		got=$(line | awk '{ print $13 }')
		[ "$got" = '=x\x1b[31mred.evil.test' ] || die "text: dst names '$got'"
	else
		line() { grep "\"src_port\":$s,\"dst_addr\":\"127.0.0.9\",\"dst_port\":$p9," "$tmp/out.json" | grep '"type":"flow"'; }
		wait_for 5 eval 'line | grep -q .' || die "json: no line for 127.0.0.9"
		# Spelt as in text (\x1b), inside a JSON string: jq shows \x1b, never an ESC.
		line | grep -qF '"dst_names":[{"name":"=x\\x1b[31mred.evil.test","source":"dns"}]' ||
			die "json: dst names: $(line)"
	fi
	stop_tft
	grep -q $'\e' "$tmp/out.$fmt" && die "raw ESC byte in the $fmt output"
done

# ===== Run 4: --dns-server where nothing answers
start_tft "$tmp/out-dead.csv" "$tmp/err-dead.txt" --format csv --dns-port "$dnsport" \
	--dns-server "127.0.0.1:$deadport"
wait_for 10 grep -q '^time,' "$tmp/out-dead.csv" || die "tcpflowtop (dead server) did not start"
for a in 127.0.0.8 127.0.0.7 127.0.0.6; do # none in this run's cache: each one a lookup
	eval "p=\$p${a##*.}"
	t0=$(date +%s%N)
	s=$(connect_in "$a" "$p")
	wait_for 2 has_line "$tmp/out-dead.csv" new "$a" "$p" "$s" || die "dead server: no line for $a within 2 s"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -le 2000 ] || die "dead server: the line for $a took $ms ms"
	[ -z "$(csv_cell "$tmp/out-dead.csv" new "$a" "$p" "$s" 14)" ] || die "dead server: $a has names"
done
# c-ares gives up after 1.5 s * (2^2 - 1) per lookup at the latest (defaults).
sleep 5
stop_tft
summary=$(grep 'reverse lookups' "$tmp/err-dead.txt") || die "dead server: no names summary"
read -r started named failed timedout < <(sed -n \
	's/.*reverse lookups \([0-9]*\) (\([0-9]*\) named, \([0-9]*\) failed, \([0-9]*\) timed out,.*/\1 \2 \3 \4/p' \
	<<<"$summary")
[ "${started:-0}" -ge 3 ] || die "dead server: $started lookups started, want >= 3: $summary"
[ "${named:-x}" = 0 ] || die "dead server: $named named: $summary"
[ "${failed:-0}" -ge 3 ] || die "dead server: $failed failed, want >= 3: $summary"
grep -q $'\e' "$tmp/out-dead.csv" && die "raw ESC byte in the output"

echo "PASS: observed names (A, AAAA, CNAME chain) on first lines, PTR backfill marked ~, hostile name escaped in CSV/text/JSON and neutralised in CSV, dead DNS server: lines prompt, $failed lookups failed ($timedout timed out)"
