#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one run, each next to its baseline
# measured in the same run. Prints the table of figures and ratios.
#
#   scripts/bench.sh                 # ingest, then analysis at 1M and 10M spans
#   SIZES="1000000" RUNS=1 scripts/bench.sh     # a quicker pass
#   SIZES="100000000" SKIP_INGEST=1 scripts/bench.sh   # the 100M-span run (~1 h, ~25 GB of disk)
#
# Ingest: causet-loadgen against a fresh `causet collect` (gRPC, 8
# connections), flat out and then at half that rate, RUNS times each; the
# decode-only floor is measured inside every run. Analysis: causet-datagen
# writes each dataset straight to Parquet, then `causet report --format
# json`, three SQL queries and, as the baseline, the concurrent-write query
# written by hand for DuckDB over the same Parquet files. Medians of RUNS
# (one run for datasets of 5M spans and more).
# Needs python3 (the duckdb package is installed into a venv under the
# build folder if missing) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
SIZES="${SIZES:-1000000 10000000}"
DURATION="${DURATION:-15s}"
# Analysis runs past this address-space limit (KiB) are stopped and
# reported as such instead of pushing the machine into swap.
MEM_LIMIT_KIB="${MEM_LIMIT_KIB:-20000000}"
# BENCH_BIN: a folder holding the binaries already built (skips the build).
. scripts/bench-bin.sh
WORK="${BENCH_WORK:-$(mktemp -d)}"
trap '[ -z "${BENCH_WORK:-}" ] && rm -rf "$WORK"' EXIT

PY="$CARGO_TARGET_DIR/bench-venv/bin/python"
if ! "$PY" -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$CARGO_TARGET_DIR/bench-venv"
  "$PY" -m pip install --quiet duckdb
fi

field() { "$PY" -c "import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print('n/a' if v is None else v)" "$1" "$2"; }

# timed LABEL CMD... -> "wall_s peak_rss_mib", or "failed failed" when it
# did not finish. Exit status 1 counts as finished (causet report: findings
# at --fail-on); 2 and up (errors, out of memory) do not.
timed() {
  local label="$1"; shift
  local status=0
  ( ulimit -v "$MEM_LIMIT_KIB"; /usr/bin/time -f "%e %M" -o "$WORK/$label.time" "$@" > "$WORK/$label.out" 2> "$WORK/$label.err" ) || status=$?
  if [ "$status" -le 1 ]; then
    read -r wall rss < <(tail -n 1 "$WORK/$label.time")
    echo "$wall $((rss / 1024))"
  else
    echo "failed failed"
  fi
}

echo "== machine"
echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), rustc $(rustc --version | cut -d' ' -f2)"

if [ -z "${SKIP_INGEST:-}" ]; then
echo
echo "== ingest (causet-loadgen, gRPC, 8 connections, $DURATION per run, $RUNS runs, medians)"
for run in $(seq "$RUNS"); do
  "$BIN/causet-loadgen" --duration "$DURATION" --json > "$WORK/ingest-max-$run.json"
done
max_rate=$(for run in $(seq "$RUNS"); do field "$(cat "$WORK/ingest-max-$run.json")" spans_per_s; done | median)
half=$(awk -v r="$max_rate" 'BEGIN { printf "%d", r / 2 }')
for run in $(seq "$RUNS"); do
  "$BIN/causet-loadgen" --duration "$DURATION" --rate "$half" --json > "$WORK/ingest-half-$run.json"
