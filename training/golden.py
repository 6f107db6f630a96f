"""Writes testdata/features_golden.json: the feature definition and a few
series with their expected features. pytest (tests/test_features.py) and Go
(inference/onnx/features_test.go) both check their feature builders against it.

    /usr/bin/python3 training/golden.py   # after a deliberate feature change
"""
from __future__ import annotations

import json
import math
import os

import numpy as np

import features

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "testdata", "features_golden.json")


def cases():
    rng = np.random.default_rng(7)
    hourly = 100 + 30 * np.sin(np.arange(400) * 2 * np.pi / 24) + rng.normal(0, 5, 400)
    hourly[[3, 170, 390, 395]] = np.nan
    daily = rng.gamma(5.0, 20.0, 30)
    daily[[20, 27]] = np.nan
    raw = [
        ("hourly-with-gaps", 1420070400, 3600, hourly, 16, 6),
        ("short-5min-padded", 1420072200, 300, rng.uniform(0, 50, 10), 16, 6),
        ("daily-lags-in-future", 1199145600, 86400, daily, 8, 3),
        ("monthly-no-lags", 694224000, 2678400, rng.uniform(1e5, 2e5, 12), 8, 3),
        ("all-missing", 1420070400, 60, np.full(5, np.nan), 4, 2),
        ("constant-zero", 1420070400, 60, np.zeros(6), 4, 2),
    ]
    # Stored values are rounded; features are computed from what is stored.
    return [(n, t0, s, np.round(v, 6), w, h) for n, t0, s, v, w, h in raw]


def build_golden() -> dict:
    out = []
    for name, t0, step, vals, w, h in cases():
        enc, dec, loc, scale, cnt = features.build(vals, t0, step, np.array([len(vals)]), w, h)
        out.append({
            "name": name, "start": t0, "step_seconds": step, "window": w, "horizon": h,
            "values": [None if not math.isfinite(v) else float(v) for v in vals],
            "loc": float(loc[0]), "scale": float(scale[0]), "count": int(cnt[0]),
            "encoder": enc[0].astype(float).tolist(), "horizon_rows": dec[0].astype(float).tolist(),
        })
    return {"version": features.VERSION, "scaling": features.SCALING, "clip": features.CLIP,
            "encoder_features": features.ENCODER_FEATURES, "horizon_features": features.HORIZON_FEATURES,
            "cases": out}


if __name__ == "__main__":
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    with open(PATH, "w") as f:
        json.dump(build_golden(), f, indent=1)
        f.write("\n")
    print("wrote", PATH)
