"""Training and validation samples from the first 80 % of each trace only:
origins in [0, 70 %) train, origins in [70 %, 80 %) validate; targets never
reach past their part. The last 20 % is left for `shadowscale eval`."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import features
from traces import Trace

TEST_FRACTION = 0.2
VAL_FRACTION = 0.1  # of the whole trace, taken just before the test part
TARGET_CLIP = 50.0
PRODUCT_HORIZON = 1800  # seconds: steps within it get full loss weight


@dataclass
class Part:
    trace: Trace
    lo: int  # first origin
    hi: int  # origins and targets stay below hi


def parts(tr: Trace, window: int) -> tuple[Part, Part]:
    test = tr.split(TEST_FRACTION)
    val = int(math.floor(len(tr.values) * (1.0 - TEST_FRACTION - VAL_FRACTION)))
    return Part(tr, window // 4, val), Part(tr, val, test)


def coarsen(tr: Trace, k: int) -> Trace:
    """Block means of k steps (NaN if the whole block is missing): an extra
    series at a longer step, so one model learns many step sizes."""
    n = len(tr.values) // k
    blocks = tr.values[: n * k].reshape(n, k)
    fin = np.isfinite(blocks)
    s = np.where(fin, blocks, 0.0).sum(axis=1)
    c = fin.sum(axis=1)
    vals = np.where(c > 0, s / np.maximum(c, 1), np.nan)
    return Trace(f"{tr.name}@x{k}", tr.t0, tr.step * k, vals, tr.sha256)


def horizon_weights(step: int, horizon: int, tail: float) -> np.ndarray:
    n = max(1, math.ceil(PRODUCT_HORIZON / step))
    w = np.full(horizon, tail)
    w[:n] = 1.0
    return w


def sample(part: Part, origins: np.ndarray, window: int, horizon: int,
           min_valid: int, tail: float):
    """Features, z-scaled targets and loss weights for the given origins."""
    tr = part.trace
    head = tr.values[: part.hi]
    enc, dec, loc, scale, cnt = features.build(head, tr.t0, tr.step, origins, window, horizon)
    ti = origins[:, None] + np.arange(horizon)[None, :]
    y = np.full(ti.shape, np.nan)
    ok = ti < part.hi
    y[ok] = head[ti[ok]]
    fin = np.isfinite(y)
    yz = np.clip((np.where(fin, y, 0.0) - loc[:, None]) / scale[:, None], -TARGET_CLIP, TARGET_CLIP)
    w = fin * horizon_weights(tr.step, horizon, tail)[None, :]
    keep = cnt >= min_valid
    return enc[keep], dec[keep], yz[keep].astype(np.float32), w[keep].astype(np.float32)


def draw(part: Part, n: int, rng: np.random.Generator, *args):
    if part.hi - part.lo < 1:
        return None
    origins = rng.integers(part.lo, part.hi, size=n)
    return sample(part, origins, *args)


def all_origins(part: Part, stride: int, *args):
    origins = np.arange(part.lo, part.hi, max(1, stride))
    return sample(part, origins, *args) if len(origins) else None