done
ingest() { # FILE-PREFIX FIELD
  for run in $(seq "$RUNS"); do field "$(cat "$WORK/$1-$run.json")" "$2"; done | median
}
printf '%-44s %14s\n' "spans/s acknowledged (flat out)" "$(ingest ingest-max spans_per_s | xargs printf '%.0f')"
printf '%-44s %14s\n' "collector CPU µs/span" "$(ingest ingest-max collector_cpu_us_per_span | xargs printf '%.3f')"
printf '%-44s %14s\n' "decode-only floor µs/span (same run)" "$(ingest ingest-max decode_only_cpu_us_per_span | xargs printf '%.3f')"
printf '%-44s %14s\n' "collector CPU / decode floor" "$(ingest ingest-max cpu_vs_decode_floor | xargs printf '%.2fx')"
printf '%-44s %14s\n' "ack p50 / p99 / max ms (flat out)" "$(ingest ingest-max ack_ms_p50 | xargs printf '%.1f') / $(ingest ingest-max ack_ms_p99 | xargs printf '%.1f') / $(ingest ingest-max ack_ms_max | xargs printf '%.1f')"
printf '%-44s %14s\n' "ack p50 / p99 / max ms (at $half spans/s)" "$(ingest ingest-half ack_ms_p50 | xargs printf '%.1f') / $(ingest ingest-half ack_ms_p99 | xargs printf '%.1f') / $(ingest ingest-half ack_ms_max | xargs printf '%.1f')"
printf '%-44s %14s\n' "collector peak RSS MiB" "$(ingest ingest-max collector_peak_rss_mib | xargs printf '%.0f')"
printf '%-44s %14s\n' "OTLP protobuf bytes/span" "$(ingest ingest-max otlp_bytes_per_span | xargs printf '%.0f')"
printf '%-44s %14s\n' "Parquet bytes/span" "$(ingest ingest-max parquet_bytes_per_span | xargs printf '%.1f')"
printf '%-44s %14s\n' "Parquet / OTLP bytes" "$(ingest ingest-max parquet_vs_otlp_bytes | xargs printf '%.3f')"
fi

HOT_KEY="key-0"
for size in $SIZES; do
  DATA="$WORK/data-$size"
  echo
  # Datasets of 5M spans and more take minutes per step: one run each.
  runs=$RUNS; [ "$size" -ge 5000000 ] && runs=1
  # From 50M spans on, the report and its scan baseline only: the SQL
  # queries hold the whole folder's graph (stopped by the memory limit) or
  # compare all pairs of the hot key's writes (hours).
  names="scan report concurrent_write concurrent_writes duckdb causal_past hb_edges hb_edges_5m"
  [ "$size" -ge 50000000 ] && names="scan report"
  echo "== analysis, $size spans ($runs runs, medians; wall s / peak RSS MiB)"
  rm -rf "$DATA"
  "$BIN/causet-datagen" generate --spans "$size" --data "$DATA" | tee "$WORK/gen-$size.out"
  deep=$("$BIN/causet" --data "$DATA" sql --format csv \
    "SELECT trace_id || ',' || span_id FROM spans WHERE write_key = '$HOT_KEY' ORDER BY start_time DESC LIMIT 1" | tail -n 1 | tr -d '"')
  trace="${deep%%,*}"; span="${deep##*,}"
  # Five minutes from the middle of the data, for the graph tables' time bounds.
  mid=$("$BIN/causet" --data "$DATA" sql --format csv \
    "SELECT (CAST(min(start_time) AS BIGINT) + CAST(max(start_time) AS BIGINT)) / 2 FROM spans" | tail -n 1)
  # Pairs of writes to the hot key that neither vector clock orders. The
  # key equality makes it a hash join: with only span_id < span_id,
  # DataFusion plans a nested-loop join that materialises a batch of one side
  # against all of the other (7 GB at 10M spans).
  cw_sql="SELECT count(*) AS concurrent FROM
    (SELECT span_id, write_key, vc FROM spans WHERE write_key = '$HOT_KEY' AND vc IS NOT NULL) a
    JOIN (SELECT span_id, write_key, vc FROM spans WHERE write_key = '$HOT_KEY' AND vc IS NOT NULL) b
    ON a.write_key = b.write_key AND a.span_id < b.span_id WHERE vc_compare(a.vc, b.vc) = 'concurrent'"
  cat > "$WORK/duckdb_query.py" <<EOF
