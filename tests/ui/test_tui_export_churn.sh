#!/bin/bash
# The screen's export under churn: a full table (--capacity 100) with a
# connect storm evicting rows all the time. The e key exports exactly the
# rows of the view at that moment: as many as the header shows, all of them.
#
#   test_tui_export_churn.sh TCPFLOWTOP CONNSTORM
#
# Needs root (BPF, cgroup) and tmux; exits 77 without them.
set -u
BIN=$(realpath "$1")
STORM=$(realpath "$2")
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
# shellcheck source-path=SCRIPTDIR source=tui_lib.sh
. "$(dirname "$0")/tui_lib.sh"
require_root
command -v tmux >/dev/null || skip "needs tmux"
CGROOT=$(cgroup2_root)
[ -n "$CGROOT" ] || skip "no cgroup v2 mount"

CG=$CGROOT/tft-churn-$$
WORK=$(mktemp -d /tmp/tft-churn.XXXXXX)
chmod 1777 "$WORK" # tcpflowtop drops to nobody before it exports
tui_server "tft-churn-$$" churn
STORM_PID=
cleanup() {
	[ -n "$STORM_PID" ] && kill "$STORM_PID" 2>/dev/null
	"${T[@]}" kill-server 2>/dev/null
	wait 2>/dev/null
	rmdir_retry "$CG"
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$CG" || skip "cannot create a cgroup"

"${T[@]}" new-session -d -s churn -x 160 -y 40 \
	"$BIN -n --cgroup $CG --capacity 100 -d 1 --export-dir $WORK" || fail "tmux"
wait_for 10 pane_has "^tcpflowtop on" || fail "the screen did not open"
# Bounded: at most 30000 connections, 2000 a second, 20 seconds.
in_cgroup "$CG" "$STORM" -n 30000 -c 2 -r 2000 -t 20 \
	>"$WORK/storm" 2>&1 &
STORM_PID=$!
wait_for 15 pane_has "rows 100/100" || fail "the table did not fill"
"${T[@]}" send-keys -t churn e
wait_for 10 pane_has "exported [0-9]+ rows to " || fail "no export message"
kill -0 "$STORM_PID" 2>/dev/null || fail "the storm ended before the export: no churn"
n=$(pane | grep -oE "exported [0-9]+ rows" | awk '{ print $2 }')
csv=$(pane | grep -oE "exported [0-9]+ rows to [^ ]+" | awk '{ print $5 }')
[ -f "$csv" ] || fail "no file $csv"
rows=$(($(wc -l <"$csv") - 1))
[ "$n" = 100 ] || fail "exported $n rows of a full 100-row view"
[ "$rows" = 100 ] || fail "the file holds $rows rows, not 100"
tail -n +2 "$csv" | cut -d, -f2 | sort -u | wc -l | grep -qx 100 || fail "duplicate ids in the export"
echo "PASS: a full table under churn: 100 rows shown, 100 exported"
