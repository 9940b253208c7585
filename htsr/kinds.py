"""Tensor kinds and layouts: which weight tensors have a spectrum, and how one becomes matrices.

The one place these rules live.  :mod:`htsr.weights` gives every tensor it reads a
kind (:func:`htsr.weights.classify`) and a layout; :mod:`htsr.rmt` takes the ESD of
the matrices below (:func:`htsr.rmt.layer_esd`); :mod:`htsr.report` selects layers
by kind.  The module sits below both ``weights`` and ``rmt``, which may not import
each other.

Kinds
    :data:`KINDS`; only :data:`MATRIX_KINDS` have a spectrum.
Layouts
    :data:`LAYOUTS`: ``"pytorch"`` stores a linear layer ``(out, in)`` and a
    convolution ``(out, in, k...)``; ``"keras"`` (Keras, TensorFlow, Flax) stores
    ``(in, out)`` and ``(k..., in, out)``.  Both layouts of one convolution give
    the same ``(out, in)`` matrices, slice for slice.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .data import as_array, check_choice

__all__ = ["KINDS", "MATRIX_KINDS", "SINGLE_MATRIX_KINDS", "LAYOUTS", "check_layout", "check_kind",
           "conv2d_matrices", "conv1d_matrices", "layer_matrices", "matrix_shape"]

#: Every kind a tensor can be given (see :func:`htsr.weights.classify`).  ``"experts"`` is a
#: stack of mixture-of-experts matrices ``[E, ., .]``: no spectrum as one tensor; the report
#: reads each expert as its own matrix (``htsr.weights.load(..., expand=True)``, docs/llm.md).
KINDS = ("dense", "embedding", "conv1d", "conv2d", "bias", "norm", "experts", "other")
#: The kinds whose weights have a spectrum (the kinds :func:`layer_matrices` takes).
MATRIX_KINDS = ("dense", "embedding", "conv1d", "conv2d")
#: The kinds whose weight is one matrix (a convolution is one matrix per kernel position).
SINGLE_MATRIX_KINDS = MATRIX_KINDS[:2]
#: How a framework lays a weight tensor out (see the module docstring).
LAYOUTS = ("pytorch", "keras")

Layout = Literal["pytorch", "keras"]


def check_layout(layout, *, allow_none: bool = False, error=None) -> str | None:
    """``layout`` if it is one of :data:`LAYOUTS` (or None, when ``allow_none``)."""
    if layout is None and allow_none:
        return None
    return check_choice(layout, "layout", LAYOUTS, error=error)


def check_kind(kind, name: str = "kind", *, error=None) -> str:
    """``kind`` if it is one of :data:`MATRIX_KINDS` (a kind with a spectrum)."""
    return check_choice(kind, name, MATRIX_KINDS, error=error)


def conv2d_matrices(kernel, *, layout: Layout = "pytorch") -> np.ndarray:
    """Split a Conv2D kernel into its ``kh * kw`` matrices, shape ``(kh*kw, out, in)``.

    Slice ``k = i * kw + j`` is the ``(out, in)`` matrix of kernel position
    ``(i, j)``: ``kernel[:, :, i, j]`` for PyTorch's ``(out, in, kh, kw)`` layout,
    ``kernel[i, j, :, :].T`` for Keras/TensorFlow's ``(kh, kw, in, out)``.
    Both layouts of the same convolution therefore give identical slices.
    """
    check_layout(layout)
    K = as_array(kernel, "kernel", min_ndim=4, max_ndim=4)
    if layout == "pytorch":
        out_c, in_c, kh, kw = K.shape
        return np.ascontiguousarray(np.moveaxis(K, (2, 3), (0, 1)).reshape(kh * kw, out_c, in_c))
    kh, kw, in_c, out_c = K.shape
    return np.ascontiguousarray(np.swapaxes(K.reshape(kh * kw, in_c, out_c), 1, 2))


def conv1d_matrices(kernel, *, layout: Layout = "pytorch") -> np.ndarray:
    """Split a Conv1D kernel into its ``k`` matrices, shape ``(k, out, in)``.

    PyTorch stores ``(out, in, k)``, Keras ``(k, in, out)``; slice ``j`` is the
    ``(out, in)`` matrix of kernel position ``j``.
    """
    check_layout(layout)
    K = as_array(kernel, "kernel", min_ndim=3, max_ndim=3)
    if layout == "pytorch":
        return np.ascontiguousarray(np.moveaxis(K, 2, 0))
    return np.ascontiguousarray(np.swapaxes(K, 1, 2))


def layer_matrices(weight, kind: str, *, layout: Layout = "pytorch") -> np.ndarray:
    """The matrices whose ESDs describe a layer, as a stack ``(n_slices, rows, cols)``.

    ``kind`` is "dense" (a linear layer: PyTorch ``(out, in)``, Keras ``(in, out)``;
    the ESD is the same either way), "embedding" (``(vocab, dim)``), "conv1d" or
    "conv2d" (see :func:`conv1d_matrices`, :func:`conv2d_matrices`).
    """
    check_kind(kind)
    if kind in SINGLE_MATRIX_KINDS:
        return as_array(weight, "weight", min_ndim=2, max_ndim=2)[None]
    if kind == "conv1d":
        return conv1d_matrices(weight, layout=layout)
    return conv2d_matrices(weight, layout=layout)


def matrix_shape(shape, kind: str, layout: Layout) -> tuple[int, int, int]:
    """``(N, M, n_slices)`` of the matrices :func:`layer_matrices` makes of a tensor of this
    shape, without reading it: ``N >= M`` their sides, ``n_slices`` how many there are."""
    if kind in SINGLE_MATRIX_KINDS:
        r, c = shape
        return max(r, c), min(r, c), 1
    if kind == "conv1d":
        (o, i, k) = shape if layout == "pytorch" else (shape[2], shape[1], shape[0])
        return max(o, i), min(o, i), k
    (o, i, kh, kw) = shape if layout == "pytorch" else (shape[3], shape[2], shape[0], shape[1])
    return max(o, i), min(o, i), kh * kw
