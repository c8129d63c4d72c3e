#!/usr/bin/env bash
# Replay (-r) of a recorded session (fixture.tftrec, made by make_fixture.sh):
# - it prints what the live run printed (fixture.live.json), and the text,
#   CSV and JSON outputs match the golden files byte for byte, with and
#   without --filter and --count, at full speed and with --realtime;
# - a truncated, corrupt or foreign file gets a clear error with the offset,
#   after every record before the bad one;
# - the screen shows a replay (tmux) and quits on q.
# Needs neither root nor BPF.
#   test_replay.sh TCPFLOWTOP
set -u
TFT=$(realpath "$1")
DIR=$(cd "$(dirname "$0")" && pwd)
FIX=$DIR/fixture.tftrec
tmp=$(mktemp -d /tmp/tft-replay.XXXXXX)
SOCK=tft-replay-$$
cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }
export TZ=UTC LC_ALL=C

# golden NAME ARGS...: -r FIX ARGS must print exactly golden NAME, exit 0.
golden() {
	local name=$1
	shift
	"$TFT" -r "$FIX" "$@" >"$tmp/out" 2>"$tmp/err" || fail "$name: exit $? ($(cat "$tmp/err"))"
	cmp -s "$tmp/out" "$DIR/$name" || {
		diff "$DIR/$name" "$tmp/out" | head -20
		fail "$name differs"
	}
	ok "$name"
}
golden fixture.live.json -f json
golden golden.text -f text
golden golden.csv -f csv
golden golden.json -f json
golden golden-filter.csv -f csv --filter refused
golden golden-count.text -f text -6 -c 2
# Filters on names see the recorded names in a stream too: exactly the golden lines naming alias.
for term in alias dnames:alias; do
	"$TFT" -r "$FIX" -f csv --filter "$term" >"$tmp/out" 2>/dev/null || fail "--filter $term: exit $?"
	{ head -1 "$DIR/golden.csv"; grep 'alias\.tft\.test' "$DIR/golden.csv"; } | cmp -s - "$tmp/out" ||
		fail "--filter $term: not the golden lines that name alias.tft.test"
	[ "$(wc -l <"$tmp/out")" -gt 1 ] || fail "--filter $term: no lines"
done
ok "names filters in a stream"
# --count with a state filter: the refused flow's first record introduces it
# (event new), nothing of a flow never introduced, and the count ends the run.
"$TFT" -r "$FIX" -f csv -c 1 --filter refused >"$tmp/out" 2>"$tmp/err" || fail "-c 1 --filter refused: exit $?"
[ "$(tail -n +2 "$tmp/out" | wc -l)" = 1 ] || { cat "$tmp/out"; fail "-c 1 --filter refused: not one record"; }
tail -n +2 "$tmp/out" | grep -q '^[^,]*,new,5,.*,refused,' || { cat "$tmp/out"; fail "-c 1 --filter refused: not a new record"; }
"$TFT" -r "$FIX" -f csv -c 3 >"$tmp/out" 2>"$tmp/err" || fail "-c 3: exit $?"
awk -F, 'NR > 1 && $2 == "new" { n[$3] = 1 } NR > 1 && !n[$3] { bad = 1 } END { exit bad }' "$tmp/out" ||
	{ cat "$tmp/out"; fail "-c 3: a record for a flow never introduced"; }
[ "$(grep -c ',new,' "$tmp/out")" = 3 ] || fail "-c 3: not three flows"
ok "--count with a state filter: introduced by a new record, no orphans"
grep -q '"type":"lost"' "$DIR/golden.json" || fail "the fixture records no lost events"
grep -q '"events lost\|1137 events lost' "$tmp/err" 2>/dev/null
"$TFT" -r "$FIX" -f json 2>&1 >/dev/null | grep -q "1137 events lost" || fail "summary lacks the recorded losses"
ok "losses reported as recorded"

