"""What the main job needs is installed by the README's install line.

The report's speed depends on ``threadpoolctl`` (one BLAS thread per layer
thread; without it the layer threads oversubscribe the cores), which was once
installed only by the test extra: nothing in the suite noticed, because the
suite's own install brought it.  This test runs the main job in a fresh
process, records the modules imported there, and
checks each distribution that htsr's own code imported (directly, eagerly or lazily;
dependencies' opportunistic imports of whatever happens to be installed are not
htsr's) is required by htsr's core dependencies (followed transitively,
extras of htsr itself not counted) -- what ``pip install .`` alone installs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROBE = textwrap.dedent(
    """
    import builtins, importlib, json, sys, warnings
    wanted = set()  # top-level modules that htsr's own code imports, eagerly or lazily
    real_import, real_import_module = builtins.__import__, importlib.import_module

    def record(name, importer):
        if importer.split(".")[0] == "htsr" and name and not name.startswith("."):
            wanted.add(name.split(".")[0])

    def hooked_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            record(name, (globals or {}).get("__name__") or "")
        return real_import(name, globals, locals, fromlist, level)

    def hooked_import_module(name, package=None):
        record(name, sys._getframe(1).f_globals.get("__name__", ""))
        return real_import_module(name, package)

    builtins.__import__, importlib.import_module = hooked_import, hooked_import_module
    import numpy as np
    from safetensors.numpy import save_file
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    save_file({f"layer.{i}.weight": rng.standard_t(3, size=(120, 80)).astype(np.float32)
               for i in range(3)}, sys.argv[1] + "/m.safetensors")
    from htsr.cli.main import main
    main(["report", sys.argv[1] + "/m.safetensors", "--out", sys.argv[1] + "/rep", "--reps", "50", "--quiet"])
    print(json.dumps(sorted(wanted)))
    """
)


def core_closure() -> set[str]:
    """Canonical names of htsr's core requirements and everything they require."""
    seen: set[str] = set()
    todo = [(Requirement(r), ()) for r in metadata.requires("htsr") or ()]
    todo = [(req, ()) for req, _ in todo if not (req.marker and "extra" in str(req.marker))]
    while todo:
        req, _ = todo.pop()
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
            continue
        name = canonicalize_name(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(req.name) or ()
        except metadata.PackageNotFoundError:
            continue
        for r in requires:
            sub = Requirement(r)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}) or any(
                sub.marker.evaluate({"extra": e}) for e in req.extras
            ):
                todo.append((sub, ()))
    return {k.split("[")[0] for k in seen}


def test_every_distribution_the_report_imports_is_a_core_dependency(tmp_path):
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    owners = metadata.packages_distributions()
    imported = {canonicalize_name(d) for m in modules for d in owners.get(m, ())}
    imported.discard("htsr")
    missing = sorted(imported - core_closure())
    assert "threadpoolctl" in imported  # the probe exercises the parallel ESD path
    assert not missing, f"imported by the report but not installed by `pip install .`: {missing}"
