"""ONNX export (opset 17, dynamic batch axis) with the model card embedded
in metadata_props, the card as model.json, and parity test vectors that the
Go tests run through ONNX Runtime (there is no Python onnxruntime here)."""
from __future__ import annotations

import datetime
import json
import math
import os
import tempfile

import numpy as np
import onnx
import torch

import dataset
import features
from model import QUANTILES

SCHEMA_VERSION = 1
OPSET = 17


def card(model, args, traces, info, metrics) -> dict:
    w, h = args.window, args.horizon
    created = os.environ.get("SOURCE_DATE_EPOCH")
    ts = datetime.datetime.fromtimestamp(int(created), datetime.timezone.utc) if created else \
        datetime.datetime.now(datetime.timezone.utc)
    return {
        "schema_version": SCHEMA_VERSION,
        "name": args.name,
        "version": args.version,
        "created_at": ts.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "window": w,
        "horizon_steps": h,
        "quantiles": list(QUANTILES),
        "feature_version": features.VERSION,
        "encoder_features": features.ENCODER_FEATURES,
        "horizon_features": features.HORIZON_FEATURES,
        "scaling": {"method": features.SCALING, "clip": features.CLIP},
        "min_history": max(1, w // 2),
        "inputs": {"x": [-1, w, len(features.ENCODER_FEATURES)], "xh": [-1, h, len(features.HORIZON_FEATURES)]},
        "outputs": {"y": [-1, h, len(QUANTILES)]},
        "architecture": {"kind": "lstm-encoder+shared-mlp-head", **model.config(),
                         "parameters": sum(p.numel() for p in model.parameters())},
        "training_data": [{
            "file": tr.name + ".csv", "sha256": tr.sha256, "step_seconds": tr.step,
            "points": len(tr.values), "points_used": tr.split(dataset.TEST_FRACTION),
        } for tr in traces],
        "split": "train on origins in the first 70 % of each trace, validate on 70-80 %; "
                 "the last 20 % is never read in training (it is what `shadowscale eval` tests)",
        "training": info,
        "metrics": metrics,
    }


def metadata_props(c: dict) -> dict:
    """Each card field as its JSON encoding (strings too, so "1" stays a
    string): the Go side decodes metadata_props exactly like model.json."""
    return {k: json.dumps(v, sort_keys=True) for k, v in c.items()}


def export_onnx(model, c: dict, path: str) -> None:
    w, h = c["window"], c["horizon_steps"]
    x = torch.zeros(2, w, len(features.ENCODER_FEATURES))
    xh = torch.zeros(2, h, len(features.HORIZON_FEATURES))
    with tempfile.TemporaryDirectory() as d:
        tmp = os.path.join(d, "m.onnx")
        torch.onnx.export(model, (x, xh), tmp, opset_version=OPSET, input_names=["x", "xh"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}, "xh": {0: "batch"}, "y": {0: "batch"}})
        m = onnx.load(tmp)
    # Pin the output's static dims in case the exporter lost them.
    dims = m.graph.output[0].type.tensor_type.shape.dim
    for d, v in zip(dims[1:], (h, len(QUANTILES))):
        d.Clear()
        d.dim_value = v
    onnx.helper.set_model_props(m, metadata_props(c))
    onnx.checker.check_model(m)
    onnx.save(m, path)


def vector_origins(tr, window: int):
    """A few origins inside the training part, plus one with a short history."""
    end = tr.split(dataset.TEST_FRACTION)
    return [o for o in ((2 * end) // 3, end - 1) if o > window] + [window // 2 + 3]


@torch.no_grad()
def test_vectors(model, c: dict, traces, max_series: int = 3) -> list[dict]:
    w, h = c["window"], c["horizon_steps"]
    out = []
    for tr in traces[:max_series]:
        need = w + features.lag_steps(features.WEEK, tr.step) + 1
        for o in vector_origins(tr, w):
            lo = max(0, o - need)
            vals = tr.values[lo:o]
            t0 = tr.t0 + lo * tr.step
            enc, dec, loc, scale, cnt = features.build(vals, t0, tr.step, np.array([len(vals)]), w, h)
            if cnt[0] < c["min_history"]:
                continue
            y = model(torch.from_numpy(enc), torch.from_numpy(dec)).numpy()
            out.append({
                "id": f"{tr.name}@{o}", "start": int(t0), "step_seconds": tr.step,
                "values": [None if not math.isfinite(v) else float(v) for v in vals],
                "loc": float(loc[0]), "scale": float(scale[0]),
                "y": y[0].astype(float).round(7).tolist(),
                "forecast": features.unscale(y, loc, scale)[0].astype(float).tolist(),
            })
    return out


def write_model_dir(out: str, model, args, traces, info, metrics) -> dict:
    c = card(model, args, traces, info, metrics)
    os.makedirs(out, exist_ok=True)
    export_onnx(model, c, os.path.join(out, "model.onnx"))
    # The PyTorch weights, for training/evaluate.py and bench_torch.py.
    torch.save(model.state_dict(), os.path.join(out, "weights.pt"))
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    picked = [tr for tr in traces if len(tr.values) > c["window"] * 2]
    # Prefer short steps first: they exercise both seasonal lags.
    picked.sort(key=lambda t: (t.step > 3600, len(t.values) > 30000, t.name))
    with open(os.path.join(out, "testvectors.json"), "w") as f:
        json.dump({"window": c["window"], "horizon_steps": c["horizon_steps"],
                   "vectors": test_vectors(model, c, picked)}, f)
    return c
