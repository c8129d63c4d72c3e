#!/bin/sh
# Bad environment: each fault gives one clear line on stderr and a non-zero
# exit, while a healthy tcpflowtop started first keeps reporting throughout.
# Also: no vmlinux BTF is needed (our programs read no kernel structs).
. "$(dirname "$0")/lib.sh"
TFT=$1
CONNSTORM=$2
need_root
need_cmd unshare setpriv mount umount awk

CG=$(make_cgroup badenv)
start_tft "$T_DIR/healthy.csv" "$T_DIR/healthy.err" --batch --format csv --cgroup "$CG" --duration 60
HEALTHY=$T_TFT_PID

# expect_one_line NAME PATTERN CMD...: CMD fails with exactly one stderr line matching PATTERN.
expect_one_line() {
	name=$1
	pat=$2
	shift 2
	"$@" >"$T_DIR/o" 2>"$T_DIR/e"
	rc=$?
	[ "$rc" != 0 ] || fail "$name: exit status 0"
	[ "$(wc -l <"$T_DIR/e")" = 1 ] || fail "$name: not one line: $(cat "$T_DIR/e")"
	grep -q -- "$pat" "$T_DIR/e" || fail "$name: message does not match \"$pat\": $(cat "$T_DIR/e")"
	[ ! -s "$T_DIR/o" ] || fail "$name: wrote to stdout"
	pass "$name (exit $rc): $(cat "$T_DIR/e")"
}

# 1. No cgroup v2: a private mount namespace with every cgroup2 mount removed.
expect_one_line "no cgroup v2" "no cgroup v2 hierarchy" \
	unshare -m --propagation private sh -c '
		for m in $(awk "\$3 == \"cgroup2\" { print \$2 }" /proc/self/mounts); do
			umount -l "$m" || exit 99
		done
		exec "$0" -n --batch --duration 1' "$TFT"

# 2. --cgroup is a file, a plain directory, missing.
touch "$T_DIR/file"
expect_one_line "--cgroup is a file" "not a directory" "$TFT" -n --batch --cgroup "$T_DIR/file" --duration 1
expect_one_line "--cgroup is a plain directory" "not a cgroup v2 directory" \
	"$TFT" -n --batch --cgroup "$T_DIR" --duration 1
expect_one_line "--cgroup missing" "No such file" "$TFT" -n --batch --cgroup "$T_DIR/none" --duration 1

# 3. Not root: nobody without capabilities gets the capability message.
expect_one_line "not root" "CAP_BPF and CAP_NET_ADMIN" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	"$TFT" -n --batch --cgroup "$CG" --duration 1

# 3b. SUDO_UID without SUDO_GID is named as such, not as "not numeric".
expect_one_line "SUDO_UID without SUDO_GID" "SUDO_UID is set but SUDO_GID is not" \
	env -u SUDO_GID SUDO_UID="$(id -u nobody)" "$TFT" -n --batch --cgroup "$CG" --duration 1
expect_one_line "SUDO_GID not numeric" "SUDO_GID is not a numeric group id" \
	env SUDO_UID="$(id -u nobody)" SUDO_GID=x "$TFT" -n --batch --cgroup "$CG" --duration 1

# 4. Bad flags: argp adds its usual "Try --help" line, so only the first line is checked.
for args in "--bogus" "--ring-size 1000" "--port 70000" "--format xml" "--direction up"; do
	# shellcheck disable=SC2086
	"$TFT" $args >"$T_DIR/o" 2>"$T_DIR/e"
	rc=$?
	[ "$rc" != 0 ] || fail "bad flag $args: exit 0"
	head -1 "$T_DIR/e" | grep -Eq '^([^ ]*/)?tcpflowtop: ' || fail "bad flag $args: $(cat "$T_DIR/e")"
	pass "bad flag $args (exit $rc): $(head -1 "$T_DIR/e")"
done

# 5. Missing or unreadable vmlinux BTF: it still loads, attaches and reports.
#    (a) an empty file over /sys/kernel/btf/vmlinux, (b) /sys/kernel/btf hidden.
for mode in empty hidden; do
	if [ "$mode" = empty ]; then
		[ -e /sys/kernel/btf/vmlinux ] || { log "no /sys/kernel/btf/vmlinux: skipping empty"; continue; }
		hide='mount --bind /dev/null /sys/kernel/btf/vmlinux'
	else
		hide='mount -t tmpfs none /sys/kernel/btf 2>/dev/null || mount -t tmpfs none /sys/kernel'
	fi
	CGB=$(make_cgroup "btf-$mode")
	unshare -m --propagation private sh -c "$hide || exit 99; "'exec "$0" "$@"' \
		"$TFT" -n --batch --format csv --cgroup "$CGB" --duration 20 \
		>"$T_DIR/btf-$mode.csv" 2>"$T_DIR/btf-$mode.err" &
	pid=$!
	bg_track $pid
	wait_for "$T_DIR/btf-$mode.err" "watching new TCP flows" 10 ||
		fail "BTF $mode: did not start: $(cat "$T_DIR/btf-$mode.err")"
	in_cgroup "$CGB" "$CONNSTORM" -n 3 -c 1 -P 1 >/dev/null || fail "connstorm"
	sleep 0.3
	kill -INT $pid
	wait_exit $pid 5
	[ "$T_RC" = 0 ] || fail "BTF $mode: exit $T_RC: $(cat "$T_DIR/btf-$mode.err")"
	[ "$(grep -c ',new,' "$T_DIR/btf-$mode.csv")" = 6 ] || fail "BTF $mode: expected 6 flows"
	pass "vmlinux BTF $mode: attaches and reports 6 flows"
done

# The healthy instance saw none of that and still works.
in_cgroup "$CG" "$CONNSTORM" -n 4 -c 1 -P 1 >/dev/null || fail "connstorm"
sleep 0.3
kill -INT "$HEALTHY"
wait_exit "$HEALTHY" 5
[ "$T_RC" = 0 ] || fail "healthy instance exited $T_RC"
[ "$(grep -c ',new,' "$T_DIR/healthy.csv")" = 8 ] || fail "healthy instance: expected 8 flows"
pass "a healthy instance kept working through all of it"
