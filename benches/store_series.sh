#!/usr/bin/env bash
# Store benchmark of issue 3 (a series of fine-tuning checkpoints) and the run
# figures of issue 4, side by side with dvc and restic, in one reproducible run.
#
#   benches/store_series.sh                 everything below, in order
#
# Store (issue 3): 10 checkpoints from benches/gen_checkpoints.py (seeded, so
# byte-identical on every machine; ~285 MiB each: model.safetensors in bf16,
# optimizer.pt, adapter_model.safetensors, tokenizer.json, trainer_state.json;
# embeddings, LM head and the lower half of the layers frozen).
#   rvc     fresh git repo + `rvc init`; `rvc add ckpts/checkpoint-N` in step
#           order (each timed, with peak RSS); `rvc du --json`, `du -sb
#           .rvc/cache`, file count of .rvc/cache; then REPS times: rm -rf one
#           checkpoint, sync, `rvc checkout ckpts/checkpoint-N.rvc` (median;
#           the restored bytes are compared with the originals once)
#   cp -r   the same checkpoint, REPS times (median), as a floor
#   dvc     fresh git + `dvc init`; `dvc add` each checkpoint dir in order;
#           `du -sb .dvc/cache`; REPS x `dvc checkout` of the same checkpoint
#   restic  local repo (RESTIC_PASSWORD=x); `restic backup` each checkpoint
#           dir in order; `du -sb` of the repo; REPS x `restic restore latest`
# Runs (issue 4), no peer:
#   runs10  in the rvc repo above: `rvc lock run-K --input data --output
#           ckpts/checkpoint-N --params params/run-K.yaml --metrics
#           ckpts/checkpoint-N/trainer_state.json` for the 10 checkpoints;
#           then hyperfine of `rvc runs`, `rvc diff run-1 run-10`,
#           `rvc which ckpts/checkpoint-2000/model.safetensors`, `rvc show`
#   runs100 a separate repo with 100 tiny runs (a 64 KiB output and a metrics
#           JSONL of 20,000 steps each); lock each, then hyperfine of
#           `rvc runs`, `rvc runs --sort loss`, `rvc diff run-1 run-100`,
#           `rvc which`
#
# Everything goes under $WORK (default /tmp/store-bench):
#   ckpts/           the generated series (reused when gen.json is present)
#   bin/rvc          a copy of the rvc binary (immune to rebuilds meanwhile)
#   rvc/ dvc/ restic-repo/ restic-cache/ runs100/  workspaces (removed at the
#                    end unless KEEP=1)
#   results/         raw.tsv (one `key<TAB>value` per figure), logs, hyperfine
#                    JSON, and report.md (the tables)
#
# Knobs (environment): WORK, REPS (checkout repetitions, default 7), RUNS
# (hyperfine runs, default 15), COUNT (checkpoints, default 10), RVC (binary to
# use; default: build target/release/rvc and copy it), RVC_COMMIT (instead:
# build that commit from `git archive` in WORK/src), SKIP_BUILD=1, KEEP=1,
# PARTS (default "rvc runs10 runs100 dvc restic"), TINY_RUNS (default 100),
# TINY_STEPS (default 20000).
#
# All data stays in the page cache (the machine has far more RAM than the
# 3 GB series), so these are warm-cache figures: they measure CPU, copies and
# write-back, not reads from the disk. Reported times are MEDIANS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-/tmp/store-bench}
REPS=${REPS:-7}
RUNS=${RUNS:-15}
COUNT=${COUNT:-10}
TINY_RUNS=${TINY_RUNS:-100}
TINY_STEPS=${TINY_STEPS:-20000}
PARTS=${PARTS-"rvc runs10 runs100 dvc restic"}   # PARTS="" runs none (report only)
R=$WORK/results
mkdir -p "$WORK/bin" "$R"
RAW=$R/raw.tsv

