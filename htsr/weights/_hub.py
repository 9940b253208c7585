"""A Hugging Face repo id (``org/name``) read from the local Hugging Face cache, never downloaded.

``htsr.weights.load("org/name")`` (and ``htsr report org/name``) resolves a string
that is no existing path but has the form of a repo id (``name`` or
``namespace/name``: ASCII letters, digits, ``-``, ``_``, ``.``; Hugging Face's own
rule) through ``huggingface_hub.snapshot_download(..., local_files_only=True)``,
which makes no network request, and opens the snapshot folder it returns like any
model folder.  The cache folder is read from the environment at the call
(``HF_HUB_CACHE``, else ``HUGGINGFACE_HUB_CACHE``, else ``$HF_HOME/hub``, else
``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``: the order
``huggingface_hub.constants`` uses at its import) and passed explicitly, so a
variable set after ``huggingface_hub`` was imported still counts.

The cache keeps each repo as ``models--org--name/`` holding ``refs/<branch>``
(a commit hash), ``snapshots/<commit>/<file>`` (symlinks) and ``blobs/<hash>``
(the contents).  :func:`within_model` lets a reader that follows a reference
inside a file (ONNX external data, a shard index) accept exactly that layout: a
file of the model's folder whose link resolves into the same repo's ``blobs``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import WeightsError

__all__ = ["resolve_source", "looks_like_repo_id", "cache_folder", "snapshot_folder", "within_model",
           "check_revision"]

# huggingface_hub.utils._validators.REPO_ID_REGEX (ASCII word characters, '-', '.'; at most 96 each side)
_REPO_ID = re.compile(r"(\b[\w\-.]{1,96}\b/)?\b[\w\-.]{1,96}\b", re.ASCII)
_REPO_KINDS = ("models--", "datasets--", "spaces--")
_FILE_SUFFIXES = (".safetensors", ".json", ".pt", ".pth", ".bin", ".ckpt", ".npz", ".npy", ".keras", ".h5",
                  ".hdf5", ".gguf", ".onnx")


def looks_like_repo_id(text: str) -> bool:
    """``name`` or ``namespace/name`` as Hugging Face allows them (no ``--``, ``..``, trailing ``.git``).

    A name ending in a weights file's suffix (``w.safetensors``, ``m.onnx``, ``index.json``) is
    taken for a mistyped path, never a repo id.
    """
    return (bool(_REPO_ID.fullmatch(text)) and "--" not in text and ".." not in text
            and not text.lower().endswith((".git", *_FILE_SUFFIXES)))


def cache_folder() -> Path:
    """The Hugging Face hub cache folder, from the environment as it is now."""
    env = os.environ
    home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"), "huggingface")
    folder = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE") or os.path.join(home, "hub")
    return Path(os.path.expandvars(os.path.expanduser(folder)))


def check_revision(revision) -> str:
    """A branch, tag or commit hash; refused when it could name a file outside the repo's ``refs``."""
    if not isinstance(revision, str) or not revision.strip():
        raise WeightsError(f"revision must be a branch, tag or commit hash (a non-empty string), "
                           f"not {revision!r}")
    parts = revision.split("/")
    if revision.startswith("/") or "\\" in revision or "\x00" in revision or ".." in parts or "." in parts:
        raise WeightsError(f"revision {revision!r} is not a branch, tag or commit hash")
    return revision


def _offline_note() -> str:
    flags = [v for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
             if os.environ.get(v, "").strip().upper() in {"1", "ON", "YES", "TRUE"}]
    return f" ({flags[0]} is set: unset it for the download)" if flags else ""


