"""PyTorch eager timing of the same forecast the Go benchmarks time, for the
ONNX Runtime vs PyTorch ratio (inference/onnx/bench_test.go runs this).

    /usr/bin/python3 training/bench_torch.py --model models/lstm-1 --batches 1,64,1024

Prints one JSON object: {"threads": 1, "seconds_per_call": {"1": ..., ...},
"model_seconds_per_call": {...}} — features + forward, and forward alone."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import features  # noqa: E402
from model import LSTMQuantile, load_weights  # noqa: E402


def synthetic(n: int, step: int = 300) -> np.ndarray:
    """The Go benchmark's series: a daily cycle plus a fast wiggle."""
    i = np.arange(n)
    return 10 * (1.5 + np.sin(2 * math.pi * i / 288) + 0.1 * np.sin(i))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--batches", default="1,64,1024")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=1.0, help="time budget per batch size")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.model, "model.json")) as f:
        card = json.load(f)
    arch = card["architecture"]
    net = LSTMQuantile(arch["hidden"], arch["mlp"], arch["layers"], arch.get("residual", True))
    load_weights(net, os.path.join(a.model, "weights.pt"))
    net.eval()
    W, H = card["window"], card["horizon_steps"]
    v = synthetic(2300)
    out, model_only = {}, {}
    for b in (int(x) for x in a.batches.split(",")):
        origins = np.full(b, len(v))

        def call():
            enc, dec, loc, scale, _ = features.build(v, 0, 300, origins, W, H)
            with torch.no_grad():
                y = net(torch.from_numpy(enc), torch.from_numpy(dec)).numpy()
            return features.unscale(y, loc, scale)

        enc, dec, *_ = features.build(v, 0, 300, origins, W, H)
        x, xh = torch.from_numpy(enc), torch.from_numpy(dec)
        out[str(b)] = timed(call, a.seconds)
        with torch.no_grad():
            model_only[str(b)] = timed(lambda: net(x, xh), a.seconds)
    print(json.dumps({"threads": a.threads, "seconds_per_call": out, "model_seconds_per_call": model_only}))


def timed(fn, budget: float) -> float:
    fn()  # warm-up
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        el = time.perf_counter() - start
        if el > budget or n >= 2000:
            return el / n


if __name__ == "__main__":
    main()
