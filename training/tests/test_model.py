import numpy as np
import torch

import dataset
from model import LSTMQuantile, pinball
from traces import Trace


def test_quantiles_never_cross():
    torch.manual_seed(0)
    m = LSTMQuantile(8, 8)
    y = m(torch.randn(64, 16, 11) * 5, torch.randn(64, 30, 9) * 5)
    assert y.shape == (64, 30, 3)
    assert bool((y[..., 0] <= y[..., 1]).all() and (y[..., 1] <= y[..., 2]).all())


def test_pinball_by_hand():
    pred = torch.tensor([[[0.0, 1.0, 2.0]]])
    y = torch.tensor([[1.5]])
    w = torch.ones(1, 1)
    # 0.1*1.5, 0.5*0.5, (0.9-1)*(1.5-2) -> mean
    want = (0.15 + 0.25 + 0.05) / 3
    assert abs(float(pinball(pred, y, w)) - want) < 1e-6


def test_training_never_reads_the_test_part():
    v = np.arange(1000, dtype=float)
    tr = Trace("t", 0, 60, v)
    train, val = dataset.parts(tr, 16)
    assert train.hi <= val.lo and val.hi == 800
    _, _, y, w = dataset.sample(val, np.arange(val.lo, val.hi), 16, 30, 8, 0.2)
    # Targets at or beyond the test part carry no weight.
    origins = np.arange(val.lo, val.hi)
    idx = origins[:, None] + np.arange(30)[None, :]
    assert float(w[idx >= 800].sum()) == 0.0


def test_coarsen_block_means():
    tr = Trace("t", 0, 60, np.array([1, 3, np.nan, np.nan, 5, np.nan]))
    c = dataset.coarsen(tr, 2)
    assert c.step == 120
    np.testing.assert_array_equal(np.isnan(c.values), [False, True, False])
    assert c.values[0] == 2 and c.values[2] == 5
