"""A real Dask deployment: `dask scheduler` and two `dask worker` processes on loopback.

The processes are started from their command lines, as a user starts them on a
cluster (docs/scale.md); `htsr report --scheduler` and `htsr calibrate --scheduler`
then run in a subprocess against them, and their outputs are compared with those
of the same commands run in this process.  The workers' task logs show that the
layers, the bootstrap chunks and the calibration cells ran on the workers.  Every
process is started in its own session and stopped by its id at the end (terminate,
then kill its process group after a timeout), also when a test fails.

Without ``distributed`` or the ``dask`` command the tests skip, except under CI
(``$CI`` set), where a missing tool is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from htsr.cli.main import main

START_TIMEOUT = 90  # seconds for the scheduler to see both workers (a loaded 2-core machine: ~15 s)
RUN_TIMEOUT = 180   # seconds for one CLI run against the cluster
STOP_TIMEOUT = 20   # seconds between terminate and kill
REPS = "100"


def _missing(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI: a real-cluster test may not skip)")
    pytest.skip(what)


def _dask_command() -> str:
    here = Path(sys.executable).parent / "dask"  # the `dask` of this environment first
    found = str(here) if here.exists() else shutil.which("dask")
    if found is None:
        _missing('the "dask" command is not installed (pip install "htsr[dask]")')
    return found


def _htsr_command() -> list[str]:
    here = Path(sys.executable).parent / "htsr"
    return [str(here)] if here.exists() else [sys.executable, "-m", "htsr"]


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free ports on 127.0.0.1 (all held open while they are picked)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Cluster:
    """A scheduler and workers started as subprocesses; each one's output goes to a file."""

    def __init__(self, root: Path, dask: str, n_workers: int = 2):
        self.root, self.dask, self.n_workers, self.procs = root, dask, n_workers, []
        self.ports = _free_ports(1 + 2 * n_workers)
        self.address = f"tcp://127.0.0.1:{self.ports[0]}"

    def start(self) -> None:
        """``dask scheduler`` and ``n_workers`` ``dask worker`` processes, as a user starts them."""
        # --no-dashboard still serves /health and /metrics over HTTP, on :8787 unless told: a free port instead
        self._start("scheduler", [self.dask, "scheduler", "--host", "127.0.0.1", "--port", str(self.ports[0]),
                                  "--no-dashboard", "--dashboard-address", "127.0.0.1:0"])
        for k in range(1, self.n_workers + 1):
            local = self.root / f"worker-{k}"
            local.mkdir()
            self._start(f"worker-{k}", [self.dask, "worker", self.address, "--name", f"worker-{k}",
                                        "--host", "127.0.0.1", "--worker-port", str(self.ports[2 * k - 1]),
                                        "--nanny-port", str(self.ports[2 * k]), "--nthreads", "1",
                                        "--no-dashboard", "--local-directory", str(local)], cwd=local)

    def _start(self, name: str, argv: list[str], cwd: Path | None = None) -> None:
        out = open(self.root / f"{name}.out", "wb")
        err = open(self.root / f"{name}.err", "wb")
        try:
            # its own session: the process group (a worker's nanny and its child) can be killed by this id
            proc = subprocess.Popen(argv, cwd=cwd or self.root, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        finally:
            out.close()
            err.close()
        self.procs.append((name, proc))

    def logs(self, last: int = 3000) -> str:
        parts = []
        for name, proc in self.procs:
            text = (self.root / f"{name}.err").read_text(errors="replace")
            state = "running" if proc.poll() is None else f"exited with status {proc.returncode}"
            parts.append(f"--- {name} (pid {proc.pid}, {state}), stderr (last {last} chars):\n{text[-last:]}")
        return "\n".join(parts)

    def wait_for_workers(self, timeout: float = START_TIMEOUT) -> None:
        """Return once the scheduler lists ``n_workers`` workers; fail with every process's stderr if not."""
        from distributed import Client

        deadline = time.monotonic() + timeout
        seen, why = 0, "the scheduler did not answer"
        while time.monotonic() < deadline:
            dead = [name for name, proc in self.procs if proc.poll() is not None]
            if dead:
                pytest.fail(f"{', '.join(dead)} exited before the cluster was up\n{self.logs()}")
            try:
                with Client(self.address, timeout="5s") as client:
                    while time.monotonic() < deadline:
                        seen = len(client.nthreads())
                        if seen >= self.n_workers:
                            return
                        if any(proc.poll() is not None for _, proc in self.procs):
                            break
                        time.sleep(0.5)
            except (OSError, TimeoutError) as exc:
                why = f"{type(exc).__name__}: {exc}"
                time.sleep(0.5)
        pytest.fail(f"after {timeout} s the scheduler at {self.address} sees {seen} of {self.n_workers} workers "
                    f"({why})\n{self.logs()}")

    def executed(self) -> Counter:
        """How many distinct tasks of each function ran to completion on the workers, all of them together."""
        from distributed import Client

        def keys_done(dask_worker):  # runs on each worker (a nested function: pickled by value)
            return sorted({str(e[0]) for e in dask_worker.state.log
                           if len(e) > 2 and e[1] == "executing" and e[2] == "memory"})

        with Client(self.address, timeout="10s") as client:
            per_worker = client.run(keys_done)
        # a submitted task's key is its function's name, "-", and a uuid4
        return Counter(re.sub(r"-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$", "", key)
                       for keys in per_worker.values() for key in keys)

    def stop(self) -> list[str]:
        """Terminate every process by its id (the workers, then the scheduler: a worker whose scheduler has gone
        waits to reconnect), kill its group after a timeout; the names of those that had to be killed."""
        killed = []
        for batch in (self.procs[1:], self.procs[:1]):
            for _, proc in batch:
                if proc.poll() is None:
                    proc.terminate()
            killed += [name for name, proc in batch if not self._gone(proc)]
        return killed

    @staticmethod
    def _gone(proc) -> bool:
        """Wait for ``proc`` and for the rest of its process group (a nanny's worker process) to exit;
        kill the group if they have not within STOP_TIMEOUT.  Whether no kill was needed."""
        deadline = time.monotonic() + STOP_TIMEOUT
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)  # its session's group id is its pid
            except (ProcessLookupError, PermissionError):  # gone (or the id is no longer ours)
                return True
            time.sleep(0.2)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return True
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        import distributed  # noqa: F401
    except ImportError:
        _missing('the optional package "distributed" is not installed (pip install "htsr[dask]")')
    c = Cluster(tmp_path_factory.mktemp("cluster"), _dask_command())
    try:
        c.start()
        yield c  # the tests wait for the workers after their in-process runs, while the cluster starts
    finally:
        c.stop()


