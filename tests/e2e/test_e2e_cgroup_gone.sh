#!/usr/bin/env bash
# A watched cgroup removed, then created again under the same path (what
# "systemctl restart" does to a service's cgroup): tcpflowtop says so on
# stderr, once for each, instead of going silently blind, and still stops
# cleanly with status 0.
set -u
TFT=$1
. "$(dirname "$0")/lib.sh"
require_root

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
cg="$root/tft-gone-$$"
tmp=$(mktemp -d)
tft=
cleanup() {
	[ -n "$tft" ] && kill "$tft" 2>/dev/null
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"

"$TFT" -n --batch --cgroup "$cg" >"$tmp/out" 2>"$tmp/err" &
tft=$!
wait_for 10 grep -q "watching new TCP flows" "$tmp/err" || { cat "$tmp/err"; fail "did not start"; }
rmdir "$cg" || fail "rmdir $cg"
wait_for 10 grep -q "cgroup $cg was removed: " "$tmp/err" || { cat "$tmp/err"; fail "removal not told"; }
mkdir "$cg" || fail "mkdir $cg again"
wait_for 10 grep -q "cgroup $cg was removed and created again" "$tmp/err" ||
	{ cat "$tmp/err"; fail "re-creation not told"; }
sleep 0.2 # a few more polls: each change is told once
[ "$(grep -c "was removed" "$tmp/err")" = 2 ] || { cat "$tmp/err"; fail "told more than once"; }
kill -INT "$tft"
wait "$tft"
rc=$?
tft=
[ "$rc" = 0 ] || fail "exit status $rc"
echo "PASS: removal and re-creation of the watched cgroup told on stderr, once each"
