# Shared helpers for end-to-end test scripts (sourced).
# shellcheck shell=bash

# Needs root for BPF: otherwise skip, loudly (ctest SKIP_RETURN_CODE 77).
require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: $0 needs root (CAP_BPF + CAP_NET_ADMIN) to load BPF programs" >&2
		exit 77
	fi
}

# skip REASON: this host cannot run the test; say so loudly (ctest SKIP_RETURN_CODE 77).
skip() {
	echo "SKIP: $0: $*" >&2
	exit 77
}

# The cgroup v2 mount point, from /proc/self/mounts (never a fixed path).
cgroup2_root() {
	awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds or time runs out.
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# in_cgroup DIR CMD...: runs CMD as a process of cgroup DIR. It execs, replacing
# the calling shell: use it only in a subshell, with & or <( ).
in_cgroup() {
	local dir=$1
	shift
	exec sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$dir" "$@"
}

# rmdir_retry DIR...: removes the DIRs in order, children before parents. A
# cgroup stays busy for a moment after its last process is killed, so it retries
# for up to 5 s, until the last DIR is gone.
rmdir_retry() {
	local _
	for _ in $(seq 50); do
		rmdir "$@" 2>/dev/null && return 0
		[ -d "${!#}" ] || return 0
		sleep 0.1
	done
	return 1
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
