"""The grid of a calibration study: generator, its parameter, sizes, estimators, replicates.

A study is the product of its *cell* coordinates -- ``(alpha, n)`` for power-law
samples, ``(mu, M, Q)`` for heavy-tailed matrices, ``(M, Q)`` for Gaussian ones --
times the estimators and the replicates.  A cell is the unit of work (one task on
a Dask cluster) and of storage (an interrupted study resumes cell by cell).

Randomness is keyed by coordinates, never by order: replicate ``r`` of a cell
draws from ``fold_in(fold_in(PRNGKey(seed), word), r)``, the ``calibration``
stream of :mod:`htsr.streams`, with ``word`` a 31-bit digest
(SHA-256) of the generator name and the cell's coordinates (:func:`htsr.streams.cell_word`).  The same seed gives
the same numbers in any schedule, on any number of workers, and replicate ``r``
does not depend on how many replicates the study has.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..data import check_choice, check_int, check_level, check_number, check_ratio, check_seed, check_values
from ..errors import HtsrError

__all__ = ["Grid", "GENERATORS", "ESTIMATORS", "make_grid"]

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


def _coordinate(name: str, check=check_number, **bound):
    """The check of one coordinate value: a finite number, rounded to 10 decimals, then ``check``ed."""
    return lambda v: check(round(check_number(v, name), 10), name, **bound)


def make_grid(generator, *, mu=None, alpha=None, M=None, Q=None, n=None, estimators=("clauset", "bounded"),
              reps=20, seed=0, min_tail=None, level=0.95) -> Grid:
    """Validate the arguments of :func:`htsr.calibrate` into a :class:`Grid`."""
    check_choice(generator, "generator", tuple(GENERATORS))
    param, size_dims = GENERATORS[generator]
    given = {"mu": mu, "alpha": alpha, "M": M, "Q": Q, "n": n}
    wrong = [k for k, v in given.items() if v is not None and k != param and k not in size_dims]
    if wrong:
        takes = ", ".join(([param] if param else []) + list(size_dims))
        raise HtsrError(f"generator {generator!r} takes {takes}; it has no {', '.join(wrong)}")
    if param == "alpha":
        if alpha is None:
            raise HtsrError("generator 'power_law' needs alpha (the density exponent, > 1)")
        values = check_values(alpha, "alpha", _coordinate("alpha", above=1.0))
    elif param == "mu":
        if mu is None:
            raise HtsrError(f"generator {generator!r} needs mu (the entries' tail index, > 0)")
        values = check_values(mu, "mu", _coordinate("mu", above=0.0))
    else:
        values = ()
    sizes = []
    for d in size_dims:
        v = given[d] if given[d] is not None else _DEFAULT_SIZES[d]
        if d == "Q":
            check = _coordinate("Q", check_ratio)
        else:
            check = partial(check_int, name=d, minimum=2 if d == "M" else 10)
        sizes.append((d, check_values(v, d, check)))
    if isinstance(estimators, str):
        estimators = (estimators,)
    estimators = check_values(estimators, "estimators", partial(check_choice, name="estimators", choices=ESTIMATORS))
    reps = check_int(reps, "reps", minimum=1)
    seed = check_seed(seed)
    if min_tail is not None:
        min_tail = check_int(min_tail, "min_tail", minimum=2)
    level = check_level(level)
    return Grid(generator, param, values, tuple(sizes), estimators, reps, seed, min_tail, level)
