import numpy as np
import torch

import calibrate
from model import LSTMQuantile


def test_gap_factors_follow_the_validation_errors():
    torch.manual_seed(0)
    net = LSTMQuantile(8, 8).eval()
    rng = np.random.default_rng(0)
    x = torch.randn(4000, 16, 11)
    x[:, :, 10] = float(np.log(300) / 10)  # one step class: 5 minutes
    xh = torch.randn(4000, 6, 9)
    with torch.no_grad():
        out = net(x, xh).numpy()
    mid, glo, ghi = out[..., 1], out[..., 1] - out[..., 0], out[..., 2] - out[..., 1]
    # Errors whose p10 / p90 lie 1.5 gaps from p50: the factors should be ~1.5.
    z = np.abs(rng.standard_normal(mid.shape)) / 1.2816
    up = rng.random(mid.shape) < 0.5
    y = np.where(up, mid + 1.5 * ghi * z, mid - 1.5 * glo * z).astype(np.float32)
    w = torch.ones(4000, 6)
    sets = [(f"t{i}", [x[i::2], xh[i::2], torch.from_numpy(y[i::2]), w[i::2]]) for i in range(2)]
    rep = calibrate.fit(net, sets)
    lo, hi = net.gap_scale[1].tolist()
    assert 1.35 <= lo <= 1.65 and 1.35 <= hi <= 1.65, rep
    assert rep["classes"][1]["traces"] == 2 and rep["classes"][0]["traces"] == 0
    # Classes without validation traces take the global factors.
    np.testing.assert_allclose(net.gap_scale[0].numpy(), rep["global"], rtol=1e-6)
    with torch.no_grad():
        q = net(x, xh)
    assert bool((q[..., 0] <= q[..., 1]).all() and (q[..., 1] <= q[..., 2]).all())
