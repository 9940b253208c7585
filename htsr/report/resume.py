"""Checkpoints of a report in progress: per-layer spectra on disk, so an interrupted report resumes.

A report of a large model spends most of its time in stage 2, the layers' ESDs
(:mod:`.spectra`).  With ``htsr.report(..., checkpoint=DIR)`` (``htsr report
--resume``) each layer's :class:`~.spectra.LayerSpectrum` -- its eigenvalues,
the fitted sample, the fit-free metrics, the warning -- is written to ``DIR`` as
soon as it is computed, one small ``.npz`` file per layer, atomically (a
temporary file, then :func:`os.replace`): a killed process leaves whole files
or none.  A rerun with the same folder loads the layers found there and computes
only the rest; the report is the same, number for number, as an uninterrupted
run.  The bootstrap chunks of stage 4 are saved the same way (``chunk-*.npz``,
keyed by the fingerprint, the chunk's layers and the interval options); the
fits (one batched call) and a posterior are computed again: they are
deterministic functions of the spectra and the seed.

What a checkpoint is valid for is its *fingerprint* (:func:`fingerprint`): the
source (its path; the path, size and modification time of every file the
reported tensors are read from; the names, shapes, dtypes, kinds and layouts of
the tensors), the options that change a spectrum or the list of layers
(:class:`~.options.Selection`, ``normalize``, ``evals_threshold``, ``device``,
``layout``; ``randomize`` with the seed, ``vectors``, when asked) and htsr's version; for a model folder, its weight and ``.json`` files too.  It is written to ``htsr-checkpoint.json`` in the folder, and
every layer file carries its digest.  When the fingerprint differs -- a shard
rewritten, another option -- the partial results are discarded with a
:class:`~htsr.errors.CheckpointWarning` that says what changed, and every layer
is computed again: never a report that mixes two sources or two settings.

Only sources read from files can be checkpointed: an in-memory model (a
``torch.nn.Module``, a state dict, a pytree) has no fingerprint that can be
checked without reading every value, so ``checkpoint=`` with one is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from contextlib import suppress
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from ..data import check_bool
from ..errors import CheckpointWarning, HtsrError
from .spectra import LayerSpectrum

__all__ = ["PARTIAL", "MANIFEST", "Checkpoint", "open_checkpoint", "fingerprint", "discard", "count"]

#: The checkpoint folder ``htsr report`` uses inside ``--out``.
PARTIAL = ".htsr-partial"
#: The file that holds a checkpoint's fingerprint.
MANIFEST = "htsr-checkpoint.json"
_FORMAT = 1
_LAYER = re.compile(r"^layer-.*\.npz$")
_CHUNK = re.compile(r"^chunk-[0-9a-f]+\.npz$")
_TEMP = re.compile(r"^\.tmp-.*$")
#: Files of a model folder that the fingerprint covers (besides those the tensors are read from).
_WEIGHT_FILES = (".safetensors", ".json", ".bin", ".pt", ".pth", ".gguf", ".onnx", ".data", ".h5", ".keras", ".npz",
                 ".npy", ".msgpack")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("htsr")
    except Exception:  # noqa: BLE001 -- not installed (a source tree): the fingerprint goes without it
        return "unknown"


def open_checkpoint(folder, source, infos, spec, layout=None, *, keep: bool = False) -> Checkpoint:
    """:meth:`Checkpoint.open` of ``folder`` for a report of ``infos`` of ``source`` with ``spec`` (a ReportSpec).

    ``keep``: :meth:`Checkpoint.finish` leaves the files in place (``keep_checkpoint=True``).
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise HtsrError(f"checkpoint must be a folder (a str or path), got {folder!r}")
    keep = check_bool(keep, "keep_checkpoint")
    store = Checkpoint.open(folder, fingerprint(source, infos, spec.selection, spec.fit, layout))
    store.keep = keep
    return store


