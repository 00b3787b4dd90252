#!/usr/bin/env bash
# One client and three `causet worker`s on loopback against one process (the
# baseline), on the same datagen set written as the collector writes it:
# an aggregate over `spans`, a self-join of each span to its parent, and
# `causet report`, interleaved. Prints wall time, peak RSS and CPU seconds
# of the client (or the one process), the CPU seconds each worker spent
# (how the work divides), whether the answers are the same, and the
# distributed plan with each stage's tasks and rows (EXPLAIN ANALYZE).
# This machine's cores are shared by all four processes, so the ratio is
# the overhead of going distributed, not a speed-up.
#
#   scripts/bench-workers.sh                     # 1M spans, 3 runs each
#   SPANS=200000 RUNS=1 scripts/bench-workers.sh
#
# Needs python3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS="${SPANS:-1000000}"
PER_FILE="${PER_FILE:-18000}"
RUNS="${RUNS:-3}"
. scripts/bench-bin.sh
WORK="$(mktemp -d)"
PIDS=()
trap 'kill "${PIDS[@]}" 2> /dev/null; rm -rf "$WORK"' EXIT

"$BIN/causet-datagen" generate --spans "$SPANS" --spans-per-file "$PER_FILE" --data "$WORK/data" > /dev/null
ADDRS=()
for i in 1 2 3; do
  "$BIN/causet" --data "$WORK/data" worker --listen 127.0.0.1:0 --ready-file "$WORK/w$i.ready" 2> "$WORK/w$i.log" &
  PIDS+=($!)
done
for i in 1 2 3; do
  while [ ! -s "$WORK/w$i.ready" ]; do sleep 0.1; done
  ADDRS+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["worker"])' "$WORK/w$i.ready")")
done
WORKERS="$(IFS=,; echo "${ADDRS[*]}")"

# CPU seconds each worker has used so far, space-separated.
cpu() {
  for pid in "${PIDS[@]}"; do
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f ", ($14 + $15) / hz }' "/proc/$pid/stat"
  done
}
# run NAME ARGS...: one timed run into $WORK/NAME.out; appends
# "wall rss client_cpu cpu1 cpu2 cpu3".
run() {
  local name="$1"
  shift
  local before after
  before="$(cpu)"
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$BIN/causet" --data "$WORK/data" "$@" > "$WORK/$name.out" 2> /dev/null || [ $? -le 1 ]
  after="$(cpu)"
  printf '%s %s\n' "$(tail -n 1 "$WORK/time" | awk '{ printf "%s %s %.2f", $1, $2, $3 + $4 }')" \
    "$(python3 -c 'import sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(" ".join(f"{float(y) - float(x):.2f}" for x, y in zip(a, b)))' "$before" "$after")" \
    >> "$WORK/$name.runs"
}

AGG="SELECT node, count(*) AS spans, count(DISTINCT trace_id) AS traces, max(end_time - start_time) AS longest FROM spans GROUP BY node ORDER BY node"
JOIN="SELECT p.node AS caller, c.node AS callee, count(*) AS calls FROM spans c JOIN spans p ON c.trace_id = p.trace_id AND c.parent_span_id = p.span_id WHERE c.node <> p.node GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 50"
for _ in $(seq "$RUNS"); do
  run agg-one sql --format json "$AGG"
  run agg-three sql --format json --workers "$WORKERS" "$AGG"
  run join-one sql --format json "$JOIN"
  run join-three sql --format json --workers "$WORKERS" "$JOIN"
  run report-one report --format json
  run report-three report --format json --workers "$WORKERS"
done
findings() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(sorted(json.dumps(f, sort_keys=True) for f in d["findings"])))' "$1"
}
same() { cmp -s "$1" "$2" && echo yes || echo NO; }

col() { cut -d' ' -f"$1" "$WORK/$2.runs" | median; }
max() { cut -d' ' -f"$1" "$WORK/$2.runs" | sort -g | tail -n 1; }
echo "== $SPANS spans in $(find "$WORK/data" -name '*.parquet' | wc -l) files; medians of $RUNS interleaved runs; 3 workers on the same 2 cores"
printf '%-7s %7s %8s %6s %9s %11s %8s %11s %20s %5s\n' "" "one s" "three s" ratio "one MiB" "client MiB" "one CPU" "client CPU" "worker CPU (1 2 3)" same
for q in agg join report; do
  if [ "$q" = report ]; then
    s="$(same <(findings "$WORK/report-one.out") <(findings "$WORK/report-three.out"))"
  else
    s="$(same "$WORK/$q-one.out" "$WORK/$q-three.out")"
  fi
  printf '%-7s %7s %8s %6s %9s %11s %8s %11s %20s %5s\n' "$q" "$(col 1 "$q-one")" "$(col 1 "$q-three")" \
    "$(awk -v a="$(col 1 "$q-three")" -v b="$(col 1 "$q-one")" 'BEGIN { printf "%.2f", a / b }')" \
    "$(($(max 2 "$q-one") / 1024))" "$(($(max 2 "$q-three") / 1024))" \
    "$(col 3 "$q-one")" "$(col 3 "$q-three")" \
    "$(col 4 "$q-three") $(col 5 "$q-three") $(col 6 "$q-three")" "$s"
done
echo
echo "== EXPLAIN ANALYZE of the aggregate with the workers (rows per task)"
"$BIN/causet" --data "$WORK/data" sql --format csv --workers "$WORKERS" "EXPLAIN ANALYZE $AGG" |
  grep -E 'Stage|tasks=|output_rows' | sed -E 's/(output_rows=[^,]*).*/\1/' | cut -c1-160 | head -40