def _model(path: Path) -> Path:
    """A small .npz model: two heavy-tailed dense layers, an embedding and a bias (as in test_report)."""
    rng = np.random.default_rng(7)
    np.savez(path, **{
        "embed.weight": rng.standard_t(3, (400, 60)),
        "block.0.dense.weight": rng.standard_t(2.5, (240, 120)),
        "block.0.dense.bias": rng.normal(size=240),
        "block.1.dense.weight": rng.standard_t(4, (120, 200)),
    })
    return path


def _run_cli(args: list[str], cwd: Path, cluster: Cluster) -> None:
    try:
        done = subprocess.run([*_htsr_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"htsr {' '.join(args)} ran past {RUN_TIMEOUT} s\nstderr: {exc.stderr}\n{cluster.logs()}")
    assert done.returncode == 0, (f"htsr {' '.join(args)} exited with {done.returncode}\nstdout: {done.stdout}\n"
                                  f"stderr: {done.stderr}\n{cluster.logs()}")


def test_report_on_the_cluster_equals_the_in_process_report(cluster, tmp_path, monkeypatch):
    data = tmp_path / "data"  # the "shared storage": the workers read model.npz themselves
    data.mkdir()
    _model(data / "model.npz")
    # the same command twice, with a path relative to a folder that is not the workers' working directory
    args = ["report", "model.npz", "--reps", REPS, "--no-bounded", "--no-html", "--quiet"]
    monkeypatch.chdir(data)
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    cluster.wait_for_workers()
    before = cluster.executed()
    _run_cli([*args, "--out", str(tmp_path / "remote"), "--scheduler", cluster.address], data, cluster)

    local, remote = tmp_path / "local", tmp_path / "remote"
    assert (remote / "report.csv").read_bytes() == (local / "report.csv").read_bytes()
    assert json.loads((remote / "report.json").read_text()) == json.loads((local / "report.json").read_text())
    meta_local, meta_remote = (json.loads((d / "summary.json").read_text()) for d in (local, remote))
    assert meta_local.pop("timings").keys() == meta_remote.pop("timings").keys()
    assert meta_remote == meta_local  # source, summary, spec, skipped
    records = json.loads((remote / "report.json").read_text())
    assert [r["name"] for r in records] == ["embed.weight", "block.0.dense.weight", "block.1.dense.weight"]
    assert all(r["alpha"] > 1 and r["alpha_lo"] < r["alpha"] < r["alpha_hi"] for r in records)

    ran = cluster.executed() - before
    assert ran["spectrum_of"] == 3, ran  # one task per layer, read on a worker
    assert ran["bootstrap_chunk_on"] >= 1, ran  # the intervals' resamples ran there too, on the report's device


def test_calibrate_on_the_cluster_equals_the_in_process_study(cluster, tmp_path):
    from htsr.calibration import open_study
    import xarray as xr

    # three cells of one matrix shape (one compiled kernel per process); each cell is a task
    args = ["calibrate", "--generator", "pareto", "--mu", "1,1.5,2.5", "--M", "40", "--Q", "2", "--reps", "4",
            "--estimators", "clauset", "--seed", "5", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "local.nc")]) == 0
    cluster.wait_for_workers()
    before = cluster.executed()
    _run_cli([*args, "--out", str(tmp_path / "remote.nc"), "--scheduler", cluster.address], tmp_path, cluster)

    local, remote = open_study(tmp_path / "local.nc"), open_study(tmp_path / "remote.nc")
    xr.testing.assert_identical(remote, local)
    assert int(remote["done"].sum()) == 3 and np.isfinite(remote["alpha_hat"].values).all()
    ran = cluster.executed() - before
    assert ran["run_cell"] == 3, ran  # one task per cell


def test_every_process_stops_by_its_id(cluster):
    procs = list(cluster.procs)
    assert len(procs) == 3
    needed_kill = cluster.stop()
    assert all(proc.poll() is not None for _, proc in procs)
    for name, proc in procs:  # nothing left in any process's group either (a nanny's worker process)
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
    assert needed_kill == [], f"{needed_kill} ignored terminate and had to be killed\n{cluster.logs()}"
