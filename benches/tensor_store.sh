#!/usr/bin/env bash
# The tensor-aware store (issue 13), measured side by side with the rvc it
# replaces, restic, dvc, `zstd -1` and zipnn, in one run.
#
#   benches/tensor_store.sh [PART...]     PARTs: dedup compression speed (default: all)
#
# dedup        four checkpoint series, each added in step order to a fresh
#              store by rvc, the previous rvc (BASE_COMMIT), restic and dvc:
#                contiguous   benches/gen_checkpoints.py (10 saves; the upper
#                             half of the layers, optimizer.pt and a LoRA
#                             adapter change; the series of docs/store.md)
#                interleaved  bias and norm tuning: small trained tensors
#                             between frozen matrices (6 saves)
#                lora         LoRA-only: base model unchanged, adapter and its
#                             optimizer state change (6 saves)
#                reordered    tensors re-saved in another order every other
#                             save, upper layers trained (6 saves)
#              (benches/gen_tensor_series.py). Reported: unique content (what
#              a perfect tensor-level dedup keeps, from the generator), rvc's
#              unique chunk bytes before compression (`rvc du --json`), and
#              what each tool stores (`du -sb` of its store or repository).
#              The series is read into the page cache first, and only the
#              adds (backups) are timed, not copying the checkpoints in.
# compression  single files: a bf16 and an fp16 model.safetensors and an fp32
#              optimizer.pt: rvc (`rvc add`, stored bytes from `rvc du`),
#              `zstd -1`, and zipnn (PyPI, 2 threads, the file's dtype); sizes
#              and times (compress and decompress).
# speed        1 GiB of random bytes and a 1 GiB bf16 safetensors file: `rvc
#              add` (fresh store) and three `rvc checkout`s (warm cache) by the
#              new and the previous rvc, REPS rounds alternating the two;
#              medians, and every sample in raw.tsv.
#
# Everything goes under $WORK (default /tmp/tensor-bench): series/, bin/,
# results/{raw.tsv,report.md}. Knobs: WORK, REPS (default 5), BASE_COMMIT
# (default 280a8e8, the last commit before store format 2), PYTHON (with numpy
# and zipnn; default python3), SKIP_BUILD=1, KEEP=1 (keep workspaces).
# Needs restic, dvc, zstd, git. All figures are warm-cache.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-/tmp/tensor-bench}
REPS=${REPS:-5}
BASE_COMMIT=${BASE_COMMIT:-280a8e8}
PY=${PYTHON:-python3}
PARTS=${*:-dedup compression speed}
R=$WORK/results
mkdir -p "$WORK/bin" "$WORK/series" "$R"
export DVC_NO_ANALYTICS=1 GIT_CONFIG_NOSYSTEM=1 RESTIC_PASSWORD=x
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
for t in restic dvc zstd git; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
"$PY" -c "import numpy, zipnn" 2>/dev/null || { echo "PYTHON=$PY needs numpy and zipnn (pip install numpy zipnn)" >&2; exit 1; }

