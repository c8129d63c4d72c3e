#!/bin/bash
# End-to-end test of the screen: a real terminal (a tmux pane of known size),
# real capture on a child cgroup, real loopback connections. Drives the keys
# and checks what the pane shows.
#
#   test_tui.sh TCPFLOWTOP TCP_PEER
#
# Needs root (BPF, cgroup), tmux, and a cgroup v2 mount; exits 77 without them.
set -u

BIN=$(realpath "$1")
PEER=$(realpath "$2")

# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
# shellcheck source-path=SCRIPTDIR source=tui_lib.sh
. "$(dirname "$0")/tui_lib.sh"
require_root
command -v tmux >/dev/null || skip "needs tmux"
CGROOT=$(cgroup2_root)
[ -n "$CGROOT" ] || skip "no cgroup v2 mount"

# The programs go on the watched cgroup's parent: a parent of the test's own.
CGP=$CGROOT/tft-tui-test-$$
CG=$CGP/watched
WORK=$(mktemp -d /tmp/tft-tui-test.XXXXXX)
# tcpflowtop drops to the sudo user or nobody once attached: its exports land here.
chmod 1777 "$WORK"
tui_server "tft-test-$$" tft
LISTENERS=()
TFT_PID=

cleanup() {
	if [ -n "$TFT_PID" ] && kill -0 "$TFT_PID" 2>/dev/null; then
		kill "$TFT_PID"
	fi
	"${T[@]}" kill-server 2>/dev/null
	for p in "${LISTENERS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	# The listener in the cgroup is gone now; the cgroup can go.
	rmdir_retry "$CG" "$CGP"
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$CGP" "$CG" || skip "cannot create a cgroup under $CGROOT"

# Rows of the table: lines that start with a time stamp.
rows() { pane | grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} '; }
nrows() { rows | wc -l; }
nrows_is() { [ "$(nrows)" -eq "$1" ]; }
# The column header is the pane's fourth line.
colhdr_has() { pane | sed -n 4p | grep -qE -- "$1"; }
# The header's "rows SHOWN/HELD".
shown_is() { pane | grep -qE "rows $1/"; }
type_text() {
	"${T[@]}" send-keys -t tft -l "$1"
	sleep 0.15
}

P1=$((20000 + RANDOM % 20000)) # listener outside the cgroup: outgoing flows
P2=$((P1 + 1))                 # listener inside the cgroup: incoming flows
P3=$((P1 + 2))                 # nothing listens: refused

"$PEER" listen 0.0.0.0 "$P1" >"$WORK/l1" &
LISTENERS+=($!)
"$PEER" -g "$CG" listen 0.0.0.0 "$P2" >"$WORK/l2" &
LISTENERS+=($!)
wait_for 5 grep -q ready "$WORK/l1" || fail "listener 1"
wait_for 5 grep -q ready "$WORK/l2" || fail "listener 2"

COLS_OPT=time,dir,src,sport,dst,dport,state,retx,hs
start_tft() {
	rm -f "$WORK/pid"
	# sh records its PID and becomes tcpflowtop: the PID we signal is one we started.
	keys "sh -c 'echo \$\$ > $WORK/pid; exec $BIN -n --cgroup $CG -o $COLS_OPT -d 0.2 --export-dir $WORK'" Enter
	wait_for 10 test -s "$WORK/pid" || fail "tcpflowtop did not start"
	TFT_PID=$(cat "$WORK/pid")
	wait_for 10 pane_has "^tcpflowtop on" || fail "the screen did not open"
}

shell_usable() {
	local tag="ok-$RANDOM$RANDOM"

	[ "$("${T[@]}" display -p -t tft '#{alternate_on}')" = 0 ] || fail "still on the alternate screen"
	keys "echo $tag" Enter
	# The typed command echoes and runs: echo and line mode are back.
	wait_for 5 pane_has "^$tag\$" || fail "the shell does not answer after $1"
	pane_has "echo $tag" || fail "typing is not echoed after $1"
}

"${T[@]}" new-session -d -s tft -x 120 -y 40 "bash --norc --noprofile" || fail "tmux"
"${T[@]}" set-option -t tft -g status off >/dev/null
keys "PS1='$ '" Enter
start_tft

# --- rows appear
"$PEER" -g "$CG" connect 127.0.0.1 "$P1" 5 >"$WORK/out1"
"$PEER" connect 127.0.0.1 "$P2" 3 >"$WORK/in1"
"$PEER" -g "$CG" connect 127.0.0.1 "$P3" 2 >"$WORK/refused1"
"$PEER" -g "$CG" connect 127.0.0.2 "$P1" 2 >"$WORK/other1"
wait_for 10 nrows_is 12 || fail "expected 12 rows"
for p in $(cat "$WORK/out1"); do
	rows | awk -v p="$p" -v d="$P1" '$2 == "out" && $4 == p && $6 == d && $7 ~ /^(accepted|established|closed)$/' |
		grep -q . || fail "outgoing flow from port $p missing"
done
[ "$(rows | awk -v d="$P2" '$2 == "in" && $6 == d && $7 ~ /^(accepted|established|closed)$/' | wc -l)" -eq 3 ] ||
	fail "3 incoming flows expected"
[ "$(rows | awk -v d="$P3" '$2 == "out" && $6 == d && $7 == "refused"' | wc -l)" -eq 2 ] ||
	fail "2 refused flows expected"
ok "12 rows with direction, ports and state"
rows | awk '{ print $1 }' | sort -rc || fail "rows are not newest first"
ok "newest first"

# --- C hides the flows that ended (at least the 2 refused ones), C again shows them
ended=$(rows | awk '$7 ~ /^(refused|closed|unanswered|half-open)$/' | wc -l)
[ "$ended" -ge 2 ] || fail "the refused flows count as ended"
keys C
wait_for 5 pane_has "filter open only" || fail "C: the header does not say open only"
wait_for 5 nrows_is $((12 - ended)) || fail "C: $ended ended rows not hidden"
rows | awk '$7 ~ /^(refused|closed|unanswered|half-open)$/' | grep -q . && fail "C: an ended row shows"
keys C
wait_for 5 nrows_is 12 || fail "C again: the ended rows are back"
ok "C hides the $ended ended rows and shows them again"

# --- sort: > moves the sort column right (time -> dir -> src -> sport -> dst -> dport)
keys '>' '>' '>' '>' '>'
wait_for 5 pane_has "sort dport asc" || fail "sort did not move to dport"
colhdr_has 'DPORT(▲|\^)' || fail "DPORT header not marked ascending"
rows | awk '{ print $6 }' | sort -nc || fail "rows not ascending by dport"
keys I
wait_for 5 pane_has "sort dport desc" || fail "I did not invert"
colhdr_has 'DPORT(▼|v)' || fail "DPORT header not marked descending"
rows | awk '{ print $6 }' | sort -nrc || fail "rows not descending by dport"
keys '<'
wait_for 5 pane_has "sort dst asc" || fail "< did not move left"
# F6 menu back to TIME (the first entry), which sorts newest first.
keys F6
wait_for 5 pane_has "Sort by" || fail "F6 menu"
for _ in $(seq 12); do keys Up; done
keys Enter
wait_for 5 pane_has "sort time desc" || fail "F6 did not sort by time"
ok "sort by keys, invert, sort menu"

# --- filter by port, on every keystroke; a bad term shows an error
keys /
type_text "port $P2"
wait_for 5 nrows_is 3 || fail "port filter while typing"
rows | awk -v d="$P2" '$6 != d { bad = 1 } END { exit bad }' || fail "port filter leaks"
keys Enter
wait_for 5 pane_has "filter /port $P2" || fail "filter kept after Enter"
keys / C-u
type_text "port"
wait_for 5 pane_has '"port" needs a list' || fail "bad term has no message"
kill -0 "$TFT_PID" || fail "a bad term killed the screen"
esc
wait_for 5 nrows_is 12 || fail "Esc did not clear"
pane_has "filter none" || fail "filter not cleared"
keys p
type_text "$P3"
keys Enter
wait_for 5 nrows_is 2 || fail "p port list"
keys p C-u Enter
wait_for 5 nrows_is 12 || fail "empty port list clears"
ok "filter by port (/ and p), bad term, Esc clears"

# --- direction: d cycles all -> in -> out -> all
keys d
wait_for 5 nrows_is 3 || fail "d: incoming"
rows | awk '$2 != "in" { bad = 1 } END { exit bad }' || fail "d: only incoming"
keys d
wait_for 5 nrows_is 9 || fail "d: outgoing"
rows | awk '$2 != "out" { bad = 1 } END { exit bad }' || fail "d: only outgoing"
keys d
wait_for 5 nrows_is 12 || fail "d: all"
ok "filter by direction"

# --- text: a word that is part of an address
keys /
type_text "127.0.0.2"
keys Enter
wait_for 5 nrows_is 2 || fail "text filter"
rows | awk '$5 != "127.0.0.2" { bad = 1 } END { exit bad }' || fail "text filter leaks"
keys /
esc
wait_for 5 nrows_is 12 || fail "text filter clear"
ok "filter by text"

# --- pause: capture goes on, rows stay hidden until unpaused
keys Space
wait_for 5 pane_has "PAUSED" || fail "no PAUSED"
"$PEER" -g "$CG" connect 127.0.0.1 "$P1" 3 >"$WORK/paused"
wait_for 10 pane_has "PAUSED, 3 new since" || fail "paused header does not count new flows"
nrows_is 12 || fail "new rows shown while paused"
for p in $(cat "$WORK/paused"); do
	rows | awk -v p="$p" '$4 == p' | grep -q . && fail "flow $p shown while paused"
done
keys Space
wait_for 5 nrows_is 15 || fail "unpause did not show the new rows"
for p in $(cat "$WORK/paused"); do
	rows | awk -v p="$p" '$4 == p' | grep -q . || fail "flow $p missing after unpause"
done
pane_has PAUSED && fail "still PAUSED"
ok "pause keeps capturing, unpause shows all"

# --- export: the filtered, sorted rows, all of them, not just the page
"$PEER" -g "$CG" connect 127.0.0.1 "$P1" 40 >/dev/null
wait_for 10 shown_is 55 || fail "55 rows expected"
keys /
type_text "out port $P1"
keys Enter
wait_for 5 shown_is 50 || fail "filter out port $P1 should leave 50"
keys '>' '>' '>' # sort by sport ascending
wait_for 5 pane_has "sort sport asc" || fail "sort sport"
keys e
wait_for 5 pane_has "exported 50 rows to " || fail "export message"
CSV=$(pane | grep -oE "exported 50 rows to [^ ]+" | awk '{ print $5 }')
[ -f "$CSV" ] || fail "no file $CSV"
[ "$(stat -c %a "$CSV")" = 600 ] || fail "CSV mode is not 600"
head -1 "$CSV" | grep -q '^time,id,direction' || fail "CSV header"
[ "$(tail -n +2 "$CSV" | wc -l)" -eq 50 ] || fail "CSV should hold 50 rows"
tail -n +2 "$CSV" | tr -d '\r' | awk -F, -v d="$P1" '$3 != "out" || $8 != d { bad = 1 } END { exit bad }' ||
	fail "CSV holds rows the filter hides"
tail -n +2 "$CSV" | cut -d, -f6 >"$WORK/csv_ports"
rows | awk '{ print $4 }' >"$WORK/screen_ports"
[ "$(wc -l <"$WORK/screen_ports")" -eq 35 ] || fail "a page of 35 rows expected"
head -35 "$WORK/csv_ports" | cmp -s - "$WORK/screen_ports" || fail "CSV order differs from the screen"
sort -nc "$WORK/csv_ports" || fail "CSV not in the view's sort order"
kill -USR1 "$TFT_PID"
wait_for 5 bash -c "ls $WORK/tcpflowtop-*.csv | wc -l | grep -qx 2" || fail "SIGUSR1 did not export"
CSV2=$(ls -t "$WORK"/tcpflowtop-*.csv | head -1)

cmp -s <(tail -n +2 "$CSV" | cut -d, -f2) <(tail -n +2 "$CSV2" | cut -d, -f2) ||
	fail "SIGUSR1 export differs"

# --- a read-only export directory: an error in the footer, and the screen goes on
chmod 0555 "$WORK"
keys e
wait_for 5 pane_has "export to .* failed" || { chmod 1777 "$WORK"; fail "no export error in the footer"; }
chmod 1777 "$WORK"
kill -0 "$TFT_PID" || fail "tcpflowtop died on a failed export"
keys e
wait_for 5 pane_has "exported 50 rows to " || fail "export after the error"
ok "read-only export directory: footer error, then exports again"
ok "export (e and SIGUSR1): same rows, same order, mode 0600"

# --- resize
"${T[@]}" resize-window -t tft -x 80 -y 24
wait_for 5 colhdr_has HS_MS || fail "80x24 header"
sleep 0.3
colhdr_has RETX && fail "80 columns should drop RETX"
nrows_is 19 || fail "80x24 shows 19 rows"
"${T[@]}" resize-window -t tft -x 40 -y 20
wait_for 5 colhdr_has '^DIR' || fail "40x20 header"
pane | awk 'length > 40 { bad = 1 } END { exit bad }' || fail "a line wider than 40"
pane | grep -qE '^out +127\.0\.0\.1' || fail "40 columns rows"
"${T[@]}" resize-window -t tft -x 120 -y 40
wait_for 5 colhdr_has '^TIME' || fail "back to 120x40"
ok "resize 80x24, 40x20, 120x40"

# --- n hides the name columns; the header says so, without the cache figures beside it
keys n
wait_for 5 pane_has "name columns hidden" || fail "n: header does not say the columns are hidden"
pane_has "names [0-9]+ \(hit" && fail "n: the names figures still show beside hidden columns"
keys n
wait_for 5 pane_has "names [0-9]+ \(hit" || fail "n again: names figures back"
pane_has "name columns hidden" && fail "n again: still hidden"
ok "n: name columns hidden and shown, header honest"

# --- help and detail
keys h
wait_for 5 pane_has "this help" || fail "help screen"
keys x
wait_for 5 pane_has "^tcpflowtop on" || fail "help did not close"
keys Home Enter
wait_for 5 pane_has "Flow detail" || fail "detail view"
pane_has "destination +127\.0\.0\.[12] port $P1" || fail "detail shows the flow"
esc
wait_for 5 pane_has "^tcpflowtop on" || fail "detail did not close"
ok "help and detail"

# --- quit with q: the shell is usable again
keys q
wait_for 10 bash -c "! kill -0 $TFT_PID 2>/dev/null" || fail "q did not quit"
TFT_PID=
wait_for 5 pane_has "flows seen" || fail "no summary after the screen closed"
shell_usable "q"
# Nothing stays attached once the screen is gone (links die with the process).
if command -v bpftool >/dev/null; then
	bpftool cgroup show "$CGP" | grep -q tft_ && fail "programs still attached to $CGP after q"
fi
ok "q restores the terminal and detaches"

# --- SIGTERM
start_tft
kill -TERM "$TFT_PID"
wait_for 10 bash -c "! kill -0 $TFT_PID 2>/dev/null" || fail "SIGTERM did not quit"
TFT_PID=
shell_usable "SIGTERM"
ok "SIGTERM restores the terminal"

# --- a terminal that cannot place the cursor: a clear error, nothing drawn
keys "clear; TERM=dumb $BIN -n --cgroup $CG; echo rc=\$?" Enter
wait_for 10 pane_has "^rc=" || fail "TERM=dumb did not end"
pane_has "^rc=1\$" || fail "TERM=dumb should exit 1"
pane_has "TERM=dumb cannot place the cursor" || fail "TERM=dumb: no clear error"
pane_has "^tcpflowtop on" && fail "TERM=dumb drew the screen"
shell_usable "TERM=dumb"
ok "TERM=dumb is refused with a clear error"

echo "all screen tests passed"
