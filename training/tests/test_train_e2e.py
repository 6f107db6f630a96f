import json
import math

import numpy as np
import onnx

import evaluate
import train


def write_trace(path, n=4 * 288, step=300):
    t0 = 1714953600
    with open(path, "w") as f:
        f.write("timestamp,value\n")
        for i in range(n):
            v = 100 + 50 * math.sin(2 * math.pi * i / 288) + 5 * math.sin(i)
            f.write(f"{t0 + i * step},{'' if i % 97 == 0 else round(v, 3)}\n")


def test_tiny_training_exports_a_loadable_model(tmp_path):
    trace = tmp_path / "tiny.csv"
    write_trace(trace)
    out = tmp_path / "tiny-0"
    train.main(["--traces", str(trace), "--out", str(out), "--name", "tiny", "--version", "0",
                "--window", "16", "--hidden", "8", "--mlp", "8", "--epochs", "2", "--samples", "64",
                "--coarsen", "", "--quiet"])
    card = json.loads((out / "model.json").read_text())
    m = onnx.load(str(out / "model.onnx"))
    meta = {p.key: json.loads(p.value) for p in m.metadata_props}
    assert meta == card
    assert card["window"] == 16 and card["horizon_steps"] == 30
    assert card["training_data"][0]["sha256"] and card["training_data"][0]["points_used"] == int(4 * 288 * 0.8)
    assert [i.name for i in m.graph.input] == ["x", "xh"]
    assert (out / "loss.csv").read_text().count("\n") == 3
    vectors = json.loads((out / "testvectors.json").read_text())["vectors"]
    assert vectors and all(np.array(v["forecast"]).shape == (30, 3) for v in vectors)
    # The Python evaluator runs the trained model with the eval definitions.
    rep = evaluate.evaluate_trace(evaluate.read_csv(str(trace)), evaluate.OnnxFreeLSTM(str(out)))
    assert rep["horizon_steps"] == 6
    assert {r["forecaster"] for r in rep["results"]} == {"naive", "seasonal-naive", "lstm"}


def test_eval_definitions():
    assert evaluate.horizon_steps(60) == 30 and evaluate.horizon_steps(300) == 6
    assert evaluate.horizon_steps(1800) == 1 and evaluate.horizon_steps(86400) == 1
    o = evaluate.origins(100, 6)
    assert o[0] == 80 and o[-1] == 94 and len(o) == 15
    assert len(evaluate.origins(100000, 30)) == 500
    v = np.array([1.0, 2.0, np.nan, 4.0, 8.0])
    assert evaluate.seasonal_scale(v, 1) == (1 + 4) / 2


def test_fine_tuning_starts_from_the_given_weights(tmp_path):
    trace = tmp_path / "tiny.csv"
    write_trace(trace)
    tiny = ["--traces", str(trace), "--name", "tiny", "--window", "16", "--hidden", "8", "--mlp", "8",
            "--samples", "32", "--coarsen", "", "--quiet"]
    base = tmp_path / "tiny-0"
    train.main(tiny + ["--out", str(base), "--version", "0", "--epochs", "1"])
    # Fine-tuning at learning rate 0: the exported weights are the initial ones.
    tuned = tmp_path / "tiny-1"
    train.main(tiny + ["--out", str(tuned), "--version", "1", "--epochs", "1", "--lr", "0",
                       "--init", str(base / "weights.pt")])
    import torch
    a, b = torch.load(base / "weights.pt"), torch.load(tuned / "weights.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
