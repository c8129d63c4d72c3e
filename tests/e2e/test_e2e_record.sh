#!/usr/bin/env bash
# End to end, -w: a live run records its session; -r of the file prints what
# the live run printed (the formats' goldens are test_replay's). The file is new, mode 0600, owned
# by the user tcpflowtop drops to; an existing file, a symlink or a path
# that cannot be created is refused before anything attaches.
#   test_e2e_record.sh TCPFLOWTOP TCP_PEER
set -u
TFT=$1
PEER=$2
. "$(dirname "$0")/lib.sh"
require_root

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
# The programs go on the watched cgroup's parent: a parent of the test's own.
parent="$root/tft-e2e-rec-$$"
cg="$parent/watched"
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$cg" "$parent" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$parent" "$cg" || fail "cannot create $cg"

"$PEER" listen 127.0.0.1 "$tmp/p4" 30 & pids+=($!)
wait_for 5 test -s "$tmp/p4" || fail "listener"
closed=$("$PEER" freeport ::1)

"$TFT" -n --batch --format json --cgroup "$cg" -w "$tmp/s.tftrec" >"$tmp/live.json" 2>"$tmp/err" &
tft=$!
pids+=($tft)
wait_for 10 grep -q watching "$tmp/err" || { cat "$tmp/err"; fail "tcpflowtop did not start"; }
(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$(cat "$tmp/p4")") >/dev/null
(in_cgroup "$cg" "$PEER" connect ::1 "$closed") >/dev/null
wait_for 5 grep -q refused "$tmp/live.json" || fail "flows not seen live"
kill -INT "$tft"
wait "$tft" || fail "tcpflowtop exited $?"
[ "$(stat -c %a "$tmp/s.tftrec")" = 600 ] || fail "mode $(stat -c %a "$tmp/s.tftrec"), want 600"
[ "$(stat -c %U "$tmp/s.tftrec")" = nobody ] || fail "owner $(stat -c %U "$tmp/s.tftrec"), want nobody (the drop target)"
TZ=UTC "$TFT" -r "$tmp/s.tftrec" -f json >"$tmp/replay.json" 2>"$tmp/rerr" || fail "replay exit $?"
cmp -s "$tmp/live.json" "$tmp/replay.json" || { diff "$tmp/live.json" "$tmp/replay.json"; fail "replay differs from the live run"; }
[ "$(grep -c '"type":"flow"' "$tmp/replay.json")" = 2 ] || fail "replay: not two flows"
echo "ok: the replay prints what the live run printed; file 0600, owned by nobody"

# refused LABEL PATH PATTERN: -w PATH fails at once with PATTERN, exit 1.
refused() {
	timeout 10 "$TFT" -n --batch --cgroup "$cg" -w "$2" >/dev/null 2>"$tmp/err"
	[ $? = 1 ] || fail "$1: exit status not 1"
	grep -q -- "$3" "$tmp/err" || fail "$1: '$(cat "$tmp/err")' lacks '$3'"
	echo "ok: $1: $(cat "$tmp/err")"
}
refused "existing file" "$tmp/s.tftrec" "never overwrites"
ln -s "$tmp/target" "$tmp/link"
refused symlink "$tmp/link" "never overwrites"
[ -e "$tmp/target" ] && fail "symlink: a file was created through it"
refused "missing directory" "$tmp/no/such/dir.tftrec" "No such file or directory"
# Nothing stayed attached after the refusals.
if command -v bpftool >/dev/null; then
	[ -z "$(bpftool cgroup show "$parent" 2>/dev/null | grep -v '^ID')" ] || fail "programs left attached"
fi
echo "PASS: record"
