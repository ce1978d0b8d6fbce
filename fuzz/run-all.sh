#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 120) each, one after another,
# then replay the regression inputs. Needs cargo-fuzz, and a nightly toolchain
# or, failing that, the stable one with RUSTC_BOOTSTRAP=1 (set here):
#   cargo install cargo-fuzz
# Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")"
# cargo-fuzz passes -Z flags: nightly when there is one, else stable with
# its unstable features unlocked.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz() { cargo +nightly fuzz "$@"; }
else
    fuzz() { RUSTC_BOOTSTRAP=1 cargo fuzz "$@"; }
fi
secs=${1:-120}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(pointer_parse tree_parse id_parse digest_bytes statcache_load tfevents_read chunk_decode
        manifest_parse remote_index_decode pack_index_decode lockfile_parse config_parse table_rows)
fi
# statcache_load and pointer_parse write a temp file per input: keep it in RAM.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
# Look past the open statcache finding (see README.md); the regression
# replay below runs without it.
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: fuzzing for ${secs}s"
    # New inputs go to corpus/$t (ignored by git); seeds/$t is read only.
    RVC_FUZZ_CLAMP_STAT_COUNT=1 fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 || status=1
done
unset RVC_FUZZ_CLAMP_STAT_COUNT
echo "== regressions (each should pass once its finding is fixed)"
for dir in regressions/*/; do
    t=$(basename "$dir")
    for f in "$dir"*; do
        if fuzz run "$t" "$f" -- -runs=1 >/dev/null 2>&1; then
            echo "ok     $t $(basename "$f")"
        else
            echo "FAILS  $t $(basename "$f")"
            status=1
        fi
    done
done
exit $status
