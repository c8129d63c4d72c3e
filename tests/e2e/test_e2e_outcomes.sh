#!/usr/bin/env bash
# End to end: how each flow went, from real connections in a test cgroup,
# read by four tcpflowtops at once (JSON lines, CSV, text, the screen in tmux
# with its CSV export), the JSON one recording, replayed at the end:
#   - 100000 bytes one way, 1234 the other, the client closes first: fin,
#     closed by the client, those byte counts on both rows;
#   - the same, then the server resets (SO_LINGER 0): reset-by-peer on the
#     client's row, reset-by-local on the server's;
#   - a SYN into a network namespace whose firewall drops it: unanswered,
#     with its retransmissions;
#   - a client in the namespace whose final ACK the firewall drops:
#     half-open on the server's incoming row;
#   - a connection silent longer than --idle: idle, then active again;
#   - 30 refused connects to one port: a reset-burst alert;
#   - 40 connects from the namespace to a listen(1) server: all connect, the
#     server's established ones shown established, those a SYN cookie answered
#     flagged, the kernel's counters in the summary.
# KEEP=1 keeps the outputs' directory.
set -u
TFT=$1
PEER=$(dirname "$0")/outcome_peer.py
. "$(dirname "$0")/lib.sh"
require_root
command -v nft >/dev/null || { echo "SKIP: needs nft (nftables) for the namespace's firewall" >&2; exit 77; }
command -v tmux >/dev/null || { echo "SKIP: needs tmux" >&2; exit 77; }

root=$(cgroup2_root)
[ -n "$root" ] || fail "no cgroup v2 mount"
cg="$root/tft-e2e-outcomes-$$"
ns=tftoc$$
va=tfo$$a
vb=tfo$$b
host=10.213.$(($$ % 200)).1
peer=10.213.$(($$ % 200)).2
tmp=$(mktemp -d)
sock=tft-oc-$$
pids=()
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip link del "$va" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rmdir "$cg" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
mkdir "$cg" || fail "cannot create $cg"

# The namespace: a veth pair, and a firewall that drops SYNs to port 9 and the
# bare ACKs its clients send to the half-open port.
ip netns add "$ns" || fail "ip netns add"
ip link add "$va" type veth peer name "$vb" || fail "veth"
ip link set "$vb" netns "$ns"
ip addr add "$host/24" dev "$va"
ip link set "$va" up
ip netns exec "$ns" ip addr add "$peer/24" dev "$vb"
ip netns exec "$ns" ip link set "$vb" up
ip netns exec "$ns" ip link set lo up

# Half-open server: listens, never gets its final ACK.
in_cgroup "$cg" python3 "$PEER" listen "$host" "$tmp/qhalf" 8 40 & pids+=($!)
# SYN-cookie server: listen(1), accepting slowly.
in_cgroup "$cg" python3 "$PEER" listen "$host" "$tmp/qcookie" 1 40 & pids+=($!)
wait_for 5 test -s "$tmp/qhalf" -a -s "$tmp/qcookie" || fail "listeners"
qhalf=$(cat "$tmp/qhalf") qcookie=$(cat "$tmp/qcookie")
ip netns exec "$ns" nft -f - <<EOF || fail "nft rules"
table inet tftoc {
	chain in { type filter hook input priority 0; tcp dport 9 drop; }
	chain out { type filter hook output priority 0; tcp dport $qhalf tcp flags & (syn|ack|fin|rst|psh) == ack drop; }
}
EOF

opts=(-n --cgroup "$cg" --syn-timeout 2 --idle 2 --half-open 2)
"$TFT" "${opts[@]}" --batch --format json -w "$tmp/rec.tftrec" >"$tmp/out.json" 2>"$tmp/err.json" & tftj=$!
pids+=($tftj)
"$TFT" "${opts[@]}" --batch --format csv >"$tmp/out.csv" 2>"$tmp/err.csv" & tftc=$!
pids+=($tftc)
T=(tmux -L "$sock" -f /dev/null)
"$TFT" "${opts[@]}" --batch --format text >"$tmp/out.txt" 2>"$tmp/err.txt" & tftt=$!
pids+=($tftt)
mkdir "$tmp/export"
chmod 755 "$tmp" && chmod 777 "$tmp/export" # the screen writes as the user it dropped to
"${T[@]}" new-session -d -x 200 -y 50 "$TFT ${opts[*]} --export-dir $tmp/export -o dir,sport,dport,state,end,bytes_in,bytes_out; sleep 30" ||
	fail "tmux"
