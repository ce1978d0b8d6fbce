#!/usr/bin/env bash
# Issue 17's figures, side by side with dvc on the same files:
#
# 1. `rvc diff` of tracked data (no runs), like `dvc diff`: a dataset of
#    20,000 files plus a 100,000-row CSV, two commits apart (50 files
#    modified, 10 added, 10 removed, 200 CSV rows edited and 100 appended);
#    between the two commits, and HEAD against an unchanged workspace.
# 2. An `rvc add` stopped with Ctrl-C (SIGINT) half way, then run again:
#    the re-run against a full add from scratch, on 20,000 small files
#    and 8 files of 128 MiB (1 GiB).
#
#   benches/data_diff.sh
#
# Knobs: BENCH_DIR (default /tmp/rvc-bench-diff), RUNS (default 10),
# FILES DIRS SEED (defaults 20000 100 20240601), SKIP_BUILD=1, PARTS
# (default "diff stop": either alone re-measures that part).
# Medians from hyperfine (diff) or of STOPS runs (default 5) of the stop;
# results go to $BENCH_DIR/results/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BENCH_DIR:-/tmp/rvc-bench-diff}
RUNS=${RUNS:-10}
STOPS=${STOPS:-5}
FILES=${FILES:-20000}
DIRS=${DIRS:-100}
SEED=${SEED:-20240601}
PARTS=${PARTS:-diff stop}
RES=$B/results
source "$ROOT/benches/lib.sh"
need hyperfine "apt-get install hyperfine"
need dvc "pip install dvc"
mkdir -p "$RES"
install_rvc

python3 "$ROOT/benches/gen_data.py" --out "$B/data" --files "$FILES" --dirs "$DIRS" \
    --big-mib 1 --seed "$SEED" >&2

# The CSV: 100,000 rows; the edit changes 200 rows and appends 100.
csv() {  # csv FILE EDITED
    python3 - "$1" "$2" <<'PY'
import sys
path, edited = sys.argv[1], sys.argv[2] == "1"
with open(path, "w") as f:
    f.write("id,label,text\n")
    for i in range(100_000 + (100 if edited else 0)):
        label = "pos" if i % 3 else "neg"
        if edited and i % 500 == 7:
            label = "relabelled"
        f.write(f"{i},{label},review number {i} with some words in it\n")
PY
}

setup() {  # setup DIR: a git repository with data/ at version 1
    rm -rf "$1" && mkdir -p "$1" && cd "$1"
    git init -q
    cp -r "$B/data/many" data
    csv data/reviews.csv 0
}

edit() {  # version 2 of data/, the same in both workspaces
    python3 - <<'PY'
import os, random
random.seed(17)
files = sorted(os.path.join(d, f) for d, _, fs in os.walk("data") for f in fs if f.endswith(".bin"))
for p in random.sample(files, 60):
    if random.random() < 50 / 60:
        with open(p, "ab") as f:
            f.write(b"edited")
    else:
        os.remove(p)
for i in range(10):
    with open(f"data/part-00/new-{i}.bin", "wb") as f:
        f.write(os.urandom(2048))
PY
    csv data/reviews.csv 1
}

if [[ " $PARTS " == *" diff "* ]]; then
log "rvc workspace"
setup "$B/ws/rvc"
"$RVC" init >/dev/null
"$RVC" add data >/dev/null
git add -A && git commit -qm v1
edit
"$RVC" add data >/dev/null
git add -A && git commit -qm v2
"$RVC" diff HEAD~1 HEAD | head -5 >&2

log "dvc workspace"
setup "$B/ws/dvc"
dvc init -q && dvc config core.analytics false
dvc add -q data
git add -A && git commit -qm v1 --no-verify
edit
dvc add -q data
git add -A && git commit -qm v2 --no-verify
dvc diff HEAD~1 HEAD | tail -3 >&2

cd "$B/ws/rvc"
hyperfine --runs "$RUNS" --warmup 2 --style basic --export-json "$RES/rvc-diff-commits.json" \
    --command-name "rvc diff HEAD~1 HEAD" "$RVC diff HEAD~1 HEAD"
