#!/usr/bin/env bash
# The headless service as installed: `cmake --install` puts the binary, the
# man page and the unit under a temp prefix; `systemd-analyze verify`
# accepts the unit with no warning; then tcpflowtop runs as the unit runs
# it (its ExecStart, a user that is not root, only the unit's capabilities
# as ambient ones through setpriv, no_new_privs), counts a flow, serves
# metrics after the privilege drop, and every one of its threads holds no
# capability by then.
set -u
BUILD=$1
PEER=$2
. "$(dirname "$0")/lib.sh"
require_root
for tool in systemd-analyze setpriv capsh curl cmake; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh)" >&2; exit 77; }
done

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
cg="$root/tft-unit-$$"
tmp=$(mktemp -d)
chmod 755 "$tmp" # the service user reads the installed binary
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"

cmake --install "$BUILD" --prefix "$tmp/p" >"$tmp/install.log" || fail "cmake --install: $(cat "$tmp/install.log")"
unit=$tmp/p/lib/systemd/system/tcpflowtop.service
for f in "$tmp/p/sbin/tcpflowtop" "$tmp/p/share/man/man8/tcpflowtop.8" "$unit"; do
	[ -e "$f" ] || fail "not installed: $f"
done
MANPATH=$tmp/p/share/man systemd-analyze verify "$unit" >"$tmp/verify.log" 2>&1 || fail "verify: $(cat "$tmp/verify.log")"
[ ! -s "$tmp/verify.log" ] || fail "verify warns: $(cat "$tmp/verify.log")"
grep -qx "NoNewPrivileges=yes" "$unit" || fail "NoNewPrivileges"
grep -qx "Restart=on-failure" "$unit" || fail "Restart"
echo "PASS: installed, and the unit verifies"

# The unit's own settings, read from it: the command line and the capabilities.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit")
[ "$caps" = "$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")" ] || fail "ambient and bounding sets differ"
# Those of them this machine's bounding set holds (a container may lack CAP_SYS_RESOURCE).
have=$(capsh --decode="$(awk '/^CapBnd/ { print $2 }' /proc/self/status)")
capset=
for c in $caps; do
	c=$(echo "$c" | tr A-Z a-z)
	case ",${have#*=}," in
	*",$c,"*) capset="$capset,+${c#cap_}" ;;
	*) echo "note: $c not in this machine's bounding set: left out" >&2 ;;
	esac
done
capset=${capset#,}
mport=$("$PEER" freeport 127.0.0.1)
# What /etc/default/tcpflowtop would add: a free port, this test's cgroup, no lookups.
TCPFLOWTOP_OPTS="--metrics 127.0.0.1:$mport -n --cgroup $cg"
read -r -a argv <<<"${exec_start//\$TCPFLOWTOP_OPTS/$TCPFLOWTOP_OPTS}"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all,"$capset" --ambient-caps=-all,"$capset" --bounding-set=-all,"$capset" \
	--no-new-privs "${argv[@]}" 2>"$tmp/err" &
tft=$!
pids+=($tft)
wait_for 10 grep -q "exporting: metrics on http://127.0.0.1:$mport/metrics" "$tmp/err" || { cat "$tmp/err"; fail "did not start with the unit's capabilities"; }

"$PEER" listen 127.0.0.1 "$tmp/lport" 30 & pids+=($!)
wait_for 5 test -s "$tmp/lport" || fail "listener"
read -r _ st < <(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$(cat "$tmp/lport")")
[ "$st" = ok ] || fail "connect: $st"
counted() { curl -sf "http://127.0.0.1:$mport/metrics" | grep -qx 'tcpflowtop_flow_outcomes_total{direction="out",outcome="accepted"} 1'; }
wait_for 5 counted || fail "metrics after the drop: $(curl -s "http://127.0.0.1:$mport/metrics" | head -12)"

# Every thread (the loop, the HTTP server's) runs with nothing left.
n=0
for st in /proc/"$tft"/task/*/status; do
	for k in CapInh CapPrm CapEff CapAmb; do
		grep -q "^$k:[[:space:]]*0*$" "$st" || fail "$st: $(grep "^$k" "$st")"
	done
	grep -q "^NoNewPrivs:[[:space:]]*1" "$st" || fail "$st: no_new_privs"
	[ "$(awk '/^Uid:/ { print $2 }' "$st")" = "$(id -u nobody)" ] || fail "$st: uid"
	n=$((n + 1))
done
[ $n -ge 2 ] || fail "expected the HTTP server's thread too, saw $n threads"
echo "PASS: served by $n threads holding no capability"

kill -TERM "$tft"
wait "$tft" || fail "exit status"
grep -q "SIGTERM received, stopping" "$tmp/err" || fail "stop line"
grep -q "1 flows seen" "$tmp/err" || fail "summary: $(cat "$tmp/err")"
echo "PASS: the unit's way of running works"
