#!/bin/sh
# A pipe reader that goes away on a quiet host: "tcpflowtop -b | head -1"
# ends as soon as head exits (the pipe's write end reports an error), with
# exit status 0 and its programs detached, instead of at its next write,
# which on a quiet cgroup never comes.
. "$(dirname "$0")/lib.sh"
TFT=$1
need_root
need_cmd bpftool mkfifo head

# Nothing runs in it: no flow, no write after the header. The programs go on
# the watched cgroup's parent: a parent of the test's own.
PARENT=$(make_cgroup pipehup)
CG=$(make_cgroup watched "$PARENT")
mkfifo "$T_DIR/pipe"
"$TFT" -n --batch --cgroup "$CG" >"$T_DIR/pipe" 2>"$T_DIR/err" &
T_TFT_PID=$!
bg_track "$T_TFT_PID"
head -1 <"$T_DIR/pipe" >"$T_DIR/first" || fail "head"
grep -q '^TIME ' "$T_DIR/first" || fail "no header line: $(cat "$T_DIR/first") $(cat "$T_DIR/err")"
# Bounded: a tcpflowtop that did not notice stays forever on this quiet cgroup.
wait_exit "$T_TFT_PID" 10
[ "$T_RC" = 0 ] || fail "exit status $T_RC: $(cat "$T_DIR/err")"
grep -q "flows seen" "$T_DIR/err" || fail "no summary: $(cat "$T_DIR/err")"
i=0
while bpftool cgroup show "$PARENT" 2>/dev/null | grep -q tft_; do
	[ "$i" -ge 50 ] && fail "programs still attached to $PARENT"
	sleep 0.1
	i=$((i + 1))
done
pass "the reader left: exit 0 at once, programs detached"
