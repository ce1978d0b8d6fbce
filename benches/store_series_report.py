#!/usr/bin/env python3
"""Markdown tables from the raw.tsv written by benches/store_series.sh.

  store_series_report.py RESULTS/raw.tsv > report.md
"""
import sys


def load(path):
    raw = {}
    with open(path) as f:
        for line in f:
            if "\t" in line:
                k, v = line.rstrip("\n").split("\t", 1)
                raw[k] = v
    return raw


def num(raw, key):
    v = raw.get(key)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def mib(b):
    return "-" if b is None else f"{b / 2**20:,.0f} MiB"


def sec(s):
    if s is None:
        return "-"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def ratio(a, b):
    return "-" if a is None or not b else f"{a / b:.3f}"


def main():
    raw = load(sys.argv[1])
    logical, unique = num(raw, "series.logical"), num(raw, "series.unique")
    out = []
    out.append(f"Machine: {raw.get('machine.nproc')} cores, {raw.get('machine.cpu')}, "
               f"{raw.get('machine.mem_gib')} GiB RAM, {raw.get('machine.fs')}, kernel {raw.get('machine.kernel')}; "
               f"load average at start {raw.get('machine.load_start', '?')}, at end {raw.get('machine.load_end', '?')}.  ")
    out.append(f"Versions: rvc {raw.get('version.rvc')}; dvc {raw.get('version.dvc')}; "
               f"restic {raw.get('version.restic')} (repo v{raw.get('restic.repo_version', '?')}); "
               f"hyperfine {raw.get('version.hyperfine')}.")
    out.append("")
    out.append(f"Series: {raw.get('series.files')} files; logical {mib(logical)} ({int(logical or 0):,} B); "
               f"unique content {mib(unique)} ({int(unique or 0):,} B); one checkpoint "
               f"{mib(num(raw, 'series.one_bytes'))}.")
    out.append("")
    out.append("| tool | stored | stored / unique | stored / logical | add all 10 (total) | check out one (median) |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for tool, name in [("rvc", "rvc"), ("dvc", "dvc"), ("restic", "restic")]:
        stored = num(raw, f"{tool}.stored")
        if stored is None:
            continue
        out.append(f"| {name} | {mib(stored)} | {ratio(stored, unique)} | {ratio(stored, logical)} | "
                   f"{sec(num(raw, f'{tool}.add.total_seconds'))} | {sec(num(raw, f'{tool}.checkout.median_seconds'))} |")
    if num(raw, "cp.checkout.median_seconds") is not None:
        out.append(f"| cp -r (no store) | {mib(logical)} | {ratio(logical, unique)} | 1.000 | - | "
                   f"{sec(num(raw, 'cp.checkout.median_seconds'))} |")
    out.append("")
    if num(raw, "rvc.stored") is not None:
        out.append(f"rvc: `du -sb .rvc/cache` {int(num(raw, 'rvc.stored')):,} B in {raw.get('rvc.cache_files')} files; "
                   f"`rvc du --json` stored {int(num(raw, 'rvc.du.stored')):,} B, logical {int(num(raw, 'rvc.du.logical')):,} B, "
                   f"{raw.get('rvc.du.store_objects')} objects.")
        kinds = [k for k in ("chunks", "packs", "manifests", "trees") if f"rvc.cache.{k}.files" in raw]
        out.append("Cache by kind: " + ", ".join(
            f"{k} {raw[f'rvc.cache.{k}.files']} files / {mib(num(raw, f'rvc.cache.{k}.bytes'))}" for k in kinds) + ".")
        out.append("")
        out.append("| step | rvc add | new bytes stored | new objects | peak RSS | dvc add | restic backup |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|")
        steps = sorted({int(k.split(".")[2]) for k in raw if k.startswith("rvc.add.") and k.endswith(".new_bytes")})
        for s in steps:
            rss = num(raw, f"rvc.add.{s}.rss_kib")
            out.append(f"| {s} | {sec(num(raw, f'rvc.add.{s}.seconds'))} | {mib(num(raw, f'rvc.add.{s}.new_bytes'))} | "
                       f"{raw.get(f'rvc.add.{s}.new_objects')} | {mib(rss * 1024) if rss else '-'} | "
                       f"{sec(num(raw, f'dvc.add.{s}.seconds'))} | {sec(num(raw, f'restic.backup.{s}.seconds'))} |")
        out.append("")
        out.append("| rvc figure | value |")
        out.append("|---|---:|")
        out.append(f"| peak RSS, `rvc add` of one checkpoint (max over the 10) | {mib(num(raw, 'rvc.add.rss_kib_max') * 1024)} |")
        out.append(f"| peak RSS, `rvc checkout` of one checkpoint (max over reps) | {mib(num(raw, 'rvc.checkout.rss_kib_max') * 1024)} |")
        out.append(f"| `rvc checkout` one checkpoint, then `sync` | {sec(num(raw, 'rvc.checkout_sync.seconds'))} |")
        out.append(f"| `cp -r` one checkpoint, then `sync` | {sec(num(raw, 'cp.checkout_sync.seconds'))} |")
        out.append(f"| no-op `rvc add` of all 10 again (stat cache) | {sec(num(raw, 'rvc.readd_all.seconds'))} |")
        out.append("")
        out.append(f"All checkout times (s): rvc {raw.get('rvc.checkout.all_seconds')}; cp -r {raw.get('cp.checkout.all_seconds')}; "
                   f"dvc {raw.get('dvc.checkout.all_seconds', '-')}; restic {raw.get('restic.checkout.all_seconds', '-')}.")
        out.append("")
    if "runs10.lock.median_seconds" in raw or "runs100.lock.median_seconds" in raw:
        out.append("| runs figure (median) | 10 checkpoint runs | 100 tiny runs |")
        out.append("|---|---:|---:|")
        rows = [("`rvc lock` one run", "lock.median_seconds"), ("`rvc runs`", "runs"),
                ("`rvc runs --sort loss`", "runs_sort"), ("`rvc diff` first last", "diff"),
                ("`rvc which` a file", "which"), ("`rvc show` one run", "show")]
        for label, key in rows:
            out.append(f"| {label} | {sec(num(raw, f'runs10.{key}'))} | {sec(num(raw, f'runs100.{key}'))} |")
        r10, r100 = num(raw, "runs10.lock.rss_kib_max"), num(raw, "runs100.lock.rss_kib_max")
        out.append(f"| peak RSS of `rvc lock` (max) | {mib(r10 * 1024) if r10 else '-'} | {mib(r100 * 1024) if r100 else '-'} |")
        out.append("")
        out.append(f"Lock times (s), 10 checkpoint runs: {raw.get('runs10.lock.all_seconds', '-')}; "
                   f"100 tiny runs: total {raw.get('runs100.lock.total_seconds', '-')}.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
