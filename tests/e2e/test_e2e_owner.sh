#!/usr/bin/env bash
# End to end: every flow names who opened it. A server with its own command
# name runs in a test cgroup named like a systemd unit, clients with theirs in
# one named like a docker scope; over 127.0.0.1 and ::1 the outgoing row
# carries the client's pid, command, user and service, the incoming row the
# server's. Clients exit right after connecting (they are named anyway), one
# runs as nobody, and one names itself with control bytes and a leading '='.
# A server started before tcpflowtop is named from /proc.
set -u
TFT=$1
PEER=$2
. "$(dirname "$0")/lib.sh"
require_root

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
id=$(printf '%08x' $$ $$ $$ $$ $$ $$ $$ $$)
cg="$root/tft-e2e-owner-$$"
srv="$cg/tft-srv.service"
box="$cg/docker-$id.scope"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$srv" "$box" "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" "$srv" "$box" || fail "cannot create the test cgroups under $cg"
# Distinctive command names: a process's name is its executable's.
chmod 755 "$tmp"
cp "$PEER" "$tmp/tftsrvd" && cp "$PEER" "$tmp/tftcli" && cp "$PEER" "$tmp/tftoldd" ||
	fail "copying $PEER"

# A server started before tcpflowtop: its socket never passed the programs;
# tcpflowtop finds it in /proc at start-up.
in_cgroup "$srv" "$tmp/tftoldd" listen 127.0.0.1 "$tmp/qold" 30 & old=$!
pids+=($old)
wait_for 5 test -s "$tmp/qold" || fail "the older listener"
qold=$(cat "$tmp/qold")

"$TFT" -n --batch --format csv --cgroup "$cg" -w "$tmp/rec.tftrec" >"$tmp/out.csv" 2>"$tmp/err" &
tft=$!
pids+=($tft)
wait_for 10 grep -q '^time,' "$tmp/out.csv" || { cat "$tmp/err"; fail "tcpflowtop did not start"; }

in_cgroup "$srv" "$tmp/tftsrvd" listen 127.0.0.1 "$tmp/q4" 30 & srv4=$!
pids+=($srv4)
in_cgroup "$srv" "$tmp/tftsrvd" listen ::1 "$tmp/q6" 30 & srv6=$!
pids+=($srv6)
wait_for 5 test -s "$tmp/q4" -a -s "$tmp/q6" || fail "listeners"
q4=$(cat "$tmp/q4") q6=$(cat "$tmp/q6")

# connect NAME CMD...: runs CMD (a connect that prints "PORT ok") in the
# box cgroup; sets port and cpid (the client, gone once it printed).
connect() {
	local name=$1 st
	shift
	exec 3< <(in_cgroup "$box" "$@")
	cpid=$!
	read -r port st <&3
	exec 3<&-
	[ "$st" = ok ] || fail "$name: connect: $st"
}

# row DIR SPORT DPORT FIELD: FIELD of that flow's "new" line (CSV, -n: no
# names, so no cell holds a comma).
row() {
	awk -F, -v d="$1" -v s="$2" -v p="$3" -v f="$4" \
		'$2=="new" && $4==d && $7==s && $9==p { print $f; n++ } END { exit n != 1 }' "$tmp/out.csv"
}
# expect DIR SPORT DPORT PID COMM USER SERVICE CGROUP
expect() {
	wait_for 5 row "$1" "$2" "$3" 15 >/dev/null || { cat "$tmp/out.csv"; fail "no $1 row $2 -> $3"; }
	local got want
	got=$(row "$1" "$2" "$3" 15),$(row "$1" "$2" "$3" 16),$(row "$1" "$2" "$3" 17),$(row "$1" "$2" "$3" 18),$(row "$1" "$2" "$3" 19)
	want="$4,$5,$6,$7,$8"
	[ "$got" = "$want" ] || { cat "$tmp/out.csv"; fail "$1 row $2 -> $3: got $got, want $want"; }
	echo "ok: $1 $2 -> $3: $got"
}
rel=${cg#"$root"}
svc_box="docker:${id:0:12}"

connect v4 "$tmp/tftcli" connect 127.0.0.1 "$q4"
expect out "$port" "$q4" "$cpid" tftcli root "$svc_box" "$rel/docker-$id.scope"
expect in "$port" "$q4" "$srv4" tftsrvd root tft-srv.service "$rel/tft-srv.service"

connect v6 "$tmp/tftcli" connect ::1 "$q6"
expect out "$port" "$q6" "$cpid" tftcli root "$svc_box" "$rel/docker-$id.scope"
expect in "$port" "$q6" "$srv6" tftsrvd root tft-srv.service "$rel/tft-srv.service"

# The server that predates tcpflowtop is named too, from /proc.
connect old "$tmp/tftcli" connect 127.0.0.1 "$qold"
expect in "$port" "$qold" "$old" tftoldd root tft-srv.service "$rel/tft-srv.service"

# Another user: the row says nobody.
connect nobody setpriv --reuid=nobody --regid=nogroup --clear-groups "$tmp/tftcli" connect 127.0.0.1 "$q4"
expect out "$port" "$q4" "$cpid" tftcli nobody "$svc_box" "$rel/docker-$id.scope"

# A name with an escape sequence and a formula: escaped, and defused in CSV.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
connect evil "$PY" -c '
import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, b"=x\x1b[31mevil", 0, 0, 0)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], "ok", flush=True)' "$q4"
expect out "$port" "$q4" "$cpid" "\"'=x\\x1b[31mevil\"" root "$svc_box" "$rel/docker-$id.scope"
grep -q $'\x1b' "$tmp/out.csv" && fail "a raw escape byte reached the output"

kill -INT "$tft"
wait "$tft"
rc=$?
[ "$rc" = 0 ] || { cat "$tmp/err"; fail "tcpflowtop exited $rc"; }
# The recording keeps the owners with their names: a replay prints the same lines.
"$TFT" -n -r "$tmp/rec.tftrec" --format csv >"$tmp/replay.csv" 2>"$tmp/replay.err" ||
	{ cat "$tmp/replay.err"; fail "replay failed"; }
cmp -s "$tmp/out.csv" "$tmp/replay.csv" || { diff "$tmp/out.csv" "$tmp/replay.csv"; fail "the replay differs"; }
echo "PASS: outgoing rows name the client, incoming rows the server, over IPv4 and IPv6; -r shows them again"