log() { printf '=== %s\n' "$*" >&2; }
put() { printf '%s\t%s\n' "$1" "$2" >> "$R/raw.tsv"; }   # key value
now() { date +%s%N; }
ms_since() { echo $(( ($(now) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

# --- binaries: the working tree's rvc, and a clean build of BASE_COMMIT.
if [[ -z ${SKIP_BUILD:-} ]]; then cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"; fi
cp "$ROOT/target/release/rvc" "$WORK/bin/rvc"
NEW=$WORK/bin/rvc
base=$(git -C "$ROOT" rev-parse --short "$BASE_COMMIT")
OLD=$WORK/bin/rvc-$base
if [[ ! -x $OLD ]]; then
    log "building rvc $base"
    rm -rf "$WORK/src"; mkdir -p "$WORK/src"
    git -C "$ROOT" archive "$base" | tar -x -C "$WORK/src"
    (cd "$WORK/src" && CARGO_TARGET_DIR=$WORK/target cargo build --release --quiet --bin rvc)
    cp "$WORK/target/release/rvc" "$OLD"
fi
: > "$R/raw.tsv"
put new_rvc "$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo +dirty)"
put base_rvc "$base"

# --- the series (generated once, reused after).
series() {   # name -> directory, generating it the first time
    local name=$1 d=$WORK/series/$1
    if [[ ! -f $d.json ]]; then
        log "generating series $name"
        rm -rf "$d"
        case $name in
            contiguous) "$PY" "$ROOT/benches/gen_checkpoints.py" "$d" > "$d.json" ;;
            fp16) "$PY" "$ROOT/benches/gen_tensor_series.py" "$d" --scenario full --dtype fp16 --count 1 > "$d.json" ;;
            *) "$PY" "$ROOT/benches/gen_tensor_series.py" "$d" --scenario "$name" > "$d.json" ;;
        esac
    fi
    echo "$d"
}
json_field() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

fresh() {   # fresh DIR: an empty git repo
    rm -rf "$1"; mkdir -p "$1"; git -C "$1" init -q
}

# --- dedup
warm() { find "$1" -type f -exec cat {} + > /dev/null; }   # read into the page cache
dedup() {
    local s d ws ck t0 total
    for s in contiguous interleaved lora reordered; do
        d=$(series $s)
        warm "$d"
        put "$s.logical" "$(json_field "$d.json" logical_bytes)"
        put "$s.unique" "$(json_field "$d.json" unique_tensor_bytes)"
        put "$s.checkpoints" "$(ls -d "$d"/checkpoint-* | wc -l)"
        for tool in rvc rvc-base restic dvc; do
            log "dedup: $s with $tool"
            ws=$WORK/ws-$tool; fresh "$ws"
            # The checkpoints are copied in first (not timed); each add or
            # backup is timed alone, in step order.
            total=0
            case $tool in
                rvc|rvc-base)
                    local bin=$NEW; [[ $tool == rvc-base ]] && bin=$OLD
                    (cd "$ws" && $bin init >/dev/null)
                    cp -r "$d"/checkpoint-* "$ws/"; sync
                    for ck in $(ls -d "$d"/checkpoint-* | sort -t- -k2 -n); do
                        t0=$(now); (cd "$ws" && $bin add "$(basename "$ck")" >/dev/null 2>&1)
                        total=$((total + $(ms_since "$t0")))
                    done
                    put "$s.$tool.add_ms" "$total"
                    (cd "$ws" && $bin du --json) > "$R/du-$s-$tool.json"
                    put "$s.$tool.stored" "$(du -sb "$ws/.rvc/cache" | cut -f1)"
                    put "$s.$tool.files" "$(find "$ws/.rvc/cache" -type f | wc -l)"
                    if [[ $tool == rvc ]]; then
                        put "$s.rvc.unique_chunks" "$(json_field "$R/du-$s-$tool.json" unique)"
                    fi
                    ;;
                restic)
                    restic init -q -r "$ws/repo" >/dev/null
                    for ck in $(ls -d "$d"/checkpoint-* | sort -t- -k2 -n); do
                        t0=$(now); (cd "$d" && restic -q -r "$ws/repo" backup "$(basename "$ck")" >/dev/null)
                        total=$((total + $(ms_since "$t0")))
                    done
                    put "$s.restic.add_ms" "$total"
                    put "$s.restic.stored" "$(du -sb "$ws/repo" | cut -f1)"
                    ;;
                dvc)
                    (cd "$ws" && dvc init -q)
                    cp -r "$d"/checkpoint-* "$ws/"; sync
                    for ck in $(ls -d "$d"/checkpoint-* | sort -t- -k2 -n); do
                        t0=$(now); (cd "$ws" && dvc add -q "$(basename "$ck")")
                        total=$((total + $(ms_since "$t0")))
                    done
                    put "$s.dvc.add_ms" "$total"
                    put "$s.dvc.stored" "$(du -sb "$ws/.dvc/cache" | cut -f1)"
                    ;;
            esac
            [[ -n ${KEEP:-} ]] || rm -rf "$ws"
        done
    done
}

