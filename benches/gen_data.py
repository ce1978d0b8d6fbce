#!/usr/bin/env python3
"""Generate the deterministic benchmark data used by benches/compare.sh.

Layout under OUT (all content comes from a seeded PRNG, so two runs with
the same arguments produce byte-identical trees):

    OUT/many/part-PP/shard-SS/sample-NNNNN.bin   --files files of 1..8 KiB
                                                 spread over --dirs leaf dirs
    OUT/big.bin                                  one --big-mib MiB file

A stamp file OUT/.complete records the parameters; when it matches, the
data is reused and nothing is written. Delete OUT to force regeneration.
"""

import argparse
import json
import os
import random
import shutil
import sys


def gen_many(root, files, dirs, seed, min_size, max_size):
    """Write `files` small files over `dirs` leaf directories, nested two
    levels deep (parts of up to 10 shards), like a sharded dataset."""
    rng = random.Random(seed)
    per_dir = files // dirs
    extra = files % dirs
    n = 0
    total = 0
    for d in range(dirs):
        leaf = os.path.join(root, f"part-{d // 10:02d}", f"shard-{d % 10:02d}")
        os.makedirs(leaf, exist_ok=True)
        for _ in range(per_dir + (1 if d < extra else 0)):
            size = rng.randint(min_size, max_size)
            with open(os.path.join(leaf, f"sample-{n:05d}.bin"), "wb") as f:
                f.write(rng.randbytes(size))
            n += 1
            total += size
    return n, total


def gen_big(path, mib, seed):
    """Write one file of `mib` MiB of seeded random bytes, 64 MiB at a time."""
    rng = random.Random(seed)
    chunk = 64
    with open(path, "wb") as f:
        left = mib
        while left > 0:
            step = min(chunk, left)
            f.write(rng.randbytes(step << 20))
            left -= step


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--dirs", type=int, default=100)
    ap.add_argument("--min-size", type=int, default=1024)
    ap.add_argument("--max-size", type=int, default=8192)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=20240601)
    a = ap.parse_args()

    params = {k: getattr(a, k) for k in ("files", "dirs", "min_size", "max_size", "big_mib", "seed")}
    stamp = os.path.join(a.out, ".complete")
    try:
        with open(stamp) as f:
            if json.load(f) == params:
                print(f"gen_data: reusing {a.out}", file=sys.stderr)
                return
    except (OSError, ValueError):
        pass

    os.makedirs(a.out, exist_ok=True)
    if os.path.exists(stamp):
        os.remove(stamp)
    many = os.path.join(a.out, "many")
    shutil.rmtree(many, ignore_errors=True)
    n, total = gen_many(many, a.files, a.dirs, a.seed, a.min_size, a.max_size)
    print(f"gen_data: {n} files, {total} bytes under {many}", file=sys.stderr)
    gen_big(os.path.join(a.out, "big.bin"), a.big_mib, a.seed + 1)
    print(f"gen_data: {a.big_mib} MiB in {os.path.join(a.out, 'big.bin')}", file=sys.stderr)
    with open(stamp, "w") as f:
        json.dump(params, f)


if __name__ == "__main__":
    main()
