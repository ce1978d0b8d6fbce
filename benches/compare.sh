#!/usr/bin/env bash
# Side-by-side benchmark of rvc against its peers (b3sum, dvc, cp).
#
#   benches/compare.sh [SCENARIO...]        default: all of them, in order
#
# Scenarios:
#   hash      rvc hash BIG           vs b3sum BIG               (warm page cache)
#   hashdir   rvc hash MANY          vs b3sum of every file     (extra)
#   add       rvc add MANY           vs dvc add MANY            (fresh repo per run)
#   addbig    rvc add BIG            vs dvc add BIG             (fresh repo per run, extra)
#   status    no-op rvc status       vs no-op dvc status        (after add + warm-up)
#   checkout  rvc checkout MANY/BIG  vs cp -r MANY/BIG, and dvc checkout MANY
#   rss       peak RSS (/usr/bin/time -f %M) of rvc add/hash/status/checkout
#
# MANY is 20,000 files of 1-8 KiB in 100 leaf dirs (10 parts x 10 shards);
# BIG is one 1 GiB file. Both come from a seeded PRNG (benches/gen_data.py),
# so every run sees byte-identical data.
#
# Everything is written under $BENCH_DIR (default /tmp/rvc-bench):
#   data/       the generated data (reused while its parameters match)
#   bin/rvc     a copy of the freshly built binary (immune to rebuilds meanwhile)
#   ws/NAME/    one workspace (git + rvc or dvc repo) per tool and dataset
#   results/    hyperfine JSON per measurement, *.cmp comparison records,
#               rss.tsv, meta.txt, and summary.md (the final tables)
# With BENCH_FS=ext4-loop the workspaces (not data/) live instead on a fresh
# journaled ext4 image loop-mounted at ext4-loop/ (needs root), and results
# go to results-ext4-loop/. Use it when the native filesystem distorts
# small-file creation (see docs/benchmarks.md: ext4 without a journal scans
# recently deleted inodes on every create). Clean up with
#   umount $BENCH_DIR/ext4-loop; rm -rf $BENCH_DIR
# Results of earlier runs stay in results/, so rerunning one scenario
# updates its rows and the summary still shows the others.
#
# Knobs (environment):
#   BENCH_DIR   work dir (must not be inside the source tree)
#   RUNS        timed runs for fast commands (default 10)
#   SLOW_RUNS   timed runs for dvc commands (default 5)
#   RSS_RUNS    runs per peak-RSS measurement (default 3)
#   FILES DIRS BIG_MIB SEED   data shape (defaults 20000 100 1024 20240601)
#   BENCH_FS    native (default): workspaces under $BENCH_DIR/ws;
#               ext4-loop: on a journaled ext4 image (LOOP_GB, default 12)
#   SKIP_BUILD=1  use the existing target/release/rvc
#   DVC_CHECKOUT=0  skip the dvc checkout measurement
#   SCENARIOS   scenarios when none are given as arguments
#
# Each measured run that changes state gets a --prepare step that restores
# the starting state (fresh repo, deleted workspace) and then `sync`s, so
# dirty pages from the previous run are not written back on the next run's
# clock. Reported figures are MEDIANS; ratios are peer/rvc (>1: rvc faster).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BENCH_DIR:-/tmp/rvc-bench}
RUNS=${RUNS:-10}
SLOW_RUNS=${SLOW_RUNS:-5}
RSS_RUNS=${RSS_RUNS:-3}
FILES=${FILES:-20000}
DIRS=${DIRS:-100}
BIG_MIB=${BIG_MIB:-1024}
SEED=${SEED:-20240601}
DVC_CHECKOUT=${DVC_CHECKOUT:-1}
BENCH_FS=${BENCH_FS:-native}
LOOP_GB=${LOOP_GB:-12}
ALL_SCENARIOS="hash hashdir add addbig status checkout rss"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
select_scenarios "$@"
bench_dirs
DATA=$B/data
RVC=$B/bin/rvc
WS=$TOP/ws
# dvc's per-repo hash/link databases go under dvc-site/<workspace> next to
# ws/, wiped with the repo (see dvc_env).
SITE=$(dirname "$WS")/dvc-site
mkdir -p "$DATA" "$WS" "$RES" "$B/bin" "$SITE"