import duckdb, sys
con = duckdb.connect()
print(con.execute("""
WITH w AS (
  SELECT span_id, write_key, vc FROM read_parquet('$DATA/spans/**/*.parquet')
  WHERE write_key = '$HOT_KEY' AND vc IS NOT NULL
)
SELECT count(*) FROM w a JOIN w b ON a.write_key = b.write_key AND a.span_id < b.span_id
WHERE list_bool_or(list_transform(map_keys(a.vc), lambda k: a.vc[k] > coalesce(b.vc[k], 0)))
  AND list_bool_or(list_transform(map_keys(b.vc), lambda k: b.vc[k] > coalesce(a.vc[k], 0)))
""").fetchone()[0])
EOF
  for name in $names; do
    : > "$WORK/$name.walls"; : > "$WORK/$name.rss"
  done
  for run in $(seq "$runs"); do
    for name in $names; do
      case "$name" in
        scan) cmd=("$BIN/causet" --data "$DATA" sql --format csv "SELECT count(*), sum(length(name)), max(end_time - start_time) FROM spans") ;;
        report) cmd=(env RUST_LOG=causet=info "$BIN/causet" --data "$DATA" report --format json -o "$WORK/report-$size.json") ;;
        concurrent_write) cmd=("$BIN/causet" --data "$DATA" sql --format csv "$cw_sql") ;;
        concurrent_writes) cmd=("$BIN/causet" --data "$DATA" sql --format csv "SELECT count(*) AS concurrent FROM concurrent_writes('$HOT_KEY')") ;;
        duckdb) cmd=("$PY" "$WORK/duckdb_query.py") ;;
        causal_past) cmd=("$BIN/causet" --data "$DATA" sql --format csv "SELECT count(*) FROM causal_past('$trace', '$span')") ;;
        hb_edges) cmd=("$BIN/causet" --data "$DATA" sql --format csv "SELECT count(*) FROM hb_edges") ;;
        hb_edges_5m) cmd=("$BIN/causet" --data "$DATA" sql --format csv "SELECT count(*) FROM hb_edges WHERE from_time >= to_timestamp_nanos($mid) AND from_time < to_timestamp_nanos($mid + 300000000000)") ;;
      esac
      read -r w r < <(timed "$name" "${cmd[@]}")
      echo "$w" >> "$WORK/$name.walls"; echo "$r" >> "$WORK/$name.rss"
      cp "$WORK/$name.out" "$WORK/$name-$size.out" 2>/dev/null || true
    done
  done
  med() { if [ ! -s "$WORK/$1.$2" ]; then echo "n/a"; elif grep -q failed "$WORK/$1.$2"; then echo "did not finish"; else median < "$WORK/$1.$2"; fi; }
  for name in $names; do
    printf '%-44s %10s s %10s MiB\n' "$name" "$(med "$name" walls)" "$(med "$name" rss)"
  done
  causet_pairs=$(tail -n 1 "$WORK/concurrent_write-$size.out" 2>/dev/null || echo "?")
  function_pairs=$(tail -n 1 "$WORK/concurrent_writes-$size.out" 2>/dev/null || echo "?")
  duck_pairs=$(tail -n 1 "$WORK/duckdb-$size.out" 2>/dev/null || echo "?")
  printf '%-44s %14s\n' "concurrent pairs on $HOT_KEY (join / function / DuckDB)" "$causet_pairs / $function_pairs / $duck_pairs"
  ratio() { awk -v d="$(med duckdb walls)" -v c="$(med "$1" walls)" 'BEGIN { if (c + 0 > 0 && d + 0 > 0) printf "%.1fx", d / c; else print "n/a" }'; }
  printf '%-44s %14s\n' "DuckDB / causet, self-join" "$(ratio concurrent_write)"
  printf '%-44s %14s\n' "DuckDB / causet, concurrent_writes(key)" "$(ratio concurrent_writes)"
  printf '%-44s %14s\n' "analysis bytes/span (graph + facts, peak window)" \
    "$(grep -o 'analysis_bytes_per_span=[0-9]*' "$WORK/report.err" | tail -n 1 | cut -d= -f2)"
  printf '%-44s %14s\n' "windows / spans read (leads, horizons included)" \
    "$(grep -o ' windows=[0-9]*' "$WORK/report.err" | tail -n 1 | cut -d= -f2) / $(grep -o 'spans_read=[0-9]*' "$WORK/report.err" | tail -n 1 | cut -d= -f2)"
  printf '%-44s %14s\n' "report / scan, wall" \
    "$(awk -v r="$(med report walls)" -v s="$(med scan walls)" 'BEGIN { if (s + 0 > 0 && r + 0 > 0) printf "%.1fx", r / s; else print "n/a" }')"
  if [ -s "$WORK/report-$size.json" ]; then
    "$BIN/causet-datagen" score --truth "$DATA/truth.json" --report "$WORK/report-$size.json"
  else
    echo "report did not finish: $(tail -n 2 "$WORK/report.err" | tr '\n' ' ')"
  fi
  rm -rf "$DATA"
done
