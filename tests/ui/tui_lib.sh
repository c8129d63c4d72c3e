# Shared helpers for the screen's tmux tests (sourced after ../e2e/lib.sh).
# shellcheck shell=bash

# tui_server SOCKET SESSION: T runs tmux on a server of the test's own (socket
# SOCKET, no user config); the helpers below act on its session SESSION.
tui_server() {
	T=(tmux -L "$1" -f /dev/null)
	TUI_SESSION=$2
}

pane() { "${T[@]}" capture-pane -p -t "$TUI_SESSION"; }
# pane_has ERE: the pane shows a line matching ERE.
pane_has() { pane | grep -qE -- "$1"; }
keys() {
	"${T[@]}" send-keys -t "$TUI_SESSION" "$@"
	sleep 0.15
}
# Esc alone: a key right after it would read as Alt+key.
esc() {
	sleep 0.1
	"${T[@]}" send-keys -t "$TUI_SESSION" Escape
	sleep 0.3
}
ok() { echo "ok: $*"; }

# A failure shows what the screen showed (nothing before the session exists).
fail() {
	echo "FAIL: $*"
	echo "--- pane:"
	pane 2>/dev/null
	exit 1
}
