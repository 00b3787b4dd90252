#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints the executions of
# each. Needs the nightly toolchain and cargo-fuzz (installed if missing).
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# An input that crashes a target is saved under fuzz/artifacts/TARGET/; copy
# it into fuzz/regressions/TARGET/ and the regression test replays it
# (cargo test -p causet-collector --test it fuzz). To refresh the seeds
# from a longer run: cargo +nightly fuzz cmin -O TARGET, then
# fuzz/seeds.py pack fuzz/corpus/TARGET fuzz/seeds/TARGET.bin.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
export CARGO_TARGET_DIR="${CAUSET_FUZZ_TARGET_DIR:-$HOME/.cache/causet-fuzz}"
command -v cargo-fuzz >/dev/null || cargo +nightly install cargo-fuzz --locked

# Seeds: the committed seed inputs, every regression, and the labelled
# samples for JSON.
for target in otlp_protobuf otlp_json clocks wal_segment; do
  python3 fuzz/seeds.py unpack "fuzz/seeds/$target.bin" "fuzz/corpus/$target"
  [ -d "fuzz/regressions/$target" ] && cp -n fuzz/regressions/"$target"/* "fuzz/corpus/$target/" 2>/dev/null || true
done
cp -n samples/*.otlp.json fuzz/corpus/otlp_json/ 2>/dev/null || true

cargo +nightly fuzz build -O
for target in otlp_protobuf otlp_json clocks wal_segment; do
  log="fuzz/artifacts/$target.log"
  mkdir -p fuzz/artifacts
  status=0
  cargo +nightly fuzz run -O "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=1048576 -print_final_stats=1 >"$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  printf '%-14s %ss  %s executions  %s\n' "$target" "$seconds" "$execs" \
    "$([ "$status" = 0 ] && echo "no crash" || echo "CRASH (exit $status, see $log)")"
done
