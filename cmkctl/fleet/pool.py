"""Runs many stacks in a pool of worker processes that each import the SDKs once.

Workers are forked from a fork server that preloaded the SDKs, the program's components
and the pack, so the import cost is paid once for the whole pool (the parent process never
loads them); each worker then runs
many stacks, so the cost per stack is the program. One worker (``jobs == 1``) runs the
stacks in this process, in order, which is also the reference a pool must match.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from cmkctl.fleet.job import FleetJob, stack_result

PRELOAD = ["cmkctl.fleet.stack", "components.program"]
"""Imported once by the fork server: what every stack needs before its program runs."""

Done = Callable[[dict[str, Any]], None]


def run_stacks(job: FleetJob, stacks: Iterable[str], jobs: int, done: Done) -> list[dict[str, Any]]:
    """Results of every stack, sorted by stack name; ``done`` hears of each as it finishes."""
    names = list(stacks)
    if jobs <= 1 or len(names) <= 1:
        from cmkctl.fleet.stack import run_stack  # noqa: PLC0415 - this process runs them

        results = []
        for stack in names:
            results.append(run_stack(job, stack))
            done(results[-1])
        return results
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    finished: dict[str, dict[str, Any]] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(names)), mp_context=context) as pool:
        futures: dict[Future[dict[str, Any]], str] = {
            pool.submit(_in_worker, job, stack): stack for stack in names
        }
        for future in as_completed(futures):
            stack = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool:
                result = _lost(stack)
            finished[stack] = result
            done(result)
    return [finished[stack] for stack in sorted(finished)]


def _in_worker(job: FleetJob, stack: str) -> dict[str, Any]:
    """The task a worker runs; importing the stack runner here keeps the SDKs out of the
    parent process (in a worker the fork server has already loaded it)."""
    from cmkctl.fleet.stack import run_stack  # noqa: PLC0415

    return run_stack(job, stack)


def _lost(stack: str) -> dict[str, Any]:
    """A stack whose worker process died (killed, out of memory) before it reported."""
    return stack_result(
        stack, "the worker process running this stack died before reporting (killed or out "
        "of memory); rerun the fleet with fewer --jobs")
