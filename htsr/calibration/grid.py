"""The grid of a calibration study: generator, its parameter, sizes, estimators, replicates.

A study is the product of its *cell* coordinates -- ``(alpha, n)`` for power-law
samples, ``(mu, M, Q)`` for heavy-tailed matrices, ``(M, Q)`` for Gaussian ones --
times the estimators and the replicates.  A cell is the unit of work (one task on
a Dask cluster) and of storage (an interrupted study resumes cell by cell).

Randomness is keyed by coordinates, never by order: replicate ``r`` of a cell
draws from ``fold_in(fold_in(PRNGKey(seed), tag), r)``
(:func:`htsr.models.sampling.replicate_keys`) with ``tag`` a 31-bit digest
(SHA-256) of the generator name and the cell's coordinates.  The same seed gives
the same numbers in any schedule, on any number of workers, and replicate ``r``
does not depend on how many replicates the study has.
"""

from __future__ import annotations

import hashlib
import itertools
import numbers
from dataclasses import dataclass

import numpy as np

from ..data import check_int, check_level, check_number, check_seed
from ..errors import HtsrError

__all__ = ["Grid", "GENERATORS", "ESTIMATORS", "make_grid", "cell_tag"]

# generator -> (its parameter or None, size dimensions)
GENERATORS = {
    "power_law": ("alpha", ("n",)),
    "pareto": ("mu", ("M", "Q")),
    "student_t": ("mu", ("M", "Q")),
    "gaussian": (None, ("M", "Q")),
}
ESTIMATORS = ("clauset", "unbiased", "bounded", "bayes")
_DEFAULT_SIZES = {"n": (1000,), "M": (1000,), "Q": (2.0,)}


@dataclass(frozen=True)
class Grid:
    """What a study computes (validated; hashable and picklable, sent to Dask workers).

    Attributes
    ----------
    generator : str
        ``"power_law"`` (samples of a continuous power law, density exponent
        ``alpha``, xmin 1, size ``n``), ``"pareto"`` or ``"student_t"`` (``N x M``
        matrices with i.i.d. entries of tail index ``mu``, ``N = round(Q M)``:
        :func:`htsr.rmt.pareto`, :func:`htsr.rmt.student_t`) or ``"gaussian"``
        (:func:`htsr.rmt.gaussian`, no parameter).
    param : str or None
        ``"alpha"``, ``"mu"`` or None.
    values : tuple of float
        The parameter's values (empty for ``gaussian``).
    sizes : tuple of (name, values)
        ``(("n", ...),)`` or ``(("M", ...), ("Q", ...))``.
    estimators : tuple of str
        Any of :data:`ESTIMATORS`, in the order given.
    reps, seed : int
    min_tail : int or None
        Passed to the xmin scan (``None``: the scan's default).
    level : float
        Coverage of the Wald intervals ``alpha +- z sigma`` (clauset, unbiased,
        bounded) and of the Bayesian highest-density interval.
    """

    generator: str
    param: str | None
    values: tuple
    sizes: tuple
    estimators: tuple
    reps: int
    seed: int
    min_tail: int | None = None
    level: float = 0.95

    @property
    def dims(self) -> tuple[str, ...]:
        """The cell dimensions, in order."""
        return ((self.param,) if self.param else ()) + tuple(name for name, _ in self.sizes)

    @property
    def coords(self) -> dict:
        out = {self.param: np.asarray(self.values, dtype=np.float64)} if self.param else {}
        for name, vals in self.sizes:
            out[name] = np.asarray(vals, dtype=np.int64 if name in ("n", "M") else np.float64)
        return out

    def cells(self) -> list[dict]:
        """Every cell's coordinates, as dicts ``{dim: value}``, in grid order."""
        axes = [[(d, v) for v in vals] for d, vals in self.coords.items()]
        return [dict((d, v.item()) for d, v in combo) for combo in itertools.product(*axes)]

    def index(self, cell: dict) -> tuple[int, ...]:
        """Position of a cell in the grid's arrays."""
        return tuple(int(np.flatnonzero(self.coords[d] == cell[d])[0]) for d in self.dims)

    def attrs(self) -> dict:
        """The grid as netCDF-safe attributes (what a stored study must match to resume)."""
        return {
            "generator": self.generator,
            "seed": int(self.seed),
            "reps": int(self.reps),
            "estimators": ",".join(self.estimators),
            "min_tail": -1 if self.min_tail is None else int(self.min_tail),
            "level": float(self.level),
        }


