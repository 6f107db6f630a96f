"""Rolling-origin evaluation with the same definitions as `shadowscale eval`
(evaluate/ in Go), for iterating on the model without the Go side:

    /usr/bin/python3 training/evaluate.py --model models/lstm-1 --traces DIR

Origins: up to 500 evenly spaced indexes in the last 20 % at which a whole
horizon fits; each forecast sees at most max(15 days, 2000 steps) of history
strictly before the origin. horizon_steps = max(1, ceil(30 min / step)).
MASE = MAE / in-sample MAE of the one-season-ago forecast on the data before
the first origin (season = 1 day when the trace spans >= 3 days, else 1).
Baselines here: naive and daily seasonal-naive with empirical error bands
(Holt-Winters is only in Go)."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import features  # noqa: E402
from traces import Trace, load_dir, read_csv  # noqa: E402

QUANTILES = (0.1, 0.5, 0.9)
MAX_RESIDUALS = 1000


def horizon_steps(step: int, horizon_s: int = 1800) -> int:
    return max(1, math.ceil(horizon_s / step))


def origins(n: int, h: int, test_fraction: float = 0.2, max_origins: int = 500) -> np.ndarray:
    first = int(math.floor(n * (1 - test_fraction)))
    last = n - h
    if first < 2 or last < first:
        raise ValueError(f"series of {n} steps is too short for a {h}-step horizon")
    count = min(last - first + 1, max_origins) if max_origins > 0 else last - first + 1
    if count == 1:
        return np.array([first])
    return np.array([first + int(math.floor(i * (last - first) / (count - 1) + 0.5)) for i in range(count)])


def mase_season(tr: Trace) -> int:
    return DAY_STEPS(tr.step) if len(tr.values) * tr.step >= 3 * 86400 and tr.step < 86400 else 1


def DAY_STEPS(step: int) -> int:
    return 86400 // step


def seasonal_scale(v: np.ndarray, season: int) -> float:
    d = np.abs(v[season:] - v[:-season])
    d = d[np.isfinite(d)]
    return float(d.mean()) if len(d) else math.nan


def max_history(step: int) -> int:
    return max(15 * 86400 // step, 2000)


def _bands(res: list[np.ndarray]) -> np.ndarray:
    out = np.zeros((len(res), 3))
    for h, r in enumerate(res):
        if len(r):
            out[h] = np.quantile(r, QUANTILES)
        elif h:
            out[h] = out[h - 1]
    return out


def naive(hist: np.ndarray, h: int) -> np.ndarray:
    fin = np.flatnonzero(np.isfinite(hist))
    last = hist[fin[-1]] if len(fin) else 0.0
    res = []
    for k in range(1, h + 1):
        d = hist[k:] - hist[:-k] if len(hist) > k else np.array([])
        res.append(d[np.isfinite(d)][-MAX_RESIDUALS:])
    return _quantiles(np.full(h, last), _bands(res), hist)


def seasonal_naive(hist: np.ndarray, h: int, step: int) -> np.ndarray:
    m = 86400 // step if 86400 % step == 0 else 0
    if m < 2 or len(hist) < 2 * m:
        return naive(hist, h)
    n = len(hist)
    point = np.empty(h)
    for k in range(h):
        i = n + k - m
        while i >= 0 and not np.isfinite(hist[i]):
            i -= m
        point[k] = hist[i] if i >= 0 else hist[np.flatnonzero(np.isfinite(hist))[-1]]
    d = hist[m:] - hist[:-m]
    r = d[np.isfinite(d)][-MAX_RESIDUALS:]
    return _quantiles(point, _bands([r] * h), hist)


def _quantiles(point, bands, hist):
    q = point[:, None] + bands
    if np.nanmin(hist) >= 0:
        q = np.maximum(q, 0)
    return np.maximum.accumulate(q, axis=1)


class OnnxFreeLSTM:
    """The trained PyTorch model behind the same feature code as the export."""

    def __init__(self, model_dir: str):
        import torch
        from model import LSTMQuantile, load_weights
        with open(os.path.join(model_dir, "model.json")) as f:
            self.card = json.load(f)
        a = self.card["architecture"]
        self.net = LSTMQuantile(a["hidden"], a["mlp"], a["layers"], a.get("residual", True))
        load_weights(self.net, os.path.join(model_dir, "weights.pt"))
        self.net.eval()
        self.torch = torch

    def forecast(self, tr: Trace, origins_: np.ndarray, h: int):
        W, H = self.card["window"], self.card["horizon_steps"]
        enc, dec, loc, scale, cnt = features.build(tr.values, tr.t0, tr.step, origins_, W, H)
        with self.torch.no_grad():
            y = self.net(self.torch.from_numpy(enc), self.torch.from_numpy(dec)).numpy()
        q = features.unscale(y, loc, scale)[:, :h]
        short = cnt < self.card["min_history"]
        return q, short


def score(v: np.ndarray, orig: np.ndarray, q: np.ndarray) -> dict:
    y = np.stack([v[o:o + q.shape[1]] for o in orig])
    ok = np.isfinite(y)
    y, q = y[ok], q[ok]
    d = y - q[:, 1]
    den = np.abs(y) + np.abs(q[:, 1])
    smape = np.where(den == 0, 0.0, 2 * np.abs(d) / np.where(den == 0, 1, den))
    pin = np.mean([np.maximum(t * (y - q[:, k]), (t - 1) * (y - q[:, k])) for k, t in enumerate(QUANTILES)], axis=0)
    return {"mae": float(np.abs(d).mean()), "smape": float(smape.mean()), "pinball": float(pin.mean()),
            "coverage_p90": float((y <= q[:, 2]).mean()), "points": int(ok.sum())}


def evaluate_trace(tr: Trace, lstm: OnnxFreeLSTM | None) -> dict:
    h = horizon_steps(tr.step)
    orig = origins(len(tr.values), h)
    scale = seasonal_scale(tr.values[:orig[0]], mase_season(tr))
    mh = max_history(tr.step)
    fcs = {"naive": [], "seasonal-naive": []}
    for o in orig:
        hist = tr.values[max(0, o - mh):o]
        fcs["naive"].append(naive(hist, h))
        fcs["seasonal-naive"].append(seasonal_naive(hist, h, tr.step))
    results = {k: np.stack(v) for k, v in fcs.items()}
    fallbacks = 0
    if lstm is not None:
        q, short = lstm.forecast(tr, orig, h)
        q[short] = np.stack(fcs["seasonal-naive"])[short]  # the Go side's fallback
        results["lstm"], fallbacks = q, int(short.sum())
    out = []
    for name, q in results.items():
        s = score(tr.values, orig, q)
        s["mase"] = s.pop("mae") / scale
        out.append({"forecaster": name, **s, **({"fallbacks": fallbacks} if name == "lstm" else {})})
    return {"trace": tr.name, "step_seconds": tr.step, "horizon_steps": h, "origins": len(orig), "results": out}


def validation_score(net, parts, window: int, horizon: int, naive_cache: dict, max_origins: int = 200):
    """Eval-like validation on the 70-80 % part of each trace: the model's
    MAE and mean pinball in the trace's units, relative to the naive
    forecast's at the same origins. Returns (score, per-trace metrics) with
    score = mean log(pinball ratio): below 0 beats naive on average."""
    import torch
    per, logs = {}, []
    for p in parts:
        tr = p.trace
        h = horizon_steps(tr.step)
        if p.hi - h < p.lo:
            continue
        n = min(max_origins, p.hi - h - p.lo + 1)
        orig = np.unique(np.linspace(p.lo, p.hi - h, n).round().astype(np.int64))
        head = tr.values[:p.hi]
        if tr.name not in naive_cache:
            mh = max_history(tr.step)
            naive_cache[tr.name] = np.stack([naive(head[max(0, o - mh):o], h) for o in orig])
        enc, dec, loc, scale, cnt = features.build(head, tr.t0, tr.step, orig, window, horizon)
        with torch.no_grad():
            y = net(torch.from_numpy(enc), torch.from_numpy(dec)).numpy()
        q = features.unscale(y, loc, scale)[:, :h]
        short = cnt < max(1, window // 2)
        q[short] = naive_cache[tr.name][short]
        m, b = score(head, orig, q), score(head, orig, naive_cache[tr.name])
        if m["points"] == 0 or b["mae"] == 0 or b["pinball"] == 0:
            continue
        per[tr.name] = {"mae_vs_naive": m["mae"] / b["mae"], "pinball_vs_naive": m["pinball"] / b["pinball"],
                        "coverage_p90": m["coverage_p90"]}
        logs.append(math.log(m["pinball"] / b["pinball"]))
    return float(np.mean(logs)), per


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--traces", required=True)
    p.add_argument("--model", help="model directory (needs weights.pt)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    args = p.parse_args(argv)
    traces = load_dir(args.traces) if os.path.isdir(args.traces) else [read_csv(args.traces)]
    lstm = OnnxFreeLSTM(args.model) if args.model else None
    reps = [evaluate_trace(tr, lstm) for tr in traces]
    if args.json:
        json.dump(reps, sys.stdout, indent=1)
        return reps
    print("trace  forecaster MASE/pinball/coverage_p90 ...")
    for r in reps:
        cells = "  ".join(f"{x['forecaster']} {x['mase']:.3f}/{x['pinball']:.4g}/{x['coverage_p90']:.2f}" for x in r["results"])
        print(f"{r['trace'][:40]:40s} {cells}")
    return reps


if __name__ == "__main__":
    main()
