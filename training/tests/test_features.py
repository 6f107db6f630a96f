import json
import math

import numpy as np
import pytest

import features
import golden


def test_golden_file_matches_features():
    with open(golden.PATH) as f:
        stored = json.load(f)
    fresh = golden.build_golden()
    assert stored["version"] == features.VERSION
    assert stored["encoder_features"] == features.ENCODER_FEATURES
    assert stored["horizon_features"] == features.HORIZON_FEATURES
    assert [c["name"] for c in stored["cases"]] == [c["name"] for c in fresh["cases"]]
    for s, f in zip(stored["cases"], fresh["cases"]):
        assert s["values"] == f["values"], s["name"]
        np.testing.assert_allclose(s["encoder"], f["encoder"], atol=1e-6, err_msg=s["name"])
        np.testing.assert_allclose(s["horizon_rows"], f["horizon_rows"], atol=1e-6, err_msg=s["name"])
        assert s["loc"] == pytest.approx(f["loc"]) and s["scale"] == pytest.approx(f["scale"])


def series(n=3000, step=300, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 20 * np.sin(2 * np.pi * t * step / 86400) + rng.normal(0, 2, n)


def test_uses_only_history_before_origin():
    v = series()
    o = np.array([2500, 2600])
    a = features.build(v, 0, 300, o, 32, 30)
    w = v.copy()
    w[2500:] = 1e9  # the future of the first origin
    b = features.build(w, 0, 300, o[:1], 32, 30)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x[:1], y)


def test_scale_invariant():
    v = series()
    o = np.array([2000, 2900])
    a = features.build(v, 0, 300, o, 32, 30)
    b = features.build(v * 1000, 0, 300, o, 32, 30)
    np.testing.assert_allclose(a[0], b[0], atol=1e-4)
    np.testing.assert_allclose(a[1], b[1], atol=1e-4)


def test_lags_and_masks():
    step = 3600
    v = np.arange(400, dtype=float)
    enc, dec, loc, scale, cnt = features.build(v, 0, step, np.array([400]), 4, 30)
    i = features.ENCODER_FEATURES.index
    j = features.HORIZON_FEATURES.index
    # window row 3 is index 399: its day lag is index 375.
    assert enc[0, 3, i("lag_day_z")] == pytest.approx((375 - loc[0]) / scale[0], abs=1e-5)
    # horizon step 24 targets index 424: a day back is 400, not yet observed.
    assert dec[0, 23, j("lag_day_missing")] == 0 and dec[0, 24, j("lag_day_missing")] == 1
    assert dec[0, 0, j("log_lead")] == pytest.approx(math.log(step) / 10)


def test_missing_values_are_masked():
    v = series(200)
    v[190:195] = np.nan
    enc, *_ , cnt = features.build(v, 0, 300, np.array([200]), 16, 6)
    i = features.ENCODER_FEATURES.index
    assert cnt[0] == 11
    assert list(enc[0, 6:11, i("value_missing")]) == [1] * 5
    assert list(enc[0, 6:11, i("value_z")]) == [0] * 5
