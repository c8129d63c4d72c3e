#!/bin/sh
# Privilege drop: once attached, tcpflowtop runs as the invoking user (SUDO_UID)
# or --user, with every capability set empty and no_new_privs, and flows made
# after the drop still arrive.
. "$(dirname "$0")/lib.sh"
TFT=$1
CONNSTORM=$2
need_root
need_cmd awk

CG=$(make_cgroup privdrop)
NOBODY_UID=$(id -u nobody) || fail "no user nobody"

# check_status PID UID: the dropped identity and empty capability sets.
check_status() {
	st=/proc/$1/status
	grep -q "^Uid:[[:space:]]*$2[[:space:]]*$2[[:space:]]*$2[[:space:]]*$2\$" "$st" ||
		fail "uid not $2: $(grep ^Uid "$st")"
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		grep -q "^$c:[[:space:]]*0000000000000000\$" "$st" || fail "$c not empty: $(grep "^$c" "$st")"
	done
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || fail "no_new_privs not set"
	grep -q '^Groups:[[:space:]]*$' "$st" || fail "supplementary groups left: $(grep ^Groups "$st")"
}

# connect_and_check OUT: 5 connections made after the drop show up, both directions.
connect_and_check() {
	in_cgroup "$CG" "$CONNSTORM" -n 5 -c 1 -P 1 -l "$T_DIR/conns" >/dev/null || fail "connstorm"
	sleep 0.3 # two drain periods
	kill -INT "$T_TFT_PID"
	wait_exit "$T_TFT_PID" 5
	[ "$T_RC" = 0 ] || fail "tcpflowtop exited $T_RC"
	while read -r fam sport dport; do
		for dir in out in; do
			grep -q "^[^,]*,new,[0-9]*,$dir,4,127.0.0.1,$sport,127.0.0.1,$dport," "$1" ||
				fail "flow $dir $sport->$dport made after the drop is missing"
		done
	done <"$T_DIR/conns"
}

# 1. SUDO_UID/SUDO_GID name the user.
SUDO_UID=$NOBODY_UID SUDO_GID=$(id -g nobody) start_tft "$T_DIR/o1" "$T_DIR/e1" \
	--batch --format csv --cgroup "$CG" --duration 20
check_status "$T_TFT_PID" "$NOBODY_UID"
connect_and_check "$T_DIR/o1"
pass "SUDO_UID: uid $NOBODY_UID, no capabilities, no_new_privs, flows keep arriving"

# 2. --user overrides SUDO_UID (which here names root: that is never kept).
SUDO_UID=0 SUDO_GID=0 start_tft "$T_DIR/o2" "$T_DIR/e2" \
	--batch --format csv --cgroup "$CG" --duration 20 --user nobody
check_status "$T_TFT_PID" "$NOBODY_UID"
connect_and_check "$T_DIR/o2"
pass "--user nobody"

# 3. Neither: nobody.
env -u SUDO_UID -u SUDO_GID "$TFT" -n --batch --cgroup "$CG" --duration 20 >"$T_DIR/o3" 2>"$T_DIR/e3" &
T_TFT_PID=$!
bg_track $T_TFT_PID
wait_for "$T_DIR/e3" "watching new TCP flows" 10 || fail "no start"
check_status "$T_TFT_PID" "$NOBODY_UID"
kill -TERM "$T_TFT_PID"
wait_exit "$T_TFT_PID" 5
pass "default nobody"

# 4. An unknown --user: one line, non-zero, nothing loaded.
"$TFT" -n --batch --cgroup "$CG" --user "no-such-user-$TAG" >/dev/null 2>"$T_DIR/e4"
rc=$?
[ "$rc" != 0 ] || fail "unknown --user exited 0"
[ "$(wc -l <"$T_DIR/e4")" = 1 ] || fail "unknown --user: not one line: $(cat "$T_DIR/e4")"
grep -q "no such user" "$T_DIR/e4" || fail "unknown --user: $(cat "$T_DIR/e4")"
pass "unknown --user: $(cat "$T_DIR/e4")"
