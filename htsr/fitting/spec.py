"""What a power-law fit fixes, scans and how: :class:`FitSpec`, built and checked once.

:func:`spec_from_options` turns the keyword options of :func:`htsr.fit` and
:func:`htsr.fit_many` into a checked :class:`FitSpec` (or checks a replayed
one); :meth:`FitSpec.for_sample` settles what depends on the data
(``discrete="auto"``).  Every fitting path reads the spec's fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from ..data import check_bool, check_choice, check_int, check_interval, check_number
from ..errors import FitError

__all__ = ["FitSpec", "spec_from_options"]

METHODS = ("clauset", "bounded")
ESTIMATORS = ("mle", "unbiased")
XMAX_RULES = ("max", "fixed", "search")


@dataclass(frozen=True)
class FitSpec:
    """What a power-law fit fixed, what it scanned and how: everything needed to replay it.

    Every :class:`PowerLawFit` carries its spec; :func:`htsr.fit`, :func:`htsr.fit_many`,
    :func:`htsr.gof`, :func:`htsr.bootstrap` and the calibration studies accept
    ``spec=`` to make a fit the same way again (on other data, or on resamples).

    Attributes
    ----------
    method : {"clauset", "bounded"}
    discrete : bool
        (``"auto"`` only in a spec built from options, before a sample settles it.)
    estimator : {"mle", "unbiased"}
    xmin : float or None
        A fixed start of the tail; None when xmin was chosen by the KS scan.
    xmax : float or None
        Bounded fits: a fixed upper end; None when it is each sample's largest value.
    xmax_rule : {"max", "fixed", "search"} or None
        Bounded fits: how xmax is set (a Deluca-Corral search fixes both ends it found:
        ``xmin`` and ``xmax`` with rule ``"fixed"``); None for the unbounded law.
    xmin_range, xmin_candidates, min_tail
        Restrictions of the xmin scan (None: unrestricted).
    alpha_grid : tuple or None
        Discrete clauset fits on ``plfit.m``'s alpha grid (None: exact MLE).
    exhaustive : bool
        Scan without pruning (same answer; for verification).
    """

    method: str = "clauset"
    discrete: bool = False
    estimator: str = "mle"
    xmin: float | None = None
    xmax: float | None = None
    xmax_rule: str | None = None
    xmin_range: tuple | None = None
    xmin_candidates: tuple | None = None
    min_tail: int | None = None
    alpha_grid: tuple | None = None
    exhaustive: bool = False

    @property
    def fixed_xmin(self) -> bool:
        """Whether xmin was given rather than scanned."""
        return self.xmin is not None

    @property
    def bounded(self) -> bool:
        return self.method == "bounded"

    @property
    def conditional(self) -> bool:
        """Whether alpha is the MLE given the tail's largest point (continuous, xmax = the maximum)."""
        return self.bounded and self.xmax_rule == "max" and not self.discrete

    def replace(self, **changes) -> FitSpec:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    def checked(self, *, allow_auto: bool = True) -> FitSpec:
        """This spec validated and normalised (tuples of floats, the bounded law's xmax rule);
        raises :class:`~htsr.errors.FitError` naming the offending field."""
        discrete = _check_discrete(self.discrete, allow_auto=allow_auto)
        check_choice(self.method, "method", METHODS, error=FitError)
        check_choice(self.estimator, "estimator", ESTIMATORS, error=FitError)
        if self.estimator == "unbiased" and discrete is True:
            raise FitError("estimator='unbiased' is defined for the continuous power law only")
        xmax, rule = _check_xmax(self.method, self.xmax, self.xmax_rule)
        if self.min_tail is not None:
            check_int(self.min_tail, "min_tail", minimum=2, error=FitError)
        xmin_range = None
        if self.xmin_range is not None:
            xmin_range = tuple(float(v) for v in check_interval(self.xmin_range, "xmin_range", error=FitError))
        grid = _check_alpha_grid(self.alpha_grid)
        if grid is not None and discrete != "auto" and (self.method != "clauset" or not discrete):
            raise FitError("alpha_grid applies to the discrete power law with method='clauset' only "
                           f"(got method={self.method!r}, discrete={discrete})")
        xmin = check_number(self.xmin, "xmin", positive=True, allow_none=True, error=FitError)
        return FitSpec(
            method=self.method, discrete=discrete, estimator=self.estimator, xmin=xmin, xmax=xmax,
            xmax_rule=rule, xmin_range=xmin_range, xmin_candidates=_check_candidates(self.xmin_candidates),
            min_tail=None if self.min_tail is None else int(self.min_tail), alpha_grid=grid,
            exhaustive=check_bool(self.exhaustive, "exhaustive", error=FitError),
        )

    def for_sample(self, x) -> FitSpec:
        """The spec for the sorted sample ``x``: ``discrete="auto"`` settled (discrete
        when every value is an integer) and the options that need a discrete or
        continuous law checked against it."""
        discrete = bool(np.all(x == np.round(x))) if self.discrete == "auto" else bool(self.discrete)
        spec = self if discrete is self.discrete else replace(self, discrete=discrete)
        if discrete and self.estimator == "unbiased":
            raise FitError("estimator='unbiased' is defined for the continuous power law only")
        if self.alpha_grid is not None and (self.method != "clauset" or not discrete):
            raise FitError("alpha_grid applies to the discrete power law with method='clauset' only "
                           f"(got method={self.method!r}, discrete={discrete})")
        return spec


