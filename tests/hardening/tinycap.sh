#!/bin/sh
# A storm against a tiny --capacity: flows are evicted while still pending
# and their answers arrive after they left. Only a flow still held with no
# answer is "unanswered", so the summary never reports more unanswered
# flows than connections that failed; the evicted pending flows are counted
# as such, and every flow seen is accounted for exactly once.
. "$(dirname "$0")/lib.sh"
TFT=$1
CONNSTORM=$2
need_root

CG=$(make_cgroup tinycap)
# Capacity 1 with client and server both watched: a connection's SYN is seen
# leaving (the outgoing flow) then arriving (the incoming flow, which evicts
# the outgoing one while it is pending), always before its SYN-ACK.
start_tft "$T_DIR/out" "$T_DIR/err" --batch --format csv --capacity 1 --cgroup "$CG" --duration 60
in_cgroup "$CG" "$CONNSTORM" -n 1000 -c 4 -t 30 >"$T_DIR/storm" || fail "connstorm: $(cat "$T_DIR/storm")"
sleep 0.3 # two drain periods
kill -INT "$T_TFT_PID"
wait_exit "$T_TFT_PID" 10
[ "$T_RC" = 0 ] || fail "tcpflowtop exited $T_RC: $(tail -3 "$T_DIR/err")"
log "storm: $(cat "$T_DIR/storm")"
summary=$(grep "flows seen" "$T_DIR/err")
log "summary: $summary"
failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$T_DIR/storm")
set -- $(echo "$summary" | sed -n 's/.*: \([0-9]*\) flows seen ([0-9]* in, [0-9]* out; \([0-9]*\) accepted, \([0-9]*\) refused, \([0-9]*\) unanswered, \([0-9]*\) unsure), \([0-9]*\) events lost, \([0-9]*\) flows evicted (\([0-9]*\) pending).*/\1 \2 \3 \4 \5 \6 \7 \8/p')
[ $# = 8 ] || fail "summary not understood: $summary"
seen=$1 accepted=$2 refused=$3 unanswered=$4 unsure=$5 lost=$6 evicted=$7 evicted_pending=$8
[ "$lost" = 0 ] || log "events lost: $lost (unsure flows allowed)"
[ "$evicted_pending" -gt 0 ] || fail "no pending flow was evicted: the test proves nothing"
[ "$unanswered" -le "$failed" ] || fail "$unanswered unanswered flows for $failed failed connections"
[ $((accepted + refused + unanswered + unsure + evicted_pending)) = "$seen" ] ||
	fail "accepted + refused + unanswered + unsure + evicted pending != seen ($seen)"
pass "$unanswered unanswered for $failed failed connections; $evicted_pending evicted pending, counted apart"
