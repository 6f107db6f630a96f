"""The global LSTM quantile forecaster: an LSTM reads the scaled window, a
small MLP shared across horizon steps turns (final state, the step's
calendar/lag/lead features) into the change of p50 from the last value
and two softplus gaps, so the outputs
can never cross: p10 = p50 - softplus(a), p90 = p50 + softplus(b)."""
from __future__ import annotations

import torch
from torch import nn

from features import ENCODER_FEATURES, HORIZON_FEATURES

QUANTILES = (0.1, 0.5, 0.9)


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

    def forward(self, x: torch.Tensor, xh: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        o = self.head(self.from_state(h[-1]).unsqueeze(1) + self.from_step(xh))
        # Residual on the last scaled value: the head learns the change from
        # the naive forecast, which is a strong start for short horizons.
        mid = x[:, -1:, 0:1] + o[..., 0:1] if self.residual else o[..., 0:1]
        lo = mid - nn.functional.softplus(o[..., 1:2])
        hi = mid + nn.functional.softplus(o[..., 2:3])
        return torch.cat([lo, mid, hi], dim=-1)

    def config(self) -> dict:
        return {"hidden": self.hidden, "mlp": self.mlp_size, "layers": self.layers, "residual": self.residual}


def pinball(pred: torch.Tensor, y: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean pinball loss over quantiles, weighted per (sample, step)."""
    q = torch.tensor(QUANTILES, dtype=pred.dtype)
    d = y.unsqueeze(-1) - pred
    loss = torch.maximum(q * d, (q - 1) * d).mean(dim=-1)
    return (loss * weight).sum() / weight.sum().clamp_min(1e-8)
