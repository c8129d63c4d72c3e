#!/usr/bin/env bash
# End to end: a real Prometheus (its own temp dir, a loopback port, a 1 s
# scrape interval) scrapes tcpflowtop --serve --metrics. After N connects
# to a listener and M to a closed port from inside a test cgroup, PromQL
# through Prometheus' HTTP API answers exactly N accepted and M refused;
# promtool accepts the exposition; bad, unknown, oversized requests get
# 4xx; 200 slow clients hold connections while K more connects are made,
# and every one of them is counted with no event lost.
set -u
TFT=$1
PEER=$2
. "$(dirname "$0")/lib.sh"
require_root
for tool in prometheus promtool curl python3; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh)" >&2; exit 77; }
done

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
cg="$root/tft-metrics-$$"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"

"$PEER" listen 127.0.0.1 "$tmp/lport" 120 & pids+=($!)
wait_for 5 test -s "$tmp/lport" || fail "listener"
lport=$(cat "$tmp/lport")
closed=$("$PEER" freeport 127.0.0.1)
mport=$("$PEER" freeport 127.0.0.1)

"$TFT" -n --serve --metrics 127.0.0.1:"$mport" --metrics-port "$closed" --cgroup "$cg" \
	2>"$tmp/err" &
tft=$!
pids+=($tft)
wait_for 10 grep -q 'exporting: metrics on http://127.0.0.1:' "$tmp/err" || { cat "$tmp/err"; fail "tcpflowtop did not start"; }
grep -q "watching new TCP flows" "$tmp/err" || fail "no start line"

# Prometheus on its own port and storage, scraping every second.
pport=$("$PEER" freeport 127.0.0.1)
rules=$(dirname "$0")/../../dist/tcpflowtop.rules.yml
promtool check rules "$rules" >"$tmp/rules.log" 2>&1 || fail "the shipped alert rules: $(cat "$tmp/rules.log")"
cp "$rules" "$tmp/tcpflowtop.rules.yml"
cat >"$tmp/prometheus.yml" <<EOF
rule_files: [tcpflowtop.rules.yml]
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tcpflowtop
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address=127.0.0.1:"$pport" >"$tmp/prom.log" 2>&1 &
pids+=($!)
wait_for 20 curl -sf "http://127.0.0.1:$pport/-/ready" -o /dev/null || { tail "$tmp/prom.log"; fail "prometheus did not start"; }

N=7
M=4
for i in $(seq $N); do
	read -r _ st < <(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$lport")
	[ "$st" = ok ] || fail "connect $i: $st"
done
for i in $(seq $M); do
	read -r _ st < <(in_cgroup "$cg" "$PEER" connect 127.0.0.1 "$closed")
	[ "$st" = refused ] || fail "closed connect $i: $st"
done

# promql QUERY: the single value of an instant query ("" when no series).
promql() {
	curl -sf "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if len(r)==1 else "")'
}
is() { [ "$(promql "$1")" = "$2" ]; }
accepted='tcpflowtop_flow_outcomes_total{direction="out",outcome="accepted"}'
refused='tcpflowtop_flow_outcomes_total{direction="out",outcome="refused"}'
wait_for 30 is "$accepted" $N || fail "PromQL accepted: '$(promql "$accepted")', expected $N"
wait_for 10 is "$refused" $M || fail "PromQL refused: '$(promql "$refused")', expected $M"
is "tcpflowtop_refused_total{direction=\"out\",port=\"$closed\"}" $M ||
	fail "refused by the configured port: '$(promql "tcpflowtop_refused_total{direction=\"out\",port=\"$closed\"}")'"
is 'tcpflowtop_flows_total{direction="in"}' 0 || fail "the listener is outside the cgroup: no incoming flow"
is 'tcpflowtop_handshake_seconds_count{direction="out"}' $N || fail "one handshake per accepted flow"
# The shipped rules load and evaluate (no firing expected on this quiet test).
rules_ok() {
	curl -sf "http://127.0.0.1:$pport/api/v1/rules" | python3 -c '
import json, sys
g = json.load(sys.stdin)["data"]["groups"]
r = [x for grp in g for x in grp["rules"]]
sys.exit(0 if len(r) == 2 and all(x["health"] == "ok" for x in r) else 1)'
}
wait_for 10 rules_ok || fail "alert rules: $(curl -s "http://127.0.0.1:$pport/api/v1/rules")"
echo "PASS: Prometheus counted $N accepted and $M refused"

# The exposition passes promtool's checks; every family has HELP and TYPE.
curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" || fail "scrape"
promtool check metrics <"$tmp/metrics.txt" || fail "promtool check metrics"
grep -q '^# HELP tcpflowtop_flow_outcomes_total ' "$tmp/metrics.txt" || fail "HELP"
grep -q '^# TYPE tcpflowtop_handshake_seconds histogram' "$tmp/metrics.txt" || fail "TYPE"
! grep -q "port=\"$lport\"" "$tmp/metrics.txt" || fail "the listener's ephemeral port became a label"

# Bad requests: 4xx, and the server goes on.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$mport/nope")" = 404 ] || fail "unknown path"
[ "$(code -X POST -d x=1 "http://127.0.0.1:$mport/metrics")" = 405 ] || fail "POST"
[ "$(code -X DELETE "http://127.0.0.1:$mport/metrics")" = 405 ] || fail "DELETE"
big=$(head -c 40000 /dev/zero | tr '\0' a)
c=$(code -H "X-Big: $big" "http://127.0.0.1:$mport/metrics")
case $c in 4??) ;; *) fail "oversized header: $c" ;; esac
c=$(code "http://127.0.0.1:$mport/$big")
case $c in 4??) ;; *) fail "oversized URL: $c" ;; esac
# raw TEXT: the status code of what the server answers to TEXT ("" when it just closes).
raw() {
	local proto status=
	exec 3<>/dev/tcp/127.0.0.1/"$mport"
	printf "$1" >&3
	read -r -t 5 proto status _ <&3
	exec 3>&-
	echo "$status"
}
# A server closing with bytes unread resets the connection, which may discard its answer
# before it is read: a 400 must show within 3 tries.
raw400() { local i; for i in 1 2 3; do [ "$(raw "$1")" = 400 ] && return 0; done; return 1; }
raw400 'GET /metrics FOO/9\r\nHost: x\r\n\r\n' || fail "bad HTTP version"
raw400 'GET  HTTP/1.1\r\nHost: x\r\n\r\n' || fail "empty path"
for junk in 'GARBAGE\r\n\r\n' 'GET /metrics HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n' '\x16\x03\x01\x00\xa5\x01\r\n\r\n'; do
	c=$(raw "$junk")
	case $c in "" | 4??) ;; *) fail "malformed request '$junk' answered $c" ;; esac
