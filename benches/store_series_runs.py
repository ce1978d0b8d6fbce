#!/usr/bin/env python3
"""Inputs for the run figures of benches/store_series.sh (seeded, reproducible).

  store_series_runs.py data   DIR            a small dataset: train.csv (20,000 rows), val.csv, README
  store_series_runs.py params DIR N          DIR/run-1.yaml .. DIR/run-N.yaml (a small sweep)
  store_series_runs.py tiny   DIR N STEPS    DIR/run-K/{model.bin (64 KiB), metrics.jsonl (STEPS lines)}
"""
import json
import math
import os
import random
import sys


def data(out):
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1)
    for name, rows in [("train.csv", 20000), ("val.csv", 2000)]:
        with open(os.path.join(out, name), "w") as f:
            f.write("id,text,label\n")
            for i in range(rows):
                words = " ".join(f"w{rng.randrange(5000)}" for _ in range(8))
                f.write(f"{i},{words},{rng.randrange(2)}\n")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("Synthetic benchmark data.\n")


def params(out, n):
    os.makedirs(out, exist_ok=True)
    for k in range(1, n + 1):
        lr = [1e-4, 2e-4, 5e-4, 1e-3][k % 4]
        with open(os.path.join(out, f"run-{k}.yaml"), "w") as f:
            f.write(f"model: llama-tiny\nlearning_rate: {lr}\nlora_r: {[8, 16, 32][k % 3]}\n"
                    f"seed: {k}\nbatch_size: 32\nwarmup_steps: 100\n")


def tiny(out, n, steps):
    for k in range(1, n + 1):
        d = os.path.join(out, f"run-{k}")
        os.makedirs(d, exist_ok=True)
        rng = random.Random(k)
        with open(os.path.join(d, "model.bin"), "wb") as f:
            f.write(rng.randbytes(64 * 1024))
        base = 2.0 + rng.random()
        lines = []
        for s in range(1, steps + 1):
            loss = base / (1 + s / 2000) + 0.05 * rng.random()
            lines.append(json.dumps({"step": s, "loss": round(loss, 5),
                                     "learning_rate": 1e-4 * min(1, s / 100) * (1 - s / (steps + 1)),
                                     "grad_norm": round(0.5 + rng.random(), 4),
                                     "epoch": round(s / steps * 3, 5)}))
        lines.append(json.dumps({"step": steps, "eval_loss": round(base / (1 + steps / 2000) + 0.1, 5),
                                 "eval_accuracy": round(0.6 + 0.3 * rng.random(), 4)}))
        with open(os.path.join(d, "metrics.jsonl"), "w") as f:
            f.write("\n".join(lines) + "\n")


def main():
    mode, out = sys.argv[1], sys.argv[2]
    if mode == "data":
        data(out)
    elif mode == "params":
        params(out, int(sys.argv[3]))
    elif mode == "tiny":
        tiny(out, int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
