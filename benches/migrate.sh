#!/usr/bin/env bash
# Issue 16's figures for moving from DVC and for partial pulls, on the
# 20,000-file dataset of benches/gen_data.py (100 shards of 200 files of
# 1-8 KiB, in 10 parts):
#
# 1. import: `rvc init && rvc import dvc` in a DVC project where `dvc add
#    data` tracks it (rvc re-hashes and stores every file, after checking
#    each against DVC's md5), side by side with what DVC takes to restore
#    the same directory (`dvc checkout` after `rm -rf data`), and then
#    `rvc checkout` of it.
# 2. partial: in a fresh clone, `rvc pull data/part-00/shard-00` (one
#    shard, 1% of the files) against `rvc pull` of everything, from a
#    remote on the local disk.
#
#   benches/migrate.sh
#
# Knobs: BENCH_DIR (default /tmp/rvc-bench-migrate), RUNS (default 5),
# FILES DIRS SEED (defaults 20000 100 20240601), SKIP_BUILD=1. Needs dvc
# (pip install dvc) and hyperfine. Results in $BENCH_DIR/results/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BENCH_DIR:-/tmp/rvc-bench-migrate}
RUNS=${RUNS:-5}
FILES=${FILES:-20000}
DIRS=${DIRS:-100}
SEED=${SEED:-20240601}
RES=$B/results
mkdir -p "$B/bin" "$RES"
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
install_rvc
export DVC_NO_ANALYTICS=1
python3 "$ROOT/benches/gen_data.py" --out "$B/data" --files "$FILES" --dirs "$DIRS" \
    --big-mib 1 --seed "$SEED" >&2

median() {
    python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000))" "$1"
}

# 1. A DVC project tracking the dataset.
P=$B/dvc-project
rm -rf "$P" && mkdir -p "$P" && cd "$P"
git init -q && git config user.email b@example.com && git config user.name bench
dvc init -q && dvc config core.analytics false
cp -r "$B/data/many" data
dvc add -q data && git add -A && git commit -qm dvc
hyperfine --runs "$RUNS" --style basic --export-json "$RES/import.json" \
    --prepare "rm -rf .rvc data.rvc && git checkout -q -- .gitignore" \
    --command-name "rvc init && rvc import dvc" "$RVC init >/dev/null && $RVC import dvc >/dev/null"
"$RVC" init >/dev/null 2>&1 || true
"$RVC" import dvc | tail -1
hyperfine --runs "$RUNS" --style basic --export-json "$RES/rvc-checkout.json" \
    --prepare "rm -rf data" --command-name "rvc checkout data" "$RVC checkout data >/dev/null"
hyperfine --runs "$RUNS" --style basic --export-json "$RES/dvc-checkout.json" \
    --prepare "rm -rf data" --command-name "dvc checkout data" "dvc checkout -q data"

# 2. Partial pull from a remote on the local disk.
"$RVC" remote add origin "$B/remote" --default >/dev/null 2>&1 || true
"$RVC" push >/dev/null
git add -A && git commit -qm rvc
C=$B/clone
rm -rf "$C" && git clone -q "$P" "$C" && cd "$C"
hyperfine --runs "$RUNS" --style basic --export-json "$RES/pull-part.json" \
    --prepare "rm -rf data .rvc/cache .rvc/state" \
    --command-name "rvc pull data/part-00/shard-00" "$RVC pull data/part-00/shard-00 >/dev/null"
hyperfine --runs "$RUNS" --style basic --export-json "$RES/pull-all.json" \
    --prepare "rm -rf data .rvc/cache .rvc/state" \
    --command-name "rvc pull" "$RVC pull >/dev/null"
"$RVC" status

{
    echo "| $FILES files, $(du -sm "$B/data/many" | cut -f1) MiB | median |"
    echo "|---|---|"
    echo "| rvc init && rvc import dvc (md5 check, BLAKE3, store, pointer) | $(median "$RES/import.json") ms |"
    echo "| rvc checkout data (after rm -rf data) | $(median "$RES/rvc-checkout.json") ms |"
    echo "| dvc checkout data (after rm -rf data) | $(median "$RES/dvc-checkout.json") ms |"
    echo "| rvc pull data/part-00/shard-00 (1 of 100 shards), fresh clone | $(median "$RES/pull-part.json") ms |"
    echo "| rvc pull (everything), fresh clone | $(median "$RES/pull-all.json") ms |"
} | tee "$RES/migrate.md"
