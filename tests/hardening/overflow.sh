#!/bin/sh
# Overflow: with the smallest ring (4096 bytes) a connect storm overflows it.
# (reader stopped for part of it). The loss is counted in the exit summary and in a JSON "lost" record, the
# process survives, and every flow that did arrive is one the storm made.
. "$(dirname "$0")/lib.sh"
TFT=$1
CONNSTORM=$2
need_root
need_cmd python3

CG=$(make_cgroup overflow)
N=20000
start_tft "$T_DIR/out.json" "$T_DIR/err" --batch --format json --ring-size 4096 --cgroup "$CG" \
	--duration 60
# First with the reader stopped, so the ring overflows for sure (a fast reader
# may keep up with a 64-record ring), then at full speed with it running.
kill -STOP "$T_TFT_PID"
in_cgroup "$CG" "$CONNSTORM" -n 2000 -c 2 -t 30 -l "$T_DIR/conns1" >"$T_DIR/storm" ||
	fail "connstorm: $(cat "$T_DIR/storm")"
kill -CONT "$T_TFT_PID"
in_cgroup "$CG" "$CONNSTORM" -n $N -c 2 -t 30 -l "$T_DIR/conns2" >>"$T_DIR/storm" ||
	fail "connstorm: $(cat "$T_DIR/storm")"
cat "$T_DIR/conns1" "$T_DIR/conns2" >"$T_DIR/conns"
sleep 0.3
kill -INT "$T_TFT_PID"
wait_exit "$T_TFT_PID" 10
[ "$T_RC" = 0 ] || fail "tcpflowtop exited $T_RC: $(tail -3 "$T_DIR/err")"
log "storms: $(cat "$T_DIR/storm" | tr '\n' ' ')"
log "summary: $(tail -1 "$T_DIR/err")"

python3 - "$T_DIR/out.json" "$T_DIR/conns" "$T_DIR/err" <<'PY' || fail "output check"
import collections, json, re, sys
out, conns, err = sys.argv[1:]
made = collections.Counter()
for line in open(conns):
    fam, sport, dport = line.split()
    made[(int(sport), int(dport))] += 1
summary = next(l for l in open(err).read().splitlines() if "flows seen" in l)
m = re.search(r"(\d+) flows seen .* (\d+) events lost", summary)
assert m, "no summary line: " + summary
seen, lost = int(m.group(1)), int(m.group(2))
assert lost > 0, "the 4096-byte ring did not overflow (lost 0): the test proves nothing"
flows = collections.Counter()
lost_records = []
for n, line in enumerate(open(out), 1):
    r = json.loads(line)  # every line is valid JSON
    if r["type"] == "lost":
        lost_records.append(r["events_lost"])
    elif r["type"] == "flow":
        assert r["family"] == 4 and r["src_addr"] == "127.0.0.1" and r["dst_addr"] == "127.0.0.1", line
        assert r["direction"] in ("in", "out"), line
        key = (r["src_port"], r["dst_port"])
        assert key in made, "line %d: flow %s was never made by the storm" % (n, key)
        flows[(r["direction"],) + key] += 1
for k, c in flows.items():
    assert c <= made[k[1:]], "flow %s printed %d times, made %d times" % (k, c, made[k[1:]])
assert lost_records, "no JSON lost record"
assert lost_records == sorted(lost_records), "lost counts go down"
assert lost_records[-1] == lost, "last lost record %d != summary %d" % (lost_records[-1], lost)
printed = sum(flows.values())
assert printed == seen, "printed %d flows, summary says %d" % (printed, seen)
print("# made %d connections, %d flows printed (of %d possible), %d events lost, all flows genuine"
      % (sum(made.values()), printed, 2 * sum(made.values()), lost))
PY
pass "overflow counted and reported; flows that arrived are correct"