check_tools() {
    need hyperfine "apt-get install -y hyperfine"
    need b3sum "cargo install b3sum"
    need python3 "apt-get install -y python3"
    case " $SCENARIO_LIST " in
        *" add "* | *" addbig "* | *" status "* | *" checkout "*) need dvc "pip install dvc" ;;
    esac
    case " $SCENARIO_LIST " in
        *" rss "*) [[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: apt-get install -y time" >&2; exit 1; } ;;
    esac
}

build() {
    if [[ ${SKIP_BUILD:-0} != 1 ]]; then
        log "building rvc (release)"
        (cd "$ROOT" && cargo build --release --bin rvc)
    fi
    cp "$ROOT/target/release/rvc" "$RVC.new" && mv "$RVC.new" "$RVC"
    {
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        local head
        head="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes')"
        if [[ ${SKIP_BUILD:-0} == 1 ]]; then
            echo "rvc: $("$RVC" --version), prebuilt target/release/rvc (source now at $head)"
        else
            echo "rvc: $("$RVC" --version), built from $head"
        fi
        echo "b3sum: $(b3sum --version)"
        echo "dvc: $(dvc --version 2>/dev/null || echo none)"
        echo "hyperfine: $(hyperfine --version)"
        echo "kernel: $(uname -r)"
        echo "nproc: $(nproc)"
        echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
        echo "workspace fs ($BENCH_FS): $(findmnt -no SOURCE,FSTYPE,OPTIONS -T "$WS" | cut -c1-120)"
        echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$RES/meta.txt"
    cat "$RES/meta.txt" >&2
}

gen_data() {
    log "generating data under $DATA (skipped when already there)"
    python3 "$ROOT/benches/gen_data.py" --out "$DATA" --files "$FILES" --dirs "$DIRS" \
        --big-mib "$BIG_MIB" --seed "$SEED"
}

# hf NAME RUNS WARMUP PREPARE COMMAND: time COMMAND (run by sh in the
# current directory) with hyperfine; the JSON goes to results/NAME.json.
hf() {
    local name=$1 runs=$2 warmup=$3 prepare=$4 cmd=$5
    local args=(--runs "$runs" --warmup "$warmup" --style "$HF_STYLE"
        --command-name "$name" --export-json "$RES/$name.json")
    [[ -n $prepare ]] && args+=(--prepare "$prepare")
    hyperfine "${args[@]}" "$cmd"
}

# record ORDER SCENARIO RVC_RESULT PEER_LABEL PEER_RESULT GOAL GOAL_TEXT
# GOAL is a Python expression over r and p, the rvc and peer medians in s.
record() {
    printf '{"order": %s, "scenario": "%s", "rvc_json": "%s", "peer": "%s", "peer_json": "%s", "goal": "%s", "goal_text": "%s"}\n' \
        "$1" "$2" "$RES/$3.json" "$4" "$RES/$5.json" "$6" "$7" >"$RES/$3.cmp"
}

# --- workspaces ------------------------------------------------------------

# dvc_env WS: environment prefix so dvc keeps its site cache inside $B.
dvc_env() { echo "DVC_SITE_CACHE_DIR=$SITE/$1"; }

# Shell snippets that reset a workspace to "data present, no repo".
rvc_reset() { echo "rm -rf .rvc .git .gitignore $1.rvc && git init -q && $RVC init >/dev/null 2>&1"; }
dvc_reset() {
    echo "rm -rf .dvc .git .gitignore $1.dvc $SITE/$2 && git init -q && dvc init -q" \
        "&& printf '[core]\n    analytics = false\n    check_update = false\n' >> .dvc/config"
}

# new_ws NAME WHAT: a workspace holding a fresh copy of data/WHAT.
new_ws() {
    rm -rf "${WS:?}/$1"
    mkdir -p "$WS/$1"
    cp -r "$DATA/$2" "$WS/$1/$2"
}

# ensure_rvc NAME WHAT: workspace NAME with WHAT added to a fresh rvc repo,
# unless it is already there and clean.
ensure_rvc() {
    local w=$WS/$1
    if [[ -f $w/$2.rvc && -e $w/$2 ]] && (cd "$w" && "$RVC" status --check >/dev/null 2>&1); then
        return
    fi
    log "setting up rvc workspace $1"
    new_ws "$1" "$2"
    (cd "$w" && eval "$(rvc_reset "$2")" && "$RVC" add "$2" >/dev/null)
}

ensure_dvc() {
    local w=$WS/$1
    if [[ -f $w/$2.dvc && -e $w/$2 ]]; then
        return
    fi
    log "setting up dvc workspace $1"
    new_ws "$1" "$2"
    (cd "$w" && eval "$(dvc_reset "$2" "$1")" && env "$(dvc_env "$1")" dvc add -q "$2")
}

# --- scenarios ---------------------------------------------------------------

scenario_hash() {
    log "hash: rvc hash vs b3sum on one ${BIG_MIB} MiB file (warm cache)"
    cd "$DATA"
    # Sanity: the file id is defined to equal b3sum's output.
    local a b
    a=$("$RVC" hash big.bin | cut -d' ' -f1)
    b=$(b3sum big.bin | cut -d' ' -f1)
    [[ $a == "$b" ]] || { echo "BUG: rvc hash ($a) != b3sum ($b)" >&2; exit 1; }
    hf hash-rvc "$RUNS" 3 "" "$RVC hash big.bin"
    hf hash-b3sum "$RUNS" 3 "" "b3sum big.bin"
    record 10 "hash ${BIG_MIB} MiB file" hash-rvc b3sum hash-b3sum "r/p<=1.10" "within 10%"
}

scenario_hashdir() {
    log "hashdir: rvc hash vs b3sum over $FILES small files (warm cache)"
    cd "$DATA"
    hf hashdir-rvc "$RUNS" 2 "" "$RVC hash many"
    # b3sum hashes one file at a time; xargs -P spreads them over the cores.
    hf hashdir-b3sum "$RUNS" 2 "" "find many -type f -print0 | xargs -0 -n 2500 -P $(nproc) b3sum >/dev/null"
    record 15 "hash ${FILES} files (tree)" hashdir-rvc "b3sum (xargs -P)" hashdir-b3sum "" ""
}

scenario_add() {
    log "add: rvc add vs dvc add of $FILES files, fresh repo each run"
    new_ws rvc-many many
    new_ws dvc-many many
    cd "$WS/rvc-many"
    hf add-rvc "$RUNS" 1 "$(rvc_reset many) && sync" "$RVC add many"
    cd "$WS/dvc-many"
    hf add-dvc "$SLOW_RUNS" 1 "$(dvc_reset many dvc-many) && sync" "$(dvc_env dvc-many) dvc add -q many"
    record 20 "add ${FILES} files" add-rvc "dvc add" add-dvc "p/r>=10" ">=10x faster"
}

scenario_addbig() {
    log "addbig: rvc add vs dvc add of one ${BIG_MIB} MiB file, fresh repo each run"
    new_ws rvc-big big.bin
    new_ws dvc-big big.bin
    cd "$WS/rvc-big"
    hf addbig-rvc "$RUNS" 1 "$(rvc_reset big.bin) && sync" "$RVC add big.bin"
    cd "$WS/dvc-big"
    hf addbig-dvc "$SLOW_RUNS" 1 "$(dvc_reset big.bin dvc-big) && sync" "$(dvc_env dvc-big) dvc add -q big.bin"
    record 25 "add ${BIG_MIB} MiB file" addbig-rvc "dvc add" addbig-dvc "" ""
}

scenario_status() {
    log "status: no-op rvc status vs dvc status on $FILES files"
    ensure_rvc rvc-many many
    ensure_dvc dvc-many many
    cd "$WS/rvc-many"
    "$RVC" status --check >/dev/null # the warm-up status the goal allows
    hf status-rvc $((RUNS * 2)) 2 "" "$RVC status"
    cd "$WS/dvc-many"
    env "$(dvc_env dvc-many)" dvc status >/dev/null
    hf status-dvc "$SLOW_RUNS" 1 "" "$(dvc_env dvc-many) dvc status"
    record 30 "no-op status ${FILES} files" status-rvc "dvc status" status-dvc "r<0.1 and p/r>=20" "<0.1 s and >=20x faster"
}

scenario_checkout() {
    log "checkout: rvc checkout into an empty workspace vs cp -r (and dvc checkout)"
    ensure_rvc rvc-many many
    ensure_rvc rvc-big big.bin
    cd "$WS/rvc-many"
    hf checkout-rvc "$RUNS" 1 "rm -rf many && sync" "$RVC checkout"
    # Sanity: what was restored is byte-identical to the source data.
    diff -r "$DATA/many" many >/dev/null || { echo "BUG: rvc checkout restored different bytes" >&2; exit 1; }
    mkdir -p "$WS/cp"
    cd "$WS/cp"
    hf checkout-cp "$RUNS" 1 "rm -rf many && sync" "cp -r $DATA/many many"
    record 40 "checkout ${FILES} files" checkout-rvc "cp -r" checkout-cp "" ""
    if [[ $DVC_CHECKOUT == 1 ]]; then
        ensure_dvc dvc-many many
        cd "$WS/dvc-many"
        hf checkout-dvc "$SLOW_RUNS" 1 "rm -rf many && sync" "$(dvc_env dvc-many) dvc checkout -q"
        # The same rvc figure against a second peer.
        cp "$RES/checkout-rvc.json" "$RES/checkout-rvc-vs-dvc.json"
        record 41 "checkout ${FILES} files" checkout-rvc-vs-dvc "dvc checkout" checkout-dvc "" ""
    fi
    cd "$WS/rvc-big"
    hf checkoutbig-rvc "$RUNS" 1 "rm -f big.bin && sync" "$RVC checkout"
    cmp -s "$DATA/big.bin" big.bin || { echo "BUG: rvc checkout restored different bytes" >&2; exit 1; }
    cd "$WS/cp"
    hf checkoutbig-cp "$RUNS" 1 "rm -f big.bin && sync" "cp $DATA/big.bin big.bin"
    record 45 "checkout ${BIG_MIB} MiB file" checkoutbig-rvc "cp" checkoutbig-cp "" ""
    rm -rf "$WS/cp"
}

# rss LABEL PREPARE COMMAND: peak RSS of COMMAND, RSS_RUNS times.
rss() {
    local label=$1 prepare=$2 cmd=$3 i kb
    for ((i = 0; i < RSS_RUNS; i++)); do
        [[ -n $prepare ]] && eval "$prepare"
        /usr/bin/time -f %M -o "$B/rss.out" sh -c "$cmd" >/dev/null 2>&1
        kb=$(tail -n 1 "$B/rss.out")
        printf '%s\t%s\n' "$label" "$kb" >>"$RES/rss.tsv"
    done
    echo "$label: $kb KiB (last run)" >&2
}

scenario_rss() {
    log "rss: peak resident memory"
    : >"$RES/rss.tsv"
    ensure_rvc rvc-many many
    ensure_rvc rvc-big big.bin
    cd "$DATA"
    rss "rvc hash (${BIG_MIB} MiB file)" "" "$RVC hash big.bin"
    rss "b3sum (${BIG_MIB} MiB file)" "" "b3sum big.bin"
    rss "rvc hash ($FILES files)" "" "$RVC hash many"
    cd "$WS/rvc-big"
    rss "rvc add (${BIG_MIB} MiB file)" "$(rvc_reset big.bin) && sync" "$RVC add big.bin"
    rss "rvc status (${BIG_MIB} MiB file)" "" "$RVC status"
    rss "rvc checkout (${BIG_MIB} MiB file)" "rm -f big.bin && sync" "$RVC checkout"
    cd "$WS/rvc-many"
    rss "rvc add ($FILES files)" "$(rvc_reset many) && sync" "$RVC add many"
    rss "rvc status ($FILES files)" "" "$RVC status"
    rss "rvc checkout ($FILES files)" "rm -rf many && sync" "$RVC checkout"
    if command -v dvc >/dev/null && [[ -f $WS/dvc-many/many.dvc ]]; then
        cd "$WS/dvc-many"
        rss "dvc status ($FILES files)" "" "$(dvc_env dvc-many) dvc status"
    fi
}

# --- main --------------------------------------------------------------------

check_tools
build
gen_data
for s in $SCENARIO_LIST; do
    (scenario_"$s")
done

log "summary (medians; peer/rvc > 1 means rvc is faster)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/meta.txt"
cat "$RES/meta.txt"
echo
python3 "$ROOT/benches/summarize.py" "$RES" | tee "$RES/summary.md"
