"""The import layering of docs/architecture.md, enforced (import-linter contract in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    cmd = [str(lint)] if lint.exists() else [sys.executable, "-m", "importlinter.cli"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "Contracts: 1 kept, 0 broken." in out.stdout, out.stdout[-3000:] + out.stderr[-2000:]
    assert out.returncode == 0


def test_no_private_name_is_imported_across_modules():
    """``from .x import _name`` between htsr modules: a private function or constant stays in
    its module.  Private *modules* (``_jax``, ``_tail``, ``_resample``) are the package's
    internal libraries and may be imported by name."""
    import re

    pattern = re.compile(r"^\s*from\s+(\.+)([\w.]*)\s+import\s+\(?([^)]*?)\)?\s*$", re.M)
    offenders = []
    for path in (ROOT / "htsr").rglob("*.py"):
        for m in pattern.finditer(path.read_text()):
            base = path.parent
            for _ in range(len(m.group(1)) - 1):
                base = base.parent
            target = base.joinpath(*m.group(2).split(".")) if m.group(2) else base
            for name in (n.strip().split(" as ")[0] for n in m.group(3).replace("\n", " ").split(",")):
                is_module = (target / f"{name}.py").exists() or (target / name).is_dir()
                if name.startswith("_") and not is_module and name != "__version__":
                    offenders.append(f"{path.relative_to(ROOT)}: {name} from {m.group(1)}{m.group(2)}")
    assert not offenders, offenders


def test_every_error_and_warning_class_and_weights_are_reachable_from_htsr():
    """``htsr.weights`` after ``import htsr``; every exception and warning class of htsr.errors at the top level."""
    import inspect
    import subprocess
    import sys

    import htsr
    from htsr import errors

    classes = {n for n, v in vars(errors).items()
               if inspect.isclass(v) and issubclass(v, (Exception, Warning)) and v.__module__ == errors.__name__}
    assert {"HtsrError", "WeightsError", "ConvergenceWarning", "IntervalWarning"} <= classes
    assert classes <= set(errors.__all__)
    for name in classes:
        assert getattr(htsr, name) is getattr(errors, name)
        assert name in htsr.__all__
    code = "import htsr; print(htsr.weights.list_tensors.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "list_tensors"


def test_array_level_helpers_are_not_top_level_names():
    """``fit_padded``, ``BatchFit`` and ``enable_compilation_cache`` live in their modules only (issue 22, item 6)."""
    import pytest

    import htsr
    from htsr._jax import enable_compilation_cache
    from htsr.fitting import BatchFit, fit_padded

    assert callable(fit_padded) and callable(enable_compilation_cache) and isinstance(BatchFit, type)
    for name, home in [("fit_padded", "htsr.fitting"), ("BatchFit", "htsr.fitting"),
                       ("enable_compilation_cache", "htsr._jax")]:
        assert name not in htsr.__all__ and name not in dir(htsr)
        with pytest.raises(AttributeError, match=f"{home}.{name}"):
            getattr(htsr, name)
