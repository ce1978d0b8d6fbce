#!/usr/bin/env python3
"""Tables (markdown) from the raw.tsv that benches/tensor_store.sh writes."""
import sys

raw = {}
for line in open(sys.argv[1]):
    k, _, v = line.rstrip("\n").partition("\t")
    raw[k] = v


def num(k):
    return float(raw[k]) if k in raw else None


def mib(b):
    return f"{b / 2**20:,.1f}" if b is not None else "–"


def ratio(a, b):
    return f"{a / b:.3f}" if a is not None and b else "–"


def secs(ms):
    return f"{ms / 1000:.2f} s" if ms is not None else "–"


out = [f"rvc {raw.get('new_rvc')} against rvc {raw.get('base_rvc')} (the store before format 2)", ""]
series = [s for s in ["contiguous", "interleaved", "lora", "reordered"] if f"{s}.unique" in raw]
if series:
    out += ["### Dedup: stored bytes / unique content", "",
            "| series | saves | logical MiB | unique MiB | rvc before compression | **rvc** | rvc before | restic | dvc |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in series:
        u = num(f"{s}.unique")
        out.append(f"| {s} | {raw[f'{s}.checkpoints']} | {mib(num(f'{s}.logical'))} | {mib(u)} | "
                   f"{ratio(num(f'{s}.rvc.unique_chunks'), u)} | **{ratio(num(f'{s}.rvc.stored'), u)}** | "
                   f"{ratio(num(f'{s}.rvc-base.stored'), u)} | {ratio(num(f'{s}.restic.stored'), u)} | "
                   f"{ratio(num(f'{s}.dvc.stored'), u)} |")
    out += ["", "Adding every save in order (total), and files in the store:", "",
            "| series | rvc | rvc before | restic | dvc | rvc files | rvc before files |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for s in series:
        out.append(f"| {s} | {secs(num(f'{s}.rvc.add_ms'))} | {secs(num(f'{s}.rvc-base.add_ms'))} | "
                   f"{secs(num(f'{s}.restic.add_ms'))} | {secs(num(f'{s}.dvc.add_ms'))} | "
                   f"{raw.get(f'{s}.rvc.files', '–')} | {raw.get(f'{s}.rvc-base.files', '–')} |")
    out.append("")
files = [f for f in ["bf16", "fp16", "fp32-optimizer"] if f"comp.{f}.size" in raw]
if files:
    out += ["### Compression: stored / original, time to store and to restore", "",
            "| file | MiB | **rvc** | zstd -1 | zipnn | rvc add | zstd -1 | zipnn | rvc checkout | zstd -d | zipnn decompress |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for f in files:
        size = num(f"comp.{f}.size")
        out.append(f"| {f} | {mib(size)} | **{ratio(num(f'comp.{f}.rvc'), size)}** | "
                   f"{ratio(num(f'comp.{f}.zstd1'), size)} | {ratio(num(f'comp.{f}.zipnn'), size)} | "
                   f"{secs(num(f'comp.{f}.rvc_ms'))} | {secs(num(f'comp.{f}.zstd1_ms'))} | {secs(num(f'comp.{f}.zipnn_ms'))} | "
                   f"{secs(num(f'comp.{f}.rvc_restore_ms'))} | {secs(num(f'comp.{f}.zstd1_restore_ms'))} | "
                   f"{secs(num(f'comp.{f}.zipnn_restore_ms'))} |")
    out.append("")
big = [f for f in ["random.bin", "bf16.safetensors"] if f"speed.{f}.new.add" in raw]
if big:
    out += ["### Speed: 1 GiB, medians (warm cache)", "",
            "| file | operation | rvc before | **rvc** | rvc / before | rvc GiB/s |",
            "|---|---|---:|---:|---:|---:|"]
    for f in big:
        for op in ["add", "checkout"]:
            old, new = num(f"speed.{f}.base.{op}"), num(f"speed.{f}.new.{op}")
            gibs = (1 << 30) / 2**30 / (new / 1000) if new else None
            out.append(f"| {f} | {op} | {secs(old)} | **{secs(new)}** | {ratio(new, old)} | {gibs:.2f} |")
    out.append("")
print("\n".join(out))
