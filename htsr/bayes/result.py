"""Results of Bayesian fits: the arviz InferenceData plus a compact, named summary."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._mcmc import Diagnostics

__all__ = ["BayesFit", "BayesManyFit", "GammaPosterior", "Diagnostics", "summarize"]


@dataclass(frozen=True)
class GammaPosterior:
    """The exact posterior of the conjugate closed form: ``alpha - 1 ~ Gamma(shape, rate)``
    (:func:`htsr.models.powerlaw.gamma_posterior`)."""

    shape: float
    rate: float

    @property
    def mean(self) -> float:
        """Posterior mean of alpha, ``1 + shape / rate``."""
        return 1.0 + self.shape / self.rate

    @property
    def sd(self) -> float:
        """Posterior sd of alpha, ``sqrt(shape) / rate``."""
        return float(np.sqrt(self.shape) / self.rate)

    def to_dict(self) -> dict:
        return {"gamma_shape": self.shape, "gamma_rate": self.rate, "exact_mean": self.mean, "exact_sd": self.sd}


def summarize(idata, var_names, hdi_prob: float = 0.94):
    """``arviz.summary`` restricted to mean, sd, HDI, ESS bulk/tail and r_hat."""
    from ._mcmc import arviz

    az = arviz()
    table = az.summary(idata, var_names=list(var_names), hdi_prob=hdi_prob, kind="all")
    lo, hi = f"hdi_{100 * (1 - hdi_prob) / 2:g}%", f"hdi_{100 * (1 + hdi_prob) / 2:g}%"
    return table[["mean", "sd", lo, hi, "ess_bulk", "ess_tail", "r_hat"]]


def _hdi(values, prob=0.94):
    from ._mcmc import arviz

    return tuple(float(v) for v in arviz().hdi(np.asarray(values).reshape(-1), hdi_prob=prob))


@dataclass(frozen=True, eq=False)
class BayesFit:
    """Posterior of one tail law on one sample.

    Attributes
    ----------
    idata : arviz.InferenceData
        Groups ``posterior`` (the exponent is always ``alpha``; with xmin unknown also
        ``xmin``, ``n_tail``, ``phi`` and the body parameters ``body_*``),
        ``log_likelihood``, ``posterior_predictive`` (``x``: replicated tails,
        thinned to ``ppc_draws``), ``observed_data``, ``sample_stats``.
    model : str
        Canonical law name of the tail.
    xmin, xmax : float or None
        The fixed ends; ``xmin`` is None when it was a parameter.
    n, n_tail : int
        Sample size and tail size (``n_tail``: None when xmin was unknown).
    method : str
        ``"nuts"`` or ``"conjugate"`` (exact Gamma posterior, iid draws).
    ppc_p : float
        Posterior predictive p-value of the KS distance (replicated vs observed tail).
    diagnostics : Diagnostics
        ``n_divergent``, ``max_r_hat``, ``min_ess_bulk`` (:class:`~htsr.bayes._mcmc.Diagnostics`).
    n_candidates : int or None
        With xmin unknown, the candidate thresholds summed over.
    exact : GammaPosterior or None
        With ``method="conjugate"``, the exact posterior the draws come from.
    """

    idata: object = field(repr=False)
    model: str
    xmin: float | None
    xmax: float | None
    discrete: bool
    n: int
    n_tail: int | None
    method: str
    seed: int
    ppc_p: float
    diagnostics: Diagnostics
    var_names: tuple = ("alpha",)
    n_candidates: int | None = None
    exact: GammaPosterior | None = None

    def _draws(self, name):
        return np.asarray(self.idata.posterior[name]).reshape(-1)

    @property
    def alpha(self) -> float:
        """Posterior mean of alpha."""
        return float(self._draws("alpha").mean())

    @property
    def alpha_sd(self) -> float:
        return float(self._draws("alpha").std(ddof=1))

    def hdi(self, name: str = "alpha", prob: float = 0.94) -> tuple:
        """Highest-density interval of a posterior variable."""
        return _hdi(self._draws(name), prob)

    def summary(self, var_names=None, hdi_prob: float = 0.94):
        """A pandas DataFrame: mean, sd, HDI, ess_bulk, ess_tail, r_hat per variable."""
        return summarize(self.idata, var_names or self.var_names, hdi_prob)

    def _params(self) -> tuple:
        """The tail law's parameters in the posterior (``alpha`` for the power laws; ``lambda``, ...)."""
        return tuple(v for v in self.var_names if v not in ("xmin", "n_tail") and v in self.idata.posterior)

    def to_dict(self) -> dict:
        out = {"model": self.model, "method": self.method, "discrete": self.discrete, "n": self.n,
               "n_tail": self.n_tail, "xmin": self.xmin, "xmax": self.xmax, "seed": self.seed}
        for name in self._params():  # alpha_mean, alpha_sd, alpha_hdi94; lambda_mean, ... for other laws
            d = self._draws(name)
            out.update({f"{name}_mean": float(d.mean()), f"{name}_sd": float(d.std(ddof=1)),
                        f"{name}_hdi94": list(self.hdi(name))})
        out.update(ppc_p=self.ppc_p, **self.diagnostics.to_dict())
        if self.n_candidates is not None:
            out["n_candidates"] = self.n_candidates
        if self.exact is not None:
            out.update(self.exact.to_dict())
        if self.xmin is None and "xmin" in self.idata.posterior:
            xm = self._draws("xmin")
            out.update(xmin_mean=float(xm.mean()), xmin_sd=float(xm.std(ddof=1)),
                       xmin_hdi94=list(self.hdi("xmin")),
                       n_tail_mean=float(self._draws("n_tail").mean()))
        return out

    def __repr__(self) -> str:
        def one(name):
            d = self._draws(name)
            lo, hi = self.hdi(name)
            return f"{name}={d.mean():.4g} ± {d.std(ddof=1):.2g}, 94% HDI [{lo:.4g}, {hi:.4g}]"

        where = f"xmin={self.xmin:.4g}" if self.xmin is not None else f"xmin~{self._draws('xmin').mean():.4g} (unknown)"
        return (f"BayesFit({self.model}, {', '.join(one(v) for v in self._params())}, "
                f"{where}, n_tail={self.n_tail}, {self.method}, r_hat={self.diagnostics.max_r_hat:.3f}, "
                f"divergent={self.diagnostics.n_divergent})")


