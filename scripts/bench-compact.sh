#!/usr/bin/env bash
# What compaction is worth: a datagen set written as the collector writes
# it (a file per table, hour and 10 s flush: ~18,000 spans of this
# workload), then `causet report` before and after `causet compact` on the
# same data (the before run is the baseline), the files per table-hour, the
# compaction's own time and peak RSS, and whether the findings are the same.
#
#   scripts/bench-compact.sh                   # 1M spans
#   SPANS=10000000 scripts/bench-compact.sh    # 10M spans (about 1.5 h of trace time)
#
# Needs python3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS="${SPANS:-1000000}"
PER_FILE="${PER_FILE:-18000}"
RUNS="${RUNS:-3}"
. scripts/bench-bin.sh
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$BIN/causet-datagen" generate --spans "$SPANS" --spans-per-file "$PER_FILE" --data "$WORK/data" > /dev/null

# files per table-hour: "hours files max"
files() {
  find "$WORK/data/spans" -name '*.parquet' -printf '%h\n' | sort | uniq -c |
    awk '{ n++; f += $1; if ($1 > m) m = $1 } END { printf "%d %d %d\n", n, f, m }'
}
# runs the report RUNS times; prints "median_wall max_rss_kib" and keeps the findings in $1.
report() {
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time" \
      "$BIN/causet" --data "$WORK/data" report --format json -o "$WORK/report.json" 2> /dev/null || [ $? -le 1 ]
    tail -n 1 "$WORK/time"
  done > "$WORK/runs"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); json.dump(sorted(json.dumps(f, sort_keys=True) for f in d["findings"]), open(sys.argv[2], "w"))' \
    "$WORK/report.json" "$1"
  printf '%s %s\n' "$(cut -d' ' -f1 "$WORK/runs" | median)" "$(cut -d' ' -f2 "$WORK/runs" | sort -g | tail -n 1)"
}

read -r hours before_files before_max < <(files)
read -r before_wall before_rss < <(report "$WORK/before.json")
/usr/bin/time -f "%e %M" -o "$WORK/compact.time" "$BIN/causet" --data "$WORK/data" compact > "$WORK/compact.out"
read -r compact_wall compact_rss < <(tail -n 1 "$WORK/compact.time")
read -r _ after_files after_max < <(files)
read -r after_wall after_rss < <(report "$WORK/after.json")
same=$(cmp -s "$WORK/before.json" "$WORK/after.json" && echo yes || echo NO)

echo "== $SPANS spans, $PER_FILE per flush file, $hours span hours (medians of $RUNS reports)"
cat "$WORK/compact.out"
printf '%-34s %14s %14s %8s\n' "" before after ratio
printf '%-34s %14s %14s\n' "spans files (max per table-hour)" "$before_files ($before_max)" "$after_files ($after_max)"
printf '%-34s %14s %14s %8s\n' "report wall s" "$before_wall" "$after_wall" "$(awk -v a="$after_wall" -v b="$before_wall" 'BEGIN { printf "%.2f", a / b }')"
printf '%-34s %14s %14s\n' "report peak RSS MiB" "$((before_rss / 1024))" "$((after_rss / 1024))"
printf '%-34s %14s\n' "compact wall s, peak RSS MiB" "$compact_wall, $((compact_rss / 1024))"
printf '%-34s %14s\n' "same findings" "$same"
