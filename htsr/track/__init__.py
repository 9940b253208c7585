"""Training trajectories: the layer report of each checkpoint of a run, by step: ``htsr.track(sources)``.

``htsr.track`` is this package in every import order, and the package is callable
(the rule ``htsr.report`` follows, docs/architecture.md): ``htsr.track(sources, ...)``
is ``htsr.track.track(sources, ...)``.

::

    ds = htsr.track("run/", store="run/trajectory.nc")   # checkpoint-500/ folders, step_*.safetensors, ...
    ds["alpha"].sel(layer="fc1.weight")                   # alpha by step; alpha_lo / alpha_hi its interval
    htsr.track.to_frame(ds)                               # long table, one row per (step, layer)
    htsr.plot.track.plot_alpha_steps(ds)                  # alpha against step, with bands

Training callbacks (optional extras, ``pip install "htsr[callbacks]"``) report the live
model every k steps or epochs into the same store: :class:`HFCallback`
(``transformers.TrainerCallback``), :class:`LightningCallback` and :class:`KerasCallback`,
imported from their frameworks on first use.  The command line: ``htsr track CKPT... --out DIR``.
"""

from .core import Recorder, TrackSpec, track
from .sources import Checkpoint, checkpoints, parse_step
from .store import (STEP_VARIABLES, VARIABLES, append, open_trajectory, save_trajectory, skipped_at, to_frame,
                    write_csv)

__all__ = ["track", "TrackSpec", "Recorder", "Checkpoint", "checkpoints", "parse_step", "open_trajectory",
           "save_trajectory", "skipped_at", "append", "to_frame", "write_csv", "VARIABLES", "STEP_VARIABLES",
           "HFCallback", "LightningCallback", "KerasCallback"]

# callback class -> (module, the framework it needs, the pip extra)
_CALLBACKS = {
    "HFCallback": ("htsr.track.hf", "transformers"),
    "LightningCallback": ("htsr.track.lightning", "lightning"),
    "KerasCallback": ("htsr.track.keras_callback", "keras"),
}


def __getattr__(name: str):
    if name in _CALLBACKS:
        import importlib

        module, framework = _CALLBACKS[name]
        try:
            value = getattr(importlib.import_module(module), name)
        except ImportError as exc:
            if (exc.name or "").startswith("htsr"):
                raise
            from ..errors import HtsrError

            raise HtsrError(f'htsr.track.{name} needs the package "{framework}" ({exc}): '
                            'pip install "htsr[callbacks]"') from None
        globals()[name] = value
        return value
    raise AttributeError(f"module 'htsr.track' has no attribute {name!r}")


# The package is callable, as htsr.report is: one name for the call and its helpers, whatever was imported first.
import inspect as _inspect
import sys as _sys
import types as _types

__signature__ = _inspect.signature(track)


class _CallableModule(_types.ModuleType):
    def __call__(self, *args, **kwargs):
        return self.track(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