wait_for 10 grep -q '^time,' "$tmp/out.csv" || { cat "$tmp/err.csv"; fail "tcpflowtop (CSV) did not start"; }
wait_for 10 grep -q 'watching' "$tmp/err.json" || { cat "$tmp/err.json"; fail "tcpflowtop (JSON) did not start"; }
sleep 1 # the screen's programs too

run() { in_cgroup "$cg" python3 "$PEER" "$@"; }
read -r fin_c fin_s < <(run fin 127.0.0.1) || fail "fin conversation"
read -r rst_c rst_s < <(run rst ::1) || fail "rst conversation"
read -r idle_c idle_s < <(run idle 127.0.0.1 3.5) || fail "idle conversation"
read -r ref_port ref_n < <(run refused 127.0.0.1 30) || fail "refused connects"
[ "$ref_n" = 30 ] || fail "30 connects refused, got $ref_n"
# unanswered: a SYN into the namespace, dropped there; the client gives up after 3.5 s
( in_cgroup "$cg" timeout 3.5 python3 -c "
import socket; s = socket.socket(); s.connect(('$peer', 9))" ) 2>/dev/null
# half-open: the client believes it is connected; the server never hears its ACK
ip netns exec "$ns" python3 "$PEER" connect "$host" "$qhalf" 1 40 >/dev/null &
pids+=($!)
# SYN cookies: 40 at once at a listen(1) server; each client sends a byte, which
# its kernel sends again until the server has room to take the connection.
ip netns exec "$ns" python3 "$PEER" connect "$host" "$qcookie" 40 20 send >"$tmp/cookie" &
pids+=($!)
wait_for 10 test -s "$tmp/cookie" || fail "the listen(1) clients"
sleep 3 # half-open after 2 s; timers and samples run once a second

# JSON: the records of one flow, by direction and ports.
q() {
	python3 - "$tmp/out.json" "$@" <<'EOF'
import json, sys
path, what = sys.argv[1], sys.argv[2:]
recs = [json.loads(l) for l in open(path)]
def flows(direction, sport, dport):
    return [r for r in recs if r.get("direction") == direction and r.get("src_port") == sport
            and r.get("dst_port") == dport]
def close_of(direction, sport, dport):
    c = [r for r in flows(direction, sport, dport) if r["type"] == "close"]
    assert len(c) == 1, "%s %d->%d: %d close records" % (direction, sport, dport, len(c))
    return c[0]
cmd = what[0]
if cmd == "close":
    d, s, p = what[1], int(what[2]), int(what[3])
    r = close_of(d, s, p)
    print(" ".join(str(r.get(k)) for k in what[4:]))
elif cmd == "idle":
    d, s, p = what[1], int(what[2]), int(what[3])
    seq = [r.get("idle") for r in flows(d, s, p) if r["type"] == "update"]
    print("idle-then-active" if True in seq and seq.index(True) < len(seq) - 1 and
          False in seq[seq.index(True):] else "no: %s" % seq)
elif cmd == "alert":
    a = [r for r in recs if r["type"] == "alert" and r.get("port") == int(what[1])]
    print(len(a), a[0]["count"] if a else 0)
elif cmd == "cookies":
    port = int(what[1])
    ins = {}
    for r in recs:
        if r.get("direction") == "in" and r.get("dst_port") == port:
            ins.setdefault(r["src_port"], []).append(r)
    est = sum(1 for rs in ins.values() if any(r.get("state") == "established" for r in rs))
    flagged = sum(1 for rs in ins.values() if any(r.get("syncookie") for r in rs))
    print(len(ins), est, flagged)
EOF
}
expect() { # expect WHAT WANT CMD...
	local what=$1 want=$2 got
	shift 2
	got=$(q "$@") || fail "$what: query failed"
	[ "$got" = "$want" ] || fail "$what: got '$got', want '$want'"
	echo "ok: $what: $got"
}

expect "fin, client row" "closed fin local 1234 100000" close out "$fin_c" "$fin_s" state end closed_by bytes_in bytes_out
expect "fin, server row" "closed fin peer 100000 1234" close in "$fin_c" "$fin_s" state end closed_by bytes_in bytes_out
expect "reset, client row" "reset-by-peer 1234 100000" close out "$rst_c" "$rst_s" end bytes_in bytes_out
expect "reset, server row" "reset-by-local 100000 1234" close in "$rst_c" "$rst_s" end bytes_in bytes_out
expect "idle" "idle-then-active" idle out "$idle_c" "$idle_s"
expect "reset burst" "1 21" alert "$ref_port"
got=$(python3 - "$tmp/out.json" "$peer" <<'EOF'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
c = [r for r in rs if r["type"] == "close" and r.get("dst_addr") == sys.argv[2] and r.get("dst_port") == 9]
print(len(c), c[0]["state"], c[0]["end"], c[0]["syn_retrans"] >= 1 if c else "")
EOF
)
[ "$got" = "1 unanswered timeout True" ] || fail "unanswered: got '$got'"
echo "ok: unanswered: $got"
got=$(python3 - "$tmp/out.json" "$qhalf" <<'EOF'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
c = [r for r in rs if r["type"] == "close" and r.get("direction") == "in" and r.get("dst_port") == int(sys.argv[2])]
print(len(c), c[0]["state"] if c else "", c[0]["end"] if c else "")
EOF
)
[ "$got" = "1 half-open half-open" ] || fail "half-open: got '$got'"
echo "ok: half-open: $got"
[ "$(cat "$tmp/cookie")" = 40 ] || fail "40 clients connected, got $(cat "$tmp/cookie")"
# The kernel takes the rest as the accept queue frees, at the pace of the
# clients' backed-off retransmissions; at any moment the flows shown
# established are exactly the server's established sockets.
same_as_kernel() {
	read -r n est flagged < <(q cookies "$qcookie")
	kernel=$(ss -Htn state established "( sport = :$qcookie )" | wc -l)
	[ "$n" = 40 ] && [ "$est" = "$kernel" ] && [ "$est" -ge 10 ]
}
wait_for 10 same_as_kernel ||
	fail "listen(1): $n incoming flows, $est established, the kernel has $kernel"
[ "$flagged" -ge 1 ] || fail "listen(1): no flow flagged syncookie"
echo "ok: listen(1): 40 incoming flows, $est established as in the kernel, $flagged by SYN cookie"

# CSV: the same close records, by header name.
csv() {
	python3 - "$tmp/out.csv" "$@" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
d, s, p = sys.argv[2], sys.argv[3], sys.argv[4]
c = [r for r in rows if r["event"] == "close" and r["direction"] == d and r["src_port"] == s and r["dst_port"] == p]
assert len(c) == 1, "%d CSV close rows" % len(c)
print(" ".join(c[0][k] for k in sys.argv[5:]))
EOF
}
got=$(csv out "$fin_c" "$fin_s" end closed_by bytes_in bytes_out) || fail "CSV fin"
[ "$got" = "fin local 1234 100000" ] || fail "CSV fin: got '$got'"
got=$(csv in "$rst_c" "$rst_s" end bytes_in bytes_out) || fail "CSV reset"
[ "$got" = "reset-by-local 100000 1234" ] || fail "CSV reset: got '$got'"
echo "ok: CSV close records"

# The screen: the rows of the fin and reset conversations, by their ports
# (the filter narrows the table to them).
"${T[@]}" send-keys "/"
"${T[@]}" send-keys -l "sport:$fin_c"
"${T[@]}" send-keys Enter
sleep 1.5
"${T[@]}" capture-pane -p >"$tmp/screen"
"${T[@]}" send-keys "e" # the CSV export of what the screen shows: the fin flow's rows
wait_for 5 sh -c "ls '$tmp/export' | grep -q '^tcpflowtop-.*\.csv$'" || fail "screen: no export"
"${T[@]}" send-keys "/"
"${T[@]}" send-keys C-u
"${T[@]}" send-keys -l "sport:$rst_c"
"${T[@]}" send-keys Enter
sleep 1.5
"${T[@]}" capture-pane -p >>"$tmp/screen"
grep -E "out +$fin_c +$fin_s +closed +fin +1234 +100000" "$tmp/screen" >/dev/null ||
	{ cat "$tmp/screen"; fail "screen: the fin client row"; }
grep -E "in +$rst_c +$rst_s +closed +reset-by-local +100000 +1234" "$tmp/screen" >/dev/null ||
	{ cat "$tmp/screen"; fail "screen: the reset server row"; }
echo "ok: screen rows"
got=$(python3 - "$tmp/export" "$fin_c" <<'EOF'
import csv, glob, sys
rows = [r for f in glob.glob(sys.argv[1] + "/*.csv") for r in csv.DictReader(open(f))]
r = [r for r in rows if r["src_port"] == sys.argv[2] and r["direction"] == "out"]
print(len(rows), " ".join(r[0][k] for k in ("state", "end", "closed_by", "bytes_in", "bytes_out")) if r else "")
EOF
)
[ "$got" = "2 closed fin local 1234 100000" ] || fail "the screen's CSV export: got '$got'"
echo "ok: the screen's CSV export: $got"
grep -E "cookies [1-9][0-9]* overflows [0-9]+ drops [0-9]+" "$tmp/screen" >/dev/null ||
	{ cat "$tmp/screen"; fail "screen: the header has no SYN cookie figures"; }
echo "ok: screen header: $(grep -oE "cookies [0-9]+ overflows [0-9]+ drops [0-9]+" "$tmp/screen" | head -1)"

kill -INT "$tftj" "$tftc" "$tftt"
wait "$tftj" "$tftc" "$tftt"
# The text stream: the fin conversation's client row, closed with its figures.
grep -E " close +out .* $fin_c .* $fin_s +closed .* fin +local .* 1234 +100000( |$)" "$tmp/out.txt" >/dev/null ||
	{ grep -E "$fin_c" "$tmp/out.txt"; fail "text stream: the fin client row's close"; }
echo "ok: text stream close record"
grep -iE "cookie" "$tmp/err.json" >/dev/null || { cat "$tmp/err.json"; fail "summary: no SYN cookie figures"; }
grep -E "reset-by-peer|reset by peer" "$tmp/err.json" >/dev/null || { cat "$tmp/err.json"; fail "summary: outcomes not counted"; }
echo "ok: summary"

# The recording replays to the same close records (socket records are recorded too).
"$TFT" -r "$tmp/rec.tftrec" --syn-timeout 2 --half-open 2 --batch --format json >"$tmp/replay.json" 2>"$tmp/err.replay" ||
	{ cat "$tmp/err.replay"; fail "replay"; }
# Each flow's last close record: a timer's second can fall either side of a
# late answer (live on the clock, replayed on record time), its final state
# not. Flows still open have figures live only (sampled from the sockets).
closes() {
	python3 -c '
import json, sys
last = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "close":
        last[r["id"]] = r
for i, r in sorted(last.items()):
    figures = (r.get("bytes_in"), r.get("bytes_out")) if r["end"] != "open" else ()
    print(i, r["state"], r["end"], r.get("closed_by"), *figures)
' "$1"
}
closes "$tmp/out.json" >"$tmp/c.live"
closes "$tmp/replay.json" >"$tmp/c.replay"
[ -s "$tmp/c.live" ] || fail "no close records"
diff "$tmp/c.live" "$tmp/c.replay" >&2 || fail "the replay's close records differ from the live ones"
echo "ok: replay: $(wc -l <"$tmp/c.live") close records as live"
echo "PASS"
