#!/usr/bin/env bash
# The mouse, for real: the screen runs in tmux, a real xterm on a virtual X
# server shows it, and xdotool clicks a column title: the sort moves there, a
# second click inverts it.
#   test_tui_mouse.sh TCPFLOWTOP
set -u
BIN=$1
. "$(dirname "$0")/../e2e/lib.sh"
require_root
for t in tmux Xvfb xterm xdotool; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (packages tmux xvfb xterm xdotool)" >&2; exit 77; }
done

root=$(cgroup2_root)
cg="$root/tft-mouse-$$"
T=(tmux -L "tft-mouse-$$" -f /dev/null)
disp=:$((200 + $$ % 300))
pids=()
cleanup() {
	"${T[@]}" kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"

Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
wait_for 5 xdotool version >/dev/null 2>&1 || true
"${T[@]}" new-session -d -x 100 -y 20 "env TERM=xterm $BIN --cgroup $cg -d 0.2"
"${T[@]}" set-option -g status off >/dev/null
sleep 0.5
DISPLAY=$disp xterm -geometry 100x20+0+0 -fa "DejaVu Sans Mono" -fs 11 -e "${T[@]}" attach >/dev/null 2>&1 &
pids+=($!)
win=
find_win() { win=$(DISPLAY=$disp xdotool search --class xterm 2>/dev/null | head -1); [ -n "$win" ]; }
wait_for 10 find_win || fail "no xterm window"
attached() { [ -n "$("${T[@]}" list-clients 2>/dev/null)" ]; }
wait_for 10 attached || fail "xterm did not attach to the session"
# The window is mapped and sized once xdotool reports its final geometry twice alike.
geom() { DISPLAY=$disp xdotool getwindowgeometry "$win" | awk '/Geometry/ { print $2 }'; }
settled() { local a; a=$(geom); sleep 0.3; [ -n "$a" ] && [ "$a" = "$(geom)" ]; }
wait_for 10 settled || fail "xterm window did not settle"
pane() { "${T[@]}" capture-pane -p; }
wait_for 10 bash -c "$(declare -p T); \"\${T[@]}\" capture-pane -p | grep -q 'sort time desc'" ||
	fail "screen did not start"

# The column title row is the 4th line; click the middle of DPORT's title.
read -r w h < <(DISPLAY=$disp xdotool getwindowgeometry "$win" | awk '/Geometry/ { split($2, a, "x"); print a[1], a[2] }')
click_title() {
	local title=$1 col line
	# the sort mark is a 3-byte UTF-8 arrow one column wide: count it as one
	line=$(pane | sed -n 4p | sed 's/[▼▲]/v/g')
	col=$(awk -v l="$line" -v t="$title" 'BEGIN { print index(l, t) - 1 }')
	[ "$col" -ge 0 ] || fail "no $title title"
	DISPLAY=$disp xdotool mousemove --window "$win" $(((col + 2) * w / 100)) $((3 * h / 20 + h / 40)) click 1
}
click_title DPORT
wait_for 5 bash -c "$(declare -p T); \"\${T[@]}\" capture-pane -p | grep -q 'sort dport asc'" ||
	{ pane; fail "a click on DPORT did not sort by it"; }
click_title DPORT
wait_for 5 bash -c "$(declare -p T); \"\${T[@]}\" capture-pane -p | grep -q 'sort dport desc'" ||
	{ pane; fail "a second click did not invert"; }
click_title STATE
wait_for 5 bash -c "$(declare -p T); \"\${T[@]}\" capture-pane -p | grep -q 'sort state'" ||
	{ pane; fail "a click on STATE did not sort by it"; }
echo "PASS: clicking a column title sorts by it, again inverts"