done
[ "$(code "http://127.0.0.1:$mport/metrics")" = 200 ] || fail "server gone after bad requests"
echo "PASS: bad requests get 4xx"

# 200 slow clients (a byte every 0.5 s, outside the cgroup) while K connects
# are made inside it: capture keeps up, nothing lost.
K=300
python3 - "$mport" 200 8 >"$tmp/slow.log" 2>&1 <<'EOF' &
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.setblocking(False)
        socks.append(s)
    except OSError:
        pass
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
end = time.time() + secs
i = 0
while time.time() < end and i < len(req):
    for s in socks:
        try:
            s.send(req[i:i + 1])
        except OSError:
            pass
    i += 1
    time.sleep(0.5)
print("tried", n, "opened", len(socks))
EOF
slow=$!
pids+=($slow)
sleep 1
(in_cgroup "$cg" python3 - "$lport" "$K") >"$tmp/storm" <<'EOF'
import socket, sys
port, k, ok = int(sys.argv[1]), int(sys.argv[2]), 0
for _ in range(k):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.close()
    ok += 1
print(ok)
EOF
[ "$(cat "$tmp/storm")" = "$K" ] || fail "storm connects: $(cat "$tmp/storm")"
wait "$slow"
# The server takes METRICS_HTTP_MAX_CONN (64) at a time; the rest wait in the backlog or time out.
read -r _ tried _ opened <"$tmp/slow.log"
[ "${tried:-0}" = 200 ] && [ "${opened:-0}" -ge 64 ] || fail "slow clients: $(cat "$tmp/slow.log")"
flows='tcpflowtop_flows_total{direction="out"}'
wait_for 30 is "$flows" $((N + M + K)) || fail "flows after the slow clients: '$(promql "$flows")', expected $((N + M + K))"
is tcpflowtop_events_lost_total 0 || fail "events lost: $(promql tcpflowtop_events_lost_total)"
is "$accepted" $((N + K)) || fail "accepted after the storm: $(promql "$accepted")"
echo "PASS: $K flows counted while 200 slow clients held the metrics port"

kill -TERM "$tft"
wait "$tft"
rc=$?
[ $rc = 0 ] || fail "exit status $rc"
grep -q "SIGTERM received, stopping" "$tmp/err" || fail "no stop line"
grep -q "metrics: [0-9]* scrapes served" "$tmp/err" || fail "no exporter figures at exit"
echo "PASS: metrics end to end"
