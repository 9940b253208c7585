"""Named random streams: the one place where a seed becomes randomness.

Every Monte Carlo procedure of htsr draws from a *stream* named after it.
Replicate ``r`` of stream ``s`` under ``seed`` uses the JAX key

    fold_in(fold_in(PRNGKey(seed), word(s)), r)

(:func:`keys`), so a result depends on the seed, the stream and the replicate
index only: never on batch sizes, chunking, the order of work or the machine
(a Dask worker draws the same numbers).  Streams and their words:

===============  =====================================================================
``gof``          0: synthetic data sets of :func:`htsr.gof`
``bootstrap``    1: resamples of :func:`htsr.bootstrap` (and of the report's intervals)
``jackknife``    2: the grouped jackknife's random groups (BCa acceleration)
``range_search`` 3: the Deluca-Corral range search; then the visited range's index
``randomize``    4: the report's element-wise permutations of W (``randomize=True``), per layer
``binned_gof``   5: synthetic histograms of :func:`htsr.gof_binned` (Virkar & Clauset 2014)
``calibration``  the 31-bit SHA-256 digest of the generator and the cell's coordinates
``bayes``        none: ``PRNGKey(seed)`` itself (the samplers split it)
``rmt``          none: ``PRNGKey(seed)`` itself (the random-matrix generators)
===============  =====================================================================

The words of ``gof``, ``bootstrap``, ``jackknife``, ``bayes`` and ``rmt`` are
those of earlier versions, so a seed gives the numbers it gave before.
Procedures that want a NumPy generator take :func:`generator` (seeded by
``[seed, word]``, or ``seed`` for the streams without a word).

Per-layer streams of a report (:func:`layer_seed`): layer ``name`` under
``seed`` uses the seed ``layer_seed(seed, name)``, so its interval is exactly
``htsr.bootstrap(evals, seed=layer_seed(seed, name), ...)`` and no two layers
share a stream.

The seed rule is :func:`htsr.data.check_seed`: an integer in [0, 2**63).
Keys are built under float64/int64 JAX so seeds above 2**32 are not truncated.
"""

from __future__ import annotations

import hashlib
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from . import _jax
from .data import check_seed
from .errors import HtsrError

__all__ = ["STREAMS", "keys", "key", "generator", "layer_seed", "cell_word", "check_seed"]

#: Stream name -> its word (None: the seed's own key, no word folded in).
STREAMS = {"gof": 0, "bootstrap": 1, "jackknife": 2, "range_search": 3, "randomize": 4, "binned_gof": 5,
           "calibration": "cell",
           "bayes": None, "rmt": None}

#: NumPy words that differ from the JAX ones: the jackknife's generators are
#: seeded ``[seed, 0x4A41434B]`` ('JACK'), as in earlier versions.
_NUMPY_WORDS = {"jackknife": 0x4A41434B}


def _word(stream: str, path: tuple):
    if stream not in STREAMS:
        raise HtsrError(f"unknown random stream {stream!r}; streams: {', '.join(STREAMS)}")
    w = STREAMS[stream]
    if w == "cell":
        if len(path) != 1:
            raise HtsrError("the calibration stream takes one path entry: the cell's word (cell_word)")
        return int(path[0]), ()
    return w, path


def _base(seed, stream: str, path: tuple):
    seed = check_seed(seed)
    w, path = _word(stream, path)
    with _jax.x64():
        k = jax.random.PRNGKey(seed)
        if w is not None:
            k = jax.random.fold_in(k, w)
        for p in path:
            k = jax.random.fold_in(k, int(p))
    return k


def key(seed, stream: str, *path):
    """The key of ``stream`` under ``seed`` (``path``: further integers folded in, in order)."""
    return _base(seed, stream, path)


def keys(seed, stream: str, start: int, stop: int, *path):
    """Keys of replicates ``start .. stop-1`` of ``stream`` under ``seed``: an array (stop - start, 2)."""
    base = _base(seed, stream, path)
    return jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.arange(int(start), int(stop), dtype=jnp.uint32))


def generator(seed, stream: str) -> np.random.Generator:
    """A NumPy generator for ``stream`` under ``seed`` (``default_rng([seed, word])``, or ``seed``)."""
    seed = check_seed(seed)
    if STREAMS.get(stream) == "cell":
        raise HtsrError("the calibration stream has JAX keys only (keys(seed, 'calibration', start, stop, word))")
    w, _ = _word(stream, ())
    w = _NUMPY_WORDS.get(stream, w)
    return np.random.default_rng(seed if w is None else [seed, w])


def layer_seed(seed, name: str) -> int:
    """The seed of layer ``name``'s streams in a report run with ``seed``: 63 bits of SHA-256."""
    seed = check_seed(seed)
    digest = hashlib.sha256(f"{seed}|{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFFFFFFFFFFFFFF


def cell_word(generator_name: str, cell: dict) -> int:
    """The calibration stream's word of one cell: a 31-bit SHA-256 digest of the generator and coordinates."""
    parts = [generator_name] + [f"{d}={_canonical(v)}" for d, v in cell.items()]
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def _canonical(v) -> str:
    if isinstance(v, numbers.Integral):
        return str(int(v))
    return repr(round(float(v), 10))
