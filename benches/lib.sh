# Shared by the benchmark scripts (compare.sh, remote.sh): sourced after
# they set ROOT, B (BENCH_DIR), BENCH_FS, LOOP_GB and ALL_SCENARIOS.

# select_scenarios [ARG...]: SCENARIO_LIST from the arguments, else
# $SCENARIOS, else all of them ("all" also means all). An unknown name exits 2.
select_scenarios() {
    if [[ $# -gt 0 ]]; then SCENARIO_LIST="$*"; else SCENARIO_LIST=${SCENARIOS:-$ALL_SCENARIOS}; fi
    [[ $SCENARIO_LIST == all ]] && SCENARIO_LIST=$ALL_SCENARIOS
    local s
    for s in $SCENARIO_LIST; do
        case " $ALL_SCENARIOS " in
            *" $s "*) ;;
            *) echo "unknown scenario '$s' (known: $ALL_SCENARIOS)" >&2; exit 2 ;;
        esac
    done
}

# bench_dirs: make B absolute (it must be outside the source tree), and set
# TOP, where the workspaces go, and RES, where the results go, for BENCH_FS.
# ext4-loop: a journaled ext4 filesystem in a sparse image on the same
# disk, made and loop-mounted at $B/ext4-loop the first time (needs root).
bench_dirs() {
    mkdir -p "$B"
    B=$(cd "$B" && pwd)
    case "$B/" in
        "$ROOT"/*) echo "BENCH_DIR ($B) must be outside the source tree ($ROOT)" >&2; exit 2 ;;
    esac
    case $BENCH_FS in
        native)
            TOP=$B
            RES=$B/results
            ;;
        ext4-loop)
            LOOP_MNT=$B/ext4-loop
            if ! mountpoint -q "$LOOP_MNT" 2>/dev/null; then
                [[ $(id -u) == 0 ]] || { echo "BENCH_FS=ext4-loop needs root (mount -o loop)" >&2; exit 2; }
                echo "creating a ${LOOP_GB} GiB journaled ext4 image at $B/ext4.img" >&2
                rm -f "$B/ext4.img"
                truncate -s "${LOOP_GB}G" "$B/ext4.img"
                mkfs.ext4 -q -F -j "$B/ext4.img"
                mkdir -p "$LOOP_MNT"
                mount -o loop "$B/ext4.img" "$LOOP_MNT"
            fi
            TOP=$LOOP_MNT
            RES=$B/results-ext4-loop
            ;;
        *) echo "BENCH_FS must be native or ext4-loop" >&2; exit 2 ;;
    esac
}

# dvc: no analytics or update checks. git: no system config, a fixed author.
export DVC_NO_ANALYTICS=1
export GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

# hyperfine draws progress bars only on a terminal.
if [[ -t 1 ]]; then HF_STYLE=full; else HF_STYLE=basic; fi

log() { printf '\n=== %s\n' "$*" >&2; }

# need CMD HOW: exit when CMD is missing, saying HOW to install it.
need() { command -v "$1" >/dev/null 2>&1 || { echo "missing $1: $2" >&2; exit 1; }; }

# install_rvc: build rvc in release (unless SKIP_BUILD=1) and copy it to
# $B/bin, so a rebuild during a run does not change what is measured; sets
# RVC and puts $B/bin first on PATH.
install_rvc() {
    mkdir -p "$B/bin"
    if [[ -z ${SKIP_BUILD:-} ]]; then
        cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
    fi
    cp "$ROOT/target/release/rvc" "$B/bin/rvc"
    RVC=$B/bin/rvc
    export PATH="$B/bin:$PATH"
}