def fingerprint(source, infos, selection, fit, layout=None) -> dict:
    """What a checkpoint's layers depend on (module docstring), as a JSON-able dict.

    Parameters
    ----------
    source : str or path
        The report's source.
    infos : sequence of htsr.weights.TensorInfo
        The tensors the report will have rows for, in order.
    selection : Selection
    fit : LayerFitOptions
    layout : str, optional

    Raises
    ------
    HtsrError
        No reported tensor is read from a file (an in-memory source).
    """
    if not isinstance(source, (str, os.PathLike)):
        raise HtsrError(f"checkpoint needs weights read from files; a {type(source).__name__} is an in-memory "
                        "object (or, for a LoRA merge, made in memory), whose values cannot be checked when a "
                        "report resumes (save it to a file, or leave checkpoint out)")
    files = {}
    paths = {str(i.source) for i in infos}
    if isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
        paths.add(str(source))
    elif isinstance(source, (str, os.PathLike)) and os.path.isdir(source):  # shards, their index, config.json
        paths.update(e.path for e in os.scandir(source) if e.is_file() and e.name.endswith(_WEIGHT_FILES))
    for p in sorted(paths):
        if os.path.isfile(p):
            st = os.stat(p)
            files[os.path.abspath(p)] = [int(st.st_size), int(st.st_mtime_ns)]
    if not files:
        raise HtsrError(f"checkpoint needs weights read from files; {infos[0].source if infos else source} is "
                        "an in-memory object, whose values cannot be checked when a report resumes "
                        "(save it to a file, or leave checkpoint out)")
    headers = [[i.name, list(i.shape), i.dtype, i.kind, i.layout, i.tied_to] for i in infos]
    sel = asdict(selection)
    for k in ("layers", "exclude"):
        sel[k] = [getattr(p, "pattern", p) for p in sel[k]]
    sel["kinds"] = list(sel["kinds"])
    where = os.path.abspath(source) if isinstance(source, (str, os.PathLike)) and os.path.exists(source) \
        else str(source)
    return dict(format=_FORMAT, htsr=_version(), source=where, files=files,
                tensors=dict(count=len(headers), digest=_digest(headers)),
                options=dict(selection=sel, normalize=bool(fit.normalize), evals_threshold=float(fit.evals_threshold),
                             device=getattr(fit, "device", None), layout=layout,
                             **_diagnostics(fit)))


def _diagnostics(fit) -> dict:
    """The spectrum-stage options of :mod:`.diagnostics`, only when on (older checkpoints stay valid)."""
    out = {"randomize": True, "seed": int(fit.seed)} if getattr(fit, "randomize", False) else {}
    return out | ({"vectors": int(fit.vectors)} if getattr(fit, "vectors", 0) else {})


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _differences(old: dict, new: dict, shown: int = 3) -> str:
    """What changed between two fingerprints, in words."""
    if not isinstance(old, dict) or old.get("format") != new["format"]:
        return "a checkpoint of another format"
    why = []
    if old.get("source") != new["source"]:
        why.append(f"another source ({old.get('source')})")
    a, b = old.get("files", {}), new["files"]
    changed = [os.path.basename(p) for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]
    if changed and old.get("source") == new["source"]:
        more = f" and {len(changed) - shown} more" if len(changed) > shown else ""
        why.append(f"file(s) changed since: {', '.join(changed[:shown])}{more}")
    if old.get("tensors") != new["tensors"] and not changed:
        why.append("the tensors' names, shapes or dtypes differ")
    oo, no = old.get("options", {}), new["options"]
    for k in sorted(set(oo) | set(no)):
        if k == "selection":
            so, sn = oo.get(k, {}), no[k]
            why += [f"{f} {so.get(f)!r} -> {sn.get(f)!r}" for f in sorted(set(so) | set(sn)) if so.get(f) != sn.get(f)]
        elif oo.get(k) != no.get(k):
            why.append(f"{k} {oo.get(k)!r} -> {no.get(k)!r}")
    if old.get("htsr") != new["htsr"]:
        why.append(f"htsr {old.get('htsr')} -> {new['htsr']}")
    return "; ".join(why) or "its fingerprint differs"


