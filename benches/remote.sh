#!/usr/bin/env bash
# Side-by-side benchmark of rvc push/pull against dvc push/pull, both
# talking to the same loopback S3 server (examples/s3_server.rs: s3s-fs with
# signature checking).
#
#   benches/remote.sh [SCENARIO...]        default: all of them, in order
#
# Scenarios (each for rvc and dvc, same server process, same data):
#   push      push MANY to an empty remote prefix   (data already added)
#   pull      pull MANY into a clone: empty cache, no workspace data
#   noop      push MANY again when the remote has everything
#   pushbig   push BIG to an empty remote prefix
#   pullbig   pull BIG into a clone: empty cache, no workspace data
#
# MANY is 20,000 files of 1-8 KiB in 100 leaf dirs, BIG one 1 GiB file,
# from benches/gen_data.py (seeded; the same data compare.sh uses).
#
# Everything goes under $BENCH_DIR (default /tmp/rvc-remote-bench):
#   data/          the generated data (reused while its parameters match)
#   bin/           rvc and s3_server, copied from a clean build of RVC_COMMIT
#   src/ target/   that build (git archive of RVC_COMMIT, its own target dir)
#   s3/            the server's root with SERVER_FS=disk (by default it is
#                  on tmpfs, see SERVER_FS): one bucket per tool and dataset
#                  (rvc-many rvc-big dvc-many dvc-big), each remote at the
#                  prefix `remote/`; s3s-fs keeps two metadata files per
#                  object beside them, s3/.bucket-<base64 name>.object-*
#   ws/NAME/       git repos: rvc-many, rvc-big, dvc-many, dvc-big (the
#                  pushing side) and *-clone (the pulling side, git clones)
#   results/       hyperfine JSON, *.cmp records, counts.tsv, meta.txt,
#                  server.log and summary.md
# With BENCH_FS=ext4-loop, ws/ (and s3/) live on a fresh journaled ext4 image
# loop-mounted at ext4-loop/ (needs root), and results go to
# results-ext4-loop/ (see compare.sh and docs/benchmarks.md for why: ext4
# without a journal is slow to create files right after deleting many).
# Clean up with: umount $BENCH_DIR/ext4-loop; rm -rf $BENCH_DIR
# /dev/shm/rvc-remote-bench-s3
#
# Knobs (environment):
#   BENCH_DIR    work dir (must not be inside the source tree)
#   RUNS         timed runs for rvc (default 5)
#   SLOW_RUNS    timed runs for dvc (default 3)
#   NOOP_RUNS    timed runs of the no-op push, both tools (default 5)
#   FILES DIRS BIG_MIB SEED   data shape (defaults 20000 100 1024 20240601)
#   RVC_COMMIT   the commit to build (default HEAD; a git archive of it, so
#                uncommitted edits in the tree are not measured)
#   SKIP_BUILD=1 reuse $BENCH_DIR/bin as it is
#   BENCH_FS     native (default) or ext4-loop (LOOP_GB, default 16)
#   RVC_JOBS DVC_JOBS   pass --jobs N (default: each tool's own default)
#   SERVER_FS    tmpfs (default) or disk: where the server keeps the buckets.
#                tmpfs is SERVER_DIR (default /dev/shm/rvc-remote-bench-s3),
#                per BENCH_FS; disk is $TOP/s3, beside the workspaces. The
#                server stands for object storage on other machines: on
#                tmpfs its writes do not compete with the client's for the
#                one disk and page cache of this VM (it still shares the
#                2 cores)
#
# Fairness: every timed push starts with its bucket deleted, with the
# server's metadata files for it, and made again empty (in hyperfine
# --prepare, then `sync`), and the data already in the tool's local cache; every timed pull starts in a git clone whose local cache, state and
# workspace data were deleted (then `sync`), the remote already populated.
# Pull is the whole `pull` (fetch + checkout) for both tools. Credentials are
# the AWS_* variables the server prints, for both tools. dvc pull needs one
# workaround for s3s-fs (see dvc_head_fix). Figures are MEDIANS; ratios are
# dvc/rvc (>1: rvc faster).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BENCH_DIR:-/tmp/rvc-remote-bench}
RUNS=${RUNS:-5}
SLOW_RUNS=${SLOW_RUNS:-3}
NOOP_RUNS=${NOOP_RUNS:-5}
FILES=${FILES:-20000}
DIRS=${DIRS:-100}
BIG_MIB=${BIG_MIB:-1024}
SEED=${SEED:-20240601}
BENCH_FS=${BENCH_FS:-native}
SERVER_FS=${SERVER_FS:-tmpfs}
LOOP_GB=${LOOP_GB:-16}
RVC_COMMIT=${RVC_COMMIT:-HEAD}
ALL_SCENARIOS="push pull noop pushbig pullbig"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
select_scenarios "$@"
bench_dirs
DATA=$B/data
RVC=$B/bin/rvc
SERVER_BIN=$B/bin/s3_server
WS=$TOP/ws
case $SERVER_FS in
    tmpfs) SRV=${SERVER_DIR:-/dev/shm/rvc-remote-bench-s3}/$BENCH_FS ;;
    disk) SRV=$TOP/s3 ;;
    *) echo "SERVER_FS must be tmpfs or disk" >&2; exit 2 ;;
