"""Write an LLM-shaped, sharded bf16 safetensors folder with heavy-tailed random weights.

    python3 benchmarks/make_llm.py tinyllama6 --out /tmp/tinyllama6       # 6 decoder layers, 0.79 GB
    python3 benchmarks/make_llm.py tinyllama --out /tmp/tinyllama         # TinyLlama-1.1B shapes, 2.2 GB
    python3 benchmarks/make_llm.py llama7b --out /tmp/llama7b             # Llama-2-7B shapes, 13.5 GB
    python3 benchmarks/make_llm.py tinyllama6 --layers 1 --out /tmp/tiny1  # a quick one (0.35 GB)

The folder is laid out as Hugging Face's ``save_pretrained`` lays out a Llama
checkpoint: ``config.json`` (a ``LlamaConfig``), ``model-0000k-of-0000n.safetensors``
shards of at most ``--shard-gb`` each (tensors in the model's order, a new shard
when the next tensor would overflow this one, as ``transformers`` shards), and
``model.safetensors.index.json`` (``metadata.total_size`` and the ``weight_map``).
Tensor names and shapes are ``LlamaForCausalLM``'s: ``model.embed_tokens``, per
decoder layer ``self_attn.{q,k,v,o}_proj``, ``mlp.{gate,up,down}_proj`` and the two
RMS norms, ``model.norm`` and an untied ``lm_head``.

Weights: every matrix has i.i.d. heavy-tailed entries, a symmetric Pareto
(``sign * U**(-1/mu)``, the default, fast) or a Student-t with ``mu`` degrees of
freedom (``--law student_t``), with ``mu`` drawn per tensor uniformly from
``--mu LO:HI``; each is scaled so that its median absolute entry is that of
``N(0, 0.02**2)``, the Hugging Face Llama initialisation (``initializer_range``),
whatever ``mu`` is (a median exists for every ``mu``; a variance does not).  Norm
weights are ones, as initialised.  A tensor's values depend only on ``--seed``
and its name.

Memory stays bounded: each shard's header is computed from the shapes alone and
written first, then every tensor is drawn in float32 row blocks of about 4M
entries, rounded to bf16 (round to nearest even) and appended, so at most one
block is in memory, whatever the model's size.  The files are then checked with
``safetensors.safe_open``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import struct
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PRESETS = {
    "tinyllama": dict(layers=22, hidden=2048, intermediate=5632, heads=32, kv_heads=4, vocab=32000, context=2048,
                      name="TinyLlama-1.1B"),
    "tinyllama6": dict(layers=6, hidden=2048, intermediate=5632, heads=32, kv_heads=4, vocab=32000, context=2048,
                       name="TinyLlama-1.1B"),
    "llama7b": dict(layers=32, hidden=4096, intermediate=11008, heads=32, kv_heads=32, vocab=32000, context=4096,
                    name="Llama-2-7B"),
}
INIT_STD = 0.02  # Hugging Face's LlamaConfig.initializer_range
BLOCK = 1 << 22  # entries per row block drawn at once (16 MiB in float32)
BF16 = 2         # bytes per entry


@dataclass(frozen=True)
class Spec:
    """One tensor: name, shape, and whether it is a weight matrix (else a norm, all ones)."""

    name: str
    shape: tuple
    matrix: bool

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * BF16


def tensors(p: dict) -> list[Spec]:
    """``LlamaForCausalLM``'s tensors, in its order."""
    h, inter, hd = p["hidden"], p["intermediate"], p["hidden"] // p["heads"]
    kv = p["kv_heads"] * hd
    out = [Spec("model.embed_tokens.weight", (p["vocab"], h), True)]
    for i in range(p["layers"]):
        pre = f"model.layers.{i}"
        out += [Spec(f"{pre}.self_attn.q_proj.weight", (h, h), True),
                Spec(f"{pre}.self_attn.k_proj.weight", (kv, h), True),
                Spec(f"{pre}.self_attn.v_proj.weight", (kv, h), True),
                Spec(f"{pre}.self_attn.o_proj.weight", (h, h), True),
                Spec(f"{pre}.mlp.gate_proj.weight", (inter, h), True),
                Spec(f"{pre}.mlp.up_proj.weight", (inter, h), True),
                Spec(f"{pre}.mlp.down_proj.weight", (h, inter), True),
                Spec(f"{pre}.input_layernorm.weight", (h,), False),
                Spec(f"{pre}.post_attention_layernorm.weight", (h,), False)]
    out += [Spec("model.norm.weight", (h,), False), Spec("lm_head.weight", (p["vocab"], h), True)]
    return out


