#!/bin/sh
# A real network path: two network namespaces joined by a veth pair, a server
# in one and a client in the other, each in its own test cgroup; tcpflowtop is
# attached to their common parent cgroup and must show the client's outgoing
# flow and the server's incoming flow, IPv4 and IPv6, with the veth addresses.
. "$(dirname "$0")/lib.sh"
TFT=$1
need_root
need_cmd ip python3

NS_C="$TAG-cli"
NS_S="$TAG-srv"
VC="vc$$"
VS="vs$$"
# A /24 from 10.200.0.0/16 and a ULA prefix, private to the namespaces.
NET="10.200.$(($$ % 250))"
NET6="fd00:7466:$(printf %x $(($$ % 65535)))"

ip netns add "$NS_C" || fail "netns add"
T_NETNS="$NS_C"
ip netns add "$NS_S" || fail "netns add"
T_NETNS="$NS_C $NS_S"
ip link add "$VC" netns "$NS_C" type veth peer name "$VS" netns "$NS_S" || fail "veth"
ip -n "$NS_C" addr add "$NET.1/24" dev "$VC"
ip -n "$NS_S" addr add "$NET.2/24" dev "$VS"
ip -n "$NS_C" -6 addr add "$NET6::1/64" dev "$VC" nodad
ip -n "$NS_S" -6 addr add "$NET6::2/64" dev "$VS" nodad
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" link set "$VC" up
ip -n "$NS_S" link set "$VS" up

PARENT=$(make_cgroup netns)
CG_C=$(make_cgroup cli "$PARENT")
CG_S=$(make_cgroup srv "$PARENT")

start_tft "$T_DIR/out.csv" "$T_DIR/err" --batch --format csv --cgroup "$PARENT" --duration 30

# The server: accepts one connection per address family, then exits.
cat >"$T_DIR/srv.py" <<'PY'
import socket, sys
ls = []
for fam, addr in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(sys.argv[3])))
    s.listen(4)
    s.settimeout(15)
    ls.append(s)
open(sys.argv[4], "w").write("ready\n")
for s in ls:
    c, _ = s.accept()
    c.close()
PY
# The client: connects to both and logs its own ports.
cat >"$T_DIR/cli.py" <<'PY'
import socket, sys
with open(sys.argv[4], "w") as log:
    for fam, addr in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
        c = socket.create_connection((addr, int(sys.argv[3])), timeout=10)
        log.write("%d %d\n" % (4 if fam == socket.AF_INET else 6, c.getsockname()[1]))
        c.recv(1)
        c.close()
PY
PORT=$((20000 + $$ % 20000))
# Join the cgroup first: "ip netns exec" mounts a fresh /sys without the cgroup mount.
in_cgroup "$CG_S" ip netns exec "$NS_S" python3 "$T_DIR/srv.py" "$NET.2" "$NET6::2" "$PORT" "$T_DIR/ready" &
SRV=$!
bg_track $SRV
wait_for "$T_DIR/ready" ready 10 || fail "server did not start"
in_cgroup "$CG_C" ip netns exec "$NS_C" python3 "$T_DIR/cli.py" "$NET.2" "$NET6::2" "$PORT" "$T_DIR/cports" || fail "client failed"
wait_exit $SRV 10
sleep 0.3
kill -INT "$T_TFT_PID"
wait_exit "$T_TFT_PID" 10
[ "$T_RC" = 0 ] || fail "tcpflowtop exited $T_RC"
cat "$T_DIR/out.csv"

# expect DIR FAMILY SRC SPORT DST DPORT
expect() {
	grep -q "^[^,]*,new,[0-9]*,$1,$2,$3,$4,$5,$6," "$T_DIR/out.csv" ||
		fail "missing new $1 flow $3:$4 -> $5:$6"
	grep -Eq "^[^,]*,(new|update),[0-9]*,$1,$2,$3,$4,$5,$6,accepted," "$T_DIR/out.csv" ||
		fail "$1 flow $3:$4 -> $5:$6 never accepted"
}
SP4=$(awk '$1 == 4 { print $2 }' "$T_DIR/cports")
SP6=$(awk '$1 == 6 { print $2 }' "$T_DIR/cports")
expect out 4 "$NET.1" "$SP4" "$NET.2" "$PORT"
expect in 4 "$NET.1" "$SP4" "$NET.2" "$PORT"
expect out 6 "$NET6::1" "$SP6" "$NET6::2" "$PORT"
expect in 6 "$NET6::1" "$SP6" "$NET6::2" "$PORT"
[ "$(grep -c ',new,' "$T_DIR/out.csv")" = 4 ] || fail "expected exactly 4 new flows"
pass "veth between namespaces: outgoing and incoming flows, IPv4 and IPv6"