# A full disk on stdout: exit 1 and the error said once, not again by the final flush.
"$TFT" -r "$FIX" -f json >/dev/full 2>"$tmp/err"
[ $? = 1 ] || fail "/dev/full: exit status not 1"
[ "$(grep -c 'writing the output failed: No space left on device' "$tmp/err")" = 1 ] ||
	fail "/dev/full: the error is not said exactly once: $(cat "$tmp/err")"
ok "/dev/full: one error line, exit 1"

# --group-by on the replay: blocks on the recorded times; the last block's groups sum to the
# recording's outgoing (remote) and incoming (listener) flows; the three formats agree.
for kind in remote:24 listener:18; do
	k=${kind%%:*} want=${kind#*:}
	"$TFT" -r "$FIX" --group-by "$k" -f csv >"$tmp/g.csv" 2>/dev/null || fail "--group-by $k csv: exit $?"
	"$TFT" -r "$FIX" --group-by "$k" -f json >"$tmp/g.json" 2>/dev/null || fail "--group-by $k json: exit $?"
	"$TFT" -r "$FIX" --group-by "$k" -f text >"$tmp/g.text" 2>/dev/null || fail "--group-by $k text: exit $?"
	last=$(tail -1 "$tmp/g.csv" | cut -d, -f1)
	sum=$(awk -F, -v t="$last" '$1 == t { s += $5 } END { print s }' "$tmp/g.csv")
	[ "$sum" = "$want" ] || fail "--group-by $k: last block sums to $sum flows, not $want"
	python3 - "$tmp/g.csv" "$tmp/g.json" "$tmp/g.text" <<'PY' || fail "--group-by $k: formats differ"
import csv, json, sys
rows_csv = list(csv.DictReader(open(sys.argv[1])))
rows_json = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows_csv) == len(rows_json), "row counts"
for c, j in zip(rows_csv, rows_json):
    for k, v in c.items():
        if k in ("remote", "local"):
            continue  # names: CSV defuses and escapes them, JSON keeps their bytes
        jv = j[k]
        assert (v == "" and jv is None) or v == (str(jv) if not isinstance(jv, float) else v) and (
            not isinstance(jv, float) or abs(float(v) - jv) < 1e-9), (k, v, jv)
text_blocks = [l for l in open(sys.argv[3]) if l.startswith("# ")]
assert len(text_blocks) == len({r["time"] for r in rows_csv}), "blocks"
PY
done
"$TFT" -r "$FIX" --group-by remote -f csv 2>/dev/null | grep -q 'web6\.tft\.test,60543,1,[0-9.]*,0,100\.0' ||
	fail "--group-by remote: the refused flow to web6.tft.test"
"$TFT" -r "$FIX" --group-by remote -f text 2>/dev/null | grep -q '^=x\\x1b\[31mred\.evil\.test ' ||
	fail "--group-by remote: a hostile name is not escaped in text"
ok "--group-by on a replay: sums, formats agree, names escaped"

# --realtime: the same output, no faster than the recording.
first=$(head -1 "$DIR/golden.json" | sed 's/.*"time":"[^T]*T\([0-9:.]*\)Z.*/\1/')
last=$(tail -1 "$DIR/golden.json" | sed 's/.*"time":"[^T]*T\([0-9:.]*\)Z.*/\1/')
span_ms=$(awk -v a="$first" -v b="$last" 'BEGIN { split(a, x, ":"); split(b, y, ":");
	print int(((y[1] - x[1]) * 3600 + (y[2] - x[2]) * 60 + (y[3] - x[3])) * 1000) }')
start=$(date +%s%N)
"$TFT" -r "$FIX" -f json --realtime >"$tmp/out" 2>/dev/null || fail "--realtime exit $?"
took_ms=$((($(date +%s%N) - start) / 1000000))
cmp -s "$tmp/out" "$DIR/golden.json" || fail "--realtime output differs"
[ "$took_ms" -ge $((span_ms * 9 / 10)) ] || fail "--realtime took $took_ms ms for a $span_ms ms recording"
ok "--realtime: $took_ms ms for $span_ms ms recorded"

