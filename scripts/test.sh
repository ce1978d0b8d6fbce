#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the system tools the
# tests drive when they are missing, then runs `cargo test`.
#
#   git                 tests/*.rs run real git repositories
#   unshare, setpriv    the full-disk and unreadable-file cases (util-linux)
#   chromium            tests/plots.rs opens the `rvc plots` page in headless Chromium
#   node, npm           tests/remote.rs installs Azurite (Azure's blob emulator)
#                       from npm into target/tmp and runs it
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
# tests/hooks.rs needs the pre-commit framework: from the PATH, or installed
# from PyPI into a virtual environment (python3 with venv and ensurepip).
if ! command -v pre-commit >/dev/null; then
  if ! command -v python3 >/dev/null; then
    need+=(python3 python3-venv)
  elif ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    need+=(python3-venv)
  fi
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need[*]}; install them (apt-get install ${need[*]}) or run this as root" >&2
    exit 1
  fi
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi

exec cargo test "$@"
