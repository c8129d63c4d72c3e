#!/bin/sh
# Nothing left behind: after SIGINT, SIGTERM, SIGHUP or SIGKILL, no program of
# this tcpflowtop stays attached to its cgroup (the watched one's parent), and
# its programs and maps are gone from the kernel (checked by the ids it had,
# since other tcpflowtop instances may run on this host at the same time).
. "$(dirname "$0")/lib.sh"
TFT=$1
need_root
need_cmd bpftool awk

# Ids listed by "bpftool cgroup show CG" (first column of the data rows).
attached_ids() {
	bpftool cgroup show "$1" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $1 }'
}

# gone KIND ID: true once "bpftool KIND show id ID" no longer finds it.
gone() {
	! bpftool "$1" show id "$2" >/dev/null 2>&1
}

for sig in INT TERM HUP KILL; do
	# The programs go on the watched cgroup's parent: a parent of the test's own;
	# sockops on the watched cgroup itself.
	CG=$(make_cgroup "cleanup-$sig")
	W=$(make_cgroup watched "$CG")
	start_tft "$T_DIR/o-$sig" "$T_DIR/e-$sig" --batch --cgroup "$W" --duration 30
	progs="$(attached_ids "$CG") $(attached_ids "$W")"
	# ingress, egress, post_bind4/6 (listeners' owners) and sockops (outcomes)
	[ "$(echo "$progs" | wc -w)" = 5 ] || fail "$sig: expected 5 programs on $CG and $W, got: $progs"
	for p in $progs; do
		name=$(bpftool prog show id "$p" | awk -F'name ' 'NR == 1 { split($2, a, " "); print a[1] }')
		case "$name" in
		tft_ingress | tft_egress | tft_post_bind4 | tft_post_bind6 | tft_sockops) ;;
		*) fail "$sig: unexpected program $name on $CG" ;;
		esac
	done
	maps=$(for p in $progs; do
		bpftool prog show id "$p" | sed -n 's/.*map_ids \([0-9,]*\).*/\1/p' | tr ',' ' '
	done | tr ' ' '\n' | sort -u)
	[ -n "$maps" ] || fail "$sig: no map ids found"

	kill -"$sig" "$T_TFT_PID"
	wait_exit "$T_TFT_PID" 10
	case $sig in
	KILL) [ "$T_RC" = 137 ] || fail "SIGKILL: exit status $T_RC" ;;
	*)
		[ "$T_RC" = 0 ] || fail "SIG$sig: exit status $T_RC"
		grep -q "flows seen" "$T_DIR/e-$sig" || fail "SIG$sig: no summary"
		;;
	esac

	# The kernel frees programs and maps after an RCU grace period: poll briefly.
	i=0
	while :; do
		left=""
		[ -z "$(attached_ids "$CG")" ] || left="$left attached:$(attached_ids "$CG" | tr '\n' ' ')"
		[ -z "$(attached_ids "$W")" ] || left="$left attached:$(attached_ids "$W" | tr '\n' ' ')"
		for p in $progs; do gone prog "$p" || left="$left prog:$p"; done
		for m in $maps; do gone map "$m" || left="$left map:$m"; done
		[ -z "$left" ] && break
		[ "$i" -ge 50 ] && fail "SIG$sig: left behind:$left"
		sleep 0.1
		i=$((i + 1))
	done
	pass "SIG$sig: programs $(echo $progs) and maps $(echo $maps) detached and freed"
done