def _plain(value):
    """NumPy scalars as Python numbers for JSON; anything else is refused (TypeError)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not saved in a checkpoint")


def layer_file(name: str) -> str:
    """The file name of a layer's partial result: readable, unique, safe on every file system."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80]
    return f"layer-{safe}-{hashlib.sha256(name.encode()).hexdigest()[:12]}.npz"


def _ours(folder: Path):
    """The files a checkpoint writes in ``folder`` (its layers, temporaries and manifest)."""
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.is_file() and (_LAYER.match(p.name) or _CHUNK.match(p.name)
                                                             or _TEMP.match(p.name) or p.name == MANIFEST)]


def count(folder) -> int:
    """How many layers' partial results ``folder`` holds (0 if it does not exist)."""
    return sum(1 for p in _ours(Path(folder)) if _LAYER.match(p.name))


def discard(folder) -> int:
    """Remove a checkpoint's files from ``folder``, and the folder if that leaves it empty.

    Only the checkpoint's own files are removed (``layer-*.npz``, temporaries, the
    manifest), whatever else the folder holds.  Returns how many layers were removed.
    """
    folder = Path(folder)
    n = count(folder)
    for p in _ours(folder):
        with suppress(FileNotFoundError):
            p.unlink()
    with suppress(OSError):  # not empty, or gone: leave it
        folder.rmdir()
    return n