esac
SITE=$TOP/dvc-site
mkdir -p "$DATA" "$WS" "$RES" "$B/bin" "$SITE" "$SRV"

check_tools() {
    need hyperfine "apt-get install -y hyperfine"
    need python3 "apt-get install -y python3"
    need dvc "pip install dvc dvc-s3"
    dvc version 2>/dev/null | grep -q 's3 (' || { echo "dvc has no S3 support: pip install dvc-s3" >&2; exit 1; }
}

build() {
    local rev
    rev=$(git -C "$ROOT" rev-parse --short "$RVC_COMMIT")
    if [[ ${SKIP_BUILD:-0} != 1 ]]; then
        log "building rvc and examples/s3_server at $rev (git archive, clean)"
        rm -rf "$B/src"
        mkdir -p "$B/src"
        git -C "$ROOT" archive "$rev" | tar -x -C "$B/src"
        (cd "$B/src" && CARGO_TARGET_DIR=$B/target cargo build --release --bin rvc --example s3_server)
        cp "$B/target/release/rvc" "$RVC.new" && mv "$RVC.new" "$RVC"
        cp "$B/target/release/examples/s3_server" "$SERVER_BIN.new" && mv "$SERVER_BIN.new" "$SERVER_BIN"
        echo "$rev" >"$B/bin/REV"
    fi
    [[ -x $RVC && -x $SERVER_BIN ]] || { echo "no binaries in $B/bin (drop SKIP_BUILD)" >&2; exit 1; }
    {
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "rvc: $("$RVC" --version), clean build of $(cat "$B/bin/REV" 2>/dev/null || echo '?')"
        echo "rvc jobs: ${RVC_JOBS:-default ($(rvc_default_jobs))}"
        echo "dvc: $(dvc --version), $(dvc version 2>/dev/null | grep -o 's3 (s3fs = [^)]*)'), boto: $(python3 -c 'import botocore; print(botocore.__version__)')"
        echo "dvc jobs: ${DVC_JOBS:-default ($(dvc_default_jobs))}"
        echo "hyperfine: $(hyperfine --version)"
        echo "kernel: $(uname -r)"
        echo "nproc: $(nproc)"
        echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
        echo "fs ($BENCH_FS) of ws/: $(findmnt -no SOURCE,FSTYPE,OPTIONS -T "$WS" | cut -c1-120)"
        echo "fs ($SERVER_FS) of the server's root $SRV: $(findmnt -no SOURCE,FSTYPE -T "$SRV")"
        echo "data: FILES=$FILES DIRS=$DIRS BIG_MIB=$BIG_MIB SEED=$SEED"
        echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$RES/meta.txt"
    cat "$RES/meta.txt" >&2
}

# rvc's default (src/remote/mod.rs default_jobs): 8 per core, 16 to 32.
rvc_default_jobs() { local n; n=$(nproc); n=$((n * 8)); ((n < 16)) && n=16; ((n > 32)) && n=32; echo "$n"; }
# dvc's default (dvc_objects.fs.base.FileSystem._JOBS): 4 per core.
dvc_default_jobs() { python3 -c 'from dvc_objects.fs.base import FileSystem; print(FileSystem._JOBS)'; }

gen_data() {
    log "generating data under $DATA (skipped when already there)"
    python3 "$ROOT/benches/gen_data.py" --out "$DATA" --files "$FILES" --dirs "$DIRS" \
        --big-mib "$BIG_MIB" --seed "$SEED"
}

# --- the server -----------------------------------------------------------

SERVER_PID=
stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

start_server() {
    log "starting the loopback S3 server on $SRV"
    "$SERVER_BIN" "$SRV" rvc-many 127.0.0.1:0 >"$RES/server.env" 2>"$RES/server.log" &
    SERVER_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q '^export AWS_ALLOW_HTTP=' "$RES/server.env" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^export AWS_ENDPOINT=' "$RES/server.env" || { echo "the server did not start:" >&2; cat "$RES/server.log" >&2; exit 1; }
    # shellcheck disable=SC1091
    source "$RES/server.env"
    # botocore reads the region from AWS_DEFAULT_REGION.
    export AWS_DEFAULT_REGION=$AWS_REGION
    echo "server pid $SERVER_PID at $AWS_ENDPOINT" >&2
}

# --- helpers ----------------------------------------------------------------

# hf NAME RUNS WARMUP PREPARE COMMAND: time COMMAND (run by sh in the
# current directory); the JSON goes to results/NAME.json.
hf() {
    local name=$1 runs=$2 warmup=$3 prepare=$4 cmd=$5
    local args=(--runs "$runs" --warmup "$warmup" --style "$HF_STYLE"
        --command-name "$name" --export-json "$RES/$name.json")
    [[ -n $prepare ]] && args+=(--prepare "$prepare")
    hyperfine "${args[@]}" "$cmd"
}

# record ORDER SCENARIO RVC_RESULT PEER_LABEL PEER_RESULT GOAL GOAL_TEXT [TAG]
# (the same records as compare.sh; benches/summarize.py prints them; TAG
# names a second record for the same rvc result, e.g. a reference row)
record() {
    printf '{"order": %s, "scenario": "%s", "rvc_json": "%s", "peer": "%s", "peer_json": "%s", "goal": "%s", "goal_text": "%s"}\n' \
        "$1" "$2" "$RES/$3.json" "$4" "$RES/$5.json" "$6" "$7" >"$RES/$3${8:-}.cmp"
}

b64() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$1"; }

# empty_bucket NAME: shell code that deletes the bucket NAME with its objects
# and the server's metadata files for them, then makes it again, empty.
empty_bucket() {
    echo "rm -rf $SRV/$1 && find $SRV -maxdepth 1 -name '.bucket-$(b64 "$1").object-*' -delete && mkdir $SRV/$1"
}

# dvc_head_fix BUCKET: `dvc pull` first checks the remote with
# `exists(<url>/files/md5)`, a HeadObject on what is a directory in s3s-fs,
# which answers 500 (it tries to read the directory for an MD5) where S3
# would answer 404; botocore retries 4 times and dvc then fails every file.
# A metadata file giving that key an ETag makes s3s-fs answer 200 instead,
# so the check passes with the one request it makes anyway.
dvc_head_fix() {
    printf '{"e_tag":"d41d8cd98f00b204e9800998ecf8427e"}' \
        >"$SRV/.bucket-$(b64 "$1").object-$(b64 remote/files/md5).internal.json"
}

# count LABEL BUCKET: objects and bytes in one bucket, as the row LABEL of
# counts.tsv (replacing an earlier one, so reruns keep the others)
count() {
    local files bytes
    files=$(find "$SRV/$2" -type f 2>/dev/null | wc -l)
    bytes=$(du -sb "$SRV/$2" 2>/dev/null | cut -f1)
    touch "$RES/counts.tsv"
    { grep -v -F "$1"$'\t' "$RES/counts.tsv" || true; printf '%s\t%s\t%s\n' "$1" "$files" "${bytes:-0}"; } >"$RES/counts.tsv.new"
    mv "$RES/counts.tsv.new" "$RES/counts.tsv"
    echo "$1: $files objects, ${bytes:-0} bytes on the remote" >&2
}

rvc_jobs_arg() { [[ -n ${RVC_JOBS:-} ]] && echo "--jobs $RVC_JOBS" || true; }
dvc_jobs_arg() { [[ -n ${DVC_JOBS:-} ]] && echo "--jobs $DVC_JOBS" || true; }
dvc_env() { echo "DVC_SITE_CACHE_DIR=$SITE/$1"; }

# --- workspaces ---------------------------------------------------------------

# setup_rvc NAME WHAT: ws/NAME, a git repo with data/WHAT added to rvc and
# the remote s3://NAME/remote as its default, committed; ws/NAME-clone a git
# clone of it. Rebuilt when the server's endpoint changed (its port).
setup_rvc() {
    local name=$1 what=$2 w=$WS/$1
    log "setting up rvc workspace $name ($what)"
    rm -rf "$w" "$w-clone"
    eval "$(empty_bucket "$name")"
    mkdir -p "$w"
    cp -r "$DATA/$what" "$w/$what"
    (
        cd "$w"
        git init -q
        "$RVC" init >/dev/null 2>&1
        "$RVC" add "$what" >/dev/null
        "$RVC" remote add s3 "s3://$name/remote" --endpoint "$AWS_ENDPOINT" \
            --region "$AWS_REGION" --allow-http --default >/dev/null
        git add -A
        git commit -q -m "rvc: $what"
    )
    git clone -q "$w" "$w-clone"
}

setup_dvc() {
    local name=$1 what=$2 w=$WS/$1
    log "setting up dvc workspace $name ($what)"
    rm -rf "$w" "$w-clone" "${SITE:?}/$name" "$SITE/$name-clone"
    eval "$(empty_bucket "$name")"
    mkdir -p "$w"
    cp -r "$DATA/$what" "$w/$what"
    (
        cd "$w"
        git init -q
        dvc init -q
        printf '[core]\n    analytics = false\n    check_update = false\n' >>.dvc/config
        env "$(dvc_env "$name")" dvc add -q "$what"
        dvc remote add -d s3r "s3://$name/remote" >/dev/null
        dvc remote modify s3r endpointurl "$AWS_ENDPOINT"
        dvc remote modify s3r region "$AWS_REGION"
        git add -A
        git commit -q -m "dvc: $what"
    )
    git clone -q "$w" "$w-clone"
}

ensure() {
    local w=$WS/$2
    case $1 in
        rvc) [[ -f $w/$3.rvc && -d $w-clone/.git ]] && grep -q "$AWS_ENDPOINT" "$w/.rvc/config.toml" || setup_rvc "$2" "$3" ;;
        dvc) [[ -f $w/$3.dvc && -d $w-clone/.git ]] && grep -q "$AWS_ENDPOINT" "$w/.dvc/config" || setup_dvc "$2" "$3" ;;
    esac
}

