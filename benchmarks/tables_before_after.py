"""Dump every Table 6.1 fit and Table 6.2 comparison at full precision, to compare two versions:

    python3 benchmarks/tables_before_after.py new.json
    (cd OLD_CHECKOUT && PYTHONPATH=. python3 .../tables_before_after.py old.json)
"""
import json, sys, warnings
from pathlib import Path
import numpy as np, powerlaw
import htsr
warnings.simplefilter("ignore")
ref = Path(powerlaw.__file__).parent / "reference_data"
sets = {"words": ("words.txt", 1, True), "blackouts": ("blackouts.txt", 1e-3, False),
        "fires": ("fires.txt", 1, False), "flares": ("flares.txt", 1, False), "terrorism": ("terrorism.txt", 1, True),
        "cities": ("cities.txt", 1e-3, False), "surnames": ("surnames.txt", 1e-3, False)}
out = {}
for name, (f, scale, disc) in sets.items():
    p = ref / f
    if not p.exists():
        continue
    x = np.loadtxt(p) * scale
    r = htsr.fit(x, discrete=disc)
    out[name] = dict(alpha=r.alpha, xmin=r.xmin, n_tail=r.n_tail, D=r.D, sigma=r.sigma)
    df = htsr.compare_all(x, discrete=disc)
    for alt in df.index:
        out[name][alt] = [float(df.loc[alt, "R"]), float(df.loc[alt, "normalized_R"]), float(df.loc[alt, "p"])]
json.dump(out, open(sys.argv[1], "w"), indent=1)
print(len(out), "data sets")
