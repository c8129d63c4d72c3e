#!/bin/sh
# Pairing under a storm: with a ring per CPU, a SYN-ACK may be queued on another
# CPU than its SYN and read before it. Every connection of a bounded loopback
# storm (both ends in the watched cgroup, client threads on every CPU, IPv4 and
# IPv6) must come out as one outgoing and one incoming flow, each accepted,
# with a handshake time that is not negative; anything missing is covered by
# the events the summary says were lost.
. "$(dirname "$0")/lib.sh"
TFT=$1
CONNSTORM=$2
need_root
need_cmd python3

CG=$(make_cgroup pairing)
THREADS=$(($(nproc) * 2))
start_tft "$T_DIR/out.json" "$T_DIR/err" --batch --format json --cgroup "$CG" --duration 60
in_cgroup "$CG" "$CONNSTORM" -n 20000 -c "$THREADS" -t 30 -l "$T_DIR/conns4" >"$T_DIR/storm" ||
	fail "connstorm: $(cat "$T_DIR/storm")"
in_cgroup "$CG" "$CONNSTORM" -6 -n 5000 -c "$THREADS" -t 30 -l "$T_DIR/conns6" >>"$T_DIR/storm" ||
	fail "connstorm -6: $(cat "$T_DIR/storm")"
cat "$T_DIR/conns4" "$T_DIR/conns6" >"$T_DIR/conns"
sleep 0.3
kill -INT "$T_TFT_PID"
wait_exit "$T_TFT_PID" 10
[ "$T_RC" = 0 ] || fail "tcpflowtop exited $T_RC: $(tail -3 "$T_DIR/err")"
log "$(nproc) CPUs, $THREADS client threads; storms: $(tr '\n' ' ' <"$T_DIR/storm")"
log "summary: $(grep 'flows seen' "$T_DIR/err")"

python3 - "$T_DIR/out.json" "$T_DIR/conns" "$T_DIR/err" <<'PY' || fail "pairing check"
import collections, json, re, sys
out, conns, err = sys.argv[1:]
made = collections.Counter()  # a 4-tuple may come back within a storm
for line in open(conns):
    fam, sport, dport = line.split()
    made[(int(fam), int(sport), int(dport))] += 1
summary = next(l for l in open(err).read().splitlines() if "flows seen" in l)
m = re.search(r"(\d+) flows seen .* (\d+) events lost", summary)
seen, lost = int(m.group(1)), int(m.group(2))
flows = {}   # id -> [key, states...]
for line in open(out):
    r = json.loads(line)
    if r["type"] not in ("flow", "update"):
        continue
    key = (r["family"], r["src_port"], r["dst_port"], r["direction"])
    if r["type"] == "flow":
        assert r["id"] not in flows, "flow id %d twice" % r["id"]
        assert key[:3] in made, "flow %s was never made by the storm" % (key,)
        flows[r["id"]] = [key, r["state"], r["handshake_ms"]]
    else:
        f = flows[r["id"]]
        assert f[0] == key, "update of flow %d changed its key" % r["id"]
        f[1], f[2] = r["state"], r["handshake_ms"]
by_key = collections.Counter(f[0] for f in flows.values())
dup = [k for k, c in by_key.items() if c > made[k[:3]]]
assert not dup, "connections shown more often than made: %s" % dup[:5]
missing = [(c, d) for c, n in made.items() for d in ("in", "out") for _ in range(n - by_key[c + (d,)])]
pending = [f[0] for f in flows.values() if f[1] not in ("accepted", "established")]
negative = [f[0] for f in flows.values() if f[2] is not None and f[2] < 0]
assert not negative, "negative handshake times: %s" % negative[:5]
assert len(flows) == seen, "printed %d flows, summary says %d" % (len(flows), seen)
assert len(missing) + len(pending) <= lost, \
    "%d flows missing and %d not accepted (e.g. %s), but only %d events lost" % (
        len(missing), len(pending), (missing + pending)[:3], lost)
print("# %d connections, %d flows, all paired and accepted but %d missing and %d pending; %d events lost"
      % (sum(made.values()), len(flows), len(missing), len(pending), lost))
PY
pass "every connection of the storm paired with the right state, or its loss counted"
