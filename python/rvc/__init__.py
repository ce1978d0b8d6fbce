"""rvc from Python: record training runs with the rvc binary.

The wheel installs the `rvc` binary into the environment's scripts
directory; this module finds it and calls it. Everything rvc does happens
in the binary: these functions build its command line and return what it
prints with `--json`.

    import rvc
    rvc.lock("run-42", outputs=["out/run-42"], metrics=["out/run-42/trainer_state.json"])
    rvc.run("run-43", ["python", "train.py", "--lr", "1e-3"])

For the Hugging Face Trainer, see `rvc.integrations.transformers.RvcCallback`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from typing import Iterable, Optional, Sequence

__all__ = ["RvcError", "binary", "lock", "run"]


class RvcError(RuntimeError):
    """The rvc binary failed. `message` and `hint` are rvc's own words."""

    def __init__(self, message: str, hint: Optional[str] = None, kind: Optional[str] = None):
        super().__init__(message if not hint else f"{message}\nhint: {hint}")
        self.message = message
        self.hint = hint
        self.kind = kind


def binary() -> str:
    """The path of the rvc binary: the one this package installed (in the
    environment's scripts directory), else `rvc` on PATH."""
    exe = "rvc" + (sysconfig.get_config_var("EXE") or "")
    here = os.path.join(sysconfig.get_path("scripts"), exe)
    if os.path.isfile(here):
        return here
    user = sysconfig.get_path("scripts", f"{os.name}_user")
    if user and os.path.isfile(os.path.join(user, exe)):
        return os.path.join(user, exe)
    found = shutil.which(exe)
    if found:
        return found
    raise RvcError(
        "cannot find the rvc binary",
        "install the wheel (pip install rvc) or put rvc on PATH",
        "not_found",
    )


def _flags(
    inputs: Iterable[str] = (),
    outputs: Iterable[str] = (),
    params: Iterable[str] = (),
    metrics: Iterable[str] = (),
    tags: Iterable[str] = (),
    parent: Optional[str] = None,
    force: bool = False,
) -> list[str]:
    args: list[str] = []
    for flag, values in (
        ("--input", inputs),
        ("--output", outputs),
        ("--params", params),
        ("--metrics", metrics),
        ("--tag", tags),
    ):
        for v in values:
            args += [flag, os.fspath(v)]
    if parent:
        args += ["--parent", parent]
    if force:
        args.append("--force")
    return args


def _call(args: Sequence[str], cwd: Optional[str]) -> dict:
    """Run `rvc ARGS --json`; its JSON, or RvcError with rvc's message."""
    proc = subprocess.run(
        [binary(), *args, "--json"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Under --json, stdout is one JSON value; an error is {"error": {...}}.
    try:
        value = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        value = {}
    if proc.returncode != 0 and "error" in value:
        e = value["error"]
        raise RvcError(e.get("message", "rvc failed"), e.get("hint"), e.get("kind"))
    if proc.returncode != 0 and not value:
        raise RvcError(proc.stderr.strip() or f"rvc exited with {proc.returncode}")
    sys.stderr.write(proc.stderr)
    return value


def lock(
    name: str,
    *,
    inputs: Iterable[str] = (),
    outputs: Iterable[str] = (),
    params: Iterable[str] = (),
    metrics: Iterable[str] = (),
    tags: Iterable[str] = (),
    parent: Optional[str] = None,
    force: bool = False,
    cwd: Optional[str] = None,
) -> dict:
    """Record run `name` (`rvc lock`). Empty lists fall back to `[run]` in
    .rvc/config.toml. Returns what `rvc lock --json` prints: the run id,
    the lockfile, what was stored and the warnings."""
    return _call(["lock", name, *_flags(inputs, outputs, params, metrics, tags, parent, force)], cwd)


def run(
    name: str,
    command: Sequence[str],
    *,
    inputs: Iterable[str] = (),
    outputs: Iterable[str] = (),
    params: Iterable[str] = (),
    metrics: Iterable[str] = (),
    tags: Iterable[str] = (),
    parent: Optional[str] = None,
    force: bool = False,
    sample_every: Optional[int] = None,
    cwd: Optional[str] = None,
) -> dict:
    """Run `command` under `rvc run` and record it, however it ends. Its
    output goes where this process's goes, as it is written. Returns the
    recorded lockfile (`rvc show NAME --json`): `lock["process"]["status"]`
    is succeeded, failed or interrupted. Raises RvcError when nothing was
    recorded (a taken name, a command that cannot start)."""
    extra = ["--sample-every", str(sample_every)] if sample_every else []
    flags = _flags(inputs, outputs, params, metrics, tags, parent, force)
    started = time.time()
    proc = subprocess.run([binary(), "run", name, *flags, *extra, "--", *command], cwd=cwd)
    try:
        shown = _call(["show", name], cwd)
    except RvcError:
        shown = {}
    lock = shown.get("lock", {})
    locked = lock.get("run", {}).get("locked", "")
    fresh = bool(locked) and _epoch(locked) >= int(started)
    if "process" not in lock or not fresh:
        raise RvcError(
            f"rvc run did not record {name} (exit status {proc.returncode}; its message is above)"
        )
    return shown


def _epoch(rfc3339: str) -> int:
    """Seconds since 1970 of `2026-11-22T14:05:00Z`."""
    import calendar

    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))
