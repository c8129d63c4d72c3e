#!/bin/bash
# Regenerates screenshots/*.png from a real run: tcpflowtop on a test cgroup
# with real loopback traffic, in tmux, shown by xterm on a virtual X server
# and grabbed with ImageMagick's import.
#
#   sudo screenshots/make.sh [BUILD_DIR]      (default: build)
#
# Debian packages: tmux xvfb xterm x11-utils imagemagick fonts-dejavu-core
#   apt-get install -y tmux xvfb xterm x11-utils imagemagick fonts-dejavu-core
# Names: a dnsmasq of the script's own on 127.0.0.1 answers the forward lookups
# made from the cgroup (observed names) and the reverse ones (~names).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(realpath "${1:-$ROOT/build}")
BIN=$BUILD/tcpflowtop
PEER=$BUILD/tests/tui_peer
DNSQ=$BUILD/tests/tcp_peer
DNSPORT=53997
OUT=$ROOT/screenshots
[ "$(id -u)" = 0 ] || { echo "make.sh: run as root (BPF, cgroup)" >&2; exit 1; }
for t in tmux Xvfb xterm import xwininfo dnsmasq; do
	command -v "$t" >/dev/null || { echo "make.sh: $t missing (see the package list at the top)" >&2; exit 1; }
done
[ -x "$BIN" ] && [ -x "$PEER" ] && [ -x "$DNSQ" ] || { echo "make.sh: build first (cmake --build $BUILD)" >&2; exit 1; }

CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
CG=$CGROOT/tft-shots-$$
WORK=$(mktemp -d /tmp/tft-shots.XXXXXX)
T=(tmux -L tft-shots-$$ -f /dev/null)
DISP=:$((90 + $$ % 100))
PIDS=()
cleanup() {
	"${T[@]}" kill-server 2>/dev/null || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for _ in $(seq 50); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$CG"

dnsmasq --no-daemon --port=$DNSPORT --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --conf-file=/dev/null \
	--host-record=db.prod.example,127.0.0.10 --host-record=cache.prod.example,127.0.0.11 \
	--host-record=api-1.prod.example,127.0.0.12 --cname=api.example.com,api-1.prod.example \
	--host-record=search.prod.example,127.0.0.13 \
	--ptr-record=2.0.0.127.in-addr.arpa,laptop-ann.office.example \
	--ptr-record=3.0.0.127.in-addr.arpa,build-07.ci.example \
	--ptr-record=7.0.0.127.in-addr.arpa,vpn-gw.office.example \
	--ptr-record=1.0.0.127.in-addr.arpa,localhost 2>/dev/null & PIDS+=($!)

# Services outside the cgroup (outgoing flows) and one inside (incoming flows).
i=10
for p in 5432 6379 8443 9200; do
	"$PEER" listen 127.0.0.$i $p >/dev/null & PIDS+=($!)
	i=$((i + 1))
done
"$PEER" -g "$CG" listen 0.0.0.0 8080 >/dev/null & PIDS+=($!)
sleep 0.5

Xvfb "$DISP" -screen 0 1920x1200x24 -nolisten tcp >/dev/null 2>&1 & PIDS+=($!)
sleep 1

"${T[@]}" new-session -d -s shot -x 120 -y 40 \
	"env LANG=C.UTF-8 TERM=screen-256color $BIN --cgroup $CG -d 0.5 --dns-port $DNSPORT --dns-server 127.0.0.1:$DNSPORT"
"${T[@]}" set-option -g status off >/dev/null
sleep 1

# A mix: outgoing accepted, refused, incoming from several loopback addresses.
# Lookups from inside the cgroup, so tcpflowtop sees the answers.
resolve() {
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$DNSQ" resolve 127.0.0.1 $DNSPORT "$1" >/dev/null
}
traffic() {
	resolve db.prod.example
	resolve cache.prod.example
	resolve api.example.com
	resolve search.prod.example
	"$PEER" -g "$CG" connect 127.0.0.10 5432 4 >/dev/null
	"$PEER" -g "$CG" connect 127.0.0.11 6379 6 >/dev/null
	"$PEER" -g "$CG" connect 127.0.0.12 8443 3 >/dev/null
	"$PEER" -g "$CG" connect 127.0.0.10 9201 2 >/dev/null # nothing listens: refused
	for a in 127.0.0.2 127.0.0.3 127.0.0.7 127.0.0.42; do
		"$PEER" connect "$a" 8080 2 >/dev/null
	done
	"$PEER" -g "$CG" connect ::1 9999 1 >/dev/null || true
	"$PEER" -g "$CG" connect 127.0.0.13 9200 3 >/dev/null
}

# xterm COLSxROWS attached to the session; prints its window id.
attach() {
	xterm -display "$DISP" -geometry "$1+0+0" -fa "DejaVu Sans Mono" -fs 11 \
		-bg '#1c1c1c' -fg '#d0d0d0' -xrm 'XTerm*locale: true' \
		-e "${T[@]}" attach -t shot >/dev/null 2>&1 &
	PIDS+=($!)
	XTERM_PID=$!
	sleep 1.5
}
shot() {
	sleep "${2:-1.2}"
	import -display "$DISP" -window root -crop "$(xwininfo -display "$DISP" -root -children |
		awk '/xterm|tmux/ { print $0; exit }' | grep -oE '[0-9]+x[0-9]+\+[0-9]+\+[0-9]+' |
		head -1 | sed 's/+[0-9]*+[0-9]*$/+0+0/')" +repage "$OUT/$1.png"
	echo "wrote $OUT/$1.png"
}
keys() { "${T[@]}" send-keys -t shot "$@"; sleep 0.3; }

attach 120x40
traffic
sleep 1
traffic
"$PEER" -g "$CG" connect 127.0.0.10 5432 2 >/dev/null
keys Down Down Down
shot main-120x40

keys /
"${T[@]}" send-keys -t shot -l "out !9201"
sleep 0.3
keys Enter
keys '>' '>' '>' '>' '>'
shot filtered

keys h
shot help
keys x

# The group views: by remote service, by local listener, by process, back to the flows.
keys / Escape
keys g
shot groups-remote
keys g
shot groups-listener
keys g
shot groups-process
keys g

kill "$XTERM_PID"
sleep 0.5
keys / Escape
sleep 0.3
attach 80x24
"${T[@]}" resize-window -t shot -A 2>/dev/null || true
keys Home
"$PEER" -g "$CG" connect 127.0.0.11 6379 2 >/dev/null
shot small-80x24
