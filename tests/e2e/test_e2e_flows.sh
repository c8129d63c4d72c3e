#!/usr/bin/env bash
# End to end: tcpflowtop attached to a test cgroup sees real loopback
# connections made from inside it (outgoing) and to a listener inside it
# (incoming), over IPv4 and IPv6, each exactly once with the right state.
set -u
TFT=$1
PEER=$2
. "$(dirname "$0")/lib.sh"
require_root

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
cg="$root/tft-e2e-$$"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"

"$TFT" -n --batch --format csv --cgroup "$cg" >"$tmp/out.csv" 2>"$tmp/err" &
tft=$!
pids+=($tft)
wait_for 10 grep -q '^time,' "$tmp/out.csv" || { cat "$tmp/err"; fail "tcpflowtop did not start"; }

# Listeners outside the cgroup (this script is not in it) ...
"$PEER" listen 127.0.0.1 "$tmp/p4" 30 & pids+=($!)
"$PEER" listen ::1 "$tmp/p6" 30 & pids+=($!)
# ... and inside it, for incoming flows.
in_cgroup "$cg" "$PEER" listen 127.0.0.1 "$tmp/q4" 30 & pids+=($!)
in_cgroup "$cg" "$PEER" listen ::1 "$tmp/q6" 30 & pids+=($!)
wait_for 5 test -s "$tmp/p4" -a -s "$tmp/p6" -a -s "$tmp/q4" -a -s "$tmp/q6" || fail "listeners"
p4=$(cat "$tmp/p4") p6=$(cat "$tmp/p6") q4=$(cat "$tmp/q4") q6=$(cat "$tmp/q6")
closed4=$("$PEER" freeport 127.0.0.1)
closed6=$("$PEER" freeport ::1)

# expect DIR FAMILY SRC SPORT DST DPORT STATE: one line per connection made.
: >"$tmp/expect"
expect() { echo "$*" >>"$tmp/expect"; }

read -r port st < <(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$p4")
[ "$st" = ok ] || fail "v4 outgoing connect: $st"
expect out 4 127.0.0.1 "$port" 127.0.0.1 "$p4" closed
read -r port st < <(in_cgroup "$cg" "$PEER" connect ::1 "$p6")
[ "$st" = ok ] || fail "v6 outgoing connect: $st"
expect out 6 ::1 "$port" ::1 "$p6" closed
read -r port st < <("$PEER" connect 127.0.0.1 "$q4")
[ "$st" = ok ] || fail "v4 incoming connect: $st"
expect in 4 127.0.0.1 "$port" 127.0.0.1 "$q4" closed
read -r port st < <("$PEER" connect ::1 "$q6")
[ "$st" = ok ] || fail "v6 incoming connect: $st"
expect in 6 ::1 "$port" ::1 "$q6" closed
read -r port st < <(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$closed4")
[ "$st" = refused ] || fail "v4 closed port: $st"
expect out 4 127.0.0.1 "$port" 127.0.0.1 "$closed4" refused
read -r port st < <(in_cgroup "$cg" "$PEER" connect ::1 "$closed6")
[ "$st" = refused ] || fail "v6 closed port: $st"
expect out 6 ::1 "$port" ::1 "$closed6" refused
# Outside the cgroup on both ends: must not show.
read -r port st < <("$PEER" connect 127.0.0.1 "$p4")
outsider=$port

# Every expected flow: exactly one "new" line, and its final state (tcp_peer closes what it accepts).
check_all() {
	while read -r dir fam src sport dst dport state; do
		n=$(awk -F, -v d="$dir" -v f="$fam" -v s="$src" -v sp="$sport" -v t="$dst" -v tp="$dport" \
			'$2=="new" && $4==d && $5==f && $6==s && $7==sp && $8==t && $9==tp' "$tmp/out.csv" | wc -l)
		[ "$n" = 1 ] || return 1
		last=$(awk -F, -v d="$dir" -v s="$src" -v sp="$sport" -v tp="$dport" \
			'$4==d && $6==s && $7==sp && $9==tp { st=$10 } END { print st }' "$tmp/out.csv")
		[ "$last" = "$state" ] || return 1
	done <"$tmp/expect"
}
wait_for 5 check_all || {
	cat "$tmp/out.csv"
	while read -r line; do echo "expected: $line"; done <"$tmp/expect"
	fail "flows missing, duplicated or in the wrong state"
}

kill -INT "$tft"
wait "$tft"
rc=$?
[ "$rc" = 0 ] || fail "tcpflowtop exited $rc"

news=$(grep -c '^[^,]*,new,' "$tmp/out.csv")
[ "$news" = 6 ] || { cat "$tmp/out.csv"; fail "expected 6 new flows, got $news"; }
grep -q ",$outsider," "$tmp/out.csv" && fail "a connection outside the cgroup was reported"
# ids are unique
dups=$(awk -F, '$2=="new" { print $3 }' "$tmp/out.csv" | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "duplicate flow ids"
grep -q '6 flows seen (2 in, 4 out; 4 accepted, 2 refused, 0 unanswered, 0 unsure), 0 events lost, 0 flows evicted (0 pending)' "$tmp/err" ||
	{ cat "$tmp/err"; fail "exit summary"; }
echo "PASS: 6 flows, each once, right direction, addresses, ports and state"
