#!/usr/bin/env bash
# The README's first build, from nothing: the release `causet` binary with
# an empty target folder. COLD_REGISTRY=1 also starts from an empty cargo
# home, so every crate is downloaded and unpacked too. Prints the wall time,
# the CPU time (user + sys: steadier than wall time on a shared machine),
# the crates compiled and the binary's size, as built and stripped.
#
#   scripts/cold-build.sh                   # registry cached (~15-40 min on 2 cores)
#   COLD_REGISTRY=1 scripts/cold-build.sh   # nothing cached
#   FEATURES=full scripts/cold-build.sh      # with object storage and distributed queries
#
# Needs GNU time (/usr/bin/time) and strip (binutils).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export CARGO_TARGET_DIR="$WORK/target"
if [ "${COLD_REGISTRY:-0}" = 1 ]; then
  # rustup keeps the toolchain in RUSTUP_HOME; only the crate cache is new.
  export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  export CARGO_HOME="$WORK/cargo-home"
fi
echo "== cold build: cargo build --release --locked -p causet ${FEATURES:+--features $FEATURES }($(nproc) cores, registry $([ "${COLD_REGISTRY:-0}" = 1 ] && echo empty || echo cached))"
/usr/bin/time -f "%e %U %S" -o "$WORK/time" \
  cargo build --release --locked -p causet --bin causet ${FEATURES:+--features "$FEATURES"} 2> "$WORK/log"
read -r wall user sys < "$WORK/time"
crates=$(grep -c '^ *Compiling ' "$WORK/log" || true)
bin="$CARGO_TARGET_DIR/release/causet"
strip -o "$WORK/causet-stripped" "$bin"
mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
printf '%-28s %10.0f s\n' "wall" "$wall"
printf '%-28s %10.0f s\n' "CPU (user + sys)" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"
printf '%-28s %10s\n' "crates compiled" "$crates"
printf '%-28s %14s\n' "binary" "$(mib "$bin")"
printf '%-28s %14s\n' "binary, stripped" "$(mib "$WORK/causet-stripped")"
