"""Stacks served from the plan cache by the parent process: no worker, no SDK import.

A stack whose entry is cached with its verdict gets its plan file written from the entry and
its result from the verdict; against a base it is diffed here. Only the others go to the
worker pool, so a fleet where one stack file changed previews that one stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cmkctl.fleet import cache
from cmkctl.fleet.job import VERDICT_COUNTS, FleetJob, job_key, stack_result

Done = Callable[[dict[str, Any]], None]
_VIOLATION = {"policy": str, "urn": str, "level": str, "message": str, "undecided": bool}


def _verdict(entry: cache.Entry) -> dict[str, Any] | None:
    """The entry's verdict when it has the shape a result needs, else None (a miss)."""
    verdict = entry.verdict
    if verdict is None or set(verdict) != {*VERDICT_COUNTS, "violations"}:
        return None
    counts_ok = all(type(verdict[count]) is int for count in VERDICT_COUNTS)
    violations = verdict["violations"]
    violations_ok = isinstance(violations, list) and all(
        isinstance(v, dict) and set(v) == set(_VIOLATION)
        and all(isinstance(v[k], t) for k, t in _VIOLATION.items())
        for v in violations)
    return verdict if counts_ok and violations_ok else None


def serve(job: FleetJob, stacks: list[str], done: Done) -> dict[str, dict[str, Any]]:
    """Results of the stacks of ``stacks`` that the cache holds, by stack name."""
    served: dict[str, dict[str, Any]] = {}
    if job.cache_dir is None:
        return served
    for stack in stacks:
        key = job_key(job, stack)
        entry = None if key is None else cache.load(job.cache_dir, key, stack, job.stack_dir)
        verdict = None if entry is None else _verdict(entry)
        if entry is None or verdict is None:
            continue
        result = stack_result(stack) | verdict
        (job.out_dir / f"{stack}.json").write_text(entry.plan_text, encoding="utf-8")
        if job.base_dir is not None:
            from cmkctl.fleet.against_base import against_base  # noqa: PLC0415
            from cmkctl.plan.reader import PlanError  # noqa: PLC0415

            try:
                result |= against_base(job.base_dir / f"{stack}.json",
                                       json.loads(entry.plan_text))
            except PlanError as error:
                result = stack_result(stack, str(error))
        served[stack] = result
        done(result)
    return served