# Sanity: a pull restored exactly the data.
check_same() {
    if [[ -d $DATA/$2 ]]; then
        diff -r "$DATA/$2" "$1/$2" >/dev/null || { echo "BUG: $1/$2 differs from the data" >&2; exit 1; }
    else
        cmp -s "$DATA/$2" "$1/$2" || { echo "BUG: $1/$2 differs from the data" >&2; exit 1; }
    fi
}

# --- scenarios ------------------------------------------------------------------

# push_pair TAG WHAT ORDER LABEL
push_pair() {
    local tag=$1 what=$2 order=$3 label=$4
    ensure rvc "rvc-$tag" "$what"
    ensure dvc "dvc-$tag" "$what"
    cd "$WS/rvc-$tag"
    hf "push$tag-rvc" "$RUNS" 1 "$(empty_bucket "rvc-$tag") && rm -rf .rvc/state/remotes && sync" "$RVC push $(rvc_jobs_arg)"
    # One more, untimed, for rvc's own account of it (objects, uploads, bytes).
    eval "$(empty_bucket "rvc-$tag")" && rm -rf .rvc/state/remotes && sync
    "$RVC" push --json $(rvc_jobs_arg) >"$RES/push$tag-rvc.report.json"
    count "rvc push $label" "rvc-$tag"
    cd "$WS/dvc-$tag"
    hf "push$tag-dvc" "$SLOW_RUNS" 0 "$(empty_bucket "dvc-$tag") && sync" "$(dvc_env "dvc-$tag") dvc push -q $(dvc_jobs_arg)"
    count "dvc push $label" "dvc-$tag"
    record "$order" "push $label" "push$tag-rvc" "dvc push" "push$tag-dvc" "p/r>=5" ">=5x faster"
}

