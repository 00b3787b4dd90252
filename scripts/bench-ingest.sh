#!/usr/bin/env bash
# Ingest, before and after, in one run: causet-loadgen against a baseline
# collector and the current one on the same workload, then `causet import`
# of an OTLP/JSON-lines file next to Python's json module parsing it.
# Prints one table with both columns and their ratio.
#
#   BASELINE=/path/to/old/causet scripts/bench-ingest.sh
#   scripts/bench-ingest.sh                  # the current build alone
#
# BASELINE: a causet binary built from an earlier commit (e.g. `git worktree
# add /tmp/old <rev>` and a release build there). BENCH_BIN: a folder holding
# causet, causet-loadgen and causet-datagen already built (skips the build).
# DURATION per loadgen run (default 15s); IMPORT_REQUESTS lines of 8 spans
# in the import file (default 100000). Needs python3 and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-15s}"
IMPORT_REQUESTS="${IMPORT_REQUESTS:-100000}"
. scripts/bench-bin.sh
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

declare -A SUBJECTS=([current]="$BIN/causet")
ORDER=(current)
if [ -n "${BASELINE:-}" ]; then
  SUBJECTS[baseline]="$BASELINE"
  ORDER=(baseline current)
fi

field() { python3 -c "import json,sys; v=json.loads(open(sys.argv[1]).read())[sys.argv[2]]; print('n/a' if v is None else v)" "$1" "$2"; }

echo "== machine: $(nproc) cores, $(uname -sr); loadgen runs of $DURATION"
for who in "${ORDER[@]}"; do
  causet="${SUBJECTS[$who]}"
  for run in grpc http grpc-gzip http-gzip; do
    proto="${run%%-*}"
    extra=()
    [[ "$run" == *gzip ]] && extra=(--gzip)
    "$BIN/causet-loadgen" --causet "$causet" --protocol "$proto" "${extra[@]}" \
      --duration "$DURATION" --json > "$WORK/$who-$run.json"
  done
  half=$(python3 -c "print(int(float('$(field "$WORK/$who-grpc.json" spans_per_s)') / 2))")
  "$BIN/causet-loadgen" --causet "$causet" --rate "$half" --duration "$DURATION" --json > "$WORK/$who-half.json"
done

"$BIN/causet-datagen" otlp --requests "$IMPORT_REQUESTS" --out "$WORK/import.jsonl" > /dev/null
# One OTLP/protobuf request of 64,000 spans (~51 MB, under the 64 MiB request limit).
"$BIN/causet-datagen" otlp --requests 8000 --protobuf --out "$WORK/import.pb" > /dev/null
pb_mb=$(python3 -c "import os; print(os.path.getsize('$WORK/import.pb') / 1e6)")
import_mb=$(python3 -c "import os; print(os.path.getsize('$WORK/import.jsonl') / 1e6)")
import_spans=$((IMPORT_REQUESTS * 8))
/usr/bin/time -f "%e %M" -o "$WORK/python.time" python3 -c "
import json, sys
for line in open(sys.argv[1], 'rb'):
    json.loads(line)" "$WORK/import.jsonl"
for who in "${ORDER[@]}"; do
  rm -rf "$WORK/import-data"
  /usr/bin/time -f "%e %M" -o "$WORK/$who-import.time" "${SUBJECTS[$who]}" --data "$WORK/import-data" import "$WORK/import.jsonl" > /dev/null
  rm -rf "$WORK/import-data"
  /usr/bin/time -f "%e %M" -o "$WORK/$who-import-pb.time" "${SUBJECTS[$who]}" --data "$WORK/import-data" import "$WORK/import.pb" > /dev/null
done

row() { # LABEL FILE-SUFFIX FIELD FORMAT
  local label="$1" suffix="$2" name="$3" fmt="$4" values=()
  for who in "${ORDER[@]}"; do values+=("$(field "$WORK/$who-$suffix.json" "$name")"); done
  python3 - "$label" "$fmt" "${values[@]}" <<'EOF'
import sys
label, fmt, *values = sys.argv[1:]
cells = [("n/a" if v == "n/a" else fmt % float(v)) for v in values]
ratio = ""
if len(values) == 2 and "n/a" not in values and float(values[0]) != 0:
    ratio = "%.2fx" % (float(values[1]) / float(values[0]))
print("%-52s %s %8s" % (label, " ".join("%14s" % c for c in cells), ratio))
EOF
}

printf '%-52s %s %8s\n' "figure" "$(for who in "${ORDER[@]}"; do printf '%14s ' "$who"; done)" "ratio"
for run in grpc http grpc-gzip http-gzip; do
  row "$run: spans/s acknowledged, flat out" "$run" spans_per_s "%.0f"
  row "$run: collector CPU µs/span" "$run" collector_cpu_us_per_span "%.3f"
  row "$run: prost decode-only floor µs/span (same run)" "$run" decode_only_cpu_us_per_span "%.3f"
  row "$run: collector CPU / decode floor" "$run" cpu_vs_decode_floor "%.2f"
  row "$run: collector peak RSS MiB" "$run" collector_peak_rss_mib "%.0f"
done
row "grpc: ack p99 ms, flat out" grpc ack_ms_p99 "%.1f"
row "grpc at half the flat-out rate: ack p50 ms" half ack_ms_p50 "%.1f"
row "grpc at half the flat-out rate: ack p99 ms" half ack_ms_p99 "%.1f"
row "OTLP protobuf bytes/span" grpc otlp_bytes_per_span "%.0f"
row "Parquet bytes/span" grpc parquet_bytes_per_span "%.1f"
row "Parquet / OTLP bytes" grpc parquet_vs_otlp_bytes "%.3f"

read -r py_s py_kib < "$WORK/python.time"
printf '\n== import of %.0f MB of OTLP/JSON lines (%d spans)\n' "$import_mb" "$import_spans"
printf '%-30s %10s %10s %12s %10s\n' "" "seconds" "MB/s" "spans/s" "peak MiB"
printf '%-30s %10.1f %10.1f %12.0f %10.0f\n' "python3 json.loads, each line" "$py_s" "$(python3 -c "print($import_mb / $py_s)")" "$(python3 -c "print($import_spans / $py_s)")" "$((py_kib / 1024))"
for who in "${ORDER[@]}"; do
  read -r s kib < "$WORK/$who-import.time"
  printf '%-30s %10.1f %10.1f %12.0f %10.0f\n' "causet import ($who)" "$s" "$(python3 -c "print($import_mb / $s)")" "$(python3 -c "print($import_spans / $s)")" "$((kib / 1024))"
done
printf '\n== import of one %.0f MB OTLP/protobuf request (64000 spans)\n' "$pb_mb"
for who in "${ORDER[@]}"; do
  read -r s kib < "$WORK/$who-import-pb.time"
  printf '%-30s %10.2f %10.1f %12.0f %10.0f\n' "causet import ($who)" "$s" "$(python3 -c "print($pb_mb / $s)")" "$(python3 -c "print(64000 / $s)")" "$((kib / 1024))"
done
