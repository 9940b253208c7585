"""htsr's MP bulk columns and detX against WeightWatcher 0.7.7's own code, layer by layer, on MiniLM.

Both read the same eigenvalues (the squared singular values of each dense layer).
WeightWatcher's ``mp_fit`` (its brute-force KDE fit of sigma, its spike margin) and
``detX_constraint`` run on them as its ``analyze(mp_fit=True, detX=True)`` would;
htsr's numbers are ``htsr.report.metrics.spectrum_metrics``.  docs/report.md
("The Marchenko-Pastur bulk and detX") quotes the summary lines.

    python3 benchmarks/ww_mp_detx.py
"""

from __future__ import annotations

import logging
import sys

import numpy as np

import htsr
import htsr.weights as hw
from htsr.report.metrics import spectrum_metrics


def main() -> int:
    logging.disable(logging.WARNING)
    from weightwatcher import WeightWatcher
    from weightwatcher.RMT_Util import detX_constraint, rescale_eigenvalues

    ww = WeightWatcher()
    path = hw.example_path("minilm")
    rows = []
    for t in hw.load(path):
        if t.kind != "dense":
            continue
        W = t.array.astype(np.float64)
        N, M = max(W.shape), min(W.shape)
        ev = np.sort(htsr.rmt.esd(W, normalize=False))
        m = spectrum_metrics(ev, N, N / M)
        ns, sigma, softrank, _, bmax, _ = ww.mp_fit(ev, N, M, 1, t.name, 0, 0, False, False, "", "b", 0.5, True, ev)
        n, i = detX_constraint(rescale_eigenvalues(ev)[0], rescale=False)
        rows.append((t.name, N / M, m["sigma_mp"], sigma, m["num_spikes"], ns, m["detX_num"], n,
                     m["detX_val"] / ev[i] - 1))
    print("| layer | Q | sigma_mp htsr | sigma_mp WW | num_spikes htsr | num_spikes WW | detX_num htsr | WW |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:g} | {r[2]:.4f} | {r[3]:.4f} | {r[4]} | {r[5]} | {r[6]} | {r[7]} |")
    q4 = [r for r in rows if r[1] > 1]
    q1 = [r for r in rows if r[1] == 1]
    rel = np.array([abs(r[2] / r[3] - 1) for r in q4])
    print(f"\nQ > 1 ({len(q4)} layers): |sigma_mp htsr / WW - 1| median {np.median(rel):.3f}, max {rel.max():.3f}; "
          f"num_spikes htsr - WW from {min(r[4] - r[5] for r in q4)} to {max(r[4] - r[5] for r in q4)}")
    print(f"Q = 1 ({len(q1)} layers): WW sigma_mp from {min(r[3] for r in q1):.4f} to {max(r[3] for r in q1):.4f}; "
          f"htsr from {min(r[2] for r in q1):.4f} to {max(r[2] for r in q1):.4f}")
    same = sum(r[6] == r[7] for r in rows)
    print(f"detX_num equal on {same} of {len(rows)} layers; detX_val max relative difference "
          f"{max(abs(r[8]) for r in rows):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
