#!/usr/bin/env python3
"""Generate a realistic series of fine-tuning checkpoints for store benchmarks.

Each checkpoint directory holds what a Hugging Face Trainer run saves:

  model.safetensors      a small Llama-shaped model in bf16 (~140 MB by default)
  optimizer.pt           Adam moments (fp32) for the trainable parameters
  adapter_model.safetensors  a LoRA adapter (rank 16 on q/v projections)
  tokenizer.json         identical in every checkpoint
  trainer_state.json     small, different each time

The embeddings, the LM head and the lower half of the layers are frozen: their
bytes are identical in every checkpoint. The upper layers, the optimizer state
and the adapter change at every save. The script prints the *unique content*:
the bytes a perfect tensor-level dedup would keep.

Usage: gen_checkpoints.py OUT_DIR [--count 10] [--hidden 512] [--layers 12] [--seed 0]
Needs numpy.
"""
import argparse
import hashlib
import json
import os
import struct

import numpy as np


def bf16(a):
    """float32 -> bf16 bytes (truncation, as many trainers store them)."""
    return (a.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def write_safetensors(path, tensors, order=None):
    """tensors: dict name -> (dtype string, shape, bytes), laid out in `order`
    (default: sorted by name, as the safetensors library does for tensors of
    one dtype)."""
    order = sorted(tensors) if order is None else order
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name in order:
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name in order:
            f.write(tensors[name][2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    H, L, V = args.hidden, args.layers, args.vocab
    inter = int(H * 2.75) // 64 * 64

    shapes = {"model.embed_tokens.weight": (V, H), "lm_head.weight": (V, H), "model.norm.weight": (H,)}
    for i in range(L):
        p = f"model.layers.{i}."
        for proj in ["q_proj", "k_proj", "v_proj", "o_proj"]:
            shapes[p + f"self_attn.{proj}.weight"] = (H, H)
        shapes[p + "mlp.gate_proj.weight"] = (inter, H)
        shapes[p + "mlp.up_proj.weight"] = (inter, H)
        shapes[p + "mlp.down_proj.weight"] = (H, inter)
        shapes[p + "input_layernorm.weight"] = (H,)
        shapes[p + "post_attention_layernorm.weight"] = (H,)

    def trainable(name):
        if not name.startswith("model.layers."):
            return False
        return int(name.split(".")[2]) >= L // 2

    weights = {n: rng.normal(0, 0.02, s).astype(np.float32) for n, s in shapes.items()}
    moments = {n: (np.zeros(s, np.float32), np.zeros(s, np.float32)) for n, s in shapes.items() if trainable(n)}
    lora = {}
    for i in range(L):
        for proj in ["q_proj", "v_proj"]:
            base = f"base_model.model.model.layers.{i}.self_attn.{proj}"
            lora[base + ".lora_A.weight"] = rng.normal(0, 0.02, (16, H)).astype(np.float32)
            lora[base + ".lora_B.weight"] = np.zeros((H, 16), np.float32)
    vocab = {f"tok{i}": i for i in range(V)}
    tokenizer = json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": vocab,
                            "merges": [f"tok{i} tok{i+1}" for i in range(0, V - 1, 2)]}}).encode()

    unique = hashlib.sha256  # only used to count distinct tensor payloads
    seen = set()
    unique_bytes = 0
    logical = 0

    def count(data):
        nonlocal unique_bytes
        d = unique(data).digest()
        if d not in seen:
            seen.add(d)
            unique_bytes += len(data)

    os.makedirs(args.out, exist_ok=True)
    for c in range(args.count):
        step = (c + 1) * 200
        for n in moments:
            g = rng.normal(0, 1e-3, shapes[n]).astype(np.float32)
            m, v = moments[n]
            m *= 0.9; m += 0.1 * g
            v *= 0.999; v += 0.001 * g * g
            weights[n] -= 1e-2 * m / (np.sqrt(v) + 1e-8) * 0.02
        for n in lora:
            lora[n] += rng.normal(0, 1e-3, lora[n].shape).astype(np.float32)

        d = os.path.join(args.out, f"checkpoint-{step}")
        os.makedirs(d, exist_ok=True)
        model = {n: ("BF16", w.shape, bf16(w).tobytes()) for n, w in weights.items()}
        write_safetensors(os.path.join(d, "model.safetensors"), model)
        for _, _, data in model.values():
            count(data)
        opt = b"".join(m.tobytes() + v.tobytes() for m, v in (moments[n] for n in sorted(moments)))
        with open(os.path.join(d, "optimizer.pt"), "wb") as f:
            f.write(opt)
        count(opt)
        adapter = {n: ("F32", w.shape, w.tobytes()) for n, w in lora.items()}
        write_safetensors(os.path.join(d, "adapter_model.safetensors"), adapter)
        for _, _, data in adapter.values():
            count(data)
        with open(os.path.join(d, "tokenizer.json"), "wb") as f:
            f.write(tokenizer)
        count(tokenizer)
        state = json.dumps({"global_step": step, "log_history": [{"step": s, "loss": 2.0 / (1 + s / 500)} for s in range(10, step + 1, 10)]})
        with open(os.path.join(d, "trainer_state.json"), "w") as f:
            f.write(state)
        count(state.encode())
        for name in os.listdir(d):
            logical += os.path.getsize(os.path.join(d, name))
    print(json.dumps({"checkpoints": args.count, "logical_bytes": logical, "unique_tensor_bytes": unique_bytes}))


if __name__ == "__main__":
    main()
