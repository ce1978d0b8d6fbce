#!/usr/bin/env bash
# Build rvc and run its main job end to end on the example data in
# examples/data: init, add, status, a change, checkout, and a restore by id.
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
echo
echo "quickstart finished: every step succeeded"
