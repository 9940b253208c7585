"""The NUTS options and progress of ``htsr fit --bayes`` and ``htsr report --bayes``.

Flags: ``--draws``, ``--warmup``, ``--chains``, ``--target-accept`` (what the
``ConvergenceWarning`` of :mod:`htsr.bayes` tells a user to change), validated at
parse time by the checks of :mod:`htsr.data`, so a bad value answers before any work.

Progress: a NUTS run is compiled code that reports between blocks of iterations
(:func:`htsr.bayes._mcmc.run_nuts`).  On a terminal that is a bar with the time left;
otherwise (a log, a pipe, a batch job) a few lines on stderr: the run's size when it
starts, when the sampler is compiled, the time left after the first block of
iterations, a line at most every ``EVERY`` seconds, and one when warmup and sampling end.
"""

from __future__ import annotations

import argparse
import sys
import time

from .._progress import duration
from ..data import check_int, check_level
from ..errors import HtsrError

__all__ = ["add_sampler_flags", "sampler_options", "nuts_progress", "NutsLines"]

#: Seconds between two progress lines when stderr is not a terminal.
EVERY = 30.0
FLAGS = ("draws", "warmup", "chains", "target_accept")


def _checked(parse, check, name):
    def convert(text: str):
        try:
            return check(parse(text), name)
        except (ValueError, HtsrError) as exc:
            what = "an integer" if parse is int else "a number"
            msg = str(exc) if isinstance(exc, HtsrError) else f"{name} must be {what}, got {text!r}"
            raise argparse.ArgumentTypeError(msg.replace(name, "--" + name.replace("_", "-"), 1)) from None
    return convert


def _count(value, name):
    return check_int(value, name, minimum=1)


def add_sampler_flags(p, *, chains: int, target_accept: str) -> None:
    """``--draws``, ``--warmup``, ``--chains``, ``--target-accept`` (all None unless given)."""
    g = p.add_argument_group("Bayesian fit (NUTS), with --bayes")
    g.add_argument("--draws", type=_checked(int, _count, "draws"), metavar="N",
                   help="draws kept per chain (default 1000)")
    g.add_argument("--warmup", type=_checked(int, _count, "warmup"), metavar="N",
                   help="adaptation steps per chain before the draws (default: --draws)")
    g.add_argument("--chains", type=_checked(int, _count, "chains"), metavar="N",
                   help=f"chains, run side by side (default {chains})")
    g.add_argument("--target-accept", type=_checked(float, check_level, "target_accept"), metavar="P",
                   help=f"NUTS target acceptance in (0, 1): higher, smaller steps (default {target_accept})")


def sampler_options(args, *, enabled: bool) -> dict:
    """The sampler settings given on the command line, as keywords; an error if given without --bayes."""
    given = {k: getattr(args, k) for k in FLAGS if getattr(args, k, None) is not None}
    if given and not enabled:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise HtsrError(f"{flags} {'set' if len(given) > 1 else 'sets'} the Bayesian fit's sampler: add --bayes")
    return given


class NutsLines:
    """Progress of a NUTS run as a few lines on stderr (``progress(done, total)``, iterations per chain).

    Says when it is made that the fit starts (the model is compiled first), then, from
    ``(0, total)`` on (the sampler compiled), the pace of the iterations and the time left.
    """

    def __init__(self, what: str, *, warmup: int, draws: int, chains: int, every: float = EVERY, stream=None):
        self.what, self.warmup, self.chains, self.every = what, warmup, chains, every
        self.stream = stream
        self.created = time.monotonic()
        self.t0 = self.last = None
        self._say(f"NUTS, {chains} chains x ({warmup} warmup + {draws} draws) iterations; "
                  "compiling and finding starting points first")

    def _say(self, text: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(f"htsr: {self.what}: {text}\n")
        stream.flush()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        draws = total - self.warmup
        if done == 0:
            self.t0, self.last, self.first = now, now, True
            self._say(f"sampler ready after {duration(now - self.created)}; sampling")
            return
        elapsed = now - self.t0
        # early warmup (step size still large-to-small) is the slowest part: the estimate only improves
        left = f"; about {duration(elapsed / done * (total - done))} left" if done < total else ""
        phase = f"warmup {done}/{self.warmup}" if done <= self.warmup else f"draws {done - self.warmup}/{draws}"
        if done == total:
            self._say(f"sampling done after {duration(elapsed)}")
        elif done == self.warmup:
            self._say(f"warmup done after {duration(elapsed)}{left}")
        elif self.first or now - self.last >= self.every:
            self._say(f"{phase} after {duration(elapsed)}{left}")
        else:
            return
        self.first, self.last = False, now


def nuts_progress(quiet: bool, what: str, *, warmup: int, draws: int, chains: int):
    """A progress callable for the NUTS run: a bar on a terminal, lines otherwise, None with --quiet.

    Returns ``(progress, close)``; call ``close()`` when the run ends (it ends the bar's line).
    """
    if quiet:
        return None, lambda: None
    if sys.stderr.isatty():
        from .._progress import Bar

        bar = Bar(f"{what}: NUTS warmup + draws")

        def update(done, total):
            if done == 0:  # the sampler is compiled: time its iterations from here
                bar.start = time.monotonic()
            bar(done, total)

        return update, bar.close
    return NutsLines(what, warmup=warmup, draws=draws, chains=chains), lambda: None
