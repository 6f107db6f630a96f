"""p10/p90 calibration on the validation part (origins in 70-80 % of each
trace, never the test part): per step class, the factors on the model's
p10 and p90 gaps that minimise the pinball loss of that quantile over the
validation windows, each trace weighing the same. The pinball loss is a
proper score, so the factor both calibrates and keeps the band sharp."""
from __future__ import annotations

import numpy as np
import torch

from model import QUANTILES, LSTMQuantile

GRID = np.round(np.arange(0.5, 2.001, 0.025), 3)
MIN_TRACES = 2  # a class seen on fewer traces keeps the global factors


def _pin(tau: float, y: np.ndarray, q: np.ndarray) -> np.ndarray:
    d = y - q
    return np.maximum(tau * d, (tau - 1) * d)


def _losses(mid, gap, y, w, tau, sign):
    """Weighted mean pinball of quantile tau at each factor of GRID."""
    q = mid[None] + sign * GRID[:, None, None] * gap[None]
    return (_pin(tau, y[None], q) * w[None]).sum(axis=(1, 2)) / max(w.sum(), 1e-12)


@torch.no_grad()
def fit(net: LSTMQuantile, sets) -> dict:
    """Sets net.gap_scale from sets [(name, [x, xh, y, w]), ...] (z space)
    and returns what was fitted, for the card."""
    net.gap_scale.fill_(1.0)
    n_cls = net.gap_scale.shape[0]
    per_class = [[] for _ in range(n_cls)]
    for name, (x, xh, y, w) in sets:
        out = net(x, xh).numpy()
        cls = net.step_class(x).numpy()
        yn, wn = y.numpy(), w.numpy()
        mid = out[..., 1]
        glo, ghi = mid - out[..., 0], out[..., 2] - mid
        for c in np.unique(cls):
            k = cls == c
            per_class[c].append((_losses(mid[k], glo[k], yn[k], wn[k], QUANTILES[0], -1),
                                 _losses(mid[k], ghi[k], yn[k], wn[k], QUANTILES[2], 1)))
    every = [t for cl in per_class for t in cl]
    glob = _best(every) if every else (1.0, 1.0)
    report = {"method": "per step class, factors on the p10/p90 gaps minimising validation pinball",
              "class_upper_bounds_seconds": [120, 600, 2700, 7200, None], "global": glob, "classes": []}
    for c, cl in enumerate(per_class):
        f = _best(cl) if len(cl) >= MIN_TRACES else glob
        net.gap_scale[c] = torch.tensor(f, dtype=net.gap_scale.dtype)
        report["classes"].append({"traces": len(cl), "p10_factor": f[0], "p90_factor": f[1]})
    return report


def _best(curves) -> tuple[float, float]:
    lo = np.mean([c[0] for c in curves], axis=0)
    hi = np.mean([c[1] for c in curves], axis=0)
    return float(GRID[np.argmin(lo)]), float(GRID[np.argmin(hi)])