# pull_pair TAG WHAT ORDER LABEL
pull_pair() {
    local tag=$1 what=$2 order=$3 label=$4
    ensure rvc "rvc-$tag" "$what"
    ensure dvc "dvc-$tag" "$what"
    # The remotes must hold everything (a push is a no-op when they do).
    (cd "$WS/rvc-$tag" && "$RVC" push >/dev/null)
    (cd "$WS/dvc-$tag" && env "$(dvc_env "dvc-$tag")" dvc push -q)
    dvc_head_fix "dvc-$tag"
    cd "$WS/rvc-$tag-clone"
    hf "pull$tag-rvc" "$RUNS" 1 "rm -rf $what .rvc/cache .rvc/state && sync" "$RVC pull $(rvc_jobs_arg)"
    check_same "$WS/rvc-$tag-clone" "$what"
    rm -rf "$what" .rvc/cache .rvc/state && sync
    "$RVC" pull --json $(rvc_jobs_arg) >"$RES/pull$tag-rvc.report.json" # untimed, for the counts
    cd "$WS/dvc-$tag-clone"
    hf "pull$tag-dvc" "$SLOW_RUNS" 0 "rm -rf $what .dvc/cache .dvc/tmp $SITE/dvc-$tag-clone && sync" \
        "$(dvc_env "dvc-$tag-clone") dvc pull -q $(dvc_jobs_arg)"
    check_same "$WS/dvc-$tag-clone" "$what"
    record "$order" "pull $label" "pull$tag-rvc" "dvc pull" "pull$tag-dvc" "p/r>=5" ">=5x faster"
    if [[ -f $DATA/$what ]]; then
        # Reference: the least any pull must do, one copy of the file into
        # the workspace's filesystem (cp, from a warm page cache).
        mkdir -p "$WS/cp-ref"
        hf "pull$tag-cp" "$RUNS" 1 "rm -f $WS/cp-ref/$what && sync" "cp $DATA/$what $WS/cp-ref/$what"
        rm -f "$WS/cp-ref/$what"
        record "$((order + 1))" "pull $label" "pull$tag-rvc" "cp of the file (reference)" "pull$tag-cp" "" "(reference)" -cp
    fi
}

