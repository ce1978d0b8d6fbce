"""Write a text dataset as Parquet (snappy), the shape of a typical
Hugging Face text dataset: id, url, title, a long text, a small label
column and a float score. Words come from a seeded PRNG over a fixed
vocabulary, so the text compresses about as real text does (snappy ~2x),
and every run writes the same rows.

    python3 benches/gen_table.py OUT.parquet --mib 1024 [--row-group-mib 128]
    python3 benches/gen_table.py OUT.parquet --rows 1000000 --edit 1000 --edited B.parquet

With --edited, a second file is written: the same rows with --edit of
them changed in the text column, every 7th of those also in the score,
and --edit new rows appended (for keyed diffs).
"""
import argparse
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--mib", type=int, default=0, help="stop once the file reaches this size")
ap.add_argument("--rows", type=int, default=0, help="or write exactly this many rows")
ap.add_argument("--row-group-mib", type=int, default=128)
ap.add_argument("--seed", type=int, default=20261203)
ap.add_argument("--edit", type=int, default=0)
ap.add_argument("--edited")
ap.add_argument("--words", type=int, default=300, help="mean words per text")
args = ap.parse_args()

rng = np.random.default_rng(args.seed)
vocab_rng = np.random.default_rng(1)
letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
vocab = np.array(
    ["".join(vocab_rng.choice(letters, size=vocab_rng.integers(2, 10))) for _ in range(30000)]
)
# Zipf-like word frequencies, as in natural text.
weights = 1.0 / np.arange(1, len(vocab) + 1)
weights /= weights.sum()


def batch(start, n):
    lengths = rng.poisson(args.words, size=n) + 5
    words = vocab[rng.choice(len(vocab), size=int(lengths.sum()), p=weights)]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    texts = [" ".join(words[bounds[i] : bounds[i + 1]]) for i in range(n)]
    ids = np.arange(start, start + n)
    return pa.table(
        {
            "id": pa.array([f"doc-{i:09d}" for i in ids]),
            "url": pa.array([f"https://example.org/wiki/{vocab[i % len(vocab)]}_{i}" for i in ids]),
            "title": pa.array([" ".join(words[bounds[i] : bounds[i] + 4]).title() for i in range(n)]),
            "text": pa.array(texts),
            "label": pa.array(rng.integers(0, 5, size=n), pa.int64()),
            "score": pa.array(rng.random(n)),
        }
    )


per_batch = 20000
row_group_rows = None
writer = None
tables = []
written = 0
while True:
    n = per_batch if not args.rows else min(per_batch, args.rows - written)
    if n <= 0:
        break
    t = batch(written, n)
    if writer is None:
        row_bytes = t.nbytes / n
        row_group_rows = max(1000, int(args.row_group_mib * 2**20 / row_bytes))
        writer = pq.ParquetWriter(args.out, t.schema, compression="snappy")
    writer.write_table(t, row_group_size=row_group_rows)
    if args.edited:
        tables.append(t)
    written += n
    if args.mib and os.path.getsize(args.out) >= args.mib * 2**20:
        break
writer.close()
print(f"{args.out}: {written} rows, {os.path.getsize(args.out) / 2**20:.0f} MiB")

if args.edited:
    t = pa.concat_tables(tables)
    idx = rng.choice(t.num_rows, size=args.edit, replace=False)
    text = t.column("text").to_pylist()
    score = t.column("score").to_pylist()
    for k, i in enumerate(sorted(idx)):
        text[i] = text[i] + " edited"
        if k % 7 == 0:
            score[i] = -1.0
    t = t.set_column(3, "text", pa.array(text)).set_column(5, "score", pa.array(score))
    t = pa.concat_tables([t, batch(written, args.edit)])
    pq.write_table(t, args.edited, compression="snappy", row_group_size=row_group_rows)
    print(f"{args.edited}: {t.num_rows} rows ({args.edit} edited, {args.edit} added)")
