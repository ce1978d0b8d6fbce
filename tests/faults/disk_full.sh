#!/usr/bin/env bash
# Disk full during add, checkout, pull and gc, on a small tmpfs in a private
# mount namespace (run by tests/faults.rs under `unshare -rm`, so nothing is
# mounted outside this script). For each command: the disk is filled, the
# command must fail with exit 1 and the disk-full hint, leave nothing
# half-written where the user looks (no pointer, no partial file, fsck
# clean), and once space is freed the same command must complete.
#
# Needs: RVC (the binary), WORK (a scratch directory outside the tmpfs).
set -euo pipefail
: "${RVC:?}" "${WORK:?}"

fs=$WORK/fs
mkdir -p "$fs" "$WORK/remote"
mount -t tmpfs -o size=64m tmpfs "$fs"

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# Fill the disk to leave about KIB KiB free.
fill() {
    local keep_kib=$1
    rm -f "$fs/filler"
    local free_kib
    free_kib=$(df -k --output=avail "$fs" | tail -1)
    local n=$((free_kib - keep_kib))
    if ((n > 0)); then
        head -c "$((n * 1024))" /dev/zero > "$fs/filler" 2>/dev/null || true
    fi
    if ((keep_kib == 0)); then
        cat /dev/zero >> "$fs/filler" 2>/dev/null || true  # to the last block
    fi
}
unfill() { rm -f "$fs/filler"; }

# expect_full CMD...: the command fails with exit 1, naming the full disk.
expect_full() {
    local rc=0
    "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
    ((rc == 1)) || { cat "$WORK/err" >&2; fail "$* exited $rc, not 1"; }
    grep -q "No space left on device" "$WORK/err" || { cat "$WORK/err" >&2; fail "$*: no ENOSPC message"; }
    grep -q "the disk is full" "$WORK/err" || { cat "$WORK/err" >&2; fail "$*: no disk-full hint"; }
    grep -q "panicked" "$WORK/err" && fail "$* panicked"
    echo "   refused as expected: $(head -1 "$WORK/err")"
}

# The store holds nothing damaged and nothing named is missing.
sound() {
    "$RVC" fsck > "$WORK/fsck" 2>&1 || { cat "$WORK/fsck" >&2; fail "fsck after $1"; }
}
# The store holds nothing damaged (after a failed fetch, what it did not
# bring is missing, which is no damage).
undamaged() {
    "$RVC" fsck --json > "$WORK/fsck" 2>&1 || true
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(1 if r["corrupt"] else 0)' "$WORK/fsck" \
        || { cat "$WORK/fsck" >&2; fail "fsck finds damage after $1"; }
}

noise() { head -c "$1" /dev/urandom; }
digest() { sha256sum "$1" | cut -d' ' -f1; }

cd "$fs"
git init -q repo && cd repo
git config user.email t@example.com && git config user.name t
"$RVC" init > /dev/null
"$RVC" remote add origin "$WORK/remote" --default > /dev/null

step "add: a 24 MB file with 8 MB free"
mkdir data
for i in $(seq 1 50); do echo "row $i" > "data/f$i.txt"; done
noise 24000000 > data/weights.bin
fill 8000
expect_full "$RVC" add data
[[ ! -e data.rvc ]] || fail "add wrote a pointer on a full disk"
sound "a failed add"
unfill
"$RVC" add data > /dev/null || fail "add after freeing space"
"$RVC" status --check > /dev/null || fail "status after add"
sound "the re-run of add"
want=$(digest data/weights.bin)

step "push (the remote is on another disk)"
"$RVC" push > /dev/null || fail "push"

step "checkout: restore 24 MB with 4 MB free"
rm -rf data
fill 4000
expect_full "$RVC" checkout
[[ ! -e data/weights.bin ]] || fail "checkout left a partial data/weights.bin"
ls -A data 2>/dev/null | grep -q '^\.rvc-tmp' && fail "checkout left a visible temporary file"
sound "a failed checkout"
unfill
"$RVC" checkout > /dev/null || fail "checkout after freeing space"
[[ $(digest data/weights.bin) == "$want" ]] || fail "checkout restored other bytes"
"$RVC" status --check > /dev/null || fail "status after checkout"

step "pull: an empty store, 24 MB to fetch with 6 MB free"
rm -rf data .rvc/cache
fill 6000
expect_full "$RVC" pull
[[ ! -e data/weights.bin ]] || fail "pull left a partial data/weights.bin"
undamaged "a failed pull"
unfill
"$RVC" pull > /dev/null || fail "pull after freeing space"
[[ $(digest data/weights.bin) == "$want" ]] || fail "pull restored other bytes"
sound "the re-run of pull"

step "gc: packs to rewrite with no space"
# Garbage in packs: small files added, then replaced.
for i in $(seq 1 400); do echo "old $i $(noise 300 | od -An -tx1 | tr -d ' \n')" > "data/f$i.txt"; done
"$RVC" add data > /dev/null
for i in $(seq 1 400); do echo "new $i" > "data/f$i.txt"; done
"$RVC" add data > /dev/null
fill 0
rc=0
"$RVC" gc > "$WORK/out" 2> "$WORK/err" || rc=$?
grep -q "panicked" "$WORK/err" && fail "gc panicked"
if ((rc != 0)); then
    ((rc == 1)) || fail "gc exited $rc"
    grep -q "No space left on device" "$WORK/err" || { cat "$WORK/err" >&2; fail "gc: no ENOSPC message"; }
    echo "   refused as expected: $(head -1 "$WORK/err")"
else
    echo "   gc needed no space (it deleted before it wrote)"
fi
sound "gc on a full disk"
"$RVC" status --check > /dev/null || fail "status after gc on a full disk"
unfill
"$RVC" gc > /dev/null || fail "gc after freeing space"
sound "the re-run of gc"
rm -rf data
"$RVC" checkout > /dev/null || fail "checkout after gc"
[[ $(digest data/weights.bin) == "$want" ]] || fail "gc lost bytes"
[[ $(cat data/f7.txt) == "new 7" ]] || fail "gc lost a small file"

echo "ALL OK"
