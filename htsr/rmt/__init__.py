"""Random matrix theory: generators, ESDs, Marchenko-Pastur, Tracy-Widom, universality.

Conventions (see docs/rmt.md)
-----------------------------
* A weight matrix ``W`` is ``N x M`` with ``N >= M`` (a wide one is transposed),
  ``Q = N / M >= 1``, and its ESD is the ``M`` eigenvalues of ``X = W^T W / N``
  (``normalize=False``: WeightWatcher's squared singular values).
* Generators take ``(M, Q)`` (``N = round(Q M)``) or ``(M, N=...)``, an integer
  ``seed`` or a JAX key, and ``batch``; they return float64 NumPy arrays.

Main entry points::

    gaussian, pareto, student_t, spiked        # generators (JAX)
    esd, layer_esd, conv2d_matrices            # spectra
    mp_pdf, mp_cdf, mp_quantile, mp_edges      # Marchenko-Pastur law
    fit_mp -> MPFit                            # bulk fit, spikes, soft rank
    tw1_cdf, tw1_quantile, wishart_edge        # Tracy-Widom (beta = 1)
    randomized_esd, rand_distance -> RandomizedESD  # correlation traps of a permuted matrix
    top_vectors, localization_ratio, participation_ratio, vector_entropy  # eigenvector localization
    universality_class, mu_range               # heavy-tailed classes
"""

from .esd import conv1d_matrices, conv2d_matrices, esd, layer_esd, layer_matrices
from .generators import gaussian, pareto, spike_location, spike_threshold, spiked, student_t
from .marchenko_pastur import MPFit, fit_mp, mp_cdf, mp_edges, mp_pdf, mp_quantile, soft_rank
from .tracy_widom import WishartEdge, tw1_cdf, tw1_quantile, tw1_sf, wishart_edge
from .traps import RandomizedESD, Trap, rand_distance, randomized_esd
from .vectors import localization_ratio, participation_ratio, top_vectors, vector_entropy
from .universality import (
    AlphaMuRelation,
    MuRange,
    UniversalityClass,
    asymptotic_relation,
    esd_exponent,
    mu_range,
    universality_class,
    weightwatcher_mu4alpha,
)

__all__ = [
    "gaussian", "pareto", "student_t", "spiked", "spike_location", "spike_threshold",
    "esd", "layer_esd", "layer_matrices", "conv2d_matrices", "conv1d_matrices",
    "mp_pdf", "mp_cdf", "mp_quantile", "mp_edges", "fit_mp", "MPFit", "soft_rank",
    "tw1_cdf", "tw1_sf", "tw1_quantile", "wishart_edge", "WishartEdge",
    "randomized_esd", "rand_distance", "RandomizedESD", "Trap",
    "top_vectors", "localization_ratio", "participation_ratio", "vector_entropy",
    "universality_class", "UniversalityClass", "esd_exponent", "mu_range", "MuRange",
    "AlphaMuRelation", "asymptotic_relation", "weightwatcher_mu4alpha",
]
