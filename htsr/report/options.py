"""Typed, frozen options of :func:`htsr.report`: which layers, how to fit, how to judge.

Defaults follow WeightWatcher 0.7.7 where a WeightWatcher user would look for
them (``min_evals=8``, ``max_evals=15000``, ``max_n=50000``, eigenvalues at or
below ``1e-5`` left out of the fit, over-trained below alpha 2, under-trained
above 6); docs/report.md lists where htsr differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from .._device import platform as device_platform
from ..data import check_bool, check_choice, check_int, check_level, check_number, check_seed
from ..errors import HtsrError
from ..kinds import MATRIX_KINDS, check_kind

__all__ = ["Selection", "Thresholds", "LayerFitOptions", "IntervalSpec", "BayesSpec", "ReportSpec", "MATRIX_KINDS"]

_INTERVALS = ("bootstrap", "bayes")  # or None: no intervals
_CI = ("bca", "percentile")
#: Top eigenvectors measured by ``vectors=True``.
DEFAULT_VECTORS = 10


def _patterns(value, name) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, re.Pattern)):
        value = (value,)
    out = tuple(value)
    for v in out:
        if not isinstance(v, (str, re.Pattern)):
            raise HtsrError(f"{name} must be strings (globs, or regular expressions with regex=True), got {v!r}")
    return out


@dataclass(frozen=True)
class Selection:
    """Which tensors of a model get a row.

    Attributes
    ----------
    kinds : tuple of str
        Kinds from :func:`htsr.weights.classify` to report (default: every kind with a spectrum).
    layers : tuple of str
        Names to include: globs (``"encoder.layer.*.attention.*"``), or regular
        expressions searched in the name when ``regex`` is true; an entry without
        wildcards is an exact name, and asking by name for a tensor that has no
        spectrum (a bias) is an error.  Empty: every tensor of ``kinds``.
    exclude : tuple of str
        Names to leave out (same syntax).
    regex : bool
        Read ``layers``/``exclude`` as regular expressions.
    min_evals, max_evals : int
        Layers with fewer / more eigenvalues (``min(N, M)``) get a row with a
        warning and no fit (WeightWatcher skips them silently).
    max_n : int
        Cap on the larger side ``N`` (an embedding's vocabulary): larger tensors get
        a warning row and are not read.
    fused : {"split", "keep"}
        Fused projections (``c_attn``, ``query_key_value``, ``Wqkv``, ``qkv_proj``,
        ``gate_up_proj``): a row per part where ``config.json`` makes the split
        unambiguous (default), or one row for the fused tensor (docs/llm.md).
    """

    kinds: tuple[str, ...] = MATRIX_KINDS
    layers: tuple = ()
    exclude: tuple = ()
    regex: bool = False
    min_evals: int = 8
    max_evals: int = 15000
    max_n: int = 50000
    fused: str = "split"

    def __post_init__(self):
        kinds = (self.kinds,) if isinstance(self.kinds, str) else tuple(self.kinds)
        if not kinds:
            raise HtsrError(f"kinds is empty: choose from {', '.join(MATRIX_KINDS)}")
        for k in kinds:
            check_kind(k, "kinds")
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "layers", _patterns(self.layers, "layers"))
        object.__setattr__(self, "exclude", _patterns(self.exclude, "exclude"))
        check_int(self.min_evals, "min_evals", minimum=2)
        check_int(self.max_evals, "max_evals", minimum=2)
        check_int(self.max_n, "max_n", minimum=2)
        check_choice(self.fused, "fused", ("split", "keep"))
        if self.regex:
            for p in (*self.layers, *self.exclude):
                try:
                    re.compile(p)
                except re.error as exc:
                    raise HtsrError(f"layers pattern {p!r} is not a regular expression: {exc}") from None

    def _match(self, pattern, name: str) -> bool:
        if isinstance(pattern, re.Pattern):
            return pattern.search(name) is not None
        if self.regex:
            return re.search(pattern, name) is not None
        return name == pattern or fnmatchcase(name, pattern)  # "c_attn.weight[q]" names itself, not a glob class

    def exact_names(self) -> tuple[str, ...]:
        """Entries of ``layers`` that are plain names (no wildcard): asked for by name."""
        if self.regex:
            return ()
        return tuple(p for p in self.layers if isinstance(p, str) and not any(c in p for c in "*?["))

    def wants(self, name: str) -> bool:
        """Whether a row of this name is asked for.  A part of a stored tensor (an expert
        ``x.down_proj[3]``, a fused part ``x.c_attn.weight[q]``) also answers to the stored name."""
        stored = re.match(r"^(.+)\[[^\[\]]+\]$", name)
        names = (name, stored.group(1)) if stored else (name,)
        if self.layers and not any(self._match(p, n) for p in self.layers for n in names):
            return False
        return not any(self._match(p, n) for p in self.exclude for n in names)


@dataclass(frozen=True)
class Thresholds:
    """What a layer's alpha is judged against (docs/report.md, "Verdicts").

    Attributes
    ----------
    alpha_low, alpha_high : float
        Below ``alpha_low`` a layer is "over-trained" (WeightWatcher: 2), above
        ``alpha_high`` "under-trained" (6) -- said only when the whole interval is on that side.
    min_tail : int
        Fewer tail points than this: "tail too short to tell", whatever the estimate.
    finger_drop : float
        A finger is declared when removing up to ``max_fingers`` top eigenvalues lowers
        alpha by more than this (WeightWatcher's ``finger_thresh``, 1.0).
    max_fingers : int
        Top eigenvalues removed at most in that test (WeightWatcher: 10).
    """

    alpha_low: float = 2.0
    alpha_high: float = 6.0
    min_tail: int = 10
    finger_drop: float = 1.0
    max_fingers: int = 10

    def __post_init__(self):
        lo = check_number(self.alpha_low, "alpha_low")
        hi = check_number(self.alpha_high, "alpha_high")
        if not 1 < lo < hi:
            raise HtsrError(f"thresholds must satisfy 1 < alpha_low < alpha_high, got {lo} and {hi}")
        check_int(self.min_tail, "min_tail", minimum=2)
        check_number(self.finger_drop, "finger_drop", positive=True)
        check_int(self.max_fingers, "max_fingers", minimum=0)


@dataclass(frozen=True)
class LayerFitOptions:
    """How each layer's ESD is fitted (``ReportSpec.fit``; not ``htsr.FitSpec``, a fit's own record).

    Attributes
    ----------
    normalize : bool
        ``False`` (default): WeightWatcher's eigenvalues, the squared singular values,
        so xmin, lambda_max and the norms read as in WeightWatcher; ``True``: ``/ N``
        (the htsr.rmt convention).  Alpha does not depend on it.
    evals_threshold : float
        Eigenvalues at or below it (in the units above) are left out of the fit
        (WeightWatcher's ``EVALS_THRESH = 1e-5``); they still count in the norms.
    bounded : bool
        Also fit the power law bounded at lambda_max (``method="bounded"``).
    gof : bool
        Clauset's goodness-of-fit p-value per layer (``gof_reps`` synthetic sets).
    tpl : bool
        Also fit the truncated power law to each Clauset tail and test the power law
        against it (``tpl_*`` columns, :mod:`htsr.report.tpl`; WeightWatcher's ``fit='TPL'``).
    randomize : bool
        Also take the ESD of an element-wise random permutation of each layer's W, fit its
        Marchenko-Pastur bulk and locate its correlation traps (``num_traps``, ``rand_*``,
        ``trap_entries``; :mod:`htsr.report.diagnostics`).  Reads each such layer whole.
    vectors : int
        How many top eigenvectors to measure (``n_vectors``, ``loc_ratio``, ``part_ratio``,
        ``vec_entropy``); 0: none.  ``True`` means :data:`DEFAULT_VECTORS`.
    seed : int
        The report's seed: the permutations of ``randomize`` come from the ``randomize``
        stream under ``htsr.streams.layer_seed(seed, name)``.
    device : {"auto", "gpu", "cpu"}
        Where the Grams, eigensolves, fits and bootstraps run (:mod:`htsr._device`),
        resolved when the options are made: ``"auto"`` becomes ``"gpu"`` when JAX sees
        a GPU, else ``"cpu"``, so the recorded value is where the report ran.
    """

    normalize: bool = False
    evals_threshold: float = 1e-5
    bounded: bool = True
    gof: bool = False
    gof_reps: int = 200
    tpl: bool = False
    randomize: bool = False
    vectors: int = 0
    seed: int = 0
    device: str = "auto"

    def __post_init__(self):
        check_number(self.evals_threshold, "evals_threshold", minimum=0)
        check_int(self.gof_reps, "gof_reps", minimum=1)
        object.__setattr__(self, "tpl", check_bool(self.tpl, "tpl"))
        object.__setattr__(self, "randomize", check_bool(self.randomize, "randomize"))
        vectors = DEFAULT_VECTORS if self.vectors is True else 0 if self.vectors is False else self.vectors
        object.__setattr__(self, "vectors", check_int(vectors, "vectors", minimum=0))
        check_seed(self.seed)
        object.__setattr__(self, "device", device_platform(self.device))


@dataclass(frozen=True)
class IntervalSpec:
    """Uncertainty of alpha.

    Attributes
    ----------
    method : {"bootstrap", "bayes", None}
        ``"bootstrap"``: nonparametric bootstrap of the whole fit (xmin rescanned in
        every resample), batched over layers; ``"bayes"``: the posterior of
        ``htsr.bayes.fit_many(..., hierarchical=True)``; None: no intervals.
    reps : int
        Bootstrap resamples per layer.
    level : float
        Confidence (or credible) level.
    ci : {"bca", "percentile"}
        Which bootstrap interval goes into ``alpha_lo``/``alpha_hi``.
    seed : int
    """

    method: str | None = "bootstrap"
    reps: int = 1000
    level: float = 0.95
    ci: str = "bca"
    seed: int = 0
    jackknife_groups: int = 100

    def __post_init__(self):
        if self.method is not None:
            check_choice(self.method, "intervals", _INTERVALS)
        check_choice(self.ci, "ci", _CI)
        check_int(self.reps, "reps", minimum=2)
        check_seed(self.seed)
        check_int(self.jackknife_groups, "jackknife_groups", minimum=2)
        check_level(self.level)


@dataclass(frozen=True)
class BayesSpec:
    """NUTS settings of the hierarchical posterior (``bayes=True`` or ``intervals="bayes"``).

    What the ``ConvergenceWarning`` of :mod:`htsr.bayes` says to raise when chains disagree
    (``htsr report --bayes --draws/--warmup/--chains/--target-accept``).

    Attributes
    ----------
    draws : int
        Draws kept per chain.
    warmup : int, optional
        Adaptation steps per chain (default ``draws``).
    chains : int
        Chains, run side by side.
    target_accept : float, optional
        NUTS target acceptance in (0, 1) (default that of :func:`htsr.bayes.fit_many`, 0.9).
    """

    draws: int = 1000
    warmup: int | None = None
    chains: int = 2
    target_accept: float | None = None

    def __post_init__(self):
        check_int(self.draws, "draws", minimum=1)
        if self.warmup is not None:
            check_int(self.warmup, "warmup", minimum=1)
        check_int(self.chains, "chains", minimum=1)
        if self.target_accept is not None:
            check_level(self.target_accept, "target_accept")

    def options(self) -> dict:
        """Keywords of :func:`htsr.bayes.fit_many`."""
        return dict(draws=self.draws, warmup=self.warmup, chains=self.chains, target_accept=self.target_accept)


@dataclass(frozen=True, kw_only=True)
class ReportSpec:
    """Everything that decides a report's numbers (recorded in ``Report.spec``), built by keyword.

    Attributes
    ----------
    selection : Selection
    fit : LayerFitOptions
    intervals : IntervalSpec
    thresholds : Thresholds
    bayes : BayesSpec
        The hierarchical model's sampler settings (used only with ``posterior``).
    posterior : bool
        Fit the hierarchical Bayesian model too (``alpha_bayes*`` columns): ``bayes=`` of
        :func:`htsr.report`, or ``intervals.method == "bayes"``, which needs it.
    """

    selection: Selection = field(default_factory=Selection)
    fit: LayerFitOptions = field(default_factory=LayerFitOptions)
    intervals: IntervalSpec = field(default_factory=IntervalSpec)
    thresholds: Thresholds = field(default_factory=Thresholds)
    bayes: BayesSpec = field(default_factory=BayesSpec)
    posterior: bool = False

    def __post_init__(self):
        parts = dict(selection=Selection, fit=LayerFitOptions, intervals=IntervalSpec, thresholds=Thresholds,
                     bayes=BayesSpec)
        for name, kind in parts.items():
            value = getattr(self, name)
            if not isinstance(value, kind):
                raise HtsrError(f"{name} must be an htsr.report.{kind.__name__}, got {value!r}")
        object.__setattr__(self, "posterior", check_bool(self.posterior, "posterior"))
        if self.intervals.method == "bayes":
            object.__setattr__(self, "posterior", True)  # a posterior interval needs the posterior

    def to_dict(self) -> dict:
        from dataclasses import asdict

        d = asdict(self)
        sel = d["selection"]
        for k in ("layers", "exclude"):
            sel[k] = [p.pattern if isinstance(p, re.Pattern) else p for p in sel[k]]
        sel["kinds"] = list(sel["kinds"])
        return d
