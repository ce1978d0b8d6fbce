#!/usr/bin/env bash
# Installing rvc from Python (issue 12), beside the tool a user would pick
# instead: the release wheel's build time and size, `pip install` of it into
# a fresh venv against `pip install dvc` into another (both from pip's
# cache once warmed, so the network is not measured), and the start of
# `rvc --version` from the venv.
#
#   benches/python_install.sh
#
# Knobs: BENCH_DIR (default /tmp/rvc-bench-py), RUNS (default 3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BENCH_DIR:-/tmp/rvc-bench-py}
RUNS=${RUNS:-3}
source "$ROOT/benches/lib.sh"
need hyperfine "apt-get install hyperfine"
mkdir -p "$B"
python3 -m venv "$B/tools"
"$B/tools/bin/pip" install -q --disable-pip-version-check maturin

log "release wheel"
rm -rf "$B/wheels"
t0=$(date +%s.%N)
(cd "$ROOT" && "$B/tools/bin/maturin" build --release --quiet -o "$B/wheels")
t1=$(date +%s.%N)
wheel=$(ls "$B"/wheels/rvc-*.whl)
echo "build: $(echo "$t1 - $t0" | bc) s (incremental: the release target may be warm)"
echo "wheel: $(du -k "$wheel" | cut -f1) KiB ($(basename "$wheel"))"

# Warm pip's cache for dvc, so both installs read local files.
python3 -m venv "$B/warm" && "$B/warm/bin/pip" install -q --disable-pip-version-check dvc

hyperfine --runs "$RUNS" --style basic --export-json "$B/install.json" \
    --prepare "rm -rf $B/v && python3 -m venv $B/v" \
    --command-name "pip install rvc (wheel)" "$B/v/bin/pip install -q --disable-pip-version-check $wheel" \
    --command-name "pip install dvc" "$B/v/bin/pip install -q --disable-pip-version-check dvc"
rm -rf "$B/v" && python3 -m venv "$B/v" && "$B/v/bin/pip" install -q --disable-pip-version-check "$wheel"
hyperfine --runs 20 --warmup 3 --style basic --export-json "$B/version.json" \
    --command-name "rvc --version (from the venv)" "$B/v/bin/rvc --version" \
    --command-name "python -c 'import rvc'" "$B/v/bin/python -c 'import rvc'"

python3 - "$B" <<'PY'
import json, os, sys
b = sys.argv[1]
for name in ("install", "version"):
    for r in json.load(open(os.path.join(b, name + ".json")))["results"]:
        print(f"| {r['command']} | {r['median']*1000:.0f} ms |")
PY
