"""Regenerate the calibration table shipped in htsr/calibration/data/pareto_layers.nc.

    python3 benchmarks/make_calibration_table.py

Pareto matrices (htsr.rmt.pareto, symmetric, tail index mu) at the layer shapes
common in transformers: M in {384, 768} (the smaller side: MiniLM-L6 and
BERT-base widths) and Q = N/M in {1, 4} (square attention projections, 4x MLP layers),
mu from 0.5 to 5 by 0.25, 20 replicates per cell, the Clauset and bounded fits.
The layer report (htsr.report) uses it to say which mu a layer's alpha implies,
through htsr.calibration.invert.  Same seed, same file: the study is keyed by
coordinates (htsr/calibration/grid.py), so it resumes if interrupted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from htsr.calibration import TABLE_PATH, calibrate

GRID = dict(mu=[round(0.5 + 0.25 * k, 2) for k in range(19)], M=[384, 768], Q=[1, 4],
            reps=20, seed=2026, estimators=("clauset", "bounded"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=TABLE_PATH)
    args = ap.parse_args()
    t0 = time.time()
    ds = calibrate("pareto", **GRID, store=args.out, progress=True)
    print(f"{int(ds['done'].sum())} cells in {time.time() - t0:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