# --- compression
compression() {
    local f name dtype size ws t0
    local c16; c16=$(series contiguous)/checkpoint-200
    local f16; f16=$(series fp16)/checkpoint-200
    for spec in "bf16:$c16/model.safetensors:bfloat16" "fp16:$f16/model.safetensors:float16" "fp32-optimizer:$c16/optimizer.pt:float32"; do
        IFS=: read -r name f dtype <<< "$spec"
        size=$(stat -c %s "$f")
        put "comp.$name.size" "$size"
        log "compression: $name ($size bytes)"
        ws=$WORK/ws-comp; fresh "$ws"; (cd "$ws" && $NEW init >/dev/null)
        cp "$f" "$ws/file"
        t0=$(now); (cd "$ws" && $NEW add file >/dev/null); put "comp.$name.rvc_ms" "$(ms_since "$t0")"
        (cd "$ws" && $NEW du --json) > "$R/du-comp-$name.json"
        put "comp.$name.rvc" "$(json_field "$R/du-comp-$name.json" stored)"
        rm "$ws/file"
        t0=$(now); (cd "$ws" && $NEW checkout file.rvc >/dev/null); put "comp.$name.rvc_restore_ms" "$(ms_since "$t0")"
        cmp "$f" "$ws/file"
        t0=$(now); zstd -1 -q -f "$f" -o "$WORK/z.zst"; put "comp.$name.zstd1_ms" "$(ms_since "$t0")"
        put "comp.$name.zstd1" "$(stat -c %s "$WORK/z.zst")"
        t0=$(now); zstd -d -q -f "$WORK/z.zst" -o "$WORK/z.out"; put "comp.$name.zstd1_restore_ms" "$(ms_since "$t0")"
        rm -f "$WORK/z.zst" "$WORK/z.out"
        "$PY" - "$f" "$dtype" >> "$R/raw.tsv" <<'EOF'
import hashlib, sys, time, warnings
warnings.filterwarnings("ignore")
from zipnn import ZipNN
path, dtype = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
digest = hashlib.blake2b(data).digest()
z = ZipNN(input_format="byte", bytearray_dtype=dtype, threads=2)
t = time.time(); c = z.compress(bytearray(data)); tc = time.time() - t   # zipnn reorders its input in place
t = time.time(); d = z.decompress(c); td = time.time() - t
assert hashlib.blake2b(bytes(d)).digest() == digest, "zipnn did not give the file back"
name = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32-optimizer"}[dtype]
print(f"comp.{name}.zipnn\t{len(c)}\ncomp.{name}.zipnn_ms\t{int(tc * 1000)}\ncomp.{name}.zipnn_restore_ms\t{int(td * 1000)}")
EOF
        rm -rf "$ws"
    done
}

# --- speed
speed() {
    local big=$WORK/series/big
    mkdir -p "$big"
    [[ -f $big/random.bin ]] || head -c 1G /dev/urandom > "$big/random.bin"
    [[ -f $big/bf16.safetensors ]] || "$PY" - "$big/bf16.safetensors" <<'EOF'
import json, struct, sys
import numpy as np
rng = np.random.default_rng(1)
n_t, per = 32, (1 << 30) // 32 // 2
header, off = {}, 0
for i in range(n_t):
    header[f"layer.{i}.weight"] = {"dtype": "BF16", "shape": [per], "data_offsets": [off, off + per * 2]}
    off += per * 2
h = json.dumps(header).encode(); h += b" " * ((8 - len(h) % 8) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h)
    for i in range(n_t):
        f.write((rng.normal(0, 0.02, per).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes())
EOF
    local file bin tag ws t0 i k
    for file in random.bin bf16.safetensors; do
        warm "$big/$file"
        for i in $(seq "$REPS"); do
            for tag in base new; do
                bin=$NEW; [[ $tag == base ]] && bin=$OLD
                log "speed: $file $tag round $i"
                ws=$WORK/ws-speed; fresh "$ws"; (cd "$ws" && $bin init >/dev/null)
                cp "$big/$file" "$ws/$file"
                sync
                t0=$(now); (cd "$ws" && $bin add "$file" >/dev/null 2>&1); echo "$(ms_since "$t0")" >> "$R/speed-$file-$tag-add"
                # Three checkouts from the warm store: the file is deleted
                # (and the deletion synced) before each.
                for k in 1 2 3; do
                    rm "$ws/$file"; sync
                    t0=$(now); (cd "$ws" && $bin checkout "$file.rvc" >/dev/null 2>&1); echo "$(ms_since "$t0")" >> "$R/speed-$file-$tag-checkout"
                done
                cmp "$big/$file" "$ws/$file"
                rm -rf "$ws"
            done
        done
        for tag in base new; do
            for op in add checkout; do
                put "speed.$file.$tag.$op" "$(median < "$R/speed-$file-$tag-$op")"
                put "speed.$file.$tag.$op.all" "$(tr '\n' ' ' < "$R/speed-$file-$tag-$op")"
            done
        done
        rm -f "$R"/speed-"$file"-*
    done
}

for p in $PARTS; do
    case $p in
        dedup|compression|speed) $p ;;
        *) echo "unknown part $p (dedup compression speed)" >&2; exit 2 ;;
    esac
done
"$PY" "$ROOT/benches/tensor_store_report.py" "$R/raw.tsv" > "$R/report.md"
cat "$R/report.md"
