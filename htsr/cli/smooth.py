"""``htsr smooth``: SVD smoothing of a safetensors file (WeightWatcher's SVDSmoothing).

    htsr smooth model.safetensors --out smoothed.safetensors                 # each layer keeps its fitted tail
    htsr smooth model.safetensors --out smoothed.safetensors --keep 0.5      # half of each layer's components
    htsr smooth model.safetensors --out smoothed.safetensors --keep 32 --layers "encoder.*"

Each selected layer keeps its top singular components: its power-law tail's n_tail (default),
the report's detX_num (--keep detX, WeightWatcher's default), a fraction of its min(N, M) components (a number with a decimal point, in (0, 1]), or a count (an
integer).  The new file has the source's header byte for byte (names, dtypes, shapes, metadata);
tensors not smoothed are copied byte for byte.  The source is never overwritten.
"""

from __future__ import annotations

import argparse

from ._common import plain_help, to_json


def _keep(text: str):
    if text in ("tail", "detX", "spikes"):
        return text
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: 'tail', 'detX', 'spikes', a fraction such as 0.5, or a count such as 32") from None


def add_parser(sub) -> None:
    p = sub.add_parser("smooth", help="keep each layer's top singular components; write a new safetensors file",
                       description=plain_help(__doc__.split("\n\n")[0]))
    p.add_argument("source", metavar="MODEL", help="a .safetensors file")
    p.add_argument("--out", metavar="NEW", required=True, help="the new .safetensors file (not MODEL)")
    p.add_argument("--keep", type=_keep, default="tail", metavar="tail|detX|spikes|FRACTION|COUNT",
                   help="components each layer keeps: its fitted tail's n_tail (tail, default), the report's "
                        "detX_num (detX, WeightWatcher's default) or num_spikes (spikes), a fraction of "
                        "min(N, M) such as 0.5, or a count such as 32 (a convolution: per kernel position, "
                        "the count divided among them as WeightWatcher does)")
    p.add_argument("--layers", metavar="PATTERN", action="append",
                   help="only these tensors: glob or exact name (repeatable; regular expressions with --regex)")
    p.add_argument("--exclude", metavar="PATTERN", action="append", help="leave these tensors out (repeatable)")
    p.add_argument("--regex", action="store_true", help="--layers/--exclude are regular expressions")
    p.add_argument("--kinds", metavar="K,K", help="kinds to smooth (default dense,embedding,conv1d,conv2d)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import weights as hw
    from ..report.smooth import smooth

    kinds = hw.MATRIX_KINDS if args.kinds is None else tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    res = smooth(args.source, args.out, keep=args.keep, layers=args.layers, exclude=args.exclude,
                 regex=args.regex, kinds=kinds)
    if args.json:
        print(to_json(res.to_dict()))
        return 0
    rows = [(r.name, "x".join(map(str, r.shape)), r.dtype, f"{r.kept}/{r.M}" + (f" x{r.n_slices}" if r.n_slices > 1
            else ""), f"{r.energy_kept:.3f}") for r in res.layers]
    if rows:
        head = ("layer", "shape", "dtype", "kept", "energy kept")
        widths = [max(len(str(x[i])) for x in (head, *rows)) for i in range(len(head))]
        for x in (head, *rows):
            print("  ".join(f"{v:<{w}}" for v, w in zip(x, widths)).rstrip())
    for name, why in res.unchanged:
        print(f"unchanged: {name} ({why})")
    print(f"wrote {res.out}: {len(res.layers)} of {res.n_tensors} tensors smoothed (keep={res.keep}), "
          "the others byte for byte")
    return 0