# bad_file NAME FILE PATTERN: exit 1, one error line matching PATTERN,
# and the records before the bad one printed (a prefix of the golden JSON).
bad_file() {
	local name=$1 file=$2 pattern=$3 n
	"$TFT" -r "$file" -f json >"$tmp/out" 2>"$tmp/err"
	[ $? = 1 ] || fail "$name: exit status not 1"
	grep -q "$pattern" "$tmp/err" || fail "$name: error '$(cat "$tmp/err")' lacks '$pattern'"
	n=$(wc -l <"$tmp/out")
	head -n "$n" "$DIR/golden.json" | cmp -s - "$tmp/out" || fail "$name: output is not a prefix of the golden one"
	ok "$name: $(grep -m1 "$pattern" "$tmp/err") ($n lines before it)"
}
size=$(stat -c %s "$FIX")
head -c $((size - 5)) "$FIX" >"$tmp/cut"
bad_file truncated "$tmp/cut" "ends inside a record at offset [0-9]"
[ "$(wc -l <"$tmp/out")" -gt 40 ] || fail "truncated: records before the cut were lost"
cp "$FIX" "$tmp/corrupt"
# The length of a record past the middle of the file becomes 0xffff.
off=$(python3 - "$FIX" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = struct.unpack_from("<H", d, 10)[0]
while off < len(d) // 2:
    off += 8 + struct.unpack_from("<I", d, off)[0]
print(off)
PY
)
printf '\377\377' | dd of="$tmp/corrupt" bs=1 seek="$off" conv=notrunc status=none
bad_file corrupt "$tmp/corrupt" "corrupt record length 65535 at offset $off"
[ "$(wc -l <"$tmp/out")" -gt 10 ] || fail "corrupt: records before it were lost"
bad_file foreign /etc/passwd "not a tcpflowtop record file"
bad_file missing "$tmp/nonexistent" "No such file"
head -c 12 "$FIX" >"$tmp/short"
bad_file short-header "$tmp/short" "header is cut short"

# Flags a replay cannot honour: usage errors (64).
for args in "--cgroup /" "--ring-size 8192" "--dns-port 5353" "-w $tmp/x"; do
	"$TFT" -r "$FIX" $args >/dev/null 2>"$tmp/err"
	[ $? = 64 ] || fail "-r with $args: not a usage error"
done
"$TFT" --realtime -b >/dev/null 2>"$tmp/err"
[ $? = 64 ] && grep -q "give -r" "$tmp/err" || fail "--realtime without -r"
ok "flags a replay cannot honour are refused"

# The screen: a replay in a tmux pane, rows with names, q quits.
if command -v tmux >/dev/null; then
	tmux -L "$SOCK" -f /dev/null new-session -d -s r -x 160 -y 40 \
		"TZ=UTC $TFT -r $FIX --sort +time; echo exit=\$? >$tmp/screen-rc; sleep 5"
	for _ in $(seq 50); do
		tmux -L "$SOCK" capture-pane -p -t r | grep -q "alias.tft.test" && break
		sleep 0.1
	done
	tmux -L "$SOCK" capture-pane -p -t r >"$tmp/pane"
	grep -q "replay of" "$tmp/pane" || { cat "$tmp/pane"; fail "screen: no replay header"; }
	grep -q "alias.tft.test +2" "$tmp/pane" || { cat "$tmp/pane"; fail "screen: no names"; }
	grep -q "lost 1137" "$tmp/pane" || { cat "$tmp/pane"; fail "screen: no recorded losses"; }
	tmux -L "$SOCK" send-keys -t r q
	for _ in $(seq 50); do
		[ -s "$tmp/screen-rc" ] && break
		sleep 0.1
	done
	grep -q "exit=0" "$tmp/screen-rc" || fail "screen: q did not exit 0"
	ok "screen replay"
else
	echo "SKIP (loudly): no tmux, the screen replay is not checked" >&2
fi
echo "PASS: replay"
