#!/usr/bin/env python3
"""The measurements that chose rvc's planes encoding (docs/store.md).

On 8 Mi numbers drawn like trained weights (normal, sd 0.02) as bf16, fp16
and fp32, and on fp32 Adam second moments:

1. stored / original for zstd -1 on the numbers as they lie, on their bytes
   split into planes, and on planes of the numbers rotated left by one bit
   (the sign moved out of the exponent's byte), with the byte entropy of
   each plane, the bound for any byte-wise coder;
2. for the bf16 exponent plane, zstd settings: levels 1 and 3, and the fast
   strategy with a small hash table and long minimum matches, which leaves
   zstd's Huffman coder to do the work (size and single-thread speed).

    python3 benches/planes_explore.py        # needs numpy and zstandard
"""
import time

import numpy as np
import zstandard as zs

rng = np.random.default_rng(0)


def rot(u, bits):
    return (u << np.array(1, u.dtype)) | (u >> np.array(bits - 1, u.dtype))


def planes(u, width, rotate):
    if rotate:
        u = rot(u, 8 * width)
    b = u.view(np.uint8).reshape(-1, width)
    return [b[:, i].tobytes() for i in reversed(range(width))]


def zsize(b, level=1):
    return min(len(zs.ZstdCompressor(level=level).compress(b)), len(b))


def entropy(b):
    c = np.bincount(np.frombuffer(b, np.uint8), minlength=256).astype(float)
    p = c[c > 0] / len(b)
    return -(p * np.log2(p)).sum() / 8


x = rng.normal(0, 0.02, 8 << 20).astype(np.float32)
v = (np.abs(rng.normal(0, 1e-3, 8 << 20)).astype(np.float32) ** 2) * 1e-3
cases = [
    ("bf16 weights", (x.view(np.uint32) >> 16).astype(np.uint16), 2),
    ("fp16 weights", x.astype(np.float16).view(np.uint16), 2),
    ("fp32 weights", x.view(np.uint32), 4),
    ("fp32 Adam v", v.view(np.uint32), 4),
]
print("| numbers | zstd -1 | planes | rotated planes | entropy per rotated plane |")
print("|---|---:|---:|---:|---|")
for name, u, w in cases:
    raw = u.tobytes()
    n = len(raw)
    plain = zsize(raw) / n
    split = sum(zsize(p) for p in planes(u, w, False)) / n
    rotated = planes(u, w, True)
    rsplit = sum(zsize(p) for p in rotated) / n
    ent = " / ".join(f"{entropy(p):.3f}" for p in rotated)
    print(f"| {name} | {plain:.3f} | {split:.3f} | {rsplit:.3f} | {ent} |")

exp = planes((x.view(np.uint32) >> 16).astype(np.uint16), 2, True)[0]
print()
print(f"bf16 exponent plane, {len(exp) >> 20} MiB, byte entropy {entropy(exp):.4f}")
print("| zstd settings | stored / plane | compress MB/s | decompress MB/s |")
print("|---|---:|---:|---:|")
settings = [
    ("level 1", zs.ZstdCompressionParameters.from_level(1)),
    ("level 3", zs.ZstdCompressionParameters.from_level(3)),
    ("fast, window 2^10, hash 6, min match 7",
     zs.ZstdCompressionParameters(window_log=10, hash_log=6, chain_log=6, search_log=1, min_match=7,
                                  target_length=0, strategy=zs.STRATEGY_FAST)),
    ("fast, window 2^17, hash 12, min match 7",
     zs.ZstdCompressionParameters(window_log=17, hash_log=12, chain_log=6, search_log=1, min_match=7,
                                  target_length=0, strategy=zs.STRATEGY_FAST)),
    ("fast, window 2^17, hash 6, min match 4",
     zs.ZstdCompressionParameters(window_log=17, hash_log=6, chain_log=6, search_log=1, min_match=4,
                                  target_length=0, strategy=zs.STRATEGY_FAST)),
    ("**fast, window 2^17, hash 6, min match 7 (rvc)**",
     zs.ZstdCompressionParameters(window_log=17, hash_log=6, chain_log=6, search_log=1, min_match=7,
                                  target_length=0, strategy=zs.STRATEGY_FAST)),
]
for name, params in settings:
    c = zs.ZstdCompressor(compression_params=params)
    t = time.perf_counter()
    out = c.compress(exp)
    tc = time.perf_counter() - t
    t = time.perf_counter()
    zs.ZstdDecompressor().decompress(out)
    td = time.perf_counter() - t
    print(f"| {name} | {len(out) / len(exp):.4f} | {len(exp) / tc / 1e6:.0f} | {len(exp) / td / 1e6:.0f} |")
