#!/usr/bin/env bash
# Detector benchmark: spans with injected anomalies (the demo's store, every
# fault family), then the full analysis (`causet report`), timed against a
# plain scan of the same spans measured in the same run.
#
#   scripts/bench-detect.sh [REQUESTS]     # default 140000 requests, about 1M spans
#
# Prints spans, wall time and peak RSS of the scan and of the report, their
# ratio, and the demo's precision and recall per finding kind.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${1:-140000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/causet-target}"
cargo build --release --locked --quiet
BIN="$CARGO_TARGET_DIR/release/causet"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
DATA="$WORK/data"

measure() { # label, command... -> "label wall_s peak_rss_mib"
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/$label.out" 2>/dev/null || true
  # The last line: /usr/bin/time puts "Command exited with ..." before it on failure.
  read -r wall rss < <(tail -n 1 "$WORK/time")
  echo "$label $wall $((rss / 1024))"
}

measure demo "$BIN" --data "$DATA" demo --requests "$REQUESTS" --seed 1 > "$WORK/demo.time"
SPANS=$("$BIN" --data "$DATA" sql --format csv "SELECT count(*) FROM spans" | tail -1)
read -r _ scan_wall scan_rss < <(measure scan "$BIN" --data "$DATA" sql --format csv "SELECT count(*), sum(length(name)), max(end_time - start_time) FROM spans")
read -r _ report_wall report_rss < <(measure report "$BIN" --data "$DATA" report --format json -o "$WORK/report.json" --fail-on high)
FINDINGS=$(grep -o '"findings": [0-9]*' "$WORK/report.json" | head -1 | grep -o '[0-9]*$')

printf '\n%-34s %12s\n' "spans" "$SPANS"
printf '%-34s %12s\n' "findings" "$FINDINGS"
printf '%-34s %10s s %8s MiB\n' "scan of the spans (baseline)" "$scan_wall" "$scan_rss"
printf '%-34s %10s s %8s MiB\n' "full analysis (causet report)" "$report_wall" "$report_rss"
printf '%-34s %12s\n' "analysis / scan, wall" "$(awk -v a="$report_wall" -v b="$scan_wall" 'BEGIN { printf "%.1fx", a / (b > 0 ? b : 0.01) }')"
printf '%-34s %12s\n' "analysis spans/s" "$(awk -v s="$SPANS" -v w="$report_wall" 'BEGIN { printf "%.0f", s / (w > 0 ? w : 0.01) }')"
echo
awk '/against the truth/,/^$/' "$WORK/demo.out"