def _atomic(path: Path, write) -> None:
    """``write(file)`` to a temporary file in ``path``'s folder, then :func:`os.replace` it onto ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


class Checkpoint:
    """A folder of per-layer partial results, valid for one fingerprint.

    Made by :meth:`open`; :meth:`load` returns a layer's spectrum when the folder
    holds it, :meth:`save` writes one, :meth:`remove` deletes the checkpoint once the
    report is done.

    Attributes
    ----------
    folder : pathlib.Path
    digest : str
        SHA-256 of the fingerprint; every layer file carries it.
    loaded, saved : int
        Layers loaded from the folder and written to it in this run.
    """

    def __init__(self, folder: Path, digest: str):
        self.folder, self.digest = folder, digest
        self.loaded = self.saved = 0
        self.failed = self.keep = False

    @classmethod
    def open(cls, folder, fp: dict) -> Checkpoint:
        """Use ``folder`` for the fingerprint ``fp``: its results if they match, else discard them (a warning).

        Raises
        ------
        HtsrError
            ``folder`` is a file, or cannot be created.
        """
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise HtsrError(f"checkpoint {folder} is a file, not a folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HtsrError(f"checkpoint folder {folder} cannot be created: {exc.strerror or exc}") from None
        digest = _digest(fp)
        manifest = folder / MANIFEST
        n = count(folder)
        old = None
        if manifest.is_file():
            try:
                old = json.loads(manifest.read_text())
            except (OSError, ValueError):
                old = None
        if (old or {}).get("digest") != digest:
            if n:
                why = _differences((old or {}).get("fingerprint"), fp) if old else "it has no readable manifest"
                warnings.warn(f"checkpoint {folder}: its {n} partial layer result(s) are not this report's ({why}); "
                              "they are discarded and every layer is computed again", CheckpointWarning,
                              stacklevel=3)
            for p in _ours(folder):
                with suppress(FileNotFoundError):
                    p.unlink()
            text = json.dumps(dict(digest=digest, fingerprint=fp), indent=1, sort_keys=True, default=str)
            _atomic(manifest, lambda f: f.write(text.encode()))
        return cls(folder, digest)

    def load(self, index: int, info) -> LayerSpectrum | None:
        """Layer ``index`` (``info``: its header) as saved in this checkpoint, or None.

        A file that cannot be read or belongs to another fingerprint is ignored (and
        the layer computed again), with a :class:`~htsr.errors.CheckpointWarning`.
        """
        path = self.folder / layer_file(info.name)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                plain = json.loads(str(z["fields"]))
                if str(z["digest"]) != self.digest or plain.get("name") != info.name or plain.get("index") != index:
                    raise ValueError("it belongs to another report")
                values = {k: tuple(v) if isinstance(v, list) else v for k, v in plain.items()}
                values.update({k[2:]: np.array(z[k]) for k in z.files if k.startswith("a_")})
                sp = LayerSpectrum(**values)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            warnings.warn(f"checkpoint {self.folder}: {path.name} is not usable ({exc}); layer {info.name} "
                          "is computed again", CheckpointWarning, stacklevel=2)
            return None
        self.loaded += 1
        return sp

    def save(self, sp: LayerSpectrum) -> None:
        """Write one layer's spectrum (atomically).  A write that fails warns once and turns saving off:
        the report goes on, it just cannot be resumed from the layers after it."""
        if self.failed:
            return
        arrays, plain = {"digest": np.array(self.digest)}, {}
        for f in fields(LayerSpectrum):  # every field: arrays as arrays, the rest (metrics too) as JSON
            value = getattr(sp, f.name)
            if isinstance(value, np.ndarray):
                arrays[f"a_{f.name}"] = value
            else:
                plain[f.name] = value
        try:
            arrays["fields"] = np.array(json.dumps(plain, default=_plain))  # floats as repr: exact, NaN too
            _atomic(self.folder / layer_file(sp.name), lambda f: np.savez(f, **arrays))
        except (OSError, TypeError) as exc:
            self.failed = True
            warnings.warn(f"checkpoint {self.folder}: cannot write {sp.name}'s result ({getattr(exc, 'strerror', None) or exc}); "
                          "the report goes on without saving more layers", CheckpointWarning, stacklevel=2)
            return
        self.saved += 1

    def _chunk_file(self, names, spec) -> Path:
        key = _digest([self.digest, list(names), spec.method, spec.reps, spec.level, spec.ci, spec.seed,
                       spec.jackknife_groups])
        return self.folder / f"chunk-{key[:24]}.npz"

    def load_chunk(self, names, spec):
        """The bootstrap chunk of layers ``names`` under ``spec`` (an IntervalSpec): ``(draws, jacks)``, or None."""
        path = self._chunk_file(names, spec)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                if list(z["names"]) != list(names) or str(z["digest"]) != self.digest:
                    raise ValueError("it belongs to another report")
                draws = np.array(z["draws"], dtype=np.float64)
                jacks = [np.array(z[f"jack_{b}"], dtype=np.float64) for b in range(len(names))]
        except (OSError, ValueError, KeyError) as exc:
            warnings.warn(f"checkpoint {self.folder}: {path.name} is not usable ({exc}); the bootstrap of "
                          f"{names[0]}... is computed again", CheckpointWarning, stacklevel=2)
            return None
        return draws, jacks

    def save_chunk(self, names, spec, result) -> None:
        """Write a bootstrap chunk's ``(draws, jacks)`` (:func:`htsr.report.intervals.bootstrap_chunk`)."""
        if self.failed:
            return
        draws, jacks = result
        arrays = dict(digest=np.array(self.digest), names=np.array(list(names), dtype=str),
                      draws=np.asarray(draws, dtype=np.float64),
                      **{f"jack_{b}": np.asarray(j, dtype=np.float64) for b, j in enumerate(jacks)})
        try:
            _atomic(self._chunk_file(names, spec), lambda f: np.savez(f, **arrays))
        except OSError as exc:
            self.failed = True
            warnings.warn(f"checkpoint {self.folder}: cannot write a bootstrap chunk ({getattr(exc, 'strerror', None) or exc}); "
                          "the report goes on without saving more", CheckpointWarning, stacklevel=2)

    def finish(self) -> None:
        """The report is whole: remove the checkpoint, unless it is to be kept."""
        if not self.keep:
            self.remove()

    def remove(self) -> None:
        """Delete the checkpoint (its files, and its folder when that leaves it empty)."""
        discard(self.folder)