def cell_tag(generator: str, cell: dict) -> int:
    """31-bit digest of a generator and a cell's coordinates (the cell's PRNG stream)."""
    parts = [generator] + [f"{d}={_canonical(v)}" for d, v in cell.items()]
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def _canonical(v) -> str:
    if isinstance(v, numbers.Integral):
        return str(int(v))
    return repr(round(float(v), 10))


def _values(value, name: str, *, integer: bool, minimum: float, strict: bool, why: str = "") -> tuple:
    """A scalar or a sequence -> a non-empty tuple of distinct numbers, each checked."""
    if isinstance(value, (str, bytes)):
        raise HtsrError(f"{name} must be a number or a sequence of numbers, got {value!r}")
    vals = list(np.atleast_1d(np.asarray(value, dtype=object)).ravel()) if value is not None else []
    if not vals:
        raise HtsrError(f"{name} is empty: give at least one value")
    out = []
    for v in vals:
        if integer:
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            v = check_int(v, name, minimum=int(minimum))
        else:
            v = round(check_number(v, name), 10)
            if v < minimum or (strict and v == minimum):
                op = ">" if strict else ">="
                raise HtsrError(f"{name} must be {op} {minimum:g}{why}, got {v:g}")
        out.append(v)
    if len(set(out)) != len(out):
        raise HtsrError(f"{name} has repeated values: {out}")
    return tuple(out)


def make_grid(generator, *, mu=None, alpha=None, M=None, Q=None, n=None, estimators=("clauset", "bounded"),
              reps=20, seed=0, min_tail=None, level=0.95) -> Grid:
    """Validate the arguments of :func:`htsr.calibrate` into a :class:`Grid`."""
    if not isinstance(generator, str) or generator not in GENERATORS:
        raise HtsrError(f"generator must be one of {', '.join(GENERATORS)}, got {generator!r}")
    param, size_dims = GENERATORS[generator]
    given = {"mu": mu, "alpha": alpha, "M": M, "Q": Q, "n": n}
    wrong = [k for k, v in given.items() if v is not None and k != param and k not in size_dims]
    if wrong:
        takes = ", ".join(([param] if param else []) + list(size_dims))
        raise HtsrError(f"generator {generator!r} takes {takes}; it has no {', '.join(wrong)}")
    if param == "alpha":
        if alpha is None:
            raise HtsrError("generator 'power_law' needs alpha (the density exponent, > 1)")
        values = _values(alpha, "alpha", integer=False, minimum=1.0, strict=True)
    elif param == "mu":
        if mu is None:
            raise HtsrError(f"generator {generator!r} needs mu (the entries' tail index, > 0)")
        values = _values(mu, "mu", integer=False, minimum=0.0, strict=True)
    else:
        values = ()
    sizes = []
    for d in size_dims:
        v = given[d] if given[d] is not None else _DEFAULT_SIZES[d]
        if d == "Q":
            sizes.append((d, _values(v, "Q", integer=False, minimum=1.0, strict=False,
                                     why=" (Q = N/M with N >= M)")))
        else:
            sizes.append((d, _values(v, d, integer=True, minimum=2 if d == "M" else 10, strict=False)))
    if isinstance(estimators, str):
        estimators = (estimators,)
    try:
        estimators = tuple(estimators)
    except TypeError:
        raise HtsrError(f"estimators must be a sequence of names, got {estimators!r}") from None
    if not estimators:
        raise HtsrError(f"estimators is empty: choose from {', '.join(ESTIMATORS)}")
    for e in estimators:
        if e not in ESTIMATORS:
            raise HtsrError(f"estimators: unknown estimator {e!r}; choose from {', '.join(ESTIMATORS)}")
    if len(set(estimators)) != len(estimators):
        raise HtsrError(f"estimators has repeated names: {estimators}")
    reps = check_int(reps, "reps", minimum=1)
    seed = check_seed(seed)
    if min_tail is not None:
        min_tail = check_int(min_tail, "min_tail", minimum=2)
    level = check_level(level)
    return Grid(generator, param, values, tuple(sizes), estimators, reps, seed, min_tail, level)
