#!/usr/bin/env bash
# Build rvc and run its main job end to end on the example data in
# examples/data: init, add, status, a change, checkout, a restore by id, two
# recorded runs compared, a data diff between commits, a run recorded by
# `rvc run`, the plots page, and a push to a local remote pulled into a
# fresh clone.
# Needs only cargo and git; works in a throw-away directory.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
rvc="$here/target/release/rvc"

work=$(mktemp -d "${TMPDIR:-/tmp}/rvc-quickstart.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$here/examples/data" "$work/data"
cd "$work"

step() { printf '\n$ %s\n' "$*"; "$@"; }

git init -q
git config user.email demo@example.com
git config user.name demo
step "$rvc" init
step "$rvc" add data
step cat data.rvc
git add data.rvc .gitignore .rvc/config.toml .rvc/.gitignore
git commit -qm "track data with rvc"
step "$rvc" status

echo
echo "# Someone edits a row and deletes the adapter..."
sed -i 's/^0,/0,EDITED /' data/raw/reviews.csv
rm data/tiny-adapter.bin
step "$rvc" status || true

echo
echo "# checkout refuses to destroy the unsaved edit, but restores the deleted file:"
step "$rvc" checkout || true
step "$rvc" checkout --force

step "$rvc" status --check
step "$rvc" ls data.rvc

echo
echo "# Any stored file can be restored by a prefix of its id (the id is what b3sum prints):"
id=$("$rvc" hash data/tiny-adapter.bin --json | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p')
step "$rvc" checkout "${id:0:10}" -o restored-adapter.bin
cmp restored-adapter.bin data/tiny-adapter.bin
step "$rvc" hash restored-adapter.bin
rm restored-adapter.bin

echo
echo "# Runs: record two trainings and ask why the second differs."
train() {  # a stand-in for python train.py: writes an adapter and a trainer_state.json
  mkdir -p "out/$1"
  printf 'seed: %s\nlr: %s\n' "$2" "$3" > params.yaml
  head -c 32768 /dev/urandom > "out/$1/adapter_model.safetensors"
  printf '{"log_history": [{"step": 10, "loss": %s}, {"step": 10, "eval_loss": %s}]}\n' "$4" "$5" > "out/$1/trainer_state.json"
}
train run-1 1 0.001 1.50 1.70
git add params.yaml && git commit -qm "params for run-1"
step "$rvc" lock run-1 --input data --output out/run-1 --params params.yaml --metrics out/run-1/trainer_state.json
git add -A && git commit -qm "run-1"
printf '999,pos,"a new review"\n' >> data/raw/reviews.csv
"$rvc" add data >/dev/null
train run-2 2 0.0005 1.40 1.65
git add params.yaml data.rvc && git commit -qm "params and data for run-2"
step "$rvc" lock run-2 --input data --output out/run-2 --params params.yaml --metrics out/run-2/trainer_state.json
git add .rvc/runs && git commit -qm "run-2"
step "$rvc" runs
step "$rvc" diff run-1 run-2
echo
echo "# The data alone, between two commits (or a commit and the workspace), like dvc diff:"
step "$rvc" diff HEAD~2 HEAD
step "$rvc" which out/run-2/adapter_model.safetensors

echo
echo "# Or let rvc run the training: it also keeps the exit status, the log, and CPU and memory samples."
cat > train.sh <<'TRAIN'
#!/bin/sh
# A stand-in for python train.py: $RVC_RUN_NAME is the run's name.
out="out/$RVC_RUN_NAME"
mkdir -p "$out"
echo "training $RVC_RUN_NAME with lr $1"
head -c 32768 /dev/urandom > "$out/adapter_model.safetensors"
sleep 2
printf '{"log_history": [{"step": 10, "loss": 1.35}, {"step": 10, "eval_loss": 1.6}]}\n' > "$out/trainer_state.json"
echo "done"
TRAIN
chmod +x train.sh
git add train.sh && git commit -qm "train.sh"
step "$rvc" run run-3 --input data --output 'out/{name}' --params params.yaml --metrics 'out/{name}/trainer_state.json' --sample-every 1 -- ./train.sh 0.0003
git add .rvc/runs && git commit -qm "run-3"
step "$rvc" show run-3 --log
step "$rvc" runs
# The page outlives this throw-away directory: it is kept under target/.
mkdir -p "$here/target/quickstart"
step "$rvc" plots -o "$here/target/quickstart/plots.html"
step "$rvc" checkout run-1
step "$rvc" du

echo
echo "# Remotes: push to a shared directory (s3://, gs://, az:// work the same),"
echo "# then a fresh clone pulls the data, verified, and a run's checkpoints."
step "$rvc" remote add origin "$work/remote" --default
git add .rvc/config.toml && git commit -qm "remote"
step "$rvc" push --all-runs
step "$rvc" push
git clone -q "$work" "$work/clone"
cd "$work/clone"
step "$rvc" pull
step "$rvc" pull run-2
cmp out/run-2/adapter_model.safetensors "$work/out/run-2/adapter_model.safetensors"
step "$rvc" status --check
cd "$work"

echo
echo "quickstart finished: every step succeeded"
echo "the plots page is kept at $here/target/quickstart/plots.html"
