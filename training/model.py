"""The global LSTM quantile forecaster: an LSTM reads the scaled window, a
small MLP shared across horizon steps turns (final state, the step's
calendar/lag/lead features) into the change of p50 from the last value
and two softplus gaps, so the outputs
can never cross: p10 = p50 - softplus(a), p90 = p50 + softplus(b)."""
from __future__ import annotations

import math

import torch
from torch import nn

from features import ENCODER_FEATURES, HORIZON_FEATURES

QUANTILES = (0.1, 0.5, 0.9)
# Step classes for the p10/p90 calibration: steps up to 2 min, 10 min,
# 45 min, 2 h, and longer. The class is read from the log_step feature.
CLASS_STEPS = (120, 600, 2700, 7200)


class LSTMQuantile(nn.Module):
    def __init__(self, hidden: int = 32, mlp: int = 64, layers: int = 1, residual: bool = True):
        super().__init__()
        self.hidden, self.mlp_size, self.layers, self.residual = hidden, mlp, layers, residual
        self.lstm = nn.LSTM(len(ENCODER_FEATURES), hidden, num_layers=layers, batch_first=True)
        # The head's first layer on [state, step features] is split in two so
        # the state's share is computed once per series, not once per step.
        self.from_state = nn.Linear(hidden, mlp)
        self.from_step = nn.Linear(len(HORIZON_FEATURES), mlp, bias=False)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(mlp, mlp), nn.ReLU(), nn.Linear(mlp, 3))
        # Per step class, factors on the p10 and p90 gaps fitted on the
        # validation part after training (calibrate.py); ones until then.
        self.register_buffer("gap_scale", torch.ones(len(CLASS_STEPS) + 1, 2))
        self.register_buffer("class_bounds", torch.tensor([math.log(s) / 10.0 for s in CLASS_STEPS]))

    def forward(self, x: torch.Tensor, xh: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        o = self.head(self.from_state(h[-1]).unsqueeze(1) + self.from_step(xh))
        # Residual on the last scaled value: the head learns the change from
        # the naive forecast, which is a strong start for short horizons.
        mid = x[:, -1:, 0:1] + o[..., 0:1] if self.residual else o[..., 0:1]
        g = self.gap_scale[self.step_class(x)].unsqueeze(1)  # (B, 1, 2)
        lo = mid - nn.functional.softplus(o[..., 1:2]) * g[..., 0:1]
        hi = mid + nn.functional.softplus(o[..., 2:3]) * g[..., 1:2]
        return torch.cat([lo, mid, hi], dim=-1)

    def step_class(self, x: torch.Tensor) -> torch.Tensor:
        """Index into gap_scale of each series' step (from log_step)."""
        ls = x[:, -1, len(ENCODER_FEATURES) - 1:len(ENCODER_FEATURES)]
        return (ls > self.class_bounds).sum(dim=-1)

    def config(self) -> dict:
        return {"hidden": self.hidden, "mlp": self.mlp_size, "layers": self.layers, "residual": self.residual}


def load_weights(net: LSTMQuantile, path: str) -> None:
    """Loads weights.pt; models saved before calibration existed get unit
    gap factors."""
    state = torch.load(path)
    for k in ("gap_scale", "class_bounds"):
        state.setdefault(k, getattr(net, k))
    net.load_state_dict(state)


def pinball(pred: torch.Tensor, y: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean pinball loss over quantiles, weighted per (sample, step)."""
    q = torch.tensor(QUANTILES, dtype=pred.dtype)
    d = y.unsqueeze(-1) - pred
    loss = torch.maximum(q * d, (q - 1) * d).mean(dim=-1)
    return (loss * weight).sum() / weight.sum().clamp_min(1e-8)
