"""Write TensorBoard event files with the real `tensorboard` package, and
the scalars rvc must read from them (expected.json).

    python -m venv /tmp/tb && /tmp/tb/bin/pip install tensorboard
    /tmp/tb/bin/python tests/vectors/tfevents/generate.py

Two writers, as found in training code:
- simple/: `EventFileWriter` with `Summary.Value.simple_value`, which is
  what `torch.utils.tensorboard.SummaryWriter.add_scalar` writes (it uses
  this same writer), plus a histogram that must be skipped;
- tensor/: `tensorboard.summary.Writer.add_scalar`, which writes a scalar
  tensor (TensorFlow 2 style).
The event files keep their generated names (time, host, pid); rerunning
replaces them.
"""
import json
import os
import shutil

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary import DirectoryOutput, Writer
from tensorboard.summary.writer.event_file_writer import EventFileWriter

here = os.path.dirname(os.path.abspath(__file__))
expected = {}

# simple_value, the torch.utils.tensorboard way.
d = os.path.join(here, "simple")
shutil.rmtree(d, ignore_errors=True)
w = EventFileWriter(d)
for step in range(1, 6):
    loss = 2.0 / step
    lr = 1e-4 * step
    values = [
        summary_pb2.Summary.Value(tag="train/loss", simple_value=loss),
        summary_pb2.Summary.Value(tag="train/learning_rate", simple_value=lr),
    ]
    w.add_event(event_pb2.Event(step=step * 10, wall_time=1_700_000_000.0 + step,
                                summary=summary_pb2.Summary(value=values)))
    for tag, v in [("train/loss", loss), ("train/learning_rate", lr)]:
        # simple_value is a 32-bit float; rvc reads it as the shortest
        # decimal that gives the same float32 (str of a numpy float32).
        expected.setdefault("simple", {}).setdefault(tag, []).append(
            [step * 10, float(str(np.float32(v)))])
# A histogram, as add_histogram writes it (Summary.Value.histo): skipped.
histo = summary_pb2.HistogramProto(min=0.0, max=11.0, num=12, sum=66.0, sum_squares=506.0,
                                   bucket_limit=[5.0, 11.0], bucket=[6.0, 6.0])
hist = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="weights", histo=histo)])
w.add_event(event_pb2.Event(step=50, wall_time=1_700_000_010.0, summary=hist))
w.close()

# Scalar tensors, the tensorboard.summary / TF2 way.
d = os.path.join(here, "tensor")
shutil.rmtree(d, ignore_errors=True)
tw = Writer(DirectoryOutput(d))
for step in range(0, 3):
    tw.add_scalar("eval/loss", 1.5 - 0.25 * step, step=step)
    expected.setdefault("tensor", {}).setdefault("eval/loss", []).append(
        [step, float(str(np.float32(1.5 - 0.25 * step)))])
tw.close()

with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f, indent=2, sort_keys=True)
    f.write("\n")
print("wrote", sorted(os.listdir(os.path.join(here, "simple"))), sorted(os.listdir(os.path.join(here, "tensor"))))
