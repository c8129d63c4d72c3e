#!/bin/bash
# Group views end to end: a real capture on a child cgroup, real loopback
# connections, the screen in a tmux pane. 30 connects to a listening port,
# then the listener closes and 10 more are refused: the remote-service view
# shows one group of 40 flows, 25.0 % refused; Enter narrows the flow table
# to it, Esc returns, e exports it. The by-process view shows the client
# (a copy of the peer with a name of its own) with the same 40 flows and the
# listener's copy with the 30 it accepted; Enter there shows the client's
# flows. The session is recorded (-w) and its replay through --group-by
# prints the same figures in text, CSV and JSON, by remote and by process.
#
#   test_tui_groups.sh TCPFLOWTOP TUI_PEER
#
# Needs root (BPF, cgroup), tmux, and a cgroup v2 mount; exits 77 without them.
set -u

BIN=$(realpath "$1")
PEER0=$(realpath "$2")

# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
# shellcheck source-path=SCRIPTDIR source=tui_lib.sh
. "$(dirname "$0")/tui_lib.sh"
require_root
command -v tmux >/dev/null || skip "needs tmux"
CGROOT=$(cgroup2_root)
[ -n "$CGROOT" ] || skip "no cgroup v2 mount"

CG=$CGROOT/tft-groups-test-$$
WORK=$(mktemp -d /tmp/tft-groups-test.XXXXXX)
chmod 1777 "$WORK" # tcpflowtop drops privileges: its recording and exports land here
# Distinctive command names: a process is named after its executable.
cp "$PEER0" "$WORK/tftgrpcli" && cp "$PEER0" "$WORK/tftgrpsrv" || { echo "copy failed"; exit 1; }
PEER=$WORK/tftgrpcli
SERVER=$WORK/tftgrpsrv
tui_server "tft-groups-$$" tft
LISTENER=
TFT_PID=

