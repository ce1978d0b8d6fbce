"""What RvcCallback adds to a transformers.Trainer run: 40 steps of a tiny
GPT-2 on CPU with two checkpoints, with and without the callback, five
interleaved rounds after a warm-up. Run it in the venv scripts/test.sh
makes (target/py-venv), inside a directory where `rvc init` was run:

    cd $(mktemp -d) && git init -q && rvc init && python .../benches/trainer_callback.py
"""
import statistics
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments
from transformers.utils import logging as hf_logging
hf_logging.set_verbosity_error()
from rvc.integrations.transformers import RvcCallback
class DS(torch.utils.data.Dataset):
    def __len__(self): return 320
    def __getitem__(self, i):
        t = torch.tensor([(i * 7 + j) % 127 for j in range(32)])
        return {"input_ids": t, "labels": t.clone(), "attention_mask": torch.ones_like(t)}
def once(name, cb):
    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(vocab_size=128, n_positions=32, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0))
    a = TrainingArguments(output_dir=f"out/{name}", run_name=name, max_steps=40, per_device_train_batch_size=16,
                          logging_steps=5, save_steps=20, report_to=[], use_cpu=True, disable_tqdm=True)
    t = time.perf_counter()
    Trainer(model=m, args=a, train_dataset=DS(), callbacks=[RvcCallback(force=True)] if cb else []).train()
    return time.perf_counter() - t
once("warm", False)
rows = []
for r in range(5):
    rows.append((once(f"plain-{r}", False), once(f"rvc-{r}", True)))
plain = statistics.median(x for x, _ in rows); withcb = statistics.median(y for _, y in rows)
ratio = statistics.median(y / x for x, y in rows)
print(f"| Trainer, 40 steps, 2 checkpoints, without the callback | {plain:.2f} s |")
print(f"| the same with RvcCallback (lock at the end included) | {withcb:.2f} s ({(ratio-1)*100:+.1f}%, {withcb-plain:+.2f} s) |")
