# Sourced by the bench scripts: the release binaries they run, and median.
#
# BENCH_BIN: a folder holding causet, causet-loadgen and causet-datagen
# already built (skips the build); otherwise they are built into
# CARGO_TARGET_DIR (default ~/.cache/causet-bench), with every feature (object
# storage and distributed queries too). Sets BIN to that folder.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/causet-bench}"
if [ -z "${BENCH_BIN:-}" ]; then
  cargo build --release --locked --quiet -p causet -p causet-bench --bins --features causet/full
fi
BIN="${BENCH_BIN:-$CARGO_TARGET_DIR/release}"

# median: the median of the numbers on stdin, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