cleanup() {
	[ -n "$TFT_PID" ] && kill "$TFT_PID" 2>/dev/null
	"${T[@]}" kill-server 2>/dev/null
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	wait 2>/dev/null
	rmdir_retry "$CG"
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$CG" || skip "cannot create a cgroup under $CGROOT"

# The group row of 127.0.0.1:$P: REMOTE PORT FLOWS NEW/S ACCEPT REFUSED% UNANS% ...
group_row() { pane | awk -v p="$P" '$1 == "127.0.0.1" && $2 == p'; }
group_is() { group_row | awk -v f="$1" -v a="$2" -v r="$3" '$3 == f && $5 == a && $6 == r' | grep -q .; }
# The process row of command $1: PROCESS SERVICE FLOWS NEW/S ACCEPT REFUSED% ...
# (the service, the test cgroup's path, may be cut to fit).
proc_is() { pane | awk -v c="$1" -v f="$2" -v a="$3" -v r="$4" \
	'$1 == c && index($2, "/tft-groups-test-") == 1 && $3 == f && $5 == a && $6 == r' | grep -q .; }
flow_rows() { pane | grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} +out +127\.0\.0\.1'; }

P=$((20000 + RANDOM % 20000))
"$SERVER" -g "$CG" listen 127.0.0.1 "$P" >"$WORK/listener" &
LISTENER=$!
wait_for 5 grep -qs ready "$WORK/listener" || fail "listener"

"${T[@]}" new-session -d -s tft -x 120 -y 40 "bash --norc --noprofile" || fail "tmux"
"${T[@]}" set-option -t tft -g status off >/dev/null
keys "PS1='$ '" Enter
keys "sh -c 'echo \$\$ > $WORK/pid; exec $BIN -n --cgroup $CG -d 0.2 -w $WORK/rec.tftrec --export-dir $WORK'" Enter
wait_for 10 test -s "$WORK/pid" || fail "tcpflowtop did not start"
TFT_PID=$(cat "$WORK/pid")
wait_for 10 pane_has "^tcpflowtop on" || fail "the screen did not open"

"$PEER" -g "$CG" connect 127.0.0.1 "$P" 30 >/dev/null || fail "30 connects"
kill "$LISTENER"
wait "$LISTENER" 2>/dev/null
LISTENER=
"$PEER" -g "$CG" connect 127.0.0.1 "$P" 10 >/dev/null || fail "10 refused connects"

keys g
wait_for 5 pane_has "by remote service" || fail "g: no remote-service view"
wait_for 10 group_is 40 30 25.0 || fail "one group of 40 flows, 30 accepted, 25.0 % refused"
[ "$(pane | awk -v p="$P" '$2 == p' | wc -l)" -eq 1 ] || fail "the flows are in more than one group"
ok "g: one group 127.0.0.1:$P with 40 flows, 25.0 % refused"

# Sort and filter like the flow table.
keys '<'
wait_for 5 pane_has "sort port" || fail "< did not move the group sort to port"
keys /
"${T[@]}" send-keys -t tft -l "port:$P"
sleep 0.2
keys Enter
wait_for 5 pane_has "groups 1/" || fail "group filter port:$P"
group_is 40 30 25.0 || fail "filtered group row"
ok "group view sorts and filters"

# e: the view to CSV.
keys e
wait_for 5 pane_has "exported 1 rows to " || fail "group export"
CSV=$(pane | grep -oE "exported 1 rows to [^ ]+" | awk '{ print $5 }')
[ "$(stat -c %a "$CSV")" = 600 ] || fail "export mode"
head -1 "$CSV" | grep -q '^group_by,remote,port,flows' || fail "export header"
tail -n +2 "$CSV" | tr -d '\r' | awk -F, -v p="$P" '$2 == "127.0.0.1" && $3 == p && $4 == 40 && $6 == 30 && $7 == "25.0"' |
	grep -q . || fail "export row"
ok "e exports the group view"

# Enter: the flow table filtered to the group; Esc: back.
keys Enter
wait_for 5 pane_has "dport:$P" || fail "Enter did not set the flow filter"
wait_for 5 pane_has "rows 40/" || fail "Enter: 40 flows of the group"
[ "$(flow_rows)" -eq 35 ] || fail "a page of the group's flows"
pane | grep -E '^[0-9]{2}:' | awk -v p="$P" '$6 != p { bad = 1 } END { exit bad }' || fail "a flow of another port"
ok "Enter narrows the flow table to the group"
esc
wait_for 5 pane_has "by remote service" || fail "Esc did not return to the group view"
group_is 40 30 25.0 || fail "group row after Esc"
ok "Esc returns to the group view"
keys g
wait_for 5 pane_has "by local listener" || fail "g: no listener view"
keys g
wait_for 5 pane_has "by process" || fail "g: no process view"
wait_for 10 proc_is tftgrpcli 40 30 25.0 || fail "the client's row: 40 flows, 30 accepted, 25.0 % refused"
proc_is tftgrpsrv 30 30 0.0 || fail "the listener's row: the 30 flows it accepted"
ok "g: by process, the client and the listener in the test cgroup"
keys /
"${T[@]}" send-keys -t tft -l "tftgrpcli"
sleep 0.2
keys Enter
wait_for 5 pane_has "groups 1/" || fail "process filter"
keys Enter
wait_for 5 pane_has "proc:tftgrpcli svc:/${CG##*/}" || fail "Enter did not set proc: and svc:"
wait_for 5 pane_has "rows 40/" || fail "Enter: the client's 40 flows"
pane | grep -E '^[0-9]{2}:' | grep -qv ' out ' && fail "a flow not the client's"
ok "Enter on a process shows its flows"
esc
wait_for 5 pane_has "by process" || fail "Esc did not return to the process view"
keys g
wait_for 5 pane_has "filter none" || fail "g: back to flows"
keys q
wait_for 10 bash -c "! kill -0 $TFT_PID 2>/dev/null" || fail "q did not quit"
TFT_PID=

# The recording through --group-by: the same figures in the three formats.
R=$WORK/rec.tftrec
"$BIN" -r "$R" --group-by remote -f text >"$WORK/g.text" 2>/dev/null || fail "text replay"
"$BIN" -r "$R" --group-by remote -f csv >"$WORK/g.csv" 2>/dev/null || fail "csv replay"
"$BIN" -r "$R" --group-by remote -f json >"$WORK/g.json" 2>/dev/null || fail "json replay"
# flows accepted refused% unanswered% reset% retx p50 p95 max of the last block's group.
fig_text=$(awk -v p="$P" '/^# / { blk = "" } $1 == "127.0.0.1" && $2 == p { blk = $3" "$5" "$6" "$7" "$8" "$9" "$10" "$11" "$12 } END { print blk }' "$WORK/g.text")
fig_csv=$(awk -F, -v p="$P" '$3 == "127.0.0.1" && $4 == p { l = $5" "$7" "$8" "$9" "$10" "$11" "$12" "$13" "$14 } END { print l }' "$WORK/g.csv")
fig_json=$(python3 - "$WORK/g.json" "$P" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["remote"] == "127.0.0.1" and r["port"] == int(sys.argv[2]):
        last = r
k = ["flows", "accepted", "refused_pct", "unanswered_pct", "reset_pct", "syn_retrans",
     "handshake_p50_ms", "handshake_p95_ms", "handshake_max_ms"]
print(" ".join("%.1f" % last[x] if x.endswith("pct") else "%.3f" % last[x] if x.endswith("ms") else str(last[x]) for x in k))
PY
)
echo "text: $fig_text"
echo "csv:  $fig_csv"
echo "json: $fig_json"
[ -n "$fig_text" ] || fail "no group in the text blocks"
[ "$(echo "$fig_text" | awk '{ print $1, $2, $3 }')" = "40 30 25.0" ] || fail "text figures"
[ "$fig_text" = "$fig_csv" ] || fail "CSV figures differ from text"
[ "$fig_text" = "$fig_json" ] || fail "JSON figures differ from text"
ok "--group-by replay: the same figures in text, CSV and JSON"

# By process: the client's row in the three formats (PROCESS SERVICE FLOWS NEW/S ACCEPT REFUSED%).
"$BIN" -r "$R" --group-by process -f text >"$WORK/p.text" 2>/dev/null || fail "text replay by process"
"$BIN" -r "$R" --group-by process -f csv >"$WORK/p.csv" 2>/dev/null || fail "csv replay by process"
"$BIN" -r "$R" --group-by process -f json >"$WORK/p.json" 2>/dev/null || fail "json replay by process"
svc="/${CG##*/}"
p_text=$(awk -v s="$svc" '/^# / { blk = "" } $1 == "tftgrpcli" && $2 == s { blk = $3" "$5" "$6 } END { print blk }' "$WORK/p.text")
p_csv=$(awk -F, -v s="$svc" '$3 == "tftgrpcli" && $4 == s { l = $5" "$7" "$8 } END { print l }' "$WORK/p.csv")
p_json=$(python3 - "$WORK/p.json" "$svc" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["group_by"] == "process" and r["comm"] == "tftgrpcli" and r["service"] == sys.argv[2]:
        last = r
print("%d %d %.1f" % (last["flows"], last["accepted"], last["refused_pct"]) if last else "")
PY
)
echo "process text: $p_text  csv: $p_csv  json: $p_json"
[ "$p_text" = "40 30 25.0" ] || fail "process text figures"
[ "$p_csv" = "$p_text" ] && [ "$p_json" = "$p_text" ] || fail "process figures differ between formats"
ok "--group-by process replay: the client's row in text, CSV and JSON"
echo "all group view tests passed"
