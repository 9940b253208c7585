"""Priors of a law's parameters: one small frozen type, so each law can carry its defaults.

A prior is a :class:`Prior`: a ``numpyro.distributions`` family named by the
class, its fields the family's arguments in order.  ``numpyro()`` builds the
distribution (NumPyro is imported then, never by the models), which is how a
law of :mod:`htsr.models` holds its default prior (``Law.default_priors``)
without the models depending on the Bayesian layer.  Specs are typed,
printable and comparable: the conjugate closed form of the power law
(:func:`htsr.models.powerlaw.gamma_posterior`) needs to see that the prior of
``alpha - 1`` is a Gamma.

The families::

    Gamma(shape, rate, loc=0)   X - loc ~ Gamma(shape, rate)  (loc=1: a power law's alpha)
    Normal(loc, scale)
    HalfNormal(scale)           |Normal(0, scale)|
    LogNormal(loc, scale)       ln X ~ Normal(loc, scale)
    Exponential(rate)

Each law's defaults (weakly informative, and scale-free: ``x0`` is the tail's
xmin, so multiplying the data by ``s`` rescales every scale parameter's prior
and leaves the posteriors of ``alpha``, ``beta``, ``sigma`` as they were):

=========================  =========  ============================================
law                        parameter  default prior
=========================  =========  ============================================
``power_law``              alpha      ``alpha - 1 ~ Gamma(2, rate 0.5)``: mode 3, mean 5,
                                      P(alpha < 1.5) = 0.03, P(alpha > 10) = 0.06
``bounded_power_law``      alpha      ``Normal(2, 3)`` (any real exponent is proper)
``power_law_cutoff``       alpha      ``Normal(2, 3)``
                           lam        ``lam * x0 ~ Exponential(1)``
``exponential``            lam        ``lam * x0 ~ Exponential(1)``
``stretched_exponential``  lam        ``lam * x0^beta ~ LogNormal(0, 2)`` (``lam`` has units
                                      ``x^-beta``; the spec is keyed ``lam_scaled``)
                           beta       ``LogNormal(0, 1)``
``lognormal``              mu         ``Normal(ln x0, 5)``
                           sigma      ``HalfNormal(5)``
=========================  =========  ============================================
"""

from __future__ import annotations

import dataclasses

__all__ = ["Prior", "Gamma", "Normal", "HalfNormal", "LogNormal", "Exponential"]


class Prior:
    """A prior spec: the NumPyro family of the class's name, its fields the arguments in order.

    A family whose class sets ``shifted`` takes its last field, ``loc``, as a
    shift of the variable: ``X - loc ~ family(other fields)``.
    """

    __slots__ = ()
    shifted = False

    def numpyro(self):
        """The ``numpyro.distributions`` object (imports NumPyro)."""
        import numpyro.distributions as dist

        values = [getattr(self, f.name) for f in dataclasses.fields(self)]
        shift = values.pop() if self.shifted else 0.0
        d = getattr(dist, type(self).__name__)(*values)
        if shift == 0.0:
            return d
        # domain=positive so the support is (loc, inf), which NUTS's unconstraining transform needs
        move = dist.transforms.AffineTransform(shift, 1.0, domain=dist.constraints.positive)
        return dist.TransformedDistribution(d, move)


def _family(name: str, params: tuple, doc: str, *, shifted: bool = False) -> type:
    fields = [(p, float) for p in params] + ([("loc", float, 0.0)] if shifted else [])
    return dataclasses.make_dataclass(name, fields, bases=(Prior,), frozen=True,
                                      namespace={"__doc__": doc, "__module__": __name__, "shifted": shifted})


Gamma = _family("Gamma", ("shape", "rate"), "``X - loc ~ Gamma(shape, rate)`` (``loc=1``: the usual prior on a "
                "power law's alpha).", shifted=True)
Normal = _family("Normal", ("loc", "scale"), "``Normal(loc, scale)``.")
HalfNormal = _family("HalfNormal", ("scale",), "``|Normal(0, scale)|``.")
LogNormal = _family("LogNormal", ("loc", "scale"), "``ln X ~ Normal(loc, scale)``.")
Exponential = _family("Exponential", ("rate",), "``Exponential(rate)``.")
