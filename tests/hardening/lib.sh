# Shared helpers for tests/hardening/*.sh (sourced, POSIX sh + bash-isms kept out).
# Usage in a test: . "$(dirname "$0")/lib.sh"; TFT=$1; CONNSTORM=$2
# Everything a test creates (cgroups, namespaces, veths, processes) carries a
# unique tag and is removed by cleanup on any exit; processes are ended by PID.

set -u

TAG="tfth$$"
T_PIDS=""
T_NETNS=""
T_DIR=$(mktemp -d "/tmp/$TAG.XXXXXX")

log() { echo "# $*"; }
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
}

need_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fail "missing command $c (see tests/hardening/PACKAGES)"
	done
}

# The cgroup v2 mount point, from /proc/self/mounts (never hard-coded).
cg2_root() {
	awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

# make_cgroup NAME [PARENT]: creates PARENT/TAG-NAME (PARENT defaults to the
# cgroup v2 root) and prints its path.
make_cgroup() {
	_parent=${2:-$(cg2_root)}
	[ -n "$_parent" ] || fail "no cgroup v2 mount found in /proc/self/mounts"
	_cg="$_parent/$TAG-$1"
	mkdir "$_cg" || fail "mkdir $_cg"
	# Called in $(...): a subshell, so the list lives in a file, not a variable.
	echo "$_cg" >>"$T_DIR/cgroups"
	echo "$_cg"
}

# in_cgroup CG CMD...: runs CMD inside cgroup CG (the shell joins, then execs).
in_cgroup() {
	_cg=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$_cg" "$@"
}

# bg_track PID: remember a background process for cleanup.
bg_track() {
	T_PIDS="$T_PIDS $1"
}

# wait_for FILE PATTERN SECONDS: polls until FILE contains PATTERN.
wait_for() {
	_i=0
	while [ "$_i" -lt $(($3 * 10)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# wait_exit PID SECONDS: waits for a child to exit; sets T_RC. Fails on timeout.
wait_exit() {
	_i=0
	while kill -0 "$1" 2>/dev/null; do
		if [ "$_i" -ge $(($2 * 10)) ]; then
			fail "process $1 did not exit within $2 s"
		fi
		# A zombie child counts as gone.
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	wait "$1"
	T_RC=$?
}

# start_tft OUT ERR ARGS...: starts tcpflowtop in the background, waits until
# it says it is watching (attached and privileges dropped), sets T_TFT_PID.
# -n: no reverse lookups, which would ask the host's resolver, off loopback.
start_tft() {
	_out=$1
	_err=$2
	shift 2
	"$TFT" -n "$@" >"$_out" 2>"$_err" &
	T_TFT_PID=$!
	bg_track "$T_TFT_PID"
	if ! wait_for "$_err" "watching new TCP flows" 10; then
		cat "$_err"
		fail "tcpflowtop did not start: $*"
	fi
}

cleanup() {
	for p in $T_PIDS; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in $T_PIDS; do
		wait "$p" 2>/dev/null
	done
	# Children were created after their parents: remove in reverse order.
	for cg in $(tac "$T_DIR/cgroups" 2>/dev/null); do
		# Anything still inside goes back to the root before rmdir.
		if [ -f "$cg/cgroup.procs" ]; then
			while read -r p; do
				echo "$p" >"$(cg2_root)/cgroup.procs" 2>/dev/null
			done <"$cg/cgroup.procs"
		fi
		rmdir "$cg" 2>/dev/null
	done
	for ns in $T_NETNS; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