hyperfine --runs "$RUNS" --warmup 2 --style basic --export-json "$RES/rvc-diff-workspace.json" \
    --command-name "rvc diff" "$RVC diff"
cd "$B/ws/dvc"
hyperfine --runs "$RUNS" --warmup 2 --style basic --export-json "$RES/dvc-diff-commits.json" \
    --command-name "dvc diff HEAD~1 HEAD" "dvc diff HEAD~1 HEAD"
hyperfine --runs "$RUNS" --warmup 2 --style basic --export-json "$RES/dvc-diff-workspace.json" \
    --command-name "dvc diff" "dvc diff"
fi

if [[ " $PARTS " == *" stop "* ]]; then
log "a stopped add, then the re-run"
W=$B/ws/stop
rm -rf "$W" && mkdir -p "$W" && cd "$W"
git init -q
cp -r "$B/data/many" data
for i in 1 2 3 4 5 6 7 8; do
    head -c 128M /dev/urandom > "data/ckpt-$i.bin"
done
"$RVC" init >/dev/null
now() { date +%s.%N; }
fresh() { rm -rf .rvc/cache .rvc/state/stat* data.rvc; }
: > "$RES/stop.tsv"
for _ in $(seq "$STOPS"); do
    fresh
    t0=$(now); "$RVC" add data >/dev/null 2>&1; t1=$(now)
    full=$(echo "$t1 - $t0" | bc)
    fresh
    # Stop at 40% of a full add's time, as Ctrl-C would; only runs that
    # were still working then (exit 130) count.
    at=$(echo "$full * 0.4" | bc -l)
    t0=$(now)
    set +e
    # --foreground: the signal goes to rvc alone, once (by default timeout
    # also signals its process group, which delivers it twice).
    timeout --foreground --preserve-status -s INT "$at" "$RVC" add data >/dev/null 2>"$RES/stop.err"
    code=$?
    set -e
    t1=$(now)
    left=$(ls -A .rvc/cache/tmp 2>/dev/null | wc -l)
    t2=$(now); "$RVC" add data >/dev/null 2>&1; t3=$(now)
    printf '%s\t%s\t%s\t%s\t%s\n' "$full" "$(echo "$t1 - $t0" | bc)" "$(echo "$t3 - $t2" | bc)" "$code" "$left" >> "$RES/stop.tsv"
done
cat "$RES/stop.err" >&2
fi

python3 - "$RES" <<'PY'
import json, os, statistics, sys
res = sys.argv[1]
def med(name):
    with open(os.path.join(res, name + ".json")) as f:
        return json.load(f)["results"][0]["median"]
for what, r, d in [
    ("diff HEAD~1 HEAD (20,000 files + 100k-row CSV)", "rvc-diff-commits", "dvc-diff-commits"),
    ("diff, HEAD against the unchanged workspace", "rvc-diff-workspace", "dvc-diff-workspace"),
]:
    rv, dv = med(r), med(d)
    print(f"| {what} | {rv*1000:.0f} ms | dvc {dv*1000:.0f} ms | {dv/rv:.1f}x |")
rows = [l.split("\t") for l in open(os.path.join(res, "stop.tsv")) if l.strip()]
full = statistics.median(float(r[0]) for r in rows)
stopped_rows = [r for r in rows if r[3] == "130"]
print(f"| add from scratch (20,000 files + 1 GiB) | {full:.2f} s | | |")
if stopped_rows:
    stopped = statistics.median(float(r[1]) for r in stopped_rows)
    rerun = statistics.median(float(r[2]) for r in stopped_rows)
    left = max(int(r[4]) for r in stopped_rows)
    n = f"{len(stopped_rows)} of {len(rows)} runs stopped"
    print(f"| add stopped by SIGINT at 40% ({n}) | {stopped:.2f} s, exit 130, {left} temp files left | | |")
    print(f"| re-run after the stop | {rerun:.2f} s ({rerun/full:.0%} of a full add) | | |")
else:
    print(f"| add stopped by SIGINT at 40% | every add finished first (exit codes {sorted({r[3] for r in rows})}) | | |")
PY
