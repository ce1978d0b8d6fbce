"""The HF Trainer callback, tried for real: two `transformers.Trainer` runs
on CPU, of a 2-layer GPT-2 made from a config (random weights; nothing is
downloaded), on a few hundred rows of generated text, with different
learning rates. Then rvc itself must answer the questions a user asks.

Run by scripts/test.sh in a venv that has the rvc wheel, torch (CPU) and
transformers: `python -m pytest tests/python`.
"""

import json
import os
import random
import subprocess

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

import rvc
from rvc.integrations.transformers import RvcCallback


def sh(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def rvc_json(*args, cwd):
    out = subprocess.run([rvc.binary(), *args, "--json"], cwd=cwd, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


class Rows(torch.utils.data.Dataset):
    """Character-level token ids of the lines of a text file."""

    def __init__(self, path, length=32):
        text = open(path).read().splitlines()
        self.items = []
        for line in text:
            ids = [min(ord(c), 127) for c in line[:length]]
            ids += [0] * (length - len(ids))
            t = torch.tensor(ids)
            self.items.append({"input_ids": t, "labels": t.clone(), "attention_mask": torch.ones_like(t)})

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


@pytest.fixture()
def project(tmp_path):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    os.environ.update(env)
    sh("git", "init", "-q", cwd=tmp_path)
    sh(rvc.binary(), "init", cwd=tmp_path)
    rng = random.Random(7)
    words = ["the", "model", "learns", "a", "small", "thing", "from", "data", "every", "step"]
    os.makedirs(tmp_path / "data")
    with open(tmp_path / "data" / "train.txt", "w") as f:
        for _ in range(300):
            f.write(" ".join(rng.choice(words) for _ in range(8)) + "\n")
    (tmp_path / ".gitignore").write_text("/out/\n")
    sh(rvc.binary(), "add", "data", cwd=tmp_path)
    sh("git", "add", "-A", cwd=tmp_path)
    sh("git", "commit", "-qm", "data", cwd=tmp_path)
    return tmp_path


def train(project, name, lr):
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=128, n_positions=32, n_embd=32, n_layer=2, n_head=2,
                                       bos_token_id=0, eos_token_id=0))
    args = TrainingArguments(
        output_dir=str(project / "out" / name),
        run_name=name,
        learning_rate=lr,
        max_steps=20,
        per_device_train_batch_size=16,
        logging_steps=5,
        save_steps=10,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    callback = RvcCallback(inputs=["data"], cwd=str(project))
    cwd = os.getcwd()
    os.chdir(project)
    try:
        Trainer(model=model, args=args, train_dataset=Rows(project / "data" / "train.txt"),
                callbacks=[callback]).train()
    finally:
        os.chdir(cwd)
    return callback


def test_two_trainer_runs_are_recorded_and_compared(project):
    a = train(project, "lr-1e-3", 1e-3)
    b = train(project, "lr-5e-4", 5e-4)
    assert a.result["run"] == "lr-1e-3" and b.result["run"] == "lr-5e-4"
    assert a.checkpoints == ["checkpoint-10", "checkpoint-20"]

    # rvc runs lists both.
    runs = {r["name"]: r for r in rvc_json("runs", cwd=project)}
    assert set(runs) == {"lr-1e-3", "lr-5e-4"}
    assert runs["lr-1e-3"]["params"]["training_args.learning_rate"] == 1e-3
    assert "loss" in runs["lr-1e-3"]["metrics"]

    # rvc diff names the learning rate and the loss.
    d = rvc_json("diff", "lr-1e-3", "lr-5e-4", cwd=project)
    assert d["params"]["training_args.learning_rate"] == {"before": 1e-3, "after": 5e-4}
    assert "model_config.n_layer" not in d["params"], "the same model on both sides"
    loss = [m for m in d["metrics"] if m["name"] == "loss"]
    assert loss and loss[0]["changed"], d["metrics"]
    text = subprocess.run([rvc.binary(), "diff", "lr-1e-3", "lr-5e-4"], cwd=project,
                          check=True, stdout=subprocess.PIPE, text=True).stdout
    assert "training_args.learning_rate: 0.001 -> 0.0005" in text, text

    # rvc which names the run that made a checkpoint.
    ckpt = "out/lr-5e-4/checkpoint-20/model.safetensors"
    assert (project / ckpt).is_file()
    which = rvc_json("which", ckpt, cwd=project)
    assert [h["run"] for h in which["hits"] if h["role"] == "output"] == ["lr-5e-4"], which

    # rvc plots draws both loss curves.
    plots = rvc_json("plots", "-o", "p.html", cwd=project)
    assert plots["runs"] == ["lr-1e-3", "lr-5e-4"]
    assert any(c["family"] == "loss" for c in plots["charts"]), plots
    page = (project / "p.html").read_text()
    assert page.count("lr-1e-3") >= 2 and page.count("lr-5e-4") >= 2


def test_the_api_records_a_script_run(project):
    (project / "train.py").write_text(
        "import json, os\n"
        "os.makedirs('out/script', exist_ok=True)\n"
        "open('out/script/metrics.jsonl', 'w').write(json.dumps({'step': 1, 'loss': 0.5}) + '\\n')\n"
        "print('trained')\n")
    sh("git", "add", "train.py", cwd=project)
    sh("git", "commit", "-qm", "script", cwd=project)
    shown = rvc.run("script", ["python", "train.py"], outputs=["out/script"],
                    metrics=["out/script/metrics.jsonl"], cwd=str(project))
    assert shown["lock"]["process"]["status"] == "succeeded"
    assert shown["lock"]["metrics"]["final"]["loss"] == 0.5
    locked = rvc.lock("again", outputs=["out/script"], cwd=str(project))
    assert locked["run"] == "again"
    with pytest.raises(rvc.RvcError) as e:
        rvc.lock("again", cwd=str(project))
    assert "already exists" in str(e.value)
