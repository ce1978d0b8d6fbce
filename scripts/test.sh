#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the system tools the
# tests drive when they are missing, then runs `cargo test`. (A plain
# `cargo test` also works on a bare machine: the few tests that need one of
# these tools then say "SKIPPED: ... needs TOOL" and return.)
#
#   git                 tests/*.rs run real git repositories
#   unshare, setpriv    the full-disk and unreadable-file cases (util-linux)
#   chromium            tests/plots.rs opens the `rvc plots` page in headless Chromium
#   node, npm           tests/remote.rs installs Azurite (Azure's blob emulator)
#                       from npm into target/tmp and runs it
#
# Then the Python tier (below): the wheel, and a real transformers.Trainer.
#
# Everything else is built by cargo: the S3 server the remote tests talk to
# (s3s-fs, in-process); tests/hooks.rs installs the pre-commit framework
# from PyPI into target/tmp when it is not on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v git >/dev/null || need+=(git)
command -v unshare >/dev/null || need+=(util-linux)
command -v setpriv >/dev/null || need+=(util-linux)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# python3 with venv and ensurepip: the Python tier's venv, and the
# pre-commit framework for tests/hooks.rs when it is not on the PATH.
if ! command -v python3 >/dev/null; then
  need+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need[*]}; install them (apt-get install ${need[*]}) or run this as root" >&2
    exit 1
  fi
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi

# Every tool is installed now: a test that finds one missing fails instead
# of skipping (tests/common: have_tool).
RVC_TEST_ALL_TOOLS=1 cargo test "$@"

# The Python package, a second tier after the Rust tests: the wheel is built
# with maturin (the rvc binary and the `rvc` module), installed into a venv
# under target/ with torch (CPU), transformers and accelerate from PyPI, and
# tests/python trains two real transformers.Trainer runs through
# RvcCallback. The first run downloads torch (about 5 GB with its CUDA
# libraries, unused here); later runs reuse the venv. It is skipped, with a
# line saying so, when arguments select Rust tests, or with RVC_SKIP_PYTHON=1.
if [ $# -gt 0 ] || [ -n "${RVC_SKIP_PYTHON:-}" ]; then
  echo "python tier skipped (${RVC_SKIP_PYTHON:+RVC_SKIP_PYTHON is set}${RVC_SKIP_PYTHON:-arguments select Rust tests}): run scripts/test.sh alone for it"
  exit 0
fi
venv=target/py-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check maturin pytest torch transformers accelerate
rm -rf target/wheels
# A debug build: it reuses what cargo test compiled.
"$venv/bin/maturin" build --quiet -o target/wheels
# The wheel alone, in a venv made anew every time: the binary is on its PATH.
rm -rf target/wheel-venv
python3 -m venv target/wheel-venv
target/wheel-venv/bin/pip install -q --disable-pip-version-check target/wheels/rvc-*.whl
PATH="$PWD/target/wheel-venv/bin:$PATH" rvc --version
target/wheel-venv/bin/python -c 'import os, sys, rvc; assert rvc.binary() == os.path.join(sys.prefix, "bin", "rvc"), rvc.binary()'
# With torch and transformers (a venv kept between runs: torch is large).
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps target/wheels/rvc-*.whl
"$venv/bin/python" -m pytest -q tests/python