def config(p: dict) -> dict:
    """A Hugging Face ``config.json`` for these shapes."""
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": False,
        "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
        "hidden_size": p["hidden"], "initializer_range": INIT_STD, "intermediate_size": p["intermediate"],
        "max_position_embeddings": p["context"], "num_attention_heads": p["heads"],
        "num_hidden_layers": p["layers"], "num_key_value_heads": p["kv_heads"], "pretraining_tp": 1,
        "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 10000.0, "tie_word_embeddings": False,
        "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": p["vocab"],
        "htsr_synthetic": f"heavy-tailed random weights in {p['name']} shapes (benchmarks/make_llm.py)",
    }


def shard(specs: list[Spec], limit: int) -> list[list[Spec]]:
    """Consecutive tensors into shards of at most ``limit`` bytes (a larger tensor gets its own)."""
    shards, size = [[]], 0
    for s in specs:
        if shards[-1] and size + s.nbytes > limit:
            shards.append([])
            size = 0
        shards[-1].append(s)
        size += s.nbytes
    return shards


def header(specs: list[Spec]) -> bytes:
    """A safetensors header (8-byte little-endian length, then JSON padded to 8 bytes) for these tensors."""
    meta, offset = {"__metadata__": {"format": "pt"}}, 0
    for s in specs:
        meta[s.name] = {"dtype": "BF16", "shape": list(s.shape), "data_offsets": [offset, offset + s.nbytes]}
        offset += s.nbytes
    text = json.dumps(meta, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def to_bf16(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits (uint16), rounding to nearest even (values here are finite)."""
    b = x.view(np.uint32)
    return ((b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)).astype(np.uint16)


def _median_abs_normal() -> float:
    return 0.6744897501960817  # the median of |N(0, 1)|


class Draw:
    """A tensor's heavy-tailed entries, row block by row block, from its own stream."""

    def __init__(self, name: str, seed: int, law: str, mu_range: tuple[float, float]):
        self.rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        lo, hi = mu_range
        self.mu = float(lo + (hi - lo) * self.rng.random())
        self.law = law
        if law == "pareto":  # |x| = U^(-1/mu) >= 1: median 2^(1/mu)
            median = 2.0 ** (1.0 / self.mu)
        else:
            from scipy import stats

            median = float(stats.t.ppf(0.75, self.mu))
        self.scale = np.float32(INIT_STD * _median_abs_normal() / median)

    def block(self, n: int) -> np.ndarray:
        if self.law == "pareto":
            bits = self.rng.integers(0, 1 << 32, size=n, dtype=np.uint32)
            u = ((bits >> np.uint32(8)).astype(np.float32) + np.float32(0.5)) * np.float32(2.0 ** -24)  # (0, 1)
            x = np.exp(np.log(u) * np.float32(-1.0 / self.mu))
            x *= np.where(bits & np.uint32(1), np.float32(-self.scale), self.scale)
            return x
        z = self.rng.standard_normal(n, dtype=np.float32)
        g = self.rng.standard_gamma(self.mu / 2.0, n, dtype=np.float32)
        z *= self.scale * np.sqrt(np.float32(self.mu / 2.0) / np.maximum(g, np.float32(1e-30)))
        return z


def write_tensor(f, spec: Spec, seed: int, law: str, mu_range) -> float | None:
    """Append ``spec``'s bf16 bytes to ``f``, row block by row block; its ``mu`` (None for a norm)."""
    if not spec.matrix:
        np.full(spec.shape, 0x3F80, dtype=np.uint16).tofile(f)  # bf16 1.0
        return None
    draw = Draw(spec.name, seed, law, mu_range)
    rows, cols = spec.shape
    step = max(1, BLOCK // cols)
    for r in range(0, rows, step):
        n = min(step, rows - r) * cols
        to_bf16(draw.block(n)).tofile(f)
    return draw.mu


def make(preset: str, out: Path, *, layers: int | None = None, shard_gb: float = 0.5, seed: int = 0,
         law: str = "pareto", mu=(2.5, 5.0), force: bool = False, quiet: bool = False) -> dict:
    """Write the folder; a summary dict (also written as ``out/make_llm.json``)."""
    p = dict(PRESETS[preset])
    if layers is not None:
        if layers < 1:
            raise SystemExit("make_llm: --layers must be >= 1")
        p["layers"] = layers
    specs = tensors(p)
    total = sum(s.nbytes for s in specs)
    out.mkdir(parents=True, exist_ok=True)
    old = sorted(out.glob("model*.safetensors*"))
    if old and not force:
        raise SystemExit(f"make_llm: {out} already holds {old[0].name} (and {len(old) - 1} more); "
                         "--force replaces them")
    free = shutil.disk_usage(out).free + sum(f.stat().st_size for f in old)
    if free < total * 1.01:
        raise SystemExit(f"make_llm: {total / 1e9:.2f} GB needed in {out}, {free / 1e9:.2f} GB free")
    for f in old:
        f.unlink()
    groups = shard(specs, int(shard_gb * 1e9))
    names = [f"model-{k + 1:05d}-of-{len(groups):05d}.safetensors" for k in range(len(groups))]
    (out / "config.json").write_text(json.dumps(config(p), indent=2) + "\n")
    t0, mus, done = time.perf_counter(), {}, 0
    for name, group in zip(names, groups):
        with open(out / name, "wb") as f:
            f.write(header(group))
            for s in group:
                drawn = write_tensor(f, s, seed, law, mu)
                if drawn is not None:
                    mus[s.name] = round(drawn, 4)
                done += s.nbytes
        if not quiet:
            print(f"  {name}: {len(group)} tensors, {sum(s.nbytes for s in group) / 1e9:.2f} GB "
                  f"({done / total:.0%}, {time.perf_counter() - t0:.0f} s)", flush=True)
    index = {"metadata": {"total_size": total},
             "weight_map": dict(sorted((s.name, n) for n, g in zip(names, groups) for s in g))}
    (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    check(out, names, groups)
    summary = dict(preset=preset, shapes=p["name"], layers=p["layers"], tensors=len(specs),
                   matrices=sum(s.matrix for s in specs), parameters=sum(math.prod(s.shape) for s in specs),
                   bytes=total, shards=len(names), law=law, mu_range=list(mu), seed=seed,
                   largest_matrix=max((s.shape for s in specs if s.matrix), key=math.prod),
                   seconds=round(time.perf_counter() - t0, 1), mu=mus)
    (out / "make_llm.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def check(out: Path, names: list[str], groups: list[list[Spec]]) -> None:
    """Open every shard with safetensors and compare its tensors' names and shapes with the plan."""
    from safetensors import safe_open

    for name, group in zip(names, groups):
        with safe_open(str(out / name), framework="numpy") as f:
            keys = set(f.keys())
            want = {s.name: list(s.shape) for s in group}
            if keys != set(want):
                raise SystemExit(f"make_llm: {name} holds {sorted(keys ^ set(want))[:3]} unexpectedly")
            for k in want:
                got = f.get_slice(k).get_shape()
                if list(got) != want[k]:
                    raise SystemExit(f"make_llm: {name}: {k} has shape {got}, expected {want[k]}")


def _range(text: str) -> tuple[float, float]:
    parts = [float(v) for v in text.split(":")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 0 < parts[0] <= parts[1]:
        raise argparse.ArgumentTypeError(f"--mu {text!r}: expected MU or LO:HI with 0 < LO <= HI")
    return parts[0], parts[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("preset", choices=sorted(PRESETS))
    ap.add_argument("--out", required=True, type=Path, help="the folder to write")
    ap.add_argument("--layers", type=int, help="decoder layers (default: the preset's)")
    ap.add_argument("--shard-gb", type=float, default=0.5, help="largest shard in GB (default 0.5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--law", choices=("pareto", "student_t"), default="pareto",
                    help="entries: symmetric Pareto (default, fast) or Student-t")
    ap.add_argument("--mu", type=_range, default=(2.5, 5.0),
                    help="tail index (Pareto) or degrees of freedom (Student-t), per tensor uniform in LO:HI "
                         "(default 2.5:5)")
    ap.add_argument("--force", action="store_true", help="replace the shards and index already in --out")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if not args.shard_gb > 0:
        ap.error("--shard-gb must be > 0")
    s = make(args.preset, args.out, layers=args.layers, shard_gb=args.shard_gb, seed=args.seed, law=args.law,
             mu=args.mu, force=args.force, quiet=args.quiet)
    print(f"{args.out}: {s['shapes']}, {s['layers']} decoder layers, {s['matrices']} matrices, "
          f"{s['parameters'] / 1e9:.3f}B parameters, {s['bytes'] / 1e9:.2f} GB bf16 in {s['shards']} shard(s), "
          f"{s['law']} entries (mu {s['mu_range'][0]:g} to {s['mu_range'][1]:g}), {s['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
