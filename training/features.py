"""The one definition of the model's inputs. The Go feature builder
(inference/onnx/features.go) mirrors this file; both are tested against
testdata/features_golden.json, so change them together and bump VERSION.

For a history v[0..n) at times t0 + i*step and a forecast origin n:
  encoder row j (index i = n - W + j):   ENCODER_FEATURES
  horizon row h (target index n + h):    HORIZON_FEATURES
Values are scaled per window: z = (x - loc) / scale with loc = mean and
scale = std + 0.01*|mean| + 1e-8 over the finite values of the window, then
clipped to +-CLIP. Missing or unavailable values are 0 with their mask at 1.
Seasonal lags are the value one day / one week (rounded to whole steps)
before each row, taken only from the history (never from the future).
"""
from __future__ import annotations

import math

import numpy as np

VERSION = "features-v1"
SCALING = "window-mean-std-v1"
CLIP = 10.0
DAY = 86400
WEEK = 7 * DAY
STEP_LOG_DIV = 10.0

ENCODER_FEATURES = [
    "value_z", "value_missing",
    "lag_day_z", "lag_day_missing",
    "lag_week_z", "lag_week_missing",
    "tod_sin", "tod_cos", "dow_sin", "dow_cos",
    "log_step",
]
HORIZON_FEATURES = [
    "lag_day_z", "lag_day_missing",
    "lag_week_z", "lag_week_missing",
    "tod_sin", "tod_cos", "dow_sin", "dow_cos",
    "log_lead",
]


def lag_steps(period: int, step: int) -> int:
    """Whole steps in a seasonal period; 0 disables the lag (step too long)."""
    return int(math.floor(period / step + 0.5))


def calendar(t: np.ndarray) -> np.ndarray:
    """sin/cos of time of day and day of week (Monday = 0) of unix seconds t."""
    tod = np.mod(t, DAY) / DAY
    dow = np.mod(np.floor_divide(t, DAY) + 3, 7) / 7.0  # 1970-01-01 was a Thursday
    a, b = 2 * np.pi * tod, 2 * np.pi * dow
    return np.stack([np.sin(a), np.cos(a), np.sin(b), np.cos(b)], axis=-1)


def window_stats(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """loc, scale and finite count of each row of w (B, W)."""
    fin = np.isfinite(w)
    cnt = fin.sum(axis=1)
    z = np.where(fin, w, 0.0)
    loc = z.sum(axis=1) / np.maximum(cnt, 1)
    var = (np.where(fin, w - loc[:, None], 0.0) ** 2).sum(axis=1) / np.maximum(cnt, 1)
    scale = np.sqrt(var) + 0.01 * np.abs(loc) + 1e-8
    return loc, scale, cnt


def _gather(values: np.ndarray, idx: np.ndarray, limit: np.ndarray):
    """values[idx] where 0 <= idx < limit (per row), else NaN."""
    ok = (idx >= 0) & (idx < limit)
    out = np.full(idx.shape, np.nan)
    out[ok] = values[idx[ok]]
    return out


def _scaled(x: np.ndarray, loc, scale):
    fin = np.isfinite(x)
    z = np.clip((np.where(fin, x, 0.0) - loc) / scale, -CLIP, CLIP)
    return np.where(fin, z, 0.0), (~fin).astype(np.float64)


def build(values: np.ndarray, t0: int, step: int, origins: np.ndarray,
          window: int, horizon: int):
    """Features for forecasts at each origin, using values[:origin] only.

    Returns enc (B, W, len(ENCODER_FEATURES)) and dec (B, H,
    len(HORIZON_FEATURES)) as float32, and loc, scale, finite count (B,)."""
    origins = np.asarray(origins, dtype=np.int64)
    lim = origins[:, None]
    ei = origins[:, None] - window + np.arange(window)[None, :]
    hi = origins[:, None] + np.arange(horizon)[None, :]
    x = _gather(values, ei, lim)
    loc, scale, cnt = window_stats(x)
    L, S = loc[:, None], scale[:, None]
    ld, lw = lag_steps(DAY, step), lag_steps(WEEK, step)

    def lag(idx, k):
        if k < 1:
            return np.full(idx.shape, np.nan)
        return _gather(values, idx - k, lim)

    enc = [*_scaled(x, L, S), *_scaled(lag(ei, ld), L, S), *_scaled(lag(ei, lw), L, S)]
    enc = np.stack(enc, axis=-1)
    ecal = calendar(t0 + ei * step)
    logstep = np.full(ei.shape + (1,), math.log(step) / STEP_LOG_DIV)
    enc = np.concatenate([enc, ecal, logstep], axis=-1)

    dec = np.stack([*_scaled(lag(hi, ld), L, S), *_scaled(lag(hi, lw), L, S)], axis=-1)
    dcal = calendar(t0 + hi * step)
    lead = np.log((np.arange(horizon) + 1.0) * step) / STEP_LOG_DIV
    lead = np.broadcast_to(lead[None, :, None], hi.shape + (1,))
    dec = np.concatenate([dec, dcal, lead], axis=-1)
    return enc.astype(np.float32), dec.astype(np.float32), loc, scale, cnt


def unscale(q: np.ndarray, loc, scale) -> np.ndarray:
    """Model outputs (B, H, 3) in z space to non-negative values."""
    return np.maximum(q * scale[:, None, None] + loc[:, None, None], 0.0)