scenario_push() { log "push: $FILES files to an empty prefix"; push_pair many many 10 "${FILES} files"; }
scenario_pull() { log "pull: $FILES files into an empty clone"; pull_pair many many 20 "${FILES} files"; }
scenario_pushbig() { log "pushbig: ${BIG_MIB} MiB file to an empty prefix"; push_pair big big.bin 40 "${BIG_MIB} MiB file"; }
scenario_pullbig() { log "pullbig: ${BIG_MIB} MiB file into an empty clone"; pull_pair big big.bin 50 "${BIG_MIB} MiB file"; }

scenario_noop() {
    log "noop: push $FILES files again, the remote has them all"
    ensure rvc rvc-many many
    ensure dvc dvc-many many
    cd "$WS/rvc-many"
    "$RVC" push >/dev/null
    hf noop-rvc "$NOOP_RUNS" 1 "" "$RVC push $(rvc_jobs_arg)"
    cd "$WS/dvc-many"
    env "$(dvc_env dvc-many)" dvc push -q
    hf noop-dvc "$NOOP_RUNS" 1 "" "$(dvc_env dvc-many) dvc push -q $(dvc_jobs_arg)"
    record 30 "no-op push ${FILES} files" noop-rvc "dvc push" noop-dvc "p/r>=5" ">=5x faster"
}

# --- main ------------------------------------------------------------------------

check_tools
build
gen_data
start_server
for s in $SCENARIO_LIST; do
    (scenario_"$s")
done
stop_server

log "summary (medians; dvc/rvc > 1 means rvc is faster)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/meta.txt"
{
    cat "$RES/meta.txt"
    echo
    python3 "$ROOT/benches/summarize.py" "$RES"
    echo
    echo "| bucket after push | objects | bytes |"
    echo "|---|---|---|"
    sort "$RES/counts.tsv" 2>/dev/null | awk -F'\t' '{printf "| %s | %s | %s |\n", $1, $2, $3}'
} | tee "$RES/summary.md"
