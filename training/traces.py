"""Trace CSVs (DESIGN.md 3.1) read into a regular grid, the same way the Go
side does: step = median spacing, duplicates keep the last row, missing = NaN."""
from __future__ import annotations

import csv
import hashlib
import math
import os
from dataclasses import dataclass
from datetime import datetime

import numpy as np


@dataclass
class Trace:
    name: str
    t0: int  # unix seconds of values[0]
    step: int  # seconds
    values: np.ndarray  # float64, NaN = missing
    sha256: str = ""

    def split(self, frac: float) -> int:
        """Index of the first point of the last `frac` of the trace."""
        return int(math.floor(len(self.values) * (1.0 - frac)))

    def head(self, n: int) -> "Trace":
        return Trace(self.name, self.t0, self.step, self.values[:n].copy(), self.sha256)


def _parse_time(s: str, where: str) -> int:
    s = s.strip()
    try:
        return int(float(s)) if s.replace(".", "", 1).isdigit() else int(
            datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())
    except ValueError as e:
        raise ValueError(f"{where}: bad timestamp {s!r}: {e}") from None


def read_csv(path: str) -> Trace:
    rows: dict[int, float] = {}
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r, None)
        if header is None or [h.strip() for h in header[:2]] != ["timestamp", "value"]:
            raise ValueError(f"{path}:1: header must be timestamp,value")
        for ln, row in enumerate(r, start=2):
            if not row:
                continue
            if len(row) < 2:
                raise ValueError(f"{path}:{ln}: want 2 columns, got {len(row)}")
            t = _parse_time(row[0], f"{path}:{ln}")
            v = row[1].strip()
            try:
                rows[t] = float(v) if v else math.nan
            except ValueError:
                raise ValueError(f"{path}:{ln}: bad value {v!r}") from None
    if len(rows) < 2:
        raise ValueError(f"{path}: need at least 2 rows")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    name = os.path.splitext(os.path.basename(path))[0]
    return regularize(name, rows, digest)


def regularize(name: str, rows: dict[int, float], digest: str = "") -> Trace:
    ts = np.array(sorted(rows), dtype=np.int64)
    step = int(np.sort(np.diff(ts))[(len(ts) - 1) // 2])  # the upper median, as the Go reader
    if step <= 0:
        raise ValueError(f"{name}: non-positive median step")
    t0 = int(ts[0])
    idx = np.floor((ts - t0) / step + 0.5).astype(np.int64)
    # Each row goes to its nearest slot; a slot with several rows takes
    # their mean, missing rows do not count (as metrics.Trace.Resample).
    sums = np.zeros(int(idx[-1]) + 1)
    cnt = np.zeros(len(sums))
    v = np.array([rows[int(t)] for t in ts])
    ok = np.isfinite(v)
    np.add.at(sums, idx[ok], v[ok])
    np.add.at(cnt, idx[ok], 1)
    values = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
    return Trace(name, t0, step, values, digest)


def load_dir(d: str) -> list[Trace]:
    names = sorted(n for n in os.listdir(d) if n.endswith(".csv"))
    return [read_csv(os.path.join(d, n)) for n in names]
