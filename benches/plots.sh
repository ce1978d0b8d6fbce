#!/usr/bin/env bash
# Benchmark of issue 7: `rvc plots` on 10 runs of 20,000 steps each.
#
#   benches/plots.sh
#
# It makes a git repository under $WORK with a small dataset and 10 runs.
# Each run has an HF Trainer trainer_state.json (seeded, so the same on
# every machine) with, at every one of its 20,000 steps, loss, grad_norm,
# learning_rate and epoch, eval_loss and eval_runtime every 200 steps, and
# a final train_loss entry: 20,100 log entries, about 2.3 MB per run. Runs
# 2-10 name run 1 as their parent (a sweep). Every run is locked with
# `rvc lock`. Then it times, REPS times each (median, wall clock from
# python's perf_counter around the process, and its CPU time from getrusage):
#   rvc plots -o page.html      the page: 3 charts (loss+eval_loss+train_loss,
#                               learning_rate, grad_norm), table, lineage
#   rvc plots -o chart.svg      one chart (loss)
#   rvc plots -o chart.png      one chart, rasterised
# and reports each output's size. Goals (issue 7): page under 1 s and 2 MB.
#
# Knobs (environment): WORK (default /tmp/plots-bench), REPS (default 11),
# RUNS (default 10), STEPS (default 20000), RVC (binary to use; default:
# build target/release/rvc and copy it), SKIP_BUILD=1, KEEP=1 (keep the
# workspace).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-/tmp/plots-bench}
REPS=${REPS:-11}
RUNS=${RUNS:-10}
STEPS=${STEPS:-20000}
case "$WORK" in "$ROOT"|"$ROOT"/*) echo "WORK must be outside the source tree" >&2; exit 1;; esac
mkdir -p "$WORK/bin"
if [ -z "${RVC:-}" ]; then
    if [ -z "${SKIP_BUILD:-}" ]; then (cd "$ROOT" && cargo build --release --bin rvc); fi
    cp "$ROOT/target/release/rvc" "$WORK/bin/rvc"
    RVC=$WORK/bin/rvc
fi

repo=$WORK/repo
rm -rf "$repo"
mkdir -p "$repo"
cd "$repo"
git init -q
git config user.email bench@example.com
git config user.name bench
"$RVC" init >/dev/null
mkdir -p data
python3 -c 'import sys; [print(f"{i},example {i}") for i in range(1000)]' > data/train.csv
echo "/out/" > .gitignore
"$RVC" add data >/dev/null
git add -A && git commit -qm data

python3 - "$RUNS" "$STEPS" <<'EOF'
import json, math, os, random, sys
runs, steps = int(sys.argv[1]), int(sys.argv[2])
for k in range(1, runs + 1):
    rnd = random.Random(k)
    lr = 1e-4 * (1 + k / 2)
    hist = []
    for s in range(1, steps + 1):
        t = s / steps
        loss = 2.4 * math.exp(-3 * (0.5 + k / 5) * t) + 0.35 + rnd.gauss(0, 0.04)
        hist.append({"epoch": round(3 * t, 4), "grad_norm": abs(rnd.gauss(1.2, 0.3)),
                     "learning_rate": lr * (1 - t), "loss": round(loss, 4), "step": s})
        if s % 200 == 0:
            ev = 2.4 * math.exp(-3 * (0.5 + k / 5) * t) + 0.45 + 0.02 * k * t * t
            hist.append({"epoch": round(3 * t, 4), "eval_loss": round(ev, 4),
                         "eval_runtime": 12.5, "step": s})
    hist.append({"epoch": 3.0, "step": steps, "train_loss": 0.9, "train_runtime": 3600.0})
    d = f"out/run-{k}"
    os.makedirs(d, exist_ok=True)
    json.dump({"global_step": steps, "log_history": hist}, open(f"{d}/trainer_state.json", "w"))
    open(f"{d}/params.yaml", "w").write(
        f"seed: {k}\noptimizer:\n  lr: {lr}\n  schedule: linear\nlora:\n  r: {8 if k % 2 else 16}\n")
EOF
for k in $(seq 1 "$RUNS"); do
    parent=()
    [ "$k" -gt 1 ] && parent=(--parent run-1)
    "$RVC" lock "run-$k" --input data --output "out/run-$k" --params "out/run-$k/params.yaml" \
        --metrics "out/run-$k/trainer_state.json" "${parent[@]}" >/dev/null 2>>"$WORK/lock.log"
done
state_bytes=$(stat -c %s out/run-1/trainer_state.json)

# time OUT: median wall time of `rvc plots -o OUT` over REPS runs, in ms
time_plots() {
    python3 - "$RVC" "$1" "$REPS" <<'EOF'
import resource, statistics, subprocess, sys, time
rvc, out, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
subprocess.run([rvc, "plots", "-o", out], check=True, capture_output=True)  # warm the page cache
ts, cpu = [], []
for _ in range(reps):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([rvc, "plots", "-o", out], check=True, capture_output=True)
    ts.append(time.perf_counter() - t)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print(f"{statistics.median(ts) * 1000:.0f} {min(ts) * 1000:.0f} {max(ts) * 1000:.0f} {statistics.median(cpu) * 1000:.0f}")
EOF
}

echo "rvc plots: $RUNS runs x $STEPS steps (trainer_state.json of $((state_bytes / 1024)) KiB each), $REPS reps, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "binary: $RVC ($("$RVC" --version))"
echo
echo "| output | median wall | min | max | median CPU (user+sys) | size |"
echo "|---|---|---|---|---|---|"
for out in page.html chart.svg chart.png; do
    read -r med lo hi cpu < <(time_plots "$out")
    size=$(stat -c %s "$out")
    echo "| \`rvc plots -o $out\` | $med ms | $lo ms | $hi ms | $cpu ms | $((size / 1024)) KiB ($size B) |"
done
echo
"$RVC" plots -o page.html --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print("charts:", ", ".join("+".join(c["metrics"]) for c in j["charts"]))'
python3 - page.html <<'EOF'
import re, sys
page = open(sys.argv[1]).read()
pts = [int(p) for p in re.findall(r'<path class="series"[^>]*data-points="(\d+)"', page)]
print(f"curves: {len(pts)}, points drawn per curve: max {max(pts)}, total {sum(pts)}")
EOF
[ -n "${KEEP:-}" ] || rm -rf "$repo"