_DEFAULT = {f.name: f.default for f in fields(FitSpec)}


def spec_from_options(options: dict, *, spec: FitSpec | None = None, allow_auto: bool = True) -> FitSpec:
    """The checked :class:`FitSpec` of :func:`htsr.fit`'s keyword ``options`` (names of
    FitSpec fields; ``xmax`` may be ``"search"``), or of the replayed ``spec``, in
    which case every option must be at its default."""
    if spec is not None:
        if not isinstance(spec, FitSpec):
            raise FitError(f"spec must be a FitSpec (the .spec of a PowerLawFit), got {spec!r:.80}")
        clash = [k for k, v in options.items() if not _is_default(v, _DEFAULT[k])]
        if clash:
            raise FitError(f"pass either spec or fit options, not both (got spec and {', '.join(clash)})")
        return spec.checked(allow_auto=allow_auto)
    options = dict(options)
    xmax = options.pop("xmax", None)
    if isinstance(xmax, str):
        if xmax != "search" or options.get("method") != "bounded":
            options["xmax"] = xmax  # refused by the check below, with the reason
        else:
            options["xmax_rule"] = "search"
    elif xmax is not None:
        options["xmax"] = xmax
    return FitSpec(**options).checked(allow_auto=allow_auto)


def _is_default(value, default) -> bool:
    return value is default or (isinstance(value, (bool, str)) and value == default)


def _check_discrete(discrete, *, allow_auto: bool):
    if isinstance(discrete, (bool, np.bool_)):
        return bool(discrete)
    if allow_auto and isinstance(discrete, str) and discrete == "auto":
        return "auto"
    allowed = "True, False or 'auto'" if allow_auto else "True or False"
    raise FitError(f"discrete must be {allowed}, got {discrete!r}")


def _check_xmax(method, xmax, rule):
    """(xmax, rule) of a spec: a rule for the bounded law, none for the unbounded one."""
    if method == "clauset":
        if xmax is not None or rule is not None:
            raise FitError("method='clauset' fits the unbounded power law and has no xmax; "
                           "an xmax-aware fit is method='bounded'")
        return None, None
    if isinstance(xmax, str):
        raise FitError(f"xmax must be a number, None or 'search', got {xmax!r}")
    if rule is None:
        rule = "max" if xmax is None else "fixed"
    check_choice(rule, "xmax_rule", XMAX_RULES, error=FitError)
    if rule == "fixed":
        if xmax is None:
            raise FitError("xmax_rule='fixed' needs an xmax")
        return check_number(xmax, "xmax", positive=True, error=FitError), rule
    if xmax is not None:
        raise FitError(f"xmax_rule={rule!r} takes no xmax (got xmax={xmax!r})")
    return None, rule


def _check_candidates(xmin_candidates):
    if xmin_candidates is None:
        return None
    try:
        v = np.asarray(xmin_candidates, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise FitError(f"xmin_candidates must be a sequence of numbers, got {xmin_candidates!r}") from None
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise FitError("xmin_candidates must be a non-empty sequence of finite numbers")
    return tuple(float(a) for a in v)


def _check_alpha_grid(alpha_grid):
    """None, "plfit" (``plfit.m``'s grid) or an increasing 1-D sequence of values > 1, as a tuple."""
    if alpha_grid is None:
        return None
    bad = f"alpha_grid must be None, 'plfit' or an increasing sequence of values > 1, got {alpha_grid!r:.80}"
    if isinstance(alpha_grid, str):
        if alpha_grid == "plfit":
            from ..models.powerlaw import PLFIT_ALPHA_GRID

            return PLFIT_ALPHA_GRID
        raise FitError(bad)
    try:
        g = np.asarray(alpha_grid, dtype=np.float64)
    except (TypeError, ValueError):
        raise FitError(bad) from None
    if g.ndim != 1 or g.size == 0:
        raise FitError(f"alpha_grid must be a non-empty 1-D sequence, got shape {g.shape}")
    if not np.all(np.isfinite(g)) or np.any(g <= 1):
        raise FitError("alpha_grid values must be finite and > 1 (the discrete power law needs alpha > 1)")
    if np.any(np.diff(g) <= 0):
        raise FitError("alpha_grid must be strictly increasing")
    return tuple(float(v) for v in g)
