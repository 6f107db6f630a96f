#!/usr/bin/env python3
"""What a trace's cost target allows, whatever the forecaster.

Reads `shadowscale backtest --series FILE.csv` (with the oracle and
reactive policies) and sizes a clairvoyant smooth policy: at every minute
ceil(k x the actual demand's centred W-minute mean / capacity) instances,
so it knows the level of the next W/2 minutes exactly but not the
minute-to-minute spikes the oracle also knows. For each k it prints the
instance-hours vs the oracle's and the under-provisioned minutes (demand
above the instances' capacity: a lower bound on SLO violations) as a share
of reactive's violation minutes. A forecast-driven policy knows less than
this one, so where the cheapest k within a violation target costs more
than a cost target, no forecaster meets both.

usage: backtest-bound.py SERIES.csv CAPACITY [--window 60] [--target 0.25]
"""
import argparse
import csv
import math


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "oracle_instances" not in rows[0] or "reactive_violated" not in rows[0]:
        raise SystemExit(f"{path}: want a --series CSV with the oracle and reactive policies")
    demand = [float(r["demand"]) for r in rows]
    oracle = sum(int(r["oracle_instances"]) for r in rows)
    reactive = sum(int(r["reactive_violated"]) for r in rows)
    return demand, oracle, reactive


def centred_means(v, w):
    pre = [0.0]
    for x in v:
        pre.append(pre[-1] + x)
    n = len(v)
    out = []
    for i in range(n):
        a, b = max(0, i - w // 2), min(n, i + w // 2 + 1)
        out.append((pre[b] - pre[a]) / (b - a))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("series")
    ap.add_argument("capacity", type=float, help="requests/s per instance (the report's capacity_per_instance)")
    ap.add_argument("--window", type=int, default=60, help="minutes of the centred mean (default 60)")
    ap.add_argument("--target", type=float, default=0.25, help="violation target as a share of reactive's")
    a = ap.parse_args()
    if a.capacity <= 0 or a.window < 1:
        raise SystemExit("capacity must be positive and --window at least 1")
    demand, oracle, reactive = load(a.series)
    mean = centred_means(demand, a.window)
    best = None
    print(f"reactive violation minutes {reactive}; target {a.target:.0%} = {a.target * reactive:.0f}")
    for k in [1 + 0.1 * i for i in range(31)]:
        n = [max(1, math.ceil(m * k / a.capacity - 1e-9)) for m in mean]
        under = sum(1 for d, c in zip(demand, n) if d > c * a.capacity)
        cost = sum(n) / oracle
        print(f"k {k:.1f}  cost {cost:.3f} x oracle  under-provisioned {under:6d} min ({under / max(reactive, 1):.1%} of reactive)")
        if best is None and under <= a.target * reactive:
            best = (k, cost)
    if best:
        print(f"cheapest within the target: k {best[0]:.1f} at {best[1]:.3f} x the oracle's instance-hours")
    else:
        print("no k up to 4 meets the target")


if __name__ == "__main__":
    main()
