#!/usr/bin/env python3
"""Checkpoint series for the tensor-aware store (issue 13), one scenario each.

    gen_tensor_series.py OUT_DIR --scenario S [--count 6] [--dtype bf16|fp16]

Scenarios (a Llama-shaped model with biases, 512 hidden, 12 layers, 32k vocab,
~140 MB in 16-bit floats, written as safetensors sorted by tensor name the way
the safetensors library writes them):

  interleaved  bias and norm tuning: every weight matrix is frozen, and the
               biases and norms, which sit between the matrices in the file,
               change at every save (with their Adam moments in optimizer.pt).
  lora         LoRA-only training: model.safetensors is the same base model in
               every checkpoint; adapter_model.safetensors (rank 16 on q, k, v,
               o and the MLP) and its optimizer state change at every save.
  reordered    the same weights re-saved with the tensors in another order
               (even checkpoints reversed), and the upper half of the layers
               trained between saves.
  full         full fine-tuning of every tensor: nothing to dedup; for
               compression only.

Each checkpoint directory also gets tokenizer.json (identical every time) and
trainer_state.json. The script prints the logical bytes and the unique
content: the bytes a perfect tensor-level dedup keeps (distinct tensor
payloads plus distinct small files), with no compression. Seeded: the files
are byte-identical on every machine. Needs numpy.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_checkpoints import write_safetensors  # noqa: E402


def to16(a, dtype):
    a = a.astype(np.float32)
    if dtype == "fp16":
        return a.astype(np.float16).view(np.uint16)
    return (a.view(np.uint32) >> 16).astype(np.uint16)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--scenario", required=True, choices=["interleaved", "lora", "reordered", "full"])
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    H, L, V, S = args.hidden, args.layers, args.vocab, args.scenario
    inter = int(H * 2.75) // 64 * 64
    st_dtype = {"bf16": "BF16", "fp16": "F16"}[args.dtype]

    shapes = {"model.embed_tokens.weight": (V, H), "lm_head.weight": (V, H), "model.norm.weight": (H,)}
    for i in range(L):
        p = f"model.layers.{i}."
        for proj in ["q_proj", "k_proj", "v_proj", "o_proj"]:
            shapes[p + f"self_attn.{proj}.weight"] = (H, H)
            shapes[p + f"self_attn.{proj}.bias"] = (H,)
        for proj, shape in [("gate_proj", (inter, H)), ("up_proj", (inter, H)), ("down_proj", (H, inter))]:
            shapes[p + f"mlp.{proj}.weight"] = shape
            shapes[p + f"mlp.{proj}.bias"] = (shape[0],)
        shapes[p + "input_layernorm.weight"] = (H,)
        shapes[p + "post_attention_layernorm.weight"] = (H,)

    def trainable(name):
        if S == "interleaved":
            return name.endswith(".bias") or "norm" in name
        if S == "reordered":
            return name.startswith("model.layers.") and int(name.split(".")[2]) >= L // 2
        return S == "full"

    weights = {n: rng.normal(0, 0.02, s).astype(np.float32) for n, s in shapes.items()}
    for n in weights:
        if "norm" in n:
            weights[n] += 1.0
    moments = {n: (np.zeros(s, np.float32), np.zeros(s, np.float32)) for n, s in shapes.items() if trainable(n)}
    lora = {}
    if S == "lora":
        for i in range(L):
            for mod, (o, k) in [("self_attn.q_proj", (H, H)), ("self_attn.k_proj", (H, H)),
                                ("self_attn.v_proj", (H, H)), ("self_attn.o_proj", (H, H)),
                                ("mlp.gate_proj", (inter, H)), ("mlp.up_proj", (inter, H)),
                                ("mlp.down_proj", (H, inter))]:
                base = f"base_model.model.model.layers.{i}.{mod}"
                lora[base + ".lora_A.weight"] = rng.normal(0, 0.02, (16, k)).astype(np.float32)
                lora[base + ".lora_B.weight"] = np.zeros((o, 16), np.float32)
        moments = {n: (np.zeros(a.shape, np.float32), np.zeros(a.shape, np.float32)) for n, a in lora.items()}
    vocab = {f"tok{i}": i for i in range(V)}
    tokenizer = json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": vocab,
                            "merges": [f"tok{i} tok{i+1}" for i in range(0, V - 1, 2)]}}).encode()

    seen = set()
    unique_bytes = 0
    logical = 0

    def count(data):
        nonlocal unique_bytes
        d = hashlib.sha256(data).digest()
        if d not in seen:
            seen.add(d)
            unique_bytes += len(data)

    os.makedirs(args.out, exist_ok=True)
    names = sorted(shapes)
    for c in range(args.count):
        step = (c + 1) * 200
        for n, (m, v) in moments.items():
            target = lora if S == "lora" else weights
            g = rng.normal(0, 1e-3, target[n].shape).astype(np.float32)
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            target[n] -= 1e-2 * m / (np.sqrt(v) + 1e-8) * 0.02

        d = os.path.join(args.out, f"checkpoint-{step}")
        os.makedirs(d, exist_ok=True)
        model = {n: (st_dtype, w.shape, to16(w, args.dtype).tobytes()) for n, w in weights.items()}
        order = names[::-1] if (S == "reordered" and c % 2 == 1) else names
        write_safetensors(os.path.join(d, "model.safetensors"), model, order)
        for _, _, data in model.values():
            count(data)
        if moments:
            # Adam moments, as optimizer.pt holds them: fp32, one tensor after another.
            opt = b"".join(m.tobytes() + v.tobytes() for m, v in (moments[n] for n in sorted(moments)))
            with open(os.path.join(d, "optimizer.pt"), "wb") as f:
                f.write(opt)
            count(opt)
        if lora:
            adapter = {n: ("F32", w.shape, w.tobytes()) for n, w in lora.items()}
            write_safetensors(os.path.join(d, "adapter_model.safetensors"), adapter, sorted(adapter))
            for _, _, data in adapter.values():
                count(data)
        with open(os.path.join(d, "tokenizer.json"), "wb") as f:
            f.write(tokenizer)
        count(tokenizer)
        state = json.dumps({"global_step": step, "best_model_checkpoint": f"{args.out}/checkpoint-{min(step, 600)}",
                            "log_history": [{"step": s, "loss": 2.0 / (1 + s / 500)} for s in range(10, step + 1, 10)]})
        with open(os.path.join(d, "trainer_state.json"), "w") as f:
            f.write(state)
        count(state.encode())
        for name in os.listdir(d):
            logical += os.path.getsize(os.path.join(d, name))
    print(json.dumps({"scenario": S, "dtype": args.dtype, "checkpoints": args.count,
                      "logical_bytes": logical, "unique_tensor_bytes": unique_bytes}))


if __name__ == "__main__":
    main()
