"""Train the global LSTM quantile forecaster and write the model directory.

    /usr/bin/python3 training/train.py --traces DIR --out models/lstm-1

Fixed seed, a progress bar per epoch and a loss log (loss.csv in the output
directory). The best epoch by validation pinball loss is exported."""
from __future__ import annotations

import argparse
import copy
import csv
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import calibrate  # noqa: E402
import dataset  # noqa: E402
import evaluate as evaluation  # noqa: E402
import export  # noqa: E402
from model import LSTMQuantile, load_weights, pinball  # noqa: E402
from traces import load_dir, read_csv  # noqa: E402
from tqdm import tqdm  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--traces", required=True, help="directory of trace CSVs (or one CSV)")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--name", default="lstm")
    p.add_argument("--version", default="1")
    p.add_argument("--window", type=int, default=48)
    p.add_argument("--horizon", type=int, default=30)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--mlp", type=int, default=64)
    p.add_argument("--residual", type=int, default=1, help="1: p50 is the last value plus a learned change")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--samples", type=int, default=3000, help="training windows per series per epoch")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--tail-weight", type=float, default=0.2,
                   help="loss weight of horizon steps beyond 30 minutes")
    p.add_argument("--coarsen", default="5,15,60", help="extra series: block means of k steps of 1-minute traces (\"\" = none)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (2 threads ran 15-50x slower than 1 on the shared 2-core machine)")
    p.add_argument("--max-seconds", type=float, default=780, help="stop starting epochs after this")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--init", default="", help="weights.pt to start from (fine-tuning; same architecture)")
    p.add_argument("--calibrate", type=int, default=1, help="1: fit the p10/p90 gap factors on the validation part")
    return p.parse_args(argv)


def series_set(traces, coarsen: list[int]):
    """The training series: every trace plus coarsened 1-minute traces. The
    coarsened copies are cut at the 80 % mark first, so no test point leaks."""
    out = list(traces)
    for tr in traces:
        for k in coarsen:
            if tr.step * k <= 3600 and tr.step < 300:
                out.append(dataset.coarsen(tr.head(tr.split(dataset.TEST_FRACTION)), k))
    return out


def batches(parts, rng, args, min_valid):
    xs, xhs, ys, ws = [], [], [], []
    for p in parts:
        s = dataset.draw(p, args.samples, rng, args.window, args.horizon, min_valid, args.tail_weight)
        if s is not None and len(s[0]):
            for lst, a in zip((xs, xhs, ys, ws), s):
                lst.append(a)
    x, xh, y, w = (torch.from_numpy(np.concatenate(a)) for a in (xs, xhs, ys, ws))
    perm = torch.from_numpy(rng.permutation(len(x)))
    for i in range(0, len(x), args.batch):
        j = perm[i:i + args.batch]
        yield x[j], xh[j], y[j], w[j]


def validation_sets(parts, args, min_valid):
    out = []
    for p in parts:
        stride = max(1, (p.hi - p.lo) // 400)
        s = dataset.all_origins(p, stride, args.window, args.horizon, min_valid, args.tail_weight)
        if s is not None and len(s[0]):
            out.append((p.trace.name, [torch.from_numpy(a) for a in s]))
    return out


@torch.no_grad()
def evaluate(model, vsets):
    model.eval()
    per = {name: float(pinball(model(x, xh), y, w)) for name, (x, xh, y, w) in vsets}
    model.train()
    return float(np.mean(list(per.values()))), per


def eval_like(model, vparts, args, cache):
    model.eval()
    score, per = evaluation.validation_score(model, vparts, args.window, args.horizon, cache)
    model.train()
    return score, per


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    traces = load_dir(args.traces) if os.path.isdir(args.traces) else [read_csv(args.traces)]
    coarsen = [int(k) for k in args.coarsen.split(",") if k.strip()]
    min_valid = max(1, args.window // 2)
    splits = [dataset.parts(tr, args.window) for tr in series_set(traces, coarsen)]
    train_parts = [s[0] for s in splits]
    vparts = [s[1] for s in splits if "@x" not in s[1].trace.name]
    vsets = validation_sets(vparts, args, min_valid)
    naive_cache = {}

    model = LSTMQuantile(args.hidden, args.mlp, residual=bool(args.residual))
    if args.init:
        # Fine-tuning the current model on recent production data.
        load_weights(model, args.init)
        model.gap_scale.fill_(1.0)  # trained raw, calibrated again at the end
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "loss.csv"), "w", newline="")
    logw = csv.writer(log)
    logw.writerow(["epoch", "train_pinball", "val_pinball", "val_log_pinball_vs_naive", "seconds"])
    best, best_state, best_epoch, history = float("inf"), None, -1, []
    start = time.time()
    for epoch in range(args.epochs):
        if time.time() - start > args.max_seconds:
            print(f"time budget reached after {epoch} epochs", file=sys.stderr)
            break
        tot, n = 0.0, 0
        bar = tqdm(list(batches(train_parts, rng, args, min_valid)), desc=f"epoch {epoch + 1}/{args.epochs}",
                   disable=args.quiet, file=sys.stderr)
        for x, xh, y, w in bar:
            loss = pinball(model(x, xh), y, w)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tot, n = tot + float(loss), n + 1
            bar.set_postfix(loss=f"{tot / n:.4f}")
        sched.step()
        val, _ = evaluate(model, vsets) if vsets else (tot / n, {})
        # Model selection uses the eval-like score: the z-space loss above
        # tracked the eval metrics poorly.
        score, per = eval_like(model, vparts, args, naive_cache) if vparts else (val, {})
        secs = time.time() - start
        logw.writerow([epoch + 1, f"{tot / n:.5f}", f"{val:.5f}", f"{score:.5f}", f"{secs:.1f}"])
        log.flush()
        print(f"epoch {epoch + 1}: train {tot / n:.4f} val {val:.4f} val-vs-naive {score:.4f} ({secs:.0f}s)",
              file=sys.stderr)
        history.append({"epoch": epoch + 1, "train_pinball": tot / n, "val_pinball": val,
                        "val_log_pinball_vs_naive": score})
        if score < best:
            best, best_state, best_epoch, best_per = score, copy.deepcopy(model.state_dict()), epoch + 1, per
    log.close()
    model.load_state_dict(best_state)
    model.eval()
    cal = {}
    if args.calibrate:
        # Every validation part, coarsened copies too (cut at 80 % as well).
        cal = calibrate.fit(model, validation_sets([s[1] for s in splits], args, min_valid))
        print(f"calibration: {cal['classes']}", file=sys.stderr)
    info = {
        "seed": args.seed, "epochs_run": len(history), "best_epoch": best_epoch,
        "seconds": round(time.time() - start, 1), "samples_per_series": args.samples,
        "batch": args.batch, "lr": args.lr, "tail_weight": args.tail_weight, "coarsen": coarsen,
        "loss_history": history, "calibration": cal,
    }
    metrics = {"validation_log_pinball_vs_naive": best, "validation_per_trace": best_per,
               "validation_note": "origins in the 70-80 % part of each trace, eval definitions "
                                  "(30-minute horizon); ratios to the naive forecast at the same origins"}
    export.write_model_dir(args.out, model, args, traces, info, metrics)
    print(f"wrote {args.out} (best epoch {best_epoch}, val log pinball vs naive {best:.4f})", file=sys.stderr)


if __name__ == "__main__":
    main()
