"""Runs many stacks in worker processes that can be stopped, so every run ends.

Workers are forked from a fork server that preloaded the SDKs, the program's components
and the pack, so the import cost is paid once for the whole pool (the parent process never
loads them); each worker then serves stacks one at a time over a pipe, so the cost per
stack is the program. A thread stuck in a program (a loop, an output that never resolves)
cannot be stopped, a process can: a stack that outlives ``stack_timeout`` has its worker
killed and is reported as stopped, and a fresh worker takes the next stack; a worker that
has served ``STACKS_PER_WORKER`` stacks is replaced too, so memory does not grow with the
size of the fleet. At the fleet deadline every worker is killed; the stacks they were
running are reported as stopped and the ones not started as not run. Every stack given gets
exactly one result.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from cmkctl.fleet.job import FleetJob, stack_result
from cmkctl.plan.collector import between_runs, worker_ready
from cmkctl.stacks.stack_file import StackFileError, regular_file_bytes

PRELOAD = ("cmkctl.fleet.preload", "pulumiverse_time")
"""Imported once by the fork server (see :mod:`cmkctl.fleet.preload`): the runner, the
components a fleet of customer stacks uses and their SDK modules, loaded, so no worker
imports them again. The program imports each component only when a stack selects it; left
out here are the set-ups', rare in a fleet, and Snowflake's unless a stack needs it."""
SNOWFLAKE = "components.provider.snowflake_tss"
"""Snowflake's component: its SDK takes about 2 CPU-seconds and 70 MiB to load, so the fork
server loads it only for a fleet that has a Snowflake stack (:func:`preload`), and then once
for every worker instead of once per worker."""
SNOWFLAKE_KEY = b"snowflakeAccountName"
"""The config key that gives a stack a Snowflake account (``components.config.keys``)."""
STOP_GRACE = 5.0
"""Seconds an idle worker gets to exit after being told to, before it is killed."""
STACKS_PER_WORKER = 25
"""Stacks one worker serves before a fresh one takes its place. Even collecting after each
stack (:func:`cmkctl.plan.collector.between_runs`), a worker's memory creeps up, about 2 MiB
over 75 stacks; replaced, a worker never ages past what a 50-stack fleet sees. A fresh
worker, forked warm, costs a few hundredths of a CPU-second (``docs/benchmark.md``)."""

Done = Callable[[dict[str, Any]], None]


@dataclass
class _Worker:
    process: BaseProcess
    pipe: Connection
    stack: str | None = None
    started: float = 0.0
    served: int = 0


def preload(stack_dir: Path, stacks: Iterable[str]) -> list[str]:
    """What the fork server loads for ``stacks``: :data:`PRELOAD`, and Snowflake's component
    when any of their stack files names a Snowflake account. Only a choice of what to load
    early (a stack that reads a Snowflake stack through a reference loads it in its worker): a
    file it cannot read is left to the stack's run to report."""
    for stack in stacks:
        with contextlib.suppress(OSError, StackFileError):
            if SNOWFLAKE_KEY in regular_file_bytes(stack_dir / f"Pulumi.{stack}.yaml"):
                return [*PRELOAD, SNOWFLAKE]
    return list(PRELOAD)


def run_stacks(job: FleetJob, stacks: Iterable[str], jobs: int, done: Done) -> list[dict[str, Any]]:
    """Results of every stack, sorted by stack name; ``done`` hears of each as it finishes."""
    pending = deque(dict.fromkeys(stacks))
    width = min(jobs, len(pending))
    finished: dict[str, dict[str, Any]] = {}

    def finish(result: dict[str, Any]) -> None:
        finished[result["stack"]] = result
        done(result)

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload(job.stack_dir, pending))
    workers: list[_Worker] = []
    end = time.monotonic() + job.fleet_timeout
    try:
        while pending or any(w.stack for w in workers):
            while len(workers) < width and pending:
                workers.append(_start(context, job))
            for worker in workers:
                if worker.stack is None and pending:
                    worker.stack, worker.started = pending.popleft(), time.monotonic()
                    worker.pipe.send(worker.stack)
            busy = [w for w in workers if w.stack]
            now = time.monotonic()
            if now >= end:
                break
            wake = min([end, *(w.started + job.stack_timeout for w in busy)])
            ready = wait([w.pipe for w in busy], timeout=max(wake - now, 0))
            for worker in busy:
                result = _collect(worker, ready, job)
                if result is not None:
                    finish(result)
                    worker.served += 1
                    if worker.stack is not None or worker.served >= STACKS_PER_WORKER:
                        _stop(worker)  # stopped, died or served its share: replaced next round
                        workers.remove(worker)
                    worker.stack = None
    finally:
        running = [w.stack for w in workers if w.stack]
        for worker in workers:
            _stop(worker)
    for stack in running:
        finish(stack_result(stack, f"stopped at the fleet deadline ({job.fleet_timeout:g} s, "
                                   "--fleet-timeout) before it finished; its worker process "
                                   "was killed", stopped="fleet deadline"))
    for stack in pending:
        finish(stack_result(stack, f"not run: the fleet deadline ({job.fleet_timeout:g} s, "
                                   "--fleet-timeout) came first", stopped="fleet deadline"))
    return [finished[stack] for stack in sorted(finished)]


def _collect(worker: _Worker, ready: list[Any], job: FleetJob) -> dict[str, Any] | None:
    """The finished stack's result, a stopped or lost stack's, or None while it runs. The
    worker keeps ``stack`` set when it must be replaced."""
    assert worker.stack is not None
    if worker.pipe in ready:
        try:
            result: dict[str, Any] = worker.pipe.recv()
        except (EOFError, OSError):
            return stack_result(
                worker.stack, "the worker process running this stack died before reporting "
                "(killed or out of memory); rerun the fleet with fewer --jobs")
        worker.stack = None
        return result
    if time.monotonic() - worker.started < job.stack_timeout:
        return None
    return stack_result(
        worker.stack, f"stopped after {job.stack_timeout:g} s (--stack-timeout): the program "
        "did not finish (a loop, or an output that never resolves?); its worker process was "
        "killed", stopped="stack timeout")


def _start(context: Any, job: FleetJob) -> _Worker:
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(job, child), daemon=True,
                              name="cmkctl-fleet-worker")
    process.start()
    child.close()
    return _Worker(process, parent)


def _stop(worker: _Worker) -> None:
    """End ``worker``: an idle one is asked to exit, a busy or deaf one is killed."""
    if worker.stack is None:
        with contextlib.suppress(OSError):
            worker.pipe.send(None)
        worker.process.join(STOP_GRACE)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join()
    worker.pipe.close()


def _serve(job: FleetJob, pipe: Connection) -> None:
    """A worker: run each stack the pipe brings until told to stop (None) or the parent is
    gone. Importing the stack runner here keeps the SDKs out of the parent process (in a
    worker the fork server has already loaded it)."""
    from cmkctl.fleet.stack import run_stack  # noqa: PLC0415

    worker_ready()
    while True:
        try:
            stack = pipe.recv()
        except EOFError:
            return
        if stack is None:
            return
        pipe.send(run_stack(job, stack))
        between_runs()  # while the parent takes the result
