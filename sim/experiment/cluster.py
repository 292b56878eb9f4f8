"""A Dask LocalCluster in a process of its own, for a sweep driver that stays small.

A ``LocalCluster`` started inside the sweep driver puts the scheduler (its
task bookkeeping, its logs, its comms) and the workers' nannies in the
driver's process: about 85 MB of the driver's memory before the first point
(issue 14). :func:`start_cluster` starts them instead in a child process
(``python -m sim.experiment.cluster``), which prints the scheduler's address
and then waits on its standard input; the driver connects a ``Client`` to
that address, as it would to any ``--scheduler``.

The child ends with the driver, however the driver ends:

- closed (:meth:`ClusterProcess.close`): the driver writes ``close``; the
  child closes the cluster (workers, nannies, scheduler) and exits;
- gone (killed outright, ``kill -9``, the OOM killer): its standard input
  reaches end of file; the child exits at once, and the Dask workers, which
  watch their nanny's process, exit with it;
- interrupted (Ctrl-C): the child runs in a session of its own, so the
  terminal's SIGINT reaches the driver alone, which cancels its tasks and
  closes the child as above.

Nothing is started at import time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

#: Seconds the driver waits for the child to print its scheduler's address.
START_TIMEOUT = 180.0
#: Seconds the driver waits for the child to close its cluster before killing it.
CLOSE_TIMEOUT = 30.0
#: What the driver writes to the child's standard input to close the cluster.
CLOSE = "close"


class ClusterFailed(RuntimeError):
    """The cluster process did not start (its last words are in the message)."""


class ClusterProcess:
    """A LocalCluster running in a child process: its address, and how to close it.

    Attributes:
        address: the scheduler's address (``tcp://127.0.0.1:…``).
        process: the child process (scheduler and nannies; the workers are its children).
    """

    def __init__(self, process: subprocess.Popen[str], address: str):
        self.process, self.address = process, address

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close the cluster and wait for the child to exit (killed if it takes too long)."""
        proc = self.process
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(CLOSE + "\n")
                proc.stdin.flush()
                proc.stdin.close()
            except (OSError, ValueError):  # it is already gone
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass


def _environment() -> dict[str, str]:
    """This process's environment, with the folder ``sim`` was imported from on the path."""
    here = str(Path(__file__).resolve().parent.parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def start_cluster(
    workers: int, log_length: int = 100, timeout: float = START_TIMEOUT
) -> ClusterProcess:
    """Start a LocalCluster of ``workers`` single-threaded worker processes in a child process.

    Args:
        workers: Dask workers (each a process with one thread).
        log_length: entries kept in the scheduler's low-level logs (Dask's default 1,000).
        timeout: seconds to wait for the scheduler's address.

    Raises:
        ClusterFailed: if the child exits, or prints no address within ``timeout``
            seconds (it is then killed); the message ends with its last line of errors.
    """
    command = [sys.executable, "-m", "sim.experiment.cluster", str(workers), str(log_length)]
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
        start_new_session=True,  # the terminal's Ctrl-C is the driver's to handle
    )
    errors: list[str] = []
    assert proc.stdout is not None and proc.stderr is not None
    drain = threading.Thread(target=_keep_last, args=(proc.stderr, errors), daemon=True)
    drain.start()
    found: list[str] = []
    reader = threading.Thread(target=_read_address, args=(proc.stdout, found), daemon=True)
    reader.start()
    try:
        reader.join(timeout)
    except BaseException:  # interrupted while it starts: it does not outlive the wait
        proc.kill()
        proc.wait()
        raise
    if not found:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        drain.join(1.0)
        last = next((line for line in reversed(errors) if line.strip()), "")
        why = (
            f"no scheduler address within {timeout:.0f} s"
            if reader.is_alive()
            else f"it exited with status {proc.returncode}"
        )
        raise ClusterFailed(
            f"the local Dask cluster did not start ({why}){': ' + last if last else ''}"
        )
    return ClusterProcess(proc, found[0])


def _read_address(stream: IO[str], found: list[str]) -> None:
    """The child's first line, ``{"address": ...}`` (end of file: nothing)."""
    line = stream.readline()
    if line:
        try:
            found.append(str(json.loads(line)["address"]))
        except (ValueError, KeyError, TypeError):
            pass


def _keep_last(stream: IO[str], lines: list[str], keep: int = 20) -> None:
    """Read the child's errors as they come (a full pipe would stall it); keep the last few."""
    for line in stream:
        lines.append(line.rstrip("\n"))
        del lines[:-keep]


# --------------------------------------------------------------------------- the child


def _serve(workers: int, log_length: int) -> None:
    """In the child: run the cluster until the driver says ``close`` or goes away."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides when to stop
    import dask
    from dask.distributed import LocalCluster

    # the scheduler's developers' logs (the last transitions and messages, each message
    # with its pickled task) kept short, as they were when it ran in the driver
    with dask.config.set({"distributed.admin.low-level-log-length": log_length}):
        cluster: Any = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    print(json.dumps({"address": cluster.scheduler_address}), flush=True)
    command = sys.stdin.readline()
    if command.strip() != CLOSE:  # end of file: the driver is gone; so are we, at once
        os._exit(1)  # the workers watch this process and exit with it
    cluster.close(timeout=CLOSE_TIMEOUT)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