def snapshot_folder(repo_id: str, *, revision: str | None = None) -> Path:
    """The cached snapshot folder of ``repo_id`` at ``revision`` (default ``main``); no download.

    Raises
    ------
    WeightsError
        huggingface_hub missing (naming the extra), the model or the revision not in the
        cache (naming the cache folder, how to fetch it, and that no local path has that
        name either), or a snapshot the cache knows to be incomplete.
    """
    rev = "main" if revision is None else check_revision(revision)
    cache = cache_folder()
    not_a_path = f"{repo_id}: no such file or directory"
    try:
        import huggingface_hub as hub
        from huggingface_hub.errors import IncompleteSnapshotError, LocalEntryNotFoundError
    except ImportError as e:
        raise WeightsError(f"{not_a_path}; read as a Hugging Face repo id it needs the optional package "
                           f"'huggingface_hub', which is not installed ({e}): pip install \"htsr[hub]\"") from None
    fetch = (f"fetch it with `hf download {repo_id}{'' if revision is None else f' --revision {rev}'}` "
             f"(or `huggingface-cli download`){_offline_note()}; htsr never downloads")
    try:
        found = hub.snapshot_download(repo_id, revision=rev, cache_dir=str(cache), local_files_only=True)
    except IncompleteSnapshotError as e:
        why = " ".join(str(e).split())
        raise WeightsError(f"{repo_id}: the cached snapshot in {cache} is incomplete ({why}); {fetch}") from None
    except LocalEntryNotFoundError:
        repo = cache / f"models--{repo_id.replace('/', '--')}"
        what = (f"no revision {rev!r} of the Hugging Face model {repo_id!r} in the local cache {cache} "
                f"(it holds {', '.join(_cached_refs(repo)) or 'no named revision'})" if repo.is_dir()
                else f"no Hugging Face model {repo_id!r} in the local cache {cache}")
        raise WeightsError(f"{not_a_path}, and {what}; {fetch}") from None
    except Exception as e:  # HFValidationError and the like: one line, never a traceback
        raise WeightsError(f"{repo_id}: cannot look it up in the Hugging Face cache {cache}: "
                           f"{type(e).__name__}: {' '.join(str(e).split())}") from None
    path = Path(found)
    snapshots = (cache / f"models--{repo_id.replace('/', '--')}" / "snapshots").resolve()
    if path.resolve().parent != snapshots:
        raise WeightsError(f"{repo_id}: refused: revision {rev!r} resolves to {path}, not a snapshot "
                           f"folder in {snapshots}")
    return path


def _cached_refs(repo: Path) -> list[str]:
    refs = repo / "refs"
    named = sorted(str(p.relative_to(refs)) for p in refs.rglob("*") if p.is_file()) if refs.is_dir() else []
    snaps = repo / "snapshots"
    commits = sorted(p.name[:12] for p in snaps.iterdir() if p.is_dir()) if snaps.is_dir() else []
    return named[:5] + [f"commit {c}" for c in commits[:3]]


def _repo_blobs(folder: Path) -> Path | None:
    """``<cache>/models--org--name/blobs`` when ``folder`` lies in one of that repo's snapshots."""
    here = Path(os.path.abspath(folder))
    for snapshot in (here, *here.parents):
        repo = snapshot.parent.parent
        if (snapshot.parent.name == "snapshots" and repo.name.startswith(_REPO_KINDS)
                and (repo / "blobs").is_dir()):
            return repo / "blobs"
    return None


def within_model(file: Path, folder: Path) -> bool:
    """Does ``file`` (a path in ``folder``) resolve inside ``folder``, or into its cache repo's blobs?

    ``folder`` is the model's folder as the user named it.  Outside a Hugging Face
    cache this is ``file.resolve()`` lying inside ``folder.resolve()``; inside a
    snapshot (``models--org--name/snapshots/<commit>/...``) a link into that same
    repo's ``blobs`` folder is accepted too (how the cache stores every file), and
    nothing else.
    """
    real = Path(file).resolve()
    if real.is_relative_to(Path(folder).resolve()):
        return True
    blobs = _repo_blobs(Path(folder))
    return blobs is not None and real.is_relative_to(blobs.resolve())


def resolve_source(source, *, revision: str | None = None):
    """``source`` as a reader opens it: a Hugging Face repo id becomes its cached snapshot folder.

    Parameters
    ----------
    source : path or object
        Anything :func:`htsr.weights.load` reads.  A string that names no existing path
        but has the form of a repo id (``"org/name"``) is looked up in the local Hugging
        Face cache with ``local_files_only=True``: nothing is downloaded.
    revision : str, optional
        The repo id's branch, tag or commit hash (default ``"main"``).  With any other
        source it is an error, never silently ignored.

    Returns
    -------
    path or object
        The snapshot folder (a string) for a repo id; ``source`` itself otherwise.

    Raises
    ------
    WeightsError
        The repo id or revision is not in the cache (the message names the cache folder
        and how to fetch the model), huggingface_hub is missing (``htsr[hub]``), or a
        revision was given with a source that is not a repo id.
    """
    if not isinstance(source, (str, os.PathLike)):
        if revision is not None:
            raise WeightsError(f"revision={revision!r} applies to a Hugging Face repo id, not to a "
                               f"{type(source).__name__} object")
        return source
    if Path(source).expanduser().exists():
        if revision is not None:
            raise WeightsError(f"{source}: revision={revision!r} applies to a Hugging Face repo id, but "
                               f"{str(source)!r} is a local path (rename or move it to read the cached model)")
        return source
    if isinstance(source, str) and looks_like_repo_id(source):
        return str(snapshot_folder(source, revision=revision))
    if revision is not None:
        raise WeightsError(f"{source}: no such file or directory, and not a Hugging Face repo id "
                           "(name or org/name) that a revision could apply to")
    return source
