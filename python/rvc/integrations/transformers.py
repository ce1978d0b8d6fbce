"""A Hugging Face `transformers.Trainer` callback that records the run with rvc.

    from rvc.integrations.transformers import RvcCallback
    trainer = Trainer(model=model, args=args, train_dataset=ds, callbacks=[RvcCallback()])
    trainer.train()

- At train begin it writes the run's params to `OUTPUT_DIR/rvc_params.json`:
  the TrainingArguments, the model config and, for a PEFT model, its
  adapter config (rvc flattens them into dotted keys).
- On each log it appends the logged numbers, with the global step, to
  `OUTPUT_DIR/rvc_metrics.jsonl`, so the series is kept even when the run
  dies before it saves.
- On save it notes the checkpoint.
- At train end it runs `rvc lock RUN_NAME` with the output directory as the
  run's output (checkpoints and all), those params and metrics, and the
  inputs given to the callback (else `[run] inputs` of .rvc/config.toml).

The run's name is `run_name` of the TrainingArguments (else the output
directory's name). Only the main process records anything. The rvc binary
is the one the `rvc` wheel installed.
"""

from __future__ import annotations

import json
import math
import os
from typing import Iterable, Optional

from transformers import TrainerCallback

import rvc

PARAMS_FILE = "rvc_params.json"
METRICS_FILE = "rvc_metrics.jsonl"


def _plain(value):
    """A JSON-safe copy: numbers, strings, bools, lists and dicts; anything
    else as its string."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


class RvcCallback(TrainerCallback):
    """Records the training run with rvc. See the module documentation."""

    def __init__(
        self,
        run_name: Optional[str] = None,
        inputs: Iterable[str] = (),
        tags: Iterable[str] = (),
        force: bool = False,
        cwd: Optional[str] = None,
    ):
        self.run_name = run_name
        self.inputs = list(inputs)
        self.tags = list(tags)
        self.force = force
        self.cwd = cwd
        self.checkpoints: list[str] = []
        self.result: Optional[dict] = None

    def _name(self, args) -> str:
        return self.run_name or args.run_name or os.path.basename(os.path.normpath(args.output_dir))

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not state.is_world_process_zero:
            return
        os.makedirs(args.output_dir, exist_ok=True)
        params = {"training_args": _plain(args.to_dict())}
        config = getattr(model, "config", None)
        if config is not None and hasattr(config, "to_dict"):
            params["model_config"] = _plain(config.to_dict())
        peft = getattr(model, "peft_config", None)
        if isinstance(peft, dict):
            params["peft_config"] = {
                k: _plain(v.to_dict() if hasattr(v, "to_dict") else v) for k, v in peft.items()
            }
        with open(os.path.join(args.output_dir, PARAMS_FILE), "w") as f:
            json.dump(params, f, indent=1, sort_keys=True)
        # A new series for this run (a resumed run starts it again too).
        open(os.path.join(args.output_dir, METRICS_FILE), "w").close()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        point = {"step": state.global_step}
        point.update(
            {k: v for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        )
        with open(os.path.join(args.output_dir, METRICS_FILE), "a") as f:
            f.write(json.dumps(point) + "\n")

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.checkpoints.append(f"checkpoint-{state.global_step}")

    def on_train_end(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        out = args.output_dir
        self.result = rvc.lock(
            self._name(args),
            inputs=self.inputs,
            outputs=[out],
            params=[os.path.join(out, PARAMS_FILE)],
            metrics=[os.path.join(out, METRICS_FILE)],
            tags=self.tags,
            force=self.force,
            cwd=self.cwd,
        )
