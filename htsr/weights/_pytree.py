"""In-memory parameter trees: JAX/Flax pytrees and dicts of arrays.

Dicts (any ``Mapping``, Flax's ``FrozenDict`` included), lists and tuples are
walked in their own order, so Flax's ``Dense_0, Dense_1, ..., Dense_10`` come
out in layer order; any other registered pytree node is flattened with
``jax.tree_util.tree_flatten_with_path``.  Names join the keys with ``sep``
(``"/"``, Flax's convention, by default: ``params/Dense_0/kernel``).  Layout
is ``"keras"`` (Flax kernels are ``(in, out)``, convolutions ``(k..., in, out)``)
unless the tree holds torch tensors (a state dict), which makes it ``"pytorch"``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import WeightsError
from ._base import Reader, widen
from ._tensor import TensorInfo, classify
from ._torch import is_torch_tensor, to_numpy

__all__ = ["PytreeReader"]


def _is_leaf_array(x) -> bool:
    return isinstance(x, np.ndarray) or is_torch_tensor(x) or (
        hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__array__"))


def _key_name(k) -> str:
    for attr in ("key", "idx", "name"):  # DictKey, SequenceKey/FlattenedIndexKey, GetAttrKey
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def _walk(obj, path: tuple[str, ...]):
    if _is_leaf_array(obj):
        yield path, obj
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _walk(v, path + (str(k),))
    elif isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        for i, v in enumerate(obj):
            yield from _walk(v, path + (str(i),))
    elif obj is None or isinstance(obj, (int, float, complex, bool, str, bytes)):
        return  # scalars and strings (step counters, names) are not weights
    else:
        import jax

        leaves, _ = jax.tree_util.tree_flatten_with_path(obj)
        if len(leaves) == 1 and leaves[0][1] is obj:
            return  # an opaque object: not a pytree of arrays
        for kp, leaf in leaves:
            yield from _walk(leaf, path + tuple(_key_name(k) for k in kp))


class PytreeReader(Reader):
    """Arrays held in memory by a nested structure."""

    def __init__(self, tree, *, sep: str = "/", layout: str | None = None, source: str | None = None):
        self.source = source or f"<{type(tree).__name__} of arrays>"
        self._arrays = {}
        has_torch = False
        for path, leaf in _walk(tree, ()):
            name = sep.join(path) if path else "array"
            if name in self._arrays:
                raise WeightsError(f"{self.source}: two tensors are both named {name!r}; "
                                   "choose another sep")
            self._arrays[name] = leaf
            has_torch = has_torch or is_torch_tensor(leaf)
        self.layout = layout or ("pytorch" if has_torch else "keras")
        self._infos = []
        for name, a in self._arrays.items():
            shape = tuple(int(s) for s in a.shape)
            dtype = str(a.dtype).removeprefix("torch.")
            self._infos.append(TensorInfo(name, shape, dtype, classify(name, shape, dtype),
                                          self.layout, self.source))

    def infos(self) -> list[TensorInfo]:
        return list(self._infos)

    def read(self, info: TensorInfo) -> np.ndarray:
        a = self._arrays[info.name]
        try:
            if is_torch_tensor(a):
                return to_numpy(a)
            a = np.asarray(a)
            if a.dtype.name in ("bfloat16",) or a.dtype.name.startswith("float8"):
                a = a.astype(np.float32)
            return widen(a)
        except Exception as e:
            raise WeightsError(f"{self.source}: cannot read tensor {info.name!r}: {e}") from None
