#!/usr/bin/env bash
# The analysis on S3 against the same data in a local folder (the
# baseline): a datagen set written as the collector writes it (a file per
# table, hour and 10 s flush), uploaded as it is to an S3 server on
# loopback (moto's), then `causet report` on each, interleaved. Prints wall
# time, peak RSS and bytes read: for the folder what causet read from files
# (its rchar), for S3 what crossed the loopback interface during the run
# (requests and responses with their HTTP and TCP headers; anything else on
# loopback at the time too), and whether the findings are the same.
#
#   scripts/bench-s3.sh                    # 1M spans, 3 runs each
#   SPANS=200000 RUNS=1 scripts/bench-s3.sh
#
# Needs python3 and moto's server (pip install "moto[server]"): MOTO_SERVER,
# else the one .ci/run installs beside the build, else moto_server on PATH.
# moto is a Python server: its own speed is part of the S3 figure.
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS="${SPANS:-1000000}"
PER_FILE="${PER_FILE:-18000}"
RUNS="${RUNS:-3}"
. scripts/bench-bin.sh
MOTO_SERVER="${MOTO_SERVER:-$HOME/.cache/causet-target/adbc-venv/bin/moto_server}"
[ -x "$MOTO_SERVER" ] || MOTO_SERVER="$(command -v moto_server)"
MOTO_PYTHON="$(dirname "$MOTO_SERVER")/python"
[ -x "$MOTO_PYTHON" ] || MOTO_PYTHON=python3
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$MOTO_SERVER" -H 127.0.0.1 -p "$PORT" > "$WORK/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2> /dev/null; rm -rf "$WORK"' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ALLOW_HTTP=true

"$BIN/causet-datagen" generate --spans "$SPANS" --spans-per-file "$PER_FILE" --data "$WORK/data" > /dev/null
rm -rf "$WORK/data/wal"
"$MOTO_PYTHON" - "$WORK/data" <<'EOF'
import os, sys, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
for _ in range(100):
    try:
        s3.create_bucket(Bucket="bench")
        break
    except Exception:
        time.sleep(0.1)
root = sys.argv[1]
for folder, _, files in os.walk(root):
    for name in files:
        path = os.path.join(folder, name)
        s3.upload_file(path, "bench", "causet/" + os.path.relpath(path, root))
EOF

# run DATA OUT: one report; prints "wall_s peak_rss_kib bytes_read".
run() {
  python3 - "$BIN/causet" "$1" "$2" <<'EOF'
import os, subprocess, sys, time
causet, data, out = sys.argv[1:4]
def loopback():
    return int(next(l for l in open("/proc/net/dev") if l.strip().startswith("lo:")).split(":")[1].split()[0])
lo = loopback()
start = time.monotonic()
child = subprocess.Popen([causet, "--data", data, "report", "--format", "json", "-o", out],
                         stderr=subprocess.DEVNULL)
os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
wall = time.monotonic() - start
rchar = int(next(l for l in open(f"/proc/{child.pid}/io") if l.startswith("rchar")).split()[1])
_, status, usage = os.wait4(child.pid, 0)
if os.waitstatus_to_exitcode(status) not in (0, 1):
    sys.exit(f"causet report on {data} failed")
read = loopback() - lo if data.startswith("s3://") else rchar
print(f"{wall:.2f} {usage.ru_maxrss} {read}")
EOF
}
findings() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(sorted(json.dumps(f, sort_keys=True) for f in d["findings"])))' "$1"
}

for _ in $(seq "$RUNS"); do
  run "$WORK/data" "$WORK/local.json" >> "$WORK/local.runs"
  run "s3://bench/causet" "$WORK/s3.json" >> "$WORK/s3.runs"
done
same=$(cmp -s <(findings "$WORK/local.json") <(findings "$WORK/s3.json") && echo yes || echo NO)
files=$(find "$WORK/data" -name '*.parquet' | wc -l)
mib=$(du -sm "$WORK/data" | cut -f1)
col() { cut -d' ' -f"$1" "$WORK/$2.runs" | median; }
max() { cut -d' ' -f"$1" "$WORK/$2.runs" | sort -g | tail -n 1; }

echo "== $SPANS spans in $files Parquet files ($mib MiB), medians of $RUNS interleaved reports"
printf '%-26s %12s %12s %8s\n' "" folder s3 ratio
printf '%-26s %12s %12s %8s\n' "report wall s" "$(col 1 local)" "$(col 1 s3)" \
  "$(awk -v a="$(col 1 s3)" -v b="$(col 1 local)" 'BEGIN { printf "%.2f", a / b }')"
printf '%-26s %12s %12s\n' "peak RSS MiB" "$(($(max 2 local) / 1024))" "$(($(max 2 s3) / 1024))"
printf '%-26s %12s %12s %8s\n' "MiB read" "$(($(col 3 local) / 1048576))" "$(($(col 3 s3) / 1048576))" \
  "$(awk -v a="$(col 3 s3)" -v b="$(col 3 local)" 'BEGIN { printf "%.2f", a / b }')"
printf '%-26s %12s\n' "same findings" "$same"