@dataclass(frozen=True, eq=False)
class BayesManyFit:
    """Posteriors of many samples (the layers of one network), dimension ``layer``.

    ``hierarchical``: alpha partially pooled (``alpha_network = 1 + exp(m)`` is the
    network-level median, ``tau`` the spread of ``log(alpha - 1)``).  ``idata`` has the
    groups ``posterior``, ``log_likelihood`` (fixed xmin), ``posterior_predictive``
    (replicated tails per layer), ``observed_data`` and ``sample_stats``; ``ppc_p`` is the
    KS posterior predictive p-value of each layer; ``diagnostics`` the sampler's
    :class:`~htsr.bayes._mcmc.Diagnostics` over every layer's alpha (and ``m``, ``tau``).
    """

    idata: object = field(repr=False)
    hierarchical: bool
    xmin: np.ndarray | None
    n_tail: np.ndarray | None
    discrete: bool
    seed: int
    diagnostics: Diagnostics
    var_names: tuple = ("alpha",)
    ppc_p: np.ndarray | None = None

    @property
    def alpha(self) -> np.ndarray:
        """Posterior mean of each layer's alpha."""
        return np.asarray(self.idata.posterior["alpha"].mean(("chain", "draw")))

    @property
    def alpha_sd(self) -> np.ndarray:
        return np.asarray(self.idata.posterior["alpha"].std(("chain", "draw"), ddof=1))

    def summary(self, var_names=None, hdi_prob: float = 0.94):
        return summarize(self.idata, var_names or self.var_names, hdi_prob)

    def to_dict(self) -> dict:
        return {"hierarchical": self.hierarchical, "alpha_mean": self.alpha.tolist(),
                "alpha_sd": self.alpha_sd.tolist(),
                "xmin": None if self.xmin is None else np.asarray(self.xmin).tolist(),
                "n_tail": None if self.n_tail is None else np.asarray(self.n_tail).tolist(),
                "seed": self.seed, "ppc_p": None if self.ppc_p is None else np.asarray(self.ppc_p).tolist(),
                **self.diagnostics.to_dict()}

    def __repr__(self) -> str:
        kind = "hierarchical" if self.hierarchical else "independent"
        return (f"BayesManyFit({len(self.alpha)} layers, {kind}, r_hat={self.diagnostics.max_r_hat:.3f}, "
                f"divergent={self.diagnostics.n_divergent})")