case "$WORK" in "$ROOT"|"$ROOT"/*) echo "WORK must be outside the source tree" >&2; exit 1;; esac

if [ -n "${RVC_COMMIT:-}" ]; then
    # a clean build of one commit, immune to edits in the working tree
    rev=$(git -C "$ROOT" rev-parse --short "$RVC_COMMIT")
    if [ ! -x "$WORK/bin/rvc-$rev" ]; then
        rm -rf "$WORK/src"; mkdir -p "$WORK/src"
        git -C "$ROOT" archive "$rev" | tar -x -C "$WORK/src"
        (cd "$WORK/src" && CARGO_TARGET_DIR=$WORK/target cargo build --release --bin rvc)
        cp "$WORK/target/release/rvc" "$WORK/bin/rvc-$rev"
    fi
    RVC=$WORK/bin/rvc-$rev
    RVC_FROM="clean build of $rev"
elif [ -z "${RVC:-}" ]; then
    if [ -z "${SKIP_BUILD:-}" ]; then (cd "$ROOT" && cargo build --release); fi
    cp "$ROOT/target/release/rvc" "$WORK/bin/rvc"
    RVC=$WORK/bin/rvc
    RVC_FROM="built at $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' + local changes')"
else
    RVC_FROM="given binary $RVC"
fi
RVC=$(readlink -f "$RVC")
case "$RVC" in "$WORK"/bin/*) ;; "$WORK"/*) echo "RVC must not be inside WORK (except WORK/bin/)" >&2; exit 1;; esac
export RESTIC_PASSWORD=x
export DVC_NO_ANALYTICS=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
# record KEY VALUE: replace KEY's line in raw.tsv
record() {
    touch "$RAW"
    grep -v -P "^\Q$1\E\t" "$RAW" > "$RAW.tmp" || true
    printf '%s\t%s\n' "$1" "$2" >> "$RAW.tmp"
    mv "$RAW.tmp" "$RAW"
    log "  $1 = $2"
}
# timed OUTFILE CMD...: run CMD (its output goes to OUTFILE); set T (wall
# seconds) and M (peak RSS, KiB); a failing CMD ends the script
timed() {
    local out=$1; shift
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$R/.rss" "$@" > "$out" 2>&1 || { cat "$out" >&2; echo "failed: $*" >&2; exit 1; }
    t1=$(date +%s%N)
    T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    M=$(tail -n1 "$R/.rss")
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -n1; }
sumof() { tr ' ' '\n' | awk '{ s += $1 } END { printf "%.4f\n", s }'; }
# hf KEY CMD...: hyperfine median (seconds) of CMD run in the current directory
hf() {
    local key=$1; shift
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$R/hf-$key.json" "$*" > "$R/hf-$key.log" 2>&1 \
        || { cat "$R/hf-$key.log" >&2; return 1; }
    record "$key" "$(python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$R/hf-$key.json")"
}

steps() { local i; for i in $(seq 1 "$COUNT"); do echo $((i * 200)); done; }
LAST=$((COUNT * 200))
ONE=checkpoint-$LAST   # the checkpoint that is checked out / restored

# ---------------------------------------------------------------- metadata
record machine.nproc "$(nproc)"
record machine.cpu "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
record machine.mem_gib "$(free -g | awk '/^Mem:/ { print $2 }')"
record machine.fs "$(findmnt -no FSTYPE --target "$WORK")"
record machine.kernel "$(uname -r)"
record machine.load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
record version.rvc "$("$RVC" --version | awk '{ print $2 }') ($RVC_FROM)"
record version.dvc "$(dvc --version 2>/dev/null || echo missing)"
record version.restic "$(restic version 2>/dev/null | awk '{ print $2 }' || echo missing)"
record version.hyperfine "$(hyperfine --version | awk '{ print $2 }')"

# ---------------------------------------------------------------- the series
gen_count() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkpoints"])' "$WORK/gen.json" 2>/dev/null || echo 0; }
if [ ! -s "$WORK/gen.json" ] || [ ! -d "$WORK/ckpts/$ONE" ] || [ "$(gen_count)" != "$COUNT" ]; then
    log "generating $COUNT checkpoints into $WORK/ckpts"
    rm -rf "$WORK/ckpts"
    python3 "$ROOT/benches/gen_checkpoints.py" "$WORK/ckpts" --count "$COUNT" > "$WORK/gen.json.tmp"
    mv "$WORK/gen.json.tmp" "$WORK/gen.json"
fi
record series.logical "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["logical_bytes"])' "$WORK/gen.json")"
record series.unique "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["unique_tensor_bytes"])' "$WORK/gen.json")"
record series.one_bytes "$(du -sb "$WORK/ckpts/$ONE" | cut -f1)"
record series.files "$(find "$WORK/ckpts" -type f | wc -l)"

# fresh_git DIR: an empty git repo with the series copied into DIR/ckpts
fresh_git() {
    rm -rf "$1"; mkdir -p "$1"
    git -C "$1" init -q
    cp -r "$WORK/ckpts" "$1/ckpts"
    sync
}

# ---------------------------------------------------------------- rvc
part_rvc() {
    log "rvc: fresh repo, add $COUNT checkpoints"
    fresh_git "$WORK/rvc"
    cd "$WORK/rvc"
    "$RVC" init > /dev/null
    local times="" rss="" s t m
    for s in $(steps); do
        timed "$R/rvc-add-$s.json" "$RVC" add --json "ckpts/checkpoint-$s"; t=$T; m=$M
        times="$times $t"; rss="$rss $m"
        record "rvc.add.$s.seconds" "$t"
        record "rvc.add.$s.rss_kib" "$m"
        record "rvc.add.$s.new_bytes" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stored"]["new_bytes"])' "$R/rvc-add-$s.json")"
        record "rvc.add.$s.new_objects" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stored"]["new_objects"])' "$R/rvc-add-$s.json")"
    done
    record rvc.add.total_seconds "$(echo "$times" | sumof)"
    record rvc.add.median_seconds "$(echo "$times" | median)"
    record rvc.add.first_seconds "$(echo "$times" | awk '{ print $1 }')"
    record rvc.add.rss_kib_max "$(echo "$rss" | maxof)"
    "$RVC" du --json > "$R/rvc-du.json"
    record rvc.du.stored "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stored"])' "$R/rvc-du.json")"
    record rvc.du.logical "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["logical"])' "$R/rvc-du.json")"
    record rvc.du.store_objects "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["store_objects"])' "$R/rvc-du.json")"
    record rvc.stored "$(du -sb .rvc/cache | cut -f1)"
    record rvc.cache_files "$(find .rvc/cache -type f | wc -l)"
    local kind
    for kind in chunks packs manifests trees; do
        [ -d ".rvc/cache/$kind" ] || continue
        record "rvc.cache.$kind.files" "$(find ".rvc/cache/$kind" -type f | wc -l)"
        record "rvc.cache.$kind.bytes" "$(du -sb ".rvc/cache/$kind" | cut -f1)"
    done

    # a second add of every checkpoint, nothing changed (stat cache)
    sync
    timed "$R/rvc-readd.log" "$RVC" add $(for s in $(steps); do echo "ckpts/checkpoint-$s"; done); t=$T; m=$M
    record rvc.readd_all.seconds "$t"

    log "rvc: checkout $ONE x $REPS"
    times=""; rss=""
    local i
    for i in $(seq 1 "$REPS"); do
        rm -rf "ckpts/$ONE"; sync
        timed "$R/rvc-checkout.log" "$RVC" checkout "ckpts/$ONE.rvc"; t=$T; m=$M
        times="$times $t"; rss="$rss $m"
        if [ "$i" = 1 ]; then
            diff -r "ckpts/$ONE" "$WORK/ckpts/$ONE" > /dev/null \
                || { echo "rvc checkout restored different bytes" >&2; exit 1; }
            # checkout followed by a full sync: the time to durable files
            rm -rf "ckpts/$ONE"; sync
            timed "$R/rvc-checkout-sync.log" sh -c "'$RVC' checkout 'ckpts/$ONE.rvc' && sync"; t=$T; m=$M
            record rvc.checkout_sync.seconds "$t"
        fi
    done
    record rvc.checkout.median_seconds "$(echo "$times" | median)"
    record rvc.checkout.all_seconds "$(echo $times)"
    record rvc.checkout.rss_kib_max "$(echo "$rss" | maxof)"

    log "cp -r: $ONE x $REPS"
    times=""
    for i in $(seq 1 "$REPS"); do
        rm -rf "$WORK/rvc/cp-dest"; sync
        timed "$R/cp.log" cp -r "$WORK/ckpts/$ONE" "$WORK/rvc/cp-dest"; t=$T; m=$M
        times="$times $t"
        if [ "$i" = 1 ]; then
            rm -rf "$WORK/rvc/cp-dest"; sync
            timed "$R/cp-sync.log" sh -c "cp -r '$WORK/ckpts/$ONE' '$WORK/rvc/cp-dest' && sync"; t=$T; m=$M
            record cp.checkout_sync.seconds "$t"
        fi
    done
    rm -rf "$WORK/rvc/cp-dest"
    record cp.checkout.median_seconds "$(echo "$times" | median)"
    record cp.checkout.all_seconds "$(echo $times)"
}

# ---------------------------------------------------------------- runs over the 10 checkpoints
part_runs10() {
    [ -d "$WORK/rvc/.rvc" ] || { echo "runs10 needs the rvc part first" >&2; exit 1; }
    log "runs10: lock $COUNT runs over the stored checkpoints"
    cd "$WORK/rvc"
    rm -rf .rvc/runs params data data.rvc
    python3 "$ROOT/benches/store_series_runs.py" data data
    python3 "$ROOT/benches/store_series_runs.py" params params "$COUNT"
    "$RVC" add data > /dev/null
    git add .gitignore ckpts/.gitignore .rvc/config.toml .rvc/.gitignore ./*.rvc ckpts/*.rvc params
    git commit -q -m "checkpoints, data and params"
    local times="" rss="" k=0 s t m
    for s in $(steps); do
        k=$((k + 1))
        timed "$R/runs10-lock-$k.log" "$RVC" lock "run-$k" --input data --output "ckpts/checkpoint-$s" \
            --params "params/run-$k.yaml" --metrics "ckpts/checkpoint-$s/trainer_state.json"; t=$T; m=$M
        times="$times $t"; rss="$rss $m"
    done
    record runs10.lock.median_seconds "$(echo "$times" | median)"
    record runs10.lock.all_seconds "$(echo $times)"
    record runs10.lock.rss_kib_max "$(echo "$rss" | maxof)"
    "$RVC" runs > "$R/runs10-runs.txt"
    "$RVC" diff run-1 "run-$COUNT" > "$R/runs10-diff.txt"
    "$RVC" which "ckpts/$ONE/model.safetensors" > "$R/runs10-which.txt"
    hf runs10.runs "$RVC" runs
    hf runs10.diff "$RVC" diff run-1 "run-$COUNT"
    hf runs10.which "$RVC" which "ckpts/$ONE/model.safetensors"
    hf runs10.show "$RVC" show "run-$COUNT"
}

# ---------------------------------------------------------------- 100 tiny runs
part_runs100() {
    log "runs100: 100 tiny runs, 20,000 metric steps each"
    rm -rf "$WORK/runs100"; mkdir -p "$WORK/runs100"
    cd "$WORK/runs100"
    git init -q
    "$RVC" init > /dev/null
    printf '/out/\n' > .gitignore
    python3 "$ROOT/benches/store_series_runs.py" data data
    python3 "$ROOT/benches/store_series_runs.py" params params "$TINY_RUNS"
    python3 "$ROOT/benches/store_series_runs.py" tiny out "$TINY_RUNS" "$TINY_STEPS"
    "$RVC" add data > /dev/null
    git add .gitignore .rvc/config.toml .rvc/.gitignore data.rvc params
    git commit -q -m "data and params"
    sync
    local times="" rss="" k t m
    for k in $(seq 1 "$TINY_RUNS"); do
        timed "$R/runs100-lock.log" "$RVC" lock "run-$k" --input data --output "out/run-$k" \
            --params "params/run-$k.yaml" --metrics "out/run-$k/metrics.jsonl"; t=$T; m=$M
        times="$times $t"; rss="$rss $m"
    done
    record runs100.lock.median_seconds "$(echo "$times" | median)"
    record runs100.lock.total_seconds "$(echo "$times" | sumof)"
    record runs100.lock.rss_kib_max "$(echo "$rss" | maxof)"
    "$RVC" runs > "$R/runs100-runs.txt"
    "$RVC" diff run-1 "run-$TINY_RUNS" > "$R/runs100-diff.txt"
    hf runs100.runs "$RVC" runs
    hf runs100.runs_sort "$RVC" runs --sort loss
    hf runs100.diff "$RVC" diff run-1 "run-$TINY_RUNS"
    hf runs100.which "$RVC" which "out/run-$((TINY_RUNS / 2))/model.bin"
    hf runs100.show "$RVC" show "run-$((TINY_RUNS / 2))"
    timed "$R/runs100-runs-rss.log" "$RVC" runs; t=$T; m=$M
    record runs100.runs.rss_kib "$m"
}

# ---------------------------------------------------------------- dvc
part_dvc() {
    log "dvc: fresh repo, add $COUNT checkpoints"
    fresh_git "$WORK/dvc"
    cd "$WORK/dvc"
    dvc init -q
    dvc config core.analytics false
    local times="" t m s i
    for s in $(steps); do
        timed "$R/dvc-add-$s.log" dvc add "ckpts/checkpoint-$s"; t=$T; m=$M
        times="$times $t"
        record "dvc.add.$s.seconds" "$t"
        record "dvc.add.$s.rss_kib" "$m"
    done
    record dvc.add.total_seconds "$(echo "$times" | sumof)"
    record dvc.stored "$(du -sb .dvc/cache | cut -f1)"
    record dvc.cache_files "$(find .dvc/cache -type f | wc -l)"
    log "dvc: checkout $ONE x $REPS"
    times=""
    for i in $(seq 1 "$REPS"); do
        rm -rf "ckpts/$ONE"; sync
        timed "$R/dvc-checkout.log" dvc checkout "ckpts/$ONE.dvc"; t=$T; m=$M
        times="$times $t"
        [ "$i" = 1 ] && { diff -r "ckpts/$ONE" "$WORK/ckpts/$ONE" > /dev/null || { echo "dvc checkout differs" >&2; exit 1; }; }
    done
    record dvc.checkout.median_seconds "$(echo "$times" | median)"
    record dvc.checkout.all_seconds "$(echo $times)"
}

# ---------------------------------------------------------------- restic
part_restic() {
    log "restic: fresh local repo, back up $COUNT checkpoints"
    export RESTIC_REPOSITORY=$WORK/restic-repo
    export RESTIC_CACHE_DIR=$WORK/restic-cache
    rm -rf "$RESTIC_REPOSITORY" "$RESTIC_CACHE_DIR"
    restic init > "$R/restic-init.log" 2>&1
    record restic.repo_version "$(restic cat config --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"
    # back up from the generated series itself (restic only reads it)
    cd "$WORK"
    local times="" t m s i
    for s in $(steps); do
        timed "$R/restic-backup-$s.log" restic backup --host bench "ckpts/checkpoint-$s"; t=$T; m=$M
        times="$times $t"
        record "restic.backup.$s.seconds" "$t"
        record "restic.backup.$s.rss_kib" "$m"
    done
    record restic.add.total_seconds "$(echo "$times" | sumof)"
    record restic.stored "$(du -sb "$RESTIC_REPOSITORY" | cut -f1)"
    record restic.repo_files "$(find "$RESTIC_REPOSITORY" -type f | wc -l)"
    restic stats --mode raw-data --json > "$R/restic-stats.json" 2>/dev/null || true
    log "restic: restore latest ($ONE) x $REPS"
    times=""
    for i in $(seq 1 "$REPS"); do
        rm -rf "$WORK/restic-restore"; sync
        timed "$R/restic-restore.log" restic restore latest --target "$WORK/restic-restore"; t=$T; m=$M
        times="$times $t"
        [ "$i" = 1 ] && { diff -r "$WORK/restic-restore/ckpts/$ONE" "$WORK/ckpts/$ONE" > /dev/null || { echo "restic restore differs" >&2; exit 1; }; }
    done
    rm -rf "$WORK/restic-restore"
    record restic.checkout.median_seconds "$(echo "$times" | median)"
    record restic.checkout.all_seconds "$(echo $times)"
}

for p in $PARTS; do "part_$p"; cd "$WORK"; done
[ -z "$PARTS" ] || record machine.load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$ROOT/benches/store_series_report.py" "$RAW" > "$R/report.md"
cat "$R/report.md"

if [ -z "${KEEP:-}" ]; then
    log "removing workspaces (KEEP=1 keeps them; ckpts/ is kept for reuse)"
    rm -rf "$WORK/rvc" "$WORK/dvc" "$WORK/restic-repo" "$WORK/restic-cache" "$WORK/runs100"
fi
