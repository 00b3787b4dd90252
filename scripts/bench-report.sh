#!/usr/bin/env bash
# What a person opening the nightly report waits for and downloads: on the
# demo's data and on a datagen set, `causet report` as JSON, Markdown and
# HTML (time, peak RSS, size, incidents), and Chromium opening the HTML
# next to the same Chromium opening a blank page (the baseline, same run;
# medians of 3).
#
#   scripts/bench-report.sh                  # demo data and 1M datagen spans
#   SPANS=10000000 scripts/bench-report.sh   # a bigger datagen set
#
# Needs chromium, python3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS="${SPANS:-1000000}"
. scripts/bench-bin.sh
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# opens PAGE in headless Chromium 3 times; prints the median wall seconds.
opens() {
  for _ in 1 2 3; do
    /usr/bin/time -f "%e" -o "$WORK/open.time" chromium --headless --no-sandbox --disable-gpu \
      --user-data-dir="$WORK/profile" --dump-dom "file://$1" > /dev/null 2>&1
    cat "$WORK/open.time"
  done | median
}
echo '<!doctype html><html><body>blank</body></html>' > "$WORK/blank.html"

"$BIN/causet" --data "$WORK/demo" demo > /dev/null
"$BIN/causet-datagen" generate --spans "$SPANS" --data "$WORK/datagen" > /dev/null

printf '%-8s %-8s %8s %9s %10s %10s %9s %9s %6s\n' data format wall_s rss_mib bytes findings incidents open_s ratio
for data in demo datagen; do
  for format in json md html; do
    out="$WORK/$data.$format"
    /usr/bin/time -f "%e %M" -o "$WORK/report.time" \
      "$BIN/causet" --data "$WORK/$data" report --format "$format" -o "$out" 2> /dev/null || [ $? -le 1 ]
    read -r wall rss < <(tail -n 1 "$WORK/report.time")
    if [ "$format" = json ]; then
      read -r findings incidents < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["summary"]["findings"], len(d["incidents"]))' "$out")
    fi
    open="-" ratio="-"
    if [ "$format" = html ]; then
      blank=$(opens "$WORK/blank.html")
      open=$(opens "$out")
      ratio=$(awk -v a="$open" -v b="$blank" 'BEGIN { printf "%.2f", a / b }')
    fi
    printf '%-8s %-8s %8s %9s %10s %10s %9s %9s %6s\n' "$data" "$format" "$wall" "$((rss / 1024))" \
      "$(stat -c %s "$out")" "$findings" "$incidents" "$open" "$ratio"
  done
done
echo "(open_s: Chromium loading the page and dumping its DOM; ratio: against a blank page)"
