#!/usr/bin/env bash
# Issue 16's figures: rows of Parquet tables.
#
# 1. hash: the rows hash of a 1 GiB Parquet file (snappy, a text dataset
#    written by benches/gen_table.py: id, url, title, text, label, score;
#    43 row groups) with `rvc hash`, side by side with reading the same
#    file with pyarrow (`pyarrow.parquet.read_table`, the first step of any
#    Python check), and with `b3sum` of the file's bytes for scale.
#    pyarrow is timed twice: the whole command (what a user waits for) and
#    read_table alone inside the process (its import excluded).
# 2. keyed: `rvc diff --key id` of two commits of a 1,000,000-row table
#    (1,000 rows edited, 1,000 added), once as Parquet and once as CSV,
#    against the same diff by position (no key).
#
#   benches/tables.sh
#
# Knobs: BENCH_DIR (default /tmp/rvc-bench-tables), RUNS (default 10),
# MIB (default 1024), ROWS (default 1000000), SKIP_BUILD=1, PARTS (default
# "hash keyed"). Needs pyarrow and numpy (pip install pyarrow numpy),
# hyperfine and b3sum. Medians from hyperfine; results in $BENCH_DIR/results/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BENCH_DIR:-/tmp/rvc-bench-tables}
RUNS=${RUNS:-10}
MIB=${MIB:-1024}
ROWS=${ROWS:-1000000}
PARTS=${PARTS:-hash keyed}
RES=$B/results
mkdir -p "$B/bin" "$RES"
export PATH="$HOME/.cargo/bin:$PATH"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
install_rvc

median() {  # median FILE.json: the median in ms of hyperfine's first result
    python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000))" "$1"
}

if [[ " $PARTS " == *" hash "* ]]; then
    T=$B/text-$MIB.parquet
    [[ -f $T ]] || python3 "$ROOT/benches/gen_table.py" "$T" --mib "$MIB" >&2
    cat "$T" > /dev/null  # warm the page cache
    "$RVC" hash "$T"
    hyperfine --runs "$RUNS" --warmup 1 --style basic --export-json "$RES/rvc-hash.json" \
        --command-name "rvc hash" "$RVC hash $T"
    hyperfine --runs "$RUNS" --warmup 1 --style basic --export-json "$RES/pyarrow-read.json" \
        --command-name "pyarrow read_table" \
        "python3 -c 'import pyarrow.parquet as pq, sys; pq.read_table(sys.argv[1])' $T"
    hyperfine --runs "$RUNS" --warmup 1 --style basic --export-json "$RES/b3sum.json" \
        --command-name "b3sum" "b3sum $T"
    # read_table alone, in one process: the median of RUNS calls.
    inproc=$(python3 - "$T" "$RUNS" <<'PY'
import statistics, sys, time
import pyarrow.parquet as pq
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); pq.read_table(sys.argv[1]); times.append(time.perf_counter() - t)
print(round(statistics.median(times) * 1000))
PY
)
    rvc=$(median "$RES/rvc-hash.json"); pya=$(median "$RES/pyarrow-read.json"); b3=$(median "$RES/b3sum.json")
    {
        echo "| $(du -m "$T" | cut -f1) MiB Parquet, $(nproc) cores | median |"
        echo "|---|---|"
        echo "| rvc hash (file id + rows hash) | $rvc ms |"
        echo "| python3 -c 'pq.read_table(f)' | $pya ms ($(python3 -c "print(f'{$pya/$rvc:.1f}')")x rvc) |"
        echo "| pq.read_table(f) alone, in process | $inproc ms ($(python3 -c "print(f'{$inproc/$rvc:.1f}')")x rvc) |"
        echo "| b3sum (file id only) | $b3 ms |"
    } | tee "$RES/hash.md"
fi

if [[ " $PARTS " == *" keyed "* ]]; then
    A=$B/keyed-a.parquet; E=$B/keyed-b.parquet
    if [[ ! -f $E ]]; then
        python3 "$ROOT/benches/gen_table.py" "$A" --rows "$ROWS" --words 20 --edit 1000 --edited "$E" >&2
        python3 -c "import pyarrow.parquet as pq, pyarrow.csv as pc, sys
for s in sys.argv[1:]: pc.write_csv(pq.read_table(s), s.replace('.parquet', '.csv'))" "$A" "$E"
    fi
    # One repository per format: two commits of the one file.
    for f in parquet csv; do
        W=$B/ws-$f && rm -rf "$W" && mkdir -p "$W" && cd "$W"
        git init -q && git config user.email b@example.com && git config user.name bench
        "$RVC" init >/dev/null
        cp "${A%.parquet}.$f" t.$f && "$RVC" add t.$f >/dev/null && git add -A && git commit -qm a
        cp "${E%.parquet}.$f" t.$f && "$RVC" add t.$f >/dev/null && git add -A && git commit -qm b
        "$RVC" diff HEAD~1 HEAD --key id
        hyperfine --runs "$RUNS" --warmup 1 --style basic --export-json "$RES/keyed-$f.json" \
            --command-name "rvc diff --key id ($f)" "$RVC diff HEAD~1 HEAD --key id"
        hyperfine --runs "$RUNS" --warmup 1 --style basic --export-json "$RES/unkeyed-$f.json" \
            --command-name "rvc diff ($f, by position)" "$RVC diff HEAD~1 HEAD"
    done
    {
        echo "| $ROWS rows per side, 1,000 edited + 1,000 added | median |"
        echo "|---|---|"
        echo "| rvc diff --key id, Parquet ($(du -m "$A" | cut -f1) MiB) | $(median "$RES/keyed-parquet.json") ms |"
        echo "| rvc diff --key id, CSV ($(du -m "${A%.parquet}.csv" | cut -f1) MiB) | $(median "$RES/keyed-csv.json") ms |"
        echo "| rvc diff by position, Parquet | $(median "$RES/unkeyed-parquet.json") ms |"
        echo "| rvc diff by position, CSV | $(median "$RES/unkeyed-csv.json") ms |"
    } | tee "$RES/keyed.md"
fi
