"""The order in which a network's layers run: the report's ``depth`` column.

A source lists its tensors in its own order (the ``index`` column).  Where that
order is the model's -- a PyTorch state dict, a Keras or Flax model, an
``.npz`` written in module order -- it is the depth.  A safetensors file,
though, has no order of its own (htsr lists its tensors in natural name order),
and name order is not run order: plain sorting puts ``encoder.layer.10``
before ``encoder.layer.2``, GPT-2's ``wte`` after every ``h.*`` block, and a
BERT block's ``attention.output.dense`` before its ``attention.self.query``.
So when the source's order is a name order (sorted, plainly or naturally),
layers are put in the order a transformer runs them instead:

1. embeddings first, output heads (``pooler``, ``lm_head``, BERT's ``cls``,
   ``classifier``, ``head``, ...) last;
2. blocks by number, runs of digits compared as numbers (``encoder.layer.2``
   before ``encoder.layer.10``; the block is the name up to its last purely
   numeric part);
3. within a block whose every matrix has a known role: attention inputs
   (query/key/value, ``q_proj``, ``c_attn``...), the attention output, the MLP's
   first layer (``intermediate``, ``fc1``, ``up_proj``...), its second
   (``output.dense``, ``fc2``, ``down_proj``...); otherwise natural name order.  A
   mixture-of-experts router (``mlp.gate``, ``router``) counts as the MLP's first layer, and a
   part of a tensor (``c_attn.weight[q]``, ``experts.down_proj[3]``) has its tensor's role.

Ties keep index order.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["depth_order", "natural_key"]

_DIGITS = re.compile(r"(\d+)")
_HEADS = {"pooler", "lm_head", "cls", "classifier", "head", "score", "qa_outputs", "fc_out", "output_layer"}
_EMBED = re.compile(r"(^|[./])(embed\w*|wte|wpe|tok_embeddings|word_embeddings|position_embeddings|shared)"
                    r"($|[._/])", re.IGNORECASE)


def natural_key(name: str) -> tuple:
    """Sort key that compares runs of digits as numbers: ``layer.2`` < ``layer.10``."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _DIGITS.split(name) if p)


def _stage(name: str, kind: str) -> int:
    """0 for embeddings, 2 for output heads, 1 for everything between."""
    if kind == "embedding" or _EMBED.search(name):
        return 0
    first = re.split(r"[./]", name, maxsplit=1)[0].lower()
    return 2 if first in _HEADS else 1


_ROLES = (  # within a block, in the order they run; the first pattern that matches a name's rest wins
    r"(^|[._])(query|key|value|q|k|v|q_proj|k_proj|v_proj|qkv|qkv_proj|query_key_value|c_attn|wq|wk|wv|in_proj)"
    r"([._]|$)",
    r"(attention\.output|o_proj|out_proj|(attn|attention)\.c_proj|(attn|attention)\.(o|dense)|\bwo_attn)([._]|$)",
    r"(^|[._])(intermediate|fc1|c_fc|gate_proj|up_proj|w1|w3|wi|wi_0|wi_1|dense_h_to_4h|lin1|gate|router)([._]|$)",
    r"(^|[._])(output|fc2|c_proj|down_proj|w2|wo|dense_4h_to_h|lin2)([._]|$)",
)
_ROLE_RES = tuple(re.compile(r, re.IGNORECASE) for r in _ROLES)


def _role(rest: str):
    rest = re.sub(r"\[[^\[\]]*\]$", "", rest)  # a part's role is its tensor's: c_attn.weight[q], down_proj[3]
    return next((k for k, r in enumerate(_ROLE_RES) if r.search(rest)), None)


def _split(name: str) -> tuple[str, str]:
    """(block, rest): the name up to its last purely numeric part, and what follows."""
    m = re.match(r"^(.*[._/]\d+)([._/].*)$", name)
    return (m.group(1), m.group(2)) if m else ("", name)


def depth_order(names, kinds=None) -> np.ndarray:
    """Each layer's position (0, 1, ...) in the order the network runs them.

    Parameters
    ----------
    names : sequence of str
        Layer names in the source's order (the report's ``index``).
    kinds : sequence of str, optional
        Their kinds (``"embedding"`` puts a layer first whatever its name).

    Returns
    -------
    numpy.ndarray of int
        ``depth[i]`` is the position of ``names[i]``: the source's order when it is
        not a name order, otherwise the order described in the module docstring.
    """
    names = [str(n) for n in names]
    kinds = list(kinds) if kinds is not None else [""] * len(names)
    if names != sorted(names) and names != sorted(names, key=natural_key):  # the source's own order: the model's
        return np.arange(len(names), dtype=np.int64)
    parts = [_split(n) for n in names]
    roles = [_role(rest) for _, rest in parts]
    known = {}
    for (block, _), role in zip(parts, roles):
        known[block] = known.get(block, True) and role is not None and block != ""

    def key(i):
        block, rest = parts[i]
        role = roles[i] if known[block] else 0
        return _stage(names[i], kinds[i]), natural_key(block), role, natural_key(rest), i

    order = sorted(range(len(names)), key=key)
    depth = np.empty(len(names), dtype=np.int64)
    depth[order] = np.arange(len(names))
    return depth
