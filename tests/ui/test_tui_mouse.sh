#!/usr/bin/env bash
# The mouse, for real: the screen runs in tmux, a real xterm on a virtual X
# server shows it, and xdotool clicks a column title as a hand does (press,
# hold, release): the sort moves there, a second click inverts it, and the
# screen keeps running after each click, whichever button.
#   test_tui_mouse.sh TCPFLOWTOP
set -u
BIN=$1
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
# shellcheck source-path=SCRIPTDIR source=tui_lib.sh
. "$(dirname "$0")/tui_lib.sh"
require_root
for t in tmux Xvfb xterm xdotool; do
	command -v "$t" >/dev/null || skip "$t missing (packages tmux xvfb xterm xdotool)"
done

root=$(cgroup2_root)
cg="$root/tft-mouse-$$"
tui_server "tft-mouse-$$" mouse
tmpd=$(mktemp -d /tmp/tft-mouse.XXXXXX)
pids=()
cleanup() {
	"${T[@]}" kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmpd"
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"

# Xvfb picks a free display and writes its number once it accepts clients.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmpd/display" >"$tmpd/xvfb.log" 2>&1 &
pids+=($!)
has_display() { [ -s "$tmpd/display" ]; }
wait_for 10 has_display || { cat "$tmpd/xvfb.log"; fail "Xvfb did not start"; }
disp=:$(head -1 "$tmpd/display")
"${T[@]}" new-session -d -s mouse -x 100 -y 20 "env TERM=xterm $BIN -n --cgroup $cg -d 0.2"
"${T[@]}" set-option -g status off >/dev/null
# xterm tells its child its window id: no searching, no guessing which window.
DISPLAY=$disp xterm -geometry 100x20+0+0 -fa "DejaVu Sans Mono" -fs 11 \
	-e sh -c 'echo "$WINDOWID" >"$1.tmp" && mv "$1.tmp" "$1" && shift && exec "$@"' sh "$tmpd/win" "${T[@]}" attach \
	>"$tmpd/xterm.log" 2>&1 &
pids+=($!)
has_win() { [ -s "$tmpd/win" ]; }
wait_for 10 has_win || { cat "$tmpd/xterm.log"; fail "xterm did not start"; }
win=$(cat "$tmpd/win")
attached() { [ -n "$("${T[@]}" list-clients 2>/dev/null)" ]; }
wait_for 10 attached || fail "xterm did not attach to the session"
# The window is mapped and sized once xdotool reports its final geometry twice alike.
geom() { DISPLAY=$disp xdotool getwindowgeometry "$win" | awk '/Geometry/ { print $2 }'; }
settled() { local a; a=$(geom); sleep 0.3; [ -n "$a" ] && [ "$a" = "$(geom)" ]; }
wait_for 10 settled || fail "xterm window did not settle"
wait_for 10 pane_has 'sort time desc' || fail "screen did not start"

# The column title row is the 4th line; click the middle of DPORT's title.
read -r w h < <(DISPLAY=$disp xdotool getwindowgeometry "$win" | awk '/Geometry/ { split($2, a, "x"); print a[1], a[2] }')
# press BUTTON at X Y, hold it as a hand does, release: press and release reach
# the program in separate reads, which is what froze the screen once.
hand_click() {
	DISPLAY=$disp xdotool mousemove --window "$win" "$2" "$3" mousedown "$1"
	sleep 0.15
	DISPLAY=$disp xdotool mouseup "$1"
}
title_y=$((3 * h / 20 + h / 40))
click_title() {
	local title=$1 col line
	# the sort mark is a 3-byte UTF-8 arrow one column wide: count it as one
	line=$(pane | sed -n 4p | sed 's/[▼▲]/v/g')
	col=$(awk -v l="$line" -v t="$title" 'BEGIN { print index(l, t) - 1 }')
	[ "$col" -ge 0 ] || fail "no $title title"
	hand_click 1 $(((col + 2) * w / 100)) "$title_y"
}
# The header's clock moves every second: a screen stuck in a read does not.
clocks() { pane | grep -oE 'up [0-9]+:[0-9]{2}:[0-9]{2}'; }
uptime_now() { clocks | head -1; }
clock_moved_from() { clocks | grep -vqx "$1"; }
still_running() {
	local before
	before=$(uptime_now)
	[ -n "$before" ] || fail "no clock in the header"
	wait_for 4 clock_moved_from "$before" || fail "the screen froze after $1 (clock stuck at '$before')"
}

click_title DPORT
wait_for 5 pane_has 'sort dport asc' || fail "a click on DPORT did not sort by it"
still_running "a left click"
click_title DPORT
wait_for 5 pane_has 'sort dport desc' || fail "a second click did not invert"
click_title STATE
wait_for 5 pane_has 'sort state' || fail "a click on STATE did not sort by it"
# Middle and right buttons do nothing, and must not stop the screen either.
hand_click 2 $((w / 2)) $((h / 2))
hand_click 3 $((w / 2)) $((h / 2))
still_running "a middle and a right click"
pane_has 'sort state' || fail "another button changed the sort"
echo "PASS: clicking a column title sorts by it, again inverts; the screen runs on after every click"
