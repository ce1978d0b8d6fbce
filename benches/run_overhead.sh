#!/usr/bin/env bash
# What `rvc run` costs (issue 12): a CPU-bound command of about 60 s, run
# bare and under `rvc run` (default sampling every 10 s, and every 1 s),
# side by side; and the CPU rvc itself uses while a 60 s `sleep` runs (its
# sampler and output copies: `sleep` uses next to none).
#
#   benches/run_overhead.sh
#
# Knobs: BENCH_DIR (default /tmp/rvc-bench-run), RUNS (default 5 rounds),
# SECONDS_ (default 60: the length of the command), SKIP_BUILD=1.
# Results go to $BENCH_DIR/results/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BENCH_DIR:-/tmp/rvc-bench-run}
RUNS=${RUNS:-5}
LEN=${SECONDS_:-60}
RES=$B/results
source "$ROOT/benches/lib.sh"
need python3 "apt-get install python3"
mkdir -p "$RES"
install_rvc

W=$B/ws
rm -rf "$W" && mkdir -p "$W" && cd "$W"
git init -q
"$RVC" init >/dev/null
# A fixed amount of work (so both sides do the same), calibrated to LEN s.
cat > burn.py <<'PY'
import sys, time
n = int(sys.argv[1])
x = 0
for i in range(n):
    x = (x * 31 + i) % 1000003
print(x)
PY
rate=$(python3 - <<'PY'
import time
t = time.perf_counter(); x = 0; n = 3_000_000
for i in range(n):
    x = (x * 31 + i) % 1000003
print(int(n / (time.perf_counter() - t)))
PY
)
N=$((rate * LEN))
log "the command: python3 burn.py $N (about $LEN s)"

# Interleaved, round by round: the machine's speed drifts by more than the
# 1% asked for between blocks of runs, so each round's ratio compares runs
# made minutes apart at most.
: > "$RES/rounds.tsv"
for round in $(seq "$RUNS"); do
    row=$round
    for cmd in "python3 burn.py $N" \
               "$RVC run burn --force -- python3 burn.py $N" \
               "$RVC run burn --force --sample-every 1 -- python3 burn.py $N"; do
        t0=$(date +%s.%N)
        $cmd >/dev/null 2>&1
        t1=$(date +%s.%N)
        row="$row	$(echo "$t1 - $t0" | bc)"
    done
    echo "$row" >> "$RES/rounds.tsv"
    log "round $round: $row"
done

# rvc's own CPU while the command sleeps: user + system time of rvc and
# its children (sleep, nvidia-smi if any), from GNU time.
for every in 10 1; do
    /usr/bin/time -f "%e %U %S" -o "$RES/idle-$every.txt" \
        "$RVC" run idle --force --sample-every "$every" -- sleep "$LEN" >/dev/null 2>&1
done

python3 - "$RES" "$LEN" <<'PY'
import json, os, sys
res, length = sys.argv[1], float(sys.argv[2])
import statistics
rows = [list(map(float, l.split("\t")[1:])) for l in open(os.path.join(res, "rounds.tsv")) if l.strip()]
names = ["bare", "rvc run (every 10 s)", "rvc run (every 1 s)"]
print(f"| command ({len(rows)} interleaved rounds) | median | median of per-round ratios to bare |")
print("|---|---|---|")
for i, name in enumerate(names):
    med = statistics.median(r[i] for r in rows)
    ratio = statistics.median(r[i] / r[0] for r in rows)
    print(f"| {name} | {med:.2f} s | {(ratio - 1) * 100:+.2f}% |")
print()
print("| rvc's own CPU over a sleep | wall | user + system | share of one core |")
print("|---|---|---|---|")
for every in ("10", "1"):
    wall, user, system = map(float, open(os.path.join(res, f"idle-{every}.txt")).read().split())
    cpu = user + system
    print(f"| sampling every {every} s | {wall:.1f} s | {cpu:.2f} s | {cpu / wall * 100:.2f}% |")
PY
