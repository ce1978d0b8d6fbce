#!/usr/bin/env bash
# How long the pre-commit hook takes on a repository with 20,000 tracked
# files, none of them changed (the goal: under 0.2 s), side by side with
# DVC's pre-commit hook (`dvc git-hook pre-commit`, which runs `dvc status`
# and always passes) on the same files. Also times a whole `git commit` with
# and without rvc's hooks installed.
#
#   benches/hooks.sh
#
# Knobs: BENCH_DIR (default /tmp/rvc-bench-hooks), RUNS (default 20),
# FILES DIRS SEED (defaults 20000 100 20240601), SKIP_BUILD=1.
# Figures are medians from hyperfine; results go to $BENCH_DIR/results/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BENCH_DIR:-/tmp/rvc-bench-hooks}
RUNS=${RUNS:-20}
FILES=${FILES:-20000}
DIRS=${DIRS:-100}
SEED=${SEED:-20240601}
RES=$B/results
mkdir -p "$B/bin" "$RES"

if [[ -z ${SKIP_BUILD:-} ]]; then
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
fi
cp "$ROOT/target/release/rvc" "$B/bin/rvc"
RVC=$B/bin/rvc
export PATH="$B/bin:$PATH"

python3 "$ROOT/benches/gen_data.py" --out "$B/data" --files "$FILES" --dirs "$DIRS" \
    --big-mib 1 --seed "$SEED" >&2

setup() {  # setup DIR: a git repository with the files in data/
    rm -rf "$1" && mkdir -p "$1" && cd "$1"
    git init -q && git config user.email b@example.com && git config user.name bench
    cp -r "$B/data/many" data
    printf '*.pyc\n' > .gitignore
}

# rvc
setup "$B/ws/rvc"
"$RVC" init >/dev/null
"$RVC" add data >/dev/null
"$RVC" hooks install >/dev/null
git add -A && git commit -qm data
"$RVC" hook pre-commit  # warm the stat cache, and check it passes
# dvc
setup "$B/ws/dvc"
dvc init -q && dvc config core.analytics false
dvc add -q data
git add -A && git commit -qm data --no-verify

cd "$B/ws/rvc"
hyperfine --runs "$RUNS" --warmup 3 --style basic --export-json "$RES/rvc-pre-commit.json" \
    --command-name "rvc hook pre-commit" "$RVC hook pre-commit"
hyperfine --runs "$RUNS" --warmup 2 --style basic --export-json "$RES/commit-with-rvc-hooks.json" \
    --command-name "git commit (rvc hooks)" "git commit -q --allow-empty -m x"
hyperfine --runs "$RUNS" --warmup 2 --style basic --export-json "$RES/commit-without-hooks.json" \
    --command-name "git commit --no-verify" "git commit -q --allow-empty --no-verify -m x"
# Some files changed: the check must name them (the first few of each kind)
# and stay as fast. It exits 1, which hyperfine is told to accept.
find data -type f -name '*.bin' | sort > "$B/files.txt"
awk 'NR % 397 == 1' "$B/files.txt" | head -50 | while read -r f; do echo changed >> "$f"; done
awk 'NR % 397 == 7' "$B/files.txt" | head -10 | xargs rm -f
for i in $(seq 0 9); do echo new > "data/new-$i.bin"; done
"$RVC" hook pre-commit 2>&1 | head -8 || true
hyperfine --runs "$RUNS" --warmup 3 --style basic -i --export-json "$RES/rvc-pre-commit-changed.json" \
    --command-name "rvc hook pre-commit (70 files changed)" "$RVC hook pre-commit"
"$RVC" checkout --force >/dev/null
rm -f data/new-*.bin
cd "$B/ws/dvc"
hyperfine --runs "$((RUNS / 2))" --warmup 2 --style basic --export-json "$RES/dvc-pre-commit.json" \
    --command-name "dvc git-hook pre-commit" "dvc git-hook pre-commit"

python3 - "$RES" <<'PY'
import json, os, sys
res = sys.argv[1]
def med(name):
    with open(os.path.join(res, name + ".json")) as f:
        return json.load(f)["results"][0]["median"]
rvc = med("rvc-pre-commit")
dvc = med("dvc-pre-commit")
print(f"| rvc hook pre-commit (20,000 files, none changed) | {rvc*1000:.0f} ms |")
print(f"| rvc hook pre-commit (20,000 files, 50 modified, 10 added, 10 removed: named) | {med('rvc-pre-commit-changed')*1000:.0f} ms |")
print(f"| dvc git-hook pre-commit (same files) | {dvc*1000:.0f} ms ({dvc/rvc:.1f}x rvc) |")
print(f"| git commit with rvc's hooks | {med('commit-with-rvc-hooks')*1000:.0f} ms |")
print(f"| git commit --no-verify | {med('commit-without-hooks')*1000:.0f} ms |")
PY
